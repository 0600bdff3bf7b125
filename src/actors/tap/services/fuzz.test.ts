/**
 * Seeded fuzzing of the guest services (`respondToGuest`: ARP, DHCP, DHCPv6, NDP) with mutated request
 * frames, from the captured frames of testdata.ts. Two kinds of input: whole frames mutated (most stop at
 * the classifier or at a checksum), and mutated DHCP/DHCPv6/NDP messages put back into a well-formed
 * frame with lengths and checksums fixed, so that they reach the responders' parsers and decisions.
 * Invariants: nothing throws; a reply is written only inside [outOff, outOff+len) of an output buffer of
 * random size, and is itself a well-formed frame (classifies Ok, IP length = frame length, checksums good).
 */
import test from 'ava';
import {
  verifyIpv4HeaderChecksum, verifyIpv4L4Checksum, verifyIpv6L4Checksum,
} from '../../../protocol/checksum.js';
import { FrameClass, FrameClassifier, FrameKind, Verdict } from '../../../protocol/classify.js';
import { MAC_BROADCAST } from '../../../protocol/eth.js';
import { Headroom, buildUdp4, buildUdp6, setIpv6L4Checksum } from '../../../protocol/frame.js';
import { NDP_MESSAGES } from '../../../protocol/fuzz-corpus.js';
import { ensure, fuzz } from '../../../protocol/fuzz.js';
import type { Prng } from '../../../protocol/fuzz.js';
import { IpProto } from '../../../protocol/ipv4.js';
import type { ServicesConfig } from './config.js';
import { respondToGuest } from './index.js';
import {
  ARPING_OWN_ADDRESS, ARPING_REQUEST, DHCLIENT6_INFO_REQUEST, DHCLIENT6_REQUEST, DHCLIENT6_SOLICIT, DHCLIENT_DISCOVER,
  DHCLIENT_REQUEST, KERNEL_DAD_NS, KERNEL_RS, PASTA_DUID, UDHCPC_DISCOVER, UDHCPC_REQUEST, testConfig, unhex,
} from './testdata.js';

const SEED = 0x5eed0200;
const GUEST_MAC = unhex('f2385dde68d1');
const GUEST_LL = unhex('fe80000000000000f0385dfffede68d1');
const ETH_V4 = 14 + 20 + 8;
const ETH_V6 = 14 + 40 + 8;

const FRAMES = [
  UDHCPC_DISCOVER, UDHCPC_REQUEST, DHCLIENT_DISCOVER, DHCLIENT_REQUEST, ARPING_REQUEST, ARPING_OWN_ADDRESS,
  KERNEL_DAD_NS, KERNEL_RS, DHCLIENT6_SOLICIT, DHCLIENT6_REQUEST, DHCLIENT6_INFO_REQUEST,
];
/** UDP payloads and ICMPv6 messages of the frames above, plus an NS for another address. */
const DHCP4_MESSAGES = [UDHCPC_DISCOVER, UDHCPC_REQUEST, DHCLIENT_DISCOVER, DHCLIENT_REQUEST].map((f) => f.slice(ETH_V4));
const DHCP6_MESSAGES = [DHCLIENT6_SOLICIT, DHCLIENT6_REQUEST, DHCLIENT6_INFO_REQUEST].map((f) => f.slice(ETH_V6));
const NDP_SEEDS = [
  ...NDP_MESSAGES, unhex('87000000 00000000 20010db8000100000000000000000001 0101f2385dde68d1'),
];

/** Configurations: the captures' one, one with long search and DNS lists, one with services off. */
function configs(): ServicesConfig[] {
  const base = testConfig();
  const many = Array.from({ length: 40 }, (_, i) => `host${i}.a-rather-long-search-domain.example.org`);
  return [
    base,
    { ...base, duid: PASTA_DUID, searchList: many, ip4Dns: [1, 2, 3, 4, 5, 6, 7, 8], ip6Dns: [base.ip6LinkLocal, base.ip6Addr!] },
    { ...base, ip4Addr: null, ip6Addr: null, mtu: null, dhcpDns: false, dhcpSearch: false, noRa: true },
    { ...base, noDhcp: true, noNdp: true, noDhcpv6: true },
  ];
}
const CONFIGS = configs();
const classifier = new FrameClassifier();
const fc = new FrameClass();
const replyClass = new FrameClass();

