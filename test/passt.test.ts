/**
 * passt mode without a guest: a qemu-like client on the UNIX socket (length-prefixed frames) checks the
 * protocol edges (bad lengths, a frame cut by a disconnect, a second client), the guest services over
 * the stream (ARP, DHCP), the one-off and -F modes, the default socket path, daemonising, and that a
 * guest's flows are closed when it goes away. passt runs in the private topology's host namespace.
 */
import test from 'ava';
import { readFileSync, existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { native } from '../src/native/index.js';
import { PASST, background, exitWithin, run, waitFor } from './helpers.js';
import {
  StreamClient, TcpFlag, arpRequest, dhcpDiscover, isArpReply, isSynAck, parseDhcpReply, startPasst, tcpSegment, tcpSeq, tempDir,
} from './passt-lib.js';
import { makeTopology } from './topology.js';

const GUEST4 = '10.77.0.2';
const GW4 = '10.77.0.1';

/** An ARP exchange proves a client is being served. */
async function served(c: StreamClient): Promise<void> {
  const from = c.frames.length;
  c.send(arpRequest(GUEST4, GW4));
  await c.expect('the ARP reply', (f) => isArpReply(f, GW4), 10_000, from);
}

test('a DHCP DISCOVER in a framed Ethernet frame gets a framed OFFER with the address, router, MTU and DNS', async (t) => {
  const p = await startPasst(t, ['-D', '10.77.0.53']);
  const c = await StreamClient.connect(t, p.sock);
  c.send(dhcpDiscover(0x1234abcd));
  const offer = parseDhcpReply(await c.expect('the DHCP offer', (f) => parseDhcpReply(f, 0x1234abcd) !== null), 0x1234abcd)!;
  t.is(offer.type, 2); // OFFER
  t.is(offer.yiaddr, GUEST4);
  t.deepEqual([...(offer.options.get(3) ?? [])], [10, 77, 0, 1], 'router');
  t.deepEqual([...(offer.options.get(1) ?? [])], [255, 255, 255, 0], 'mask');
  t.deepEqual([...(offer.options.get(6) ?? [])], [10, 77, 0, 53], 'DNS');
  t.deepEqual([...(offer.options.get(26) ?? [])], [0xff, 0xf0], 'MTU 65520');
});

test('ARP padded to 60 bytes (as qemu sends it) is answered; frames split across writes are reassembled', async (t) => {
  const p = await startPasst(t);
  const c = await StreamClient.connect(t, p.sock);
  const f = arpRequest(GUEST4, GW4);
  const framed = new Uint8Array(4 + f.length);
  new DataView(framed.buffer).setUint32(0, f.length);
  framed.set(f, 4);
  for (const cut of [1, 3, 20]) {
    const from = c.frames.length;
    c.writeRaw(framed.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 100));
    c.writeRaw(framed.subarray(cut));
    const reply = await c.expect('the ARP reply', (r) => isArpReply(r, GW4), 10_000, from);
    t.deepEqual([...reply.subarray(0, 6)], [...f.subarray(6, 12)], 'to the guest MAC');
  }
});

for (const [name, bytes] of [
  ['an oversized length (70000)', Uint8Array.of(0, 1, 0x11, 0x70, ...new Array<number>(60).fill(0))],
  ['a zero length', Uint8Array.of(0, 0, 0, 0, ...new Array<number>(60).fill(0))],
  ['a length below an Ethernet header (13)', Uint8Array.of(0, 0, 0, 13, ...new Array<number>(13).fill(0))],
] as const) {
  test(`${name} drops the client cleanly; passt listens again`, async (t) => {
    const p = await startPasst(t);
    const c = await StreamClient.connect(t, p.sock);
    await served(c);
    c.writeRaw(bytes);
    await c.waitClosed();
    const next = await StreamClient.connect(t, p.sock);
    await served(next);
    t.regex(readFileSync(p.log, 'utf8'), /protocol error: frame length/);
    t.is(p.passt.child.exitCode, null, 'still running');
  });
}

test('a truncated frame then a disconnect: passt forgets it and serves the next client', async (t) => {
  const p = await startPasst(t);
  const c = await StreamClient.connect(t, p.sock);
  await served(c);
  c.writeRaw(Uint8Array.of(0, 0, 0, 60, 1, 2, 3, 4, 5));
  await new Promise((r) => setTimeout(r, 100));
  c.end();
  await c.waitClosed();
  await waitFor('the log of the cut frame', () => /middle of a frame/.test(readFileSync(p.log, 'utf8')), 5_000);
  const next = await StreamClient.connect(t, p.sock);
  await served(next);
  t.regex(readFileSync(p.log, 'utf8'), /the client left in the middle of a frame \(9 bytes\): dropping the client/);
});

test('a second client while the first is served is accepted, logged and closed; the first goes on', async (t) => {
  const p = await startPasst(t);
  const first = await StreamClient.connect(t, p.sock);
  await served(first);
  const second = await StreamClient.connect(t, p.sock);
  second.send(arpRequest(GUEST4, GW4));
  await second.waitClosed();
  t.is(second.frames.length, 0, 'nothing answered to the second client');
  await served(first);
  t.regex(readFileSync(p.log, 'utf8'), /another client is connected: refusing the connection \(PID \d+\)/);
});

