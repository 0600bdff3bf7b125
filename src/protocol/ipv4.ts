/**
 * IPv4 (RFC 791): the header view, its writer, and the IP protocol numbers shared with IPv6.
 *
 * `Ipv4View.wrap` accepts a datagram only if version is 4, 20 <= IHL*4 <= total length <= the bytes
 * given: everything after `totalLen` is link padding and is never part of `payloadLen`. Fragments are
 * not reassembled: the view reports them (`isFragment`, `fragmentOffset`) and callers decide.
 */
import { setIpv4HeaderChecksum } from './checksum.js';

export const IPV4_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;

/** Field offsets within the IPv4 header. */
export const Ipv4Off = {
  VersionIhl: 0, Tos: 1, TotalLen: 2, Id: 4, FlagsFrag: 6, Ttl: 8, Proto: 9, Checksum: 10, Src: 12, Dst: 16,
} as const;

/** IP protocol / IPv6 next-header numbers we know by name; any other value stays a plain number. */
export const IpProto = {
  HopByHop: 0, Icmp: 1, Tcp: 6, Udp: 17, Ipv6Route: 43, Ipv6Frag: 44, Esp: 50, Ah: 51, Icmpv6: 58,
  Ipv6NoNext: 59, Ipv6DestOpts: 60,
} as const;
export type IpProto = (typeof IpProto)[keyof typeof IpProto];

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

export class Ipv4View {
  #dv = EMPTY;
  #off = 0;

  /** Aims at [off, off+len); false unless a whole, sane IPv4 header and its total length fit there. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    if (len < IPV4_HEADER_LEN || off < 0 || off + len > dv.byteLength) return false;
    if (this.version !== 4) return false;
    const ihl = this.headerLen;
    const total = this.totalLen;
    return ihl >= IPV4_HEADER_LEN && ihl <= total && total <= len;
  }
  get version(): number { return this.#dv.getUint8(this.#off) >> 4; }
  get headerLen(): number { return (this.#dv.getUint8(this.#off) & 0x0f) * 4; }
  get tos(): number { return this.#dv.getUint8(this.#off + Ipv4Off.Tos); }
  get totalLen(): number { return this.#dv.getUint16(this.#off + Ipv4Off.TotalLen); }
  get id(): number { return this.#dv.getUint16(this.#off + Ipv4Off.Id); }
  get dontFragment(): boolean { return (this.#flagsFrag() & FLAG_DF) !== 0; }
  get moreFragments(): boolean { return (this.#flagsFrag() & FLAG_MF) !== 0; }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number { return (this.#flagsFrag() & FRAG_OFFSET_MASK) * 8; }
  /** True for any fragment, first or not. */
  get isFragment(): boolean { return (this.#flagsFrag() & (FLAG_MF | FRAG_OFFSET_MASK)) !== 0; }
  get ttl(): number { return this.#dv.getUint8(this.#off + Ipv4Off.Ttl); }
  get protocol(): number { return this.#dv.getUint8(this.#off + Ipv4Off.Proto); }
  get checksum(): number { return this.#dv.getUint16(this.#off + Ipv4Off.Checksum); }
  get src(): number { return this.#dv.getUint32(this.#off + Ipv4Off.Src); }
  get dst(): number { return this.#dv.getUint32(this.#off + Ipv4Off.Dst); }
  get srcOff(): number { return this.#off + Ipv4Off.Src; }
  get dstOff(): number { return this.#off + Ipv4Off.Dst; }
  get optionsOff(): number { return this.#off + IPV4_HEADER_LEN; }
  get optionsLen(): number { return this.headerLen - IPV4_HEADER_LEN; }
  get payloadOff(): number { return this.#off + this.headerLen; }
  /** Bytes after the header up to the total length (never the link padding). */
  get payloadLen(): number { return this.totalLen - this.headerLen; }
  #flagsFrag(): number { return this.#dv.getUint16(this.#off + Ipv4Off.FlagsFrag); }
}

/** What `writeIpv4` needs besides the protocol and payload length. Defaults: ttl 64, id 0, no DF, tos 0. */
export interface Ipv4Params {
  src: number;
  dst: number;
  ttl?: number;
  id?: number;
  dontFragment?: boolean;
  tos?: number;
}

/** Writes a 20-byte header (no options) with its checksum at buf[off]; returns the offset past it. */
export function writeIpv4(buf: Uint8Array, off: number, ip: Ipv4Params, proto: number, payloadLen: number): number {
  const total = IPV4_HEADER_LEN + payloadLen;
  const id = ip.id ?? 0;
  buf[off] = 0x45;
  buf[off + 1] = ip.tos ?? 0;
  buf[off + 2] = total >>> 8;
  buf[off + 3] = total & 0xff;
  buf[off + 4] = id >>> 8;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = ip.dontFragment === true ? FLAG_DF >>> 8 : 0;
  buf[off + 7] = 0;
  buf[off + 8] = ip.ttl ?? 64;
  buf[off + 9] = proto;
  writeU32(buf, off + 12, ip.src);
  writeU32(buf, off + 16, ip.dst);
  setIpv4HeaderChecksum(buf, off, IPV4_HEADER_LEN);
  return off + IPV4_HEADER_LEN;
}

function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}
