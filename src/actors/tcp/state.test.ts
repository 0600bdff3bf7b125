import test from 'ava';
import type { ExecutionContext } from 'ava';
import { TcpFlag } from '../../protocol/tcp.js';
import { FakeIo } from './fake-io.js';
import { seqAdd, seqDiff, seqLe } from './seq.js';
import {
  EOF, Flag, FlowState, OOO_MAX, OUR_WSCALE, PENDING_MAX, Timing, connectFailed, connected, flowInfo, flowStateName, flush, initOutbound, newFlow, onSegment,
  onSocketEvents, onTimer, openInbound, resetFor, type SegmentIn, type TcpFlow,
} from './state.js';

const { Syn, Ack, Fin, Rst } = TcpFlag;
const MSS_LIMIT = 65480;
const GUEST_ISN = 1000;

function flowFor(family: 4 | 6 = 4): TcpFlow {
  const guest = family === 4 ? new Uint8Array([10, 0, 0, 2]) : new Uint8Array(16);
  const remote = family === 4 ? new Uint8Array([10, 0, 0, 1]) : new Uint8Array(16);
  return newFlow(0, 1, 'k', { family, guest, guestPort: 40000, remote, remotePort: 80 }, 3, MSS_LIMIT, 0);
}

/** A guest segment. */
function seg(flags: number, seq: number, ack: number, o: { window?: number; data?: Uint8Array; mss?: number; wscale?: number } = {}): SegmentIn {
  const data = o.data ?? new Uint8Array(0);
  return { flags, seq: seq >>> 0, ack: ack >>> 0, window: o.window ?? 0xffff, buf: data, payOff: 0, payLen: data.length, mss: o.mss ?? 0, wscale: o.wscale ?? -1 };
}

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

/** Invariants of the theory of operation, checked after every step. */
function check(t: ExecutionContext, f: TcpFlow): void {
  if (f.state === FlowState.Closed) return;
  t.true(seqLe(f.seqAckFromTap, f.seqToTap), 'seqAckFromTap <= seqToTap');
  t.true(seqLe(f.seqToTap, f.seqMaxToTap), 'seqToTap <= seqMaxToTap');
  t.true(seqLe(f.seqAckToTap, f.seqFromTap), 'never ACK what is not in the socket');
}

/** An outbound flow, established: guest SYN (wscale 7), connect done, guest ACK. */
function established(t: ExecutionContext, io: FakeIo, isn = 5000, opts: { wscale?: number; window?: number } = {}): TcpFlow {
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0, { mss: 65480, wscale: opts.wscale ?? 7 }), isn, 0);
  connected(f, io, 0);
  onSegment(f, seg(Ack, GUEST_ISN + 1, isn + 1, { window: opts.window ?? 0xffff }), io, 1);
  flush(f, io, 1);
  t.is(f.state, FlowState.Established);
  io.take();
  check(t, f);
  return f;
}

test('outbound: SYN-ACK only once connect() succeeds, with our MSS and window scale', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0, { mss: 1460, wscale: 7 }), 5000, 0);
  t.is(f.state, FlowState.Connecting);
  t.deepEqual(io.take(), []);
  onSegment(f, seg(Syn, GUEST_ISN, 0, { mss: 1460, wscale: 7 }), io, 500); // guest retransmits its SYN
  t.deepEqual(io.take(), []);
  onSocketEvents(f, { readable: false, writable: true, error: false, hangup: false }, io, 600);
  const [synAck, ...rest] = io.take();
  t.deepEqual(rest, []);
  t.is(synAck!.flags, Syn | Ack);
  t.is(synAck!.seq, 5000);
  t.is(synAck!.ack, GUEST_ISN + 1);
  t.true(synAck!.synOptions);
  t.is(f.mss, 1460);
  t.is(f.wsToTap, OUR_WSCALE);
  t.is(f.wsFromTap, 7);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { window: 100 }), io, 700);
  t.is(f.state, FlowState.Established);
  t.is(f.wndFromTap, 100 * 128);
});

test('outbound without window scaling from the guest: none either way', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 5000, 0);
  t.is(f.wsToTap, 0);
  t.is(f.wsFromTap, 0);
  t.is(f.mss, 536);
});

