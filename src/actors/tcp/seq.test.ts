import test from 'ava';
import { seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax } from './seq.js';

test('seqAdd wraps at 2^32', (t) => {
  t.is(seqAdd(0xffffffff, 1), 0);
  t.is(seqAdd(0xfffffff0, 0x20), 0x10);
  t.is(seqAdd(5, -6), 0xffffffff);
});

test('seqDiff is a signed distance across the wrap', (t) => {
  t.is(seqDiff(0x10, 0xfffffff0), 0x20);
  t.is(seqDiff(0xfffffff0, 0x10), -0x20);
  t.is(seqDiff(7, 7), 0);
});

test('comparisons follow the circular order', (t) => {
  t.true(seqLt(0xfffffff0, 0x10));
  t.true(seqGt(0x10, 0xfffffff0));
  t.true(seqLe(3, 3));
  t.true(seqGe(3, 3));
  t.false(seqLt(3, 3));
  t.is(seqMax(0xfffffff0, 0x10), 0x10);
  t.is(seqMax(0x10, 0xfffffff0), 0x10);
});

test('seqInWindow covers [lo, lo + len) across the wrap', (t) => {
  t.true(seqInWindow(0xffffffff, 0xfffffff0, 0x20));
  t.true(seqInWindow(0x0f, 0xfffffff0, 0x20));
  t.false(seqInWindow(0x10, 0xfffffff0, 0x20));
  t.false(seqInWindow(0xffffffef, 0xfffffff0, 0x20));
  t.false(seqInWindow(5, 5, 0));
});
