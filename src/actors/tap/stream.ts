/**
 * qemu's stream framing (`-netdev stream`, passt mode): every Ethernet frame on the UNIX socket is
 * preceded by its length as a 4-byte big-endian number; no virtio-net header. Pure: no I/O here
 * (link.ts does the reads and writes).
 *
 * - `deframe` finds the whole frames in a received byte range and says where the next one starts; a
 *   frame cut by the end of a read stays for the next read. A length below an Ethernet header (14) or
 *   above 65535 cannot come from a sane peer: it is a protocol error (the stream cannot be re-synced,
 *   so the client is dropped). qemu pads short frames to 60 bytes: that is fine here.
 * - `OutQueue` holds framed bytes waiting for the socket to take them, so a frame is never truncated:
 *   a partial write leaves the rest at the head of the queue for the next write.
 */

export const STREAM_HEADER_LEN = 4;
export const MIN_STREAM_FRAME = 14;
export const MAX_STREAM_FRAME = 65535;

export interface Deframed {
  /** frames found (their offsets and lengths were written to offs/lens) */
  count: number;
  /** where the next frame's header starts (unconsumed bytes are [next, end)) */
  next: number;
  /** the protocol error, or null */
  error: string | null;
}

/**
 * The whole frames in buf[start, end), at most `max`: offsets and lengths into `offs`/`lens`.
 * Stops at a partial frame, at `max` frames, or at an invalid length (error, `next` at its header).
 */
export function deframe(buf: Uint8Array, start: number, end: number, offs: Uint32Array, lens: Uint32Array, max: number): Deframed {
  let pos = start;
  let count = 0;
  while (count < max && end - pos >= STREAM_HEADER_LEN) {
    const len = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
    if (len < MIN_STREAM_FRAME || len > MAX_STREAM_FRAME) {
      return { count, next: pos, error: `frame length ${len} outside ${MIN_STREAM_FRAME}..${MAX_STREAM_FRAME}` };
    }
    if (end - pos - STREAM_HEADER_LEN < len) break;
    offs[count] = pos + STREAM_HEADER_LEN;
    lens[count] = len;
    count++;
    pos += STREAM_HEADER_LEN + len;
  }
  return { count, next: pos, error: null };
}

/** Writes `len` as the 4-byte big-endian stream header at buf[at]. */
export function writeStreamHeader(buf: Uint8Array, at: number, len: number): void {
  buf[at] = len >>> 24;
  buf[at + 1] = (len >>> 16) & 0xff;
  buf[at + 2] = (len >>> 8) & 0xff;
  buf[at + 3] = len & 0xff;
}

/**
 * Framed bytes waiting to be written: one contiguous range [head, tail) of a buffer that grows up to
 * `limit` bytes. A frame that does not fit under the limit is refused whole (the caller counts a drop).
 */
export class OutQueue {
  #buf: Uint8Array;
  #head = 0;
  #tail = 0;

  constructor(
    initial: number,
    readonly limit: number,
  ) {
    this.#buf = new Uint8Array(initial);
  }

  /** Bytes waiting. */
  get pending(): number {
    return this.#tail - this.#head;
  }

  /** The waiting bytes, as (buffer, offset, length) for one write(). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  get head(): number {
    return this.#head;
  }

  /** Appends one frame with its header; false (nothing queued) if the queue would pass its limit. */
  push(frame: Uint8Array, off: number, len: number): boolean {
    const need = STREAM_HEADER_LEN + len;
    if (this.pending + need > this.limit) return false;
    this.#makeRoom(need);
    writeStreamHeader(this.#buf, this.#tail, len);
    this.#buf.set(frame.subarray(off, off + len), this.#tail + STREAM_HEADER_LEN);
    this.#tail += need;
    return true;
  }

  /** Marks `n` bytes at the head as written. */
  consume(n: number): void {
    this.#head = Math.min(this.#head + n, this.#tail);
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
  }

  clear(): void {
    this.#head = this.#tail = 0;
  }

  /** Room for `need` more bytes at the tail: move the waiting bytes to the front, grow if still short. */
  #makeRoom(need: number): void {
    if (this.#buf.length - this.#tail >= need) return;
    if (this.#head > 0) {
      this.#buf.copyWithin(0, this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    if (this.#buf.length - this.#tail >= need) return;
    let size = this.#buf.length * 2;
    while (size - this.#tail < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, this.limit));
    grown.set(this.#buf.subarray(0, this.#tail));
    this.#buf = grown;
  }
}
