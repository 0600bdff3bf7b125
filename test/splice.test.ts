/**
 * The splice path end to end: pasta (-t PORT) in the host namespace of the private topology, servers in
 * the guest namespace. Connections from the host's loopback (127.0.0.1, ::1) are spliced to the guest's
 * loopback (the guest server sees a loopback peer; the splice actor counts them); connections from
 * other peers on the same port keep the tap path (the guest sees their address; the tcp actor counts
 * them). 1 GiB each way of IP version with sha256 compared; half-close; hundreds of concurrent
 * connections with the fd counts back to where they were; the splice actor SIGKILLed and restarted;
 * `-T SPEC` and `-T auto` (the default: host listeners mirrored on the guest's loopback), `--no-splice`.
 */
import test from 'ava';
import { join } from 'node:path';
import { formatIp, parseIp } from '../src/protocol/addr.js';
import { actorPids, run, waitFor } from './helpers.js';
import { bracket, bulkData, rate, countersOf, echoServer, fdCount, listening, somePort, startWorld, tool, type TcpWorld } from './tcp-lib.js';

const SIZE = 1 << 30;
const { dir, file, digest } = bulkData(test, 'splice-', SIZE);
/** socat's peer address text, canonical (IPv4-mapped addresses stay mapped: formatIp shows them ::ffff:a.b.c.d). */
const canon = (a: string): string => formatIp(parseIp(a.replace(/^\[|\]$/g, ''))!);
const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms));

function inHost(w: TcpWorld, script: string, timeoutMs = 30_000) {
  return run('ip', ['netns', 'exec', w.topo.host, 'sh', '-c', script], timeoutMs);
}

/** Flows the splice actor opened and did not close or reset yet. */
function openSpliced(c: Record<string, number> | undefined): number {
  return (c?.['flows-opened'] ?? 0) - (c?.['flows-closed'] ?? 0) - (c?.['flows-reset'] ?? 0);
}

for (const lo of ['127.0.0.1', '::1']) {
  test.serial(`-t from the host's ${lo}: 1 GiB spliced into a guest listener, sha256 compared`, async (t) => {
    const port = somePort();
    const w = await startWorld(t, ['-t', String(port)], { splice: true });
    const out = join(dir, `sha-${port}`);
    await listening(t, w.guest, ['sh', '-c', `timeout 80 socat -u TCP6-LISTEN:${port},ipv6only=0,reuseaddr - | sha256sum > ${out}`], port);
    const start = Date.now();
    const r = inHost(w, `socat -u OPEN:${file} TCP:${bracket(lo)}:${port}`, 90_000);
    t.is(r.status, 0, r.stderr);
    const check = run('sh', ['-c', `for i in $(seq 100); do [ -s ${out} ] && break; sleep 0.1; done; cat ${out}`]);
    const ms = Date.now() - start;
    t.is(check.stdout.slice(0, 64), digest());
    t.log(`-t spliced from ${lo}: 1 GiB in ${ms} ms, ${rate(SIZE, ms)}`);
    await settle();
    const c = countersOf(await w.stop());
    t.is(c.tcp?.['flows-spliced'], 1, JSON.stringify(c.tcp));
    t.is(c.tcp?.['flows-inbound'] ?? 0, 0, 'no tap-path flow');
    t.is(c.splice?.['bytes-in'], SIZE);
    t.is(c.splice?.['flows-closed'], 1, JSON.stringify(c.splice));
    t.is(openSpliced(c.splice), 0);
    // its namespace socket came from the pool made at start, not from a helper round trip
    t.is(c.splice?.['ns-socket-pooled'], 1, JSON.stringify(c.splice));
  });
}

