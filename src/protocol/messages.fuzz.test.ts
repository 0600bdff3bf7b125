/**
 * Seeded fuzzing of the control-plane parsers: DHCP, DHCPv6, NDP, DNS name lists, rtnetlink (framing,
 * attributes, link/address/route/error payloads) and the address text parsers. Beyond "never throws":
 * parsed values hold only integers (a read past a Uint8Array's end would show as NaN), the result does
 * not depend on where the message sits in its buffer, and parse -> emit -> parse gives the same value.
 */
import test from 'ava';
import { formatIp, parseCidr, parseIp } from './addr.js';
import { decodeDnsNames, emitDhcp, encodeDnsNamesCopy, parseDhcp } from './dhcp.js';
import type { DhcpParseResult } from './dhcp.js';
import { emitDhcpv6, parseDhcpv6 } from './dhcpv6.js';
import type { Dhcpv6ParseResult } from './dhcpv6.js';
import { formatMac, parseMac } from './eth.js';
import { DHCP_MESSAGES, DHCPV6_MESSAGES, NDP_MESSAGES, NETLINK_REPLIES } from './fuzz-corpus.js';
import { canonical, ensure, ensureSane, fuzz } from './fuzz.js';
import {
  IFADDRMSG_LEN, IFINFOMSG_LEN, NLMSG_HDR_LEN, NlmF, RTMSG_LEN, nlMessages, parseAddr, parseError, parseLink,
  parseNlHeader, parseRoute, rtAttrs,
} from './netlink.js';
import { emitNdp, parseNdp } from './ndp.js';
import type { NdpParseResult } from './ndp.js';

const SEED = 0x5eed0100;
const OUT = new Uint8Array(70_000);

/** `parse` of the input at 0 in an exact buffer, and at 7 in a larger one: same answer. */
function parsedTwice<R>(input: Uint8Array, parse: (b: Uint8Array, off: number, len: number) => R): R {
  const r = parse(input, 0, input.length);
  const big = new Uint8Array(input.length + 16).fill(0xa5);
  big.set(input, 7);
  ensure(canonical(parse(big, 7, input.length)) === canonical(r), 'result depends on placement');
  return r;
}

/** Text cannot tell a label ending in '.' ("co.") from the root: the encoder reads it as the root. */
const noRootDot = (names: readonly string[]): string[] => names.map((n) => n.replace(/\.$/, ''));

function logged(t: { log: (s: string) => void }, r: { cases: number; ms: number }): void {
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
}

test('fuzz: parseDhcp, and emitDhcp round trips', (t) => {
  logged(t, fuzz('dhcp', DHCP_MESSAGES, 30_000, SEED, (input) => {
    const r = parsedTwice<DhcpParseResult>(input, parseDhcp);
    if (!r.ok) return;
    ensureSane(r.msg);
    ensure(r.msg.chaddr.length === 16, 'chaddr');
    const n = emitDhcp(r.msg, OUT, 0, OUT.length);
    if (n < 0) return; // a domain name that cannot be encoded (emit refuses it)
    const again = parseDhcp(OUT, 0, n);
    const want = { ...r.msg, domainSearch: noRootDot(r.msg.domainSearch) };
    ensure(again.ok && canonical(again.msg) === canonical(want), 'parse -> emit -> parse differs');
  }));
  t.pass();
});

test('fuzz: parseDhcpv6, and emitDhcpv6 round trips', (t) => {
  logged(t, fuzz('dhcpv6', DHCPV6_MESSAGES, 30_000, SEED + 1, (input) => {
    const r = parsedTwice<Dhcpv6ParseResult>(input, parseDhcpv6);
    if (!r.ok) return;
    ensureSane(r.msg);
    ensure(r.msg.xid >= 0 && r.msg.xid <= 0xffffff, 'xid');
    const n = emitDhcpv6(r.msg, OUT, 0, OUT.length);
    if (n < 0) return;
    const again = parseDhcpv6(OUT, 0, n);
    const want = { ...r.msg, domainList: noRootDot(r.msg.domainList) };
    ensure(again.ok && canonical(again.msg) === canonical(want), 'parse -> emit -> parse differs');
  }));
  t.pass();
});

/** A DNSSL option without names is dropped by emit: compare it as absent (and names as in `noRootDot`). */
function ndpCanonical(r: NdpParseResult): string {
  if (!r.ok) return canonical(r);
  const d = r.msg.dnssl;
  const dnssl = d === null || d.domains.length === 0 ? null : { ...d, domains: noRootDot(d.domains) };
  return canonical({ ...r.msg, dnssl });
}

