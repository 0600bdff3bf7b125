import test from 'ava';
import type { ExecutionContext } from 'ava';
import { verifyIpv6L4Checksum } from '../../../protocol/checksum.js';
import { Dhcpv6Status, parseDhcpv6 } from '../../../protocol/dhcpv6.js';
import { Headroom, buildUdp6 } from '../../../protocol/frame.js';
import {
  DHCLIENT6_INFO_REQUEST, DHCLIENT6_REQUEST, DHCLIENT6_SOLICIT, PASTA_DUID, dropReasonOf, hex, replyOf, serve,
  testConfig, unhex,
} from './testdata.js';

const cfg = testConfig();
const GUEST_MAC = 'f2385dde68d1';
const GUEST_LL = 'fe80000000000000f0385dfffede68d1';
const OUR_LL = 'fe8000000000000000fc00fffe000001';
const OUR_DUID = '0003000102fc00000001';
const CLIENT_DUID = '0001000132950300f2385dde68d1';
const OFF = Headroom.Udp6;

/** Checks Ethernet, IPv6 and UDP headers and the checksum; returns the DHCPv6 payload. */
function payloadOf(t: ExecutionContext, f: Uint8Array): Uint8Array {
  const udpLen = (f.length - 54).toString(16).padStart(4, '0');
  t.is(hex(f.subarray(0, 14)), GUEST_MAC + '02fc00000001' + '86dd');
  t.is(hex(f.subarray(14, 22)), '60000000' + udpLen + '11' + 'ff');
  t.is(hex(f.subarray(22, 54)), OUR_LL + GUEST_LL);
  t.is(hex(f.subarray(54, 60)), '0223' + '0222' + udpLen);
  t.true(verifyIpv6L4Checksum(f, 14, 54, 17));
  return f.subarray(OFF);
}

/** A DHCPv6 request frame from the dhclient host (fe80::f038:5dff:fede:68d1) to ff02::1:2 around `payload`. */
function requestFrame(payload: string): Uint8Array {
  const p = unhex(payload);
  const b = new Uint8Array(OFF + p.length);
  b.set(p, OFF);
  const ip = { src: unhex(GUEST_LL), dst: unhex('ff020000000000000000000000010002'), hopLimit: 1 };
  buildUdp6(b, 0, { dst: unhex('333300010002'), src: unhex(GUEST_MAC) }, ip, 546, 547, p.length);
  return b;
}

const IA_WITH_OUR_ADDRESS = '00030028 5dde68d1 ffffffff ffffffff 00050018 20010db8000100000000000000000002 ffffffff ffffffff';
const DNS_AND_DOMAINS = `00170010 20010db8000000000000000000000053
  0018001e 076578616d706c6503636f6d00 03737562076578616d706c6503636f6d00`;

test('dhclient SOLICIT gets an ADVERTISE: every header field and option byte', (t) => {
  const p = payloadOf(t, replyOf(cfg, DHCLIENT6_SOLICIT));
  t.is(hex(p), hex(unhex(`02173461 0002000a ${OUR_DUID} 0001000e ${CLIENT_DUID} ${IA_WITH_OUR_ADDRESS} ${DNS_AND_DOMAINS}`)));
});

test('dhclient REQUEST naming our DUID gets a REPLY with the address; naming another server, nothing', (t) => {
  const p = payloadOf(t, replyOf({ ...cfg, duid: PASTA_DUID }, DHCLIENT6_REQUEST));
  t.is(hex(p), hex(unhex(`07c1072c 0002000e ${hex(PASTA_DUID)} 0001000e ${CLIENT_DUID} ${IA_WITH_OUR_ADDRESS} ${DNS_AND_DOMAINS}`)));
  t.is(dropReasonOf(cfg, DHCLIENT6_REQUEST), 'dhcpv6: message for another server');
});

test('RENEW and REBIND get a REPLY with the address', (t) => {
  for (const type of ['05', '06']) {
    const p = payloadOf(t, replyOf(cfg, requestFrame(`${type}000102 0001000e${CLIENT_DUID} 0003000c00000007 0000000000000000`)));
    const r = parseDhcpv6(p, 0, p.length);
    if (!r.ok) return t.fail(r.reason);
    t.is(r.msg.msgType, 7);
    t.is(r.msg.xid, 0x102);
    t.deepEqual(r.msg.iaNa.map((ia) => [ia.iaid, hex(ia.addrs[0]!.addr)]), [[7, '20010db8000100000000000000000002']]);
  }
});

test('INFORMATION-REQUEST gets a REPLY without address', (t) => {
  const p = payloadOf(t, replyOf(cfg, DHCLIENT6_INFO_REQUEST));
  t.is(hex(p), hex(unhex(`077b23c6 0002000a ${OUR_DUID} 0001000a 00030001f2385dde68d1 ${DNS_AND_DOMAINS}`)));
});