test.serial('half-close through the splice: the guest answers after the host client shut its side down', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { splice: true });
  // the guest server reads to EOF, then replies with the digest: only possible if our FIN got through
  // while the way back stayed open
  await listening(t, w.guest, ['socat', '-t', '30', `TCP6-LISTEN:${port},ipv6only=0,reuseaddr,fork`, 'SYSTEM:sha256sum'], port);
  for (const lo of ['127.0.0.1', '::1']) {
    const r = inHost(w, `head -c 5000000 ${file} | socat -t 20 -T 20 - TCP:${bracket(lo)}:${port}`);
    const want = run('sh', ['-c', `head -c 5000000 ${file} | sha256sum`]).stdout.slice(0, 64);
    t.is(r.stdout.slice(0, 64), want, `${lo}: ${r.stderr}`);
  }
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.tcp?.['flows-spliced'], 2);
  t.is(c.splice?.['flows-closed'], 2, JSON.stringify(c.splice));
});

test.serial('spliced and tap-path connections coexist on one -t port; the guest sees who is who', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { splice: true });
  await listening(t, w.guest, ['socat', `TCP6-LISTEN:${port},ipv6only=0,reuseaddr,fork`, 'SYSTEM:echo seen=$SOCAT_PEERADDR; cat'], port);
  const cases: [string, string, string | undefined][] = [
    [w.topo.host, '127.0.0.1', undefined],
    [w.topo.host, '::1', undefined],
    [w.topo.upstream, w.topo.hostAddr4, w.topo.remote4],
    [w.topo.upstream, w.topo.hostAddr6, w.topo.remote6],
  ];
  const seen: string[] = [];
  for (const [ns, addr, from] of cases) {
    const bind = from ? `,bind=${bracket(from)}` : '';
    const r = run('ip', ['netns', 'exec', ns, 'sh', '-c', `echo ping | socat -t 5 -T 5 - TCP:${bracket(addr)}:${port}${bind}`], 15_000);
    t.regex(r.stdout, /ping/, `${addr}: ${r.stderr}`);
    seen.push(/seen=(\S+)/.exec(r.stdout)?.[1] ?? '?');
  }
  t.deepEqual(seen.map(canon), ['::ffff:127.0.0.1', '::1', `::ffff:${w.topo.remote4}`, canon(w.topo.remote6)]);
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.tcp?.['flows-spliced'], 2);
  t.is(c.tcp?.['flows-inbound'], 2);
  t.is(c.splice?.['flows-closed'], 2, JSON.stringify(c.splice));
});

test.serial('500 concurrent spliced connections, twice: the splice actor\'s fds come back to where they were', async (t) => {
  const N = 500;
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { splice: true, actors: true });
  await echoServer(t, w.guestArgv, '0.0.0.0', port, 90);
  const pid = actorPids(w.pasta.child.pid!).get('splice')!;
  const round = async (): Promise<number> => {
    const start = Date.now();
    const client = tool(t, w.topo.inHost, ['many', '127.0.0.1', String(port), String(N), '2000', '60']);
    await waitFor(`${N} connections echoed`, () => client.out().includes(`connected ${N}`), 40_000, 10).catch((e: Error) => {
      throw new Error(`${e.message}: ${client.out()} ${client.err()}`);
    });
    t.log(`${N} connections connected and echoed in ${Date.now() - start} ms`);
    const during = fdCount(pid);
    await waitFor(`${N} connections closed`, () => client.out().includes(`closed ${N}`) && /^\{.*\}$/m.test(client.out()), 30_000);
    const result = JSON.parse(/^\{.*\}$/m.exec(client.out())![0]) as { ok: number };
    t.is(result.ok, N, client.out());
    return during;
  };
  const fresh = fdCount(pid);
  await round(); // fills the pipe pool
  await settle(1500);
  const before = fdCount(pid);
  const during = await round();
  t.true(during >= before + 2 * N, `fds while open: ${during} (before: ${before})`);
  // within the namespace socket pool's refill margin (it refills below half of 16 per IP version, so
  // it may end a round a few sockets apart); a leak would be 1000+ fds here
  await waitFor(`fds of the splice actor back to ${before} (± 32)`, () => Math.abs(fdCount(pid) - before) <= 32, 20_000).catch((e: Error) => {
    throw new Error(`${e.message} (now ${fdCount(pid)})`);
  });
  t.log(`fds: at start ${fresh}, after a first round ${before}, during ${during}, after ${fdCount(pid)}`);
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.tcp?.['flows-spliced'], 2 * N);
  t.is(c.splice?.['flows-closed'], 2 * N, JSON.stringify(c.splice));
  // every connection's namespace socket came from the pool, at once or from its next batch: a burst
  // costs a few helper requests of up to 64 sockets, not one per connection
  const sp = c.splice ?? {};
  t.is((sp['ns-socket-pooled'] ?? 0) + (sp['ns-socket-waited'] ?? 0), 2 * N);
  t.log(`namespace sockets: ${sp['ns-socket-pooled'] ?? 0} pooled at once, ${sp['ns-socket-waited'] ?? 0} from the next batch, ${sp['ns-socket-batches']} helper requests`);
  t.true((sp['ns-socket-batches'] ?? Infinity) <= (2 * N) / 8, `${sp['ns-socket-batches']} helper requests for ${2 * N} connections`);
});

