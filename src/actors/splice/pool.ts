/**
 * Sockets made in the namespace ahead of time, per IP version, so that a spliced connection does not
 * wait for a round trip to the namespace helper (router → helper process → router, about half the
 * set-up time of a spliced connection): `take` hands one out at once when there is one, and the pool
 * asks for a batch (one helper request, many fds) whenever it falls below half its target.
 *
 * Pure bookkeeping: the actor makes the requests (`ask(family, count)`), holds the fds and closes what
 * `drain` returns. A failed request is not retried until `take` finds the pool empty again, so a
 * namespace that cannot give sockets is asked at most once per connection.
 */
export type Family = 4 | 6;

export class SocketPool {
  readonly #target: number;
  readonly #ask: (family: Family, count: number) => void;
  readonly #ready: Record<Family, number[]> = { 4: [], 6: [] };
  readonly #asking: Record<Family, boolean> = { 4: false, 6: false };

  constructor(target: number, ask: (family: Family, count: number) => void) {
    this.#target = target;
    this.#ask = ask;
  }

  /** A pooled socket of this family, or undefined (the caller asks for one on its own). */
  take(family: Family): number | undefined {
    const fd = this.#ready[family].pop();
    this.#refill(family);
    return fd;
  }

  /** Asks for a first batch without taking anything. */
  prefill(family: Family): void {
    this.#refill(family);
  }

  /** A batch arrived (possibly empty: the request failed). */
  filled(family: Family, fds: readonly number[]): void {
    this.#asking[family] = false;
    this.#ready[family].push(...fds);
  }

  size(family: Family): number {
    return this.#ready[family].length;
  }

  /** Every pooled socket, and the pool empty (to close them when the actor stops). */
  drain(): number[] {
    const all = [...this.#ready[4], ...this.#ready[6]];
    this.#ready[4] = [];
    this.#ready[6] = [];
    return all;
  }

  #refill(family: Family): void {
    const have = this.#ready[family].length;
    if (this.#asking[family] || have * 2 >= this.#target) return;
    this.#asking[family] = true;
    this.#ask(family, this.#target - have);
  }
}
