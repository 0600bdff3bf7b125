/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): header views, type/code constants and header writers.
 *
 * Both share the 8-byte layout type, code, checksum, then 4 bytes whose meaning depends on the type (echo
 * identifier and sequence, a next-hop MTU, a pointer); the body follows (echo data, or as much of the
 * invoking packet as fits, for errors). `wrap` is given the bytes bounded by the IP length and needs the
 * 8-byte header. ICMPv4 checksums cover the message only; ICMPv6 ones include the IPv6 pseudo-header.
 */

export const ICMP_HEADER_LEN = 8;

/** Field offsets within the ICMP / ICMPv6 header. */
export const IcmpOff = { Type: 0, Code: 1, Checksum: 2, Rest: 4, EchoId: 4, EchoSeq: 6 } as const;

export const IcmpType = {
  EchoReply: 0, DestUnreachable: 3, SourceQuench: 4, Redirect: 5, EchoRequest: 8, TimeExceeded: 11,
  ParameterProblem: 12,
} as const;
export type IcmpType = (typeof IcmpType)[keyof typeof IcmpType];

/** Codes of IcmpType.DestUnreachable. */
export const IcmpUnreachCode = {
  Net: 0, Host: 1, Protocol: 2, Port: 3, FragNeeded: 4, SourceRouteFailed: 5, AdminProhibited: 13,
} as const;

export const Icmpv6Type = {
  DestUnreachable: 1, PacketTooBig: 2, TimeExceeded: 3, ParameterProblem: 4, EchoRequest: 128, EchoReply: 129,
  RouterSolicitation: 133, RouterAdvertisement: 134, NeighborSolicitation: 135, NeighborAdvertisement: 136,
  Redirect: 137,
} as const;
export type Icmpv6Type = (typeof Icmpv6Type)[keyof typeof Icmpv6Type];

/** Codes of Icmpv6Type.DestUnreachable. */
export const Icmpv6UnreachCode = {
  NoRoute: 0, AdminProhibited: 1, BeyondScope: 2, Address: 3, Port: 4, SourcePolicy: 5, RejectRoute: 6,
} as const;

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

/** Shared getters of the ICMP and ICMPv6 header; see the two subclasses. */
abstract class IcmpCommonView {
  protected dv = EMPTY;
  protected off = 0;
  protected len = 0;

  /** Aims at [off, off+len) (len bounded by the IP length); false unless the 8-byte header fits. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.dv = dv;
    this.off = off;
    this.len = len;
    return len >= ICMP_HEADER_LEN && off >= 0 && off + len <= dv.byteLength;
  }
  get type(): number { return this.dv.getUint8(this.off + IcmpOff.Type); }
  get code(): number { return this.dv.getUint8(this.off + IcmpOff.Code); }
  get checksum(): number { return this.dv.getUint16(this.off + IcmpOff.Checksum); }
  /** The 4 type-specific bytes as a u32. */
  get rest(): number { return this.dv.getUint32(this.off + IcmpOff.Rest); }
  /** Echo identifier and sequence (meaningful for echo messages only). */
  get echoId(): number { return this.dv.getUint16(this.off + IcmpOff.EchoId); }
  get echoSeq(): number { return this.dv.getUint16(this.off + IcmpOff.EchoSeq); }
  /** Echo data, or the invoking packet of an error. */
  get bodyOff(): number { return this.off + ICMP_HEADER_LEN; }
  get bodyLen(): number { return this.len - ICMP_HEADER_LEN; }
  abstract get isEcho(): boolean;
  abstract get isError(): boolean;
}

export class IcmpView extends IcmpCommonView {
  get isEcho(): boolean { return this.type === IcmpType.EchoRequest || this.type === IcmpType.EchoReply; }
  get isError(): boolean {
    const t = this.type;
    return t === IcmpType.DestUnreachable || t === IcmpType.SourceQuench || t === IcmpType.Redirect ||
      t === IcmpType.TimeExceeded || t === IcmpType.ParameterProblem;
  }
  /** Next-hop MTU of a "fragmentation needed" message (RFC 1191), else whatever is there. */
  get nextHopMtu(): number { return this.dv.getUint16(this.off + 6); }
}

export class Icmpv6View extends IcmpCommonView {
  get isEcho(): boolean { return this.type === Icmpv6Type.EchoRequest || this.type === Icmpv6Type.EchoReply; }
  /** Types below 128 are errors (RFC 4443 §2.1). */
  get isError(): boolean { return this.type < 128; }
  /** MTU of a Packet Too Big message. */
  get mtu(): number { return this.rest; }
  /** Pointer of a Parameter Problem message. */
  get pointer(): number { return this.rest; }
}

/** Writes an 8-byte header (checksum 0) with a u32 `rest` at buf[off]; returns the offset past it. */
export function writeIcmp(buf: Uint8Array, off: number, type: number, code: number, rest: number): number {
  buf[off] = type;
  buf[off + 1] = code;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = rest >>> 24;
  buf[off + 5] = (rest >>> 16) & 0xff;
  buf[off + 6] = (rest >>> 8) & 0xff;
  buf[off + 7] = rest & 0xff;
  return off + ICMP_HEADER_LEN;
}

/** Writes an echo header (request or reply type of either family) at buf[off]; returns the offset past it. */
export function writeIcmpEcho(buf: Uint8Array, off: number, type: number, id: number, seq: number): number {
  return writeIcmp(buf, off, type, 0, (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0);
}
