/**
 * The UDP flow table: pure bookkeeping, no I/O (the actor opens and closes the sockets).
 *
 * Theory of operation
 * - A flow is one conversation between a guest address/port and a remote address/port, as the guest
 *   sees them (the remote address may be the gateway standing for the host's loopback, or the
 *   --dns-forward address standing for the host's resolver). Its key is that 4-tuple plus the IP
 *   version (`flowKey`), in that order whichever side spoke first.
 * - Each flow has a handle (its slot index, reused after removal) and a generation (24 bits, bumped at
 *   every reuse of the slot), which go into the epoll reference of its socket as handle and aux: a
 *   readiness event still in flight for a removed flow carries an old generation and is ignored.
 * - Timeouts follow the kernel's conntrack: a flow that has carried traffic one way only expires after
 *   `oneWayMs` (30 s) of silence, one that has carried traffic both ways after `bothWaysMs` (120 s).
 * - Who writes what: only the actor calls `add`, `touch` and `remove`; `expired` only reports.
 * The payload `T` is the actor's (sockets, host-side addresses); the table never looks inside it.
 */

export const UDP_TIMEOUT_ONE_WAY_MS = 30_000;
export const UDP_TIMEOUT_BOTH_WAYS_MS = 120_000;
/** Most flows at once; a datagram that would open one more is dropped (and counted). */
export const UDP_MAX_FLOWS = 16384;
export const GEN_MASK = 0xffffff;

export interface Timeouts {
  oneWayMs: number;
  bothWaysMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { oneWayMs: UDP_TIMEOUT_ONE_WAY_MS, bothWaysMs: UDP_TIMEOUT_BOTH_WAYS_MS };

/** Which side a datagram came from. */
export type Side = 'guest' | 'host';

export interface Flow<T> {
  readonly handle: number;
  readonly gen: number;
  readonly key: string;
  data: T;
  /** last datagram either way */
  lastMs: number;
  fromGuest: boolean;
  fromHost: boolean;
}

/**
 * The key of a flow: IP version, guest address and port, remote address and port (addresses as
 * `len` bytes at their offsets). A short string, built without intermediate arrays.
 */
export function flowKey(
  family: 4 | 6, guest: Uint8Array, gOff: number, gPort: number, remote: Uint8Array, rOff: number, rPort: number,
): string {
  const len = family === 4 ? 4 : 16;
  let s = String.fromCharCode(family, gPort, rPort);
  for (let i = 0; i < len; i += 2) s += String.fromCharCode((guest[gOff + i]! << 8) | guest[gOff + i + 1]!);
  for (let i = 0; i < len; i += 2) s += String.fromCharCode((remote[rOff + i]! << 8) | remote[rOff + i + 1]!);
  return s;
}

/** Which ways datagrams went through a flow, as the control socket names it. */
export function udpFlowState(f: Flow<unknown>): 'both-ways' | 'from-guest' | 'from-host' {
  if (f.fromGuest && f.fromHost) return 'both-ways';
  return f.fromGuest ? 'from-guest' : 'from-host';
}

export class FlowTable<T> {
  readonly #slots: (Flow<T> | null)[] = [];
  readonly #gens: number[] = [];
  readonly #free: number[] = [];
  readonly #byKey = new Map<string, Flow<T>>();

  constructor(
    readonly timeouts: Timeouts = DEFAULT_TIMEOUTS,
    readonly max = UDP_MAX_FLOWS,
  ) {}

  get size(): number {
    return this.#byKey.size;
  }

  find(key: string): Flow<T> | undefined {
    return this.#byKey.get(key);
  }

  /** The live flow in slot `handle`, if its generation is `gen` (when given). */
  get(handle: number, gen?: number): Flow<T> | undefined {
    const f = this.#slots[handle] ?? undefined;
    return f !== undefined && (gen === undefined || f.gen === gen) ? f : undefined;
  }

  /** A new flow whose first datagram came from `side`; null when the table is full or the key taken. */
  add(key: string, data: T, side: Side, now: number): Flow<T> | null {
    if (this.#byKey.has(key) || this.#byKey.size >= this.max) return null;
    const handle = this.#free.pop() ?? this.#slots.length;
    const gen = ((this.#gens[handle] ?? 0) + 1) & GEN_MASK;
    this.#gens[handle] = gen;
    const flow: Flow<T> = { handle, gen, key, data, lastMs: now, fromGuest: side === 'guest', fromHost: side === 'host' };
    this.#slots[handle] = flow;
    this.#byKey.set(key, flow);
    return flow;
  }

  /** A datagram went through `flow` from `side` at `now`. */
  touch(flow: Flow<T>, side: Side, now: number): void {
    flow.lastMs = now;
    if (side === 'guest') flow.fromGuest = true;
    else flow.fromHost = true;
  }

  remove(flow: Flow<T>): void {
    if (this.#slots[flow.handle] !== flow) return;
    this.#slots[flow.handle] = null;
    this.#byKey.delete(flow.key);
    this.#free.push(flow.handle);
  }

  /** When `flow` expires if nothing more goes through it. */
  deadline(flow: Flow<T>): number {
    const both = flow.fromGuest && flow.fromHost;
    return flow.lastMs + (both ? this.timeouts.bothWaysMs : this.timeouts.oneWayMs);
  }

  /** The flows whose deadline is at or before `now` (still in the table: the caller closes and removes). */
  expired(now: number): Flow<T>[] {
    const out: Flow<T>[] = [];
    for (const f of this.#byKey.values()) if (this.deadline(f) <= now) out.push(f);
    return out;
  }

  /** Every live flow (for shutdown). */
  all(): Flow<T>[] {
    return [...this.#byKey.values()];
  }
}

/**
 * Timeouts from the test-only environment variable PASST_ACTORS_TEST_UDP_TIMEOUTS="ONEWAY_MS,BOTHWAYS_MS"
 * (end-to-end tests of expiry cannot wait two minutes); the defaults when absent or malformed.
 */
export function timeoutsFromEnv(value: string | undefined): Timeouts {
  const m = /^(\d+),(\d+)$/.exec(value ?? '');
  if (!m) return DEFAULT_TIMEOUTS;
  const oneWayMs = Number(m[1]), bothWaysMs = Number(m[2]);
  return oneWayMs > 0 && bothWaysMs > 0 ? { oneWayMs, bothWaysMs } : DEFAULT_TIMEOUTS;
}
