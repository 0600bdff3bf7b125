/**
 * Sockets made in the namespace ahead of time, per IP version, so that a spliced connection does not
 * wait for a round trip to the namespace helper (router → helper process → router, about half the
 * set-up time of a spliced connection): `take` hands one out at once when there is one, and the pool
 * asks for a batch (one helper request, many fds) whenever it falls below half its target.
 *
 * Under a burst the pool runs dry: a `take` that finds it empty waits for the next batch, which is
 * asked for everyone waiting plus the target (at most `maxBatch`, the helper's limit per request), so
 * N connections arriving at once cost about N / maxBatch helper round trips, not N. One request per
 * family is in flight at a time.
 *
 * Pure bookkeeping: the actor makes the requests (`ask(family, count)`), holds the fds and closes what
 * `drain` returns. A failed request (an empty batch) fails the waiting takes (null) and is not
 * retried until the next `take`, so a namespace that cannot give sockets is asked at most once per
 * connection.
 */
export type Family = 4 | 6;

export type SocketTaker = (fd: number | null) => void;

export class SocketPool {
  readonly #target: number;
  readonly #maxBatch: number;
  readonly #ask: (family: Family, count: number) => void;
  readonly #ready: Record<Family, number[]> = { 4: [], 6: [] };
  readonly #waiting: Record<Family, SocketTaker[]> = { 4: [], 6: [] };
  readonly #asking: Record<Family, boolean> = { 4: false, 6: false };

  constructor(target: number, ask: (family: Family, count: number) => void, maxBatch = 64) {
    this.#target = target;
    this.#ask = ask;
    this.#maxBatch = maxBatch;
  }

  /**
   * Hands a socket of this family to `done`: at once if one is pooled (true), else once the next batch
   * arrives (false), or null if that request failed.
   */
  take(family: Family, done: SocketTaker): boolean {
    const fd = this.#ready[family].pop();
    if (fd === undefined) this.#waiting[family].push(done);
    this.#refill(family);
    if (fd !== undefined) done(fd);
    return fd !== undefined;
  }

  /** Asks for a first batch without taking anything. */
  prefill(family: Family): void {
    this.#refill(family);
  }

  /** A batch arrived (possibly empty: the request failed): the waiting takes are served first. */
  filled(family: Family, fds: readonly number[]): void {
    this.#asking[family] = false;
    const ready = this.#ready[family];
    ready.push(...fds);
    const served: [SocketTaker, number | null][] = [];
    const waiting = this.#waiting[family];
    while (waiting.length > 0 && ready.length > 0) served.push([waiting.shift()!, ready.pop()!]);
    if (fds.length === 0) for (const w of waiting.splice(0)) served.push([w, null]);
    else this.#refill(family);
    for (const [w, fd] of served) w(fd);
  }

  size(family: Family): number {
    return this.#ready[family].length;
  }

  /** Takes waiting for a batch. */
  waiting(family: Family): number {
    return this.#waiting[family].length;
  }

  /** Every pooled socket, and the pool empty (to close them when the actor stops); waiting takes forgotten. */
  drain(): number[] {
    const all = [...this.#ready[4], ...this.#ready[6]];
    this.#ready[4] = [];
    this.#ready[6] = [];
    this.#waiting[4] = [];
    this.#waiting[6] = [];
    return all;
  }

  #refill(family: Family): void {
    const have = this.#ready[family].length;
    const waiting = this.#waiting[family].length;
    if (this.#asking[family] || (waiting === 0 && have * 2 >= this.#target)) return;
    this.#asking[family] = true;
    this.#ask(family, Math.min(this.#maxBatch, this.#target - have + waiting));
  }
}
