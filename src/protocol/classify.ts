/**
 * The tap actor's frame classifier: one pass over Ethernet, ARP or IPv4/IPv6 and TCP/UDP/ICMP headers that
 * fills a reusable `FrameClass` with numbers only (addresses as offsets into the frame, IPv4 also as u32),
 * and returns a `Verdict`: `Verdict.Ok` or the reason to drop the frame, for per-reason drop counters.
 *
 * Invariants of an Ok verdict:
 * - every offset in the FrameClass is absolute (into the same Uint8Array) and its region lies inside the
 *   frame; lengths are bounded by the IP length, never by the frame end (links pad to 60 bytes);
 * - `l4 !== L4Kind.Other/None` means that protocol's header was validated by its view;
 * - first IPv4/IPv6 fragments pass (`fragment` is true); later fragments are `Verdict.Fragment`.
 * Unknown upper-layer protocols are Ok with `l4 = L4Kind.Other` (the payload is all the upper layer);
 * unknown EtherTypes are dropped. Nothing here allocates per frame except `flowKey`, which is opt-in.
 */
import { ARP_LEN, ArpView } from './arp.js';
import { ETH_HEADER_LEN, EthView, EtherType } from './eth.js';
import { IcmpView, Icmpv6View } from './icmp.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4View } from './ipv4.js';
import { IPV6_HEADER_LEN, Ipv6View } from './ipv6.js';
import { TcpView } from './tcp.js';
import { UdpView } from './udp.js';

