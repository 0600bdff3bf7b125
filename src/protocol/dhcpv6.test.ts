import test from 'ava';
import {
  DHCPV6_INFINITE, Dhcpv6MsgType, Dhcpv6Status, duidLl, duidLlt, emitDhcpv6, emptyDhcpv6Message, parseDhcpv6,
} from './dhcpv6.js';
import type { Dhcpv6Message } from './dhcpv6.js';
import { toHex as hex, unhex } from './test-bytes.js';

/** UDP payloads captured from ISC dhclient 4.4.3 (-6) and Debian's pasta (2023-03). */
const SOLICIT = unhex(`
  01173461 0001000e0001000132950300f2385dde68d1 00060008001700180027001f 000800020000
  0003000c5dde68d100000e1000001518`);
const REQUEST = unhex(`
  03c1072c 0001000e0001000132950300f2385dde68d1 0002000e00010001329502fc02fc00000001
  00060008001700180027001f 000800020000
  000300285dde68d100000e1000001518 0005001820010db80001 00*9 0200001c2000001d4c`);
const INFO_REQUEST = unhex('0b7b23c6 0001000a00030001f2385dde68d1 00060008001700180027001f 000800020000');
const PASTA_ADVERTISE = unhex(`
  02173461 0002000e00010001329502fc02fc00000001 000300285dde68d1ffffffffffffffff
  0005001820010db80001 00*9 02ffffffffffffffff 0001000e0001000132950300f2385dde68d1
  0017001020010db8 00*11 53 0018001d076578616d706c6507636f6d20737562076578616d706c6503636f6d00`);

const CLIENT_DUID = '0001000132950300f2385dde68d1';
const ADDR = unhex('20010db8000100000000000000000002');
const DNS6 = unhex('20010db8000000000000000000000053');
const MAC_OURS = unhex('02fc00000001');

function parsed(b: Uint8Array, len = b.length): Dhcpv6Message {
  const r = parseDhcpv6(b, 0, len);
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}

test('parses every field of a dhclient SOLICIT', (t) => {
  const m = parsed(SOLICIT);
  t.is(m.msgType, Dhcpv6MsgType.Solicit);
  t.is(m.xid, 0x173461);
  t.is(hex(m.clientId), CLIENT_DUID);
  t.is(m.serverId, null);
  t.deepEqual(m.oro, [23, 24, 39, 31]);
  t.is(m.elapsedTime, 0);
  t.deepEqual(m.iaNa, [{ iaid: 0x5dde68d1, t1: 3600, t2: 5400, addrs: [], status: null }]);
  t.false(m.rapidCommit);
});

test('parses the server id and IAADDR of a dhclient REQUEST', (t) => {
  const m = parsed(REQUEST);
  t.is(m.msgType, Dhcpv6MsgType.Request);
  t.is(m.xid, 0xc1072c);
  t.is(hex(m.serverId), '00010001329502fc02fc00000001');
  t.is(m.iaNa.length, 1);
  t.deepEqual(m.iaNa[0]!.addrs.map((a) => [hex(a.addr), a.preferred, a.valid]), [[hex(ADDR), 7200, 7500]]);
});

test('parses an INFORMATION-REQUEST with a DUID-LL and no IA', (t) => {
  const m = parsed(INFO_REQUEST);
  t.is(m.msgType, Dhcpv6MsgType.InformationRequest);
  t.is(hex(m.clientId), '00030001f2385dde68d1');
  t.deepEqual(m.iaNa, []);
});

test("parses pasta's ADVERTISE", (t) => {
  const m = parsed(PASTA_ADVERTISE);
  t.is(m.msgType, Dhcpv6MsgType.Advertise);
  t.deepEqual(m.iaNa[0]!.addrs.map((a) => [hex(a.addr), a.preferred, a.valid]), [[hex(ADDR), DHCPV6_INFINITE, DHCPV6_INFINITE]]);
  t.deepEqual(m.dnsServers.map(hex), [hex(DNS6)]);
  t.deepEqual(m.domainList, ['example.com sub.example.com']); // pasta took the whole -S argument as one name
});

/** Lengths at which a cut leaves whole top-level options. */
function boundaries(b: Uint8Array): Set<number> {
  const s = new Set<number>([4]);
  for (let i = 4; i < b.length; i += 4 + ((b[i + 2]! << 8) | b[i + 3]!)) s.add(i + 4 + ((b[i + 2]! << 8) | b[i + 3]!));
  return s;
}

test('every truncation is rejected without throwing, unless it falls between options', (t) => {
  for (const golden of [SOLICIT, REQUEST, INFO_REQUEST, PASTA_ADVERTISE]) {
    const ok = boundaries(golden);
    for (let n = 0; n < golden.length; n++) t.is(parseDhcpv6(golden, 0, n).ok, ok.has(n), `type ${golden[0]!} length ${n}`);
  }
});

