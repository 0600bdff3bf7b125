/**
 * A small deterministic fuzzing toolkit for the parsers of untrusted input (test support: only *.test.ts
 * files import this). No dependencies, no I/O.
 *
 * - `Prng`: mulberry32, a seeded 32-bit generator: the same seed gives the same sequence everywhere.
 * - Mutators over a Uint8Array (`MUTATORS`, `mutate`): bit flips, bytes set to 0x00/0xff/random,
 *   truncation, extension with random bytes, 16/32-bit fields overwritten with boundary values, byte
 *   insertion/deletion, splicing two inputs. None writes into its input; each declares its growth bound.
 * - `fuzzCases` yields the cases of a run: every seed as is, every truncation of every seed, then
 *   `iterations` stacked mutations of random seeds. `fuzz` runs a check on each case and, on an
 *   exception, a per-case time above `slowMs`, or a whole run above `timeoutMs` (an infinite loop: the
 *   run executes under a `node:vm` watchdog, which can interrupt synchronous code), throws a
 *   `FuzzFailure` naming the parser, the PRNG seed, the case index and the input as hex.
 *   `fuzzCase(seeds, seed, index)` gives that input back for a regression test.
 */
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { Prng } from '../runtime/prng.js';

// ---------------------------------------------------------------------------------------------
// PRNG

export { Prng };

/** A seed for a sub-generator of case `index` of a run seeded with `seed` (independent of the order). */
export function caseSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Mutators

export const BOUNDARY_16: readonly number[] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xfffe, 0xffff];
export const BOUNDARY_32: readonly number[] = [
  0, 1, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];
/** Most bytes one mutation adds (extension, insertion). */
export const MAX_GROWTH = 64;
/** Most mutations `mutate` stacks on one input. */
export const MAX_STACK = 4;

/**
 * One mutation: a new array from `input` (never modified). `pool` holds other inputs for splicing.
 * Bound: the result is at most `input.length + MAX_GROWTH` bytes, or the length of a pool entry.
 */
export type Mutator = (rng: Prng, input: Uint8Array, pool: readonly Uint8Array[]) => Uint8Array;

function flipBit(rng: Prng, input: Uint8Array): Uint8Array {
  const out = input.slice();
  if (out.length > 0) out[rng.below(out.length)]! ^= 1 << rng.below(8);
  return out;
}

function setByte(rng: Prng, input: Uint8Array): Uint8Array {
  const out = input.slice();
  if (out.length > 0) out[rng.below(out.length)] = rng.pick([0x00, 0xff, rng.next() & 0xff]);
  return out;
}

/** A random run of 1..8 bytes set to one value (0x00, 0xff or random). */
function setRun(rng: Prng, input: Uint8Array): Uint8Array {
  const out = input.slice();
  const at = rng.below(out.length), n = rng.between(1, 8);
  out.fill(rng.pick([0x00, 0xff, rng.next() & 0xff]), at, at + n);
  return out;
}

function truncate(rng: Prng, input: Uint8Array): Uint8Array {
  return input.slice(0, rng.below(input.length + 1));
}

function extend(rng: Prng, input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length + rng.between(1, MAX_GROWTH));
  out.set(input);
  out.set(rng.bytes(out.length - input.length), input.length);
  return out;
}

/** Writes a boundary value of `size` bytes (big- or little-endian) at a random offset where it fits. */
function overwriteField(rng: Prng, input: Uint8Array, size: 2 | 4): Uint8Array {
  const out = input.slice();
  if (out.length < size) return out;
  const at = rng.below(out.length - size + 1);
  const dv = new DataView(out.buffer, out.byteOffset, out.length);
  const le = rng.chance(0.25);
  if (size === 2) dv.setUint16(at, rng.pick(BOUNDARY_16), le);
  else dv.setUint32(at, rng.pick(BOUNDARY_32), le);
  return out;
}

function insertBytes(rng: Prng, input: Uint8Array): Uint8Array {
  const at = rng.below(input.length + 1), n = rng.between(1, Math.min(MAX_GROWTH, 16));
  const out = new Uint8Array(input.length + n);
  out.set(input.subarray(0, at));
  out.set(rng.bytes(n), at);
  out.set(input.subarray(at), at + n);
  return out;
}

