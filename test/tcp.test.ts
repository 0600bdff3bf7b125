/**
 * TCP translation end to end, IPv4 and IPv6: the guest connecting out (to the host's loopback at the
 * gateway address, and to a remote address behind the gateway), refused connections, half-close, -t
 * forwarding into the guest (static, translated, auto), --no-map-gw, -o, --no-tcp. Real peers: curl,
 * socat, and the kernel of every namespace.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIp, parseIp } from '../src/protocol/addr.js';
import { background, run, waitFor } from './helpers.js';
import { countersOf, listening, openFlows, somePort, startWorld, type TcpWorld } from './tcp-lib.js';
import { makeTopology } from './topology.js';

const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);
/** A socat server running `reply` (a shell command) for each connection; it waits up to 5 s for its output. */
const SOCAT_SERVE = (port: number, bind: string, reply: string) =>
  ['socat', '-t', '5', `TCP${bind.includes(':') ? '6' : '4'}-LISTEN:${port},bind=${bracket(bind)},reuseaddr,fork`, `SYSTEM:${reply}`];
/** The canonical text of an address as socat prints it (`[0000:...:0002]`, `::ffff:a.b.c.d`...). */
const canon = (a: string): string => formatIp(parseIp(a.replace(/^\[|\]$/g, ''))!);
const seen = (out: string): string => canon(/seen=(\S+)/.exec(out)?.[1] ?? '0.0.0.0');
/** Lets the last FIN and ACK through before pasta is stopped and its counters are read. */
const settle = () => new Promise((r) => setTimeout(r, 1000));

for (const v of [4, 6] as const) {
  test.serial(`IPv${v}: curl in the guest reaches a server on the host's loopback at the gateway address`, async (t) => {
    const w = await startWorld(t, []);
    const port = somePort();
    const lo = v === 4 ? '127.0.0.1' : '::1';
    const www = mkdtempSync(join(tmpdir(), 'tcp-www-'));
    t.teardown(() => rmSync(www, { recursive: true, force: true }));
    writeFileSync(join(www, 'index.html'), 'hello from the host');
    await listening(t, w.topo.host, ['busybox', 'httpd', '-f', '-p', `${bracket(lo)}:${port}`, '-h', www], port);
    const gw = v === 4 ? w.topo.gw4 : w.topo.gw6;
    const r = w.inGuest(`curl -sS --max-time 10 http://${bracket(gw)}:${port}/`);
    t.is(r.stdout, 'hello from the host', r.stderr);
    await settle();
    const log = await w.stop();
    t.is(openFlows(countersOf(log).tcp), 0, 'every flow closed');
  });

  test.serial(`IPv${v}: socat in the guest reaches a remote server behind the gateway, which sees the host's address`, async (t) => {
    const w = await startWorld(t, []);
    const port = somePort();
    const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
    await listening(t, w.topo.upstream, SOCAT_SERVE(port, remote, 'echo seen=$SOCAT_PEERADDR'), port);
    const r = w.inGuest(`socat -T 5 - TCP:${bracket(remote)}:${port} </dev/null`);
    t.is(seen(r.stdout), v === 4 ? w.topo.hostAddr4 : w.topo.hostAddr6, r.stderr);
    await w.stop();
  });

  test.serial(`IPv${v}: a refused connection fails at once in the guest`, async (t) => {
    const w = await startWorld(t, []);
    const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
    for (const dst of [remote, v === 4 ? w.topo.gw4 : w.topo.gw6]) {
      const start = Date.now();
      const r = w.inGuest(`socat -T 5 - TCP:${bracket(dst)}:${somePort()} </dev/null`, 15_000);
      const ms = Date.now() - start;
      t.not(r.status, 0);
      t.regex(r.stderr, /Connection refused/, `${dst}: ${r.stderr}`);
      t.true(ms < 3000, `${dst}: refused after ${ms} ms`);
    }
    await settle();
    const log = await w.stop();
    t.is(openFlows(countersOf(log).tcp), 0);
  });

  test.serial(`IPv${v}: half-close: the guest shuts its side down and still reads the reply`, async (t) => {
    const w = await startWorld(t, []);
    const port = somePort();
    const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
    // the server replies only once it has read everything (EOF): the guest's FIN must get through alone
    await listening(t, w.topo.upstream, SOCAT_SERVE(port, remote, 'wc -c'), port);
    const r = w.inGuest(`head -c 300000 /dev/zero | socat -t 10 -T 10 - TCP:${bracket(remote)}:${port}`);
    t.is(r.stdout.trim(), '300000', r.stderr);
    // and the other way round: the server is done sending first (its FIN reaches the guest), the guest
    // still sends, and all of it arrives
    const count = join(mkdtempSync(join(tmpdir(), 'tcp-hc-')), 'count');
    t.teardown(() => rmSync(join(count, '..'), { recursive: true, force: true }));
    await listening(t, w.topo.upstream, SOCAT_SERVE(port + 1, remote, `echo first; exec >&-; wc -c >${count}`), port + 1);
    const r2 = w.inGuest(`(sleep 0.5; head -c 1000 /dev/zero) | socat -t 10 -T 10 - TCP:${bracket(remote)}:${port + 1}`);
    t.is(r2.stdout.trim(), 'first', r2.stderr);
    await waitFor('the count written', () => readFileSync(count, { encoding: 'utf8', flag: 'a+' }).trim() !== '', 5000);
    t.is(readFileSync(count, 'utf8').trim(), '1000');
    await settle();
    const log = await w.stop();
    t.is(openFlows(countersOf(log).tcp), 0);
  });
}

