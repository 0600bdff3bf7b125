/**
 * The guest's end of the wire, as the tap actor reads and writes it: a tap device (pasta: one read()
 * is one frame, one write() is one frame) or qemu's stream socket (passt: frames with a 4-byte length
 * in a byte stream, stream.ts). The actor sees the same thing from both: batches of frames laid out
 * in `buf` at `offs[i]`, `lens[i]`, valid until the next `read`, and `send` for one frame.
 *
 * Syscalls: read (tap and stream), write (tap), send with MSG_NOSIGNAL (stream).
 */
import { isErrno, native } from '../../native/index.js';
import { OutQueue, deframe } from './stream.js';

/** What a read gave: frames (count > 0), nothing for now (0: EAGAIN), or the end of the link. */
export const LinkRead = { Again: 0, Closed: -1, ProtocolError: -2 } as const;

/** The result of a write or a flush. */
export type SendResult = 'sent' | 'queued' | 'blocked' | 'dropped' | 'closed';

export interface GuestLink {
  readonly kind: 'tap' | 'stream';
  /** the receive buffer the frames of the last read are in */
  readonly buf: Uint8Array;
  /** why the link ended (protocol error, write error), for the log */
  readonly error: string | null;
  /** Up to `max` frames into offs/lens (count), or a LinkRead value. */
  read(offs: Uint32Array, lens: Uint32Array, max: number): number;
  /** One frame to the guest: written, queued (stream: waiting for room), or dropped/closed. */
  send(buf: Uint8Array, off: number, len: number): SendResult;
  /** Writes what is queued (stream); 'blocked' when the socket is full: wait for EPOLLOUT. */
  flush(): SendResult;
  /** Bytes waiting to be written (stream). */
  readonly pending: number;
  /** the tap or socket fd, -1 once closed */
  readonly fd: number;
  close(): void;
}

/** A tap device: readBatch (one read() per frame), one write() per frame, nothing ever queued. */
export class TapLink implements GuestLink {
  readonly kind = 'tap';
  readonly buf: Uint8Array;
  readonly error = null;
  readonly pending = 0;

  #fd: number;

  constructor(fd: number, batchFrames: number, frameRoom: number) {
    this.#fd = fd;
    this.buf = new Uint8Array(batchFrames * frameRoom);
  }

  get fd(): number {
    return this.#fd;
  }

  read(offs: Uint32Array, lens: Uint32Array, max: number): number {
    const n = native.readBatch(this.#fd, this.buf, lens, max);
    if (n < 0) return LinkRead.Closed;
    let off = 0;
    for (let i = 0; i < n; i++) {
      offs[i] = off;
      off += lens[i]!;
    }
    return n;
  }

  send(buf: Uint8Array, off: number, len: number): SendResult {
    try {
      return native.write(this.#fd, buf, off, len) === len ? 'sent' : 'dropped';
    } catch {
      return 'dropped'; // EIO while the guest's interface is down, for example: lost, as on a real link
    }
  }

  flush(): SendResult {
    return 'sent';
  }

  close(): void {
    native.close(this.#fd, true);
    this.#fd = -1;
  }
}

/** Bytes asked for in one read() of the stream. */
const STREAM_READ = 1 << 20;
/** Room kept after a partial frame: a whole frame of the largest size plus its header. */
const STREAM_TAIL_ROOM = 65536 + 4;
const OUT_INITIAL = 256 * 1024;
/** Frames beyond this many queued bytes are dropped (the guest's TCP recovers, as from a full tap queue). */
const OUT_LIMIT = 16 * 1024 * 1024;

/** qemu's stream socket: length-prefixed frames in, length-prefixed frames out through a queue. */
export class StreamLink implements GuestLink {
  readonly kind = 'stream';
  readonly buf = new Uint8Array(STREAM_READ + STREAM_TAIL_ROOM);
  #error: string | null = null;
  /** unconsumed received bytes are buf[#pos, #end) */
  #pos = 0;
  #end = 0;
  readonly #out = new OutQueue(OUT_INITIAL, OUT_LIMIT);

  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  get error(): string | null {
    return this.#error;
  }

  get pending(): number {
    return this.#out.pending;
  }

  read(offs: Uint32Array, lens: Uint32Array, max: number): number {
    for (;;) {
      const r = deframe(this.buf, this.#pos, this.#end, offs, lens, max);
      if (r.error !== null && r.count === 0) {
        this.#error = `protocol error: ${r.error}`;
        return LinkRead.ProtocolError;
      }
      if (r.count > 0) {
        this.#pos = r.next; // an error right after these frames is found on the next call
        return r.count;
      }
      const got = this.#receive();
      if (got <= 0) return got;
    }
  }

  /** One read() after the partial frame (moved to the front): bytes, LinkRead.Again or LinkRead.Closed. */
  #receive(): number {
    this.buf.copyWithin(0, this.#pos, this.#end);
    this.#end -= this.#pos;
    this.#pos = 0;
    let n: number;
    try {
      n = native.read(this.#fd, this.buf, this.#end, Math.min(STREAM_READ, this.buf.length - this.#end));
    } catch (e) {
      // ECONNRESET: the client closed with our frames unread, an ordinary way to leave
      if (!isErrno(e, 'ECONNRESET')) this.#error = e instanceof Error ? e.message : String(e);
      return LinkRead.Closed;
    }
    if (n < 0) return LinkRead.Again;
    if (n === 0) return this.#endOfStream();
    this.#end += n;
    return n;
  }

  #endOfStream(): number {
    if (this.#end > 0) this.#error = `the client left in the middle of a frame (${this.#end} bytes)`;
    return LinkRead.Closed;
  }

  send(buf: Uint8Array, off: number, len: number): SendResult {
    if (this.#fd < 0) return 'closed';
    if (!this.#out.push(buf, off, len)) return 'dropped';
    return 'queued';
  }

  flush(): SendResult {
    while (this.#out.pending > 0) {
      let n: number;
      try {
        n = native.send(this.#fd, this.#out.buffer, this.#out.head, this.#out.pending, 0);
      } catch (e) {
        if (!isErrno(e, 'EPIPE') && !isErrno(e, 'ECONNRESET')) this.#error = e instanceof Error ? e.message : String(e);
        return 'closed'; // the client is gone; its EOF may not have been read yet
      }
      if (n < 0) return 'blocked';
      this.#out.consume(n);
    }
    return 'sent';
  }

  close(): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = -1;
    this.#out.clear();
    this.#pos = this.#end = 0;
  }
}