test('outbound: a refused connect() gives the guest a RST that its SYN-SENT accepts', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 5000, 0);
  io.sock.pendingError = 111;
  onSocketEvents(f, { readable: false, writable: true, error: true, hangup: true }, io, 10);
  const [rst] = io.take();
  t.is(rst!.flags, Rst | Ack);
  t.is(rst!.ack, GUEST_ISN + 1);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: false });
});

test('outbound: connect() that never finishes is given up after the handshake timeout', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 5000, 0);
  t.is(f.deadline, Timing.handshakeMs);
  onTimer(f, io, Timing.handshakeMs - 1);
  t.is(f.state, FlowState.Connecting);
  onTimer(f, io, Timing.handshakeMs);
  t.is(io.take()[0]!.flags, Rst | Ack);
  t.is(f.state, FlowState.Closed);
});

test('outbound: a lost SYN-ACK is sent again on the guest\'s SYN and on the timer', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 5000, 0);
  connected(f, io, 0);
  io.take();
  onSegment(f, seg(Syn, GUEST_ISN, 0), io, 100);
  t.is(io.take()[0]!.flags, Syn | Ack);
  onTimer(f, io, f.deadline);
  t.is(io.take()[0]!.flags, Syn | Ack);
  t.is(f.retries, 1);
  onTimer(f, io, Timing.handshakeMs);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
});

test('connectFailed directly (connect() threw)', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 7, 0);
  connectFailed(f, io);
  t.is(io.take()[0]!.ack, GUEST_ISN + 1);
  t.is(f.state, FlowState.Closed);
});

test('guest data in order is written and acknowledged once per batch, window from the send buffer', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.sndbuf = 300_000;
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(1000) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1001, 5001, { data: bytes(500, 1000) }), io, 2);
  flush(f, io, 2);
  check(t, f);
  t.deepEqual(io.sock.written, Array.from(bytes(1500)));
  const acks = io.take();
  t.is(acks.length, 1);
  t.is(acks[0]!.flags, Ack);
  t.is(acks[0]!.ack, GUEST_ISN + 1501);
  t.is(acks[0]!.window, Math.floor((300_000 - 1500) / 256));
});

test('a gap gets one ACK and three duplicates; nothing is written past it', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  f.seqMaxToTap = seqAdd(f.seqMaxToTap, 0);
  onSegment(f, seg(Ack, GUEST_ISN + 1001, 5001, { data: bytes(10) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1011, 5001, { data: bytes(10) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1021, 5001, { data: bytes(10) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1031, 5001, { data: bytes(10) }), io, 2);
  flush(f, io, 2);
  const acks = io.take();
  t.is(acks.length, 4);
  t.true(acks.every((a) => a.ack === GUEST_ISN + 1 && a.flags === Ack && a.window === acks[0]!.window));
  t.deepEqual(io.sock.written, []);
  // the guest fills the gap: the hole and the four segments kept beyond it are taken now, in order
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(1000) }), io, 3);
  flush(f, io, 3);
  t.is(io.take()[0]!.ack, GUEST_ISN + 1041, 'one ACK covers the segments kept beyond the hole');
  t.deepEqual(io.sock.written, [...bytes(1000), ...bytes(10), ...bytes(10), ...bytes(10), ...bytes(10)]);
  t.is(f.oooLen, 0);
});

test('segments beyond a hole are kept in sequence order, overlaps and repeats trimmed, a FIN among them taken last', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
  onSegment(f, seg(Ack | Fin, GUEST_ISN + 301, 5001, { data: fill(100, 3) }), io, 2); // the last, with the FIN
  onSegment(f, seg(Ack, GUEST_ISN + 101, 5001, { data: fill(150, 2) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 201, 5001, { data: fill(100, 2) }), io, 2); // overlaps the one before
  onSegment(f, seg(Ack, GUEST_ISN + 101, 5001, { data: fill(150, 2) }), io, 2); // a repeat: not kept twice
  t.is(f.ooo.length, 3);
  t.deepEqual(f.ooo.map((o) => o.seq - GUEST_ISN), [101, 201, 301]);
  t.deepEqual(io.sock.written, []);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: fill(100, 1) }), io, 3);
  flush(f, io, 3);
  t.deepEqual(io.sock.written, [...fill(100, 1), ...fill(200, 2), ...fill(100, 3)]);
  t.true(io.sock.shutWr, 'the FIN kept beyond the hole is taken');
  t.is(io.take().at(-1)!.ack, GUEST_ISN + 402);
});

