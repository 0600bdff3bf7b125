/**
 * ARP (RFC 826) for Ethernet and IPv4 only: the packet view and writer. `wrap` rejects other hardware or
 * protocol types and sizes (they cannot be answered here); the operation may be any number.
 */

export const ARP_LEN = 28;

/** Field offsets within the ARP packet. */
export const ArpOff = {
  HwType: 0, ProtoType: 2, HwLen: 4, ProtoLen: 5, Op: 6, SenderMac: 8, SenderIp: 14, TargetMac: 18, TargetIp: 24,
} as const;

export const ArpOp = { Request: 1, Reply: 2 } as const;
export type ArpOp = (typeof ArpOp)[keyof typeof ArpOp];

const HW_ETHERNET = 1;
const PROTO_IPV4 = 0x0800;

/** Hardware type, protocol type and address sizes of Ethernet/IPv4 ARP. */
const FIXED_PREFIX = new Uint8Array([0, HW_ETHERNET, PROTO_IPV4 >>> 8, PROTO_IPV4 & 0xff, 6, 4]);

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

export class ArpView {
  #dv = EMPTY;
  #off = 0;

  /** Aims at [off, off+len); false unless 28 bytes of Ethernet/IPv4 ARP fit. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    if (len < ARP_LEN || off < 0 || off + len > dv.byteLength) return false;
    return dv.getUint16(off + ArpOff.HwType) === HW_ETHERNET && dv.getUint16(off + ArpOff.ProtoType) === PROTO_IPV4 &&
      dv.getUint8(off + ArpOff.HwLen) === 6 && dv.getUint8(off + ArpOff.ProtoLen) === 4;
  }
  get op(): number { return this.#dv.getUint16(this.#off + ArpOff.Op); }
  get senderMacOff(): number { return this.#off + ArpOff.SenderMac; }
  get senderIpOff(): number { return this.#off + ArpOff.SenderIp; }
  get targetMacOff(): number { return this.#off + ArpOff.TargetMac; }
  get targetIpOff(): number { return this.#off + ArpOff.TargetIp; }
  /** Sender and target protocol addresses as u32. */
  get senderIp(): number { return this.#dv.getUint32(this.#off + ArpOff.SenderIp); }
  get targetIp(): number { return this.#dv.getUint32(this.#off + ArpOff.TargetIp); }
}

/** Writes a 28-byte Ethernet/IPv4 ARP packet at buf[off]; IPs are u32. Returns the offset past it. */
export function writeArp(
  buf: Uint8Array, off: number, op: number, senderMac: Uint8Array, senderIp: number, targetMac: Uint8Array,
  targetIp: number,
): number {
  buf.set(FIXED_PREFIX, off);
  buf[off + ArpOff.Op] = op >>> 8;
  buf[off + ArpOff.Op + 1] = op & 0xff;
  writeMacIp(buf, off + ArpOff.SenderMac, senderMac, senderIp);
  writeMacIp(buf, off + ArpOff.TargetMac, targetMac, targetIp);
  return off + ARP_LEN;
}

function writeMacIp(buf: Uint8Array, at: number, mac: Uint8Array, ip: number): void {
  for (let i = 0; i < 6; i++) buf[at + i] = mac[i]!;
  buf[at + 6] = ip >>> 24;
  buf[at + 7] = (ip >>> 16) & 0xff;
  buf[at + 8] = (ip >>> 8) & 0xff;
  buf[at + 9] = ip & 0xff;
}
