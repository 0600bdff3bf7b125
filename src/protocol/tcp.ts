/**
 * TCP (RFC 9293) header view, options (MSS, window scale RFC 7323, SACK-permitted RFC 2018, timestamps)
 * and writers.
 *
 * `TcpView.wrap` is given the segment bounded by the IP length and accepts it only if 20 <= data offset
 * <= that length. Sequence and acknowledgement numbers are unsigned 32-bit numbers. Options are read
 * without allocation through a reusable `TcpOptionCursor`, or summarised into a reusable `TcpOptions`.
 * Unknown options are skipped; a malformed option list (a length < 2 or past the header) ends the walk and
 * is reported, and what was read before it stays valid.
 */

export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;

/** Field offsets within the TCP header. */
export const TcpOff = {
  SrcPort: 0, DstPort: 2, Seq: 4, Ack: 8, DataOff: 12, Flags: 13, Window: 14, Checksum: 16, Urgent: 18,
} as const;

/** Flag bits of header byte 13. */
export const TcpFlag = {
  Fin: 0x01, Syn: 0x02, Rst: 0x04, Psh: 0x08, Ack: 0x10, Urg: 0x20, Ece: 0x40, Cwr: 0x80,
} as const;
export type TcpFlag = (typeof TcpFlag)[keyof typeof TcpFlag];

/** Option kinds we know by name; any other value stays a plain number. */
export const TcpOptKind = { Eol: 0, Nop: 1, Mss: 2, WindowScale: 3, SackPermitted: 4, Sack: 5, Timestamps: 8 } as const;
export type TcpOptKind = (typeof TcpOptKind)[keyof typeof TcpOptKind];

const EMPTY: DataView = new DataView(new ArrayBuffer(0));

export class TcpView {
  #dv = EMPTY;
  #off = 0;
  #len = 0;

