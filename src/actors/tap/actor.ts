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
 *   too (the path for actors without a tap writer).
 * - passt mode (qemu's stream socket instead of a tap, link.ts/stream.ts): the same frames, each with a
 *   4-byte length. The protocol actors then never write the socket (concurrent writers would interleave
 *   partial writes): their TapWriters send `frames` messages here, and this actor is the only writer.
 *   Frames go through an output queue; a partial write leaves the rest queued, EAGAIN registers
 *   EPOLLOUT on the socket (epollMod) until the queue is empty, so a frame is never truncated. A
 *   length below 14 or above 65535 is a protocol error. EOF, a protocol error or a write error end the
 *   client: the actor forgets it (its fd, partial frame, queue, guest MAC, RA schedule) and tells the
 *   router `tap-closed`; passt then resets the protocol actors and waits for the next client, whose
 *   socket arrives as a new `adopt`.
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
 * - The guest's MAC is learnt from the source address of its frames and announced to the peers; so are
 *   its IPv4 and global IPv6 addresses (guest-addr.ts: where inbound forwards reach it), announced
 *   (`guest-addr {v4, v6}`) at once, then at most once per ADDR_ANNOUNCE_MS.
 * - On tap EOF the actor tells the router (`tap-closed`), which shuts pasta down.
 * Owns: its duplicate of the tap fd (or of the client's socket), the RA timer, the stream's output
 * queue. Never holds received frames past one batch.
 */
import { readFileSync } from 'node:fs';
import { native } from '../../native/index.js';
import { GuestAddresses } from './guest-addr.js';
import type { Actor, ActorEnv, ActorName, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { FrameClass, FrameClassifier, FrameKind, Verdict, VerdictName } from '../../protocol/classify.js';
import { copyMac, formatMac, isMacMulticast, macEquals } from '../../protocol/eth.js';
import { sharedPcap } from '../common/pcap-writer.js';
import { ALL_NODES, buildRouterAdvert, respondToGuest, type ServicesConfig } from './services/index.js';
import { servicesConfigFrom } from './services/from-config.js';
import { parseResolvConf } from '../../ns/resolv.js';
import { FrameBatch, destinationOf, disabledFamilyDrop, raDelayMs, type Destination } from './state.js';
import { LinkRead, StreamLink, TapLink, type GuestLink, type SendResult } from './link.js';
import { Proto } from '../../runtime/epoll-ref.js';

const BATCH_FRAMES = 64;
/** frames per batch from the stream (they come in big reads; small ones are 20 to a 1500-byte MTU) */
const STREAM_BATCH_FRAMES = 256;
const FRAME_ROOM = 65536 + 14;
const BUDGET_BATCHES = 16;
const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 1 << 31;
/** how the router registered the tap / the client's socket (pasta.ts, passt.ts), plus EPOLLOUT when blocked */
const TAP_EVENTS = EPOLLIN | EPOLLRDHUP | EPOLLET;
const PEERS: readonly ActorName[] = ['tcp', 'udp', 'icmp'];
/** guest address changes are announced at once, then at most once per this period */
const ADDR_ANNOUNCE_MS = 20;
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
  readonly #stream: boolean;
  readonly #offs = new Uint32Array(STREAM_BATCH_FRAMES);
  readonly #lens = new Uint32Array(STREAM_BATCH_FRAMES);
  #link: GuestLink | null = null;
  /** EPOLLOUT is registered: the stream socket was full */
  #waitingOut = false;
  readonly #classifier = new FrameClassifier();
  readonly #cls = new FrameClass();
  readonly #batches = new Map<PeerDestination, FrameBatch>();
  #guestMac = '';
  readonly #guestMacBytes = new Uint8Array(6);
  readonly #guestAddrs = new GuestAddresses();
  #addrTimer: NodeJS.Timeout | undefined;
  #addrsDirty = false;
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
    this.#stream = env.config.mode === 'passt';
  }

  onReady(_proto: number, _aux: number, _handle: number, events: number): void {
    if (events & EPOLLOUT) {
      this.#waitingOut = true; // registered, maybe by an incarnation before this one: unregistered once empty
      this.#flush();
    }
    if (events & ~EPOLLOUT) this.#drain();
  }

  onMessage(from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'adopt' && fds[0] !== undefined) return this.#adopt(fds[0]);
    for (const fd of fds) native.close(fd, true);
    if (msg.t === 'frames') return this.#writeFrames(msg.buf as Uint8Array, msg.lens as number[]);
    if (msg.t !== 'link-up') return;
    if (this.#guestMac) this.#env.toPeer(from as ActorName, { t: 'guest-mac', mac: this.#guestMac });
    if (this.#guestAddrs.v4 !== null || this.#guestAddrs.v6 !== null) this.#env.toPeer(from as ActorName, this.#addrMsg());
  }

  stop(): void {
    this.#forgetGuest();
  }

  /** A new tap or client socket: whatever was known of the previous one is forgotten first. */
  #adopt(fd: number): void {
    this.#forgetGuest();
    this.#link = this.#stream ? new StreamLink(fd) : new TapLink(fd, BATCH_FRAMES, FRAME_ROOM);
    this.#env.log.debug(`adopted the ${this.#stream ? "client's socket" : 'tap'} (fd ${fd})`);
    this.#drain(); // frames that arrived while nobody owned the tap raise no new edge
  }

  /** Closes the link and forgets the guest: its MAC, the RA schedule (a new guest starts over). */
  #forgetGuest(): void {
    clearTimeout(this.#raTimer);
    this.#raTimer = undefined;
    this.#rasSent = 0;
    this.#guestMac = '';
    this.#guestAddrs.forget();
    clearTimeout(this.#addrTimer);
    this.#addrTimer = undefined;
    this.#addrsDirty = false;
    this.#link?.close();
    this.#link = null;
    this.#waitingOut = false;
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
    this.#flush();
  }

  /** Reads and dispatches batches until EAGAIN or the budget is spent. */
  #drain(): void {
    this.#scheduled = false;
    for (let round = 0; round < BUDGET_BATCHES; round++) {
      const link = this.#link;
      if (link === null) return;
      const n = link.read(this.#offs, this.#lens, this.#stream ? STREAM_BATCH_FRAMES : BATCH_FRAMES);
      if (n === LinkRead.Closed || n === LinkRead.ProtocolError) return this.#tapClosed();
      if (n === 0) return;
      this.#dispatch(link.buf, n);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #dispatch(buf: Uint8Array, n: number): void {
    const c = this.#env.counters;
    c.add('frames-in', n);
    const pcap = sharedPcap();
    for (let i = 0; i < n; i++) {
      const off = this.#offs[i]!, len = this.#lens[i]!;
      pcap?.write(buf, off, len);
      this.#classifyOne(buf, off, len);
    }
    for (const [dest, batch] of this.#batches) if (batch.count > 0) this.#send(buf, dest, batch);
    this.#flush(); // the services' replies of this batch, in one write (stream)
  }

  #classifyOne(buf: Uint8Array, off: number, len: number): void {
    const v = this.#classifier.classify(buf, off, len, this.#cls);
    if (v !== Verdict.Ok) return this.#env.counters.add(`drop:${VerdictName[v] ?? v}`);
    const off4 = disabledFamilyDrop(this.#cls.etherType, this.#ipOnly);
    if (off4 !== null) return this.#env.counters.add(off4);
    this.#learnGuestMac(buf, off);
    if (this.#guestAddrs.see(buf, this.#cls.srcAddrOff, this.#cls.kind)) this.#announceAddrsSoon();
    const dest = destinationOf({ etherType: this.#cls.etherType, l4: this.#cls.ipProto, dstPort: this.#cls.dstPort, icmpType: this.#cls.icmpType });
    if (dest.startsWith('drop:')) return this.#env.counters.add(dest);
    if (dest === 'services') return this.#serve(buf);
    let batch = this.#batches.get(dest as PeerDestination);
    if (!batch) this.#batches.set(dest as PeerDestination, (batch = new FrameBatch()));
    batch.add(off, len);
  }

  #learnGuestMac(buf: Uint8Array, off: number): void {
    const at = off + 6;
    if (isMacMulticast(buf, at) || (this.#guestMac && macEquals(buf, at, this.#guestMacBytes, 0))) return;
    copyMac(buf, at, this.#guestMacBytes, 0);
    if (!this.#guestMac && this.#raTimer === undefined) this.#scheduleRouterAdvert(); // its link is up now
    this.#guestMac = formatMac(this.#guestMacBytes);
    this.#env.log.debug(`guest MAC is ${this.#guestMac}`);
    for (const p of PEERS) this.#env.toPeer(p, { t: 'guest-mac', mac: this.#guestMac });
  }

  /** Announces a change at once, then at most once per ADDR_ANNOUNCE_MS (the latest addresses). */
  #announceAddrsSoon(): void {
    if (this.#addrTimer !== undefined) {
      this.#addrsDirty = true;
      return;
    }
    const msg = this.#addrMsg();
    this.#env.log.debug(`guest addresses: ${msg.v4 ?? '-'} ${msg.v6 ?? '-'}`);
    for (const p of PEERS) this.#env.toPeer(p, msg);
    this.#addrTimer = setTimeout(() => {
      this.#addrTimer = undefined;
      if (!this.#addrsDirty) return;
      this.#addrsDirty = false;
      this.#announceAddrsSoon();
    }, ADDR_ANNOUNCE_MS);
  }

  #addrMsg(): { t: 'guest-addr'; v4: string | null; v6: string | null } {
    return { t: 'guest-addr', v4: this.#guestAddrs.v4, v6: this.#guestAddrs.v6 };
  }

  /** Answers the guest-service frame just classified (in #cls): one reply frame, or a counted drop. */
  #serve(frame: Uint8Array): void {
    const c = this.#env.counters;
    const r = respondToGuest(this.#services, frame, this.#cls, this.#reply, 0);
    if (r.action === 'drop') return c.add(`drop:${r.reason}`);
    if (this.#writeToGuest(this.#reply, 0, r.len)) c.add(`reply:${serviceName(this.#cls)}`);
  }

  #send(src: Uint8Array, dest: PeerDestination, batch: FrameBatch): void {
    const count = batch.count;
    const { buf, lens } = batch.take(src);
    if (this.#env.toPeer(dest, { t: 'frames', buf, lens }, [], [buf.buffer as ArrayBuffer])) {
      this.#env.counters.add(`to-${dest}`, count);
    } else {
      this.#env.counters.add(`drop:${dest}-down`, count);
    }
  }

  /** Frames from a protocol actor (back to back): all queued, then one flush (stream). */
  #writeFrames(buf: Uint8Array, lens: number[]): void {
    let off = 0;
    for (const len of lens) {
      this.#writeToGuest(buf, off, len);
      off += len;
    }
    this.#flush();
  }

  /**
   * One frame to the guest, captured with -p; false (counted) if it could not be written or queued.
   * tap: one write() now. stream: queued; #flush() writes the queue (the callers flush per batch).
   */
  #writeToGuest(buf: Uint8Array, off: number, len: number): boolean {
    const c = this.#env.counters;
    if (this.#link === null) {
      c.add(this.#stream ? 'drop:no-client' : 'drop:no-tap');
      return false;
    }
    const r = this.#link.send(buf, off, len);
    if (r !== 'sent' && r !== 'queued') {
      c.add(this.#stream ? 'drop:stream-queue-full' : 'drop:tap-write');
      return false;
    }
    c.add('frames-out');
    sharedPcap()?.write(buf, off, len);
    return true;
  }

  /** Writes the stream's queue; when the socket is full, waits for EPOLLOUT (only then registered). */
  #flush(): void {
    const link = this.#link;
    if (link === null || link.pending === 0) return this.#wantWritable(false);
    const r: SendResult = link.flush();
    if (r === 'closed') return this.#tapClosed();
    if (r === 'blocked') this.#env.counters.add('stream-blocked');
    this.#wantWritable(r === 'blocked');
  }

  #wantWritable(on: boolean): void {
    if (on === this.#waitingOut) return;
    this.#waitingOut = on;
    this.#env.epollMod(Proto.Tap, 0, 0, on ? TAP_EVENTS | EPOLLOUT : TAP_EVENTS);
  }

  #tapClosed(): void {
    const error = this.#link?.error ?? null;
    if (!this.#stream) this.#env.log.info('tap closed');
    else if (error === null) this.#env.log.info('client closed the connection');
    else this.#env.log.warn(`${error}: dropping the client`);
    if (error !== null) this.#env.counters.add(error.startsWith('protocol error') ? 'client-protocol-error' : 'client-error');
    this.#forgetGuest(); // the router then removes the socket from epoll (passt.ts)
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