/** Connects from `ns` (optionally from a source address) to addr:port, sends a line, returns the reply. */
function ask(ns: string, addr: string, port: number, bindTo?: string): ReturnType<typeof run> {
  const bind = bindTo ? `,bind=${bracket(bindTo)}` : '';
  return run('ip', ['netns', 'exec', ns, 'sh', '-c', `echo ping | socat -t 5 -T 5 - TCP:${bracket(addr)}:${port}${bind}`], 15_000);
}

/** A guest server telling each client the address it sees. */
async function guestWhoami(t: Parameters<typeof startWorld>[0], w: TcpWorld, port: number): Promise<void> {
  await listening(t, w.guest, ['socat', `TCP6-LISTEN:${port},ipv6only=0,reuseaddr,fork`, 'SYSTEM:echo seen=$SOCAT_PEERADDR; cat'], port);
}

test.serial('-t: host and remote peers reach a guest server, IPv4 and IPv6; loopback peers appear as the gateway', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)]);
  await guestWhoami(t, w, port);
  // [from namespace, to address, from source address, address the guest sees]
  const cases: [string, string, string | undefined, string][] = [
    [w.topo.host, '127.0.0.1', undefined, `::ffff:${w.topo.gw4}`],
    [w.topo.host, '::1', undefined, w.topo.gw6],
    [w.topo.host, w.topo.hostAddr4, undefined, `::ffff:${w.topo.gw4}`],
    [w.topo.upstream, w.topo.hostAddr4, w.topo.remote4, `::ffff:${w.topo.remote4}`],
    [w.topo.upstream, w.topo.hostAddr6, w.topo.remote6, w.topo.remote6],
  ];
  for (const [ns, addr, from, want] of cases) {
    const r = await retry(() => ask(ns, addr, port, from));
    t.is(seen(r.stdout), want, `${addr} from ${from ?? 'the host'}: ${r.stdout} ${r.stderr}`);
    t.regex(r.stdout, /ping/);
  }
  await settle();
  const log = await w.stop();
  t.is(countersOf(log).tcp?.['flows-inbound'], 5);
  t.is(openFlows(countersOf(log).tcp), 0);
});

