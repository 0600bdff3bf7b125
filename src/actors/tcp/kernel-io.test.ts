/**
 * KernelIo against the real kernel: a TCP connection over loopback stands for the host side, a
 * SOCK_SEQPACKET pair for the tap (one message = one frame). Peeking with and without SO_PEEK_OFF,
 * discarding, rewinding, EOF, writes and the send buffer's room, a refused connect's pending error.
 */
import test from 'ava';
import { constants as C, native } from '../../native/index.js';
import { Counters } from '../../runtime/actor.js';
import { csumPartial } from '../../protocol/checksum.js';
import { FrameClass, FrameClassifier, Verdict } from '../../protocol/classify.js';
import { TapWriter } from '../common/tap-writer.js';
import { KernelIo, enablePeekOffset } from './kernel-io.js';
import { SegmentWriter } from './segment.js';
import { EOF, newFlow, type TcpFlow } from './state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
  io: KernelIo;
  flow: TcpFlow;
  /** the host peer's end */
  peer: number;
  /** frames written to the "tap" */
  frames: () => Uint8Array[];
  closed: { reset: boolean }[];
  done: () => void;
}

async function rig(fallback = false): Promise<Rig> {
  const l = native.socket(C.AF_INET, C.SOCK_STREAM, 0);
  native.bindInet(l, '127.0.0.1', 0);
  native.listen(l, 4);
  const peer = native.socket(C.AF_INET, C.SOCK_STREAM, 0);
  native.connectInet(peer, '127.0.0.1', native.sockName(l).port);
  await sleep(20);
  const ours = native.accept(l)!.fd;
  native.close(l);
  const [tapOurs, tapGuest] = native.socketpair('seqpacket');
  const counters = new Counters();
  const tap = new TapWriter(counters);
  tap.adopt(tapOurs);
  const closed: { reset: boolean }[] = [];
  const io = new KernelIo(new SegmentWriter(new Uint8Array(6), csumPartial), tap, counters, {
    watch: () => {},
    close: (_f, reset) => void closed.push({ reset }),
  });
  if (fallback || !enablePeekOffset(ours)) io.noPeekOffset.add(ours);
  const addr = { family: 4 as const, guest: Uint8Array.of(10, 0, 0, 2), guestPort: 1000, remote: Uint8Array.of(10, 0, 0, 1), remotePort: 80 };
  const flow = newFlow(0, 1, 'k', addr, ours, 65480, 0);
  flow.seqAckFromTap = flow.seqToTap = 100;
  const buf = new Uint8Array(70000);
  const frames = () => {
    const out: Uint8Array[] = [];
    for (;;) {
      const n = native.read(tapGuest, buf, 0, buf.length);
      if (n <= 0) return out;
      out.push(buf.slice(0, n));
    }
  };
  native.setNonBlocking(tapGuest, true);
  const done = () => {
    for (const fd of [ours, peer, tapGuest]) native.close(fd, true);
    tap.close();
  };
  return { io, flow, peer, frames, closed, done };
}

function payloads(frames: Uint8Array[]): string[] {
  const fc = new FrameClass(), cl = new FrameClassifier();
  return frames.map((f) => {
    if (cl.classify(f, 0, f.length, fc) !== Verdict.Ok) throw new Error('bad frame');
    return Buffer.from(f.subarray(fc.payloadOff, fc.payloadOff + fc.payloadLen)).toString();
  });
}

for (const fallback of [false, true]) {
  const mode = fallback ? 'without SO_PEEK_OFF' : 'with SO_PEEK_OFF';

  test.serial(`${mode}: peeks advance, ACKed bytes are discarded, a rewind resends from the head, EOF at the end`, async (t) => {
    const r = await rig(fallback);
    const f = r.flow;
    native.send(r.peer, Buffer.from('abcdefghij'), 0, 10, 0);
    await sleep(20);
    t.is(r.io.data(f, 100, 0, 0, 4), 4);
    f.seqToTap = 104;
    t.is(r.io.data(f, 104, 0, 0, 4), 4);
    f.seqToTap = 108;
    t.deepEqual(payloads(r.frames()), ['abcd', 'efgh']);
    r.io.discard(f, 3); // the guest acknowledged "abc"
    f.seqAckFromTap = 103;
    t.is(r.io.data(f, 108, 0, 0, 10), 2);
    f.seqToTap = 110;
    t.deepEqual(payloads(r.frames()), ['ij']);
    t.is(r.io.data(f, 110, 0, 0, 10), 0, 'nothing more for now');
    r.io.rewind(f);
    f.seqToTap = 103;
    t.is(r.io.data(f, 103, 0, 0, 3), 3);
    t.deepEqual(payloads(r.frames()), ['def']);
    f.seqToTap = 106;
    native.shutdown(r.peer, C.SHUT_WR);
    await sleep(20);
    t.is(r.io.data(f, 106, 0, 0, 10), 4);
    f.seqToTap = 110;
    t.is(r.io.data(f, 110, 0, 0, 10), EOF);
    r.done();
  });
}

test.serial('writes reach the host peer; sendSpace reads the send buffer', async (t) => {
  const r = await rig();
  t.true(r.io.sendSpace(r.flow) > 0);
  t.true(r.flow.sndbuf > 0);
  t.is(r.io.write(r.flow, Buffer.from('hello'), 0, 5), 5);
  await sleep(20);
  const b = new Uint8Array(10);
  t.is(native.recv(r.peer, b, 0, 10, C.MSG_DONTWAIT), 5);
  r.io.shutdownWrite(r.flow);
  await sleep(20);
  t.is(native.recv(r.peer, b, 0, 10, C.MSG_DONTWAIT), 0, 'the peer sees our FIN');
  r.done();
});

test.serial('a reset by the host peer shows as -ECONNRESET, after the bytes that came before it', async (t) => {
  const r = await rig();
  native.send(r.peer, Buffer.from('x'), 0, 1, 0);
  native.setLinger(r.peer, 1, 0);
  native.close(r.peer);
  await sleep(20);
  t.is(r.io.data(r.flow, 100, 0, 0, 10), 1);
  r.flow.seqToTap = 101;
  t.is(r.io.data(r.flow, 101, 0, 0, 10), -104);
  r.done();
});

test.serial('a refused connect leaves ECONNREFUSED as the pending error', async (t) => {
  const l = native.socket(C.AF_INET, C.SOCK_STREAM, 0);
  native.bindInet(l, '127.0.0.1', 0);
  const port = native.sockName(l).port;
  native.close(l);
  const fd = native.socket(C.AF_INET, C.SOCK_STREAM, 0);
  let refusedAtOnce = false;
  try {
    native.connectInet(fd, '127.0.0.1', port);
  } catch {
    refusedAtOnce = true;
  }
  await sleep(20);
  const r = await rig();
  const f = { ...r.flow, fd };
  t.true(refusedAtOnce || r.io.pendingError(f) === 111);
  native.close(fd);
  r.done();
});
