/**
 * The command line, both modes: every option with its default and its effect, the one-line errors,
 * pasta's targets, getopt-style clusters and abbreviations, and the support status.
 */
import test from 'ava';
import type { Config, Mode } from './config.js';
import { isUsageError } from './errors.js';
import {
  IMPLEMENTED_OPTIONS,
  OPTIONS,
  parseCommandLine,
  unsupportedOptionsUsed,
  type HostInfo,
  type ParsedCommandLine,
  type RunRequest,
} from './options.js';
import { lookupPort } from './portspec.js';

const USERS: Record<string, { uid: number; gid: number }> = { root: { uid: 0, gid: 0 }, alice: { uid: 1000, gid: 1000 }, nobody: { uid: 65534, gid: 65534 } };
const GROUPS: Record<string, number> = { root: 0, alice: 1000, staff: 50 };

function host(uid = 0, gid = 0, shell: string | null = '/bin/zsh'): HostInfo {
  return { uid, gid, shell: shell ?? undefined, version: '9.8.7', lookupUser: (n) => USERS[n] ?? null, lookupGroup: (n) => GROUPS[n] ?? null };
}

function run(mode: Mode, argv: string[], h: HostInfo = host()): RunRequest {
  const r = parseCommandLine(mode, argv, h);
  if (r.action !== 'run') throw new Error(`expected a run request, got ${r.action}`);
  return r;
}

const cfg = (mode: Mode, argv: string[]): Config => run(mode, argv).config;

function errorOf(mode: Mode, argv: string[], h: HostInfo = host()): string {
  try {
    parseCommandLine(mode, argv, h);
  } catch (err) {
    if (isUsageError(err)) return err.message;
    throw err;
  }
  return '(no error)';
}

const MODES: Mode[] = ['pasta', 'passt'];

/* ---- defaults ---- */

test('defaults, pasta: ports auto in all four directions, no DHCP DNS, 65520 MTU', (t) => {
  const c = cfg('pasta', []);
  for (const f of [c.forward.tcpIn, c.forward.udpIn, c.forward.tcpOut, c.forward.udpOut]) t.deepEqual(f, { mode: 'auto', ranges: [] });
  t.true(c.forward.udpInFollowsTcp);
  t.true(c.forward.udpOutFollowsTcp);
  t.false(c.dns.dhcpDns);
  t.false(c.dns.dhcpSearch);
  t.is(c.mtu, 65520);
});

test('defaults, passt: ports none, DNS announced via DHCP', (t) => {
  const c = cfg('passt', []);
  for (const f of [c.forward.tcpIn, c.forward.udpIn, c.forward.tcpOut, c.forward.udpOut]) t.deepEqual(f, { mode: 'none', ranges: [] });
  t.true(c.dns.dhcpDns);
  t.true(c.dns.dhcpSearch);
});

test('defaults common to both modes', (t) => {
  for (const mode of MODES) {
    const c = cfg(mode, []);
    t.is(c.mode, mode);
    t.deepEqual(c.log, { debug: false, trace: false, quiet: false, stderr: false, file: null, fileSize: 1048576 });
    t.false(c.foreground);
    t.is(c.runas, null);
    t.is(c.fd, null);
    t.false(c.oneOff);
    t.is(c.ipOnly, null);
    t.deepEqual(c.ip4, { address: null, prefixLen: null, gateway: null, outbound: null, outboundIf: null, dns: [], dnsForward: null });
    t.deepEqual(c.ip6, { address: null, gateway: null, outbound: null, outboundIf: null, dns: [], dnsForward: null });
    t.deepEqual(c.disabled, { tcp: false, udp: false, icmp: false, dhcp: false, ndp: false, dhcpv6: false, ra: false, mapGw: false, splice: false });
    t.deepEqual(c.actors, { separateProcesses: false, trace: [], control: null, faults: {} });
    t.is(c.macAddr, null);
    t.is(c.interface, null);
  }
});

/* ---- every option, its effect ---- */

type Check = [argv: string[], pick: (c: Config) => unknown, expected: unknown];

