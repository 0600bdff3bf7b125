import test from 'ava';
import { OwnedFds, holdInShared, ownedFdsOf } from './owned-fds.js';

test('registered fds are listed until released, by reference', (t) => {
  const o = new OwnedFds();
  o.add(1, 10, 7);
  o.add(1, 11, 8);
  o.add(2, 0, 1000);
  t.deepEqual(ownedFdsOf(o.shared), [7, 8, 1000]);
  o.remove(1, 10);
  t.deepEqual(ownedFdsOf(o.shared), [8, 1000]);
  o.remove(1, 10); // twice: no effect
  o.remove(9, 9); // unknown: no effect
  t.deepEqual(ownedFdsOf(o.shared), [8, 1000]);
});

test('the bitmap is shared memory another thread can read', (t) => {
  const o = new OwnedFds();
  o.add(3, 4, 65535);
  t.true(o.shared instanceof SharedArrayBuffer);
  t.deepEqual(ownedFdsOf(o.shared), [65535]);
});

test('out-of-range fds are ignored, not thrown', (t) => {
  const o = new OwnedFds();
  o.add(1, 1, -1);
  o.add(1, 2, OwnedFds.MAX_FD);
  t.deepEqual(ownedFdsOf(o.shared), []);
});

test('fds held outside epoll (pipes) are listed until released, next to registered ones', (t) => {
  const o = new OwnedFds();
  o.add(1, 1, 5);
  o.hold(9);
  o.hold(10);
  t.deepEqual(ownedFdsOf(o.shared), [5, 9, 10]);
  o.release(9);
  t.deepEqual(ownedFdsOf(o.shared), [5, 10]);
  o.hold(-3);
  o.release(OwnedFds.MAX_FD);
  t.deepEqual(ownedFdsOf(o.shared), [5, 10]);
});

test('holdInShared: the router marks fds in flight to a thread; released when the thread closes or sends them on', (t) => {
  const o = new OwnedFds();
  holdInShared(o.shared, 33);
  holdInShared(o.shared, -1);
  t.deepEqual(ownedFdsOf(o.shared), [33]);
  o.release(33);
  t.deepEqual(ownedFdsOf(o.shared), []);
});