test('at most OOO_MAX bytes are kept beyond a hole; the rest is left to the guest to send again', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  const size = 60_000;
  for (let i = 1; i * size <= OOO_MAX + 2 * size; i++) onSegment(f, seg(Ack, GUEST_ISN + 1 + i * size, 5001, { data: bytes(size) }), io, 2);
  t.true(f.oooLen <= OOO_MAX && f.oooLen > OOO_MAX - size, `${f.oooLen}`);
});

test('old data and keepalives are acknowledged, not written again', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(100) }), io, 2);
  flush(f, io, 2);
  io.take();
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(100) }), io, 3); // retransmission
  onSegment(f, seg(Ack, GUEST_ISN + 100, 5001, { data: bytes(1) }), io, 3); // keepalive probe
  flush(f, io, 3);
  t.is(io.sock.written.length, 100);
  const acks = io.take();
  t.is(acks.length, 1);
  t.is(acks[0]!.ack, GUEST_ISN + 101);
});

test('a partially overlapping segment writes only its new part', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(100) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 51, 5001, { data: bytes(100, 50) }), io, 2);
  flush(f, io, 2);
  t.deepEqual(io.sock.written, Array.from(bytes(150)));
});

test('a full socket: the rest is pending and acknowledged, the window closes; EPOLLOUT writes it and reopens', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.sndbuf = 1500;
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(1000) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1001, 5001, { data: bytes(1000, 1000) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 2001, 5001, { data: bytes(1000, 2000) }), io, 2);
  flush(f, io, 2);
  check(t, f);
  t.is(io.sock.written.length, 1500);
  t.is(f.pendingLen, 1500);
  t.is(io.sock.watchCount, 1);
  const acks = io.take();
  t.is(acks.length, 1);
  t.is(acks[0]!.ack, GUEST_ISN + 3001);
  t.is(acks[0]!.window, 0);
  io.sock.queued = 500; // the host peer took 1000 bytes
  onSocketEvents(f, { readable: false, writable: true, error: false, hangup: false }, io, 3);
  t.deepEqual(io.sock.written, Array.from(bytes(2500)));
  t.is(f.pendingLen, 500);
  t.deepEqual(io.take(), [], 'still pending: the window stays closed');
  io.sock.drain();
  onSocketEvents(f, { readable: false, writable: true, error: false, hangup: false }, io, 4);
  t.deepEqual(io.sock.written, Array.from(bytes(3000)));
  const update = io.take();
  t.is(update.length, 1);
  t.is(update[0]!.window, Math.floor(MSS_LIMIT / 256), 'at least one full segment');
});

test('the guest\'s FIN waits for the pending bytes before the socket is shut', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.sndbuf = 100;
  onSegment(f, seg(Ack | Fin, GUEST_ISN + 1, 5001, { data: bytes(300) }), io, 2);
  flush(f, io, 2);
  t.false(io.sock.shutWr);
  t.is(io.take()[0]!.ack, GUEST_ISN + 302);
  io.sock.sndbuf = 1000;
  onSocketEvents(f, { readable: false, writable: true, error: false, hangup: false }, io, 3);
  t.true(io.sock.shutWr);
  t.is(io.sock.written.length, 300);
});

test('beyond the pending bound, data is dropped unacknowledged; room brings duplicate ACKs', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.sndbuf = 0;
  const big = PENDING_MAX + 1000;
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(big) }), io, 2);
  onSegment(f, seg(Ack, GUEST_ISN + 1 + big, 5001, { data: bytes(10) }), io, 2);
  flush(f, io, 2);
  t.is(f.pendingLen, PENDING_MAX);
  const acks = io.take();
  t.is(acks.length, 1, 'no duplicate ACKs while full');
  t.is(acks[0]!.ack, GUEST_ISN + 1 + PENDING_MAX);
  io.sock.sndbuf = 1 << 20;
  onSocketEvents(f, { readable: false, writable: true, error: false, hangup: false }, io, 3);
  const after = io.take();
  t.is(after.length, 4, 'window update and three duplicates');
  t.true(after.every((a) => a.ack === GUEST_ISN + 1 + PENDING_MAX));
  t.is(io.sock.written.length, PENDING_MAX);
});