const BOTH: Check[] = [
  [['-d'], (c) => c.log.debug, true],
  [['--debug'], (c) => c.log.debug, true],
  [['--trace'], (c) => [c.log.trace, c.log.debug], [true, true]],
  [['-q'], (c) => c.log.quiet, true],
  [['-f'], (c) => c.foreground, true],
  [['-e'], (c) => c.log.stderr, true],
  [['-l', '/tmp/x.log'], (c) => c.log.file, '/tmp/x.log'],
  [['--log-size', '65536'], (c) => c.log.fileSize, 65536],
  [['--log-size', '0x100000'], (c) => c.log.fileSize, 1048576],
  [['--runas', '0:0'], (c) => c.runas, { uid: 0, gid: 0 }],
  [['-F', '5'], (c) => [c.fd, c.oneOff], [5, true]],
  [['-p', '/tmp/f.pcap'], (c) => c.pcapFile, '/tmp/f.pcap'],
  [['-P', '/run/x.pid'], (c) => c.pidFile, '/run/x.pid'],
  [['-m', '1500'], (c) => c.mtu, 1500],
  [['-m', '0'], (c) => c.mtu, 0],
  [['-m', '68'], (c) => c.mtu, 68],
  [['-m', '65535'], (c) => c.mtu, 65535],
  [['-a', '10.0.0.2'], (c) => [c.ip4.address, c.ip6.address], ['10.0.0.2', null]],
  [['-a', '2001:db8::2'], (c) => [c.ip4.address, c.ip6.address], [null, '2001:db8::2']],
  [['-a', '10.0.0.2', '--address', '2001:db8::2'], (c) => [c.ip4.address, c.ip6.address], ['10.0.0.2', '2001:db8::2']],
  [['-n', '24'], (c) => c.ip4.prefixLen, 24],
  [['-n', '255.255.0.0'], (c) => c.ip4.prefixLen, 16],
  [['-n', '0'], (c) => c.ip4.prefixLen, null],
  [['-M', 'AA:bb:cc:dd:ee:0F'], (c) => c.macAddr, 'aa:bb:cc:dd:ee:0f'],
  [['-g', '10.0.0.1', '-g', 'fe80::1'], (c) => [c.ip4.gateway, c.ip6.gateway], ['10.0.0.1', 'fe80::1']],
  [['-i', 'eth0'], (c) => c.interface, 'eth0'],
  [['-o', '192.0.2.5', '-o', '2001:db8::5'], (c) => [c.ip4.outbound, c.ip6.outbound], ['192.0.2.5', '2001:db8::5']],
  [['--outbound-if4', 'eth0', '--outbound-if6', 'eth1'], (c) => [c.ip4.outboundIf, c.ip6.outboundIf], ['eth0', 'eth1']],
  [['-D', '1.1.1.1', '-D', '2001:4860::8888', '-D', '9.9.9.9'], (c) => [c.ip4.dns, c.ip6.dns], [['1.1.1.1', '9.9.9.9'], ['2001:4860::8888']]],
  [['-D', 'none'], (c) => c.dns.disabled, true],
  [['-D', ''], (c) => c.dns.disabled, true],
  [['-S', 'a.example b.example', '-S', 'c.example'], (c) => c.dns.search, ['a.example', 'b.example', 'c.example']],
  [['-S', 'none'], (c) => c.dns.searchDisabled, true],
  [['-S', ''], (c) => c.dns.searchDisabled, true],
  [['--dns-forward', '10.0.0.53', '--dns-forward', 'fd00::53'], (c) => [c.ip4.dnsForward, c.ip6.dnsForward], ['10.0.0.53', 'fd00::53']],
  [['--no-tcp'], (c) => c.disabled.tcp, true],
  [['--no-udp'], (c) => c.disabled.udp, true],
  [['--no-icmp'], (c) => c.disabled.icmp, true],
  [['--no-dhcp'], (c) => c.disabled.dhcp, true],
  [['--no-ndp'], (c) => c.disabled.ndp, true],
  [['--no-dhcpv6'], (c) => c.disabled.dhcpv6, true],
  [['--no-ra'], (c) => c.disabled.ra, true],
  [['--no-map-gw'], (c) => c.disabled.mapGw, true],
  [['-4'], (c) => c.ipOnly, 'ipv4'],
  [['-6', '--ipv6-only'], (c) => c.ipOnly, 'ipv6'],
  [['-t', '22'], (c) => [c.forward.tcpIn.mode, c.forward.udpInFollowsTcp], ['spec', true]],
  [['-u', '53'], (c) => [c.forward.udpIn.mode, c.forward.udpInFollowsTcp, lookupPort(c.forward.udpIn, 53)?.target], ['spec', false, 53]],
  [['--actors'], (c) => c.actors.separateProcesses, true],
  [['--trace-actors', 'tap,tcp', '--trace-actors', 'tcp,router'], (c) => c.actors.trace, ['tap', 'tcp', 'router']],
  [['--control', '/run/pa.ctl'], (c) => c.actors.control, '/run/pa.ctl'],
  [['--fault', 'tcp:drop=0.5,seed=3', '--fault', 'udp:dup=0.1', '--fault', 'tcp:corrupt=0.25'], (c) => [c.actors.faults.tcp?.drop, c.actors.faults.tcp?.corrupt, c.actors.faults.udp?.dup],
    [0, 0.25, 0.1]],
];

