/**
 * UDP end to end: a guest namespace served by our pasta inside the private topology, real peers
 * (socat, the kernel's sockets through udp-tool), connected sockets in the guest so that a reply from a
 * wrong address or port is refused by the guest's own kernel.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, waitFor } from './helpers.js';
import { makeTopology } from './topology.js';
import { countersOf, echoPeers, peer, somePort, startWorld } from './udp-lib.js';

/** Lets the event loop collect the peers' output (run() blocks it) until `cond` or 3 s. */
const settle = (cond: () => boolean): Promise<void> => waitFor('peer output', cond, 3000).catch(() => {});

/** socat from the guest: sends `payload` (a shell word) on a connected socket, prints what comes back. */
const socatTo = (family: 4 | 6, addr: string, port: number, extra = '') =>
  `socat -t 1 -T 3 - UDP${family === 6 ? '6' : ''}:${family === 6 ? `[${addr}]` : addr}:${port}${extra}`;

test.serial('echo over IPv4 and IPv6, to a remote and to the host loopback through the gateway; the guest source port is kept', async (t) => {
  const w = await startWorld(t, []);
  const port = somePort();
  const remote4 = await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '40']);
  const remote6 = await peer(t, w.topo.inUpstream, ['echo', '6', w.topo.remote6, String(port), '40']);
  const host4 = await peer(t, w.topo.inHost, ['echo', '4', '127.0.0.1', String(port), '40']);
  const host6 = await peer(t, w.topo.inHost, ['echo', '6', '::1', String(port), '40']);
  const cases = [
    { name: 'remote4', family: 4, addr: w.topo.remote4, sport: 31001, echo: remote4, seenFrom: w.topo.hostAddr4 },
    { name: 'remote6', family: 6, addr: w.topo.remote6, sport: 31002, echo: remote6, seenFrom: w.topo.hostAddr6 },
    { name: 'gateway4', family: 4, addr: w.topo.gw4, sport: 31003, echo: host4, seenFrom: '127.0.0.1' },
    { name: 'gateway6', family: 6, addr: w.topo.gw6, sport: 31004, echo: host6, seenFrom: '::1' },
  ] as const;
  for (const c of cases) {
    const r = w.inGuest(`printf '%s' hello-${c.name} | ${socatTo(c.family, c.addr, port, `,sourceport=${c.sport}`)}`);
    t.is(r.stdout, `hello-${c.name}`, `${c.name}: ${r.stderr}`);
    await settle(() => echoPeers(c.echo).length > 0);
    t.deepEqual(echoPeers(c.echo), [{ addr: c.seenFrom, port: c.sport, len: `hello-${c.name}`.length }], c.name);
  }
  const counters = countersOf(await w.stop()).udp ?? {};
  t.like(counters, { 'flows-gateway': 2, 'flows-direct': 2, 'dgrams-out': 4, 'dgrams-in': 4 });
});

test.serial('a 1-byte and a 65000-byte datagram, both ways, at MTU 65520', async (t) => {
  const w = await startWorld(t, []);
  const port = somePort();
  await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '40']);
  await peer(t, w.topo.inHost, ['echo', '6', '::1', String(port), '40']);
  t.is(w.inGuest(`cat /sys/class/net/pa0/mtu`).stdout.trim(), '65520');
  const big = join(w.dir, 'big');
  writeFileSync(big, randomBytes(65000));
  for (const [family, addr, name] of [[4, w.topo.remote4, 'remote4'], [6, w.topo.gw6, 'gateway6']] as const) {
    const one = w.inGuest(`printf x | ${socatTo(family, addr, port)}`);
    t.is(one.stdout, 'x', `${name} 1 byte: ${one.stderr}`);
    const out = join(w.dir, `out-${name}`);
    const r = w.inGuest(`socat -b 65536 -t 1 -T 3 - UDP${family === 6 ? '6' : ''}:${family === 6 ? `[${addr}]` : addr}:${port} < ${big} > ${out}`);
    t.is(r.status, 0, r.stderr);
    t.true(readFileSync(out).equals(readFileSync(big)), `${name}: 65000 bytes came back intact`);
  }
});