test('host data goes out in MSS-sized segments within the guest window; ACKs discard it', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 50_000 });
  f.mss = 20_000;
  io.sock.feed(bytes(100_000));
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 2);
  check(t, f);
  const segs = io.take();
  t.deepEqual(segs.map((s) => s.data.length), [20_000, 20_000, 10_000]);
  t.deepEqual(segs.map((s) => s.seq), [5001, 25001, 45001]);
  t.deepEqual(Array.from(segs[1]!.data.subarray(0, 3)), [20_000 & 0xff, (20_001) & 0xff, (20_002) & 0xff]);
  t.is(io.discarded, 0);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 25001, { window: 50_000 }), io, 3);
  flush(f, io, 3);
  t.is(io.discarded, 20_000);
  t.deepEqual(io.take().map((s) => [s.seq, s.data.length]), [[55001, 20_000]]);
  check(t, f);
});

test('three duplicate ACKs rewind to the oldest unacknowledged byte, once per loss', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 40_000 });
  f.mss = 10_000;
  io.sock.feed(bytes(40_000));
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 2);
  t.is(io.take().length, 4);
  // segment 1 was lost: the guest acknowledges nothing new, three times, then once more
  for (let i = 0; i < 4; i++) onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { window: 40_000 }), io, 3);
  flush(f, io, 3);
  t.is(io.rewinds, 1);
  const resent = io.take();
  t.deepEqual(resent.map((s) => s.seq), [5001, 15001, 25001, 35001]);
  t.deepEqual(Array.from(resent[0]!.data.subarray(0, 2)), [0, 1]);
  check(t, f);
  // an ACK of everything sent before the rewind moves seqToTap forward too
  onSegment(f, seg(Ack, GUEST_ISN + 1, 45001, { window: 40_000 }), io, 4);
  flush(f, io, 4);
  t.is(f.seqToTap, 45001);
  t.is(io.discarded, 40_000);
  t.is(f.flags & Flag.Recovering, 0);
});

test('the retransmission timer resends with backoff, then resets both sides', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 40_000 });
  io.sock.feed(bytes(1000));
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 10);
  io.take();
  t.is(f.deadline, 10 + Timing.rtoMs);
  onTimer(f, io, 10 + Timing.rtoMs);
  t.is(io.take()[0]!.seq, 5001);
  t.is(f.deadline, 10 + Timing.rtoMs + 2 * Timing.rtoMs);
  let now = f.deadline;
  for (let i = 1; i < Timing.maxRetries; i++) {
    onTimer(f, io, now);
    now = f.deadline;
  }
  t.is(f.state, FlowState.Established);
  io.take();
  onTimer(f, io, now);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
  const rsts = io.take();
  t.true(rsts.length >= 1 && rsts.every((s) => (s.flags & Rst) !== 0));
  t.true(rsts.some((s) => s.seq === 6001));
});

test('host EOF: FIN after the data; guest FIN shuts the socket; closed when both are acknowledged', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 40_000 });
  io.sock.feed(bytes(100));
  io.sock.eof = true;
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 2);
  const out = io.take();
  t.deepEqual(out.map((s) => [s.flags & (Fin | Ack), s.seq, s.data.length]), [[Ack, 5001, 100], [Fin | Ack, 5101, 0]]);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5102), io, 3);
  flush(f, io, 3);
  t.true((f.flags & Flag.FinAcked) !== 0);
  t.is(io.discarded, 100);
  t.is(f.state, FlowState.Established);
  onSegment(f, seg(Fin | Ack, GUEST_ISN + 1, 5102), io, 4);
  t.true(io.sock.shutWr);
  flush(f, io, 4);
  t.is(io.take()[0]!.ack, GUEST_ISN + 2);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: false });
});

test('half-close from the guest: its FIN shuts the socket for writing, the reply still flows', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 40_000 });
  onSegment(f, seg(Fin | Ack | 0x08, GUEST_ISN + 1, 5001, { data: bytes(10) }), io, 2);
  flush(f, io, 2);
  t.is(io.sock.written.length, 10);
  t.true(io.sock.shutWr);
  t.is(io.take()[0]!.ack, GUEST_ISN + 12);
  io.sock.feed(bytes(20));
  io.sock.eof = true;
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 3);
  t.deepEqual(io.take().map((s) => s.data.length), [20, 0]);
  onSegment(f, seg(Ack, GUEST_ISN + 12, 5022), io, 4);
  flush(f, io, 4);
  t.is(f.state, FlowState.Closed);
});