const PASTA_ONLY: Check[] = [
  [['-I', 'tap0'], (c) => c.ns.ifname, 'tap0'],
  [['--ns-ifname', 'tap0'], (c) => c.ns.ifname, 'tap0'],
  [['--netns-only', '--netns', '/proc/1/ns/net'], (c) => c.ns.netnsOnly, true],
  [['--no-netns-quit'], (c) => c.ns.noNetnsQuit, true],
  [['--no-splice'], (c) => c.disabled.splice, true],
  [['--userns', '/proc/1/ns/user', '--netns', 'x'], (c) => c.ns.netnsOnly, false],
  [['--config-net'], (c) => [c.ns.configNet, c.disabled.ra], [true, true]],
  [['--ns-mac-addr', '02:00:00:00:00:01'], (c) => c.ns.macAddr, '02:00:00:00:00:01'],
  [['--dhcp-dns'], (c) => c.dns.dhcpDns, true],
  [['--dhcp-search'], (c) => c.dns.dhcpSearch, true],
  [['-T', '8080'], (c) => [c.forward.tcpOut.mode, lookupPort(c.forward.tcpOut, 8080)?.target], ['spec', 8080]],
  [['-U', 'none'], (c) => [c.forward.udpOut.mode, c.forward.udpOutFollowsTcp], ['none', false]],
  [['-t', 'none', '-u', 'auto'], (c) => [c.forward.tcpIn.mode, c.forward.udpIn.mode], ['none', 'auto']],
];

const PASST_ONLY: Check[] = [
  [['-s', '/tmp/passt.sock'], (c) => c.socketPath, '/tmp/passt.sock'],
  [['--socket', '/tmp/passt.sock'], (c) => c.socketPath, '/tmp/passt.sock'],
  [['-1'], (c) => c.oneOff, true],
  [['--no-dhcp-dns'], (c) => c.dns.dhcpDns, false],
  [['--no-dhcp-search'], (c) => c.dns.dhcpSearch, false],
  [['-t', 'all'], (c) => c.forward.tcpIn.mode, 'all'],
];

function checkAll(mode: Mode, checks: Check[]): void {
  for (const [argv, pick, expected] of checks) {
    test(`${mode} ${argv.join(' ')}`, (t) => {
      t.deepEqual(pick(cfg(mode, argv)), expected);
    });
  }
}
for (const mode of MODES) checkAll(mode, BOTH);
checkAll('pasta', PASTA_ONLY);
checkAll('passt', PASST_ONLY);

test('the checks above cover every option of the table', (t) => {
  const argvs = [...BOTH, ...PASTA_ONLY, ...PASST_ONLY].flatMap(([argv]) => argv);
  const covered = new Set(OPTIONS.filter((o) => argvs.includes(`--${o.long}`) || (o.short !== undefined && argvs.includes(`-${o.short}`))).map((o) => o.long));
  const missing = OPTIONS.map((o) => o.long).filter((l) => !covered.has(l) && l !== 'help' && l !== 'version');
  t.deepEqual(missing, []);
});

