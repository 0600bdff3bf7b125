/**
 * Ethernet II: the frame header view, its writer, MAC address helpers.
 *
 * Views in src/protocol share one shape: `wrap(dv, off, len)` aims the view at [off, off+len) of a
 * DataView and returns false if no valid header fits there; after a true, no getter can fail. Offsets
 * returned by getters (`srcOff`, `payloadOff`, ...) are absolute offsets into the same DataView, hence
 * into the Uint8Array it was built from with `dataViewOf`. A view is valid until the bytes change.
 * VLAN tags are not parsed: 802.1Q frames show EtherType 0x8100 and are dropped by callers.
 */

export const ETH_ALEN = 6;
export const ETH_HEADER_LEN = 14;
/** Minimum Ethernet frame without FCS: shorter frames are padded to this by senders. */
export const ETH_MIN_FRAME_LEN = 60;

/** Field offsets within the Ethernet header. */
export const EthOff = { Dst: 0, Src: 6, EtherType: 12 } as const;

/** EtherType values we know by name; any other value stays a plain number. */
export const EtherType = { Ipv4: 0x0800, Arp: 0x0806, Vlan: 0x8100, Ipv6: 0x86dd } as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

/** Shared constants: never write into them. */
export const MAC_BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const MAC_ZERO = new Uint8Array(6);

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

/** A DataView over exactly the bytes of `b` (Buffers may share a larger pool ArrayBuffer). */
export function dataViewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export class EthView {
  #dv = EMPTY;
  #off = 0;
  #len = 0;

  /** Aims at [off, off+len); false if shorter than the 14-byte header. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    this.#len = len;
    return len >= ETH_HEADER_LEN && off >= 0 && off + len <= dv.byteLength;
  }
  get dstOff(): number { return this.#off + EthOff.Dst; }
  get srcOff(): number { return this.#off + EthOff.Src; }
  get etherType(): number { return this.#dv.getUint16(this.#off + EthOff.EtherType); }
  get payloadOff(): number { return this.#off + ETH_HEADER_LEN; }
  /** Bytes after the header up to the frame end (may include padding). */
  get payloadLen(): number { return this.#len - ETH_HEADER_LEN; }
  /** Group bit of the destination (multicast or broadcast). */
  get dstIsMulticast(): boolean { return (this.#dv.getUint8(this.#off) & 1) === 1; }
  get dstIsBroadcast(): boolean {
    return this.#dv.getUint32(this.#off) === 0xffffffff && this.#dv.getUint16(this.#off + 4) === 0xffff;
  }
}

/** Writes the 14-byte header at buf[off]; returns the offset just past it. */
export function writeEth(buf: Uint8Array, off: number, dst: Uint8Array, src: Uint8Array, etherType: number): number {
  copyMac(dst, 0, buf, off);
  copyMac(src, 0, buf, off + 6);
  buf[off + 12] = etherType >>> 8;
  buf[off + 13] = etherType & 0xff;
  return off + ETH_HEADER_LEN;
}

// ---------------------------------------------------------------------------------------------
// MAC addresses

/** Copies 6 bytes from src[srcOff] to dst[dstOff]. */
export function copyMac(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < 6; i++) dst[dstOff + i] = src[srcOff + i]!;
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export const isMacMulticast = (b: Uint8Array, off = 0): boolean => (b[off]! & 1) === 1;
export const isMacBroadcast = (b: Uint8Array, off = 0): boolean => macEquals(b, off, MAC_BROADCAST, 0);
export const isMacZero = (b: Uint8Array, off = 0): boolean => macEquals(b, off, MAC_ZERO, 0);

/** "9a:55:9a:55:9a:55" (also accepts '-' separators) to Uint8Array(6), or null. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** 6 bytes at b[off] as lower-case "aa:bb:cc:dd:ee:ff". */
export function formatMac(b: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[off + i]!.toString(16).padStart(2, '0');
  return s;
}