test('CONFIRM: Success on link, NotOnLink elsewhere, nothing without addresses', (t) => {
  const confirm = (addr: string): string =>
    `04abcdef 0001000e${CLIENT_DUID} 000300285dde68d100000e1000001518 00050018${addr} 00001c20 00001d4c`;
  const ok = payloadOf(t, replyOf(cfg, requestFrame(confirm('20010db80001000000000000000000aa'))));
  t.is(hex(ok), hex(unhex(`07abcdef 0002000a ${OUR_DUID} 0001000e ${CLIENT_DUID}
    000d0017 0000 ${hex(new TextEncoder().encode('all addresses on link'))} ${DNS_AND_DOMAINS}`)));
  const off = payloadOf(t, replyOf(cfg, requestFrame(confirm('20010db80002000000000000000000aa'))));
  const r = parseDhcpv6(off, 0, off.length);
  t.true(r.ok && r.msg.status?.code === Dhcpv6Status.NotOnLink && r.msg.iaNa.length === 0);
  t.is(dropReasonOf(cfg, requestFrame(`04abcdef 0001000e${CLIENT_DUID}`)), 'dhcpv6: confirm without addresses');
});

test('SOLICIT with rapid commit gets a REPLY with rapid commit', (t) => {
  const solicit = hex(DHCLIENT6_SOLICIT.subarray(OFF));
  const p = payloadOf(t, replyOf(cfg, requestFrame(`${solicit} 000e0000`)));
  t.is(p[0], 7);
  t.is(hex(p.subarray(4 + 14 + 18 + 44, 4 + 14 + 18 + 44 + 4)), '000e0000');
});

test('SOLICIT without IA_NA gets NoAddrsAvail', (t) => {
  const p = payloadOf(t, replyOf(cfg, requestFrame(`01000001 0001000e${CLIENT_DUID}`)));
  const r = parseDhcpv6(p, 0, p.length);
  t.true(r.ok && r.msg.msgType === 2 && r.msg.status?.code === Dhcpv6Status.NoAddrsAvail && r.msg.iaNa.length === 0);
});

test('no reply: other types, missing or empty client id, switches, truncated options', (t) => {
  t.is(dropReasonOf(cfg, requestFrame(`08000001 0001000e${CLIENT_DUID} 0002000a${OUR_DUID}`)), 'dhcpv6: message type 8 not handled');
  t.is(dropReasonOf(cfg, requestFrame(`09000001 0001000e${CLIENT_DUID}`)), 'dhcpv6: message type 9 not handled');
  t.is(dropReasonOf(cfg, requestFrame('01000001 0003000c0000000700000000 00000000')), 'dhcpv6: no client id');
  t.is(dropReasonOf(cfg, requestFrame('01000001 00010000')), 'dhcpv6: bad client id');
  t.is(dropReasonOf(cfg, requestFrame('01000001 000100ff 0000')), 'dhcpv6: option length past end');
  t.is(dropReasonOf(cfg, requestFrame('0c000001 0001000e')), 'dhcpv6: relay message');
  t.is(dropReasonOf({ ...cfg, noDhcpv6: true }, DHCLIENT6_SOLICIT), 'dhcpv6: disabled');
  t.is(dropReasonOf({ ...cfg, ip6Addr: null }, DHCLIENT6_SOLICIT), 'dhcpv6: no IPv6 address');
  t.is(dropReasonOf(cfg, DHCLIENT6_SOLICIT, 6 + OFF + 133), 'dhcpv6: reply does not fit (or bad search list)'); // ADVERTISE: 134 bytes
  const unspecified = DHCLIENT6_SOLICIT.slice();
  unspecified.fill(0, 22, 38);
  t.is(dropReasonOf(cfg, unspecified), 'dhcpv6: unspecified source');
});

test('DNS and domain list follow the configuration', (t) => {
  const p = payloadOf(t, replyOf({ ...cfg, dhcpDns: false, dhcpSearch: false }, DHCLIENT6_INFO_REQUEST));
  t.is(hex(p), hex(unhex(`077b23c6 0002000a ${OUR_DUID} 0001000a 00030001f2385dde68d1`)));
});

test('every truncation of the golden requests is dropped without throwing', (t) => {
  for (const golden of [DHCLIENT6_SOLICIT, DHCLIENT6_REQUEST, DHCLIENT6_INFO_REQUEST]) {
    for (let n = 0; n < golden.length; n++) t.not(serve(cfg, golden.subarray(0, n)).result?.action, 'reply', `length ${n}`);
  }
});