function deleteBytes(rng: Prng, input: Uint8Array): Uint8Array {
  const at = rng.below(input.length + 1), n = rng.between(1, 16);
  const out = new Uint8Array(input.length - Math.min(n, input.length - at));
  out.set(input.subarray(0, at));
  out.set(input.subarray(at + n), at);
  return out;
}

/** The head of `input` up to a cut point, then the tail of another input from the same point. */
function splice(rng: Prng, input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
  if (pool.length === 0) return input.slice();
  const other = rng.pick(pool);
  const cut = rng.below(Math.min(input.length, other.length) + 1);
  const out = new Uint8Array(other.length);
  out.set(input.subarray(0, cut));
  out.set(other.subarray(cut), cut);
  return out;
}

/** Every mutator by name. */
export const MUTATORS: Readonly<Record<string, Mutator>> = {
  flipBit, setByte, setRun, truncate, extend, insertBytes, deleteBytes, splice,
  overwrite16: (rng, input) => overwriteField(rng, input, 2),
  overwrite32: (rng, input) => overwriteField(rng, input, 4),
};
const MUTATOR_LIST: readonly Mutator[] = Object.values(MUTATORS);

/** 1..MAX_STACK random mutations stacked on `input`. */
export function mutate(rng: Prng, input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
  let out = input;
  const n = rng.between(1, MAX_STACK);
  for (let i = 0; i < n; i++) out = rng.pick(MUTATOR_LIST)(rng, out, pool);
  return out === input ? input.slice() : out;
}

