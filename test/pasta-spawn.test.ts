/**
 * pasta spawning a command in a new user+network namespace, compared with Debian's pasta.
 */
import test from 'ava';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_PASTA, PASTA, run, runPasta } from './helpers.js';

const DUMP = 'ip -j addr show; echo @@; ip -j route show; echo @@; ip -j -6 route show; echo @@; ip -j link show';

interface Dump {
  addrs: IfAddr[];
  routes4: Route[];
  routes6: Route[];
  links: { ifname: string; flags: string[]; mtu: number; operstate: string }[];
}
interface IfAddr {
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}
interface Route {
  dst: string;
  gateway?: string;
  dev: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
}

function parseDump(stdout: string): Dump {
  const [a, r4, r6, l] = stdout.split('@@').map((s) => JSON.parse(s.trim()) as unknown);
  return { addrs: a as IfAddr[], routes4: r4 as Route[], routes6: r6 as Route[], links: l as Dump['links'] };
}

function dumpWith(prog: string, extra: string[], args: string[] = []): Dump {
  const r = run(prog, [...extra, ...args, '--config-net', '--', 'sh', '-c', DUMP], 30_000);
  if (r.status !== 0) throw new Error(`${prog} exited ${r.status}: ${r.stderr}`);
  return parseDump(r.stdout);
}

/** What must be equal: per interface its name, flags, MTU, addresses (minus the kernel's link-local). */
function comparableAddrs(d: Dump): unknown[] {
  return d.addrs.map((i) => ({
    ifname: i.ifname,
    flags: [...i.flags].sort(),
    mtu: i.mtu,
    addrs: i.addr_info
      .filter((a) => !(a.family === 'inet6' && a.scope === 'link'))
      .map((a) => ({ family: a.family, local: a.local, prefixlen: a.prefixlen, scope: a.scope })),
  }));
}

function comparableRoutes(routes: Route[]): unknown[] {
  return routes
    .filter((r) => !(r.dst.startsWith('fe80') || r.dst.startsWith('ff00') || r.dst.startsWith('multicast')))
    .map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, protocol: r.protocol, scope: r.scope, metric: r.metric, flags: [...r.flags].sort() }))
    .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

const variants: { name: string; args: string[] }[] = [
  { name: 'defaults', args: [] },
  { name: '-I and -m', args: ['-I', 'pa0', '-m', '1500'] },
  { name: 'explicit addresses', args: ['-a', '10.0.2.15', '-n', '24', '-g', '10.0.2.2'] },
  { name: '-4', args: ['-4'] },
];

for (const v of variants) {
  for (const actors of [false, true]) {
    test(`--config-net matches Debian's pasta (${v.name}${actors ? ', --actors' : ''})`, (t) => {
      const ours = dumpWith(PASTA, actors ? ['--actors'] : [], v.args);
      const theirs = dumpWith(DEBIAN_PASTA, ['--runas', '0:0'], v.args);
      t.deepEqual(comparableAddrs(ours), comparableAddrs(theirs));
      t.deepEqual(comparableRoutes(ours.routes4), comparableRoutes(theirs.routes4));
      t.deepEqual(comparableRoutes(ours.routes6), comparableRoutes(theirs.routes6));
    });
  }
}

test('the namespace has lo up and the tap named like the host interface, up, MTU 65520, with addresses', (t) => {
  const hostDev = (JSON.parse(run('ip', ['-j', 'route', 'show', 'default']).stdout) as { dev: string }[])[0]?.dev;
  t.truthy(hostDev);
  const d = dumpWith(PASTA, []);
  const lo = d.addrs.find((i) => i.ifname === 'lo');
  t.truthy(lo?.flags.includes('UP'));
  const tap = d.addrs.find((i) => i.ifname === hostDev);
  t.truthy(tap, `interface ${hostDev} in ${JSON.stringify(d.addrs.map((i) => i.ifname))}`);
  t.is(tap?.mtu, 65520);
  t.true(tap?.flags.includes('UP'));
  t.true(tap?.addr_info.some((a) => a.family === 'inet'));
  t.true(d.routes4.some((r) => r.dst === 'default'));
});

