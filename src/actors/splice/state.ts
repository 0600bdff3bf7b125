/**
 * A spliced connection's state and its data pump, with the I/O injected (no syscalls here).
 *
 * A connection joins two sockets: side A (accepted by a listener) and side B (connected by us). Each
 * direction has a pipe: bytes go socket -> pipe -> socket with splice(2), never through JavaScript.
 * `pump` moves one direction until nothing more can move now (EAGAIN on the read with the pipe empty,
 * or EAGAIN on the write), or until its budget is spent (the caller then pumps again later: with
 * edge-triggered epoll no new edge would come for bytes already waiting). EOF on the source becomes
 * shutdown(SHUT_WR) on the destination once the pipe is drained. Errors are thrown to the caller,
 * which resets the connection.
 */

export const enum Side {
  A = 0,
  B = 1,
}

/** The kernel calls the pump makes. */
export interface SpliceIo {
  /** bytes moved, 0 on EOF, -1 on EAGAIN; throws on errors */
  splice(fdIn: number, fdOut: number, len: number): number;
  /** shutdown(fd, SHUT_WR) */
  shutWrite(fd: number): void;
}

export interface Pipe {
  r: number;
  w: number;
  size: number;
}

export interface SideState {
  fd: number;
  /** the socket gave EOF */
  eof: boolean;
  /** we shut its write side (its peer got our FIN) */
  shut: boolean;
}

export interface Direction {
  pipe: Pipe;
  /** bytes in the pipe */
  pending: number;
  /** bytes moved through, in total */
  bytes: number;
}

export interface Conn {
  index: number;
  gen: number;
  a: SideState;
  b: SideState;
  /** A -> B, B -> A */
  ab: Direction;
  ba: Direction;
  /** B's connect() has not completed yet */
  connecting: boolean;
  /** -T: A is in the namespace, B on the host (else -t: A on the host, B in the namespace) */
  outbound: boolean;
}

/** A spliced connection's state for the control socket: which sides have ended. */
export function connStateName(c: Conn): string {
  if (c.connecting) return 'connecting';
  if (c.a.eof && c.b.eof) return 'closing';
  if (c.a.eof || c.b.eof) {
    // A is the side the connection came from: the host peer (-t) or the namespace's client (-T)
    const fromGuestSide = c.outbound ? c.a.eof : c.b.eof;
    return fromGuestSide ? 'fin-from-guest' : 'fin-from-host';
  }
  return 'established';
}

export type PumpResult = 'idle' | 'budget';

/** Moves one direction. 'budget' when it stopped with bytes still movable. */
export function pump(from: SideState, to: SideState, d: Direction, io: SpliceIo, budget: number): PumpResult {
  let left = budget;
  for (;;) {
    let progress = false;
    if (!from.eof && d.pending < d.pipe.size) {
      const n = io.splice(from.fd, d.pipe.w, d.pipe.size - d.pending);
      if (n === 0) from.eof = true;
      else if (n > 0) {
        d.pending += n;
        progress = true;
      }
    }
    if (d.pending > 0) {
      const m = io.splice(d.pipe.r, to.fd, d.pending);
      if (m > 0) {
        d.pending -= m;
        d.bytes += m;
        left -= m;
        progress = true;
      }
    }
    if (!progress) break;
    if (left <= 0) return 'budget';
  }
  if (from.eof && d.pending === 0 && !to.shut) {
    to.shut = true;
    io.shutWrite(to.fd);
  }
  return 'idle';
}

/** Both directions ended cleanly: both EOFs seen, both pipes drained, both FINs passed on. */
export function finished(c: Conn): boolean {
  return c.a.eof && c.b.eof && c.ab.pending === 0 && c.ba.pending === 0 && c.a.shut && c.b.shut;
}

export function newSide(fd: number): SideState {
  return { fd, eof: false, shut: false };
}

export function newDirection(pipe: Pipe): Direction {
  return { pipe, pending: 0, bytes: 0 };
}

/** The loopback address of a family, as text. */
export function loopbackOf(family: 4 | 6): string {
  return family === 4 ? '127.0.0.1' : '::1';
}

/** A peer address (text) on the loopback: 127.0.0.0/8, ::1, ::ffff:127.x.y.z. */
export function isLoopbackPeer(addr: string): boolean {
  if (addr === '::1') return true;
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return /^127\.\d+\.\d+\.\d+$/.test(v4);
}

/** Whether loopback connections and datagrams are spliced: pasta only (passt has no namespace), unless --no-splice. */
export function spliceEnabled(mode: string, noSplice: boolean): boolean {
  return mode === 'pasta' && !noSplice;
}