/** The longest input `mutate` can return from `input` with this pool. */
export function mutateBound(input: Uint8Array, pool: readonly Uint8Array[]): number {
  const longest = Math.max(input.length, ...pool.map((p) => p.length));
  return longest + MAX_STACK * MAX_GROWTH;
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface FuzzCase {
  /** Position in the run: what `fuzzCase` takes to replay it. */
  index: number;
  /** "seed 2", "seed 2 cut to 17", "mutation 311 of seed 0". */
  what: string;
  input: Uint8Array;
}

/** The cases of a run: seeds, every truncation of every seed, then `iterations` mutations. */
export function* fuzzCases(seeds: readonly Uint8Array[], iterations: number, seed: number): Generator<FuzzCase> {
  let index = 0;
  for (let s = 0; s < seeds.length; s++) yield { index: index++, what: `seed ${s}`, input: seeds[s]!.slice() };
  for (let s = 0; s < seeds.length; s++) {
    for (let n = 0; n < seeds[s]!.length; n++) {
      yield { index: index++, what: `seed ${s} cut to ${n}`, input: seeds[s]!.slice(0, n) };
    }
  }
  if (seeds.length === 0) return;
  const rng = new Prng(seed);
  for (let i = 0; i < iterations; i++) {
    const s = rng.below(seeds.length);
    yield { index: index++, what: `mutation ${i} of seed ${s}`, input: mutate(rng, seeds[s]!, seeds) };
  }
}

/** The input of case `index` of a run (to replay a failure); null past the end of the run. */
export function fuzzCase(seeds: readonly Uint8Array[], seed: number, index: number): Uint8Array | null {
  for (const c of fuzzCases(seeds, Number.MAX_SAFE_INTEGER, seed)) if (c.index === index) return c.input;
  return null;
}

/** Bytes as hex text. */
export function toHexString(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** A check failed (or hung) on one case: everything needed to replay it. */
export class FuzzFailure extends Error {
  override name = 'FuzzFailure';

  constructor(
    readonly parser: string,
    readonly seed: number,
    readonly index: number,
    readonly what: string,
    readonly input: Uint8Array,
    readonly reason: string,
  ) {
    super(
      `fuzz ${parser}: ${reason}\n  prng seed 0x${seed.toString(16)}, case ${index} (${what}); ` +
        `replay: fuzzCase(seeds, 0x${seed.toString(16)}, ${index})\n  input (${input.length} bytes): ${toHexString(input)}`,
    );
  }
}

export interface FuzzOptions {
  /** Whole-run limit: past it the run is interrupted and the current case reported (default 10 s). */
  timeoutMs?: number;
  /** One case taking longer than this fails the run (default 250 ms). */
  slowMs?: number;
}

export interface FuzzReport {
  cases: number;
  ms: number;
}

/**
 * The check for one case: throws if the parser misbehaved. `rng` is a generator private to the case
 * (seeded from the run's seed and the case index) for checks that need more randomness.
 */
export type FuzzCheck = (input: Uint8Array, rng: Prng) => void;

/**
 * Deeper local runs: FUZZ_SEED=n mixes n into every run's seed, FUZZ_SCALE=k multiplies the iterations
 * (both unset in CI: runs are then fixed). A failure prints the seed actually used.
 */
function fromEnv(seed: number, iterations: number): { seed: number; iterations: number } {
  const mix = Number(process.env['FUZZ_SEED'] ?? 0), scale = Number(process.env['FUZZ_SCALE'] ?? 1);
  return {
    seed: Number.isInteger(mix) ? (seed ^ mix) >>> 0 : seed,
    iterations: Number.isFinite(scale) && scale > 0 ? Math.round(iterations * scale) : iterations,
  };
}

/** Runs `check` on every case of a run; see the module comment. */
export function fuzz(
  name: string, seeds: readonly Uint8Array[], iterationsAsked: number, seedAsked: number, check: FuzzCheck,
  opts: FuzzOptions = {},
): FuzzReport {
  const { seed, iterations } = fromEnv(seedAsked, iterationsAsked);
  const slowMs = opts.slowMs ?? 250;
  const state = { current: null as FuzzCase | null, cases: 0 };
  const t0 = performance.now();
  const loop = (): void => {
    for (const c of fuzzCases(seeds, iterations, seed)) {
      state.current = c;
      runCase(name, seed, c, check, slowMs);
      state.cases++;
    }
  };
  try {
    watchdog(loop, (opts.timeoutMs ?? 10_000) * Math.max(1, iterations / Math.max(1, iterationsAsked)));
  } catch (e) {
    if (e instanceof FuzzFailure || state.current === null) throw e;
    const c = state.current;
    throw new FuzzFailure(name, seed, c.index, c.what, c.input, `run interrupted: ${errorText(e)}`);
  }
  return { cases: state.cases, ms: performance.now() - t0 };
}

function runCase(name: string, seed: number, c: FuzzCase, check: FuzzCheck, slowMs: number): void {
  const start = performance.now();
  try {
    check(c.input, new Prng(caseSeed(seed, c.index)));
  } catch (e) {
    if (isTimeout(e)) throw e; // the watchdog's: let it through to `fuzz`
    throw new FuzzFailure(name, seed, c.index, c.what, c.input, errorText(e));
  }
  const ms = performance.now() - start;
  if (ms > slowMs) throw new FuzzFailure(name, seed, c.index, c.what, c.input, `took ${ms.toFixed(0)} ms`);
}

const watchdogScript = new vm.Script('run()');

/** Runs `fn` synchronously; a run longer than `ms` is interrupted with ERR_SCRIPT_EXECUTION_TIMEOUT. */
function watchdog(fn: () => void, ms: number): void {
  watchdogScript.runInContext(vm.createContext({ run: fn }), { timeout: ms });
}

function isTimeout(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the fuzz tests

/** Throws `message` unless `cond`. */
export function ensure(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`invariant: ${message}`);
}

/**
 * Throws if a parsed value holds a number that is not a finite integer (NaN shows a read past the end
 * of a Uint8Array: `undefined << 8`... reads as 0, but `undefined * 256` does not) or an `undefined`.
 */
export function ensureSane(value: unknown, path = 'value'): void {
  if (value === undefined) throw new Error(`invariant: ${path} is undefined`);
  if (typeof value === 'number') {
    ensure(Number.isInteger(value), `${path} = ${value} is not an integer`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => ensureSane(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value)) ensureSane(v, `${path}.${k}`);
  }
}

/** A value with byte arrays as hex, for comparing parse results with `JSON.stringify`. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${toHexString(v)}` : v));
}
