import test from 'ava';
import { isLoopbackAddress, parseResolvConf, planDns, type DnsPlanInput } from './resolv.js';

test('resolv.conf: nameservers in order, the last search line, comments and junk ignored', (t) => {
  const text = [
    '# generated',
    'nameserver 10.0.0.53',
    'nameserver   fe80::1%eth0  ',
    'nameserver not-an-address',
    'search a.example b.example ; old',
    'options edns0',
    'nameserver 2001:db8::53 # second v6',
    'domain c.example',
    'nameserver',
  ].join('\n');
  t.deepEqual(parseResolvConf(text), { nameservers: ['10.0.0.53', 'fe80::1%eth0', '2001:db8::53'], search: ['c.example'] });
  t.deepEqual(parseResolvConf(''), { nameservers: [], search: [] });
});

test('resolv.conf with CRLF line ends: comments are still cut at the end of the line', (t) => {
  // Found by fuzzing (resolv-fuzz.test.ts): `.` stops at a CR, so /[#;].*$/ did not match and the
  // comment's words became search domains.
  t.deepEqual(parseResolvConf('nameserver 10.0.0.53 # main\r\nsearch a.example b.example ; old\r\n'), {
    nameservers: ['10.0.0.53'], search: ['a.example', 'b.example'],
  });
  const fuzzed = Buffer.from(
    '6e616d657365727665722031302e302e302e35330a6e616d65736572766572202020666538303a3a3125657468300a6e616d6573' +
    '657276657220323030313a6462383a3a35332023207365636f6e642076360a646f6d61696e20632e6578616d706c650a73656172' +
    '636820612e6578616d706c6520622e6578616d706c65203bf5b2ee0df66c1658206f6c640a', 'hex').toString('utf8');
  t.deepEqual(parseResolvConf(fuzzed).search, ['a.example', 'b.example']);
});

const input = (over: Partial<DnsPlanInput>): DnsPlanInput => ({
  dnsForward4: null, dnsForward6: null, gw4: '10.0.2.2', gw6: 'fd00::2', mapGw: true, nameservers: [], ...over,
});

test('--dns-forward redirects to the first resolver of its version', (t) => {
  const p = planDns(input({ dnsForward4: '10.0.2.3', dnsForward6: 'fd00::3', nameservers: ['192.0.2.53', '192.0.2.54', '2001:db8::53'] }));
  t.deepEqual(p.v4, { match: '10.0.2.3', host: '192.0.2.53' });
  t.deepEqual(p.v6, { match: 'fd00::3', host: '2001:db8::53' });
});

test('a loopback resolver: queries to the gateway are redirected to it', (t) => {
  const p = planDns(input({ nameservers: ['127.0.0.53', '::1'] }));
  t.deepEqual(p.v4, { match: '10.0.2.2', host: '127.0.0.53' });
  t.deepEqual(p.v6, { match: 'fd00::2', host: '::1' });
});

test('--dns-forward wins over the loopback redirect', (t) => {
  t.deepEqual(planDns(input({ dnsForward4: '10.0.2.3', nameservers: ['127.0.0.53'] })).v4, { match: '10.0.2.3', host: '127.0.0.53' });
});

test('--no-map-gw: a loopback resolver is not redirected', (t) => {
  t.is(planDns(input({ mapGw: false, nameservers: ['127.0.0.53', '192.0.2.53'] })).v4, null);
});

test('no resolver of a version, or a non-loopback one without --dns-forward: no redirect', (t) => {
  t.is(planDns(input({ dnsForward6: 'fd00::3', nameservers: ['10.0.0.53'] })).v6, null);
  t.is(planDns(input({ nameservers: ['10.0.0.53'] })).v4, null);
  t.is(planDns(input({ gw4: null, nameservers: ['127.0.0.53'] })).v4, null);
});

test('loopback addresses', (t) => {
  for (const a of ['127.0.0.1', '127.0.0.53', '::1', '::ffff:127.0.0.1']) t.true(isLoopbackAddress(a), a);
  for (const a of ['10.0.0.1', '::', 'fe80::1', '::ffff:10.0.0.1']) t.false(isLoopbackAddress(a), a);
});