test.serial('-u: datagrams from a remote and from the host reach the guest (loopback as the gateway), replies go back from the forwarded port', async (t) => {
  const port = somePort(), from = port + 1, to = port + 2;
  const w = await startWorld(t, ['-u', String(port), '-u', `${from}:${to}`]);
  const g4 = await peer(t, w.guestArgv, ['echo', '4', '0.0.0.0', String(port), '40']);
  const g6 = await peer(t, w.guestArgv, ['echo', '6', '::', String(port), '40']);
  const gt = await peer(t, w.guestArgv, ['echo', '4', '0.0.0.0', String(to), '40']);
  const client = (inNs: (a: string[]) => string[], target: string, p: number, bind = '') =>
    run(inNs(['sh'])[0]!, [...inNs(['sh']).slice(1), '-c', `printf ping | socat -t 1 -T 3 - UDP${target.includes(':') ? '6' : ''}:${target.includes(':') ? `[${target}]` : target}:${p}${bind}`], 15_000);
  const cases = [
    { name: 'remote4', r: client(w.topo.inUpstream, w.topo.hostAddr4, port, `,bind=${w.topo.remote4}`), echo: g4, seen: w.topo.remote4 },
    { name: 'remote6', r: client(w.topo.inUpstream, w.topo.hostAddr6, port, `,bind=[${w.topo.remote6}]`), echo: g6, seen: w.topo.remote6 },
    { name: 'loopback4', r: client(w.topo.inHost, '127.0.0.1', port), echo: g4, seen: w.topo.gw4 },
    { name: 'loopback6', r: client(w.topo.inHost, '::1', port), echo: g6, seen: w.topo.gw6 },
    { name: 'host address', r: client(w.topo.inHost, w.topo.hostAddr4, port), echo: g4, seen: w.topo.gw4 },
    { name: 'translated', r: client(w.topo.inHost, '127.0.0.1', from), echo: gt, seen: w.topo.gw4 },
  ];
  for (const c of cases) {
    t.is(c.r.stdout, 'ping', `${c.name}: ${c.r.stderr}`);
    await settle(() => echoPeers(c.echo).some((p) => p.addr === c.seen));
    t.true(echoPeers(c.echo).some((p) => p.addr === c.seen), `${c.name}: the guest saw ${JSON.stringify(echoPeers(c.echo))}`);
  }
  await settle(() => echoPeers(g4).length >= 3 && echoPeers(g6).length >= 2);
  t.is(echoPeers(g4).length, 3);
  t.is(echoPeers(g6).length, 2);
});

test.serial('ICMP port unreachable reaches the guest, IPv4 and IPv6, remote and host loopback', async (t) => {
  const w = await startWorld(t, []);
  const port = somePort();
  for (const [family, addr] of [[4, w.topo.remote4], [6, w.topo.remote6], [4, w.topo.gw4], [6, w.topo.gw6]] as const) {
    const t0 = Date.now();
    const r = w.inGuest(`printf knock | socat -t 5 -T 5 - UDP${family === 6 ? '6' : ''}:${family === 6 ? `[${addr}]` : addr}:${port}`);
    t.regex(r.stderr, /Connection refused/, `${addr}: ${r.stderr}`);
    t.true(Date.now() - t0 < 4000, `${addr}: refused at once, not after a timeout`);
  }
  // no route on the host (an unreachable route, a prohibit route): connect() fails, the guest is told
  run('ip', ['-n', w.topo.host, 'route', 'add', 'unreachable', '198.51.100.0/24']);
  run('ip', ['-n', w.topo.host, 'route', 'add', 'prohibit', '203.0.113.0/24']);
  // host unreachable is a soft error (a socket without IP_RECVERR is not told): count it in the guest's
  // ICMP statistics; administratively prohibited is a hard one, which socat sees
  const unreachs = () => Number(/^Icmp: (?:\S+ ){3}(\d+)/m.exec(w.inGuest('grep "^Icmp:" /proc/net/snmp | tail -1').stdout)?.[1]);
  const before = unreachs();
  w.inGuest(`printf knock | socat -t 1 - UDP:198.51.100.7:${port}`);
  t.is(unreachs(), before + 1, 'the guest received a destination unreachable');
  const r = w.inGuest(`printf knock | socat -t 5 -T 5 - UDP:203.0.113.7:${port}`);
  t.regex(r.stderr, /No route to host/, r.stderr);
  const counters = countersOf(await w.stop()).udp ?? {};
  t.is(counters['icmp-errors-out'], 6, JSON.stringify(counters));
});

