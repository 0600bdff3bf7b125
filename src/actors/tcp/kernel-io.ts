/**
 * The state machine's `TcpIo` on the real kernel: host stream sockets through the addon, frames to the
 * guest through the actor's tap writer.
 *
 * Syscalls per operation: `data` recv(MSG_PEEK) + write(tap); `write` send; `discard` recv(MSG_TRUNC)
 * (no copy); `rewind` setsockopt(SO_PEEK_OFF, 0); `sendSpace` getsockopt(SO_SNDBUF) + ioctl(SIOCOUTQ);
 * `watchSpace` is an epoll re-arm through the router (EPOLL_CTL_MOD polls the socket, which also makes
 * the kernel grow its send buffer when it is the bottleneck).
 *
 * Peeking relies on SO_PEEK_OFF (TCP has it since Linux 6.9; set by `enablePeekOffset` on every flow
 * socket). Without it, a peek copies the unacknowledged bytes in front too, into a scratch buffer, and
 * EOF past them is told by the socket's state (CLOSE_WAIT): slower, same results.
 */
import { constants as C, ErrnoError, native } from '../../native/index.js';
import type { TapWriter } from '../common/tap-writer.js';
import type { Counters } from '../../runtime/actor.js';
import type { SegmentWriter } from './segment.js';
import { seqDiff } from './seq.js';
import { EOF, type TcpFlow, type TcpIo } from './state.js';

const PEEK = C.MSG_PEEK | C.MSG_DONTWAIT;
const DISCARD_CHUNK = 1 << 20;
/** the most one peek takes for several segments (state.ts DATA_BURST asks for at most this) */
const STAGE_SIZE = 256 * 1024;
/** Margin for the kernel's per-buffer overhead in a nearly empty send buffer. */
const TRUESIZE_SLACK = 2048;
/** TCP states after the peer's FIN: TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, CLOSING. */
const PEER_CLOSED_STATES = new Set([6, 7, 8, 9, 11]);

/** The errno of a failed syscall (anything else is a bug and is thrown again). */
export function errnoOf(e: unknown): number {
  if (e instanceof ErrnoError) return e.errno;
  throw e;
}

/** Sets the socket's peek offset to 0 (peeks then advance it); false if the kernel lacks SO_PEEK_OFF for TCP. */
export function enablePeekOffset(fd: number): boolean {
  try {
    native.setsockoptInt(fd, C.SOL_SOCKET, C.SO_PEEK_OFF, 0);
    return true;
  } catch (e) {
    errnoOf(e);
    return false;
  }
}

export interface KernelIoHooks {
  /** re-arm EPOLLOUT for the flow's socket */
  watch(f: TcpFlow): void;
  /** release the flow: epoll, fd, table */
  close(f: TcpFlow, reset: boolean): void;
}

export class KernelIo implements TcpIo {
  readonly #w: SegmentWriter;
  readonly #tap: TapWriter;
  readonly #counters: Counters;
  readonly #hooks: KernelIoHooks;
  readonly #discard = new Uint8Array(DISCARD_CHUNK);
  /** sockets without SO_PEEK_OFF (by fd) */
  readonly noPeekOffset = new Set<number>();
  #scratch = new Uint8Array(0);
  /** several segments' worth of socket data, peeked at once */
  readonly #stage = new Uint8Array(STAGE_SIZE);

  constructor(w: SegmentWriter, tap: TapWriter, counters: Counters, hooks: KernelIoHooks) {
    this.#w = w;
    this.#tap = tap;
    this.#counters = counters;
    this.#hooks = hooks;
  }

  control(f: TcpFlow, flags: number, seq: number, ack: number, window: number, synOptions: boolean): void {
    const w = this.#w;
    const len = synOptions
      ? w.writeSyn(f.addr, flags, seq, ack, window, f.mssLimit, f.wsToTap > 0 ? f.wsToTap : -1)
      : w.write(f.addr, flags, seq, ack, window, 0);
    this.#send(len);
  }