/* ---- one-line errors ---- */

const ERRORS: [Mode | 'both', string[], string][] = [
  ['both', ['--foo'], "unrecognized option '--foo'"],
  ['both', ['-x'], "unrecognized option '-x'"],
  ['both', ['-t'], "option '--tcp-ports' requires an argument"],
  ['both', ['--debug=yes'], "option '--debug' doesn't allow an argument"],
  ['both', ['-t', '70000'], "invalid port specification '70000' for -t"],
  ['both', ['-u', '10-5'], "invalid port specification '10-5' for -u"],
  ['both', ['-d', '-d'], 'multiple --debug options given'],
  ['both', ['-d', '-q'], '--quiet conflicts with --debug and --trace'],
  ['both', ['-q', '--trace'], '--trace conflicts with --quiet'],
  ['both', ['-f', '--foreground'], 'multiple --foreground options given'],
  ['both', ['-e', '-l', '/tmp/l'], "can't log to both stderr and a file (-l)"],
  ['both', ['-l', '/tmp/l', '-e'], "can't log to both stderr and a file (-e)"],
  ['both', ['-l', ''], "invalid path '' for -l"],
  ['both', ['--log-size', '40959'], "invalid log size '40959' for --log-size"],
  ['both', ['--log-size', '1k'], "invalid log size '1k' for --log-size"],
  ['both', ['-m', '67'], "invalid MTU '67' for -m"],
  ['both', ['-m', '65536'], "invalid MTU '65536' for -m"],
  ['both', ['-m', 'big'], "invalid MTU 'big' for -m"],
  ['both', ['-m', '1500', '-m', '1400'], 'multiple --mtu options given'],
  ['both', ['-a', '127.0.0.2'], "invalid address '127.0.0.2' for -a"],
  ['both', ['-a', '224.0.0.1'], "invalid address '224.0.0.1' for -a"],
  ['both', ['-a', '0.0.0.0'], "invalid address '0.0.0.0' for -a"],
  ['both', ['-a', '::ffff:1.2.3.4'], "invalid address '::ffff:1.2.3.4' for -a"],
  ['both', ['-a', 'ff02::1'], "invalid address 'ff02::1' for -a"],
  ['both', ['-a', 'host'], "invalid address 'host' for -a"],
  ['both', ['-a', '10.0.0.1', '-a', '10.0.0.2'], "more than one IPv4 address for -a: '10.0.0.2'"],
  ['both', ['-a', '2001:db8::2', '-a', '2001:db8::3'], "more than one IPv6 address for -a: '2001:db8::3'"],
  ['both', ['-a', '::2'], "invalid address '::2' for -a"],
  ['both', ['-n', '33'], "invalid netmask '33' for -n"],
  ['both', ['-n', '255.0.255.0'], "invalid netmask '255.0.255.0' for -n"],
  ['both', ['-M', '00:11:22:33:44'], "invalid MAC address '00:11:22:33:44' for -M"],
  ['both', ['-g', '127.0.0.1'], "invalid gateway address '127.0.0.1' for -g"],
  ['both', ['-g', '::1'], "invalid gateway address '::1' for -g"],
  ['both', ['-i', 'a/b'], "invalid interface name 'a/b' for -i"],
  ['both', ['-i', 'eth0', '-i', 'eth1'], 'multiple --interface options given'],
  ['both', ['-i', 'abcdefghijklmnop'], "invalid interface name 'abcdefghijklmnop' for -i"],
  ['both', ['-o', '224.1.1.1'], "invalid outbound address '224.1.1.1' for -o"],
  ['both', ['-D', 'dns.example'], "invalid DNS address 'dns.example' for -D"],
  ['both', ['-D', 'none', '-D', 'none'], 'redundant -D none'],
  ['both', ['-D', '1.1.1.1', '-D', 'none'], '-D none conflicts with the DNS addresses given before it'],
  ['both', ['-D', 'none', '-D', '1.1.1.1'], "DNS address '1.1.1.1' for -D conflicts with -D none"],
  ['both', ['-D', '1.0.0.1', '-D', '1.0.0.2', '-D', '1.0.0.3', '-D', '1.0.0.4', '-D', '1.0.0.5'], "too many DNS addresses for -D: '1.0.0.5'"],
  ['both', ['-S', 'a b c d e f g'], "too many search domains for -S: 'g'"],
  ['both', ['-S', 'a..b'], "invalid search domain 'a..b' for -S"],
  ['both', ['-S', 'none', '-S', 'a'], "search domains 'a' for -S conflict with -S none"],
  ['both', ['--dns-forward', '127.0.0.1'], "invalid DNS forwarding address '127.0.0.1' for --dns-forward"],
  ['both', ['-4', '-6'], '--ipv4-only and --ipv6-only are mutually exclusive'],
  ['both', ['-46'], '--ipv4-only and --ipv6-only are mutually exclusive'],
  ['both', ['-F', '-1'], "invalid file descriptor '-1' for -F"],
  ['both', ['--trace-actors', 'tap,disk'], "unknown actor 'disk' for --trace-actors (known: tap, tcp, udp, icmp, splice, router)"],
  ['both', ['--runas', 'ghost'], "invalid user 'ghost' for --runas"],
  ['both', ['--runas', '0', '--runas', '0'], 'multiple --runas options given'],
  ['both', ['--net'], "option '--net' is ambiguous; possibilities: --netmask --netns --netns-only"],
  ['pasta', ['-t', 'all'], "'all' port forwarding is only available in passt mode (-t all)"],
  ['passt', ['-t', 'auto'], "'auto' port forwarding is only available in pasta mode (-t auto)"],
  ['pasta', ['-T', '127.0.0.1/22'], "invalid port specification '127.0.0.1/22' for -T"],
  ['pasta', ['-t', '22', '-t', 'none'], "port forwarding mode 'none' conflicts with an earlier -t"],
  ['pasta', ['-I', 'x', '-I', 'y'], 'multiple --ns-ifname options given'],
  ['pasta', ['--ns-mac-addr', 'zz:00:00:00:00:00'], "invalid MAC address 'zz:00:00:00:00:00' for --ns-mac-addr"],
  ['pasta', ['--netns', ''], "invalid path '' for --netns"],
  ['pasta', ['--netns', 'foo', '1234'], "--netns can't be combined with a PID or command ('1234')"],
  ['pasta', ['--netns', 'foo', '--', 'sh'], "--netns can't be combined with a PID or command ('sh')"],
  ['pasta', ['--userns', '/proc/1/ns/user', '--netns-only', '--netns', 'x'], '--userns and --netns-only are mutually exclusive'],
  ['pasta', ['--userns', '/proc/1/ns/user'], '--userns needs a PID or --netns'],
  ['pasta', ['0'], "invalid PID '0'"],
  ['pasta', ['-5'], "unrecognized option '-5'"],
  ['pasta', ['2147483648'], "invalid PID '2147483648'"],
  ['pasta', ['sh', '-c', 'true'], "unrecognized option '-c'"],
  ['pasta', ['-s', '/tmp/s'], "unrecognized option '-s'"],
  ['pasta', ['-1'], "unrecognized option '-1'"],
  ['pasta', ['--socket', '/tmp/s'], '--socket is for passt mode only'],
  ['pasta', ['--one-off'], '--one-off is for passt mode only'],
  ['pasta', ['--no-dhcp-dns'], '--no-dhcp-dns is for passt mode only'],
  ['pasta', ['--no-dhcp-search'], '--no-dhcp-search is for passt mode only'],
  ['passt', ['-I', 'x'], "unrecognized option '-I'"],
  ['passt', ['-T', '22'], "unrecognized option '-T'"],
  ['passt', ['-U', '22'], "unrecognized option '-U'"],
  ['passt', ['--tcp-ns', '22'], '--tcp-ns is for pasta mode only'],
  ['passt', ['--udp-ns', '22'], '--udp-ns is for pasta mode only'],
  ['passt', ['--ns-ifname', 'x'], '--ns-ifname is for pasta mode only'],
  ['passt', ['--netns', 'x'], '--netns is for pasta mode only'],
  ['passt', ['--userns', 'x'], '--userns is for pasta mode only'],
  ['passt', ['--netns-only'], '--netns-only is for pasta mode only'],
  ['passt', ['--no-splice'], '--no-splice is for pasta mode only'],
  ['passt', ['--no-netns-quit'], '--no-netns-quit is for pasta mode only'],
  ['passt', ['--config-net'], '--config-net is for pasta mode only'],
  ['passt', ['--ns-mac-addr', '02:00:00:00:00:01'], '--ns-mac-addr is for pasta mode only'],
  ['passt', ['--dhcp-dns'], '--dhcp-dns is for pasta mode only'],
  ['passt', ['--dhcp-search'], '--dhcp-search is for pasta mode only'],
  ['passt', ['-1', '--one-off'], 'multiple --one-off options given'],
  ['passt', ['-s', '/tmp/s', '-F', '3'], '--socket and --fd are mutually exclusive'],
  ['passt', ['-s', 'x'.repeat(108)], `invalid path '${'x'.repeat(108)}' for -s`],
  ['passt', ['extra'], "unexpected argument 'extra'"],
  ['passt', ['1234'], "unexpected argument '1234'"],
];

