/**
 * The stream link over a real UNIX socketpair: frames split across reads, a client leaving mid-frame,
 * bad lengths, and writes that meet a full socket (never a truncated frame).
 */
import test from 'ava';
import { native } from '../../native/index.js';
import { LinkRead, StreamLink } from './link.js';
import { deframe, writeStreamHeader } from './stream.js';

const SOL_SOCKET = 1, SO_SNDBUF = 7;

function pair(): [StreamLink, number] {
  const [ours, theirs] = native.socketpair('stream');
  native.setNonBlocking(ours, true);
  return [new StreamLink(ours), theirs];
}

function frame(len: number, fill: number): Uint8Array {
  const b = new Uint8Array(4 + len).fill(fill);
  writeStreamHeader(b, 0, len);
  return b;
}

function put(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += native.write(fd, b, off, b.length - off);
}

function readAll(link: StreamLink): { lens: number[]; fills: number[]; last: number } {
  const offs = new Uint32Array(64), lens = new Uint32Array(64);
  const out = { lens: [] as number[], fills: [] as number[], last: 0 };
  for (;;) {
    const n = link.read(offs, lens, 64);
    out.last = n;
    if (n <= 0) return out;
    for (let i = 0; i < n; i++) {
      out.lens.push(lens[i]!);
      out.fills.push(link.buf[offs[i]!]!);
    }
  }
}

test('frames split across writes come out whole, in order', (t) => {
  const [link, peer] = pair();
  t.teardown(() => (link.close(), native.close(peer, true)));
  const a = frame(60, 1), b = frame(1514, 2);
  const all = new Uint8Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  put(peer, all.subarray(0, 2)); // not even a whole header
  t.deepEqual(readAll(link).lens, []);
  put(peer, all.subarray(2, 70)); // the first frame and part of the second
  const first = readAll(link);
  t.deepEqual(first.lens, [60]);
  t.is(first.last, LinkRead.Again);
  put(peer, all.subarray(70));
  t.deepEqual(readAll(link), { lens: [1514], fills: [2], last: LinkRead.Again });
});

test('EOF in the middle of a frame ends the link with a reason', (t) => {
  const [link, peer] = pair();
  put(peer, frame(100, 3).subarray(0, 50));
  native.close(peer);
  t.teardown(() => link.close());
  t.is(readAll(link).last, LinkRead.Closed);
  t.regex(link.error ?? '', /middle of a frame/);
});

test('a clean EOF ends the link without an error', (t) => {
  const [link, peer] = pair();
  put(peer, frame(100, 3));
  native.close(peer);
  t.teardown(() => link.close());
  const r = readAll(link);
  t.deepEqual(r.lens, [100]);
  t.is(r.last, LinkRead.Closed);
  t.is(link.error, null);
});

test('a bad length is a protocol error, after the good frames before it', (t) => {
  const [link, peer] = pair();
  t.teardown(() => (link.close(), native.close(peer, true)));
  put(peer, frame(60, 4));
  put(peer, Uint8Array.of(0, 1, 0, 0)); // 65536
  const r = readAll(link);
  t.deepEqual(r.lens, [60]);
  t.is(r.last, LinkRead.ProtocolError);
  t.regex(link.error ?? '', /protocol error: frame length 65536/);
});

test('writes that meet a full socket are queued and finished later, never truncated', (t) => {
  const [link, peer] = pair();
  t.teardown(() => (link.close(), native.close(peer, true)));
  native.setsockoptInt(peer, SOL_SOCKET, SO_SNDBUF, 4096);
  const payload = new Uint8Array(9000);
  const count = 200;
  for (let i = 0; i < count; i++) {
    payload.fill(i & 0xff);
    t.is(link.send(payload, 0, 1000 + i), 'queued');
  }
  t.is(link.flush(), 'blocked');
  t.true(link.pending > 0);
  // the guest's side: read everything, letting the link go on each time the socket has room
  const got: number[] = [];
  const rx = new Uint8Array(4 << 20);
  let have = 0;
  for (let spins = 0; spins < 10_000 && got.length < count; spins++) {
    native.setNonBlocking(peer, true);
    const n = native.read(peer, rx, have, rx.length - have);
    if (n > 0) have += n;
    link.flush();
    const offs = new Uint32Array(count), lens = new Uint32Array(count);
    const r = deframe(rx, 0, have, offs, lens, count);
    t.is(r.error, null);
    if (r.count > got.length) for (let i = got.length; i < r.count; i++) got.push(lens[i]!);
  }
  t.is(got.length, count);
  t.deepEqual(got, Array.from({ length: count }, (_, i) => 1000 + i));
  t.is(link.pending, 0);
});

test('a write to a client that left closes the link', (t) => {
  const [link, peer] = pair();
  native.close(peer);
  t.teardown(() => link.close());
  t.is(link.send(new Uint8Array(60), 0, 60), 'queued');
  t.is(link.flush(), 'closed');
});