  data(f: TcpFlow, seq: number, ack: number, window: number, len: number): number {
    if (len <= f.mss || this.noPeekOffset.has(f.fd)) return this.#dataOne(f, seq, ack, window, Math.min(len, f.mss));
    let n: number;
    try {
      n = native.recv(f.fd, this.#stage, 0, Math.min(len, STAGE_SIZE), PEEK);
    } catch (e) {
      return -errnoOf(e);
    }
    if (n < 0) return 0;
    if (n === 0) return EOF;
    const at = this.#w.payloadOffset(f.addr.family);
    const mss = Math.max(1, f.mss);
    for (let o = 0; o < n; o += mss) {
      const k = Math.min(mss, n - o);
      this.#w.buf.set(this.#stage.subarray(o, o + k), at);
      this.#send(this.#w.write(f.addr, 0x18 /* ACK|PSH */, (seq + o) >>> 0, ack, window, k));
    }
    this.#counters.add('data-to-guest', n);
    return n;
  }

  /** One segment, peeked straight into the frame buffer. */
  #dataOne(f: TcpFlow, seq: number, ack: number, window: number, len: number): number {
    const at = this.#w.payloadOffset(f.addr.family);
    let n: number;
    try {
      n = this.noPeekOffset.has(f.fd) ? this.#peekFromHead(f, seq, at, len) : native.recv(f.fd, this.#w.buf, at, len, PEEK);
    } catch (e) {
      return -errnoOf(e);
    }
    if (n < 0) return 0;
    if (n === 0) return EOF;
    this.#send(this.#w.write(f.addr, 0x18 /* ACK|PSH */, seq, ack, window, n));
    this.#counters.add('data-to-guest', n);
    return n;
  }

  /** Without SO_PEEK_OFF: peek from the head and keep the part past the unacknowledged bytes. */
  #peekFromHead(f: TcpFlow, seq: number, at: number, len: number): number {
    const skip = seqDiff(seq, f.seqAckFromTap);
    if (this.#scratch.length < skip + len) this.#scratch = new Uint8Array(skip + len);
    const n = native.recv(f.fd, this.#scratch, 0, skip + len, PEEK);
    if (n < 0 || (n === 0 && skip === 0)) return n;
    if (n <= skip) return PEER_CLOSED_STATES.has(native.tcpInfo(f.fd).state) ? 0 : -1;
    this.#w.buf.set(this.#scratch.subarray(skip, n), at);
    return n - skip;
  }

  write(f: TcpFlow, buf: Uint8Array, off: number, len: number): number {
    try {
      const n = native.send(f.fd, buf, off, len, 0);
      if (n > 0) this.#counters.add('data-from-guest', n);
      if (n < len) this.#counters.add('write-short');
      return n < 0 ? 0 : n;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  discard(f: TcpFlow, n: number): void {
    try {
      while (n > 0) {
        const r = native.recv(f.fd, this.#discard, 0, Math.min(n, DISCARD_CHUNK), C.MSG_TRUNC | C.MSG_DONTWAIT);
        if (r <= 0) break;
        n -= r;
      }
    } catch (e) {
      errnoOf(e); // a reset socket: the next peek reports it
    }
    if (n > 0) this.#counters.add('discard-short', n);
  }

  rewind(f: TcpFlow): void {
    this.#counters.add('retransmit');
    if (this.noPeekOffset.has(f.fd)) return;
    enablePeekOffset(f.fd);
  }

  shutdownWrite(f: TcpFlow): void {
    try {
      native.shutdown(f.fd, C.SHUT_WR);
    } catch (e) {
      errnoOf(e); // not connected any more: the reset shows up on the next read
    }
  }

  sendSpace(f: TcpFlow): number {
    try {
      f.sndbuf = native.getsockoptInt(f.fd, C.SOL_SOCKET, C.SO_SNDBUF);
      const queued = native.outq(f.fd);
      // The kernel counts buffers by their true size, a little more than the bytes (SIOCOUTQ) they hold.
      return Math.max(0, f.sndbuf - queued - (queued >> 5) - TRUESIZE_SLACK);
    } catch (e) {
      errnoOf(e);
      return 0;
    }
  }

  watchSpace(f: TcpFlow): void {
    this.#counters.add('watch-space');
    this.#hooks.watch(f);
  }

  pendingError(f: TcpFlow): number {
    try {
      return native.getsockoptInt(f.fd, C.SOL_SOCKET, C.SO_ERROR);
    } catch (e) {
      return errnoOf(e);
    }
  }

  close(f: TcpFlow, reset: boolean): void {
    this.noPeekOffset.delete(f.fd);
    this.#hooks.close(f, reset);
  }

  #send(len: number): void {
    this.#tap.write(this.#w.buf, 0, len);
  }
}