test.serial('flows expire: one-way flows first, then flows with replies; their host sockets are closed', async (t) => {
  const w = await startWorld(t, [], { env: { PASST_ACTORS_TEST_UDP_TIMEOUTS: '1500,4500' } });
  const port = somePort();
  await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '40']);
  await peer(t, w.topo.inUpstream, ['sink', '4', w.topo.remote4, String(port + 1), '40']);
  const [oneWay, twoWay] = [32001, 32002];
  const sockets = () => run('ip', ['netns', 'exec', w.topo.host, 'ss', '-H', '-uan']).stdout;
  const has = (p: number) => new RegExp(`:${p}\\s`).test(sockets());
  const t0 = Date.now();
  w.inGuest(`printf x | socat -t 0.2 - UDP:${w.topo.remote4}:${port + 1},sourceport=${oneWay}`);
  const echoed = w.inGuest(`printf y | socat -t 0.3 -T 3 - UDP:${w.topo.remote4}:${port},sourceport=${twoWay}`);
  t.is(echoed.stdout, 'y');
  t.true(has(oneWay) && has(twoWay), sockets());
  const gone: Record<number, number> = {};
  while (Date.now() - t0 < 12_000 && Object.keys(gone).length < 2) {
    for (const p of [oneWay, twoWay]) if (gone[p] === undefined && !has(p)) gone[p] = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.log(`one-way flow closed after ${gone[oneWay]} ms, two-way after ${gone[twoWay]} ms`);
  t.true(gone[oneWay] !== undefined && gone[oneWay]! >= 1000, 'the one-way flow lived about 1.5 s');
  t.true(gone[twoWay] !== undefined && gone[twoWay]! >= gone[oneWay]! + 1500, 'the two-way flow outlived it by seconds');
  t.is(countersOf(await w.stop()).udp?.['flows-expired'], 2);
});

test.serial('a fixed-rate stream each way loses little', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-u', String(port + 1)]);
  const up = await peer(t, w.topo.inUpstream, ['sink', '4', w.topo.remote4, String(port), '30']);
  const down = await peer(t, w.guestArgv, ['sink', '4', '0.0.0.0', String(port + 1), '30']);
  const pps = 2000, secs = 3, size = 1200;
  const sent1 = run('ip', ['netns', 'exec', w.guest, 'node', `${process.cwd()}/dist/test/udp-tool.js`, 'blast', '4', w.topo.remote4, String(port), String(pps), String(secs), String(size)], 20_000);
  const sent2 = run('ip', ['netns', 'exec', w.topo.upstream, 'node', `${process.cwd()}/dist/test/udp-tool.js`, 'blast', '4', w.topo.hostAddr4, String(port + 1), String(pps), String(secs), String(size)], 20_000);
  for (const [name, sent, sink] of [['guest to remote', sent1, up], ['remote to guest', sent2, down]] as const) {
    const n = (JSON.parse(sent.stdout) as { sent: number }).sent;
    await new Promise<void>((resolve) => (sink.child.exitCode !== null ? resolve() : sink.child.once('exit', () => resolve())));
    const got = (JSON.parse(sink.out().split('\n').find((l) => l.startsWith('{'))!) as { count: number }).count;
    const loss = 1 - got / n;
    t.log(`${name}: ${n} sent, ${got} received, loss ${(loss * 100).toFixed(2)} %`);
    t.is(n, pps * secs);
    t.true(loss <= 0.2, `${name}: loss ${loss}`);
  }
});