/** Serves `frame` with a random config into a random-sized 0xa5 buffer; checks the reply. */
function serveAndCheck(frame: Uint8Array, rng: Prng): void {
  if (classifier.classify(frame, 0, frame.length, fc) !== Verdict.Ok) return;
  const cfg = rng.pick(CONFIGS);
  const outOff = rng.below(16);
  const out = new Uint8Array(outOff + (rng.chance(0.2) ? rng.below(700) : 2048)).fill(0xa5);
  const r = respondToGuest(cfg, frame, fc, out, outOff);
  if (r.action === 'drop') {
    ensure(typeof r.reason === 'string' && r.reason.length > 0, 'drop reason');
    ensure(out.every((x) => x === 0xa5), 'a drop wrote into the output buffer');
    return;
  }
  ensure(Number.isInteger(r.len) && r.len >= 42 && outOff + r.len <= out.length, `reply length ${r.len}`);
  ensure(out.subarray(0, outOff).every((x) => x === 0xa5), 'reply written before its offset');
  ensure(out.subarray(outOff + r.len).every((x) => x === 0xa5), 'reply written past its length');
  checkReplyFrame(out, outOff, r.len);
}

/** The reply is a frame of exactly its IP length with good checksums. */
function checkReplyFrame(out: Uint8Array, off: number, len: number): void {
  ensure(classifier.classify(out, off, len, replyClass) === Verdict.Ok, 'reply does not classify');
  const c = replyClass;
  if (c.kind === FrameKind.Arp) return;
  ensure(c.l3Off + c.l3Len === off + len, 'reply IP length is not the frame length');
  if (c.kind === FrameKind.Ipv4) {
    ensure(verifyIpv4HeaderChecksum(out, c.l3Off, 20) && verifyIpv4L4Checksum(out, c.l3Off), 'IPv4 reply checksum');
  } else {
    ensure(verifyIpv6L4Checksum(out, c.l3Off, c.l4Off, c.ipProto), 'IPv6 reply checksum');
  }
}

test('fuzz: respondToGuest on mutated request frames', (t) => {
  const r = fuzz('services (frames)', FRAMES, 40_000, SEED, serveAndCheck);
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Mutated messages in well-formed frames

/** A DHCP message from the guest in a broadcast UDP frame with good lengths and checksums. */
function dhcpFrame(msg: Uint8Array): Uint8Array {
  const b = new Uint8Array(Headroom.Udp4 + msg.length);
  b.set(msg, Headroom.Udp4);
  buildUdp4(b, 0, { dst: MAC_BROADCAST, src: GUEST_MAC }, { src: 0, dst: 0xffffffff }, 68, 67, msg.length);
  return b;
}

function dhcpv6Frame(msg: Uint8Array): Uint8Array {
  const b = new Uint8Array(Headroom.Udp6 + msg.length);
  b.set(msg, Headroom.Udp6);
  const dst = unhex('ff020000000000000000000000010002');
  buildUdp6(b, 0, { dst: unhex('333300010002'), src: GUEST_MAC }, { src: GUEST_LL, dst }, 546, 547, msg.length);
  return b;
}

/** An ICMPv6 message (NDP or not) from the guest's link-local address, hop limit 255, checksum filled. */
function ndpFrame(msg: Uint8Array, rng: Prng): Uint8Array {
  const b = new Uint8Array(14 + 40 + msg.length);
  b.set(unhex('333300000002'), 0);
  b.set(GUEST_MAC, 6);
  b.set([0x86, 0xdd, 0x60, 0, 0, 0, msg.length >> 8, msg.length & 0xff, IpProto.Icmpv6, 255], 12);
  b.set(rng.chance(0.2) ? new Uint8Array(16) : GUEST_LL, 22); // sometimes from ::
  b.set(unhex('ff020000000000000000000000000002'), 38);
  b.set(msg, 54);
  if (msg.length >= 4) setIpv6L4Checksum(b, 14, 54, IpProto.Icmpv6);
  return b;
}

test('fuzz: DHCP responder on mutated messages', (t) => {
  const r = fuzz('services (dhcp)', DHCP4_MESSAGES, 25_000, SEED + 1, (m, rng) => serveAndCheck(dhcpFrame(m), rng));
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

test('fuzz: DHCPv6 responder on mutated messages', (t) => {
  const r = fuzz('services (dhcpv6)', DHCP6_MESSAGES, 25_000, SEED + 2, (m, rng) => serveAndCheck(dhcpv6Frame(m), rng));
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

test('fuzz: NDP responder on mutated messages', (t) => {
  const r = fuzz('services (ndp)', NDP_SEEDS, 25_000, SEED + 3, (m, rng) => serveAndCheck(ndpFrame(m, rng), rng));
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
