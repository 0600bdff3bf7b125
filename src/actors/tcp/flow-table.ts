/**
 * The TCP flow table: flows in numbered slots (the slot index is the epoll handle of the flow's socket)
 * and an index by the guest-side 4-tuple.
 *
 * Theory of operation
 * - A slot index is reused after its flow is released; each reuse bumps the slot's generation (24 bits,
 *   the epoll reference's aux field), so readiness reported for a released flow's socket is recognised
 *   as stale and ignored.
 * - Keys are short strings of 16-bit code units (family, ports, addresses): equal for the same tuple
 *   whether it was read from a guest frame or built from a host connection.
 * - Only the actor writes the table (alloc on a guest SYN or an accepted connection, release when the
 *   state machine closes the flow). Pure, no I/O.
 */
export const MAX_FLOWS = 65536;
const GEN_MASK = 0xffffff;

const words = new Uint16Array(20);

/** Writes n bytes at b[off] as 16-bit words into `words` from index `at`; returns the next index. */
function putWords(b: Uint8Array, off: number, n: number, at: number): number {
  for (let i = 0; i < n; i += 2) words[at++] = (b[off + i]! << 8) | b[off + i + 1]!;
  return at;
}

/**
 * The key of a flow: the guest's address and port, the remote address and port (as the guest sees
 * it), for one IP family. Addresses are read at b[off] (4 or 16 bytes).
 */
export function flowKey(
  family: 4 | 6, guest: Uint8Array, guestOff: number, guestPort: number,
  remote: Uint8Array, remoteOff: number, remotePort: number,
): string {
  const n = family === 4 ? 4 : 16;
  words[0] = family;
  words[1] = guestPort;
  words[2] = remotePort;
  const end = putWords(remote, remoteOff, n, putWords(guest, guestOff, n, 3));
  let s = '';
  for (let i = 0; i < end; i++) s += String.fromCharCode(words[i]!);
  return s;
}

export interface Slotted {
  readonly index: number;
  readonly gen: number;
  readonly key: string;
}

export class FlowTable<F extends Slotted> {
  readonly #slots: (F | undefined)[] = [];
  readonly #gens: number[] = [];
  readonly #free: number[] = [];
  readonly #byKey = new Map<string, F>();
  readonly #max: number;

  constructor(max = MAX_FLOWS) {
    this.#max = max;
  }

  get size(): number {
    return this.#byKey.size;
  }

  lookup(key: string): F | undefined {
    return this.#byKey.get(key);
  }

  /** The live flow in slot `index` with generation `gen`, or undefined (free slot, or a stale reference). */
  get(index: number, gen: number): F | undefined {
    const f = this.#slots[index];
    return f !== undefined && f.gen === gen ? f : undefined;
  }

  /** A free slot's index and next generation, or null when the table is full. */
  reserve(): { index: number; gen: number } | null {
    const index = this.#free.pop() ?? (this.#slots.length < this.#max ? this.#slots.length : -1);
    if (index < 0) return null;
    if (index === this.#slots.length) {
      this.#slots.push(undefined);
      this.#gens.push(0);
    }
    const gen = (this.#gens[index]! + 1) & GEN_MASK;
    this.#gens[index] = gen;
    return { index, gen };
  }

  /** Puts a flow built on a reserved slot in the table. */
  insert(f: F): void {
    if (this.#slots[f.index] !== undefined) throw new Error(`flow slot ${f.index} is taken`);
    this.#slots[f.index] = f;
    this.#byKey.set(f.key, f);
  }

  /** Gives back a reserved slot that was not used. */
  unreserve(index: number): void {
    if (this.#slots[index] === undefined) this.#free.push(index);
  }

  release(f: F): void {
    if (this.#slots[f.index] !== f) return;
    this.#slots[f.index] = undefined;
    if (this.#byKey.get(f.key) === f) this.#byKey.delete(f.key);
    this.#free.push(f.index);
  }

  /** Calls fn on every live flow; fn may release flows (including the current one). */
  forEach(fn: (f: F) => void): void {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const f = slots[i];
      if (f !== undefined) fn(f);
    }
  }
}
