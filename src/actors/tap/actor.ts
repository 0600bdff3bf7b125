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
 * - Guest services (ARP, DHCP, NDP, DHCPv6) are answered here, inline, frame by frame: the pure
 *   responders (services/) write the reply into a scratch buffer and it goes to the tap at once, in
 *   one write(); their drops are counted per reason (`drop:dhcp: ...`). Unsolicited router
 *   advertisements go to all nodes once the guest's link is up (its first frame: before that they
 *   would be lost), twice more 4 s apart, then every 200 to 600 s (state.ts `raDelayMs`), unless
 *   --no-ra / --no-ndp / no IPv6. The services' configuration is
 *   derived once at start (services/from-config.ts) from the options, the guest's link and the host's
 *   /etc/resolv.conf.
 * - -4 / -6: frames of the other IP version are dropped and counted before anything else.
 * - With -p, every frame read from the tap and every frame this actor writes is appended to the
 *   capture (common/pcap-writer.ts); the protocol actors capture what they write themselves.
 * - The guest's MAC is learnt from the source address of its frames and announced to the peers.
 * - On tap EOF the actor tells the router (`tap-closed`), which shuts pasta down.
 * Owns: its duplicate of the tap fd, the RA timer. Never holds frames past one batch.
 */
import { readFileSync } from 'node:fs';
import { native } from '../../native/index.js';
import type { Actor, ActorEnv, ActorName, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { FrameClass, FrameClassifier, FrameKind, Verdict, VerdictName } from '../../protocol/classify.js';
import { copyMac, formatMac, isMacMulticast, macEquals } from '../../protocol/eth.js';
import { sharedPcap } from '../common/pcap-writer.js';
import { ALL_NODES, buildRouterAdvert, respondToGuest, type ServicesConfig } from './services/index.js';
import { servicesConfigFrom } from './services/from-config.js';
import { parseResolvConf } from '../../ns/resolv.js';
import { FrameBatch, destinationOf, disabledFamilyDrop, raDelayMs, type Destination } from './state.js';

const BATCH_FRAMES = 64;
const FRAME_ROOM = 65536 + 14;
const BUDGET_BATCHES = 16;
const PEERS: readonly ActorName[] = ['tcp', 'udp', 'icmp'];
const REPLY_ROOM = 65536;
/** Destinations served by another actor (the guest services are answered here). */
type PeerDestination = Exclude<Destination, 'services'>;
const RESOLV_CONF = '/etc/resolv.conf';

/** The host's resolver configuration; empty if unreadable (no DNS to advertise then). */
function readResolvConf(): string {
  try {
    return readFileSync(RESOLV_CONF, 'utf8');
  } catch {
    return '';
  }
}

class TapActor implements Actor {
  readonly #env: ActorEnv;
  readonly #buf = new Uint8Array(BATCH_FRAMES * FRAME_ROOM);
  readonly #lens = new Uint32Array(BATCH_FRAMES);
  readonly #classifier = new FrameClassifier();
  readonly #cls = new FrameClass();
  readonly #batches = new Map<PeerDestination, FrameBatch>();
  #fd = -1;
  #guestMac = '';
  readonly #guestMacBytes = new Uint8Array(6);
  #scheduled = false;
  readonly #services: ServicesConfig;
  readonly #reply = new Uint8Array(REPLY_ROOM);
  readonly #ipOnly: 'ipv4' | 'ipv6' | null;
  #raTimer: NodeJS.Timeout | undefined;
  #rasSent = 0;

  constructor(env: ActorEnv) {
    this.#env = env;
    this.#services = servicesConfigFrom(env.config, parseResolvConf(readResolvConf()));
    this.#ipOnly = env.config.cli.ipOnly;
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
    clearTimeout(this.#raTimer);
    this.#raTimer = undefined;
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = -1;
  }

  #adopt(fd: number): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = fd;
    this.#env.log.debug(`adopted the tap (fd ${fd})`);
    this.#drain(); // frames that arrived while nobody owned the tap raise no new edge
  }

  /** Unsolicited router advertisements, see the module comment. */
  #scheduleRouterAdvert(): void {
    const s = this.#services;
    if (s.noRa || s.noNdp || s.ip6Addr === null) return;
    this.#raTimer = setTimeout(() => {
      this.#sendRouterAdvert();
      this.#scheduleRouterAdvert();
    }, raDelayMs(this.#rasSent, Math.random()));
  }

  #sendRouterAdvert(): void {
    this.#rasSent++;
    const r = buildRouterAdvert(this.#services, ALL_NODES, null, this.#reply, 0);
    if (r.action === 'drop') return this.#env.counters.add(`drop:${r.reason}`);
    if (this.#writeToGuest(this.#reply, 0, r.len)) this.#env.counters.add('ra-unsolicited');
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
    const pcap = sharedPcap();
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = this.#lens[i]!;
      pcap?.write(this.#buf, off, len);
      this.#classifyOne(off, len);
      off += len;
    }
    for (const [dest, batch] of this.#batches) if (batch.count > 0) this.#send(dest, batch);
  }

  #classifyOne(off: number, len: number): void {
    const v = this.#classifier.classify(this.#buf, off, len, this.#cls);
    if (v !== Verdict.Ok) return this.#env.counters.add(`drop:${VerdictName[v] ?? v}`);
    const off4 = disabledFamilyDrop(this.#cls.etherType, this.#ipOnly);
    if (off4 !== null) return this.#env.counters.add(off4);
    this.#learnGuestMac(off);
    const dest = destinationOf({ etherType: this.#cls.etherType, l4: this.#cls.ipProto, dstPort: this.#cls.dstPort, icmpType: this.#cls.icmpType });
    if (dest.startsWith('drop:')) return this.#env.counters.add(dest);
    if (dest === 'services') return this.#serve();
    let batch = this.#batches.get(dest as PeerDestination);
    if (!batch) this.#batches.set(dest as PeerDestination, (batch = new FrameBatch()));
    batch.add(off, len);
  }

  #learnGuestMac(off: number): void {
    const at = off + 6;
    if (isMacMulticast(this.#buf, at) || (this.#guestMac && macEquals(this.#buf, at, this.#guestMacBytes, 0))) return;
    copyMac(this.#buf, at, this.#guestMacBytes, 0);
    if (!this.#guestMac && this.#raTimer === undefined) this.#scheduleRouterAdvert(); // its link is up now
    this.#guestMac = formatMac(this.#guestMacBytes);
    this.#env.log.debug(`guest MAC is ${this.#guestMac}`);
    for (const p of PEERS) this.#env.toPeer(p, { t: 'guest-mac', mac: this.#guestMac });
  }

  /** Answers the guest-service frame just classified (in #cls): one reply frame, or a counted drop. */
  #serve(): void {
    const c = this.#env.counters;
    const r = respondToGuest(this.#services, this.#buf, this.#cls, this.#reply, 0);
    if (r.action === 'drop') return c.add(`drop:${r.reason}`);
    if (this.#writeToGuest(this.#reply, 0, r.len)) c.add(`reply:${serviceName(this.#cls)}`);
  }

  #send(dest: PeerDestination, batch: FrameBatch): void {
    const count = batch.count;
    const { buf, lens } = batch.take(this.#buf);
    if (this.#env.toPeer(dest, { t: 'frames', buf, lens }, [], [buf.buffer as ArrayBuffer])) {
      this.#env.counters.add(`to-${dest}`, count);
    } else {
      this.#env.counters.add(`drop:${dest}-down`, count);
    }
  }

  #writeFrames(buf: Uint8Array, lens: number[]): void {
    let off = 0;
    for (const len of lens) {
      this.#writeToGuest(buf, off, len);
      off += len;
    }
  }

  /** One frame to the tap in one write(), captured with -p; false (counted) if it could not be written. */
  #writeToGuest(buf: Uint8Array, off: number, len: number): boolean {
    const c = this.#env.counters;
    if (this.#fd < 0) {
      c.add('drop:no-tap');
      return false;
    }
    let n = -1;
    try {
      n = native.write(this.#fd, buf, off, len);
    } catch {
      // EIO while the guest's interface is down, for example: the frame is lost, as on a real link
    }
    if (n !== len) {
      c.add('drop:tap-write');
      return false;
    }
    c.add('frames-out');
    sharedPcap()?.write(buf, off, len);
    return true;
  }

  #tapClosed(): void {
    this.#env.log.info('tap closed');
    native.close(this.#fd, true);
    this.#fd = -1;
    this.#env.toRouter({ t: 'tap-closed' });
  }
}

/** Counter suffix of a guest-service reply. */
function serviceName(cls: FrameClass): string {
  if (cls.kind === FrameKind.Arp) return 'arp';
  if (cls.kind === FrameKind.Ipv4) return 'dhcp';
  return cls.ipProto === 17 ? 'dhcpv6' : 'ndp';
}

export function createActor(env: ActorEnv): Actor {
  return new TapActor(env);
}