function reason(text: string): string {
  const b = unhex(text);
  const r = parseDhcpv6(b, 0, b.length);
  return r.ok ? 'accepted' : r.reason;
}

test('malformed messages are dropped with a reason', (t) => {
  t.is(reason('01173461 00010000'), 'bad client id'); // zero-length DUID
  t.is(reason('01173461 0001000200'), 'option length past end');
  t.is(reason('01173461 0001000a0003000102fc'), 'option length past end');
  t.is(reason('01173461 000100'), 'option header past end');
  t.is(reason(`01173461 00020083 ${'00'.repeat(131)}`), 'bad server id'); // DUID of 131 bytes
  t.is(reason('01173461 0003000800000001 00000000'), 'bad IA_NA');
  t.is(reason('01173461 000300140000000100000000 00000000 00050004 00000000'), 'bad IAADDR');
  t.is(reason('01173461 000300140000000100000000 00000000 00050008 00000000'), 'option length past end');
  t.is(reason('01173461 0006000300170018'), 'bad option request');
  t.is(reason('01173461 00080003000000'), 'bad elapsed time');
  t.is(reason('01173461 000d000100'), 'bad status code');
  t.is(reason('01173461 000e000100'), 'bad rapid commit');
  t.is(reason('07173461 0017000f 20010db8000000000000000000000053'.slice(0, -2)), 'bad dns servers');
  t.is(reason('07173461 00180003 036162'), 'bad domain list');
  t.is(reason('0c000000'), 'relay message');
  t.is(reason('011734'), 'short message');
  t.is(reason('01173461 ffff0000'), 'accepted'); // unknown option, skipped
  t.false(parseDhcpv6(SOLICIT, 1, SOLICIT.length).ok);
});

function advertise(): Dhcpv6Message {
  const m = emptyDhcpv6Message(Dhcpv6MsgType.Advertise, 0x173461);
  m.serverId = duidLl(MAC_OURS);
  m.clientId = unhex(CLIENT_DUID);
  m.iaNa = [{
    iaid: 0x5dde68d1, t1: DHCPV6_INFINITE, t2: DHCPV6_INFINITE, status: null,
    addrs: [{ addr: ADDR, preferred: DHCPV6_INFINITE, valid: DHCPV6_INFINITE }],
  }];
  m.dnsServers = [DNS6];
  m.domainList = ['example.com'];
  return m;
}

const ADVERTISE_GOLDEN = unhex(`
  02173461
  0002000a 0003000102fc00000001
  0001000e 0001000132950300f2385dde68d1
  00030028 5dde68d1 ffffffff ffffffff 00050018 20010db8000100000000000000000002 ffffffff ffffffff
  00170010 20010db8000000000000000000000053
  0018000d 076578616d706c6503636f6d00`);

test('emits an ADVERTISE into a 0xa5 buffer and parses it back', (t) => {
  const out = new Uint8Array(200).fill(0xa5);
  const n = emitDhcpv6(advertise(), out, 2, 198);
  t.is(hex(out.subarray(2, 2 + n)), hex(ADVERTISE_GOLDEN));
  t.true(out.subarray(0, 2).every((x) => x === 0xa5));
  t.true(out.subarray(2 + n).every((x) => x === 0xa5));
  t.deepEqual(parsed(out.subarray(2, 2 + n)), advertise());
});

test('status codes, rapid commit, ORO and elapsed time round-trip', (t) => {
  const m = emptyDhcpv6Message(Dhcpv6MsgType.Reply, 0xabcdef);
  m.clientId = unhex(CLIENT_DUID);
  m.status = { code: Dhcpv6Status.NotOnLink, message: 'not here' };
  m.rapidCommit = true;
  m.oro = [23, 24];
  m.elapsedTime = 300;
  m.iaNa = [{ iaid: 7, t1: 1, t2: 2, addrs: [], status: { code: Dhcpv6Status.NoAddrsAvail, message: '' } }];
  const out = new Uint8Array(200);
  const n = emitDhcpv6(m, out, 0, out.length);
  t.deepEqual(parsed(out.subarray(0, n)), m);
  t.is(hex(out.subarray(0, 4)), '07abcdef');
});

test('emit refuses too little room and invalid names', (t) => {
  const out = new Uint8Array(200).fill(0xa5);
  t.is(emitDhcpv6(advertise(), out, 0, ADVERTISE_GOLDEN.length - 1), -1);
  t.is(emitDhcpv6(advertise(), out, 150, 200), -1);
  const bad = advertise();
  bad.domainList = ['-.'.repeat(2) + '.'];
  t.is(emitDhcpv6(bad, out, 0, 200), -1);
  t.true(out.every((x) => x === 0xa5));
});

test('DUIDs from a MAC', (t) => {
  t.is(hex(duidLl(MAC_OURS)), '0003000102fc00000001');
  t.is(hex(duidLlt(MAC_OURS, 0x329502fc)), '00010001329502fc02fc00000001');
});
