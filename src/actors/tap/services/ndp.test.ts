import test from 'ava';
import type { ExecutionContext } from 'ava';
import { setIpv6L4Checksum, verifyIpv6L4Checksum } from '../../../protocol/checksum.js';
import { parseNdp } from '../../../protocol/ndp.js';
import { ALL_NODES, buildRouterAdvert } from './ndp.js';
import { KERNEL_DAD_NS, KERNEL_RS, dropReasonOf, hex, replyOf, serve, testConfig, unhex } from './testdata.js';

const cfg = testConfig();
const GUEST_MAC = '52efc4b65b02';
const GUEST_LL = 'fe8000000000000050efc4fffeb65b02';
const OUR_LL = 'fe8000000000000000fc00fffe000001';

/** Our RA as every field should be, checksum bytes zeroed (they are checked separately). */
const RA_ICMP = unhex(`
  86000000 ff802328 00000000 00000000
  030440c0 ffffffff ffffffff 00000000 20010db8000100000000000000000000
  05010000 000005dc
  19030000 ffffffff 20010db8000000000000000000000053
  1f050000 ffffffff 076578616d706c6503636f6d00 03737562076578616d706c6503636f6d00 0000
  010102fc00000001`);

/** Checks Ethernet and IPv6 headers, the ICMPv6 checksum, and returns the ICMPv6 bytes with it zeroed. */
function icmpOf(t: ExecutionContext, f: Uint8Array, dstMac: string, src: string, dst: string): Uint8Array {
  t.is(hex(f.subarray(0, 14)), dstMac + '02fc00000001' + '86dd');
  t.is(hex(f.subarray(14, 22)), '60000000' + (f.length - 54).toString(16).padStart(4, '0') + '3a' + 'ff');
  t.is(hex(f.subarray(22, 38)), src);
  t.is(hex(f.subarray(38, 54)), dst);
  t.true(verifyIpv6L4Checksum(f, 14, 54, 58));
  t.not(hex(f.subarray(56, 58)), '0000');
  const icmp = f.slice(54);
  icmp[2] = icmp[3] = 0;
  return icmp;
}

/** A neighbour solicitation from the guest's link-local address for `target`, as the kernel sends it. */
function nsFrame(target: string, src = GUEST_LL, hopLimit = 'ff'): Uint8Array {
  const b = unhex(`3333ff${target.slice(26)} ${GUEST_MAC} 86dd 60000000 0020 3a${hopLimit} ${src}
    ff0200000000000000000001ff${target.slice(26)} 87000000 00000000 ${target} 0101${GUEST_MAC}`);
  setIpv6L4Checksum(b, 14, 54, 58);
  return b;
}

const GATEWAY = '20010db8000100000000000000000001';

test('kernel RS gets our RA from our link-local: every field', (t) => {
  const f = replyOf(cfg, KERNEL_RS);
  t.is(f.length, 54 + 128);
  t.is(hex(icmpOf(t, f, GUEST_MAC, OUR_LL, GUEST_LL)), hex(RA_ICMP));
});

test('an RS from the unspecified address gets the RA sent to all nodes', (t) => {
  const rs = KERNEL_RS.slice();
  rs.fill(0, 22, 38);
  rs[62] = 99; // RFC 4861 forbids a source link-layer option from ::, so that option becomes an unknown one
  setIpv6L4Checksum(rs, 14, 54, 58);
  const f = replyOf(cfg, rs);
  t.is(hex(icmpOf(t, f, '333300000001', OUR_LL, hex(ALL_NODES))), hex(RA_ICMP));
});

test('RA options follow the configuration; no M flag without DHCPv6', (t) => {
  const quiet = { ...cfg, dhcpDns: false, dhcpSearch: false, mtu: null, noDhcpv6: true };
  const f = replyOf(quiet, KERNEL_RS);
  const icmp = icmpOf(t, f, GUEST_MAC, OUR_LL, GUEST_LL);
  t.is(hex(icmp), hex(RA_ICMP.subarray(0, 48)).replace('ff802328', 'ff002328') + '010102fc00000001');
});

