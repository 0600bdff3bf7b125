import test from 'ava';
import { median, percentile, ratio, summarize } from './stats.js';

test('median of odd and even counts, unsorted input', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([7]), 7);
  t.is(median([]), null);
});

test('percentile interpolates between closest ranks and clamps p', (t) => {
  const xs = Array.from({ length: 101 }, (_, i) => 100 - i); // 0..100, reversed
  t.is(percentile(xs, 99), 99);
  t.is(percentile(xs, 0), 0);
  t.is(percentile(xs, 100), 100);
  t.is(percentile(xs, 150), 100);
  t.is(percentile([10, 20], 50), 15);
  t.is(percentile([10, 20], 99), 19.9);
});

test('percentile does not reorder its input', (t) => {
  const xs = [3, 1, 2];
  percentile(xs, 50);
  t.deepEqual(xs, [3, 1, 2]);
});

test('summarize: median, range and half-range spread relative to the median', (t) => {
  t.deepEqual(summarize([10, 8, 12]), { n: 3, median: 10, min: 8, max: 12, spreadPct: 20 });
  t.deepEqual(summarize([5]), { n: 1, median: 5, min: 5, max: 5, spreadPct: 0 });
  t.is(summarize([]), null);
  t.is(summarize([0, 0])?.spreadPct, 0);
});

test('ratio is null when a side is missing or the divisor is zero', (t) => {
  t.is(ratio(3, 2), 1.5);
  t.is(ratio(null, 2), null);
  t.is(ratio(2, undefined), null);
  t.is(ratio(2, 0), null);
  t.is(ratio(0, 2), 0);
});
