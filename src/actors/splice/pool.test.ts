import test from 'ava';
import { SocketPool, type Family } from './pool.js';

function pool(target = 4) {
  const asked: [Family, number][] = [];
  return { p: new SocketPool(target, (f, n) => asked.push([f, n])), asked };
}

test('an empty pool asks for a whole batch once, and hands out what arrives', (t) => {
  const { p, asked } = pool();
  t.is(p.take(4), undefined);
  t.deepEqual(asked, [[4, 4]]);
  t.is(p.take(4), undefined, 'still empty');
  t.deepEqual(asked, [[4, 4]], 'no second request while one is in flight');
  p.filled(4, [10, 11, 12, 13]);
  t.is(p.take(4), 13);
  t.is(p.take(4), 12);
  t.deepEqual(asked, [[4, 4]], 'half full: no request yet');
  t.is(p.take(4), 11);
  t.deepEqual(asked, [[4, 4], [4, 3]], 'below half: asks for the difference');
});

test('families are pooled apart; prefill asks without taking', (t) => {
  const { p, asked } = pool(2);
  p.prefill(6);
  t.deepEqual(asked, [[6, 2]]);
  p.filled(6, [20, 21]);
  t.is(p.take(4), undefined);
  t.is(p.size(6), 2);
  t.is(p.take(6), 21);
});

test('a failed request (empty batch) is asked again only by the next take', (t) => {
  const { p, asked } = pool(2);
  p.prefill(4);
  p.filled(4, []);
  t.deepEqual(asked, [[4, 2]]);
  t.is(p.take(4), undefined);
  t.deepEqual(asked, [[4, 2], [4, 2]]);
});

test('drain returns every pooled socket and empties the pool', (t) => {
  const { p } = pool(4);
  p.prefill(4);
  p.filled(4, [1, 2]);
  p.prefill(6);
  p.filled(6, [3]);
  t.deepEqual(p.drain().sort(), [1, 2, 3]);
  t.is(p.size(4) + p.size(6), 0);
});
