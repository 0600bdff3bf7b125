/**
 * The TCP flow state machine of the tap path. Pure: no syscalls, no clock, no timers of its own. It is
 * handed the time (`now`, ms) and a `TcpIo` port through which it sends segments to the guest and acts
 * on the flow's host socket; actor.ts gives it the real kernel (kernel-io.ts), the tests a scripted fake.
 *
 * Theory of operation (the passt model: we have no TCP stack, the host kernel does the real TCP)
 * - A flow pairs one guest connection with one host socket. Towards the guest we play the peer: we pick
 *   our own initial sequence number (`iss`) and speak TCP with the guest; towards the host we only read
 *   and write a stream socket.
 * - Host to guest: the bytes stay in the socket's receive queue until the guest acknowledges them. They
 *   are read with MSG_PEEK at a peek offset (`seqToTap - seqAckFromTap` bytes past the head), sent as
 *   segments of at most `mss` within the guest's window, and dropped from the socket (`discard`) only
 *   when the guest's ACK covers them. A retransmission rewinds the peek offset to the head (go-back-N),
 *   on the third duplicate ACK or when the retransmission timer expires. The host peer's FIN shows as
 *   EOF past the last byte; our FIN follows the data.
 * - Guest to host: in-order payload is written straight to the socket and acknowledged once written. A
 *   gap (a lost frame) gets one burst of duplicate ACKs so the guest retransmits. The window we
 *   advertise is the free room in the socket's send buffer, so a slow host peer slows the guest down
 *   instead of filling memory, but never less than one full segment while nothing is pending: a Linux
 *   guest does not send into a window smaller than its MSS (sender-side silly window avoidance) until
 *   its persist timer fires, 200 ms later, and the kernel only grows a send buffer that was found full.
 *   What a short write leaves over is kept in a small pending queue (at most PENDING_MAX bytes, which
 *   bounds the overcommitment) and acknowledged; while it is not empty the window is zero, and EPOLLOUT
 *   writes it out and reopens the window. Beyond PENDING_MAX the rest of the segment is dropped and not
 *   acknowledged (Flag.SockFull): the guest retransmits, prompted by duplicate ACKs once there is room.
 * - Loss from the guest: a segment beyond a hole is answered with duplicate ACKs (a burst of three per
 *   hole) and kept (at most OOO_MAX bytes, in `ooo`, never acknowledged while kept); when the guest
 *   fills the hole, the kept segments that follow on are taken too and one ACK covers them all.
 * - Close: the guest's FIN becomes shutdown(SHUT_WR); the host's EOF becomes our FIN after the data.
 *   The flow is closed when the guest's FIN was taken and our FIN acknowledged. RST in either direction
 *   resets the other side (`close(f, true)` resets the host peer).
 * - Timers are data: each flow has one `deadline` (ms, 0 = none) recomputed by `arm()` after every
 *   event; the actor calls `onTimer` when it passes. What expiring means depends on the state:
 *   handshake give-up or SYN(-ACK) retransmission, data retransmission (exponential backoff, reset after
 *   MAX_RETRIES), zero-window probe, or idle timeout.
 *
 * Invariants (checked by the tests):
 * - seqAckFromTap <= seqToTap <= seqMaxToTap; the socket holds seqMaxToTap - seqAckFromTap unacknowledged
 *   bytes (minus our FIN) at its head, and nothing before seqAckFromTap;
 * - seqAckToTap <= seqFromTap: we never acknowledge guest bytes that are not in the socket or in the
 *   pending queue, which holds at most PENDING_MAX bytes and is written before anything newer;
 * - a Closed flow has called `io.close` exactly once and is never handed to this module again.
 */
import { TcpFlag } from '../../protocol/tcp.js';
import { formatIp } from '../../protocol/addr.js';
import { endpoint, type FlowInfo } from '../../runtime/actor.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

export const FlowState = {
  /** outbound: the guest's SYN opened the flow, the host socket is connecting */
  Connecting: 1,
  /** outbound: the host socket connected, our SYN-ACK is out, waiting for the guest's ACK */
  SynAckSent: 2,
  /** inbound: a host connection was accepted, our SYN is out, waiting for the guest's SYN-ACK */
  SynSent: 3,
  Established: 4,
  Closed: 5,
} as const;
export type FlowState = (typeof FlowState)[keyof typeof FlowState];