test('fuzz: parseNdp, and emitNdp round trips', (t) => {
  logged(t, fuzz('ndp', NDP_MESSAGES, 30_000, SEED + 2, (input) => {
    const r = parsedTwice<NdpParseResult>(input, parseNdp);
    if (!r.ok) return;
    ensureSane(r.msg);
    for (const a of [r.msg.sourceLinkAddr, r.msg.targetLinkAddr]) ensure(a === null || a.length === 6, 'link address');
    ensure(r.msg.target === null || r.msg.target.length === 16, 'target');
    const n = emitNdp(r.msg, OUT, 0, OUT.length);
    if (n < 0) return;
    ensure(ndpCanonical(parseNdp(OUT, 0, n)) === ndpCanonical(r), 'parse -> emit -> parse differs');
  }));
  t.pass();
});

const DNS_NAME_LISTS = [
  encodeDnsNamesCopy(['example.com', 'sub.example.com', 'a.b.c'], true)!,
  encodeDnsNamesCopy(['example.com', 'x.example.com'], false)!,
];

test('fuzz: DNS name lists (compressed and not); valid names round trip', (t) => {
  logged(t, fuzz('dns names', DNS_NAME_LISTS, 20_000, SEED + 3, (input) => {
    for (const compressed of [true, false]) {
      const names = parsedTwice(input, (b, off, len) => decodeDnsNames(b, off, len, compressed));
      if (names === null) continue;
      ensure(names.every((n) => n.length > 0 && n.length <= 253), 'name length');
      const wire = encodeDnsNamesCopy(names, compressed);
      if (wire === null) continue; // a label with characters the encoder refuses
      ensure(canonical(decodeDnsNames(wire, 0, wire.length, compressed)) === canonical(noRootDot(names)), 'names round trip');
    }
  }));
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// rtnetlink

/** Every attribute of b[off, end) lies inside it; the walk ends. */
function checkAttrs(b: Uint8Array, off: number, end: number): void {
  let n = 0;
  for (const a of rtAttrs(b, off, end)) {
    ensure(++n <= (end - off) / 4, 'attribute walk does not end');
    ensure(a.off >= off + 4 && a.off <= a.end && a.end <= Math.min(end, b.length), `attribute [${a.off}, ${a.end})`);
  }
}

function checkPayload(b: Uint8Array, off: number, end: number, flags: number): void {
  for (const fixed of [IFINFOMSG_LEN, IFADDRMSG_LEN, RTMSG_LEN, NLMSG_HDR_LEN + 4]) checkAttrs(b, off + fixed, end);
  ensureSane(parseLink(b, off, end), 'link');
  ensureSane(parseAddr(b, off, end), 'addr');
  ensureSane(parseRoute(b, off, end), 'route');
  for (const f of [flags, flags | NlmF.AckTlvs, NlmF.AckTlvs | NlmF.Capped]) ensureSane(parseError(b, off, end, f), 'error');
}

function checkNetlink(input: Uint8Array): void {
  let n = 0;
  for (const m of nlMessages(input, 0, input.length)) {
    ensure(++n <= input.length / NLMSG_HDR_LEN, 'message walk does not end');
    ensure(m.off >= NLMSG_HDR_LEN && m.off <= m.end && m.end <= input.length, `message [${m.off}, ${m.end})`);
    ensureSane(m.hdr);
    checkPayload(input, m.off, m.end, m.hdr.flags);
  }
  for (let off = 0; off < input.length; off += 4) ensureSane(parseNlHeader(input, off, input.length - off), 'header');
}

test('fuzz: rtnetlink framing, attributes and reply payloads', (t) => {
  logged(t, fuzz('netlink', NETLINK_REPLIES, 20_000, SEED + 4, checkNetlink));
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Text: IP addresses, CIDR, MAC

const ADDR_TEXTS = ['10.0.2.15', '255.255.255.255', '::', '2001:db8::1', 'fe80::1:2:3:4', '::ffff:10.0.0.1',
  '1:2:3:4:5:6:7:8', '10.0.0.0/8', 'fd00::/64', '9a:55:9a:55:9a:55'].map((s) => new TextEncoder().encode(s));

test('fuzz: address, CIDR and MAC text parsers; format -> parse round trips', (t) => {
  logged(t, fuzz('addr text', ADDR_TEXTS, 20_000, SEED + 5, (input) => {
    const text = Buffer.from(input).toString('latin1');
    const ip = parseIp(text);
    if (ip !== null) {
      ensure(ip.length === 4 || ip.length === 16, 'address length');
      ensure(canonical(parseIp(formatIp(ip))) === canonical(ip), `format/parse of ${text}`);
    }
    const cidr = parseCidr(text);
    if (cidr !== null) ensure(cidr.prefix >= 0 && cidr.prefix <= cidr.addr.length * 8, `prefix of ${text}`);
    const mac = parseMac(text);
    if (mac !== null) ensure(mac.length === 6 && canonical(parseMac(formatMac(mac))) === canonical(mac), 'mac');
  }));
  t.pass();
});
