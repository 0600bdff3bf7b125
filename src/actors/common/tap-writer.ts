/**
 * A protocol actor's write handle on the guest's link.
 *
 * pasta (a tap device): its own duplicate of the tap fd, adopted from the router. Each write is exactly
 * one Ethernet frame (tap semantics). Frames that cannot be written (no tap yet, EAGAIN) are dropped and
 * counted, never thrown: the guest's TCP/UDP recover from a lost frame. With `-p FILE`, every frame
 * written is also appended to the capture (pcap-writer.ts).
 *
 * passt (qemu's stream socket): nobody but the tap actor may write the socket (two writers would
 * interleave partial writes and break the length framing), so the router hands out no duplicates and
 * frames go to the tap actor instead, through the thread's frame sink (`configureTapWriters`, set by
 * the actor host at start). Frames written during one turn of the event loop travel together as ONE
 * `frames` message (flushed in a microtask, or earlier when the batch is full); the tap actor frames,
 * queues, writes and captures them.
 */
import { native } from '../../native/index.js';
import type { Counters } from '../../runtime/actor.js';
import { sharedPcap } from './pcap-writer.js';
import { corruptedCopy, type FaultInjector } from '../../runtime/faults.js';

/** Sends frames laid out back to back (`lens`) to whoever writes the link; false if it is unreachable. */
export type FrameSink = (buf: Uint8Array, lens: number[]) => boolean;

let threadSink: FrameSink | null = null;

/** passt mode: where this thread's (or process's) TapWriters send their frames; null (pasta) to write the tap. */
export function configureTapWriters(sink: FrameSink | null): void {
  threadSink = sink;
}

/** Faults on the frames this thread writes to the guest (--fault, `out`): set by the actor host. */
export interface OutFaults {
  injector: FaultInjector;
  /** an injected crash: the host ends the actor */
  crash(): void;
}
let threadFaults: OutFaults | null = null;

export function configureTapFaults(faults: OutFaults | null): void {
  threadFaults = faults;
}

/** Bytes gathered before a batch is sent without waiting for the end of the turn. */
const BATCH_BYTES = 256 * 1024;

export class TapWriter {
  #fd = -1;
  readonly #sink: FrameSink | null;
  #batch: Uint8Array | null = null;
  #batchUsed = 0;
  #batchLens: number[] = [];
  #flushQueued = false;

  constructor(
    private readonly counters: Counters,
    sink: FrameSink | null = threadSink,
  ) {
    this.#sink = sink;
  }

  adopt(fd: number): void {
    this.#closeFd();
    this.#fd = fd;
  }

  /** True when frames can go out: a tap duplicate was adopted, or frames go to the tap actor. */
  get ready(): boolean {
    return this.#sink !== null || this.#fd >= 0;
  }

  /** Writes (or, in passt mode, batches) one frame; false (counted) when it could not. */
  write(buf: Uint8Array, off: number, len: number): boolean {
    if (threadFaults !== null && threadFaults.injector.applies('out')) return this.#withFaults(threadFaults, buf, off, len);
    return this.#write(buf, off, len);
  }

  /** An injected fault decides: the frame is lost, corrupted, doubled or held back (counted); a lost one "was written". */
  #withFaults(faults: OutFaults, buf: Uint8Array, off: number, len: number): boolean {
    const f = faults.injector.decide(len);
    if (f.crash) faults.crash();
    if (f.drop) {
      this.counters.add('fault-dropped');
      return true;
    }
    let frame = buf.subarray(off, off + len);
    if (f.corruptAt >= 0) {
      frame = corruptedCopy(frame, f.corruptAt);
      this.counters.add('fault-corrupted');
    }
    if (f.copies > 1) this.counters.add('fault-duplicated');
    if (f.delayMs > 0) {
      const later = frame.slice();
      this.counters.add('fault-delayed', f.copies);
      for (let i = 0; i < f.copies; i++) setTimeout(() => this.#write(later, 0, later.length), f.delayMs).unref();
      return true;
    }
    let ok = true;
    for (let i = 0; i < f.copies; i++) ok = this.#write(frame, 0, frame.length) && ok;
    return ok;
  }

  #write(buf: Uint8Array, off: number, len: number): boolean {
    if (this.#sink !== null) return this.#batchFrame(buf, off, len);
    if (this.#fd < 0) {
      this.counters.add('tap-write-no-tap');
      return false;
    }
    if (this.#writeOnce(buf, off, len)) {
      this.counters.add('frames-out');
      sharedPcap()?.write(buf, off, len);
      return true;
    }
    this.counters.add('tap-write-dropped');
    return false;
  }

  /** One write(2); false on EAGAIN or an error (EIO while the guest's link is down, EPIPE once the tap is gone). */
  #writeOnce(buf: Uint8Array, off: number, len: number): boolean {
    try {
      return native.write(this.#fd, buf, off, len) === len;
    } catch {
      return false;
    }
  }

  #batchFrame(buf: Uint8Array, off: number, len: number): boolean {
    if (this.#batch !== null && this.#batchUsed + len > this.#batch.length) this.flush();
    if (this.#batch === null) this.#batch = new Uint8Array(Math.max(BATCH_BYTES, len));
    this.#batch.set(buf.subarray(off, off + len), this.#batchUsed);
    this.#batchUsed += len;
    this.#batchLens.push(len);
    this.counters.add('frames-out');
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return true;
  }

  /** passt mode: sends the frames batched so far to the tap actor now (also done at the end of each turn). */
  flush(): void {
    this.#flushQueued = false;
    const sink = this.#sink;
    if (sink === null || this.#batch === null || this.#batchLens.length === 0) return;
    const buf = this.#batch.slice(0, this.#batchUsed); // exactly sized, so the transfer moves no spare room
    const lens = this.#batchLens;
    this.#batchUsed = 0;
    this.#batchLens = [];
    if (!sink(buf, lens)) this.counters.add('tap-write-dropped', lens.length);
  }

  close(): void {
    this.flush();
    this.#closeFd();
  }

  #closeFd(): void {
    if (this.#fd < 0) return;
    native.close(this.#fd, true);
    this.#fd = -1;
  }
}
