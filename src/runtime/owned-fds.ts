/**
 * Thread-mode bookkeeping of the fds an actor registered with the router (see ARCHITECTURE.md,
 * restart policy): kept in shared memory so the router can still read it after the thread died.
 */

/**
 * The fds an actor owns (registered, held, or received and not yet closed or sent on), as a bitmap in shared memory the router can read
 * after the actor's thread died (a thread's fds are the process's: nobody else would close them).
 */
export class OwnedFds {
  static readonly MAX_FD = 1 << 20;
  readonly #bits: Uint8Array;
  readonly #byRef = new Map<bigint, number>();

  /** `shared`: the bitmap the router made for this incarnation (thread mode), else a private one. */
  constructor(readonly shared: SharedArrayBuffer = newOwnedFdsBitmap()) {
    this.#bits = new Uint8Array(shared);
  }

  add(hi: number, lo: number, fd: number): void {
    if (!inRange(fd)) return;
    this.#byRef.set((BigInt(hi) << 32n) | BigInt(lo), fd);
    mark(this.#bits, fd);
  }

  /** An fd held outside epoll (a pipe, a socket in hand): marked by its number alone. */
  hold(fd: number): void {
    if (inRange(fd)) mark(this.#bits, fd);
  }

  /** The fd is being closed or sent away: unmark it first. */
  release(fd: number): void {
    if (inRange(fd)) unmark(this.#bits, fd);
  }

  remove(hi: number, lo: number): void {
    const key = (BigInt(hi) << 32n) | BigInt(lo);
    const fd = this.#byRef.get(key);
    if (fd === undefined) return;
    this.#byRef.delete(key);
    unmark(this.#bits, fd);
  }
}

const inRange = (fd: number): boolean => fd >= 0 && fd < OwnedFds.MAX_FD;
const mark = (bits: Uint8Array, fd: number): void => void Atomics.or(bits, fd >> 3, 1 << (fd & 7));
const unmark = (bits: Uint8Array, fd: number): void => void Atomics.and(bits, fd >> 3, ~(1 << (fd & 7)) & 0xff);

/** A bitmap for one actor incarnation: made by the router at launch, before any fd is sent to it. */
export function newOwnedFdsBitmap(): SharedArrayBuffer {
  return new SharedArrayBuffer(OwnedFds.MAX_FD / 8);
}

/**
 * Fds sent to an actor thread (by the router, or by a peer actor over their link) are marked in the
 * receiver's bitmap before sending: a thread that dies with the message still unread would otherwise
 * leave them open. They stay marked after receipt until the thread closes them (native.close runs the
 * thread's hook: unmark, then close) or sends them away (unmarked first). Never unmarked on receipt: a
 * thread can be ended between any two statements, and an fd unmarked before the actor held it again
 * would leak.
 */
export function holdInShared(shared: SharedArrayBuffer, fd: number): void {
  if (inRange(fd)) mark(new Uint8Array(shared), fd);
}

/** The fds set in an OwnedFds bitmap (read by the router once the owning thread is gone). */
export function ownedFdsOf(shared: SharedArrayBuffer): number[] {
  const bits = new Uint8Array(shared);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i++) {
    const b = Atomics.load(bits, i);
    if (b !== 0) for (let j = 0; j < 8; j++) if (b & (1 << j)) out.push(i * 8 + j);
  }
  return out;
}

