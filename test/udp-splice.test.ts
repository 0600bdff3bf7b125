/**
 * The UDP loopback fast path end to end: our pasta in the host namespace of the private topology.
 * -u: datagrams from the host's 127.0.0.1 / ::1 reach a guest echo server from the guest's own loopback
 * (same source port), never through the tap; other senders on the same port keep the tap path.
 * -U SPEC: from the guest's loopback to a host echo server on the host's loopback. -U auto: a host server
 * on 127.0.0.1 appears as a guest listener within about a second and goes away with it; our own -u
 * listeners are not mirrored back. A SIGKILLed udp actor (--actors) is restarted and both paths work again.
 * Payloads are random and compared byte for byte both ways (udp-tool `check`).
 */
import test, { type ExecutionContext } from 'ava';
import { actorPids, run, waitFor } from './helpers.js';
import { UDP_TOOL, countersOf, echoPeers, peer, somePort, startWorld, type UdpWorld } from './udp-lib.js';

const COUNT = 20;
const SIZE = 1400;
const settle = (ms = 500) => new Promise((r) => setTimeout(r, ms));

interface Check { port: number; ok: number; bad: number; lost: number }

/** udp-tool check from a namespace (argv prefix) to addr:port; its JSON result. */
function check(inNs: (argv: string[]) => string[], family: 4 | 6, addr: string, port: number, count = COUNT): Check {
  const argv = inNs(['node', UDP_TOOL, 'check', String(family), addr, String(port), String(count), String(SIZE)]);
  const r = run(argv[0]!, argv.slice(1), (count + 10) * 1000);
  const line = /^\{.*\}$/m.exec(r.stdout)?.[0];
  if (!line) throw new Error(`udp-tool check: ${r.stdout} ${r.stderr}`);
  return JSON.parse(line) as Check;
}

/** Whether a UDP socket is bound to addr:port in namespace `ns` (ss). */
function boundIn(ns: string, addr: string, port: number): boolean {
  const text = run('ip', ['netns', 'exec', ns, 'ss', '-Huan', `sport = :${port}`], 5000).stdout;
  return text.includes(addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
}

const familyOf = (lo: string): 4 | 6 => (lo.includes(':') ? 6 : 4);

async function guestEchoes(t: ExecutionContext, w: UdpWorld, port: number) {
  return [await peer(t, w.guestArgv, ['echo', '4', '0.0.0.0', String(port), '60']), await peer(t, w.guestArgv, ['echo', '6', '::', String(port), '60'])];
}

for (const lo of ['127.0.0.1', '::1']) {
  test.serial(`-u from the host's ${lo}: echoed by a guest server that sees its own loopback and the same port; no tap`, async (t) => {
    const port = somePort();
    const w = await startWorld(t, ['-u', String(port)], { splice: true });
    const echoes = await guestEchoes(t, w, port);
    const r = check(w.topo.inHost, familyOf(lo), lo, port);
    t.deepEqual(r, { port: r.port, ok: COUNT, bad: 0, lost: 0 });
    await waitFor('the guest servers\' output', () => echoes.flatMap(echoPeers).length >= COUNT, 3000).catch(() => {});
    const seen = echoes.flatMap(echoPeers);
    t.is(seen.length, COUNT);
    t.deepEqual([...new Set(seen.map((p) => `${p.addr} ${p.port} ${p.len}`))], [`${lo} ${r.port} ${SIZE}`], 'a loopback peer, the client\'s own port');
    // the same port from a non-loopback sender keeps the tap path
    const far = check(w.topo.inUpstream, 4, w.topo.hostAddr4, port, 3);
    t.is(far.ok, 3, JSON.stringify(far));
    await settle();
    const c = countersOf(await w.stop()).udp ?? {};
    t.like(c, { 'splice-flows-opened': 1, 'splice-flows-in': 1, 'splice-dgrams-in': COUNT, 'splice-dgrams-out': COUNT, 'flows-inbound': 1, 'dgrams-in': 3 });
  });
}

for (const lo of ['127.0.0.1', '::1']) {
  test.serial(`-U: from the guest's ${lo} to a host server on ${lo}, same source port, payloads compared`, async (t) => {
    const port = somePort();
    const fam = familyOf(lo);
    const w = await startWorld(t, ['-U', String(port)], { splice: true, actors: fam === 6 });
    const echo = await peer(t, w.topo.inHost, ['echo', String(fam), lo, String(port), '60']);
    await waitFor('the -U listener in the guest', () => boundIn(w.guest, lo, port), 12_000);
    const r = check(w.guestArgv, fam, lo, port);
    t.deepEqual(r, { port: r.port, ok: COUNT, bad: 0, lost: 0 });
    await waitFor('the host server\'s output', () => echoPeers(echo).length >= COUNT, 3000).catch(() => {});
    t.deepEqual([...new Set(echoPeers(echo).map((p) => `${p.addr} ${p.port}`))], [`${lo} ${r.port}`]);
    await settle(1200); // at least one more -u auto scan of the guest's ports
    const c = countersOf(await w.stop()).udp ?? {};
    t.like(c, { 'splice-flows-out': 1, 'splice-dgrams-out': COUNT, 'splice-dgrams-in': COUNT });
    t.is(c['flows-opened'] ?? 0, 0, 'no tap-path flow');
    t.is(c['listeners-opened'] ?? 0, 0, '-u auto does not mirror our -U listeners (loopback-bound) back to the host');
  });
}

test.serial('-U auto: a host server on 127.0.0.1 is mirrored into the guest within ~2 s, echoes, and goes away with it; -u ports are not mirrored', async (t) => {
  const port = somePort(), own = port + 1;
  const w = await startWorld(t, ['-u', String(own)], { splice: true });
  const start = Date.now();
  const echo = await peer(t, w.topo.inHost, ['echo', '4', '127.0.0.1', String(port), '60']);
  await waitFor('the mirrored listener in the guest', () => boundIn(w.guest, '127.0.0.1', port) && boundIn(w.guest, '::1', port), 2500);
  t.log(`mirrored after ${Date.now() - start} ms`);
  const r = check(w.guestArgv, 4, '127.0.0.1', port);
  t.deepEqual(r, { port: r.port, ok: COUNT, bad: 0, lost: 0 });
  await waitFor('the host server\'s output', () => echoPeers(echo).length >= COUNT, 3000).catch(() => {});
  t.is(echoPeers(echo).length, COUNT);
  t.true(boundIn(w.topo.host, '0.0.0.0', own), 'our -u listener on the host');
  t.false(boundIn(w.guest, '127.0.0.1', own), 'not mirrored back into the guest');
  echo.child.kill('SIGKILL');
  await waitFor('the mirrored listener gone', () => !boundIn(w.guest, '127.0.0.1', port) && !boundIn(w.guest, '::1', port), 2500);
  t.false(boundIn(w.guest, '127.0.0.1', own));
  const c = countersOf(await w.stop()).udp ?? {};
  t.like(c, { 'splice-flows-out': 1, 'splice-dgrams-out': COUNT });
  t.true((c['splice-listeners-closed'] ?? 0) >= 2, JSON.stringify(c));
});

test.serial('--no-splice: -u from the host\'s loopback takes the tap path (the guest sees the gateway), no -U listener', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-u', String(port), '-U', String(port + 1)], { splice: false });
  const echoes = await guestEchoes(t, w, port);
  const r = check(w.topo.inHost, 4, '127.0.0.1', port, 3);
  t.is(r.ok, 3, JSON.stringify(r));
  await waitFor('the guest servers\' output', () => echoes.flatMap(echoPeers).length >= 3, 3000).catch(() => {});
  t.deepEqual([...new Set(echoes.flatMap(echoPeers).map((p) => p.addr))], [w.topo.gw4]);
  t.false(boundIn(w.guest, '127.0.0.1', port + 1));
  const c = countersOf(await w.stop()).udp ?? {};
  t.is(c['splice-flows-opened'] ?? 0, 0);
});

