/**
 * The fuzzing toolkit itself: determinism (same seed, same inputs), mutations within their declared
 * bounds, and failures that carry what is needed to replay them.
 */
import test from 'ava';
import {
  BOUNDARY_16, BOUNDARY_32, FuzzFailure, MAX_GROWTH, MUTATORS, Prng, canonical, ensureSane, fuzz, fuzzCase,
  fuzzCases, mutate, mutateBound, toHexString,
} from './fuzz.js';

// The toolkit's own tests run with fixed seeds and counts, whatever the environment asks of fuzz runs.
delete process.env['FUZZ_SEED'];
delete process.env['FUZZ_SCALE'];

const SEEDS = [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(0xaa, 0xbb), new Uint8Array(40).fill(7)];
const hexes = (seed: number, n: number): string[] => [...fuzzCases(SEEDS, n, seed)].map((c) => toHexString(c.input));

test('the PRNG is deterministic, seed-dependent and in range', (t) => {
  const seq = (seed: number): number[] => Array.from({ length: 50 }, ((r) => () => r.next())(new Prng(seed)));
  t.deepEqual(seq(42), seq(42));
  t.notDeepEqual(seq(42), seq(43));
  const r = new Prng(7);
  for (let i = 0; i < 10_000; i++) {
    const x = r.below(10);
    t.true(Number.isInteger(x) && x >= 0 && x < 10);
    const y = r.between(-3, 3);
    if (y < -3 || y > 3) t.fail(`between gave ${y}`);
  }
  const counts = new Array<number>(4).fill(0);
  for (let i = 0; i < 40_000; i++) counts[r.below(4)]!++;
  for (const c of counts) t.true(c > 9000 && c < 11000, `skewed: ${counts.join(' ')}`);
});

test('same seed, same cases; another seed, other cases', (t) => {
  t.deepEqual(hexes(0x1234, 300), hexes(0x1234, 300));
  t.notDeepEqual(hexes(0x1234, 300), hexes(0x1235, 300));
});

test('a run starts with every seed, then every truncation of every seed', (t) => {
  const cases = [...fuzzCases(SEEDS, 0, 1)];
  const total = SEEDS.length + SEEDS.reduce((n, s) => n + s.length, 0);
  t.is(cases.length, total);
  t.deepEqual(cases.slice(0, 3).map((c) => c.input), SEEDS);
  const cuts = cases.filter((c) => c.what.startsWith('seed 2 cut')).map((c) => c.input.length);
  t.deepEqual(cuts, Array.from({ length: 40 }, (_, i) => i));
  cases.forEach((c, i) => t.is(c.index, i));
});

test('fuzzCase replays any case of a run', (t) => {
  const all = [...fuzzCases(SEEDS, 200, 99)];
  for (const i of [0, 5, 60, all.length - 1]) t.deepEqual(fuzzCase(SEEDS, 99, i), all[i]!.input);
});

test('each mutator stays within its bounds and never writes into its input', (t) => {
  const r = new Prng(5);
  for (const [name, m] of Object.entries(MUTATORS)) {
    for (let i = 0; i < 2000; i++) {
      const input = SEEDS[i % SEEDS.length]!;
      const before = toHexString(input);
      const out = m(r, input, SEEDS);
      t.is(toHexString(input), before, `${name} changed its input`);
      const longest = Math.max(input.length + MAX_GROWTH, ...SEEDS.map((s) => s.length));
      if (out.length > longest) t.fail(`${name}: ${out.length} bytes from ${input.length}`);
    }
  }
});

test('mutators do what they say', (t) => {
  const r = new Prng(11);
  const input = new Uint8Array(32);
  for (let i = 0; i < 500; i++) {
    const flipped = MUTATORS.flipBit!(r, input, []);
    t.is(flipped.reduce((n, x) => n + popcount(x), 0), 1);
    t.true(MUTATORS.truncate!(r, input, []).length <= input.length);
    const ext = MUTATORS.extend!(r, input, []);
    t.true(ext.length > input.length && ext.length <= input.length + MAX_GROWTH);
    t.deepEqual(ext.subarray(0, 32), input);
    const v16 = fieldValues(MUTATORS.overwrite16!(r, input, []), 2);
    t.true(v16.some((v) => BOUNDARY_16.includes(v)));
    const v32 = fieldValues(MUTATORS.overwrite32!(r, input, []), 4);
    t.true(v32.some((v) => BOUNDARY_32.includes(v)));
  }
});

test('stacked mutations stay under mutateBound', (t) => {
  const r = new Prng(3);
  for (let i = 0; i < 5000; i++) {
    const input = SEEDS[i % SEEDS.length]!;
    const out = mutate(r, input, SEEDS);
    if (out.length > mutateBound(input, SEEDS)) t.fail(`${out.length} bytes`);
    if (out === input) t.fail('mutate returned its input');
  }
  t.pass();
});

test('a failing check names the parser, the seed, the case and the input', (t) => {
  const err = t.throws(() => fuzz('demo', SEEDS, 100, 0xbeef, (b) => {
    if (b.length === 3) throw new RangeError('boom');
  }), { instanceOf: FuzzFailure });
  t.regex(err.message, /fuzz demo: RangeError: boom/);
  t.regex(err.message, /prng seed 0xbeef, case \d+/);
  t.regex(err.message, /input \(3 bytes\): [0-9a-f]{6}$/);
  t.deepEqual(fuzzCase(SEEDS, 0xbeef, err.index), err.input);
});

test('an endless loop is interrupted and reported', (t) => {
  const err = t.throws(() => fuzz('loop', SEEDS, 10, 1, (b) => {
    while (b.length === 8) { /* spin */ }
  }, { timeoutMs: 200, slowMs: 10_000 }), { instanceOf: FuzzFailure });
  t.regex(err.message, /run interrupted/);
  t.is(err.input.length, 8);
});

test('a slow case is reported', (t) => {
  const err = t.throws(() => fuzz('slow', SEEDS, 0, 1, (b) => {
    const until = Date.now() + (b.length === 2 ? 30 : 0);
    while (Date.now() < until) { /* spin */ }
  }, { slowMs: 20 }), { instanceOf: FuzzFailure });
  t.regex(err.message, /took \d+ ms/);
});

test('a passing run reports its case count', (t) => {
  const r = fuzz('ok', SEEDS, 123, 1, () => {});
  t.is(r.cases, SEEDS.length + 50 + 123);
});

test('ensureSane finds NaN and undefined deep inside a value; canonical shows bytes', (t) => {
  t.notThrows(() => ensureSane({ a: 1, b: [2, { c: Uint8Array.of(1) }], d: null, e: 'x' }));
  t.throws(() => ensureSane({ a: [1, { b: Number.NaN }] }), { message: /value\.a\[1\]\.b/ });
  t.throws(() => ensureSane({ a: undefined }), { message: /value\.a is undefined/ });
  t.is(canonical({ x: Uint8Array.of(1, 255) }), '{"x":"hex:01ff"}');
});

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

/** Every big- and little-endian field of `size` bytes in `b`. */
function fieldValues(b: Uint8Array, size: 2 | 4): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i + size <= b.length; i++) {
    for (const le of [false, true]) out.push(size === 2 ? dv.getUint16(i, le) : dv.getUint32(i, le));
  }
  return out;
}