test.serial('-t reaches the guest at the addresses it uses, not only the configured ones (IPv4 and IPv6)', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)]);
  await guestWhoami(t, w, port);
  // the guest drops the addresses pasta configured and takes others of the same prefixes (as SLAAC or
  // a hand configuration would), then sends one datagram out from each
  const [new4, new6] = ['10.77.0.77', 'fd77::77'];
  const r = w.inGuest([
    `ip addr del ${w.topo.hostAddr4}/24 dev pa0`, `ip -6 addr del ${w.topo.hostAddr6}/64 dev pa0`,
    `ip addr add ${new4}/24 dev pa0`, `ip -6 addr add ${new6}/64 dev pa0 nodad`,
    `ip route replace default via ${w.topo.gw4}`, `ip -6 route replace default via ${w.topo.gw6}`,
    `echo x | socat -u - UDP4:${w.topo.remote4}:9`, `echo x | socat -u - UDP6:[${w.topo.remote6}]:9`,
  ].join(' && '));
  t.is(r.status, 0, `${r.stdout} ${r.stderr} ${run('ip', ['-n', w.guest, 'addr']).stdout} ${run('ip', ['-n', w.guest, '-6', 'route']).stdout} ${w.log()}`);
  const answers: string[] = [];
  for (const addr of ['127.0.0.1', '::1']) answers.push((await retry(() => ask(w.topo.host, addr, port))).stdout);
  const log = await w.stop();
  const why = log.split('\n').filter((l) => /guest addresses|counters tcp/.test(l)).join('\n');
  t.regex(answers[0]!, /ping/, `IPv4: ${why}`);
  t.regex(answers[1]!, /ping/, `IPv6: ${why}`);
});

test.serial('-t with translation: host port A goes to guest port B', async (t) => {
  const a = somePort(), b = a + 1;
  const w = await startWorld(t, ['-t', `${a}:${b}`]);
  await guestWhoami(t, w, b);
  const r = await retry(() => ask(w.topo.host, '127.0.0.1', a));
  t.regex(r.stdout, /ping/, r.stderr);
  t.not(ask(w.topo.host, '127.0.0.1', b).status, 0, 'the guest port itself is not forwarded');
  await w.stop();
});

test.serial('-t auto (the default): a port that starts listening in the guest is forwarded within seconds, and dropped after', async (t) => {
  const w = await startWorld(t, []);
  const port = somePort();
  t.not(ask(w.topo.host, '127.0.0.1', port).status, 0, 'nothing listens yet');
  const server = await listening(t, w.guest, ['socat', `TCP6-LISTEN:${port},ipv6only=0,reuseaddr,fork`, 'SYSTEM:echo auto; cat'], port);
  const r = await retry(() => ask(w.topo.host, '127.0.0.1', port), 5000);
  t.regex(r.stdout, /^auto\nping/, r.stderr);
  const r6 = await retry(() => ask(w.topo.host, '::1', port), 5000);
  t.regex(r6.stdout, /^auto\nping/, r6.stderr);
  server.child.kill('SIGKILL');
  await waitFor('the host port released', () => !run('ip', ['netns', 'exec', w.topo.host, 'ss', '-Htln', `sport = :${port}`]).stdout.includes(String(port)), 5000);
  await w.stop();
});

test.serial('--no-map-gw: the gateway address is the real gateway, not the host', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['--no-map-gw']);
  await listening(t, w.topo.host, SOCAT_SERVE(port, '127.0.0.1', 'echo host'), port);
  await listening(t, w.topo.upstream, SOCAT_SERVE(port, w.topo.gw4, 'echo gateway'), port);
  const r = w.inGuest(`socat -T 5 - TCP:${w.topo.gw4}:${port} </dev/null`);
  t.is(r.stdout.trim(), 'gateway', r.stderr);
  await w.stop();
});

