import test from 'ava';
import { connStateName, finished, isLoopbackPeer, newDirection, newSide, pump, spliceEnabled, type Conn, type SpliceIo } from './state.js';

/**
 * A fake kernel: fd 1 is the source socket (`avail` bytes queued, then EOF if `eof`), fd 2 the
 * destination (accepts up to `room` bytes), fds 10/11 the pipe (read/write end, `cap` bytes).
 */
function fakeIo(o: { avail: number; eof: boolean; room: number; cap: number }) {
  const s = { ...o, inPipe: 0, delivered: 0, shut: [] as number[], calls: 0 };
  const io: SpliceIo = {
    splice(fdIn, fdOut, len) {
      s.calls++;
      if (fdIn === 1 && fdOut === 11) {
        const room = s.cap - s.inPipe;
        if (s.avail === 0) return s.eof ? 0 : -1;
        if (room === 0) return -1;
        const n = Math.min(len, s.avail, room);
        s.avail -= n;
        s.inPipe += n;
        return n;
      }
      if (fdIn === 10 && fdOut === 2) {
        if (s.room === 0) return -1;
        const n = Math.min(len, s.inPipe, s.room);
        s.inPipe -= n;
        s.room -= n;
        s.delivered += n;
        return n;
      }
      throw new Error(`unexpected splice ${fdIn} -> ${fdOut}`);
    },
    shutWrite(fd) {
      s.shut.push(fd);
    },
  };
  return { s, io };
}

const pipe = { r: 10, w: 11, size: 1000 };

test('pump moves everything through the pipe and passes the EOF on once drained', (t) => {
  const { s, io } = fakeIo({ avail: 5000, eof: true, room: 1e9, cap: 1000 });
  const from = newSide(1), to = newSide(2), d = newDirection(pipe);
  t.is(pump(from, to, d, io, 1e9), 'idle');
  t.is(s.delivered, 5000);
  t.is(d.bytes, 5000);
  t.is(d.pending, 0);
  t.true(from.eof);
  t.deepEqual(s.shut, [2]);
  t.true(to.shut);
});

test('a blocked destination keeps the bytes in the pipe and holds the EOF back', (t) => {
  const { s, io } = fakeIo({ avail: 3000, eof: true, room: 500, cap: 1000 });
  const from = newSide(1), to = newSide(2), d = newDirection(pipe);
  t.is(pump(from, to, d, io, 1e9), 'idle');
  t.is(s.delivered, 500);
  t.is(d.pending, 1000, 'the pipe is full');
  t.deepEqual(s.shut, []);
  s.room = 1e9; // EPOLLOUT
  t.is(pump(from, to, d, io, 1e9), 'idle');
  t.is(s.delivered, 3000);
  t.deepEqual(s.shut, [2]);
});

test('no data yet: EAGAIN ends the pump with nothing shut', (t) => {
  const { s, io } = fakeIo({ avail: 0, eof: false, room: 1e9, cap: 1000 });
  const from = newSide(1), to = newSide(2), d = newDirection(pipe);
  t.is(pump(from, to, d, io, 1e9), 'idle');
  t.false(from.eof);
  t.deepEqual(s.shut, []);
  t.is(s.calls, 1);
});

test('the budget stops a pump that could go on', (t) => {
  const { s, io } = fakeIo({ avail: 100_000, eof: false, room: 1e9, cap: 1000 });
  const d = newDirection(pipe);
  t.is(pump(newSide(1), newSide(2), d, io, 4000), 'budget');
  t.is(s.delivered, 4000);
});

test('errors from the kernel reach the caller', (t) => {
  const io: SpliceIo = { splice: () => { throw new Error('ECONNRESET'); }, shutWrite: () => {} };
  t.throws(() => pump(newSide(1), newSide(2), newDirection(pipe), io, 100), { message: 'ECONNRESET' });
});

test('finished only when both ways ended and drained', (t) => {
  const c = { index: 0, gen: 1, a: newSide(1), b: newSide(2), ab: newDirection(pipe), ba: newDirection(pipe), connecting: false, outbound: false };
  t.false(finished(c));
  c.a.eof = c.b.eof = c.a.shut = true;
  t.false(finished(c));
  c.b.shut = true;
  t.true(finished(c));
  c.ab.pending = 1;
  t.false(finished(c));
});

test('loopback peers', (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) t.true(isLoopbackPeer(a), a);
  for (const a of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '1127.0.0.1', 'fe80::1']) t.false(isLoopbackPeer(a), a);
});

test('splicing: pasta only, unless --no-splice', (t) => {
  t.true(spliceEnabled('pasta', false));
  t.false(spliceEnabled('passt', false));
  t.false(spliceEnabled('pasta', true));
});

test('connStateName: connecting, established, and which side ended first (-t and -T)', (t) => {
  const conn = (outbound: boolean): Conn => ({
    index: 0, gen: 1, a: newSide(1), b: newSide(2), ab: newDirection(pipe), ba: newDirection(pipe), connecting: true, outbound,
  });
  const c = conn(false);
  t.is(connStateName(c), 'connecting');
  c.connecting = false;
  t.is(connStateName(c), 'established');
  c.a.eof = true; // -t: A is the host's client
  t.is(connStateName(c), 'fin-from-host');
  c.b.eof = true;
  t.is(connStateName(c), 'closing');
  const o = conn(true);
  o.connecting = false;
  o.a.eof = true; // -T: A is the namespace's client
  t.is(connStateName(o), 'fin-from-guest');
});
