/**
 * Our option table against the options Debian's pasta and passt list in their --help: every long
 * option they list must be known to our parser in that mode, with the same short letter and the same
 * arity. A missing or mismatched option fails here. The binaries must be installed (`apt-get install
 * passt`): without them the test fails rather than passing silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';
import type { Mode } from './config.js';
import { isUsageError } from './errors.js';
import { OPTIONS, optionTakesArgument, parseCommandLine, shortOptionFor, type HostInfo } from './options.js';

const HOST: HostInfo = { uid: 0, gid: 0, shell: '/bin/sh', version: 'test', lookupUser: () => null, lookupGroup: () => null };

interface ListedOption {
  long: string;
  short: string | undefined;
  takesArg: boolean;
}

/** Debian's --help text (printed on stderr, exit status 1), without the syslog noise. */
function debianHelp(mode: Mode): string {
  const bin = `/usr/bin/${mode}`;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y passt`);
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => !/syslog/.test(l))
    .join('\n');
}

/** The option definition lines: "  -t, --tcp-ports SPEC\t...", "      --trace\t\t...", "  --log-size BYTES\t..." */
function listedOptions(help: string): ListedOption[] {
  const out: ListedOption[] = [];
  for (const line of help.split('\n')) {
    const m = /^\s+(?:-(\w), )?--([a-z0-9-]+)( [^\t ]+)?\s*(?:\t|$)/.exec(line);
    if (m) out.push({ long: m[2]!, short: m[1], takesArg: m[3] !== undefined });
  }
  return out;
}

/** Every --name anywhere in the text, descriptions included. */
const mentionedOptions = (help: string): string[] => [...new Set([...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!))];

/** Parse just this option; return the error message, or '' if it parsed. */
function tryOption(mode: Mode, o: ListedOption): string {
  try {
    parseCommandLine(mode, o.takesArg ? [`--${o.long}`, 'x'] : [`--${o.long}`], HOST);
    return '';
  } catch (err) {
    if (isUsageError(err)) return err.message;
    throw err;
  }
}

for (const mode of ['pasta', 'passt'] as const) {
  test(`${mode}: the help text parsed here lists a sane number of options`, (t) => {
    t.true(listedOptions(debianHelp(mode)).length >= 40);
  });

  test(`${mode}: every option Debian lists is known, same short letter, same arity`, (t) => {
    for (const o of listedOptions(debianHelp(mode))) {
      t.is(optionTakesArgument(o.long), o.takesArg, `--${o.long}: argument`);
      t.is(shortOptionFor(o.long, mode), o.short, `--${o.long}: short letter`);
    }
  });

  test(`${mode}: every option Debian lists parses in this mode (never unknown, never "for the other mode")`, (t) => {
    for (const o of listedOptions(debianHelp(mode))) {
      const message = tryOption(mode, o);
      t.notRegex(message, /unrecognized|ambiguous|mode only|doesn't allow|requires an argument/, `--${o.long}: ${message}`);
    }
  });

  test(`${mode}: every --option mentioned anywhere in Debian's help is known`, (t) => {
    const known = new Set(OPTIONS.map((o) => o.long));
    t.deepEqual(mentionedOptions(debianHelp(mode)).filter((name) => !known.has(name)), []);
  });

  test(`${mode}: our short letters are exactly Debian's`, (t) => {
    const debian = listedOptions(debianHelp(mode)).flatMap((o) => (o.short ? [o.short] : [])).sort();
    const ours = OPTIONS.flatMap((o) => shortOptionFor(o.long, mode) ?? []).sort();
    t.deepEqual(ours, debian);
  });
}