test('the exit status of the command is pasta\'s', (t) => {
  t.is(runPasta(['--', 'sh', '-c', 'exit 7']).status, 7);
  t.is(runPasta(['--', 'true']).status, 0);
  t.is(runPasta(['--actors', '--', 'sh', '-c', 'exit 3']).status, 3);
});

test('a command killed by a signal gives 128+N', (t) => {
  t.is(runPasta(['--', 'sh', '-c', 'kill -TERM $$']).status, 143);
  t.is(runPasta(['--', 'sh', '-c', 'kill -KILL $$']).status, 137);
});

test('a command that cannot be run gives 127 and a message', (t) => {
  const r = runPasta(['--', '/nonexistent/command']);
  t.is(r.status, 127);
  t.regex(r.stderr, /nonexistent/);
});

test('the command runs in a new network namespace, not ours', (t) => {
  const ours = run('readlink', ['/proc/self/ns/net']).stdout.trim();
  const r = runPasta(['--', 'readlink', '/proc/self/ns/net']);
  t.is(r.status, 0);
  t.regex(r.stdout.trim(), /^net:\[\d+\]$/);
  t.not(r.stdout.trim(), ours);
});

test('-P writes pasta\'s own PID once the namespace is served', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-pid-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  // the command reads the PID file while pasta runs: it must already be there, and be its parent's
  const r = runPasta(['-P', pidFile, '--', 'sh', '-c', `cat ${pidFile}`]);
  t.is(r.status, 0, r.stderr);
  const pid = Number(r.stdout.trim());
  t.true(pid > 1);
  t.is(Number(readFileSync(pidFile, 'utf8').trim()), pid);
});

test('-l writes the log to a file, and -d adds the actors\' counters at exit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  const r = runPasta(['-d', '-l', logFile, '--config-net', '--', 'true']);
  t.is(r.status, 0, r.stderr);
  const log = readFileSync(logFile, 'utf8');
  t.regex(log, /counters tap: \{/);
  t.regex(log, /counters tcp: \{/);
});

test('--trace-actors logs every message of the named actors as JSON lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  const r = runPasta(['--trace-actors', 'tap', '-l', logFile, '--config-net', '--', 'sleep', '0.3']);
  t.is(r.status, 0, r.stderr);
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(lines.length > 0);
  t.true(lines.every((l) => l.actor === 'tap'), 'only the tap actor is traced');
  t.true(lines.some((l) => l.t === 'adopt' && l.dir === 'in' && l.peer === 'router'));
  t.true(lines.some((l) => l.t === 'ready' && l.dir === 'out'));
});

test('--trace-actors router traces the router\'s side: starts, links, readiness', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  const r = runPasta(['--actors', '--trace-actors', 'router', '-l', logFile, '--config-net', '--', 'sleep', '0.3']);
  t.is(r.status, 0, r.stderr);
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(lines.every((l) => l.actor === 'router'));
  for (const peer of ['tap', 'tcp', 'udp', 'icmp', 'splice']) {
    t.true(lines.some((l) => l.dir === 'out' && l.peer === peer && l.t === 'start'), `start sent to ${peer}`);
    t.true(lines.some((l) => l.dir === 'in' && l.peer === peer && l.t === 'ready'), `ready from ${peer}`);
  }
  t.true(lines.some((l) => l.dir === 'out' && l.peer === 'tap' && l.t === 'link' && l.fds === 1), 'links carry a socket fd in process mode');
});

test('pasta raises its open-files soft limit to the hard one (every flow is a socket); the command inherits it', (t) => {
  const hard = run('sh', ['-c', 'ulimit -Hn']).stdout.trim();
  const r = run('prlimit', ['--nofile=256:' + hard, PASTA, '--config-net', '--', 'sh', '-c', 'ulimit -Sn'], 30_000);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), hard);
  t.not(hard, '256', 'the test needs a hard limit above 256');
});
