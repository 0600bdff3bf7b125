/**
 * IPv6 (RFC 8200): the header view with its extension-header walk, and the header writer.
 *
 * `Ipv6View.wrap` accepts a packet only if version is 6 and 40 + payload length fits in the bytes given
 * (the rest is link padding), then walks at most `IPV6_MAX_EXT_HEADERS` extension headers (hop-by-hop, only
 * first; routing; destination options; fragment) to the upper-layer protocol. Any extension header that
 * runs past the payload fails the wrap. The walk stops at a non-first fragment: its upper-layer header is
 * in another packet, and `upperProto` is then the fragment header's next header over fragment data.
 * Jumbograms (payload length 0 with a jumbo option) are not supported: they are only 40-byte packets here.
 */
import { IpProto } from './ipv4.js';

export { IpProto } from './ipv4.js';

export const IPV6_HEADER_LEN = 40;
/** Bound on the extension-header walk. */
export const IPV6_MAX_EXT_HEADERS = 8;
export const IPV6_FRAG_HEADER_LEN = 8;

/** Field offsets within the IPv6 header. */
export const Ipv6Off = { VerTcFlow: 0, PayloadLen: 4, NextHeader: 6, HopLimit: 7, Src: 8, Dst: 24 } as const;

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

export class Ipv6View {
  #dv = EMPTY;
  #off = 0;
  #upperProto = 0;
  #upperOff = 0;
  #fragOff = -1;

  /** Aims at [off, off+len); false unless the header, its payload and every extension header fit. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    this.#fragOff = -1;
    if (len < IPV6_HEADER_LEN || off < 0 || off + len > dv.byteLength) return false;
    if (this.version !== 6 || IPV6_HEADER_LEN + this.payloadLen > len) return false;
    return this.#walk(this.nextHeader, off + IPV6_HEADER_LEN, off + IPV6_HEADER_LEN + this.payloadLen);
  }

  /** Follows extension headers from `pos` until an upper-layer header; false if malformed or too many. */
  #walk(next: number, pos: number, end: number): boolean {
    for (let n = 0; n <= IPV6_MAX_EXT_HEADERS; n++) {
      if (next === IpProto.Ipv6Frag) {
        if (pos + IPV6_FRAG_HEADER_LEN > end) return false;
        this.#fragOff = pos;
        next = this.#dv.getUint8(pos);
        pos += IPV6_FRAG_HEADER_LEN;
        if (this.fragmentOffset !== 0) break;
      } else if (isOptionsLike(next) && (next !== IpProto.HopByHop || n === 0)) {
        if (pos + 8 > end) return false;
        const hlen = (this.#dv.getUint8(pos + 1) + 1) * 8;
        if (pos + hlen > end) return false;
        next = this.#dv.getUint8(pos);
        pos += hlen;
      } else if (next === IpProto.HopByHop) {
        return false; // hop-by-hop anywhere but first
      } else {
        break;
      }
      if (n === IPV6_MAX_EXT_HEADERS) return false;
    }
    this.#upperProto = next;
    this.#upperOff = pos;
    return true;
  }

  get version(): number { return this.#dv.getUint8(this.#off) >> 4; }
  get trafficClass(): number { return (this.#dv.getUint16(this.#off) >> 4) & 0xff; }
  get flowLabel(): number { return this.#dv.getUint32(this.#off) & 0xfffff; }
  get payloadLen(): number { return this.#dv.getUint16(this.#off + Ipv6Off.PayloadLen); }
  /** Header plus payload: what an IPv4 total length would be. */
  get totalLen(): number { return IPV6_HEADER_LEN + this.payloadLen; }
  get nextHeader(): number { return this.#dv.getUint8(this.#off + Ipv6Off.NextHeader); }
  get hopLimit(): number { return this.#dv.getUint8(this.#off + Ipv6Off.HopLimit); }
  get srcOff(): number { return this.#off + Ipv6Off.Src; }
  get dstOff(): number { return this.#off + Ipv6Off.Dst; }
  /** Upper-layer protocol after extension headers (IpProto.Ipv6NoNext if none). */
  get upperProto(): number { return this.#upperProto; }
  /** Absolute offset of the upper-layer header (or of fragment data for a non-first fragment). */
  get upperOff(): number { return this.#upperOff; }
  /** Upper-layer bytes up to the end of the payload. */
  get upperLen(): number { return this.#off + IPV6_HEADER_LEN + this.payloadLen - this.#upperOff; }
  /** Total length of the extension headers walked. */
  get extLen(): number { return this.#upperOff - this.#off - IPV6_HEADER_LEN; }
  get hasFragmentHeader(): boolean { return this.#fragOff >= 0; }
  /** Fragment offset in bytes (0 without a fragment header). */
  get fragmentOffset(): number { return this.#fragOff < 0 ? 0 : this.#dv.getUint16(this.#fragOff + 2) & 0xfff8; }
  get moreFragments(): boolean { return this.#fragOff >= 0 && (this.#dv.getUint8(this.#fragOff + 3) & 1) === 1; }
  get fragmentId(): number { return this.#fragOff < 0 ? 0 : this.#dv.getUint32(this.#fragOff + 4); }
  /** True for a real fragment (first or not); an atomic fragment (offset 0, no M flag) is not one. */
  get isFragment(): boolean { return this.fragmentOffset !== 0 || this.moreFragments; }
}

function isOptionsLike(next: number): boolean {
  return next === IpProto.HopByHop || next === IpProto.Ipv6Route || next === IpProto.Ipv6DestOpts;
}

/** What `writeIpv6` needs besides next header and payload length. Defaults: offsets 0, hop limit 64, tc/flow 0. */
export interface Ipv6Params {
  src: Uint8Array;
  srcOff?: number;
  dst: Uint8Array;
  dstOff?: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** Writes the 40-byte fixed header at buf[off]; returns the offset past it. */
export function writeIpv6(
  buf: Uint8Array, off: number, ip: Ipv6Params, nextHeader: number, payloadLen: number,
): number {
  const tc = ip.trafficClass ?? 0;
  const flow = ip.flowLabel ?? 0;
  buf[off] = 0x60 | (tc >>> 4);
  buf[off + 1] = ((tc & 0x0f) << 4) | ((flow >>> 16) & 0x0f);
  buf[off + 2] = (flow >>> 8) & 0xff;
  buf[off + 3] = flow & 0xff;
  buf[off + 4] = payloadLen >>> 8;
  buf[off + 5] = payloadLen & 0xff;
  buf[off + 6] = nextHeader;
  buf[off + 7] = ip.hopLimit ?? 64;
  copy16(ip.src, ip.srcOff ?? 0, buf, off + Ipv6Off.Src);
  copy16(ip.dst, ip.dstOff ?? 0, buf, off + Ipv6Off.Dst);
  return off + IPV6_HEADER_LEN;
}

function copy16(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < 16; i++) dst[dstOff + i] = src[srcOff + i]!;
}