for (const [which, argv, message] of ERRORS) {
  for (const mode of which === 'both' ? MODES : [which]) {
    test(`error: ${mode} ${argv.join(' ')}`, (t) => {
      const got = errorOf(mode, argv);
      t.is(got, message);
      t.false(got.includes('\n'));
    });
  }
}

test('errors are UsageError with the stable code ERR_USAGE', (t) => {
  const err = t.throws(() => parseCommandLine('pasta', ['--foo'], host()));
  t.is((err as { code?: string }).code, 'ERR_USAGE');
  t.is(err?.name, 'UsageError');
});

/* ---- pasta targets ---- */

test('pasta 1234: the process\'s namespaces', (t) => {
  t.deepEqual(run('pasta', ['1234']).target, { kind: 'pid', pid: 1234 });
  t.deepEqual(run('pasta', ['-t', '22', '1234', '-d']).target, { kind: 'pid', pid: 1234 });
  t.deepEqual(run('pasta', ['--userns', '/proc/9/ns/user', '1234']).target, { kind: 'pid', pid: 1234, userns: '/proc/9/ns/user' });
});

test('pasta -- sh -c x: spawn the command, its options untouched', (t) => {
  t.deepEqual(run('pasta', ['--', 'sh', '-c', 'x']).target, { kind: 'spawn', argv: ['sh', '-c', 'x'] });
  t.deepEqual(run('pasta', ['-d', '--', '-d', '1234']).target, { kind: 'spawn', argv: ['-d', '1234'] });
  t.deepEqual(run('pasta', ['ip', 'link']).target, { kind: 'spawn', argv: ['ip', 'link'] });
  t.deepEqual(run('pasta', ['1234', '5678']).target, { kind: 'spawn', argv: ['1234', '5678'] });
});

