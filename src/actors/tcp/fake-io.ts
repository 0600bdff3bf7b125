/**
 * A scripted stand-in for the kernel, for the state machine's tests: a host socket modelled as a
 * receive queue with a peek offset (what the host peer sent), a send buffer of fixed room (what we
 * wrote), and a record of every segment sent to the guest. Test-only (imported by *.test.ts).
 */
import { EOF, type TcpFlow, type TcpIo } from './state.js';

export interface SentSegment {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  synOptions: boolean;
  data: Uint8Array;
}

export class FakeSocket {
  /** bytes the host peer sent, not yet discarded */
  rx = new Uint8Array(0);
  peekOff = 0;
  eof = false;
  /** error returned by the next data() / write() (as -errno), 0 for none */
  error = 0;
  pendingError = 0;
  /** what the guest's data became on the host side */
  written: number[] = [];
  sndbuf = 1 << 20;
  /** bytes of the send buffer still in use (not yet taken by the host peer) */
  queued = 0;
  shutWr = false;
  watchCount = 0;
  closed: { reset: boolean } | null = null;

  /** The host peer sends `bytes`. */
  feed(bytes: Uint8Array): void {
    const next = new Uint8Array(this.rx.length + bytes.length);
    next.set(this.rx);
    next.set(bytes, this.rx.length);
    this.rx = next;
  }

  /** The host peer takes what we wrote: the send buffer is empty again. */
  drain(): void {
    this.queued = 0;
  }

  get room(): number {
    return Math.max(0, this.sndbuf - this.queued);
  }
}

export class FakeIo implements TcpIo {
  readonly sock = new FakeSocket();
  sent: SentSegment[] = [];
  discarded = 0;
  rewinds = 0;

  control(f: TcpFlow, flags: number, seq: number, ack: number, window: number, synOptions: boolean): void {
    void f;
    this.sent.push({ flags, seq, ack, window, synOptions, data: new Uint8Array(0) });
  }

  data(f: TcpFlow, seq: number, ack: number, window: number, len: number): number {
    const s = this.sock;
    if (s.error) return -s.error;
    const avail = s.rx.length - s.peekOff;
    if (avail === 0) return s.eof ? EOF : 0;
    const n = Math.min(len, avail);
    for (let o = 0; o < n; o += f.mss) {
      const k = Math.min(f.mss, n - o);
      this.sent.push({ flags: 0x18, seq: (seq + o) >>> 0, ack, window, synOptions: false, data: s.rx.slice(s.peekOff + o, s.peekOff + o + k) });
    }
    s.peekOff += n;
    return n;
  }

  write(f: TcpFlow, buf: Uint8Array, off: number, len: number): number {
    void f;
    const s = this.sock;
    if (s.error) return -s.error;
    const n = Math.min(len, s.room);
    for (let i = 0; i < n; i++) s.written.push(buf[off + i]!);
    s.queued += n;
    return n;
  }

  discard(f: TcpFlow, n: number): void {
    void f;
    const s = this.sock;
    if (n > s.rx.length) throw new Error(`discard ${n} of ${s.rx.length}`);
    s.rx = s.rx.slice(n);
    s.peekOff = Math.max(0, s.peekOff - n);
    this.discarded += n;
  }

  rewind(f: TcpFlow): void {
    void f;
    this.sock.peekOff = 0;
    this.rewinds++;
  }

  shutdownWrite(f: TcpFlow): void {
    void f;
    this.sock.shutWr = true;
  }

  sendSpace(f: TcpFlow): number {
    f.sndbuf = this.sock.sndbuf;
    return this.sock.room;
  }

  watchSpace(f: TcpFlow): void {
    void f;
    this.sock.watchCount++;
  }

  pendingError(f: TcpFlow): number {
    void f;
    const e = this.sock.pendingError;
    this.sock.pendingError = 0;
    return e;
  }

  close(f: TcpFlow, reset: boolean): void {
    void f;
    if (this.sock.closed) throw new Error('closed twice');
    this.sock.closed = { reset };
  }

  /** Segments sent since the last call. */
  take(): SentSegment[] {
    const out = this.sent;
    this.sent = [];
    return out;
  }
}