test('our FIN is sent again after a rewind', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 40_000 });
  io.sock.feed(bytes(10));
  io.sock.eof = true;
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 2);
  io.take();
  onTimer(f, io, f.deadline);
  t.deepEqual(io.take().map((s) => [s.seq, s.data.length, s.flags & Fin]), [[5001, 10, 0], [5011, 0, Fin]]);
  t.is(f.seqMaxToTap, 5012);
});

test('guest RST resets the host peer', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  onSegment(f, seg(Rst, GUEST_ISN + 1, 0), io, 2);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
});

test('a host error (reset by the peer) resets the guest', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.error = 104;
  onSocketEvents(f, { readable: true, writable: false, error: false, hangup: true }, io, 2);
  t.is(f.state, FlowState.Closed);
  t.is(io.take()[0]!.flags, Rst | Ack);
  t.deepEqual(io.sock.closed, { reset: false });
});

test('a write error (EPIPE) resets the guest', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.sock.error = 32;
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { data: bytes(10) }), io, 2);
  t.is(f.state, FlowState.Closed);
  t.is(io.take()[0]!.flags, Rst | Ack);
});

test('inbound: SYN to the guest, its SYN-ACK establishes, then host data flows', (t) => {
  const io = new FakeIo();
  const f = flowFor(6);
  openInbound(f, 0xfffffff0, io, 0);
  const [syn] = io.take();
  t.is(syn!.flags, Syn);
  t.is(syn!.seq, 0xfffffff0);
  t.true(syn!.synOptions);
  io.sock.feed(bytes(100)); // the host peer spoke first: it waits
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 1);
  t.deepEqual(io.take(), []);
  onSegment(f, seg(Syn | Ack, 7000, 0xfffffff1, { mss: 1220, wscale: 2, window: 1000 }), io, 2);
  flush(f, io, 2);
  t.is(f.state, FlowState.Established);
  t.is(f.mss, 1220);
  const out = io.take();
  t.deepEqual(out.map((s) => [s.seq, s.ack, s.data.length]), [[0xfffffff1, 7001, 100]]);
  t.is(f.seqToTap, seqAdd(0xfffffff1, 100));
  t.is(seqDiff(f.seqToTap, 0xfffffff0), 101); // across the wrap
  onSegment(f, seg(Ack, 7001, seqAdd(0xfffffff1, 100), { window: 1000 }), io, 3);
  flush(f, io, 3);
  t.is(io.discarded, 100);
  check(t, f);
});

test('inbound: the guest refuses (RST): the host peer is reset', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  openInbound(f, 100, io, 0);
  io.take();
  onSegment(f, seg(Rst | Ack, 0, 101), io, 1);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
});

test('inbound: the SYN is retransmitted, then given up after the handshake timeout', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  openInbound(f, 100, io, 0);
  io.take();
  t.is(f.deadline, Timing.synRtoMs);
  onTimer(f, io, Timing.synRtoMs);
  t.is(io.take()[0]!.flags, Syn);
  t.is(f.deadline, Timing.synRtoMs * 3);
  onTimer(f, io, Timing.handshakeMs);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
});

test('zero window: data waits, probes with an old sequence number, resumes on the window update', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 5000, { wscale: 0, window: 0 });
  io.sock.feed(bytes(100));
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, 10);
  t.deepEqual(io.take(), []);
  t.true((f.flags & Flag.WndBlocked) !== 0);
  onTimer(f, io, f.deadline);
  const [probe] = io.take();
  t.is(probe!.seq, 5000);
  t.is(probe!.data.length, 0);
  t.is(f.state, FlowState.Established);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001, { window: 1000 }), io, 20);
  flush(f, io, 20);
  t.deepEqual(io.take().map((s) => s.data.length), [100]);
});

test('idle flows are reset after the idle timeout', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  t.is(f.deadline, 1 + Timing.idleMs);
  onTimer(f, io, 1 + Timing.idleMs);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: true });
});

test('a data segment in the handshake ACK is taken', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0, { wscale: 7 }), 1, 0);
  connected(f, io, 0);
  onSegment(f, seg(Ack, GUEST_ISN + 1, 2, { data: bytes(5) }), io, 1);
  flush(f, io, 1);
  t.is(io.sock.written.length, 5);
});

test('a wrong ACK to our SYN-ACK is answered with a RST and the flow waits', (t) => {
  const io = new FakeIo();
  const f = flowFor();
  initOutbound(f, seg(Syn, GUEST_ISN, 0), 1, 0);
  connected(f, io, 0);
  io.take();
  onSegment(f, seg(Ack, GUEST_ISN + 1, 77), io, 1);
  const [rst] = io.take();
  t.is(rst!.flags, Rst);
  t.is(rst!.seq, 77);
  t.is(f.state, FlowState.SynAckSent);
});