/*
 * Differential: Debian's binary and our parser must agree on accepting or refusing option values.
 * Debian applies its first getopt pass (every option but the port SPECs) in order and stops at
 * --version, so `ARGS --version` exits 0 if ARGS were accepted, 1 if not. Only cases where we mean to
 * behave the same are listed: on purpose we are stricter with garbage numbers (`-m big`, `-n abc`,
 * which strtol reads as 0), refuse mode-only options in the other mode where Debian ignores them
 * (`pasta --socket`), and take an empty `-D`/`-S` as "none", as Debian's --help says.
 */
const AGREE: [Mode | 'both', string[]][] = [
  ['both', ['-a', '10.0.0.2']], ['both', ['-a', 'fe80::1']], ['both', ['-a', '10.0.0.2', '-a', '2001:db8::1']],
  ['both', ['-a', '127.0.0.2']], ['both', ['-a', '0.0.0.0']], ['both', ['-a', '224.0.0.1']], ['both', ['-a', '::ffff:1.2.3.4']],
  ['both', ['-a', '::1']], ['both', ['-a', '::2']], ['both', ['-a', 'ff02::1']], ['both', ['-a', '10.0.0.1', '-a', '10.0.0.2']],
  ['both', ['-n', '24']], ['both', ['-n', '255.255.255.0']], ['both', ['-n', '0x10']], ['both', ['-n', '0']], ['both', ['-n', '33']],
  ['both', ['-n', '255.0.255.0']], ['both', ['-m', '1500']], ['both', ['-m', '0']], ['both', ['-m', '0x5dc']], ['both', ['-m', '67']],
  ['both', ['-m', '68']], ['both', ['-m', '65535']], ['both', ['-m', '65536']], ['both', ['-m', '1500', '-m', '1500']],
  ['both', ['--log-size', '40960']], ['both', ['--log-size', '40959']], ['both', ['--log-size', '0x100000']], ['both', ['--log-size', '1k']],
  ['both', ['-D', 'none']], ['both', ['-D', '1.1.1.1', '-D', '2001:db8::53']], ['both', ['-D', 'none', '-D', 'none']],
  ['both', ['-D', '1.1.1.1', '-D', 'none']], ['both', ['-D', 'none', '-D', '1.1.1.1']], ['both', ['-D', 'x.example']],
  ['both', ['-D', '1.0.0.1', '-D', '1.0.0.2', '-D', '1.0.0.3', '-D', '1.0.0.4']],
  ['both', ['-D', '1.0.0.1', '-D', '1.0.0.2', '-D', '1.0.0.3', '-D', '1.0.0.4', '-D', '1.0.0.5']],
  ['both', ['-S', 'example.com']], ['both', ['-S', 'none']], ['both', ['-S', 'none', '-S', 'none']], ['both', ['-S', 'a', '-S', 'none']],
  ['both', ['-S', 'a', '-S', 'b', '-S', 'c', '-S', 'd', '-S', 'e', '-S', 'f']],
  ['both', ['-S', 'a', '-S', 'b', '-S', 'c', '-S', 'd', '-S', 'e', '-S', 'f', '-S', 'g']],
  ['both', ['-M', '00:11:22:33:44:55']], ['both', ['-g', '10.0.0.1']], ['both', ['-g', '224.0.0.1']], ['both', ['-g', '127.0.0.1']],
  ['both', ['-g', '::1']], ['both', ['-g', 'fe80::1']], ['both', ['-g', '10.0.0.1', '-g', '10.0.0.2']], ['both', ['-o', '127.0.0.1']],
  ['both', ['-o', '224.0.0.1']], ['both', ['-o', '2001:db8::1', '-o', '2001:db8::2']], ['both', ['-i', 'lo']], ['both', ['-i', 'lo', '-i', 'lo']],
  ['both', ['--outbound-if4', 'lo']], ['both', ['--outbound-if6', 'lo', '--outbound-if6', 'lo']], ['both', ['--dns-forward', '10.0.0.53']],
  ['both', ['--dns-forward', '127.0.0.1']], ['both', ['--dns-forward', '::1']], ['both', ['-F', '3']], ['both', ['-F', '-1']],
  ['both', ['-F', '3', '-F', '4']], ['both', ['-p', '/tmp/x.pcap']], ['both', ['-p', 'a', '-p', 'b']], ['both', ['-P', '/tmp/x.pid']],
  ['both', ['-P', 'a', '-P', 'b']], ['both', ['-l', '/tmp/x.log']], ['both', ['-l', 'a', '-l', 'b']], ['both', ['-e']], ['both', ['-e', '-e']],
  ['both', ['-e', '-l', '/tmp/x']], ['both', ['-l', '/tmp/x', '-e']], ['both', ['-d']], ['both', ['--trace']], ['both', ['-d', '--trace']],
  ['both', ['-d', '-d']], ['both', ['--trace', '--trace']], ['both', ['-d', '-q']], ['both', ['-q', '-d']], ['both', ['-q', '--trace']],
  ['both', ['-q']], ['both', ['-q', '-q']], ['both', ['-f']], ['both', ['-f', '-f']], ['both', ['-fe']], ['both', ['-4', '-4']],
  ['both', ['--no-tcp', '--no-udp', '--no-icmp', '--no-dhcp', '--no-ndp', '--no-dhcpv6', '--no-ra', '--no-map-gw']],
  ['both', ['--runas', '0:0']], ['both', ['--runas', '0', '--runas', '0']], ['both', ['--fore']], ['both', ['--no-d']],
  ['both', ['--foo']], ['both', ['-x']], ['both', ['--debug=1']], ['both', ['--mtu=1500']], ['both', ['-m1500']], ['both', ['-dm', '1500']],
  ['passt', ['-s', '/tmp/s']], ['passt', ['-s', '/tmp/s', '-s', '/tmp/t']], ['passt', ['-1']], ['passt', ['-1', '-1']],
  ['passt', ['--no-dhcp-dns', '--no-dhcp-search']], ['passt', ['--dhcp-dns']], ['passt', ['--dhcp-search']], ['passt', ['--netns', 'x']],
  ['passt', ['--userns', 'x']], ['passt', ['--ns-mac-addr', '02:00:00:00:00:01']], ['passt', ['--no-netns-quit']], ['passt', ['-I', 'x']],
  ['passt', ['-T', '22']],
  ['pasta', ['-I', 'tap0']], ['pasta', ['-I', 'a', '-I', 'b']], ['pasta', ['--netns', 'foo']], ['pasta', ['--userns', '/proc/1/ns/user']],
  ['pasta', ['--ns-mac-addr', '02:00:00:00:00:01']], ['pasta', ['--dhcp-dns', '--dhcp-search']], ['pasta', ['--no-dhcp-dns']],
  ['pasta', ['--no-dhcp-search']], ['pasta', ['--one-off']], ['pasta', ['-1']], ['pasta', ['-s', 'x']], ['pasta', ['--no-netns-quit']],
  ['pasta', ['--netns-only', '--config-net']],
];

function debianAccepts(mode: Mode, argv: string[]): boolean {
  const r = spawnSync(`/usr/bin/${mode}`, [...argv, '--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

function weAccept(mode: Mode, argv: string[]): boolean {
  try {
    return parseCommandLine(mode, [...argv, '--version'], HOST).action === 'version';
  } catch (err) {
    if (isUsageError(err)) return false;
    throw err;
  }
}

test('differential: accept and refuse the same option values as Debian', (t) => {
  let refused = 0;
  for (const [which, argv] of AGREE) {
    for (const mode of which === 'both' ? (['pasta', 'passt'] as const) : [which]) {
      const debian = debianAccepts(mode, argv);
      refused += debian ? 0 : 1;
      t.is(weAccept(mode, argv), debian, `${mode} ${argv.join(' ')}: Debian ${debian ? 'accepts' : 'refuses'}`);
    }
  }
  t.true(refused > 30, 'the list must exercise refusals too');
});
