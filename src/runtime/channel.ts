/**
 * Channels: how actors and the router exchange messages and file descriptors.
 *
 * Two transports with one interface:
 * - `PortChannel`: a worker_threads MessagePort, for actors that are threads of the router's process.
 *   File descriptors travel as plain numbers (one process, one fd table).
 * - `SocketChannel`: a UNIX stream socket, for actors in their own OS process (`--actors`). Each message
 *   is `u32 length | u8 fd count | msgpack body`; its fds ride as SCM_RIGHTS on the same sendmsg(), so
 *   they arrive no later than the message's first byte.
 *
 * Ownership rule, the same for both: fds passed to `send()` move to the receiver. The sender must not
 * use them afterwards (a SocketChannel closes its copies once they are sent); to keep one, dup it first.
 *
 * Messages are plain tagged objects (numbers, strings, arrays, Uint8Array), msgpack-friendly.
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type { Packr } from 'msgpackr';
import { native, isErrno } from '../native/index.js';

/**
 * msgpackr, loaded on the first SocketChannel: thread-mode actors never need it, and each worker
 * thread would otherwise pay its load at start-up.
 */
const requireHere = createRequire(import.meta.url);
let PackrClass: typeof Packr | undefined;
function newPackr(): Packr {
  PackrClass ??= (requireHere('msgpackr') as { Packr: typeof Packr }).Packr;
  return new PackrClass({ useRecords: false, moreTypes: false, copyBuffers: true });
}

export interface Msg {
  t: string;
  [key: string]: unknown;
}

export type MessageHandler = (msg: Msg, fds: number[]) => void;

export interface Channel {
  /** Sends a message; `fds` move to the receiver; `transfer` lists ArrayBuffers/ports to move (threads only). */
  send(msg: Msg, fds?: number[], transfer?: Transferable[]): void;
  /** Installs the one handler for incoming messages. */
  onMessage(handler: MessageHandler): void;
  /** Called once when the peer goes away (EOF, port closed) or the channel is closed. */
  onClose(handler: () => void): void;
  close(): void;
  readonly kind: 'port' | 'socket';
}

type Transferable = ArrayBuffer | MessagePort;

interface PortEnvelope {
  m: Msg;
  fds: number[];
}

/** A channel over a MessagePort (actor threads in the router's process). */
export class PortChannel implements Channel {
  readonly kind = 'port';
  #closeHandlers: (() => void)[] = [];
  #closed = false;

  constructor(private readonly port: MessagePort) {
    port.on('close', () => this.#fireClose());
  }

  send(msg: Msg, fds: number[] = [], transfer: Transferable[] = []): void {
    if (this.#closed) return;
    const env: PortEnvelope = { m: msg, fds };
    this.port.postMessage(env, transfer as never);
  }

  onMessage(handler: MessageHandler): void {
    this.port.on('message', (env: PortEnvelope) => handler(env.m, env.fds));
  }

  onClose(handler: () => void): void {
    this.#closeHandlers.push(handler);
  }

  close(): void {
    this.port.close();
    this.#fireClose();
  }

  #fireClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.#closeHandlers) h();
  }
}

const HEADER = 5; // u32 body length + u8 fd count
const MAX_MESSAGE = 64 << 20;
const RECV_CHUNK = 1 << 20;
const UV_READABLE = 1;
const UV_WRITABLE = 2;

interface PendingWrite {
  buf: Uint8Array;
  off: number;
  fds: number[];
}

/** A channel over a non-blocking UNIX stream socket (actor processes). */
export class SocketChannel implements Channel {
  readonly kind = 'socket';
  readonly #fd: number;
  readonly #packr = newPackr();
  #handler: MessageHandler = () => {};
  #closeHandlers: (() => void)[] = [];
  #closed = false;
  #poll = -1;
  #rbuf = new Uint8Array(RECV_CHUNK * 2);
  #rlen = 0;
  #fdQueue: number[] = [];
  #wqueue: PendingWrite[] = [];

  constructor(fd: number) {
    this.#fd = fd;
    native.setNonBlocking(fd, true);
    this.#poll = native.pollStart(fd, (ev) => this.#onPoll(ev), UV_READABLE);
  }

