/**
 * Seeded fuzzing of the qemu stream framing (stream.ts): `deframe` on hostile byte streams with random
 * ranges and frame limits, on valid streams read in pieces cut at random points, and `OutQueue` under
 * random partial writes. Invariants: no throw; every frame found lies inside [start, end) right after its
 * length header, frames are back to back from `start`, an error points at an invalid header; a valid
 * stream comes out frame for frame whatever the cut points; queued bytes stay under the limit and come
 * out as the frames pushed.
 */
import test from 'ava';
import { MAX_STREAM_FRAME, MIN_STREAM_FRAME, OutQueue, STREAM_HEADER_LEN, deframe, writeStreamHeader } from './stream.js';
import { FRAMES } from '../../protocol/fuzz-corpus.js';
import { ensure, fuzz, toHexString } from '../../protocol/fuzz.js';
import type { Prng } from '../../protocol/fuzz.js';

const SEED = 0x5eed0300;
const MAX = 64;
const offs = new Uint32Array(MAX), lens = new Uint32Array(MAX);

/** The frames back to back, each behind its 4-byte length. */
function framed(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + STREAM_HEADER_LEN + f.length, 0));
  let at = 0;
  for (const f of frames) {
    writeStreamHeader(out, at, f.length);
    out.set(f, at + STREAM_HEADER_LEN);
    at += STREAM_HEADER_LEN + f.length;
  }
  return out;
}

const headerAt = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at);

/** deframe on b[start, end) with at most `max` frames, and every invariant of its answer. */
function checkDeframe(b: Uint8Array, start: number, end: number, max: number): void {
  const r = deframe(b, start, end, offs, lens, max);
  ensure(r.count >= 0 && r.count <= max, `count ${r.count}`);
  let pos = start;
  for (let i = 0; i < r.count; i++) {
    ensure(offs[i] === pos + STREAM_HEADER_LEN && headerAt(b, pos) === lens[i], `frame ${i} not at ${pos}`);
    ensure(lens[i]! >= MIN_STREAM_FRAME && lens[i]! <= MAX_STREAM_FRAME, `frame ${i} length ${lens[i]}`);
    pos = offs[i]! + lens[i]!;
    ensure(pos <= end, `frame ${i} ends at ${pos}, past ${end}`);
  }
  ensure(r.next === pos, `next ${r.next}, frames end at ${pos}`);
  if (r.error !== null) {
    const len = headerAt(b, r.next);
    ensure(r.next + STREAM_HEADER_LEN <= end && (len < MIN_STREAM_FRAME || len > MAX_STREAM_FRAME), 'error at a valid header');
  } else if (r.count < max && end - pos >= STREAM_HEADER_LEN) {
    ensure(end - pos - STREAM_HEADER_LEN < headerAt(b, pos), 'stopped before a whole frame');
  }
}

test('fuzz: deframe on hostile streams, random ranges and limits', (t) => {
  const seeds = [framed(FRAMES.slice(0, 6)), framed(FRAMES.slice(6)), framed([new Uint8Array(14), new Uint8Array(60)])];
  const r = fuzz('deframe', seeds, 20_000, SEED, (b, rng) => {
    checkDeframe(b, 0, b.length, MAX);
    const start = rng.below(b.length + 1);
    checkDeframe(b, start, rng.between(start, b.length), rng.between(0, MAX));
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Valid streams, read in pieces

/** The input cut into frames of random lengths (14..3000, short ones padded with the input's bytes). */
function framesOf(input: Uint8Array, rng: Prng): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < input.length || frames.length === 0;) {
    const len = rng.chance(0.02) ? MAX_STREAM_FRAME : rng.between(MIN_STREAM_FRAME, 3000);
    const f = new Uint8Array(len);
    f.set(input.subarray(at, at + len));
    frames.push(f);
    at += len;
  }
  return frames;
}

/**
 * Reads `stream` into a 128 KiB buffer in random pieces, as link.ts does: deframe what is there, keep
 * the partial tail for the next read (moved to the front when the buffer runs short). Returns the frames.
 */
function readInPieces(stream: Uint8Array, rng: Prng): Uint8Array[] {
  const buf = new Uint8Array(2 * (MAX_STREAM_FRAME + STREAM_HEADER_LEN));
  const got: Uint8Array[] = [];
  let start = 0, end = 0, read = 0;
  while (read < stream.length || end > start) {
    if (buf.length - end < MAX_STREAM_FRAME + STREAM_HEADER_LEN) {
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    const n = Math.min(stream.length - read, buf.length - end, rng.chance(0.3) ? rng.between(1, 8) : rng.between(1, 9000));
    buf.set(stream.subarray(read, read + n), end);
    end += n;
    read += n;
    const r = deframe(buf, start, end, offs, lens, rng.between(1, MAX));
    ensure(r.error === null, `error on a valid stream: ${r.error}`);
    for (let i = 0; i < r.count; i++) got.push(buf.slice(offs[i], offs[i]! + lens[i]!));
    start = r.next;
    if (n === 0 && r.count === 0) break; // nothing left to read and no whole frame: a cut stream
  }
  return got;
}

test('fuzz: a valid stream comes out frame for frame whatever the cut points', (t) => {
  const r = fuzz('deframe cut points', FRAMES, 1_500, SEED + 1, (input, rng) => {
    const frames = framesOf(input, rng);
    const got = readInPieces(framed(frames), rng);
    ensure(got.length === frames.length, `${got.length} frames out of ${frames.length}`);
    got.forEach((f, i) => ensure(toHexString(f) === toHexString(frames[i]!), `frame ${i} differs`));
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

test('fuzz: OutQueue under random partial writes keeps frames whole and under its limit', (t) => {
  const r = fuzz('OutQueue', FRAMES, 2_000, SEED + 2, (input, rng) => {
    const q = new OutQueue(rng.between(1, 4096), rng.between(64, 16_384));
    const pushed: Uint8Array[] = [];
    const written: number[] = [];
    for (const f of framesOf(input, rng).filter((x) => x.length < 4000)) {
      if (q.push(f, 0, f.length)) pushed.push(f);
      ensure(q.pending <= q.limit && q.head + q.pending <= q.buffer.length, 'queue over its limit or buffer');
      const n = rng.below(q.pending + 1);
      written.push(...q.buffer.subarray(q.head, q.head + n));
      q.consume(n);
    }
    written.push(...q.buffer.subarray(q.head, q.head + q.pending));
    ensure(toHexString(Uint8Array.from(written)) === toHexString(framed(pushed)), 'written bytes are not the frames pushed');
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