export const FrameKind = { Other: 0, Arp: 1, Ipv4: 2, Ipv6: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const L4Kind = { None: 0, Tcp: 1, Udp: 2, Icmp: 3, Icmpv6: 4, Other: 5 } as const;
export type L4Kind = (typeof L4Kind)[keyof typeof L4Kind];

/** What to do with a frame: Ok, or why it is dropped. */
export const Verdict = {
  Ok: 0,
  /** Shorter than an Ethernet header, or than the minimal header its EtherType announces. */
  Truncated: 1,
  UnsupportedEtherType: 2,
  /** ARP for other than Ethernet/IPv4. */
  BadArp: 3,
  /** Wrong IP version for the EtherType, or IPv4 IHL below 5. */
  BadIpHeader: 4,
  /** IP total/payload length beyond the frame, or IPv4 total length below its header length. */
  BadIpLength: 5,
  /** IPv6 extension header chain malformed, too long, or past the payload. */
  BadExtHeader: 6,
  /** A non-first fragment (not reassembled). */
  Fragment: 7,
  /** TCP/UDP/ICMP header does not fit or is inconsistent (TCP data offset, UDP length). */
  BadL4Header: 8,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Verdict names indexed by code, for counters and traces. */
export const VerdictName: readonly string[] = Object.entries(Verdict)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);
export const VERDICT_COUNT = VerdictName.length;

/** What `classify` found; reused frame after frame (call sites must copy what outlives the frame). */
export class FrameClass {
  kind: FrameKind = FrameKind.Other;
  etherType = 0;
  /** L3 header offset and length bounded by the IP total length (ARP: 28). */
  l3Off = 0;
  l3Len = 0;
  /** Upper-layer protocol number (after IPv6 extension headers), -1 if not IP. */
  ipProto = -1;
  l4: L4Kind = L4Kind.None;
  l4Off = 0;
  l4Len = 0;
  /** L4 payload: TCP data, UDP data, ICMP body; the whole upper layer for L4Kind.Other. */
  payloadOff = 0;
  payloadLen = 0;
  /** Source/destination IP offsets into the frame (ARP: sender/target IP) and their length (4 or 16). */
  srcAddrOff = 0;
  dstAddrOff = 0;
  addrLen = 0;
  /** IPv4 (and ARP) addresses as u32; 0 for IPv6. */
  src4 = 0;
  dst4 = 0;
  /** TCP/UDP ports, 0 otherwise. */
  srcPort = 0;
  dstPort = 0;
  /** Identifier of an ICMP/ICMPv6 echo request or reply, -1 otherwise. */
  echoId = -1;
  icmpType = -1;
  icmpCode = -1;
  tcpFlags = 0;
  /** TTL or hop limit. */
  ttl = 0;
  /** A first fragment: more follow, the L4 payload is partial. */
  fragment = false;
  arpOp = 0;

  reset(): void {
    this.kind = FrameKind.Other;
    this.etherType = 0;
    this.l3Off = this.l3Len = this.l4Off = this.l4Len = this.payloadOff = this.payloadLen = 0;
    this.ipProto = -1;
    this.l4 = L4Kind.None;
    this.srcAddrOff = this.dstAddrOff = this.addrLen = this.src4 = this.dst4 = 0;
    this.srcPort = this.dstPort = this.tcpFlags = this.ttl = this.arpOp = 0;
    this.echoId = this.icmpType = this.icmpCode = -1;
    this.fragment = false;
  }
}

/** Classifies frames; owns its views and a one-entry DataView cache (keep one per actor). */
export class FrameClassifier {
  readonly #eth = new EthView();
  readonly #arp = new ArpView();
  readonly #ip4 = new Ipv4View();
  readonly #ip6 = new Ipv6View();
  readonly #tcp = new TcpView();
  readonly #udp = new UdpView();
  readonly #icmp = new IcmpView();
  readonly #icmp6 = new Icmpv6View();
  #b: Uint8Array | null = null;
  #dv: DataView = new DataView(new ArrayBuffer(0));

  /** Classifies the frame b[off, off+len) into `out`; never throws. */
  classify(b: Uint8Array, off: number, len: number, out: FrameClass): Verdict {
    out.reset();
    const dv = this.#dvFor(b);
    if (!this.#eth.wrap(dv, off, len)) return Verdict.Truncated;
    const et = this.#eth.etherType;
    out.etherType = et;
    const l3Off = off + ETH_HEADER_LEN;
    const l3Max = len - ETH_HEADER_LEN;
    switch (et) {
      case EtherType.Arp: return this.#classifyArp(dv, l3Off, l3Max, out);
      case EtherType.Ipv4: return this.#classifyIpv4(dv, l3Off, l3Max, out);
      case EtherType.Ipv6: return this.#classifyIpv6(dv, l3Off, l3Max, out);
      default: return Verdict.UnsupportedEtherType;
    }
  }

  /** A DataView over `b`, reused while frames keep arriving in the same buffer. */
  #dvFor(b: Uint8Array): DataView {
    const c = this.#b;
    if (c === null || c.buffer !== b.buffer || c.byteOffset !== b.byteOffset || c.byteLength !== b.byteLength) {
      this.#b = b;
      this.#dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.#dv;
  }

  #classifyArp(dv: DataView, off: number, max: number, out: FrameClass): Verdict {
    out.kind = FrameKind.Arp;
    if (max < ARP_LEN) return Verdict.Truncated;
    const arp = this.#arp;
    if (!arp.wrap(dv, off, max)) return Verdict.BadArp;
    out.l3Off = off;
    out.l3Len = ARP_LEN;
    out.arpOp = arp.op;
    out.srcAddrOff = arp.senderIpOff;
    out.dstAddrOff = arp.targetIpOff;
    out.addrLen = 4;
    out.src4 = arp.senderIp;
    out.dst4 = arp.targetIp;
    return Verdict.Ok;
  }

  #classifyIpv4(dv: DataView, off: number, max: number, out: FrameClass): Verdict {
    out.kind = FrameKind.Ipv4;
    const ip = this.#ip4;
    if (!ip.wrap(dv, off, max)) return diagnoseIpv4(dv, off, max);
    out.l3Off = off;
    out.l3Len = ip.totalLen;
    out.srcAddrOff = ip.srcOff;
    out.dstAddrOff = ip.dstOff;
    out.addrLen = 4;
    out.src4 = ip.src;
    out.dst4 = ip.dst;
    out.ttl = ip.ttl;
    out.ipProto = ip.protocol;
    if (ip.fragmentOffset !== 0) return Verdict.Fragment;
    out.fragment = ip.moreFragments;
    return this.#classifyL4(dv, ip.protocol, ip.payloadOff, ip.payloadLen, false, out);
  }

  #classifyIpv6(dv: DataView, off: number, max: number, out: FrameClass): Verdict {
    out.kind = FrameKind.Ipv6;
    const ip = this.#ip6;
    if (!ip.wrap(dv, off, max)) return diagnoseIpv6(dv, off, max);
    out.l3Off = off;
    out.l3Len = ip.totalLen;
    out.srcAddrOff = ip.srcOff;
    out.dstAddrOff = ip.dstOff;
    out.addrLen = 16;
    out.ttl = ip.hopLimit;
    out.ipProto = ip.upperProto;
    if (ip.fragmentOffset !== 0) return Verdict.Fragment;
    out.fragment = ip.moreFragments;
    return this.#classifyL4(dv, ip.upperProto, ip.upperOff, ip.upperLen, true, out);
  }

  /** Dispatches on the upper-layer protocol; a first fragment whose L4 header is cut counts as Fragment. */
  #classifyL4(dv: DataView, proto: number, off: number, len: number, v6: boolean, out: FrameClass): Verdict {
    out.l4Off = out.payloadOff = off;
    out.l4Len = out.payloadLen = len;
    const v = this.#dispatchL4(dv, proto, off, len, v6, out);
    return v === Verdict.BadL4Header && out.fragment ? Verdict.Fragment : v;
  }

  #dispatchL4(dv: DataView, proto: number, off: number, len: number, v6: boolean, out: FrameClass): Verdict {
    switch (proto) {
      case IpProto.Tcp: return this.#classifyTcp(dv, off, len, out);
      case IpProto.Udp: return this.#classifyUdp(dv, off, len, out);
      case IpProto.Icmp: return v6 ? otherL4(out) : this.#classifyIcmp(this.#icmp, L4Kind.Icmp, dv, off, len, out);
      case IpProto.Icmpv6: return v6 ? this.#classifyIcmp(this.#icmp6, L4Kind.Icmpv6, dv, off, len, out) : otherL4(out);
      default: return otherL4(out); // unknown upper layers pass whole, as L4Kind.Other
    }
  }

  #classifyTcp(dv: DataView, off: number, len: number, out: FrameClass): Verdict {
    const tcp = this.#tcp;
    if (!tcp.wrap(dv, off, len)) return Verdict.BadL4Header;
    out.l4 = L4Kind.Tcp;
    out.srcPort = tcp.srcPort;
    out.dstPort = tcp.dstPort;
    out.tcpFlags = tcp.flags;
    out.payloadOff = tcp.payloadOff;
    out.payloadLen = tcp.payloadLen;
    return Verdict.Ok;
  }

  #classifyUdp(dv: DataView, off: number, len: number, out: FrameClass): Verdict {
    const udp = this.#udp;
    if (!udp.wrap(dv, off, len)) return Verdict.BadL4Header;
    out.l4 = L4Kind.Udp;
    out.srcPort = udp.srcPort;
    out.dstPort = udp.dstPort;
    out.l4Len = udp.length;
    out.payloadOff = udp.payloadOff;
    out.payloadLen = udp.payloadLen;
    return Verdict.Ok;
  }

  #classifyIcmp(
    view: IcmpView | Icmpv6View, kind: L4Kind, dv: DataView, off: number, len: number, out: FrameClass,
  ): Verdict {
    if (!view.wrap(dv, off, len)) return Verdict.BadL4Header;
    out.l4 = kind;
    out.icmpType = view.type;
    out.icmpCode = view.code;
    if (view.isEcho) out.echoId = view.echoId;
    out.payloadOff = view.bodyOff;
    out.payloadLen = view.bodyLen;
    return Verdict.Ok;
  }
}

