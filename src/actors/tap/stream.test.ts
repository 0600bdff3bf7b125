import test from 'ava';
import { MAX_STREAM_FRAME, OutQueue, deframe, writeStreamHeader } from './stream.js';

/** Frames of the given lengths, each filled with its index, framed back to back. */
function framed(...lens: number[]): Uint8Array {
  const out = new Uint8Array(lens.reduce((a, l) => a + 4 + l, 0)).fill(0xa5);
  let at = 0;
  lens.forEach((len, i) => {
    writeStreamHeader(out, at, len);
    out.fill(i, at + 4, at + 4 + len);
    at += 4 + len;
  });
  return out;
}

function run(buf: Uint8Array, start = 0, end = buf.length, max = 64) {
  const offs = new Uint32Array(max), lens = new Uint32Array(max);
  const r = deframe(buf, start, end, offs, lens, max);
  return { ...r, offs: [...offs.subarray(0, r.count)], lens: [...lens.subarray(0, r.count)] };
}

test('the header is the length, 4 bytes big-endian', (t) => {
  const b = new Uint8Array(4);
  writeStreamHeader(b, 0, 0x0102a5);
  t.deepEqual([...b], [0, 1, 2, 0xa5]);
});

test('whole frames are found with their offsets and lengths', (t) => {
  const r = run(framed(60, 1514, 14));
  t.is(r.error, null);
  t.deepEqual(r.lens, [60, 1514, 14]);
  t.deepEqual(r.offs, [4, 68, 1586]);
  t.is(r.next, 1600);
});

test('a frame cut by the end of the read waits for the next read', (t) => {
  const b = framed(60, 100);
  for (let end = 0; end < b.length; end++) {
    const r = run(b, 0, end);
    t.is(r.error, null);
    t.is(r.count, end >= 64 ? 1 : 0, `end ${end}`);
    t.is(r.next, end >= 64 ? 64 : 0);
  }
  t.is(run(b, 64).count, 1, 'the rest, from where the last call stopped');
});

test('at most max frames per call', (t) => {
  const b = framed(20, 20, 20);
  const r = run(b, 0, b.length, 2);
  t.is(r.count, 2);
  t.is(r.next, 48);
});

test('lengths below an Ethernet header or above 65535 are protocol errors', (t) => {
  for (const bad of [0, 1, 13, MAX_STREAM_FRAME + 1, 0xffffffff]) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, bad);
    const r = run(b);
    t.is(r.count, 0);
    t.regex(r.error ?? '', /frame length/, `length ${bad}`);
  }
  t.is(run(framed(14)).count, 1);
  t.is(run(framed(MAX_STREAM_FRAME)).count, 1);
});

test('frames before a bad length are still delivered; the error comes next', (t) => {
  const good = framed(60);
  const b = new Uint8Array(good.length + 4);
  b.set(good);
  const r = run(b);
  t.is(r.count, 1);
  t.regex(r.error ?? '', /frame length 0/);
  t.is(r.next, 64);
});

test('the out queue frames, hands out contiguous bytes and keeps the rest of a partial write', (t) => {
  const q = new OutQueue(16, 1 << 20);
  const f = new Uint8Array(100).map((_, i) => i);
  t.true(q.push(f, 10, 20));
  t.true(q.push(f, 0, 50)); // grows
  t.is(q.pending, 78);
  const bytes = q.buffer.slice(q.head, q.head + q.pending);
  t.deepEqual([...bytes.subarray(0, 4)], [0, 0, 0, 20]);
  t.deepEqual([...bytes.subarray(4, 24)], [...f.subarray(10, 30)]);
  t.deepEqual([...bytes.subarray(24, 28)], [0, 0, 0, 50]);
  q.consume(30); // a partial write
  t.is(q.pending, 48);
  t.deepEqual([...q.buffer.subarray(q.head, q.head + 2)], [2, 3]);
  q.consume(48);
  t.is(q.pending, 0);
  t.is(q.head, 0);
});

test('the out queue refuses a frame past its limit, whole', (t) => {
  const q = new OutQueue(64, 100);
  const f = new Uint8Array(60);
  t.true(q.push(f, 0, 60));
  t.false(q.push(f, 0, 60));
  t.is(q.pending, 64);
  q.consume(64);
  t.true(q.push(f, 0, 60));
});

test('the out queue compacts before growing', (t) => {
  const q = new OutQueue(128, 128);
  const f = new Uint8Array(56).fill(7);
  t.true(q.push(f, 0, 56));
  t.true(q.push(f, 0, 56));
  q.consume(60);
  t.true(q.push(f, 0, 56)); // fits only once the written bytes are dropped from the front
  t.is(q.pending, 120);
  t.deepEqual([...q.buffer.subarray(q.head, q.head + 4)], [0, 0, 0, 56]);
});