/** A guest segment kept beyond a hole (its payload copied). */
export interface OutOfOrder {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

/** Most guest bytes kept beyond a hole, per flow. */
export const OOO_MAX = 512 * 1024;

/** Flow flags (bits of `TcpFlow.flags`). */
export const Flag = {
  /** the guest's FIN was taken: the socket is shut for writing */
  TapFin: 1 << 0,
  /** the host peer's FIN was seen (EOF after the last byte) */
  SockEof: 1 << 1,
  /** our FIN was sent at `finSeq` */
  FinSent: 1 << 2,
  /** the guest acknowledged our FIN */
  FinAcked: 1 << 3,
  /** guest data was dropped, the pending queue being full: duplicate ACKs once there is room */
  SockFull: 1 << 4,
  /** an EPOLLOUT edge is awaited (the send buffer was nearly full) */
  SpaceWatch: 1 << 5,
  /** the guest is owed an ACK */
  AckNow: 1 << 6,
  /** our data waits for the guest's zero window to open: probe it */
  WndBlocked: 1 << 7,
  /** after a retransmission: duplicate ACKs are not counted until seqAckFromTap reaches `recover` */
  Recovering: 1 << 8,
  /** the guest's FIN was taken while data was pending: shut the socket once the queue is written */
  ShutPending: 1 << 9,
} as const;

/** Most guest bytes held for a full socket, per flow (two 64 KiB segments). */
export const PENDING_MAX = 2 * 65536;
/** socket data sent to the guest per `io.data` call (one peek), as segments of f.mss at most */
export const DATA_BURST = 64 * 1024;

/** Result of `TcpIo.data` when the host peer has closed and every byte was read. */
export const EOF = -0x10000;

export const OUR_WSCALE = 8;
export const MAX_WSCALE = 14;
export const MAX_WINDOW_FIELD = 0xffff;
/** RFC 9293 / RFC 8200 default MSS when the guest sends no MSS option. */
export const DEFAULT_MSS4 = 536;
export const DEFAULT_MSS6 = 1220;
export const DUP_ACK_THRESHOLD = 3;
/** Duplicate ACKs sent to make the guest retransmit (its threshold is 3). */
export const DUP_ACKS_TO_SEND = 3;

export const Timing = {
  /** connect() or the three-way handshake with the guest must finish within this */
  handshakeMs: 10_000,
  /** first SYN / SYN-ACK retransmission (doubles) */
  synRtoMs: 1_000,
  /** first data retransmission towards the guest (doubles up to maxRtoMs) */
  rtoMs: 200,
  maxRtoMs: 30_000,
  /** retransmissions without progress before both sides are reset */
  maxRetries: 8,
  /** a flow with no traffic at all for this long is reset (passt: 2 hours) */
  idleMs: 7_200_000,
};

/** Addresses and ports of a flow as the guest sees them. */
export interface FlowAddr {
  family: 4 | 6;
  /** 4 or 16 bytes */
  guest: Uint8Array;
  guestPort: number;
  remote: Uint8Array;
  remotePort: number;
}

export interface TcpFlow {
  readonly index: number;
  /** generation of the slot: tells a reused index from its previous flow */
  readonly gen: number;
  readonly key: string;
  readonly addr: FlowAddr;
  /** opened by a host peer through a -t forward (else by the guest's SYN) */
  inbound: boolean;
  /** the host socket; owned by the io, never used here */
  fd: number;
  state: FlowState;
  flags: number;
  /** largest payload we send the guest, and the MSS we announce to it */
  mss: number;
  mssLimit: number;
  // --- our data, towards the guest ---
  iss: number;
  /** next sequence number to send */
  seqToTap: number;
  /** one past the highest sequence number ever sent (ahead of seqToTap after a rewind) */
  seqMaxToTap: number;
  /** oldest sequence number the guest has not acknowledged */
  seqAckFromTap: number;
  /** sequence number of our FIN (valid with Flag.FinSent) */
  finSeq: number;
  recover: number;
  /** the guest's receive window in bytes, its raw field, and its scale */
  wndFromTap: number;
  wndFieldFromTap: number;
  wsFromTap: number;
  dupAcks: number;
  // --- the guest's data, towards the host ---
  /** next sequence number expected from the guest */
  seqFromTap: number;
  /** last acknowledgement sent to the guest */
  seqAckToTap: number;
  /** last window advertised (bytes) and our scale */
  wndToTap: number;
  wsToTap: number;
  /** out-of-order segments seen since the last flush (duplicate ACKs owed) */
  gapSegs: number;
  /** seqFromTap when duplicate ACKs were last sent: one burst per hole, or the guest infers reordering */
  dupBurstAt: number;
  /** the socket's send buffer size, as last read by `io.sendSpace` */
  sndbuf: number;
  /** acknowledged guest bytes the socket has not taken yet, in order (total `pendingLen`) */
  pending: Uint8Array[];
  pendingLen: number;
  /** guest segments that arrived beyond a hole, by sequence number, kept until the hole is filled */
  ooo: OutOfOrder[];
  oooLen: number;
  // --- timers (ms) ---
  created: number;
  lastActivity: number;
  /** last (re)transmission of a SYN / SYN-ACK, or last progress of our data */
  progressAt: number;
  retries: number;
  deadline: number;
}

/** A segment from the guest, parsed once by the actor. */
export interface SegmentIn {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  buf: Uint8Array;
  payOff: number;
  payLen: number;
  /** options of a SYN: MSS (0 if absent), window scale (-1 if absent) */
  mss: number;
  wscale: number;
}

/**
 * What the machine does to the world. Socket results come back as numbers: bytes, 0 for "not now"
 * (EAGAIN), EOF, or a negative errno.
 */
export interface TcpIo {
  /** A segment without payload to the guest; `synOptions` adds MSS (f.mssLimit) and, if f.wsToTap, window scale. */
  control(f: TcpFlow, flags: number, seq: number, ack: number, window: number, synOptions: boolean): void;
  /**
   * Up to `len` bytes at the socket's peek offset, sent to the guest from `seq` as ACK|PSH segments of
   * at most f.mss bytes each (one peek for all of them): bytes sent, 0, EOF or -errno.
   */
  data(f: TcpFlow, seq: number, ack: number, window: number, len: number): number;
  /** Writes guest payload to the socket: bytes taken (0 when full) or -errno. */
  write(f: TcpFlow, buf: Uint8Array, off: number, len: number): number;
  /** Drops `n` acknowledged bytes from the head of the socket's receive queue. */
  discard(f: TcpFlow, n: number): void;
  /** The next peek starts again at the head of the receive queue. */
  rewind(f: TcpFlow): void;
  shutdownWrite(f: TcpFlow): void;
  /** Free room in the socket's send buffer, in bytes; also stores the buffer's size in f.sndbuf. */
  sendSpace(f: TcpFlow): number;
  /** Re-arms EPOLLOUT: an event comes when the send buffer has room again. */
  watchSpace(f: TcpFlow): void;
  /** The socket's pending error (SO_ERROR), 0 if none. */
  pendingError(f: TcpFlow): number;
  /** Closes the host socket (resetting the host peer if `reset`) and frees the flow. */
  close(f: TcpFlow, reset: boolean): void;
}

/** Socket readiness, decoded by the actor. */
export interface SockEvents {
  readable: boolean;
  writable: boolean;
  error: boolean;
  hangup: boolean;
}

// ---------------------------------------------------------------------------------------------
// Creation

/** A fresh flow record (state Closed until one of the open functions runs). */
export function newFlow(index: number, gen: number, key: string, addr: FlowAddr, fd: number, mssLimit: number, now: number): TcpFlow {
  return {
    index, gen, key, addr, inbound: false, fd, state: FlowState.Closed, flags: 0, mss: mssLimit, mssLimit,
    iss: 0, seqToTap: 0, seqMaxToTap: 0, seqAckFromTap: 0, finSeq: 0, recover: 0,
    wndFromTap: 0, wndFieldFromTap: 0, wsFromTap: 0, dupAcks: 0,
    seqFromTap: 0, seqAckToTap: 0, wndToTap: 0, wsToTap: OUR_WSCALE, gapSegs: 0, dupBurstAt: -1, sndbuf: 0, pending: [], pendingLen: 0, ooo: [], oooLen: 0,
    created: now, lastActivity: now, progressAt: now, retries: 0, deadline: 0,
  };
}

const STATE_NAMES: Record<FlowState, string> = {
  [FlowState.Connecting]: 'connecting',
  [FlowState.SynAckSent]: 'syn-ack-sent',
  [FlowState.SynSent]: 'syn-sent',
  [FlowState.Established]: 'established',
  [FlowState.Closed]: 'closed',
};

/** The state as the control socket names it: an established flow half-closed says which side ended. */
export function flowStateName(f: TcpFlow): string {
  if (f.state !== FlowState.Established) return STATE_NAMES[f.state];
  const guestDone = (f.flags & Flag.TapFin) !== 0, hostDone = (f.flags & Flag.SockEof) !== 0;
  if (guestDone && hostDone) return 'closing';
  if (guestDone) return 'fin-from-guest';
  return hostDone ? 'fin-from-host' : 'established';
}

/** A flow for the control socket's listing. */
export function flowInfo(f: TcpFlow, now: number): FlowInfo {
  return {
    proto: 'tcp',
    dir: f.inbound ? 'in' : 'out',
    path: 'tap',
    guest: endpoint(formatIp(f.addr.guest), f.addr.guestPort),
    remote: endpoint(formatIp(f.addr.remote), f.addr.remotePort),
    state: flowStateName(f),
    ageMs: Math.max(0, Math.round(now - f.created)),
    idleMs: Math.max(0, Math.round(now - f.lastActivity)),
    /** guest bytes waiting for room in the socket */
    queued: f.pendingLen,
    /** bytes sent to the guest and not acknowledged yet */
    inFlight: seqDiff(f.seqToTap, f.seqAckFromTap),
  };
}

/** Our sequence space starts at `isn`; the SYN takes one number. */
function startOurSeq(f: TcpFlow, isn: number): void {
  f.iss = isn >>> 0;
  f.seqAckFromTap = f.iss;
  f.seqToTap = f.seqMaxToTap = seqAdd(f.iss, 1);
}

/** MSS and window scaling from the guest's SYN options. */
function negotiate(f: TcpFlow, mss: number, wscale: number): void {
  const fallback = f.addr.family === 4 ? DEFAULT_MSS4 : DEFAULT_MSS6;
  f.mss = Math.min(mss > 0 ? mss : fallback, f.mssLimit);
  if (wscale >= 0) {
    f.wsFromTap = Math.min(wscale, MAX_WSCALE);
  } else {
    f.wsFromTap = 0;
    f.wsToTap = 0;
  }
}

/** Outbound: the guest's SYN `syn` opened flow `f`, whose socket is now connecting. */
export function initOutbound(f: TcpFlow, syn: SegmentIn, isn: number, now: number): void {
  f.state = FlowState.Connecting;
  startOurSeq(f, isn);
  f.seqFromTap = f.seqAckToTap = seqAdd(syn.seq, 1);
  negotiate(f, syn.mss, syn.wscale);
  f.wndFromTap = f.wndFieldFromTap = syn.window;
  f.created = f.lastActivity = f.progressAt = now;
  arm(f, now);
}

/** Outbound: the host socket connected; answer the guest's SYN. */
export function connected(f: TcpFlow, io: TcpIo, now: number): void {
  if (f.state !== FlowState.Connecting) return;
  f.state = FlowState.SynAckSent;
  f.retries = 0;
  sendSynAck(f, io, now);
}

function sendSynAck(f: TcpFlow, io: TcpIo, now: number): void {
  const window = Math.min(MAX_WINDOW_FIELD, Math.max(io.sendSpace(f), f.mssLimit)); // never scaled in a SYN
  io.control(f, TcpFlag.Syn | TcpFlag.Ack, f.iss, f.seqFromTap, window, true);
  f.seqAckToTap = f.seqFromTap;
  f.progressAt = now;
  arm(f, now);
}

/** Outbound: connect() failed: the guest gets a RST (its connect fails at once). */
export function connectFailed(f: TcpFlow, io: TcpIo): void {
  io.control(f, TcpFlag.Rst | TcpFlag.Ack, 0, f.seqFromTap, 0, false);
  closeFlow(f, io, false);
}

/** Inbound: a host connection was accepted on a forwarded port; offer it to the guest. */
export function openInbound(f: TcpFlow, isn: number, io: TcpIo, now: number): void {
  f.state = FlowState.SynSent;
  startOurSeq(f, isn);
  f.wsToTap = OUR_WSCALE;
  f.created = f.lastActivity = now;
  sendSyn(f, io, now);
}

function sendSyn(f: TcpFlow, io: TcpIo, now: number): void {
  io.control(f, TcpFlag.Syn, f.iss, 0, MAX_WINDOW_FIELD, true);
  f.progressAt = now;
  arm(f, now);
}

// ---------------------------------------------------------------------------------------------
// Segments from the guest

/** One guest segment for this flow. Call `flush` once the batch it came in is done. */
export function onSegment(f: TcpFlow, s: SegmentIn, io: TcpIo, now: number): void {
  f.lastActivity = now;
  switch (f.state) {
    case FlowState.Connecting:
      return segConnecting(f, s, io);
    case FlowState.SynAckSent:
      return segSynAckSent(f, s, io, now);
    case FlowState.SynSent:
      return segSynSent(f, s, io, now);
    case FlowState.Established:
      return segEstablished(f, s, io, now);
    default:
      return;
  }
}

/** Only a RST matters while connecting: the guest gave up. SYN retransmissions wait for connect(). */
function segConnecting(f: TcpFlow, s: SegmentIn, io: TcpIo): void {
  if (s.flags & TcpFlag.Rst) closeFlow(f, io, true);
}

function segSynAckSent(f: TcpFlow, s: SegmentIn, io: TcpIo, now: number): void {
  if (s.flags & TcpFlag.Rst) return closeFlow(f, io, true);
  if (s.flags & TcpFlag.Syn) {
    if (!(s.flags & TcpFlag.Ack) && s.seq === seqAdd(f.seqFromTap, -1)) sendSynAck(f, io, now); // our SYN-ACK was lost
    return;
  }
  if (!(s.flags & TcpFlag.Ack)) return;
  if (s.ack !== f.seqToTap) return io.control(f, TcpFlag.Rst, s.ack, 0, 0, false);
  f.state = FlowState.Established;
  f.seqAckFromTap = s.ack; // our SYN is acknowledged
  f.retries = 0;
  f.progressAt = now;
  segEstablished(f, s, io, now);
}

function segSynSent(f: TcpFlow, s: SegmentIn, io: TcpIo, now: number): void {
  const ackOk = (s.flags & TcpFlag.Ack) !== 0 && s.ack === f.seqToTap;
  if (s.flags & TcpFlag.Rst) {
    if (ackOk || !(s.flags & TcpFlag.Ack)) closeFlow(f, io, true); // nobody listens in the guest
    return;
  }
  if (!ackOk) {
    if (s.flags & TcpFlag.Ack) io.control(f, TcpFlag.Rst, s.ack, 0, 0, false);
    return;
  }
  if (!(s.flags & TcpFlag.Syn)) return;
  f.seqFromTap = f.seqAckToTap = seqAdd(s.seq, 1);
  negotiate(f, s.mss, s.wscale);
  f.wndFromTap = f.wndFieldFromTap = s.window;
  f.seqAckFromTap = s.ack;
  f.state = FlowState.Established;
  f.retries = 0;
  f.progressAt = now;
  f.flags |= Flag.AckNow;
}

function segEstablished(f: TcpFlow, s: SegmentIn, io: TcpIo, now: number): void {
  // Any RST ends the flow: the guest is the only one who can send on this link (no RFC 5961 checks).
  if (s.flags & TcpFlag.Rst) return closeFlow(f, io, true);
  if (s.flags & TcpFlag.Syn) {
    f.flags |= Flag.AckNow; // a retransmitted SYN-ACK (our ACK was lost), or a stray SYN: re-ACK
    return;
  }
  if (!(s.flags & TcpFlag.Ack)) return;
  takeAck(f, s, io, now);
  if (f.state === FlowState.Established) takeData(f, s, io);
}

/** Processes the acknowledgement and window of a guest segment. */
function takeAck(f: TcpFlow, s: SegmentIn, io: TcpIo, now: number): void {
  const acked = seqDiff(s.ack, f.seqAckFromTap);
  if (acked > 0 && seqLe(s.ack, f.seqMaxToTap)) {
    ackProgress(f, s.ack, acked, io, now);
  } else if (acked === 0 && isDupAck(f, s)) {
    if (!(f.flags & Flag.Recovering) && ++f.dupAcks >= DUP_ACK_THRESHOLD) retransmit(f, io, now);
  }
  if (acked >= 0) {
    f.wndFieldFromTap = s.window;
    f.wndFromTap = s.window * 2 ** f.wsFromTap;
  }
}

/** A duplicate ACK (RFC 5681): no data, no SYN/FIN, same window, while we have data in flight. */
function isDupAck(f: TcpFlow, s: SegmentIn): boolean {
  return s.payLen === 0 && (s.flags & (TcpFlag.Syn | TcpFlag.Fin)) === 0 && s.window === f.wndFieldFromTap &&
    f.seqMaxToTap !== f.seqAckFromTap;
}

function ackProgress(f: TcpFlow, ack: number, acked: number, io: TcpIo, now: number): void {
  let data = acked;
  if ((f.flags & Flag.FinSent) && seqGt(ack, f.finSeq)) {
    data--;
    f.flags |= Flag.FinAcked;
  }
  if (data > 0) io.discard(f, data);
  f.seqAckFromTap = ack;
  if (seqLt(f.seqToTap, ack)) f.seqToTap = ack; // acknowledged before the rewind reached it
  f.dupAcks = 0;
  f.retries = 0;
  f.progressAt = now;
  if ((f.flags & Flag.Recovering) && seqGe(ack, f.recover)) f.flags &= ~Flag.Recovering;
}

/** Go-back-N: resend from the oldest unacknowledged byte (the next flush sends it). */
function retransmit(f: TcpFlow, io: TcpIo, now: number): void {
  io.rewind(f);
  f.seqToTap = f.seqAckFromTap;
  f.recover = f.seqMaxToTap;
  f.flags |= Flag.Recovering;
  f.dupAcks = 0;
  f.progressAt = now;
}

/** Writes the new part of a guest segment's payload to the socket; takes its FIN. */
function takeData(f: TcpFlow, s: SegmentIn, io: TcpIo): void {
  const fin = (s.flags & TcpFlag.Fin) !== 0;
  if (s.payLen === 0 && !fin) {
    // a zero-window probe or a keepalive (an old sequence number, no data): answered with an ACK and
    // our window. Unanswered, a lost window update would leave the guest probing, backing off, forever.
    if (seqLt(s.seq, f.seqFromTap)) f.flags |= Flag.AckNow;
    return;
  }
  if (f.flags & Flag.TapFin) {
    f.flags |= Flag.AckNow; // nothing is taken after the guest's FIN
    return;
  }
  const skip = seqDiff(f.seqFromTap, s.seq);
  if (skip < 0) {
    if (f.flags & Flag.SockFull) return;
    f.gapSegs++;
    keepOutOfOrder(f, s, fin);
    return;
  }
  if (skip > s.payLen || (skip === s.payLen && !fin)) {
    f.flags |= Flag.AckNow; // old data, or a keepalive probe
    return;
  }
  const len = s.payLen - skip;
  if (len > 0 && !accept(f, s.buf, s.payOff + skip, len, io)) return dropOutOfOrder(f);
  if (fin) return takeFin(f, io);
  if (f.ooo.length > 0) takeOutOfOrder(f, io);
}

/**
 * Keeps a copy of a segment beyond the hole (up to OOO_MAX bytes per flow): once the guest fills the
 * hole, one ACK covers everything kept, instead of the guest sending it all again. Without this, a
 * guest without SACK recovers from one lost segment by going back to it, and often only after its
 * retransmission timer (seen with fault injection: stalls of seconds, doubling).
 */
function keepOutOfOrder(f: TcpFlow, s: SegmentIn, fin: boolean): void {
  if (f.oooLen + s.payLen > OOO_MAX || f.ooo.some((o) => o.seq === s.seq)) return;
  const at = f.ooo.findIndex((o) => seqGt(o.seq, s.seq));
  const kept = { seq: s.seq, data: s.buf.slice(s.payOff, s.payOff + s.payLen), fin };
  if (at < 0) f.ooo.push(kept);
  else f.ooo.splice(at, 0, kept);
  f.oooLen += s.payLen;
}

function dropOutOfOrder(f: TcpFlow): void {
  f.ooo = [];
  f.oooLen = 0;
}

/** The kept segments the filled hole reaches, in order, as far as they go on without a gap. */
function takeOutOfOrder(f: TcpFlow, io: TcpIo): void {
  while (f.ooo.length > 0 && seqLe(f.ooo[0]!.seq, f.seqFromTap) && f.state === FlowState.Established) {
    const o = f.ooo.shift()!;
    f.oooLen -= o.data.length;
    const skip = seqDiff(f.seqFromTap, o.seq);
    const len = o.data.length - skip;
    if (len < 0 || (len === 0 && !o.fin)) continue; // all of it was taken already
    if (len > 0 && !accept(f, o.data, skip, len, io)) return dropOutOfOrder(f);
    if (o.fin) {
      dropOutOfOrder(f);
      return takeFin(f, io);
    }
  }
}

/** Takes guest bytes: to the socket, the rest to the pending queue; false if not all were taken. */
function accept(f: TcpFlow, buf: Uint8Array, off: number, len: number, io: TcpIo): boolean {
  let n = 0;
  if (f.pendingLen === 0) {
    n = io.write(f, buf, off, len);
    if (n < 0) {
      abort(f, io, false);
      return false;
    }
  }
  const keep = Math.min(len - n, PENDING_MAX - f.pendingLen);
  if (keep > 0) {
    f.pending.push(buf.slice(off + n, off + n + keep));
    f.pendingLen += keep;
    watchSpace(f, io);
  }
  f.seqFromTap = seqAdd(f.seqFromTap, n + keep);
  f.flags |= Flag.AckNow;
  if (n + keep === len) return true;
  f.flags |= Flag.SockFull;
  return false;
}

function takeFin(f: TcpFlow, io: TcpIo): void {
  f.seqFromTap = seqAdd(f.seqFromTap, 1);
  f.flags |= Flag.TapFin | Flag.AckNow;
  if (f.pendingLen === 0) io.shutdownWrite(f);
  else f.flags |= Flag.ShutPending;
}

/** Writes the pending queue out, as far as the socket takes it; false if the flow was aborted. */
function drainPending(f: TcpFlow, io: TcpIo): boolean {
  while (f.pending.length > 0) {
    const chunk = f.pending[0]!;
    const n = io.write(f, chunk, 0, chunk.length);
    if (n < 0) {
      abort(f, io, false);
      return false;
    }
    f.pendingLen -= n;
    if (n < chunk.length) {
      f.pending[0] = chunk.subarray(n);
      watchSpace(f, io);
      return true;
    }
    f.pending.shift();
  }
  if (f.flags & Flag.ShutPending) {
    f.flags &= ~Flag.ShutPending;
    io.shutdownWrite(f);
  }
  return true;
}

function watchSpace(f: TcpFlow, io: TcpIo): void {
  if (f.flags & Flag.SpaceWatch) return;
  f.flags |= Flag.SpaceWatch;
  io.watchSpace(f);
}

// ---------------------------------------------------------------------------------------------
// Sending to the guest

/** After a batch of guest segments or a socket event: send what can be sent, ACK, close if done. */
export function flush(f: TcpFlow, io: TcpIo, now: number): void {
  if (f.state === FlowState.Established) {
    const window = advertise(f, io);
    sendData(f, io, window, now);
    if (f.state === FlowState.Established) sendAcks(f, io, window);
    if (f.state === FlowState.Established && isDone(f)) closeFlow(f, io, false);
  }
  if (f.state !== FlowState.Closed) arm(f, now);
}

/** Both FINs are through and every guest byte is in the socket. */
function isDone(f: TcpFlow): boolean {
  return (f.flags & Flag.TapFin) !== 0 && (f.flags & Flag.FinAcked) !== 0 && f.pendingLen === 0;
}

/**
 * The window field for the next segments: the free room of the socket's send buffer, at least one full
 * segment (see the theory of operation); zero while guest data is pending.
 */
function advertise(f: TcpFlow, io: TcpIo): number {
  const free = io.sendSpace(f);
  const scale = 2 ** f.wsToTap;
  const bytes = f.pendingLen > 0 ? 0 : Math.max(free, f.mssLimit);
  const field = Math.min(MAX_WINDOW_FIELD, Math.floor(bytes / scale));
  f.wndToTap = field * scale;
  // Nearly full by the kernel's own measure (free < a third): ask for EPOLLOUT to reopen the window.
  if (free * 3 < f.sndbuf && !(f.flags & Flag.TapFin)) watchSpace(f, io);
  return field;
}

/** Sends socket data within the guest's window, then our FIN once the host peer's EOF is reached. */
function sendData(f: TcpFlow, io: TcpIo, window: number, now: number): void {
  if ((f.flags & Flag.FinSent) && seqGt(f.seqToTap, f.finSeq)) return;
  f.flags &= ~Flag.WndBlocked;
  for (;;) {
    const room = seqDiff(seqAdd(f.seqAckFromTap, f.wndFromTap), f.seqToTap);
    if (room <= 0) {
      if (f.wndFromTap === 0) f.flags |= Flag.WndBlocked;
      return;
    }
    const n = io.data(f, f.seqToTap, f.seqFromTap, window, Math.min(Math.max(f.mss, DATA_BURST), room));
    if (n > 0) {
      advanceSent(f, n, now);
    } else if (n === 0) {
      return;
    } else if (n === EOF) {
      return sendFin(f, io, window, now);
    } else {
      return abort(f, io, false);
    }
  }
}

function advanceSent(f: TcpFlow, n: number, now: number): void {
  if (f.seqMaxToTap === f.seqAckFromTap) f.progressAt = now; // the retransmission clock starts
  f.seqToTap = seqAdd(f.seqToTap, n);
  if (seqGt(f.seqToTap, f.seqMaxToTap)) f.seqMaxToTap = f.seqToTap;
  f.seqAckToTap = f.seqFromTap;
  f.flags &= ~Flag.AckNow;
}

function sendFin(f: TcpFlow, io: TcpIo, window: number, now: number): void {
  f.flags |= Flag.SockEof;
  if (!(f.flags & Flag.FinSent)) {
    f.finSeq = f.seqToTap;
    f.flags |= Flag.FinSent;
  } else if (f.seqToTap !== f.finSeq) {
    return;
  }
  io.control(f, TcpFlag.Fin | TcpFlag.Ack, f.finSeq, f.seqFromTap, window, false);
  advanceSent(f, 1, now);
}

/** The ACK owed to the guest, then duplicate ACKs for gaps (the guest retransmits after three). */
function sendAcks(f: TcpFlow, io: TcpIo, window: number): void {
  const dups = f.gapSegs > 0 ? dupAcksFor(f) : 0;
  f.gapSegs = 0;
  if (!(f.flags & Flag.AckNow) && dups === 0 && f.seqAckToTap === f.seqFromTap) return;
  for (let i = 0; i <= dups; i++) pureAck(f, io, window);
}

/** Duplicate ACKs to send for the hole at seqFromTap: a burst the first time, none after. */
function dupAcksFor(f: TcpFlow): number {
  if (f.dupBurstAt === f.seqFromTap) return 0;
  f.dupBurstAt = f.seqFromTap;
  return DUP_ACKS_TO_SEND;
}

/** An ACK without data. Its sequence number is the highest we sent, which the guest always accepts. */
function pureAck(f: TcpFlow, io: TcpIo, window: number): void {
  io.control(f, TcpFlag.Ack, f.seqMaxToTap, f.seqFromTap, window, false);
  f.seqAckToTap = f.seqFromTap;
  f.flags &= ~Flag.AckNow;
}

// ---------------------------------------------------------------------------------------------
// Socket events

/** Readiness of the flow's socket. */
export function onSocketEvents(f: TcpFlow, ev: SockEvents, io: TcpIo, now: number): void {
  f.lastActivity = now;
  switch (f.state) {
    case FlowState.Connecting:
      return connectDone(f, ev, io, now);
    case FlowState.Established:
      return established(f, ev, io, now);
    default:
      return; // handshake with the guest in progress: the socket waits
  }
}

function connectDone(f: TcpFlow, ev: SockEvents, io: TcpIo, now: number): void {
  if (!ev.writable && !ev.error && !ev.hangup) return;
  const err = io.pendingError(f);
  if (err === 0 && ev.writable && !ev.hangup) return connected(f, io, now);
  connectFailed(f, io);
}

function established(f: TcpFlow, ev: SockEvents, io: TcpIo, now: number): void {
  if (ev.error && io.pendingError(f) !== 0) return abort(f, io, false);
  if (ev.writable && (f.flags & (Flag.SockFull | Flag.SpaceWatch) || f.pendingLen > 0)) return writable(f, io, now);
  flush(f, io, now);
}

/**
 * The send buffer has room again: write the pending bytes, reopen the window; if guest data was dropped,
 * make the guest resend it at once.
 */
function writable(f: TcpFlow, io: TcpIo, now: number): void {
  f.flags &= ~Flag.SpaceWatch;
  if (!drainPending(f, io)) return;
  const wasFull = (f.flags & Flag.SockFull) !== 0 && f.pendingLen === 0;
  if (wasFull) f.flags &= ~Flag.SockFull;
  const before = f.wndToTap;
  const window = advertise(f, io);
  sendData(f, io, window, now);
  if (f.state !== FlowState.Established) return;
  if (wasFull || f.wndToTap > before) {
    const dups = wasFull ? dupAcksFor(f) : 0;
    for (let i = 0; i <= dups; i++) pureAck(f, io, window);
  }
  sendAcks(f, io, window);
  arm(f, now);
}

// ---------------------------------------------------------------------------------------------
// Timers

const rtoFor = (base: number, retries: number): number => Math.min(base * 2 ** retries, Timing.maxRtoMs);

/** Recomputes the flow's one deadline from its state. */
export function arm(f: TcpFlow, now: number): void {
  void now;
  switch (f.state) {
    case FlowState.Connecting:
      f.deadline = f.created + Timing.handshakeMs;
      return;
    case FlowState.SynAckSent:
    case FlowState.SynSent:
      f.deadline = Math.min(f.progressAt + rtoFor(Timing.synRtoMs, f.retries), f.created + Timing.handshakeMs);
      return;
    case FlowState.Established:
      f.deadline = establishedDeadline(f);
      return;
    default:
      f.deadline = 0;
  }
}

function establishedDeadline(f: TcpFlow): number {
  const inFlight = f.seqMaxToTap !== f.seqAckFromTap;
  if (inFlight || (f.flags & Flag.WndBlocked)) return f.progressAt + rtoFor(Timing.rtoMs, f.retries);
  return f.lastActivity + Timing.idleMs;
}

/** The flow's deadline passed. */
export function onTimer(f: TcpFlow, io: TcpIo, now: number): void {
  if (f.deadline === 0 || now < f.deadline) return;
  switch (f.state) {
    case FlowState.Connecting:
      return connectFailed(f, io); // connect() took too long
    case FlowState.SynAckSent:
    case FlowState.SynSent:
      return handshakeTimer(f, io, now);
    case FlowState.Established:
      return establishedTimer(f, io, now);
    default:
      return;
  }
}

function handshakeTimer(f: TcpFlow, io: TcpIo, now: number): void {
  if (now >= f.created + Timing.handshakeMs) {
    if (f.state === FlowState.SynAckSent) io.control(f, TcpFlag.Rst | TcpFlag.Ack, f.seqToTap, f.seqFromTap, 0, false);
    return closeFlow(f, io, true);
  }
  f.retries++;
  if (f.state === FlowState.SynAckSent) sendSynAck(f, io, now);
  else sendSyn(f, io, now);
}

function establishedTimer(f: TcpFlow, io: TcpIo, now: number): void {
  const inFlight = f.seqMaxToTap !== f.seqAckFromTap;
  if (!inFlight && !(f.flags & Flag.WndBlocked)) {
    if (now >= f.lastActivity + Timing.idleMs) return abort(f, io, true);
    return arm(f, now);
  }
  if (!inFlight) return probeWindow(f, io, now); // a closed window is never given up on: the idle timer is
  if (f.retries >= Timing.maxRetries) return abort(f, io, true);
  f.retries++;
  retransmit(f, io, now);
  flush(f, io, now);
}

/** A zero-window probe: an old sequence number makes the guest answer with its current window. */
function probeWindow(f: TcpFlow, io: TcpIo, now: number): void {
  f.retries = Math.min(f.retries + 1, 16); // backoff only
  io.control(f, TcpFlag.Ack, seqAdd(f.seqAckFromTap, -1), f.seqFromTap, Math.floor(f.wndToTap / 2 ** f.wsToTap), false);
  f.progressAt = now;
  arm(f, now);
}

// ---------------------------------------------------------------------------------------------
// Endings

/** Resets the guest's side (and the host peer's if `resetHost`), then closes. */
export function abort(f: TcpFlow, io: TcpIo, resetHost: boolean): void {
  if (f.state === FlowState.Closed) return;
  sendReset(f, io);
  closeFlow(f, io, resetHost);
}

/**
 * A RST the guest accepts must carry exactly its next expected sequence number, which is somewhere
 * between what it acknowledged and what we sent: send one for each if they differ.
 */
function sendReset(f: TcpFlow, io: TcpIo): void {
  const flags = TcpFlag.Rst | TcpFlag.Ack;
  if (f.state === FlowState.Connecting) return io.control(f, flags, 0, f.seqFromTap, 0, false);
  if (f.seqAckFromTap !== f.seqMaxToTap) io.control(f, flags, f.seqAckFromTap, f.seqFromTap, 0, false);
  io.control(f, flags, f.seqMaxToTap, f.seqFromTap, 0, false);
}

function closeFlow(f: TcpFlow, io: TcpIo, resetHost: boolean): void {
  if (f.state === FlowState.Closed) return;
  f.state = FlowState.Closed;
  f.deadline = 0;
  io.close(f, resetHost);
}

// ---------------------------------------------------------------------------------------------
// Segments of no flow

/**
 * The RST answering a guest segment that belongs to no flow (RFC 9293 §3.10.7.1), or null for a RST
 * (never answered).
 */
export function resetFor(s: SegmentIn): { flags: number; seq: number; ack: number } | null {
  if (s.flags & TcpFlag.Rst) return null;
  if (s.flags & TcpFlag.Ack) return { flags: TcpFlag.Rst, seq: s.ack, ack: 0 };
  const len = s.payLen + (s.flags & TcpFlag.Syn ? 1 : 0) + (s.flags & TcpFlag.Fin ? 1 : 0);
  return { flags: TcpFlag.Rst | TcpFlag.Ack, seq: 0, ack: seqAdd(s.seq, len) };
}