test.serial('the splice actor SIGKILLed (--actors) is restarted; new loopback connections are spliced again', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { splice: true, actors: true });
  const echo = await echoServer(t, w.guestArgv, '0.0.0.0', port, 60);
  const ask = () => inHost(w, `echo hello | socat -t 5 -T 5 - TCP:127.0.0.1:${port}`, 15_000);
  // the guest server sees a spliced connection come from its own loopback (the tap path: the gateway)
  const lastPeer = () => /peer (\S+) \d+\n$/.exec(echo.out())?.[1];
  t.is(ask().stdout.trim(), 'hello');
  await waitFor('the guest server saw a loopback peer', () => lastPeer() === '127.0.0.1', 5000);
  const pasta = w.pasta.child.pid!;
  const before = actorPids(pasta);
  process.kill(before.get('splice')!, 'SIGKILL');
  await waitFor('a new splice actor', () => {
    const now = actorPids(pasta).get('splice');
    return now !== undefined && now !== before.get('splice');
  }, 10_000);
  const spliced = async (): Promise<boolean> => {
    if (ask().stdout.trim() !== 'hello') return false;
    await settle(200); // the echo server's output
    return lastPeer() === '127.0.0.1';
  };
  let ok = false;
  for (const deadline = Date.now() + 10_000; !ok && Date.now() < deadline;) ok = await spliced();
  t.true(ok, `a spliced connection after the restart: ${echo.out()}`);
  const after = actorPids(pasta);
  for (const name of ['tap', 'tcp', 'udp', 'icmp']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  await settle();
  const log = await w.stop();
  t.regex(log, /actor splice \(pid \d+\) ended \(signal SIGKILL\); restart/);
  t.true((countersOf(log).splice?.['flows-closed'] ?? 0) >= 1, `the new incarnation spliced: ${JSON.stringify(countersOf(log).splice)}`);
});

for (const lo of ['127.0.0.1', '::1']) {
  test.serial(`-T: 1 GiB from the guest's ${lo} to a listener on the host's ${lo}, sha256 compared`, async (t) => {
    const port = somePort();
    const w = await startWorld(t, ['-T', String(port)], { splice: true });
    const out = join(dir, `sha-T-${port}`);
    const v = lo.includes(':') ? '6' : '4';
    await listening(t, w.topo.host, ['sh', '-c', `timeout 80 socat -u TCP${v}-LISTEN:${port},bind=${bracket(lo)},reuseaddr - | sha256sum > ${out}`], port);
    await waitFor('the -T listener in the guest', () => run('ip', ['netns', 'exec', w.guest, 'ss', '-Htln', `src ${bracket(lo)}:${port}`]).stdout.includes(String(port)), 10_000);
    const start = Date.now();
    const r = w.inGuest(`socat -u OPEN:${file} TCP:${bracket(lo)}:${port}`, 90_000);
    t.is(r.status, 0, r.stderr);
    const check = run('sh', ['-c', `for i in $(seq 100); do [ -s ${out} ] && break; sleep 0.1; done; cat ${out}`]);
    const ms = Date.now() - start;
    t.is(check.stdout.slice(0, 64), digest());
    t.log(`-T spliced to ${lo}: 1 GiB in ${ms} ms, ${rate(SIZE, ms)}`);
    await settle();
    const c = countersOf(await w.stop());
    t.is(c.splice?.['flows-outbound'], 1, JSON.stringify(c.splice));
    t.is(c.splice?.['bytes-out'], SIZE);
    t.is(c.splice?.['flows-closed'], 1);
    t.is(c.tcp?.['flows-outbound'] ?? 0, 0, 'nothing through the tap');
  });
}