test.serial('-o binds outbound sockets to the given source address', async (t) => {
  const port = somePort();
  const topo = makeTopology(t);
  const dev = JSON.parse(run('ip', ['-n', topo.host, '-j', 'link', 'show']).stdout) as { ifname: string }[];
  const ifname = dev.find((l) => l.ifname !== 'lo')!.ifname;
  run('ip', ['-n', topo.host, 'addr', 'add', '10.77.0.3/24', 'dev', ifname]);
  const w = await startWorld(t, ['-o', '10.77.0.3', '--outbound-if4', ifname], { topo });
  await listening(t, topo.upstream, SOCAT_SERVE(port, topo.remote4, 'echo seen=$SOCAT_PEERADDR'), port);
  const r = w.inGuest(`socat -T 5 - TCP:${topo.remote4}:${port} </dev/null`);
  t.is(seen(r.stdout), '10.77.0.3', r.stderr);
  await w.stop();
});

test.serial('--no-tcp: guest TCP is not translated', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['--no-tcp']);
  await listening(t, w.topo.upstream, SOCAT_SERVE(port, w.topo.remote4, 'echo hi'), port);
  const r = w.inGuest(`socat -T 2 - TCP:${w.topo.remote4}:${port},connect-timeout=2 </dev/null`, 10_000);
  t.not(r.status, 0);
  const log = await w.stop();
  t.true((countersOf(log).tcp?.['drop:tcp-disabled'] ?? 0) > 0);
});

/** Retries a connection that may race a listener coming up (auto scan, host-side bind). */
async function retry(f: () => ReturnType<typeof run>, withinMs = 3000): Promise<ReturnType<typeof run>> {
  const end = Date.now() + withinMs;
  let r = f();
  while (r.status !== 0 && Date.now() < end) {
    await new Promise((res) => setTimeout(res, 200));
    r = f();
  }
  return r;
}

/** dnsmasq answering for a test zone only, on these addresses, in a namespace (TCP and UDP). */
async function dnsmasq(t: Parameters<typeof startWorld>[0], ns: string, addrs: string[]): Promise<void> {
  const listen = addrs.map((a) => `--listen-address=${a}`);
  const d = background(t, 'ip', ['netns', 'exec', ns, 'dnsmasq', '-k', '-C', '/dev/null', '--pid-file=', '--no-resolv', '--no-hosts',
    '--bind-interfaces', '-u', 'root', '--log-facility=-', ...listen, '--host-record=www.test.example,10.99.0.7,fd99::7']);
  await waitFor('dnsmasq started', () => /started/.test(d.err()), 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${d.err()}`);
  });
}

test.serial('DNS over TCP: --dns-forward and a loopback resolver at the gateway address reach the host\'s resolver', async (t) => {
  const w = await startWorld(t, ['--dns-forward', '10.77.9.9', '--dns-forward', 'fd77:9::9'], { resolvConf: 'nameserver 10.77.1.1\nnameserver fd77:1::1\n' });
  await dnsmasq(t, w.topo.upstream, [w.topo.remote4, w.topo.remote6]);
  const a = w.inGuest('dig +tcp +time=3 +tries=1 +short @10.77.9.9 www.test.example A');
  t.is(a.stdout.trim(), '10.99.0.7', a.stderr + a.stdout);
  const aaaa = w.inGuest('dig +tcp +time=3 +tries=1 +short @fd77:9::9 www.test.example AAAA');
  t.is(aaaa.stdout.trim(), 'fd99::7', aaaa.stderr + aaaa.stdout);
  await w.stop();
  const w2 = await startWorld(t, [], { resolvConf: 'nameserver 127.0.0.53\n' });
  await dnsmasq(t, w2.topo.host, ['127.0.0.53']);
  const gw = w2.inGuest(`dig +tcp +time=3 +tries=1 +short @${w2.topo.gw4} www.test.example A`);
  t.is(gw.stdout.trim(), '10.99.0.7', gw.stderr + gw.stdout);
  await w2.stop();
});
