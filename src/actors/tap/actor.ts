/**
 * The tap actor: the guest's side of the wire.
 *
 * Theory of operation
 * - The router hands it the tap fd (`adopt`, a duplicate the actor owns) and, on each epoll wake-up
 *   (edge-triggered), one `ready`. The actor then reads frames in batches (`readBatch`: up to
 *   BATCH_FRAMES read() calls into one buffer) until EAGAIN, or until its budget for one turn of the
 *   event loop is spent, in which case it yields with setImmediate and goes on (with edge triggering
 *   nobody else would wake it).
 * - Each frame is classified (protocol/classify.ts) without allocation. Malformed frames are dropped
 *   and counted per reason (`drop:Truncated`, ...), never thrown. Good frames are grouped by
 *   destination (state.ts) and each group goes to its actor as ONE `frames` message per batch
 *   (`{t: 'frames', buf, lens}`: the frames back to back), over the direct link to that actor.
 * - Frames back to the guest are written by the protocol actors themselves, each with its own
 *   duplicate of the tap fd (one write() per frame); `frames` messages sent TO this actor are written
 *   too (the path for actors without a tap writer, and for passt's stream socket later).
 * - The guest's MAC is learnt from the source address of its frames and announced to the peers.
 * - On tap EOF the actor tells the router (`tap-closed`), which shuts pasta down.
 * Owns: its duplicate of the tap fd. Never holds frames past one batch.
 */
import { native } from '../../native/index.js';
import type { Actor, ActorEnv, ActorName, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { FrameClass, FrameClassifier, Verdict, VerdictName } from '../../protocol/classify.js';
import { copyMac, formatMac, isMacMulticast, macEquals } from '../../protocol/eth.js';
import { FrameBatch, destinationOf, type Destination } from './state.js';

const BATCH_FRAMES = 64;
const FRAME_ROOM = 65536 + 14;
const BUDGET_BATCHES = 16;
const PEERS: readonly ActorName[] = ['tcp', 'udp', 'icmp'];

class TapActor implements Actor {
  readonly #env: ActorEnv;
  readonly #buf = new Uint8Array(BATCH_FRAMES * FRAME_ROOM);
  readonly #lens = new Uint32Array(BATCH_FRAMES);
  readonly #classifier = new FrameClassifier();
  readonly #cls = new FrameClass();
  readonly #batches = new Map<Destination, FrameBatch>();
  #fd = -1;
  #guestMac = '';
  readonly #guestMacBytes = new Uint8Array(6);
  #scheduled = false;

  constructor(env: ActorEnv) {
    this.#env = env;
  }

  onReady(): void {
    this.#drain();
  }

  onMessage(from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'adopt' && fds[0] !== undefined) return this.#adopt(fds[0]);
    for (const fd of fds) native.close(fd, true);
    if (msg.t === 'frames') return this.#writeFrames(msg.buf as Uint8Array, msg.lens as number[]);
    if (msg.t === 'link-up' && this.#guestMac) this.#env.toPeer(from as ActorName, { t: 'guest-mac', mac: this.#guestMac });
  }

  stop(): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = -1;
  }

  #adopt(fd: number): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = fd;
    this.#env.log.debug(`adopted the tap (fd ${fd})`);
    this.#drain(); // frames that arrived while nobody owned the tap raise no new edge
  }

  /** Reads and dispatches batches until EAGAIN or the budget is spent. */
  #drain(): void {
    this.#scheduled = false;
    for (let round = 0; round < BUDGET_BATCHES; round++) {
      if (this.#fd < 0) return;
      const n = native.readBatch(this.#fd, this.#buf, this.#lens, BATCH_FRAMES);
      if (n < 0) return this.#tapClosed();
      if (n === 0) return;
      this.#dispatch(n);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #dispatch(n: number): void {
    const c = this.#env.counters;
    c.add('frames-in', n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = this.#lens[i]!;
      this.#classifyOne(off, len);
      off += len;
    }
    for (const [dest, batch] of this.#batches) if (batch.count > 0) this.#send(dest, batch);
  }

  #classifyOne(off: number, len: number): void {
    const v = this.#classifier.classify(this.#buf, off, len, this.#cls);
    if (v !== Verdict.Ok) return this.#env.counters.add(`drop:${VerdictName[v] ?? v}`);
    this.#learnGuestMac(off);
    const dest = destinationOf({ etherType: this.#cls.etherType, l4: this.#cls.ipProto, dstPort: this.#cls.dstPort, icmpType: this.#cls.icmpType });
    if (dest.startsWith('drop:')) return this.#env.counters.add(dest);
    let batch = this.#batches.get(dest as Destination);
    if (!batch) this.#batches.set(dest as Destination, (batch = new FrameBatch()));
    batch.add(off, len);
  }

  #learnGuestMac(off: number): void {
    const at = off + 6;
    if (isMacMulticast(this.#buf, at) || (this.#guestMac && macEquals(this.#buf, at, this.#guestMacBytes, 0))) return;
    copyMac(this.#buf, at, this.#guestMacBytes, 0);
    this.#guestMac = formatMac(this.#guestMacBytes);
    this.#env.log.debug(`guest MAC is ${this.#guestMac}`);
    for (const p of PEERS) this.#env.toPeer(p, { t: 'guest-mac', mac: this.#guestMac });
  }

  #send(dest: Destination, batch: FrameBatch): void {
    const count = batch.count;
    const { buf, lens } = batch.take(this.#buf);
    if (dest === 'services') {
      // ARP, DHCP, NDP and DHCPv6 answers are the guest-services issue: counted, not answered yet.
      return this.#env.counters.add('drop:services-not-implemented', count);
    }
    if (this.#env.toPeer(dest, { t: 'frames', buf, lens }, [], [buf.buffer as ArrayBuffer])) {
      this.#env.counters.add(`to-${dest}`, count);
    } else {
      this.#env.counters.add(`drop:${dest}-down`, count);
    }
  }

  #writeFrames(buf: Uint8Array, lens: number[]): void {
    if (this.#fd < 0) return this.#env.counters.add('drop:no-tap', lens.length);
    let off = 0;
    for (const len of lens) {
      if (native.write(this.#fd, buf, off, len) === len) this.#env.counters.add('frames-out');
      else this.#env.counters.add('drop:tap-write');
      off += len;
    }
  }

  #tapClosed(): void {
    this.#env.log.info('tap closed');
    native.close(this.#fd, true);
    this.#fd = -1;
    this.#env.toRouter({ t: 'tap-closed' });
  }
}

export function createActor(env: ActorEnv): Actor {
  return new TapActor(env);
}