test('pasta -- 1234 is still a PID, as with getopt', (t) => {
  t.deepEqual(run('pasta', ['--', '1234']).target, { kind: 'pid', pid: 1234 });
});

test('pasta with no command: the user\'s shell, else /bin/sh', (t) => {
  t.deepEqual(run('pasta', [], host(0, 0, '/bin/zsh')).target, { kind: 'spawn', argv: ['/bin/zsh'] });
  t.deepEqual(run('pasta', [], host(0, 0, null)).target, { kind: 'spawn', argv: ['/bin/sh'] });
  t.deepEqual(run('pasta', [], host(0, 0, '')).target, { kind: 'spawn', argv: ['/bin/sh'] });
});

test('pasta --netns foo: /run/netns/foo, network namespace only', (t) => {
  const r = run('pasta', ['--netns', 'foo']);
  t.deepEqual(r.target, { kind: 'netns', path: '/run/netns/foo' });
  t.true(r.config.ns.netnsOnly);
});

test('pasta --netns PATH and --userns', (t) => {
  t.deepEqual(run('pasta', ['--netns', '/proc/7/ns/net']).target, { kind: 'netns', path: '/proc/7/ns/net' });
  t.deepEqual(run('pasta', ['--netns=./ns']).target, { kind: 'netns', path: './ns' });
  const r = run('pasta', ['--userns', '/proc/7/ns/user', '--netns', 'foo']);
  t.deepEqual(r.target, { kind: 'netns', path: '/run/netns/foo', userns: '/proc/7/ns/user' });
  t.false(r.config.ns.netnsOnly);
});