test.serial('the udp actor SIGKILLed (--actors) while spliced: restarted, -u and -U datagrams work again', async (t) => {
  const port = somePort(), out = port + 1;
  const w = await startWorld(t, ['-u', String(port), '-U', String(out)], { splice: true, actors: true });
  await guestEchoes(t, w, port);
  await peer(t, w.topo.inHost, ['echo', '4', '127.0.0.1', String(out), '60']);
  await waitFor('the -U listener in the guest', () => boundIn(w.guest, '127.0.0.1', out), 12_000);
  t.is(check(w.topo.inHost, 4, '127.0.0.1', port, 3).ok, 3);
  t.is(check(w.guestArgv, 4, '127.0.0.1', out, 3).ok, 3);
  const pasta = w.pasta.child.pid!;
  const before = actorPids(pasta);
  process.kill(before.get('udp')!, 'SIGKILL');
  await waitFor('a new udp actor', () => {
    const now = actorPids(pasta).get('udp');
    return now !== undefined && now !== before.get('udp');
  }, 10_000);
  let inOk = 0, outOk = 0;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline && (inOk < 3 || outOk < 3);) {
    if (inOk < 3) inOk = check(w.topo.inHost, 4, '127.0.0.1', port, 3).ok;
    if (outOk < 3) outOk = check(w.guestArgv, 4, '127.0.0.1', out, 3).ok;
  }
  t.is(inOk, 3, '-u after the restart');
  t.is(outOk, 3, '-U after the restart');
  const after = actorPids(pasta);
  for (const name of ['tap', 'tcp', 'icmp', 'splice']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  const log = await w.stop();
  t.regex(log, /actor udp \(pid \d+\) ended \(signal SIGKILL\); restart/);
  t.true((countersOf(log).udp?.['splice-flows-in'] ?? 0) >= 1, 'the new incarnation spliced');
});
