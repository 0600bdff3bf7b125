/**
 * Seeded fuzzing of the frame classifier and every packet view (eth, arp, ipv4, ipv6, tcp with its
 * options, udp, icmp, icmpv6), from the golden frames of fuzz-corpus.ts. Inputs sit in buffers of their
 * exact size, so any read past the end throws (DataView) and fails the run with the seed and input.
 * Beyond "never throws": every region a view or the classifier reports lies inside what it was given,
 * every getter of a wrapped view can be read, and the classifier's answer does not depend on where the
 * frame sits in its buffer.
 */
import test from 'ava';
import { ArpView } from './arp.js';
import { FrameClass, FrameClassifier, FrameKind, L4Kind, Verdict, flowHash, flowKey } from './classify.js';
import { EthView, dataViewOf } from './eth.js';
import { FRAMES, TCP_OPTION_LISTS } from './fuzz-corpus.js';
import { ensure, fuzz } from './fuzz.js';
import { IcmpView, Icmpv6View } from './icmp.js';
import { Ipv4View } from './ipv4.js';
import { IPV6_HEADER_LEN, Ipv6View } from './ipv6.js';
import { TCP_HEADER_LEN, TcpOptionCursor, TcpOptions, TcpView, parseTcpOptions } from './tcp.js';
import { fromHex as hex } from './test-bytes.js';
import { UdpView } from './udp.js';

const SEED = 0x5eed0001;
const classifier = new FrameClassifier();
const shifted = new FrameClassifier();

/** Fails unless [off, off+len) is a region inside [lo, hi). */
function ensureRegion(what: string, off: number, len: number, lo: number, hi: number): void {
  ensure(Number.isInteger(off) && Number.isInteger(len) && len >= 0, `${what}: off ${off} len ${len}`);
  ensure(off >= lo && off + len <= hi, `${what}: [${off}, ${off + len}) outside [${lo}, ${hi})`);
}

/** Reads every getter of `view` (own class and parents): none may throw or give a non-integer number. */
function readAllGetters(view: object): void {
  for (let p = Object.getPrototypeOf(view); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get === undefined) continue;
      const v: unknown = d.get.call(view);
      ensure(typeof v === 'boolean' || Number.isInteger(v), `${view.constructor.name}.${name} = ${String(v)}`);
    }
  }
}

/** The FrameClass with offsets made relative to the frame start, to compare placements. */
function relative(fc: FrameClass, base: number): string {
  const rel = { ...fc } as Record<string, unknown>;
  const ip = fc.kind === FrameKind.Ipv4 || fc.kind === FrameKind.Ipv6;
  const fields = ip ? ['l3Off', 'l4Off', 'payloadOff', 'srcAddrOff', 'dstAddrOff'] as const : ['l3Off', 'srcAddrOff', 'dstAddrOff'] as const;
  for (const k of fields) rel[k] = fc[k] - base; // ARP leaves l4Off and payloadOff at 0
  return JSON.stringify(rel);
}

function checkClassOk(b: Uint8Array, off: number, len: number, fc: FrameClass): void {
  const end = off + len;
  if (fc.kind === FrameKind.Arp) {
    ensureRegion('arp', fc.l3Off, fc.l3Len, off + 14, end);
    ensure(fc.l3Len === 28, 'arp length');
  } else {
    ensureRegion('l3', fc.l3Off, fc.l3Len, off + 14, end);
    ensureRegion('l4', fc.l4Off, fc.l4Len, fc.l3Off, fc.l3Off + fc.l3Len);
    ensureRegion('payload', fc.payloadOff, fc.payloadLen, fc.l4Off, fc.l4Off + fc.l4Len);
    ensure(fc.l4 !== L4Kind.None, 'an Ok IP frame has an l4 kind');
  }
  ensureRegion('src addr', fc.srcAddrOff, fc.addrLen, fc.l3Off, fc.l3Off + fc.l3Len);
  ensureRegion('dst addr', fc.dstAddrOff, fc.addrLen, fc.l3Off, fc.l3Off + fc.l3Len);
  ensure(flowKey(b, fc).length > 0 && Number.isInteger(flowHash(b, fc)), 'flow key');
}

/**
 * Classifies at 0 in the exact buffer, then at 3 in a 0xa5 buffer, then with 5 bytes of padding: same
 * answer, same offsets relative to the frame.
 */
function checkClassify(input: Uint8Array): void {
  const fc = new FrameClass();
  const v = classifier.classify(input, 0, input.length, fc);
  ensure(v >= Verdict.Ok && v <= Verdict.BadL4Header, `verdict ${v}`);
  if (v === Verdict.Ok) checkClassOk(input, 0, input.length, fc);
  const big = new Uint8Array(input.length + 8).fill(0xa5);
  big.set(input, 3);
  const fc2 = new FrameClass();
  ensure(shifted.classify(big, 3, input.length, fc2) === v, 'verdict depends on placement');
  if (v !== Verdict.Ok) return;
  ensure(relative(fc, 0) === relative(fc2, 3), 'class depends on placement');
  // link padding after the frame (here 0xa5) changes nothing: lengths come from the headers
  ensure(shifted.classify(big, 3, input.length + 5, fc2) === v && relative(fc, 0) === relative(fc2, 3), 'padding changes the class');
}

