import test from 'ava';
import { Coalescer, MAX_RUN } from './coalesce.js';
import type { SegmentIn } from './state.js';

const ACK = 0x10, PSH = 0x08, FIN = 0x01, SYN = 0x02;

/** A segment whose payload is `len` bytes of `fill`, preceded by 40 bytes of headers (0xa5) in its own buffer. */
function seg(seq: number, len: number, fill: number, flags = ACK, ack = 1000, window = 500): SegmentIn {
  const buf = new Uint8Array(40 + len).fill(0xa5);
  buf.fill(fill, 40);
  return { flags, seq, ack, window, buf, payOff: 40, payLen: len, mss: 0, wscale: -1 };
}

const payload = (s: SegmentIn) => [...s.buf.subarray(s.payOff, s.payOff + s.payLen)];

test('consecutive data segments of one flow merge: payload in order, last ack and window, PSH kept', (t) => {
  const c = new Coalescer<string>();
  t.true(c.add('f', seg(100, 3, 1)));
  t.true(c.add('f', seg(103, 2, 2, ACK | PSH, 1010, 600)));
  t.true(c.add('f', seg(105, 1, 3, ACK, 1020, 700)));
  t.is(c.count, 3);
  const r = c.take()!;
  t.is(r.flow, 'f');
  t.deepEqual(payload(r.seg), [1, 1, 1, 2, 2, 3]);
  t.like(r.seg, { seq: 100, payLen: 6, ack: 1020, window: 700, flags: ACK | PSH });
  t.is(c.take(), null, 'no run after take');
});

test('a single segment is handed back as it is, without a copy', (t) => {
  const c = new Coalescer<string>();
  const s = seg(7, 4, 9);
  t.true(c.add('f', s));
  const r = c.take()!;
  t.is(r.seg.buf, s.buf);
  t.deepEqual(payload(r.seg), [9, 9, 9, 9]);
});

test('a gap, another flow, or a full run ends the run (add says no)', (t) => {
  const c = new Coalescer<string>();
  t.true(c.add('f', seg(100, 10, 1)));
  t.false(c.add('f', seg(111, 10, 2)), 'gap');
  t.false(c.add('f', seg(95, 10, 2)), 'overlap');
  t.false(c.add('g', seg(110, 10, 2)), 'another flow');
  t.deepEqual(c.take()!.seg.payLen, 10);
  t.true(c.add('f', seg(0, MAX_RUN - 5, 1)));
  t.false(c.add('f', seg(MAX_RUN - 5, 6, 1)), 'beyond MAX_RUN');
  t.true(c.add('f', seg(MAX_RUN - 5, 5, 1)), 'exactly MAX_RUN');
});

test('sequence numbers wrap around inside a run', (t) => {
  const c = new Coalescer<string>();
  t.true(c.add('f', seg(0xfffffffe, 4, 1)));
  t.true(c.add('f', seg(2, 4, 2)));
  t.deepEqual(c.take()!.seg.payLen, 8);
});

test('only plain data segments merge: no SYN, FIN, RST, empty ACKs or other flags', (t) => {
  t.false(Coalescer.mergeable(seg(1, 0, 0)));
  t.false(Coalescer.mergeable(seg(1, 5, 0, ACK | FIN)));
  t.false(Coalescer.mergeable(seg(1, 5, 0, SYN | ACK)));
  t.false(Coalescer.mergeable(seg(1, 5, 0, ACK | 0x04)));
  t.false(Coalescer.mergeable(seg(1, 5, 0, ACK | 0x40)));
  t.false(Coalescer.mergeable(seg(1, 5, 0, PSH)));
  t.true(Coalescer.mergeable(seg(1, 5, 0, ACK | PSH)));
  const c = new Coalescer<string>();
  t.false(c.add('f', seg(1, 5, 0, ACK | FIN)));
  t.is(c.take(), null);
});

test('the run\'s buffer is reused: a taken run is handled before the next one starts', (t) => {
  const c = new Coalescer<string>();
  c.add('f', seg(0, 2, 1));
  c.add('f', seg(2, 2, 2));
  const first = payload(c.take()!.seg);
  c.add('f', seg(4, 2, 3));
  c.add('f', seg(6, 2, 4));
  t.deepEqual(first, [1, 1, 2, 2]);
  t.deepEqual(payload(c.take()!.seg), [3, 3, 4, 4]);
});