function otherL4(out: FrameClass): Verdict {
  out.l4 = L4Kind.Other;
  return Verdict.Ok;
}

/** Why Ipv4View.wrap refused [off, off+max) (cold path). */
function diagnoseIpv4(dv: DataView, off: number, max: number): Verdict {
  if (max < IPV4_HEADER_LEN || off + max > dv.byteLength) return Verdict.Truncated;
  const b0 = dv.getUint8(off);
  if (b0 >> 4 !== 4 || (b0 & 0x0f) * 4 < IPV4_HEADER_LEN) return Verdict.BadIpHeader;
  return Verdict.BadIpLength; // total length above the frame or below the header length
}

/** Why Ipv6View.wrap refused [off, off+max) (cold path). */
function diagnoseIpv6(dv: DataView, off: number, max: number): Verdict {
  if (max < IPV6_HEADER_LEN || off + max > dv.byteLength) return Verdict.Truncated;
  if (dv.getUint8(off) >> 4 !== 6) return Verdict.BadIpHeader;
  if (IPV6_HEADER_LEN + dv.getUint16(off + 4) > max) return Verdict.BadIpLength;
  return Verdict.BadExtHeader;
}

const defaultClassifier = new FrameClassifier();

/** `FrameClassifier.classify` on a module-wide instance (single-threaded callers only, as JS is). */
export function classifyFrame(b: Uint8Array, off: number, len: number, out: FrameClass): Verdict {
  return defaultClassifier.classify(b, off, len, out);
}

// ---------------------------------------------------------------------------------------------
// Flow keys (opt-in: they allocate a string)

const keyWords = new Uint16Array(20);

/** Stores the 16-bit words of n bytes at b[off] into keyWords from index `at`; returns the next index. */
function addrWords(b: Uint8Array, off: number, n: number, at: number): number {
  for (let i = 0; i < n; i += 2) keyWords[at++] = (b[off + i]! << 8) | b[off + i + 1]!;
  return at;
}

/** Fills keyWords with the directional 5-tuple of `fc` (ICMP echo id in place of ports); returns its length. */
function flowWords(b: Uint8Array, fc: FrameClass): number {
  keyWords[0] = (fc.kind << 8) | (fc.ipProto & 0xff);
  const echo = fc.echoId >= 0;
  keyWords[1] = echo ? fc.echoId : fc.srcPort;
  keyWords[2] = echo ? fc.echoId : fc.dstPort;
  if (fc.kind !== FrameKind.Ipv4 && fc.kind !== FrameKind.Ipv6) return 1;
  const at = addrWords(b, fc.srcAddrOff, fc.addrLen, 3);
  return addrWords(b, fc.dstAddrOff, fc.addrLen, at);
}

/**
 * A short string naming the flow of a classified (Ok) frame, for grouping frames of one flow in a batch:
 * equal for frames with the same kind, protocol, addresses and ports (or echo id), in that direction. All
 * ARP frames share one key; so do all frames of any other kind.
 */
export function flowKey(b: Uint8Array, fc: FrameClass): string {
  const n = flowWords(b, fc);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(keyWords[i]!);
  return s;
}

/** A 32-bit FNV-1a hash of the same tuple as `flowKey` (for sharding; collisions possible). */
export function flowHash(b: Uint8Array, fc: FrameClass): number {
  const n = flowWords(b, fc);
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ keyWords[i]!, 0x01000193);
  return h >>> 0;
}