test('fuzz: FrameClassifier.classify', (t) => {
  const r = fuzz('classify', FRAMES, 100_000, SEED, checkClassify);
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Views, each wrapped at every plausible offset of the input

const eth = new EthView(), arp = new ArpView(), ip4 = new Ipv4View(), ip6 = new Ipv6View();
const tcp = new TcpView(), udp = new UdpView(), icmp = new IcmpView(), icmp6 = new Icmpv6View();
const cursor = new TcpOptionCursor();
const tcpOpts = new TcpOptions();

function checkIpv4(dv: DataView, off: number, len: number): void {
  if (!ip4.wrap(dv, off, len)) return;
  readAllGetters(ip4);
  ensureRegion('ipv4 options', ip4.optionsOff, ip4.optionsLen, off, off + ip4.totalLen);
  ensureRegion('ipv4 payload', ip4.payloadOff, ip4.payloadLen, off, off + len);
  checkL4(dv, ip4.payloadOff, ip4.payloadLen);
}

function checkIpv6(dv: DataView, off: number, len: number): void {
  if (!ip6.wrap(dv, off, len)) return;
  readAllGetters(ip6);
  ensure(ip6.extLen >= 0, 'extension headers of negative length');
  ensureRegion('ipv6 upper layer', ip6.upperOff, ip6.upperLen, off + IPV6_HEADER_LEN, off + len);
  ensure(ip6.upperOff + ip6.upperLen === off + ip6.totalLen, 'upper layer ends with the payload');
  checkL4(dv, ip6.upperOff, ip6.upperLen);
}

/** Every L4 view on the same bytes (whatever the protocol number says). */
function checkL4(dv: DataView, off: number, len: number): void {
  if (tcp.wrap(dv, off, len)) checkTcp(off, len);
  if (udp.wrap(dv, off, len)) {
    readAllGetters(udp);
    ensureRegion('udp payload', udp.payloadOff, udp.payloadLen, off, off + len);
  }
  for (const v of [icmp, icmp6]) {
    if (!v.wrap(dv, off, len)) continue;
    readAllGetters(v);
    ensureRegion('icmp body', v.bodyOff, v.bodyLen, off, off + len);
  }
}

function checkTcp(off: number, len: number): void {
  readAllGetters(tcp);
  ensureRegion('tcp options', tcp.optionsOff, tcp.optionsLen, off + TCP_HEADER_LEN, off + tcp.headerLen);
  ensureRegion('tcp payload', tcp.payloadOff, tcp.payloadLen, off, off + len);
  checkTcpOptions();
}

/** Walks the options: every option inside the options field, the walk ends within one step per byte. */
function checkTcpOptions(): void {
  const lo = tcp.optionsOff, hi = lo + tcp.optionsLen;
  tcp.options(cursor);
  let steps = 0;
  while (cursor.next()) {
    ensure(++steps <= tcp.optionsLen, 'option walk does not end');
    ensureRegion(`option ${cursor.kind}`, cursor.dataOff, cursor.dataLen, lo, hi);
    if (cursor.dataLen >= 1) cursor.u8();
    if (cursor.dataLen >= 2) cursor.u16();
    if (cursor.dataLen >= 4) cursor.u32();
  }
  const ok = parseTcpOptions(tcp, tcpOpts);
  ensure(ok === !cursor.malformed, 'parseTcpOptions agrees with the cursor');
  ensure(tcpOpts.mss >= 0 && tcpOpts.mss <= 0xffff && tcpOpts.wscale >= -1 && tcpOpts.wscale <= 0xff, 'options in range');
}

function checkViews(input: Uint8Array): void {
  const dv = dataViewOf(input);
  for (const off of [0, 14]) {
    const len = input.length - off;
    if (len < 0) continue;
    if (eth.wrap(dv, off, len)) {
      readAllGetters(eth);
      ensureRegion('eth payload', eth.payloadOff, eth.payloadLen, off, off + len);
    }
    if (arp.wrap(dv, off, len)) readAllGetters(arp);
    checkIpv4(dv, off, len);
    checkIpv6(dv, off, len);
    checkL4(dv, off, len);
  }
}

test('fuzz: every packet view (eth, arp, ipv4, ipv6, tcp, udp, icmp, icmpv6)', (t) => {
  const r = fuzz('views', FRAMES, 40_000, SEED + 1, checkViews);
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

/** A TCP header (data offset from the option list's length, capped at 15 words) then the list. */
function tcpWithOptions(list: Uint8Array): Uint8Array {
  const words = Math.min(15, 5 + Math.ceil(list.length / 4));
  const b = new Uint8Array(words * 4 + 4);
  b.set(hex('a8ca 0050 12345678 00000000'));
  b[12] = words << 4;
  b[13] = 0x02;
  b.set(list.subarray(0, words * 4 - TCP_HEADER_LEN), TCP_HEADER_LEN);
  return b;
}

test('fuzz: TCP option lists', (t) => {
  const r = fuzz('tcp options', TCP_OPTION_LISTS, 20_000, SEED + 2, (list) => {
    const seg = tcpWithOptions(list);
    const dv = dataViewOf(seg);
    if (tcp.wrap(dv, 0, seg.length)) checkTcp(0, seg.length);
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