  get fd(): number {
    return this.#fd;
  }

  send(msg: Msg, fds: number[] = []): void {
    if (this.#closed) {
      for (const fd of fds) native.close(fd, true);
      return;
    }
    if (fds.length > 253) throw new RangeError('at most 253 fds per message');
    const body = this.#packr.pack(msg);
    const buf = new Uint8Array(HEADER + body.length);
    new DataView(buf.buffer).setUint32(0, body.length);
    buf[4] = fds.length;
    buf.set(body, HEADER);
    this.#wqueue.push({ buf, off: 0, fds });
    if (this.#wqueue.length === 1) this.#flush();
  }

  onMessage(handler: MessageHandler): void {
    this.#handler = handler;
  }

  onClose(handler: () => void): void {
    this.#closeHandlers.push(handler);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poll >= 0) native.pollStop(this.#poll);
    this.#poll = -1;
    native.close(this.#fd, true);
    for (const w of this.#wqueue) for (const fd of w.fds) native.close(fd, true);
    for (const fd of this.#fdQueue) native.close(fd, true);
    this.#wqueue = [];
    this.#fdQueue = [];
    for (const h of this.#closeHandlers) h();
  }

  #onPoll(events: number): void {
    if (this.#closed) return;
    if (events < 0) return this.close();
    if (events & UV_WRITABLE) this.#flush();
    if (events & UV_READABLE) this.#readAll();
  }

  /** Writes queued messages until done or EAGAIN; watches for writability while anything is left. */
  #flush(): void {
    while (this.#wqueue.length > 0 && !this.#closed) {
      const w = this.#wqueue[0]!;
      const n = this.#writeSome(w);
      if (n < 0) break;
      if (w.off < w.buf.length) continue;
      this.#wqueue.shift();
    }
    if (!this.#closed && this.#poll >= 0) {
      native.pollUpdate(this.#poll, this.#wqueue.length > 0 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
    }
  }

  #writeSome(w: PendingWrite): number {
    try {
      const fds = w.off === 0 ? w.fds : [];
      const n = native.sendFds(this.#fd, w.buf, w.off, w.buf.length - w.off, fds);
      if (n < 0) return -1;
      if (w.off === 0) for (const fd of w.fds) native.close(fd, true);
      w.off += n;
      return n;
    } catch (e) {
      if (isErrno(e, 'EPIPE') || isErrno(e, 'ECONNRESET')) {
        this.close();
        return -1;
      }
      throw e;
    }
  }

  #readAll(): void {
    for (;;) {
      if (this.#closed) return;
      this.#ensureRoom();
      let r;
      try {
        r = native.recvFds(this.#fd, this.#rbuf, this.#rlen, this.#rbuf.length - this.#rlen);
      } catch (e) {
        if (isErrno(e, 'ECONNRESET')) return this.close();
        throw e;
      }
      if (r === null) return;
      this.#fdQueue.push(...r.fds);
      if (r.bytes === 0) return this.close();
      this.#rlen += r.bytes;
      this.#deliver();
    }
  }

  #ensureRoom(): void {
    if (this.#rbuf.length - this.#rlen >= RECV_CHUNK) return;
    const bigger = new Uint8Array(this.#rbuf.length * 2);
    bigger.set(this.#rbuf.subarray(0, this.#rlen));
    this.#rbuf = bigger;
  }

  /** Hands every complete message in the read buffer to the handler. */
  #deliver(): void {
    let off = 0;
    const dv = new DataView(this.#rbuf.buffer);
    while (this.#rlen - off >= HEADER) {
      const len = dv.getUint32(off);
      if (len > MAX_MESSAGE) throw new Error(`channel message of ${len} bytes exceeds the limit`);
      if (this.#rlen - off - HEADER < len) break;
      const nfds = this.#rbuf[off + 4]!;
      const msg = this.#packr.unpack(this.#rbuf.subarray(off + HEADER, off + HEADER + len)) as Msg;
      const fds = this.#fdQueue.splice(0, nfds);
      off += HEADER + len;
      this.#handler(msg, fds);
      if (this.#closed) return;
    }
    this.#rbuf.copyWithin(0, off, this.#rlen);
    this.#rlen -= off;
  }
}