test.serial('-o and --outbound-if4/6: the source address and the interface of flow sockets', async (t) => {
  const topo = makeTopology(t);
  const veth = (JSON.parse(run('ip', ['-n', topo.host, '-j', 'link', 'show']).stdout) as { ifname: string }[]).find((l) => l.ifname !== 'lo')!.ifname;
  run('ip', ['-n', topo.host, 'addr', 'add', '10.77.0.3/24', 'dev', veth]);
  run('ip', ['-n', topo.host, 'addr', 'add', 'fd77::3/64', 'dev', veth, 'nodad']);
  const args = ['-o', '10.77.0.3', '-o', 'fd77::3', '--outbound-if4', veth, '--outbound-if6', veth];
  const w = await startWorld(t, args, { topo });
  const port = somePort();
  const e4 = await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '40']);
  const e6 = await peer(t, w.topo.inUpstream, ['echo', '6', w.topo.remote6, String(port), '40']);
  const held = w.inGuest(`(printf a | socat -t 3 - UDP:${w.topo.remote4}:${port},sourceport=33001 &) ; (printf b | socat -t 3 - UDP6:[${w.topo.remote6}]:${port},sourceport=33002 &); sleep 1`);
  t.is(held.status, 0);
  await settle(() => echoPeers(e4).length > 0 && echoPeers(e6).length > 0);
  t.deepEqual(echoPeers(e4).map((p) => p.addr), ['10.77.0.3']);
  t.deepEqual(echoPeers(e6).map((p) => p.addr), ['fd77::3']);
  const sockets = run('ip', ['netns', 'exec', w.topo.host, 'ss', '-H', '-uan']).stdout;
  t.regex(sockets, new RegExp(`10\\.77\\.0\\.3%${veth}:33001`), sockets);
  t.regex(sockets, new RegExp(`\\[fd77::3\\]%${veth}:33002`), sockets);
});

test.serial('--no-map-gw: the gateway address is the real gateway, not the host loopback', async (t) => {
  const w = await startWorld(t, ['--no-map-gw']);
  const port = somePort();
  const gw4 = await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.gw4, String(port), '40']);
  const gw6 = await peer(t, w.topo.inUpstream, ['echo', '6', w.topo.gw6, String(port), '40']);
  const lo4 = await peer(t, w.topo.inHost, ['echo', '4', '127.0.0.1', String(port), '40']);
  for (const [family, addr, echo] of [[4, w.topo.gw4, gw4], [6, w.topo.gw6, gw6]] as const) {
    const r = w.inGuest(`printf gw | ${socatTo(family, addr, port)}`);
    t.is(r.stdout, 'gw', r.stderr);
    await settle(() => echoPeers(echo).length > 0);
    t.is(echoPeers(echo)[0]?.addr, family === 4 ? w.topo.hostAddr4 : w.topo.hostAddr6);
  }
  t.deepEqual(echoPeers(lo4), []);
});

test.serial('--no-udp: no flows and no listeners, every datagram dropped and counted', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['--no-udp', '-u', String(port)]);
  await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '40']);
  const r = w.inGuest(`printf nothing | socat -t 1 -T 1 - UDP:${w.topo.remote4}:${port}`);
  t.is(r.stdout, '');
  t.notRegex(run('ip', ['netns', 'exec', w.topo.host, 'ss', '-H', '-uan']).stdout, new RegExp(`:${port}\\s`));
  t.true((countersOf(await w.stop()).udp?.['drop:udp-disabled'] ?? 0) >= 1);
});

test.serial('-u auto (the default): host listeners follow the UDP ports bound in the guest', async (t) => {
  const w = await startWorld(t, []);
  const port = somePort();
  const listening = () => new RegExp(`0\\.0\\.0\\.0:${port}\\s`).test(run('ip', ['netns', 'exec', w.topo.host, 'ss', '-H', '-uan']).stdout);
  t.false(listening());
  const g = await peer(t, w.guestArgv, ['echo', '4', '0.0.0.0', String(port), '6']);
  await waitFor('a host listener for the guest port', listening, 5000);
  const r = run('ip', ['netns', 'exec', w.topo.host, 'sh', '-c', `printf auto | socat -t 1 -T 3 - UDP:127.0.0.1:${port}`], 15_000);
  t.is(r.stdout, 'auto', r.stderr);
  await settle(() => echoPeers(g).length > 0);
  t.is(echoPeers(g)[0]?.addr, w.topo.gw4);
  await new Promise<void>((resolve) => (g.child.exitCode !== null ? resolve() : g.child.once('exit', () => resolve())));
  await waitFor('the listener closed after the guest socket', () => !listening(), 5000);
  t.pass();
});