test('passt has no target', (t) => {
  t.is(run('passt', []).target, null);
});

/* ---- getopt ways ---- */

test('short clusters as getopt takes them: -fe, -dt22, -4t 80, -u53', (t) => {
  const c = cfg('passt', ['-fe', '-dt22', '-4t', '80', '-u53']);
  t.true(c.foreground);
  t.true(c.log.debug);
  t.true(c.log.stderr);
  t.is(c.ipOnly, 'ipv4');
  t.not(lookupPort(c.forward.tcpIn, 22), null);
  t.not(lookupPort(c.forward.tcpIn, 80), null);
  t.not(lookupPort(c.forward.udpIn, 53), null);
});

test('a value that looks like an option is still the value', (t) => {
  t.is(cfg('passt', ['-l', '-d']).log.file, '-d');
  t.is(cfg('passt', ['--log-file', '--debug']).log.file, '--debug');
  t.false(cfg('passt', ['-l', '-d']).log.debug);
});

test('long options by unambiguous prefix, with = or a separate value', (t) => {
  const c = cfg('pasta', ['--tcp-p', '22', '--udp-p=53', '--fore', '--no-t', '--mac=02:00:00:00:00:02']);
  t.not(lookupPort(c.forward.tcpIn, 22), null);
  t.not(lookupPort(c.forward.udpIn, 53), null);
  t.true(c.foreground);
  t.true(c.disabled.tcp);
  t.is(c.macAddr, '02:00:00:00:00:02');
  t.true(cfg('pasta', ['--no-dhcp']).disabled.dhcp);
});

test('repeated options: -t adds up, -D and -S accumulate, -4 may repeat', (t) => {
  const c = cfg('pasta', ['-t', '22', '-t', '80:8080', '-t', '127.0.0.1/443', '-4', '-4']);
  t.deepEqual([22, 80, 443].map((p) => lookupPort(c.forward.tcpIn, p)?.target), [22, 8080, 443]);
  t.is(lookupPort(c.forward.tcpIn, 443)?.addr, '127.0.0.1');
});

test('options and operands may be mixed (getopt permutes)', (t) => {
  const r = run('pasta', ['ip', '-4', 'link']);
  t.is(r.config.ipOnly, 'ipv4');
  t.deepEqual(r.target, { kind: 'spawn', argv: ['ip', 'link'] });
});

/* ---- help and version ---- */

test('-h and --help return the help text of the mode, listing every option of it', (t) => {
  for (const mode of MODES) {
    const r = parseCommandLine(mode, ['-h'], host());
    t.is(r.action, 'help');
    const text = (r as { text: string }).text;
    for (const o of OPTIONS) {
      const listed = new RegExp(`^ +(-., )? *--${o.long}(?= |$)`, 'm').test(text);
      t.is(listed, o.only === undefined || o.only === mode, `${mode} --${o.long}`);
    }
    t.is((parseCommandLine(mode, ['--help'], host()) as { text: string }).text, text);
  }
});

test('--version returns the version text', (t) => {
  const r = parseCommandLine('passt', ['--version'], host());
  t.deepEqual(r.action, 'version');
  t.regex((r as { text: string }).text, /^passt \(passt-actors\) 9\.8\.7\n/);
});

test('options apply in order: an error before --help wins, --help before an error wins', (t) => {
  t.is(errorOf('pasta', ['-a', 'bad', '--help']), "invalid address 'bad' for -a");
  t.is(parseCommandLine('pasta', ['--help', '-a', 'bad'], host()).action, 'help');
  t.is(parseCommandLine('pasta', ['--version', '--bogus'], host()).action, 'version');
  t.is(errorOf('pasta', ['--bogus', '--version']), "unrecognized option '--bogus'");
});

