/**
 * Port-forwarding SPECs: every example of passt's man page and --help (the spec strings are data; the
 * expected meaning is the one the man page states), then the combination rules and the bad specs,
 * checked against what Debian's passt 0.0~git20230309 accepts and refuses.
 */
import test from 'ava';
import type { Mode } from './config.js';
import { isUsageError } from './errors.js';
import {
  EPHEMERAL_MIN,
  PortForwardBuilder,
  forwardedPortCount,
  lookupPort,
  parsePortSpec,
  portForwardFromSpecs,
  targetMap,
  type PortForward,
} from './portspec.js';

const ctx = (mode: Mode = 'passt', option = '-t', allowBind = true) => ({ option, mode, allowBind });
const fwd = (specs: string[], mode: Mode = 'passt'): PortForward =>
  portForwardFromSpecs(specs, ctx(mode), mode === 'pasta' ? 'auto' : 'none');

/** The forwarded ports of a configuration, as a sorted list. */
function ports(f: PortForward): number[] {
  const map = targetMap(f);
  const out: number[] = [];
  map.forEach((t, p) => t >= 0 && out.push(p));
  return out;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isUsageError(err)) return err.message;
    throw err;
  }
  return '';
}

/* ---- man page examples ---- */

test('man: -t 22 forwards local port 22 to port 22', (t) => {
  const f = fwd(['22']);
  t.is(f.mode, 'spec');
  t.deepEqual(ports(f), [22]);
  t.deepEqual(lookupPort(f, 22), { target: 22, addr: null, ifname: null });
});

test('man: -t 22:23 forwards local port 22 to port 23', (t) => {
  const f = fwd(['22:23']);
  t.deepEqual(ports(f), [22]);
  t.is(lookupPort(f, 22)?.target, 23);
  t.is(lookupPort(f, 23), null);
});

test('man: -t 22,25 forwards ports 22 and 25 to 22 and 25', (t) => {
  const f = fwd(['22,25']);
  t.deepEqual(ports(f), [22, 25]);
  t.is(lookupPort(f, 25)?.target, 25);
});

test('man: -t 22-80 forwards ports 22 to 80 to the same ports', (t) => {
  const f = fwd(['22-80']);
  t.deepEqual(ports(f), range(22, 80));
  for (const p of range(22, 80)) t.is(lookupPort(f, p)?.target, p);
});

test('man: -t 22-80:32-90 forwards ports 22 to 80 to ports 32 to 90 (plus 10)', (t) => {
  const f = fwd(['22-80:32-90']);
  t.deepEqual(ports(f), range(22, 80));
  for (const p of range(22, 80)) t.is(lookupPort(f, p)?.target, p + 10);
});

test('man: -t 192.0.2.1/22 forwards port 22 bound to 192.0.2.1', (t) => {
  const f = fwd(['192.0.2.1/22']);
  t.deepEqual(ports(f), [22]);
  t.deepEqual(lookupPort(f, 22), { target: 22, addr: '192.0.2.1', ifname: null });
});

test('help: -t 192.0.2.1/5 binds port 5 of 192.0.2.1', (t) => {
  t.deepEqual(lookupPort(fwd(['192.0.2.1/5']), 5), { target: 5, addr: '192.0.2.1', ifname: null });
});

test('man: -t 192.0.2.1%eth0/22 binds port 22 to 192.0.2.1 and interface eth0', (t) => {
  const f = fwd(['192.0.2.1%eth0/22']);
  t.deepEqual(ports(f), [22]);
  t.deepEqual(lookupPort(f, 22), { target: 22, addr: '192.0.2.1', ifname: 'eth0' });
});

test('man: -t 2000-5000,~3000-3010 forwards 2000 to 5000 except 3000 to 3010', (t) => {
  const f = fwd(['2000-5000,~3000-3010']);
  t.deepEqual(ports(f), [...range(2000, 2999), ...range(3011, 5000)]);
});

test('man: -t 192.0.2.1/20-30,~25 forwards 20 to 24 and 26 to 30 on 192.0.2.1', (t) => {
  const f = fwd(['192.0.2.1/20-30,~25']);
  t.deepEqual(ports(f), [...range(20, 24), ...range(26, 30)]);
  for (const p of [20, 24, 26, 30]) t.is(lookupPort(f, p)?.addr, '192.0.2.1');
});

test('help: -t 5-25,~10-20 forwards 5 to 9 and 21 to 25', (t) => {
  t.deepEqual(ports(fwd(['5-25,~10-20'])), [...range(5, 9), ...range(21, 25)]);
});

test('man: -t ~20000-20010 forwards every (non-ephemeral) port except 20000 to 20010', (t) => {
  const f = fwd(['~20000-20010']);
  t.is(f.mode, 'spec');
  t.deepEqual(ports(f), [...range(1, 19999), ...range(20011, EPHEMERAL_MIN - 1)]);
});

test('help: -t ~25 forwards all ports except 25', (t) => {
  const f = fwd(['~25']);
  t.is(lookupPort(f, 24)?.target, 24);
  t.is(lookupPort(f, 25), null);
  t.is(lookupPort(f, 26)?.target, 26);
  t.is(forwardedPortCount(f), EPHEMERAL_MIN - 2);
});

test("man: 'none' forwards nothing, in both modes", (t) => {
  for (const mode of ['pasta', 'passt'] as const) t.deepEqual(fwd(['none'], mode), { mode: 'none', ranges: [] });
});

test("man: 'all' (passt) forwards every non-ephemeral port", (t) => {
  const f = fwd(['all'], 'passt');
  t.is(f.mode, 'all');
  t.deepEqual(ports(f), range(1, EPHEMERAL_MIN - 1));
});