test.serial('-T: a refused connection on the host resets the guest\'s connection; a later one works', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-T', String(port)], { splice: true });
  await waitFor('the -T listener in the guest', () => run('ip', ['netns', 'exec', w.guest, 'ss', '-Htln', `sport = :${port}`]).stdout.includes(String(port)), 10_000);
  const refused = w.inGuest(`echo x | socat -t 3 -T 5 - TCP:127.0.0.1:${port}`, 15_000);
  t.is(refused.stdout, '', 'nothing listens on the host yet');
  await listening(t, w.topo.host, ['socat', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host; cat'], port);
  const r = w.inGuest(`echo x | socat -t 3 -T 5 - TCP:127.0.0.1:${port}`, 15_000);
  t.is(r.stdout, 'host\nx\n', r.stderr);
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.splice?.['flows-reset'], 1, `the guest's connection reset: ${JSON.stringify(c.splice)}`);
  t.is(c.splice?.['connect-error:111'], 1, 'ECONNREFUSED');
  t.is(c.splice?.['flows-closed'], 1);
});

test.serial('iperf3 through the splice, host 127.0.0.1 -> guest (-t) and guest -> host (-T); throughput logged', async (t) => {
  const tin = somePort(), tout = tin + 1;
  const w = await startWorld(t, ['-t', String(tin), '-T', String(tout)], { splice: true });
  await listening(t, w.guest, ['iperf3', '-s', '-1', '-p', String(tin)], tin);
  const r = inHost(w, `iperf3 -c 127.0.0.1 -p ${tin} -t 3 -J`, 30_000);
  t.is(r.status, 0, r.stdout.slice(0, 2000) + r.stderr);
  const gin = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
  await listening(t, w.topo.host, ['iperf3', '-s', '-1', '-B', '127.0.0.1', '-p', String(tout)], tout);
  await waitFor('the -T listener in the guest', () => run('ip', ['netns', 'exec', w.guest, 'ss', '-Htln', `sport = :${tout}`]).stdout.includes(String(tout)), 10_000);
  const o = w.inGuest(`iperf3 -c 127.0.0.1 -p ${tout} -t 3 -J`, 30_000);
  t.is(o.status, 0, o.stdout.slice(0, 2000) + o.stderr);
  const gout = (JSON.parse(o.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
  t.log(`iperf3 spliced: host -> guest ${gin.toFixed(2)} Gbit/s, guest -> host ${gout.toFixed(2)} Gbit/s`);
  t.true(gin > 0 && gout > 0);
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.splice?.['flows-inbound'], 2, 'iperf3: control and data connections');
  t.is(c.splice?.['flows-outbound'], 2);
  t.is(c.tcp?.['flows-inbound'] ?? 0, 0);
});

/** The guest's listening TCP ports on its loopback (ss), as a set. */
function guestLoopbackListeners(w: TcpWorld): Set<number> {
  const out = run('ip', ['netns', 'exec', w.guest, 'ss', '-Htln']).stdout;
  const ports = new Set<number>();
  for (const m of out.matchAll(/(?:127\.0\.0\.1|\[::1\]):(\d+)\s/g)) ports.add(Number(m[1]));
  return ports;
}

for (const actors of [false, true]) {
  test.serial(`-T auto (the default${actors ? ', --actors' : ''}): a host listener appears on the guest's loopback, answers, and goes away with it`, async (t) => {
    const port = somePort();
    const w = await startWorld(t, [], { splice: true, actors });
    t.false(guestLoopbackListeners(w).has(port), 'not mirrored before the host listens');
    const host = await listening(t, w.topo.host, ['socat', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host; cat'], port);
    await waitFor('the mirrored listener in the guest', () => guestLoopbackListeners(w).has(port), 5000);
    for (const lo of ['127.0.0.1', '[::1]']) {
      const r = w.inGuest(`echo x | socat -t 3 -T 5 - TCP:${lo}:${port}`, 15_000);
      t.is(r.stdout, lo === '127.0.0.1' ? 'host\nx\n' : '', `${lo}: ${r.stderr}`); // the host serves IPv4 only
    }
    host.child.kill('SIGTERM');
    await waitFor('the mirrored listener gone from the guest', () => !guestLoopbackListeners(w).has(port), 5000);
    await settle();
    const c = countersOf(await w.stop());
    t.is(c.splice?.['flows-outbound'], 2, JSON.stringify(c.splice));
    t.is(c.splice?.['flows-closed'], 1, 'the IPv4 connection');
    t.is(c.splice?.['connect-error:111'], 1, 'the IPv6 one: refused by the host, reset in the guest');
    t.true((c.splice?.['listeners-closed'] ?? 0) >= 2, 'both families closed when the host port went away');
  });
}

test.serial('-T auto after a splice-actor SIGKILL (--actors): the new incarnation mirrors again, never our -t port', async (t) => {
  const port = somePort(), tport = somePort();
  const w = await startWorld(t, ['-t', String(tport)], { splice: true, actors: true });
  await listening(t, w.topo.host, ['socat', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host'], port);
  await waitFor('the mirrored listener in the guest', () => guestLoopbackListeners(w).has(port), 5000);
  const pasta = w.pasta.child.pid!;
  const before = actorPids(pasta).get('splice')!;
  process.kill(before, 'SIGKILL');
  await waitFor('a new splice actor', () => (actorPids(pasta).get('splice') ?? before) !== before, 10_000);
  await waitFor('the mirrored listener back in the guest', () => guestLoopbackListeners(w).has(port), 8000);
  t.false(guestLoopbackListeners(w).has(tport), 'our -t port is not mirrored by the new incarnation either');
  const r = w.inGuest(`socat -t 3 -T 5 - TCP:127.0.0.1:${port} </dev/null`, 15_000);
  t.is(r.stdout, 'host\n', r.stderr);
  await w.stop();
});

test.serial('-T auto never mirrors the ports of our own -t listeners: a guest server binds them at once', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { splice: true });
  const hostOnly = somePort();
  await listening(t, w.topo.host, ['socat', `TCP4-LISTEN:${hostOnly},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host'], hostOnly);
  await waitFor('the scan has run', () => guestLoopbackListeners(w).has(hostOnly), 5000);
  t.false(guestLoopbackListeners(w).has(port), 'our -t port is not mirrored back');
  await echoServer(t, w.guestArgv, '0.0.0.0', port, 30); // fails (EADDRINUSE) if it was
  const r = inHost(w, `echo ping | socat -t 3 -T 5 - TCP:127.0.0.1:${port}`, 15_000);
  t.is(r.stdout.trim(), 'ping', r.stderr);
  await w.stop();
});

test.serial('-T none: no listener on the guest\'s loopback even with the host listening', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-T', 'none'], { splice: true });
  await listening(t, w.topo.host, ['socat', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host'], port);
  await settle(2500);
  t.false(guestLoopbackListeners(w).has(port));
  const c = countersOf(await w.stop());
  t.is(c.splice?.['listeners-opened'] ?? 0, 0);
});

test.serial('--no-splice: a connection from the host\'s loopback takes the tap path (the guest sees the gateway)', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port), '--no-splice'], { splice: true });
  const echo = await echoServer(t, w.guestArgv, '0.0.0.0', port, 30);
  const r = inHost(w, `echo hello | socat -t 3 -T 5 - TCP:127.0.0.1:${port}`, 15_000);
  t.is(r.stdout.trim(), 'hello', r.stderr);
  await waitFor('the guest server saw its peer', () => /peer (\S+) \d+\n/.test(echo.out()), 5000);
  t.not(/peer (\S+) \d+\n/.exec(echo.out())?.[1], '127.0.0.1', echo.out());
  await settle();
  const c = countersOf(await w.stop());
  t.is(c.tcp?.['flows-spliced'] ?? 0, 0);
  t.is(c.splice?.['flows-opened'] ?? 0, 0);
});