/* ---- --runas ---- */

test('--runas: the current ids or root are accepted, resolved to numbers', (t) => {
  const alice = host(1000, 1000);
  t.deepEqual(run('pasta', ['--runas', '1000'], alice).config.runas, { uid: 1000, gid: 1000 });
  t.deepEqual(run('pasta', ['--runas', 'alice:alice'], alice).config.runas, { uid: 1000, gid: 1000 });
  t.deepEqual(run('pasta', ['--runas', '0:0'], alice).config.runas, { uid: 0, gid: 0 });
  t.deepEqual(run('pasta', ['--runas', 'root'], host()).config.runas, { uid: 0, gid: 0 });
});

test('--runas: any other user or group is refused: dropping privileges is not supported yet', (t) => {
  t.is(errorOf('pasta', ['--runas', 'nobody'], host()), '--runas nobody: dropping privileges is not supported yet');
  t.is(errorOf('pasta', ['--runas', '65534:65534'], host()), '--runas 65534:65534: dropping privileges is not supported yet');
  t.is(errorOf('pasta', ['--runas', 'alice:staff'], host(1000, 1000)), '--runas alice:staff: dropping privileges is not supported yet');
  t.is(errorOf('pasta', ['--runas', '0:nogroup'], host()), "invalid user '0:nogroup' for --runas");
});

/* ---- support status ---- */

const parsed = (mode: Mode, argv: string[]): ParsedCommandLine => parseCommandLine(mode, argv, host());

test('unsupportedOptionsUsed: explicit options outside the implemented set, by long name', (t) => {
  // every option is built today: a set without some of them stands for a future unbuilt one
  const without = (...names: string[]) => new Set([...IMPLEMENTED_OPTIONS].filter((n) => !names.includes(n)));
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['-d', '-U', '22', '--control', '/tmp/c', '--netns', 'x']), without('control')), ['control']);
  t.deepEqual(unsupportedOptionsUsed(parsed('passt', ['-s', '/tmp/s', '--one-off', '-m', '1500', '--control', '/tmp/c']), without('control', 'mtu')), ['mtu', 'control']);
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['--no-t', '-U53', '--control', '/tmp/c']), without('udp-ns')), ['udp-ns']);
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['--no-t', '-U53', '--control', '/tmp/c'])), [], 'all built');
});

test('unsupportedOptionsUsed: defaults never count, implemented options never count', (t) => {
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', [])), []);
  t.deepEqual(unsupportedOptionsUsed(parsed('passt', [])), []);
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['-d', '--trace', '-f', '-l', '/tmp/l', '--log-size', '50000', '-P', 'p', '-I', 'x', '-m', '1500', '-a', '10.0.0.2', '-n', '24', '-g', '10.0.0.1', '-i', 'eth0', '-4', '--config-net', '--netns', 'x', '--no-netns-quit', '--ns-mac-addr', '02:00:00:00:00:01', '-M', '02:00:00:00:00:02', '--actors', '--trace-actors', 'tap', '--runas', '0'])), []);
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['-q', '-e', '-6', '--userns', 'u', '--netns', 'x'])), []);
  t.deepEqual(unsupportedOptionsUsed(parsed('pasta', ['--help'])), []);
});

test('IMPLEMENTED_OPTIONS names only options of the table', (t) => {
  const known = new Set(OPTIONS.map((o) => o.long));
  t.deepEqual([...IMPLEMENTED_OPTIONS].filter((n) => !known.has(n)), []);
  t.true(IMPLEMENTED_OPTIONS.has('netns-only'));
  t.true(IMPLEMENTED_OPTIONS.has('control'));
});

test('the result is plain data (structured-clone and JSON safe)', (t) => {
  const r = run('pasta', ['-t', '22', '-a', '10.0.0.2', '--trace-actors', 'tcp']);
  t.deepEqual(structuredClone(r), r);
  t.deepEqual(JSON.parse(JSON.stringify(r)), r);
});