test("man: 'auto' (pasta) leaves the ports to run time", (t) => {
  t.deepEqual(fwd(['auto'], 'pasta'), { mode: 'auto', ranges: [] });
});

test("'auto' is for pasta and 'all' for passt only", (t) => {
  t.regex(errorOf(() => fwd(['auto'], 'passt')), /'auto' .*pasta/);
  t.regex(errorOf(() => fwd(['all'], 'pasta')), /'all' .*passt/);
});

test('defaults: nothing given gives the mode default', (t) => {
  t.deepEqual(fwd([], 'pasta'), { mode: 'auto', ranges: [] });
  t.deepEqual(fwd([], 'passt'), { mode: 'none', ranges: [] });
});

/* ---- more of the grammar ---- */

test('IPv6 binding address, and interface-only binding', (t) => {
  t.deepEqual(lookupPort(fwd(['2001:db8::1/22']), 22), { target: 22, addr: '2001:db8::1', ifname: null });
  t.deepEqual(lookupPort(fwd(['fe80::1%eth0/22']), 22), { target: 22, addr: 'fe80::1', ifname: 'eth0' });
  t.deepEqual(lookupPort(fwd(['%lo/22']), 22), { target: 22, addr: null, ifname: 'lo' });
});

test('exclusions may come before the ranges they cut', (t) => {
  t.deepEqual(ports(fwd(['~25,20-30'])), [...range(20, 24), ...range(26, 30)]);
});

test('excluded ports stay out of the overlap check of the same spec (passt accepts 20-30,~25,25)', (t) => {
  const f = fwd(['20-30,~25,25']);
  t.is(lookupPort(f, 25), null);
  t.deepEqual(ports(f), [...range(20, 24), ...range(26, 30)]);
});

test('port 65535 and translated ranges up to it', (t) => {
  t.is(lookupPort(fwd(['65535']), 65535)?.target, 65535);
  t.is(lookupPort(fwd(['1-10:65526-65535']), 10)?.target, 65535);
});

test('several options combine, with their own bindings and translations', (t) => {
  const f = fwd(['22', '127.0.0.1/80:8080', '::1/443']);
  t.deepEqual(ports(f), [22, 80, 443]);
  t.deepEqual(lookupPort(f, 80), { target: 8080, addr: '127.0.0.1', ifname: null });
  t.deepEqual(lookupPort(f, 443), { target: 443, addr: '::1', ifname: null });
});

test('ranges are canonical: sorted, touching ones merged', (t) => {
  const f = fwd(['30-40', '10-19', '20-29']);
  t.deepEqual(f.ranges, [{ first: 10, last: 40, target: 10, addr: null, ifname: null }]);
});

test('an exclusions-only spec skips ports an earlier option forwards (passt accepts -t 22 -t ~25)', (t) => {
  const f = fwd(['22:2222', '~25']);
  t.is(lookupPort(f, 22)?.target, 2222);
  t.is(lookupPort(f, 25), null);
});

test('-t ~25 -t 25 forwards 25 too', (t) => {
  t.is(lookupPort(fwd(['~25', '25']), 25)?.target, 25);
});

/* ---- bad specs ---- */

const badSpecs = [
  '70000', '65536', '0', '10-5', 'a:b', '', '22,', ',22', '22-', '-22', '22:', ':22', '22:23:24', '22-23-24',
  '22-23:30', '22:30-31', '~25:26', '~', '22;', ' 22', '+22', 'lo/22', '[::1]/22', '192.0.2.256/22',
  '192.0.2.1%/22', '192.0.2.1%a/b/22', '192.0.2.1%abcdefghijklmnop/22', 'none,22', 'auto,22', '22,all', 'NONE',
];
for (const spec of badSpecs) {
  test(`bad spec '${spec}' is a one-line usage error naming it and -t`, (t) => {
    t.is(errorOf(() => fwd([spec])), `invalid port specification '${spec}' for -t`);
  });
}

const overlapping: string[][] = [['22,22'], ['20-30,25'], ['~25,~25'], ['~20-30,~25'], ['22', '22'], ['20-30', '25-40'], ['~25', '22']];
for (const specs of overlapping) {
  test(`overlap: ${specs.map((s) => `-t ${s}`).join(' ')}`, (t) => {
    t.regex(errorOf(() => fwd(specs)), /^overlapping port specification '.*' for -t$/);
  });
}

test('keywords conflict with any earlier SPEC of the same option', (t) => {
  t.is(errorOf(() => fwd(['22', 'none'])), "port forwarding mode 'none' conflicts with an earlier -t");
  t.is(errorOf(() => fwd(['none', 'none'])), "port forwarding mode 'none' conflicts with an earlier -t");
  t.is(errorOf(() => fwd(['auto', 'auto'], 'pasta')), "port forwarding mode 'auto' conflicts with an earlier -t");
  t.is(errorOf(() => fwd(['none', '22'])), "specific ports can't be combined with 'none' for -t");
  t.is(errorOf(() => fwd(['all', '~25'])), "specific ports can't be combined with 'all' for -t");
});

test('-T and -U take no address or interface', (t) => {
  const c = ctx('pasta', '-T', false);
  t.is(errorOf(() => parsePortSpec('127.0.0.1/22', c)), "invalid port specification '127.0.0.1/22' for -T");
  t.is(errorOf(() => parsePortSpec('%lo/22', c)), "invalid port specification '%lo/22' for -T");
  t.is(parsePortSpec('22', c).kind, 'ports');
});

test('the builder reports whether anything was given', (t) => {
  const b = new PortForwardBuilder(ctx());
  t.false(b.given);
  b.add('none');
  t.true(b.given);
});