test('resetFor: segments of no flow', (t) => {
  t.deepEqual(resetFor(seg(Ack, 10, 500)), { flags: Rst, seq: 500, ack: 0 });
  t.deepEqual(resetFor(seg(Syn, 10, 0)), { flags: Rst | Ack, seq: 0, ack: 11 });
  t.deepEqual(resetFor(seg(Fin, 0xffffffff, 0, { data: bytes(3) })), { flags: Rst | Ack, seq: 0, ack: 3 });
  t.is(resetFor(seg(Rst, 1, 0)), null);
});

test('EOF value is distinct from any byte count and errno', (t) => {
  t.true(EOF < -4096);
});

test('a long transfer across the sequence wrap keeps every invariant and every byte', (t) => {
  const io = new FakeIo();
  const f = established(t, io, 0xffff0000, { wscale: 0, window: 30_000 });
  f.mss = 7_000;
  const total = 300_000;
  io.sock.feed(bytes(total));
  io.sock.eof = true;
  const got: number[] = [];
  let rcvNxt = seqAdd(0xffff0000, 1);
  let guestSeq = GUEST_ISN + 1;
  let now = 2;
  onSocketEvents(f, { readable: true, writable: true, error: false, hangup: false }, io, now);
  for (let round = 0; round < 400 && f.state === FlowState.Established; round++) {
    const lossy = round % 5 === 4;
    const before = rcvNxt;
    io.take().forEach((s, i) => {
      if ((lossy && i === 0) || s.seq !== rcvNxt) return; // lost, or after a loss (no reordering queue)
      for (const b of s.data) got.push(b);
      rcvNxt = seqAdd(rcvNxt, s.data.length + (s.flags & Fin ? 1 : 0));
    });
    now++;
    const finNow = (f.flags & Flag.FinAcked) !== 0 && guestSeq === GUEST_ISN + 1;
    onSegment(f, seg(Ack | (finNow ? Fin : 0), guestSeq, rcvNxt, { window: 30_000 }), io, now);
    if (finNow) guestSeq++;
    flush(f, io, now);
    check(t, f);
    if (rcvNxt === before && f.state === FlowState.Established) onTimer(f, io, f.deadline);
  }
  t.is(got.length, total);
  t.deepEqual(got.slice(0, 5), [0, 1, 2, 3, 4]);
  t.is(got[total - 1], (total - 1) & 0xff);
  t.is(f.state, FlowState.Closed);
  t.deepEqual(io.sock.closed, { reset: false });
});

test('flowInfo: addresses as the guest sees them, direction, and the state with half-closes named', (t) => {
  const f = flowFor(4);
  t.like(flowInfo(f, 250), { proto: 'tcp', dir: 'out', path: 'tap', guest: '10.0.0.2:40000', remote: '10.0.0.1:80', state: 'closed', ageMs: 250 });
  f.state = FlowState.Established;
  t.is(flowStateName(f), 'established');
  f.flags |= Flag.TapFin;
  t.is(flowStateName(f), 'fin-from-guest');
  f.flags |= Flag.SockEof;
  t.is(flowStateName(f), 'closing');
  f.flags &= ~Flag.TapFin;
  t.is(flowStateName(f), 'fin-from-host');
  const g = flowFor(6);
  g.inbound = true;
  g.state = FlowState.SynSent;
  t.like(flowInfo(g, 0), { dir: 'in', guest: '[::]:40000', remote: '[::]:80', state: 'syn-sent' });
});

test('a zero-window probe (old sequence number, no data) is answered with an ACK and the window; a plain ACK is not', (t) => {
  const io = new FakeIo();
  const f = established(t, io);
  io.take();
  onSegment(f, seg(Ack, GUEST_ISN + 1, 5001), io, 2); // a plain ACK of nothing new
  flush(f, io, 2);
  t.is(io.take().length, 0);
  onSegment(f, seg(Ack, GUEST_ISN, 5001), io, 3); // the probe: one before the next expected byte
  flush(f, io, 3);
  const acks = io.take();
  t.is(acks.length, 1, 'answered: a window update lost on the way is given again');
  t.is(acks[0]!.ack, GUEST_ISN + 1);
  t.true(acks[0]!.window > 0);
});
