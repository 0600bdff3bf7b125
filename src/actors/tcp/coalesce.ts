/**
 * Merges the guest's consecutive in-order data segments of one flow, within one batch of frames, into
 * one segment, so that their payload reaches the host socket in one send() instead of one per segment.
 *
 * A bulk upload at MTU 1500 brings up to 64 segments of 1460 bytes per batch; a send() per segment made
 * the socket write path the tcp actor's main cost. Only plain data segments merge (ACK, optionally PSH,
 * payload, nothing else), only when each starts where the previous one ended, and only up to MAX_RUN
 * bytes. The merged segment carries the last segment's acknowledgement and window: both are cumulative,
 * so the state machine sees what it would have seen after the last one (duplicate-ACK detection only
 * looks at segments without payload, which never merge). Anything else ends the run first, so segments
 * are still handled in the order they came.
 *
 * Pure: `add` either takes a segment into the run or says no; the caller then `take`s the run (if any),
 * handles it, and handles the segment on its own.
 */
import { TcpFlag } from '../../protocol/tcp.js';
import type { SegmentIn } from './state.js';

/** The most payload one merged segment carries. */
export const MAX_RUN = 256 * 1024;
const PLAIN = TcpFlag.Ack;
const PLAIN_PSH = TcpFlag.Ack | TcpFlag.Psh;

export class Coalescer<F> {
  #flow: F | null = null;
  readonly #seg: SegmentIn = { flags: 0, seq: 0, ack: 0, window: 0, buf: new Uint8Array(0), payOff: 0, payLen: 0, mss: 0, wscale: -1 };
  /** the run's payload once it has more than one segment (the first one is referenced until then) */
  readonly #scratch = new Uint8Array(MAX_RUN);
  #copied = false;
  /** segments in the run */
  count = 0;

  /** Whether a segment may ever be part of a run. */
  static mergeable(s: SegmentIn): boolean {
    return s.payLen > 0 && (s.flags === PLAIN || s.flags === PLAIN_PSH);
  }

  /** Takes `s` (of `flow`) into the run if it continues it, or starts a run if there is none; false otherwise. */
  add(flow: F, s: SegmentIn): boolean {
    if (!Coalescer.mergeable(s)) return false;
    if (this.#flow === null) return this.#start(flow, s);
    const run = this.#seg;
    if (flow !== this.#flow || s.seq !== ((run.seq + run.payLen) >>> 0) || run.payLen + s.payLen > MAX_RUN) return false;
    if (!this.#copied) this.#copyFirst();
    this.#scratch.set(s.buf.subarray(s.payOff, s.payOff + s.payLen), run.payLen);
    run.payLen += s.payLen;
    run.ack = s.ack;
    run.window = s.window;
    run.flags |= s.flags;
    this.count++;
    return true;
  }

  /** The run so far (its flow and merged segment), and no run after; null if there is none. */
  take(): { flow: F; seg: SegmentIn } | null {
    const flow = this.#flow;
    if (flow === null) return null;
    this.#flow = null;
    return { flow, seg: this.#seg };
  }

  #start(flow: F, s: SegmentIn): boolean {
    const run = this.#seg;
    run.flags = s.flags;
    run.seq = s.seq;
    run.ack = s.ack;
    run.window = s.window;
    run.buf = s.buf;
    run.payOff = s.payOff;
    run.payLen = s.payLen;
    this.#flow = flow;
    this.#copied = false;
    this.count = 1;
    return true;
  }

  #copyFirst(): void {
    const run = this.#seg;
    this.#scratch.set(run.buf.subarray(run.payOff, run.payOff + run.payLen), 0);
    run.buf = this.#scratch;
    run.payOff = 0;
    this.#copied = true;
  }
}
