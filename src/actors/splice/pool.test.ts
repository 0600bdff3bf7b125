import test from 'ava';
import { SocketPool, type Family } from './pool.js';

function pool(target = 4, maxBatch = 64) {
  const asked: [Family, number][] = [];
  const got: (number | null)[] = [];
  const p = new SocketPool(target, (f, n) => asked.push([f, n]), maxBatch);
  const take = (f: Family) => p.take(f, (fd) => got.push(fd));
  return { p, asked, got, take };
}

test('an empty pool asks once for the waiting takes plus a batch, and serves them first when it arrives', (t) => {
  const { p, asked, got, take } = pool();
  t.false(take(4), 'nothing pooled: waits');
  t.deepEqual(asked, [[4, 5]], 'one waiting + the target');
  t.false(take(4));
  t.deepEqual(asked, [[4, 5]], 'no second request while one is in flight');
  t.is(p.waiting(4), 2);
  p.filled(4, [10, 11, 12, 13, 14]);
  t.deepEqual(got, [14, 13], 'the waiting takes, in order');
  t.is(p.size(4), 3);
  t.deepEqual(asked, [[4, 5]], 'half full or more: no request');
  t.true(take(4));
  t.deepEqual(got, [14, 13, 12]);
  t.is(p.size(4), 2);
  t.true(take(4));
  t.deepEqual(asked, [[4, 5], [4, 3]], 'below half: asks for the difference');
});

test('a burst: every take is served by a few batches, each at most maxBatch', (t) => {
  const { p, asked, got, take } = pool(16, 64);
  for (let i = 0; i < 200; i++) take(6);
  t.deepEqual(asked, [[6, 17]], 'the first take asked (1 + the target); the others wait for the next batch');
  let next = 1000;
  const batch = (n: number) => Array.from({ length: n }, () => next++);
  for (let round = 0; round < 10 && p.waiting(6) > 0; round++) p.filled(6, batch(asked.at(-1)![1]));
  t.is(got.length, 200);
  t.false(got.includes(null));
  t.is(new Set(got).size, 200, 'no socket handed out twice');
  t.true(asked.every(([, n]) => n <= 64), 'no batch over the helper limit');
  t.deepEqual(asked.map(([, n]) => n), [17, 64, 64, 64], '200 takes served by 4 requests');
  t.is(p.size(6), 9, 'and the pool at least half full behind the burst');
});

test('families are pooled apart; prefill asks without taking', (t) => {
  const { p, asked, got, take } = pool(2);
  p.prefill(6);
  t.deepEqual(asked, [[6, 2]]);
  p.filled(6, [20, 21]);
  t.false(take(4));
  t.is(p.size(6), 2);
  t.true(take(6));
  t.deepEqual(got, [21]);
});

test('a failed request (empty batch) fails the waiting takes and is asked again only by the next take', (t) => {
  const { p, asked, got, take } = pool(2);
  p.prefill(4);
  take(4);
  p.filled(4, []);
  t.deepEqual(got, [null]);
  t.deepEqual(asked, [[4, 2]], 'not retried by itself');
  t.false(take(4));
  t.deepEqual(asked, [[4, 2], [4, 3]]);
});

test('a take answered in its callback can take again (re-entrant)', (t) => {
  const seen: number[] = [];
  const p = new SocketPool(2, () => {});
  p.prefill(4);
  p.filled(4, [1, 2]);
  p.take(4, (fd) => {
    seen.push(fd!);
    p.take(4, (fd2) => seen.push(fd2!));
  });
  t.deepEqual(seen, [2, 1]);
});

test('drain returns every pooled socket and empties the pool; waiting takes are forgotten', (t) => {
  const { p, take, got } = pool(4);
  p.prefill(4);
  p.filled(4, [1, 2]);
  p.prefill(6);
  p.filled(6, [3]);
  t.deepEqual(p.drain().sort(), [1, 2, 3]);
  t.is(p.size(4) + p.size(6), 0);
  take(6);
  t.deepEqual(p.drain(), []);
  t.is(p.waiting(6), 0);
  t.deepEqual(got, []);
});