test('an NS for any other address gets an NA from that address with our MAC', (t) => {
  const f = replyOf(cfg, nsFrame(GATEWAY));
  t.is(f.length, 54 + 32);
  const icmp = icmpOf(t, f, GUEST_MAC, GATEWAY, GUEST_LL);
  t.is(hex(icmp), '88000000' + 'e0000000' + GATEWAY + '0201' + '02fc00000001');
  t.true(parseNdp(icmp, 0, icmp.length).ok);
  const ll = replyOf(cfg, nsFrame(OUR_LL));
  t.is(hex(ll.subarray(22, 38)), OUR_LL);
});

test('DAD probes and solicitations for the guest\'s own addresses are not answered', (t) => {
  t.is(dropReasonOf(cfg, KERNEL_DAD_NS), 'ndp: duplicate address detection');
  t.is(dropReasonOf(cfg, nsFrame('20010db8000100000000000000000002')), "ndp: guest's own address");
  t.is(dropReasonOf(cfg, nsFrame(GUEST_LL)), "ndp: guest's own address");
});

test('requests failing RFC 4861 validation are dropped with a reason', (t) => {
  t.is(dropReasonOf(cfg, nsFrame(GATEWAY, GUEST_LL, 'fe')), 'ndp: hop limit not 255');
  const corrupt = nsFrame(GATEWAY);
  corrupt[70] = corrupt[70]! ^ 1;
  t.is(dropReasonOf(cfg, corrupt), 'ndp: bad checksum');
  const zeroOpt = nsFrame(GATEWAY);
  zeroOpt[79] = 0;
  setIpv6L4Checksum(zeroOpt, 14, 54, 58);
  t.is(dropReasonOf(cfg, zeroOpt), 'ndp: zero-length option');
  const na = nsFrame(GATEWAY);
  na[54] = 136;
  setIpv6L4Checksum(na, 14, 54, 58);
  t.is(dropReasonOf(cfg, na), 'ndp: type 136 not handled');
});

test('switches: --no-ndp, --no-ra, no IPv6 address', (t) => {
  t.is(dropReasonOf({ ...cfg, noNdp: true }, nsFrame(GATEWAY)), 'ndp: disabled');
  t.is(dropReasonOf({ ...cfg, noNdp: true }, KERNEL_RS), 'ndp: disabled');
  t.is(dropReasonOf({ ...cfg, noRa: true }, KERNEL_RS), 'ndp: router advertisements disabled');
  t.is(dropReasonOf({ ...cfg, noRa: true }, nsFrame(GATEWAY)), 'reply');
  t.is(dropReasonOf({ ...cfg, ip6Addr: null }, KERNEL_RS), 'ndp: no IPv6 address');
  t.is(dropReasonOf(cfg, KERNEL_RS, 6 + 181), 'ndp: reply does not fit (or bad search list)');
});

test('unsolicited RA to all nodes, for the periodic timer', (t) => {
  const out = new Uint8Array(300).fill(0xa5);
  const r = buildRouterAdvert(cfg, ALL_NODES, null, out, 10);
  if (r.action !== 'reply') return t.fail(r.reason);
  const f = out.subarray(10, 10 + r.len);
  t.is(hex(icmpOf(t, f, '333300000001', OUR_LL, hex(ALL_NODES))), hex(RA_ICMP));
  t.true(out.subarray(10 + r.len).every((x) => x === 0xa5));
});

test('every truncation of the golden requests is dropped without throwing', (t) => {
  for (const golden of [KERNEL_RS, KERNEL_DAD_NS, nsFrame(GATEWAY)]) {
    for (let n = 0; n < golden.length; n++) t.not(serve(cfg, golden.subarray(0, n)).result?.action, 'reply', `length ${n}`);
  }
});

test('an invalid search domain makes the RA drop rather than throw', (t) => {
  t.is(dropReasonOf({ ...cfg, searchList: ['bad..name'] }, KERNEL_RS), 'ndp: reply does not fit (or bad search list)');
  t.is(dropReasonOf({ ...cfg, searchList: ['bad..name'], dhcpSearch: false }, KERNEL_RS), 'reply');
});
