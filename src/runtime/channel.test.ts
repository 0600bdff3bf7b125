/**
 * The two channel transports: SocketChannel over a real socketpair (framing, msgpack bodies, fds passed
 * with SCM_RIGHTS and usable on arrival, large messages, order under load, the peer going away) and
 * PortChannel over a MessageChannel.
 */
import test, { type ExecutionContext } from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { native } from '../native/index.js';
import { PortChannel, SocketChannel, type Msg } from './channel.js';

interface Received {
  msgs: Msg[];
  fds: number[][];
}

function pair(t: ExecutionContext): { a: SocketChannel; b: SocketChannel; got: Received; closedB: () => boolean } {
  const [x, y] = native.socketpair('stream');
  const a = new SocketChannel(x);
  const b = new SocketChannel(y);
  const got: Received = { msgs: [], fds: [] };
  let closed = false;
  b.onMessage((m, fds) => {
    got.msgs.push(m);
    got.fds.push(fds);
  });
  b.onClose(() => (closed = true));
  t.teardown(() => {
    a.close();
    b.close();
    for (const fds of got.fds) for (const fd of fds) native.close(fd, true);
  });
  return { a, b, got, closedB: () => closed };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test.serial('SocketChannel: messages arrive whole and in order, with their fields', async (t) => {
  const { a, got } = pair(t);
  for (let i = 0; i < 1000; i++) a.send({ t: 'n', i, s: `x${i}`, arr: [i, -i], bytes: new Uint8Array([i & 0xff, 7]) });
  await until('1000 messages', () => got.msgs.length === 1000);
  t.deepEqual(got.msgs.map((m) => m.i), [...Array(1000).keys()]);
  t.deepEqual(got.msgs[42], { t: 'n', i: 42, s: 'x42', arr: [42, -42], bytes: new Uint8Array([42, 7]) });
});

test.serial('SocketChannel: fds move with their message and work on arrival; the sender\'s copies are closed', async (t) => {
  const { a, got } = pair(t);
  const [r, w] = native.pipe(0);
  t.teardown(() => native.close(r, true));
  a.send({ t: 'first' });
  a.send({ t: 'with-fd' }, [w]);
  a.send({ t: 'last' });
  await until('3 messages', () => got.msgs.length === 3);
  t.deepEqual(got.fds.map((f) => f.length), [0, 1, 0]);
  const received = got.fds[1]![0]!;
  native.write(received, new Uint8Array([1, 2, 3]), 0, 3);
  const buf = new Uint8Array(8);
  t.is(native.read(r, buf, 0, 8), 3, 'written through the received fd, read at our end of the pipe');
  native.close(received, true);
  got.fds[1] = [];
  t.is(native.read(r, buf, 0, 8), 0, 'EOF: the received fd was the last writer, the sender closed its copy');
});

test.serial('SocketChannel: an 8 MiB message and many fds in one message', async (t) => {
  const { a, got } = pair(t);
  const big = new Uint8Array(8 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
  const fds = Array.from({ length: 100 }, () => native.dup(0));
  a.send({ t: 'big', big }, fds);
  await until('the big message', () => got.msgs.length === 1, 15_000);
  const m = got.msgs[0]!;
  t.true(m.big instanceof Uint8Array);
  t.is((m.big as Uint8Array).length, big.length);
  t.deepEqual(Buffer.from(m.big as Uint8Array).equals(Buffer.from(big)), true);
  t.is(got.fds[0]!.length, 100);
  t.throws(() => a.send({ t: 'too-many' }, Array.from({ length: 254 }, () => 0)), { instanceOf: RangeError });
});

test.serial('SocketChannel: the peer closing is seen once; sending after close closes the fds given', async (t) => {
  const { a, b, closedB } = pair(t);
  let closedA = 0;
  a.onClose(() => closedA++);
  b.close();
  await until('a sees the close', () => closedA === 1);
  t.true(closedB());
  const [r, w] = native.pipe(0);
  t.teardown(() => native.close(r, true));
  a.send({ t: 'late' }, [w]);
  t.is(native.read(r, new Uint8Array(1), 0, 1), 0, 'EOF: the fd given was closed, not leaked');
  a.close();
  t.is(closedA, 1, 'close handlers run once');
});

test.serial('PortChannel: messages and fd numbers arrive in order; close is seen by both ends', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const a = new PortChannel(port1);
  const b = new PortChannel(port2);
  const got: [Msg, number[]][] = [];
  b.onMessage((m, fds) => got.push([m, fds]));
  let closed = 0;
  b.onClose(() => closed++);
  for (let i = 0; i < 100; i++) a.send({ t: 'n', i }, i === 5 ? [42] : []);
  await until('100 messages', () => got.length === 100);
  t.deepEqual(got.map(([m]) => m.i), [...Array(100).keys()]);
  t.deepEqual(got[5]![1], [42]);
  a.close();
  await until('b sees the close', () => closed === 1);
  b.close();
  t.is(closed, 1);
});
