/**
 * UDP (RFC 768): the header view and writer. `wrap` is given the upper-layer bytes bounded by the IP
 * length and accepts the datagram only if 8 <= UDP length <= those bytes; the payload is bounded by the
 * UDP length. The checksum is filled afterwards (checksum.ts, or frame.ts for whole frames).
 */

export const UDP_HEADER_LEN = 8;

/** Field offsets within the UDP header. */
export const UdpOff = { SrcPort: 0, DstPort: 2, Length: 4, Checksum: 6 } as const;

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

export class UdpView {
  #dv = EMPTY;
  #off = 0;

  /** Aims at [off, off+len); false unless the header fits and its length field is within 8..len. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    if (len < UDP_HEADER_LEN || off < 0 || off + len > dv.byteLength) return false;
    const l = this.length;
    return l >= UDP_HEADER_LEN && l <= len;
  }
  get srcPort(): number { return this.#dv.getUint16(this.#off + UdpOff.SrcPort); }
  get dstPort(): number { return this.#dv.getUint16(this.#off + UdpOff.DstPort); }
  /** Header plus payload, from the header. */
  get length(): number { return this.#dv.getUint16(this.#off + UdpOff.Length); }
  /** 0 means "no checksum" (IPv4 only). */
  get checksum(): number { return this.#dv.getUint16(this.#off + UdpOff.Checksum); }
  get payloadOff(): number { return this.#off + UDP_HEADER_LEN; }
  get payloadLen(): number { return this.length - UDP_HEADER_LEN; }
}

/** Writes the 8-byte header with a zero checksum at buf[off]; returns the offset past it. */
export function writeUdp(buf: Uint8Array, off: number, srcPort: number, dstPort: number, payloadLen: number): number {
  const len = UDP_HEADER_LEN + payloadLen;
  buf[off] = srcPort >>> 8;
  buf[off + 1] = srcPort & 0xff;
  buf[off + 2] = dstPort >>> 8;
  buf[off + 3] = dstPort & 0xff;
  buf[off + 4] = len >>> 8;
  buf[off + 5] = len & 0xff;
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  return off + UDP_HEADER_LEN;
}