  /** Aims at [off, off+len) (len bounded by the IP length); false unless 20 <= data offset <= len. */
  wrap(dv: DataView, off: number, len: number): boolean {
    this.#dv = dv;
    this.#off = off;
    this.#len = len;
    if (len < TCP_HEADER_LEN || off < 0 || off + len > dv.byteLength) return false;
    const hl = this.headerLen;
    return hl >= TCP_HEADER_LEN && hl <= len;
  }
  get srcPort(): number { return this.#dv.getUint16(this.#off + TcpOff.SrcPort); }
  get dstPort(): number { return this.#dv.getUint16(this.#off + TcpOff.DstPort); }
  get seqNumber(): number { return this.#dv.getUint32(this.#off + TcpOff.Seq); }
  get ackNumber(): number { return this.#dv.getUint32(this.#off + TcpOff.Ack); }
  /** Data offset in bytes. */
  get headerLen(): number { return (this.#dv.getUint8(this.#off + TcpOff.DataOff) >> 4) * 4; }
  /** The 8 flag bits (TcpFlag). */
  get flags(): number { return this.#dv.getUint8(this.#off + TcpOff.Flags); }
  hasFlag(f: number): boolean { return (this.flags & f) !== 0; }
  get fin(): boolean { return this.hasFlag(TcpFlag.Fin); }
  get syn(): boolean { return this.hasFlag(TcpFlag.Syn); }
  get rst(): boolean { return this.hasFlag(TcpFlag.Rst); }
  get psh(): boolean { return this.hasFlag(TcpFlag.Psh); }
  get ack(): boolean { return this.hasFlag(TcpFlag.Ack); }
  get urg(): boolean { return this.hasFlag(TcpFlag.Urg); }
  get window(): number { return this.#dv.getUint16(this.#off + TcpOff.Window); }
  get checksum(): number { return this.#dv.getUint16(this.#off + TcpOff.Checksum); }
  get urgentPointer(): number { return this.#dv.getUint16(this.#off + TcpOff.Urgent); }
  get optionsOff(): number { return this.#off + TCP_HEADER_LEN; }
  get optionsLen(): number { return this.headerLen - TCP_HEADER_LEN; }
  get payloadOff(): number { return this.#off + this.headerLen; }
  get payloadLen(): number { return this.#len - this.headerLen; }
  /** Points `cursor` at this segment's options and returns it. */
  options(cursor: TcpOptionCursor): TcpOptionCursor {
    return cursor.begin(this.#dv, this.optionsOff, this.optionsLen);
  }
}

/**
 * Walks TCP options without allocating: `while (cur.next()) { cur.kind, cur.dataOff, cur.dataLen }`.
 * NOPs are skipped; EOL ends the walk. After `next()` returns false, `malformed` tells a bad list apart.
 */
export class TcpOptionCursor {
  #dv = EMPTY;
  #pos = 0;
  #end = 0;
  /** Kind of the current option. */
  kind = 0;
  /** Absolute offset and length of the current option's data (after kind and length). */
  dataOff = 0;
  dataLen = 0;
  malformed = false;

  begin(dv: DataView, off: number, len: number): this {
    this.#dv = dv;
    this.#pos = off;
    this.#end = off + len;
    this.malformed = false;
    return this;
  }

  next(): boolean {
    while (this.#pos < this.#end) {
      const kind = this.#dv.getUint8(this.#pos);
      if (kind === TcpOptKind.Eol) break;
      if (kind === TcpOptKind.Nop) { this.#pos++; continue; }
      const l = this.#pos + 1 < this.#end ? this.#dv.getUint8(this.#pos + 1) : 0;
      if (l < 2 || this.#pos + l > this.#end) { this.malformed = true; break; }
      this.kind = kind;
      this.dataOff = this.#pos + 2;
      this.dataLen = l - 2;
      this.#pos += l;
      return true;
    }
    this.#pos = this.#end;
    return false;
  }

  u8(at = 0): number { return this.#dv.getUint8(this.dataOff + at); }
  u16(at = 0): number { return this.#dv.getUint16(this.dataOff + at); }
  u32(at = 0): number { return this.#dv.getUint32(this.dataOff + at); }
}

/** The options a TCP endpoint acts on, as found in one segment. Reuse one instance. */
export class TcpOptions {
  /** 0 if absent. */
  mss = 0;
  /** Shift count as sent (RFC 7323 says to clamp above 14), or -1 if absent. */
  wscale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;

  reset(): this {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    return this;
  }
}

const sharedCursor = new TcpOptionCursor();

/** Fills `out` from the options of `tcp`; false if the list was malformed (what came before still counts). */
export function parseTcpOptions(tcp: TcpView, out: TcpOptions): boolean {
  out.reset();
  const cur = tcp.options(sharedCursor);
  while (cur.next()) takeOption(cur, out);
  return !cur.malformed;
}

/** Records one option into `out`; options of the wrong length for their kind are ignored. */
function takeOption(cur: TcpOptionCursor, out: TcpOptions): void {
  switch (cur.kind) {
    case TcpOptKind.Mss:
      if (cur.dataLen === 2) out.mss = cur.u16();
      return;
    case TcpOptKind.WindowScale:
      if (cur.dataLen === 1) out.wscale = cur.u8();
      return;
    case TcpOptKind.SackPermitted:
      if (cur.dataLen === 0) out.sackPermitted = true;
      return;
    case TcpOptKind.Timestamps:
      if (cur.dataLen !== 8) return;
      out.hasTimestamps = true;
      out.tsVal = cur.u32(0);
      out.tsEcr = cur.u32(4);
      return;
    default:
      return; // unknown or unused (SACK blocks): skipped
  }
}

// ---------------------------------------------------------------------------------------------
// Writers

/** Options to write: each one only if set; timestamps if `tsVal` is set (`tsEcr` defaults to 0). */
export interface TcpOptionsSpec {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  tsVal?: number;
  tsEcr?: number;
}

/**
 * Writes options at buf[off] in Linux's SYN order, 4-byte aligned: MSS; SACK-permitted + timestamps
 * (NOP-padded when only one); NOP + window scale. Returns the offset past them (at most 20 bytes).
 */
export function writeTcpOptions(buf: Uint8Array, off: number, o: TcpOptionsSpec): number {
  let p = off;
  const sack = o.sackPermitted === true;
  const ts = o.tsVal !== undefined;
  if (o.mss !== undefined) p = putKindLen(buf, p, TcpOptKind.Mss, 4) + put16(buf, p + 2, o.mss);
  if (sack !== ts) p = putKindLen(buf, p, TcpOptKind.Nop, TcpOptKind.Nop);
  if (sack) p = putKindLen(buf, p, TcpOptKind.SackPermitted, 2);
  if (ts) {
    p = putKindLen(buf, p, TcpOptKind.Timestamps, 10);
    p = putU32(buf, putU32(buf, p, o.tsVal!), o.tsEcr ?? 0);
  }
  if (o.wscale !== undefined) {
    p = putKindLen(buf, putKindLen(buf, p, TcpOptKind.Nop, TcpOptKind.WindowScale), 3, o.wscale);
  }
  return p;
}

/** Writes two bytes (an option's kind and length, or two NOPs...); returns p + 2. */
function putKindLen(buf: Uint8Array, p: number, a: number, b: number): number {
  buf[p] = a;
  buf[p + 1] = b;
  return p + 2;
}

function putU32(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v >>> 24;
  buf[p + 1] = (v >>> 16) & 0xff;
  buf[p + 2] = (v >>> 8) & 0xff;
  buf[p + 3] = v & 0xff;
  return p + 4;
}

/**
 * Header fields for `writeTcp`. Options: either `options` bytes (copied after the header), or, without
 * `options`, `optionsLen` bytes already written at off+20 (e.g. by `writeTcpOptions`). Either way they are
 * padded with EOL to a multiple of 4. `urgent` defaults to 0.
 */
export interface TcpParams {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  options?: Uint8Array;
  optionsLen?: number;
}

/** Writes the header (checksum 0) at buf[off]; returns the offset past header and options (the payload's). */
export function writeTcp(buf: Uint8Array, off: number, t: TcpParams): number {
  let optLen = t.optionsLen ?? 0;
  if (t.options !== undefined) {
    optLen = t.options.length;
    buf.set(t.options, off + TCP_HEADER_LEN);
  }
  const padded = (optLen + 3) & ~3;
  buf.fill(TcpOptKind.Eol, off + TCP_HEADER_LEN + optLen, off + TCP_HEADER_LEN + padded);
  const hl = TCP_HEADER_LEN + padded;
  put16(buf, off, t.srcPort);
  put16(buf, off + 2, t.dstPort);
  putU32(buf, off + 4, t.seq);
  putU32(buf, off + 8, t.ack);
  buf[off + 12] = (hl / 4) << 4;
  buf[off + 13] = t.flags;
  put16(buf, off + 14, t.window);
  put16(buf, off + 16, 0);
  put16(buf, off + 18, t.urgent ?? 0);
  return off + hl;
}

/** Writes a big-endian u16; returns 2 (the bytes written). */
function put16(buf: Uint8Array, p: number, v: number): number {
  buf[p] = (v >>> 8) & 0xff;
  buf[p + 1] = v & 0xff;
  return 2;
}