for (const extra of [[], ['--actors']]) {
  test(`when the client goes away its flows are closed (a host peer sees the connection end)${extra.length ? ' (--actors)' : ''}`, async (t) => {
  const p = await startPasst(t, extra);
  const port = 20000 + Math.floor(Math.random() * 20000);
  // a server on the host's loopback, reached from the guest at the gateway address
  const server = background(t, 'ip', ['netns', 'exec', p.topo.host, 'socat', '-u', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'STDOUT']);
  await waitFor('the server', () => run('ip', ['netns', 'exec', p.topo.host, 'ss', '-Hltn', `sport = ${port}`]).stdout.includes(String(port)), 10_000);
  const c = await StreamClient.connect(t, p.sock);
  await served(c);
  const ourMac = (await c.expect('ARP', (f) => isArpReply(f, GW4))).subarray(6, 12);
  const ports: [number, number] = [40000, port];
  c.send(tcpSegment(ourMac, GUEST4, GW4, ports, 1000, 0, TcpFlag.Syn));
  const synAck = await c.expect('the SYN-ACK', (f) => isSynAck(f, port));
  c.send(tcpSegment(ourMac, GUEST4, GW4, ports, 1001, (tcpSeq(synAck) + 1) >>> 0, TcpFlag.Ack)); // established: kept open
  await new Promise((r) => setTimeout(r, 500));
  t.is(server.child.exitCode, null, 'the connection is up');
  await waitFor('the connection on the host', () => run('ip', ['netns', 'exec', p.topo.host, 'ss', '-Htn', 'state', 'established', `sport = ${port}`]).stdout.trim() !== '', 10_000);
  c.end();
  const end = await exitWithin(server, 5_000);
  t.is(end.code, 0, 'the server saw its connection end');
  t.regex(readFileSync(p.log, 'utf8'), /client closed the connection/);
  const next = await StreamClient.connect(t, p.sock);
  await served(next);
  });
}

test('--one-off: passt exits 0 when the first client leaves, and removes its socket', async (t) => {
  const p = await startPasst(t, ['-1']);
  const c = await StreamClient.connect(t, p.sock);
  await served(c);
  c.end();
  const end = await exitWithin(p.passt, 10_000);
  t.is(end.code, 0);
  t.false(existsSync(p.sock));
});

test('-F: an inherited connected socket is served at once (no listening socket), one-off', async (t) => {
  const topo = makeTopology(t);
  const [ours, theirs] = native.socketpair('stream');
  const child = spawn('ip', ['netns', 'exec', topo.host, PASST, '-f', '-F', '3'], { stdio: ['ignore', 'ignore', 'pipe', theirs] });
  native.close(theirs);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const c = StreamClient.over(new Socket({ fd: ours, readable: true, writable: true }));
  await served(c);
  t.notRegex(err, /You can now start qemu/);
  c.end();
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
  t.is(code, 0, err);
});

test('without -f passt daemonises (even without a terminal); -P names the daemon; the default path is /tmp/passt_N.socket', async (t) => {
  const topo = makeTopology(t);
  const pidFile = `${tempDir(t)}/passt.pid`;
  const r = run('ip', ['netns', 'exec', topo.host, PASST, '-P', pidFile], 30_000);
  t.is(r.status, 0, r.stderr);
  const path = /UNIX domain socket bound at (\/tmp\/passt_\d+\.socket)/.exec(r.stderr)?.[1];
  t.truthy(path, r.stderr);
  t.regex(r.stderr, /-device virtio-net-pci,netdev=s -netdev stream,id=s,server=off,addr\.type=unix,addr\.path=\/tmp\/passt_\d+\.socket/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.teardown(() => void (native.processExists(pid) && process.kill(pid, 'SIGKILL')));
  t.true(native.processExists(pid));
  const c = await StreamClient.connect(t, path!);
  await served(c);
  process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !native.processExists(pid), 10_000);
  t.false(existsSync(path!), 'socket removed at exit');
});

test('-s on a path another passt serves is refused; a stale socket file is replaced', async (t) => {
  const p = await startPasst(t);
  const again = run(PASST, ['-f', '-s', p.sock], 20_000);
  t.is(again.status, 1);
  t.regex(again.stderr, /already in use/);
  // a stale socket: bound once, nobody listening any more
  const stale = `${tempDir(t)}/stale.socket`;
  const fd = native.socket(1, 1, 0);
  native.bindUnix(fd, stale);
  native.close(fd);
  const topo = makeTopology(t);
  const b = background(t, 'ip', ['netns', 'exec', topo.host, PASST, '-f', '-1', '-s', stale]);
  await waitFor('passt on the stale path', () => b.err().includes('You can now start qemu'), 20_000);
  const c = await StreamClient.connect(t, stale);
  await served(c);
});

test('-p captures what the client sends and what passt sends it (frames, not the stream framing)', async (t) => {
  const pcap = `${tempDir(t)}/passt.pcap`;
  const p = await startPasst(t, ['-p', pcap]);
  const c = await StreamClient.connect(t, p.sock);
  await served(c);
  c.send(dhcpDiscover(0x77));
  await c.expect('the DHCP offer', (f) => parseDhcpReply(f, 0x77) !== null);
  const r = run('tcpdump', ['-nn', '-r', pcap], 15_000);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /ARP, Request who-has 10\.77\.0\.1 tell 10\.77\.0\.2/);
  t.regex(r.stdout, /ARP, Reply 10\.77\.0\.1 is-at/);
  t.regex(r.stdout, /0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: BOOTP\/DHCP, Request/);
  t.regex(r.stdout, /10\.77\.0\.1\.67 > \S+\.68: BOOTP\/DHCP, Reply/);
});
