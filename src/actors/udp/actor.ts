/**
 * The UDP actor: the guest's UDP, carried by ordinary host sockets.
 *
 * Theory of operation
 * - Guest to host: the tap actor sends `frames` batches. Each datagram is classified, its flow looked up
 *   by (IP version, guest address/port, remote address/port) in the flow table (state.ts), or a flow is
 *   opened: a host socket bound to the guest's source port when free (and to -o / --outbound-if*),
 *   connected to the host-side destination that mapping.ts gives (the host's loopback for the gateway,
 *   the host's resolver for --dns-forward, else the same address). The batch's datagrams are sent per
 *   flow with one sendmmsg.
 * - Host to guest: flow sockets and -u listeners are in the router's epoll set, edge-triggered, with the
 *   flow's handle and generation in the reference. On readiness the actor reads with recvmmsg straight
 *   into a frame buffer (payload at the header room of each slot), writes the headers around each
 *   payload and writes the frames to its tap writer (one write per frame). A stale event (old generation)
 *   is ignored. Reading stops after a budget and goes on at the next turn of the event loop.
 * - -u listeners (forward.ts): static ones at start; with `auto`, the namespace's bound ports are read
 *   every second through the namespace helper (common/procnet.ts) and listeners follow them. A datagram on a
 *   listener opens (or refreshes) an inbound flow that remembers the sender; the guest's replies go back
 *   to it with sendto on the listener, so they leave from the forwarded port.
 * - Errors: flow sockets have IP_RECVERR/IPV6_RECVERR; EPOLLERR drains the error queue and each error
 *   becomes the matching ICMP/ICMPv6 error to the guest, quoting its datagram (icmp-error.ts). A flow
 *   whose connect() fails at once (no route, a prohibit route) is not opened, and the guest gets the
 *   destination unreachable at once.
 * - Expiry: a timer closes flows silent for 30 s (one-way) or 120 s (both ways): epoll-del first, then
 *   close. Tests only: PASST_ACTORS_TEST_UDP_TIMEOUTS="ONEWAY_MS,BOTHWAYS_MS" shortens them (state.ts).
 * - DNS: resolv.conf is read at start (ns/resolv.ts); the redirects are logged with -d.
 * - Loopback fast path (pasta, unless --no-splice; loopback.ts, splice-flows.ts): a -u datagram from a
 *   loopback sender (127.0.0.0/8, ::1) never goes to the tap: it is sent from a socket inside the
 *   namespace to the namespace's loopback, and the replies come back from the -u listener. -U SPEC/auto:
 *   listeners on the namespace's loopback forward to the host's loopback the same way. Those sockets are
 *   (Proto.UdpSplice) in epoll.
 * Owns: the flow sockets and listeners (the router holds duplicates for epoll), its tap writer, the
 * loopback path's sockets (loopback.ts).
 * Never throws on guest input: every drop is counted (`drop:REASON`).
 */
import { readFileSync } from 'node:fs';
import { constants as C, native, type MmsgDatagram, type SockErr } from '../../native/index.js';
import { endpoint, type Actor, type ActorEnv, type FlowInfo, type Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { Proto } from '../../runtime/epoll-ref.js';
import { FrameClass, FrameClassifier, FrameKind, L4Kind, Verdict } from '../../protocol/classify.js';
import { isMacMulticast, parseMac } from '../../protocol/eth.js';
import { buildUdp4, buildUdp6, Headroom, type EthParams } from '../../protocol/frame.js';
import { formatIp, ipv4ToU32, isIpv6LinkLocal, isIpv6Unspecified, parseIpv4, parseIpv6 } from '../../protocol/addr.js';
import { RESOLV_CONF, parseResolvConf, planDns, isLoopbackAddress, type DnsPlan } from '../../ns/resolv.js';
import { TapWriter } from '../common/tap-writer.js';
import { guestAddrOf } from '../tap/guest-addr.js';
import { FlowTable, flowKey, timeoutsFromEnv, udpFlowState, type Flow } from './state.js';
import { guestViewOfPeer, makeAddressMap, outboundTarget, type AddressMap, type Family } from './mapping.js';
import { autoListeners, listenKey, staticListeners, udpForwardPlan, type ListenSpec, type UdpForwardPlan } from './forward.js';
import type { ForwardConfig } from '../../config/config.js';
import { autoPorts } from '../common/procnet.js';
import { buildUdpIcmpError, icmpForConnectError, icmpForSockErr, ICMP6_ERROR_MAX } from './icmp-error.js';
import { openFlowSocket, openListener } from './sockets.js';
import { LoopbackPath } from './loopback.js';

/** recvmmsg slots per call, and the stride of a slot: a whole datagram plus the largest header room. */
const RX_SLOTS = 16;
const SLOT = 65536 + 128;
const HEADROOM_MAX = Headroom.Udp6;
/** recvmmsg calls for one socket in one turn of the event loop before yielding */
const READ_BUDGET = 8;
const ERRORS_PER_WAKE = 64;
const SCAN_MS = 1000;
const PROC_FILES = { udp: ['/proc/net/udp', '/proc/net/udp6'], tcp: ['/proc/net/tcp', '/proc/net/tcp6'] };
export const TIMEOUTS_ENV = 'PASST_ACTORS_TEST_UDP_TIMEOUTS';

/** What the actor keeps per flow besides the table's bookkeeping. */
interface FlowData {
  family: Family;
  guest: Uint8Array;
  guestPort: number;
  /** the remote as the guest sees it */
  remote: Uint8Array;
  remotePort: number;
  /** own connected socket (flows the guest opened), or -1 (flows arriving on a listener) */
  fd: number;
  /** the listener (handle, generation) and the real sender, for flows arriving on a listener */
  listener: number;
  listenerGen: number;
  peerAddr: string;
  peerPort: number;
  /** payload length of the last datagram sent (for ICMP quotes) */
  lastLen: number;
}

interface Listener {
  handle: number;
  gen: number;
  fd: number;
  spec: ListenSpec;
  key: string;
}

type UdpFlow = Flow<FlowData>;

class UdpActor implements Actor {
  readonly #env: ActorEnv;
  readonly #writer: TapWriter;
  readonly #classifier = new FrameClassifier();
  readonly #fc = new FrameClass();
  readonly #flows = new FlowTable<FlowData>(timeoutsFromEnv(process.env[TIMEOUTS_ENV]));
  readonly #listeners: (Listener | null)[] = [];
  readonly #listenerGens: number[] = [];
  readonly #listenerByKey = new Map<string, Listener>();
  readonly #failedListens = new Set<string>();
  readonly #map: AddressMap;
  #plan: UdpForwardPlan;
  /** -u auto's scan of the namespace's bound ports, while -u is auto */
  #scanTimer: NodeJS.Timeout | undefined;
  readonly #families: (4 | 6)[];
  readonly #disabled: boolean;
  readonly #eth: EthParams = { dst: new Uint8Array(6).fill(0xff), src: new Uint8Array(6) };
  #guest4: Uint8Array | null;
  #guest6: Uint8Array | null;
  readonly #rx = new Uint8Array(RX_SLOTS * SLOT + HEADROOM_MAX);
  readonly #rx4 = this.#rx.subarray(Headroom.Udp4, Headroom.Udp4 + RX_SLOTS * SLOT);
  readonly #rx6 = this.#rx.subarray(Headroom.Udp6, Headroom.Udp6 + RX_SLOTS * SLOT);
  readonly #errBuf = new Uint8Array(65536);
  readonly #icmpBuf = new Uint8Array(ICMP6_ERROR_MAX + 64);
  readonly #pending = new Map<UdpFlow, MmsgDatagram[]>();
  readonly #again = new Set<() => void>();
  #againScheduled = false;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #nsWaiters = new Map<number, (msg: Msg, fds: number[]) => void>();
  readonly #loop: LoopbackPath;
  #nextNsId = 1;
  #scanning = false;

  constructor(env: ActorEnv) {
    this.#env = env;
    this.#writer = new TapWriter(env.counters);
    const { cli, net } = env.config;
    this.#disabled = cli.disabled.udp;
    this.#eth.src = parseMac(net.ourMac) ?? this.#eth.src;
    this.#guest4 = net.addr4 !== undefined ? parseIpv4(net.addr4) : null;
    this.#guest6 = net.addr6 !== undefined ? parseIpv6(net.addr6) : null;
    this.#families = [...(this.#guest4 ? [4 as const] : []), ...(this.#guest6 ? [6 as const] : [])];
    this.#map = makeAddressMap({ ...net, mapGw: !cli.disabled.mapGw, dns: this.#dnsPlan(), hostOwn: hostAddresses(env) });
    this.#plan = { kind: 'none' };
    this.#startTimers();
    if (!this.#disabled) this.#forwardIs(udpForwardPlan(cli.forward));
    this.#loop = new LoopbackPath({
      env,
      hostListenerFd: (handle, gen) => this.#listenerFdOf(handle, gen),
      hostListenerPorts: () => new Set([...this.#listenerByKey.values()].map((l) => l.spec.port)),
      nsRequest: (req, reply) => this.#nsRequest(req, reply),
      later: (fn) => this.#later(fn),
    });
  }

  // --- messages --------------------------------------------------------------------------------

  onMessage(_from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'adopt-tap-writer' && fds[0] !== undefined) return this.#writer.adopt(fds[0]);
    if (msg.t === 'ns-reply') return this.#onNsReply(msg, fds);
    if (msg.t === 'set-forward' && _from === 'router') return this.#setForward(msg.forward as ForwardConfig);
    for (const fd of fds) native.close(fd, true);
    switch (msg.t) {
      case 'frames':
        return this.#onFrames(msg.buf as Uint8Array, msg.lens as number[]);
      case 'guest-mac':
        return this.#setGuestMac(String(msg.mac));
      case 'guest-addr': {
        // the tap actor's view (any frame); this actor also learns from its own datagrams
        const { v4, v6 } = guestAddrOf(msg);
        if (v4) this.#guest4 = v4;
        if (v6) this.#guest6 = v6;
        return;
      }
      default:
        return;
    }
  }

  onReady(proto: number, aux: number, handle: number, events: number): void {
    if (proto === Proto.Udp) return this.#onFlowReady(handle, aux, events);
    if (proto === Proto.UdpListen) return this.#onListenerReady(handle, aux);
    if (proto === Proto.UdpSplice) return this.#loop.onReady(aux, handle, events);
    this.#env.counters.add('drop:unknown-ready');
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    clearInterval(this.#scanTimer);
    this.#loop.stop();
    for (const f of this.#flows.all()) this.#closeFlow(f);
    for (const l of this.#listeners) if (l) this.#closeListener(l);
    this.#writer.close();
  }

  // --- configuration ---------------------------------------------------------------------------

  #setForward(fwd: ForwardConfig): void {
    if (this.#disabled) return;
    this.#forwardIs(udpForwardPlan(fwd));
    this.#loop.forwardIs(fwd);
  }

  #dnsPlan(): DnsPlan {
    const { cli, net } = this.#env.config;
    const plan = planDns({
      dnsForward4: cli.ip4.dnsForward, dnsForward6: cli.ip6.dnsForward, gw4: net.gw4 ?? null, gw6: net.gw6 ?? null,
      mapGw: !cli.disabled.mapGw, nameservers: readResolvConf().nameservers,
    });
    if (cli.ip4.dnsForward !== null && !plan.v4) this.#env.log.warn('--dns-forward: the host has no IPv4 resolver');
    if (cli.ip6.dnsForward !== null && !plan.v6) this.#env.log.warn('--dns-forward: the host has no IPv6 resolver');
    this.#env.log.debug(`DNS redirects: ${JSON.stringify({ v4: plan.v4, v6: plan.v6 })}`);
    return plan;
  }

  #startTimers(): void {
    const t = this.#flows.timeouts;
    const sweepMs = Math.max(50, Math.min(1000, Math.floor(t.oneWayMs / 4)));
    this.#timers.push(setInterval(() => this.#expire(), sweepMs));
  }

  /**
   * -u as it stands now (the command line's, or the control socket's `forward`; following -t when -u
   * was never given): listeners opened and closed to match, auto scanning started or stopped.
   */
  #forwardIs(plan: UdpForwardPlan): void {
    this.#plan = plan;
    if (plan.kind !== 'auto' && this.#scanTimer) {
      clearInterval(this.#scanTimer);
      this.#scanTimer = undefined;
    }
    if (plan.kind === 'static') this.#reconcileListeners(staticListeners(plan, this.#families));
    if (plan.kind === 'none') this.#reconcileListeners([]);
    if (plan.kind !== 'auto') return;
    this.#scan();
    this.#scanTimer ??= setInterval(() => this.#scan(), SCAN_MS);
  }

  // --- guest to host ---------------------------------------------------------------------------

  #onFrames(buf: Uint8Array, lens: number[]): void {
    const c = this.#env.counters;
    c.add('frames-in', lens.length);
    if (this.#disabled) return c.add('drop:udp-disabled', lens.length);
    const now = Date.now();
    let off = 0;
    for (const len of lens) {
      this.#fromGuest(buf, off, len, now);
      off += len;
    }
    for (const [flow, dgrams] of this.#pending) this.#sendToHost(flow, dgrams);
    this.#pending.clear();
  }

  #fromGuest(b: Uint8Array, off: number, len: number, now: number): void {
    const fc = this.#fc;
    const reason = this.#checkFrame(b, off, len);
    if (reason) return this.#env.counters.add(`drop:${reason}`);
    const family: Family = fc.kind === FrameKind.Ipv4 ? 4 : 6;
    this.#learnGuest(b, off, family);
    const key = flowKey(family, b, fc.srcAddrOff, fc.srcPort, b, fc.dstAddrOff, fc.dstPort);
    const flow = this.#flows.find(key) ?? this.#openOutbound(key, family, b, now);
    if (!flow) return;
    this.#flows.touch(flow, 'guest', now);
    let list = this.#pending.get(flow);
    if (!list) this.#pending.set(flow, (list = []));
    list.push(this.#datagramFor(flow, b.subarray(fc.payloadOff, fc.payloadOff + fc.payloadLen)));
  }

  /** Why a frame from the tap is not a UDP datagram we can forward, or null if it is. */
  #checkFrame(b: Uint8Array, off: number, len: number): string | null {
    const fc = this.#fc;
    if (this.#classifier.classify(b, off, len, fc) !== Verdict.Ok) return 'bad-frame';
    if (fc.l4 !== L4Kind.Udp) return 'not-udp';
    if (fc.fragment) return 'fragment';
    if (fc.srcPort === 0 || fc.dstPort === 0) return 'port-zero';
    return null;
  }

  /** The guest's MAC and address, from the source of what it sends. */
  #learnGuest(b: Uint8Array, off: number, family: Family): void {
    if (!isMacMulticast(b, off + 6)) this.#eth.dst.set(b.subarray(off + 6, off + 12));
    const fc = this.#fc;
    if (family === 4 && fc.src4 !== 0) this.#guest4 = copyBytes(b, fc.srcAddrOff, 4, this.#guest4);
    if (family === 6 && !isIpv6Unspecified(b, fc.srcAddrOff) && !isIpv6LinkLocal(b, fc.srcAddrOff)) {
      this.#guest6 = copyBytes(b, fc.srcAddrOff, 16, this.#guest6);
    }
  }

  #setGuestMac(text: string): void {
    const mac = parseMac(text);
    if (mac) this.#eth.dst.set(mac);
  }

  #datagramFor(flow: UdpFlow, data: Uint8Array): MmsgDatagram {
    flow.data.lastLen = data.length;
    return flow.data.fd >= 0 ? { data, addr: '', port: 0 } : { data, addr: flow.data.peerAddr, port: flow.data.peerPort };
  }

  /** A new flow for a guest datagram that matched none: its socket, registered in epoll. */
  #openOutbound(key: string, family: Family, b: Uint8Array, now: number): UdpFlow | null {
    const fc = this.#fc, c = this.#env.counters;
    const target = outboundTarget(this.#map, family, b, fc.dstAddrOff, fc.dstPort);
    if (typeof target === 'string') return this.#dropped(target);
    if (this.#flows.size >= this.#flows.max) return this.#dropped('flow-table-full');
    let fd: number;
    try {
      fd = openFlowSocket({ family, port: fc.srcPort, addr: target.addr, dstPort: target.port, ...this.#outbound(family, target.addr) });
    } catch (e) {
      this.#refuse(family, b, errCode(e));
      return this.#dropped(`socket-${errCode(e)}`);
    }
    const len = family === 4 ? 4 : 16;
    const data: FlowData = {
      family, guest: b.slice(fc.srcAddrOff, fc.srcAddrOff + len), guestPort: fc.srcPort,
      remote: b.slice(fc.dstAddrOff, fc.dstAddrOff + len), remotePort: fc.dstPort,
      fd, listener: -1, listenerGen: 0, peerAddr: target.addr, peerPort: target.port, lastLen: 0,
    };
    const flow = this.#flows.add(key, data, 'guest', now)!;
    this.#env.epollAdd(fd, Proto.Udp, flow.gen, flow.handle, C.EPOLLIN | C.EPOLLET);
    c.add('flows-opened');
    c.add(`flows-${target.via}`);
    if (this.#env.log.enabled('trace')) this.#env.log.trace(`flow ${flow.handle}: guest port ${fc.srcPort} -> ${target.addr} ${target.port}`);
    return flow;
  }

  /** Counts a datagram dropped for `reason`; null, for the callers that return no flow. */
  #dropped(reason: string): null {
    this.#env.counters.add(`drop:${reason}`);
    return null;
  }

  /** -o and --outbound-if* for a flow to `addr` (not for the host's loopback, which they would break). */
  #outbound(family: Family, addr: string): { bindAddr: string; bindIf: string | null } {
    const ip = family === 4 ? this.#env.config.cli.ip4 : this.#env.config.cli.ip6;
    if (isLoopbackAddress(addr)) return { bindAddr: '', bindIf: null };
    return { bindAddr: ip.outbound ?? '', bindIf: ip.outboundIf };
  }

  #sendToHost(flow: UdpFlow, dgrams: MmsgDatagram[]): void {
    const fd = flow.data.fd >= 0 ? flow.data.fd : this.#listenerFd(flow);
    const c = this.#env.counters;
    if (fd < 0) return c.add('drop:listener-gone', dgrams.length);
    let sent = 0;
    while (sent < dgrams.length) {
      const n = this.#sendSome(flow, fd, sent === 0 ? dgrams : dgrams.slice(sent));
      if (n < 0) break;
      sent += n;
    }
    c.add('dgrams-out', sent);
    if (sent < dgrams.length) c.add('drop:send-eagain', dgrams.length - sent);
  }

  /** One sendmmsg: datagrams sent, -1 when the socket is full (EAGAIN). A failed datagram counts as done. */
  #sendSome(flow: UdpFlow, fd: number, dgrams: MmsgDatagram[]): number {
    try {
      const n = native.sendmmsg(fd, dgrams);
      return n > 0 ? n : -1;
    } catch (e) {
      this.#env.counters.add(`drop:send-${errCode(e)}`);
      if (flow.data.fd >= 0) this.#drainErrors(flow);
      return 1;
    }
  }

  /** A guest datagram whose socket could not be opened: the matching ICMP error, quoting it from the frame. */
  #refuse(family: Family, b: Uint8Array, code: string): void {
    const msg = icmpForConnectError(family, code), fc = this.#fc, len = family === 4 ? 4 : 16;
    if (!msg) return;
    const n = buildUdpIcmpError(this.#icmpBuf, 0, this.#eth, msg, {
      family, guest: b.subarray(fc.srcAddrOff, fc.srcAddrOff + len), guestPort: fc.srcPort,
      remote: b.subarray(fc.dstAddrOff, fc.dstAddrOff + len), remotePort: fc.dstPort,
      src: b, off: fc.payloadOff, len: fc.payloadLen, fullLen: fc.payloadLen,
    }, native.csumPartial);
    if (this.#writer.write(this.#icmpBuf, 0, n)) this.#env.counters.add('icmp-errors-out');
  }

  // --- host to guest ---------------------------------------------------------------------------

  #onFlowReady(handle: number, gen: number, events: number): void {
    const flow = this.#flows.get(handle, gen);
    if (!flow || flow.data.fd < 0) return this.#env.counters.add('stale-ready');
    if (events & C.EPOLLERR) this.#drainErrors(flow);
    if (events & C.EPOLLIN) this.#readFlow(flow);
  }

  /** Reads a flow socket until EAGAIN or the budget; each datagram becomes a frame to the guest. */
  #readFlow(flow: UdpFlow): void {
    const d = flow.data;
    for (let round = 0; round < READ_BUDGET; round++) {
      if (this.#flows.get(flow.handle, flow.gen) !== flow) return;
      const got = this.#recv(d.fd, d.family, () => this.#drainErrors(flow));
      if (got === null) continue; // a pending socket error, now reported: data may follow it
      if (got.length > 0) this.#flows.touch(flow, 'host', Date.now());
      for (let i = 0; i < got.length; i++) this.#toGuest(i, d, got[i]!.len);
      if (got.length < RX_SLOTS) return;
    }
    this.#later(() => this.#readFlow(flow));
  }

  /** recvmmsg into the frame slots of `family`; [] on EAGAIN, null on an error (counted, then `onError`). */
  #recv(fd: number, family: Family, onError: () => void): { len: number; addr: string; port: number }[] | null {
    try {
      return native.recvmmsg(fd, family === 4 ? this.#rx4 : this.#rx6, SLOT, RX_SLOTS);
    } catch (e) {
      this.#env.counters.add(`recv-error:${errCode(e)}`);
      onError();
      return null;
    }
  }

  /** Writes headers around the payload in slot i and the frame to the tap. */
  #toGuest(i: number, d: FlowData, len: number): void {
    const off = i * SLOT;
    const frameLen = d.family === 4
      ? buildUdp4(this.#rx, off, this.#eth, { src: ipv4ToU32(d.remote), dst: ipv4ToU32(d.guest), ttl: 255 }, d.remotePort, d.guestPort, len, native.csumPartial)
      : buildUdp6(this.#rx, off, this.#eth, { src: d.remote, dst: d.guest, hopLimit: 255 }, d.remotePort, d.guestPort, len, native.csumPartial);
    this.#writer.write(this.#rx, off, frameLen);
    this.#env.counters.add('dgrams-in');
  }

  /** Continues reading some socket at the next turn of the event loop (edge-triggered: nobody else will). */
  #later(fn: () => void): void {
    this.#again.add(fn);
    if (this.#againScheduled) return;
    this.#againScheduled = true;
    setImmediate(() => {
      this.#againScheduled = false;
      const jobs = [...this.#again];
      this.#again.clear();
      for (const job of jobs) job();
    });
  }

  // --- ICMP errors -----------------------------------------------------------------------------

  /** Reads the flow socket's error queue; each error becomes an ICMP error to the guest if it maps to one. */
  #drainErrors(flow: UdpFlow): void {
    for (let i = 0; i < ERRORS_PER_WAKE; i++) {
      let e: SockErr | null;
      try {
        e = native.recvErr(flow.data.fd, this.#errBuf, 0, this.#errBuf.length);
      } catch (err) {
        return this.#env.counters.add(`recv-error:${errCode(err)}`);
      }
      if (!e) return;
      this.#env.counters.add(`host-error:${e.origin}/${e.type}/${e.code}`);
      this.#icmpToGuest(flow, e);
    }
  }

  #icmpToGuest(flow: UdpFlow, e: SockErr): void {
    const d = flow.data;
    const msg = icmpForSockErr(d.family, e);
    if (!msg) return this.#env.counters.add('drop:host-error-unmapped');
    const n = buildUdpIcmpError(this.#icmpBuf, 0, this.#eth, msg, {
      family: d.family, guest: d.guest, guestPort: d.guestPort, remote: d.remote, remotePort: d.remotePort,
      src: this.#errBuf, off: 0, len: e.bytes, fullLen: Math.max(e.bytes, d.lastLen),
    }, native.csumPartial);
    if (this.#writer.write(this.#icmpBuf, 0, n)) this.#env.counters.add('icmp-errors-out');
  }

  // --- listeners (-u) --------------------------------------------------------------------------

  #onListenerReady(handle: number, gen: number): void {
    const l = this.#listeners[handle];
    if (!l || l.gen !== gen) return this.#env.counters.add('stale-ready');
    this.#readListener(l);
  }

  #readListener(l: Listener): void {
    for (let round = 0; round < READ_BUDGET; round++) {
      if (this.#listeners[l.handle] !== l) return;
      const got = this.#recv(l.fd, l.spec.family, () => {});
      if (got === null) continue;
      const now = Date.now();
      for (let i = 0; i < got.length; i++) this.#fromListener(l, i, got[i]!, now);
      this.#loop.flush();
      if (got.length < RX_SLOTS) return;
    }
    this.#later(() => this.#readListener(l));
  }

  /** A datagram on a listener: a loopback sender's takes the loopback path, any other goes to the guest. */
  #fromListener(l: Listener, i: number, dg: { len: number; addr: string; port: number }, now: number): void {
    if (!this.#loop.takes(dg.addr)) return this.#inbound(l, i, dg, now);
    const rx = l.spec.family === 4 ? this.#rx4 : this.#rx6;
    const h = { handle: l.handle, gen: l.gen, family: l.spec.family, target: l.spec.target };
    this.#loop.fromHostListener(h, rx.subarray(i * SLOT, i * SLOT + dg.len), dg.addr, dg.port, now);
  }

  /** A datagram from a host peer on a listener: through its inbound flow (opened if new) to the guest. */
  #inbound(l: Listener, i: number, dg: { len: number; addr: string; port: number }, now: number): void {
    const family = l.spec.family, c = this.#env.counters;
    const guest = family === 4 ? this.#guest4 : this.#guest6;
    const remote = guestViewOfPeer(this.#map, family, dg.addr);
    if (!guest) return c.add('drop:no-guest-address');
    if (!remote) return c.add('drop:unmappable-peer');
    const key = flowKey(family, guest, 0, l.spec.target, remote, 0, dg.port);
    const flow = this.#flows.find(key) ?? this.#openInbound(key, l, guest, remote, dg, now);
    if (!flow) return;
    if (flow.data.fd < 0) setPeer(flow.data, l, dg);
    this.#flows.touch(flow, 'host', now);
    this.#toGuest(i, flow.data, dg.len);
  }

  #openInbound(key: string, l: Listener, guest: Uint8Array, remote: Uint8Array, dg: { addr: string; port: number }, now: number): UdpFlow | null {
    const data: FlowData = {
      family: l.spec.family, guest: guest.slice(), guestPort: l.spec.target, remote: remote.slice(), remotePort: dg.port,
      fd: -1, listener: l.handle, listenerGen: l.gen, peerAddr: dg.addr, peerPort: dg.port, lastLen: 0,
    };
    const flow = this.#flows.add(key, data, 'host', now);
    if (!flow) return this.#dropped('flow-table-full');
    this.#env.counters.add('flows-inbound');
    return flow;
  }

  #listenerFd(flow: UdpFlow): number {
    return this.#listenerFdOf(flow.data.listener, flow.data.listenerGen);
  }

  #listenerFdOf(handle: number, gen: number): number {
    const l = this.#listeners[handle];
    return l && l.gen === gen ? l.fd : -1;
  }

  /** Opens the wanted listeners that are not open, closes the open ones no longer wanted. */
  #reconcileListeners(wanted: ListenSpec[]): void {
    const keys = new Set(wanted.map(listenKey));
    for (const l of [...this.#listenerByKey.values()]) if (!keys.has(l.key)) this.#closeListener(l);
    for (const s of wanted) if (!this.#listenerByKey.has(listenKey(s))) this.#addListener(s);
  }

  #addListener(spec: ListenSpec): void {
    const key = listenKey(spec);
    let fd: number;
    try {
      fd = openListener(spec);
    } catch (e) {
      if (!this.#failedListens.has(key)) this.#env.log.debug(`-u: cannot listen on ${key}: ${errCode(e)}`);
      this.#failedListens.add(key);
      return this.#env.counters.add(`listen-failed:${errCode(e)}`);
    }
    this.#failedListens.delete(key);
    const handle = this.#listeners.indexOf(null) >= 0 ? this.#listeners.indexOf(null) : this.#listeners.length;
    const gen = ((this.#listenerGens[handle] ?? 0) + 1) & 0xffffff;
    this.#listenerGens[handle] = gen;
    const l: Listener = { handle, gen, fd, spec, key };
    this.#listeners[handle] = l;
    this.#listenerByKey.set(key, l);
    this.#env.epollAdd(fd, Proto.UdpListen, gen, handle, C.EPOLLIN | C.EPOLLET);
    this.#env.counters.add('listeners-opened');
  }

  #closeListener(l: Listener): void {
    this.#env.epollDel(Proto.UdpListen, l.gen, l.handle);
    native.close(l.fd, true);
    this.#listeners[l.handle] = null;
    this.#listenerByKey.delete(l.key);
  }

  // --- -u auto: the namespace's bound ports ----------------------------------------------------

  #scan(): void {
    if (this.#scanning || this.#plan.kind !== 'auto') return;
    this.#scanning = true;
    const followTcp = this.#plan.followTcp;
    const paths = [...PROC_FILES.udp, ...(followTcp ? PROC_FILES.tcp : [])];
    void Promise.all(paths.map((p) => this.#readNsFile(p))).then((texts) => {
      this.#scanning = false;
      if (this.#plan.kind !== 'auto' || this.#plan.followTcp !== followTcp) return; // changed meanwhile
      const udp = texts.slice(0, 2), tcp = texts.slice(2);
      this.#reconcileListeners(autoListeners(autoPorts({ udp, tcp }, followTcp), this.#families));
    });
  }

  /** A file's text as the namespace helper reads it inside the namespace ('' if it cannot). */
  #readNsFile(path: string): Promise<string> {
    return new Promise((resolve) => {
      this.#nsRequest({ t: 'read-file', path }, (msg) => {
        const reply = msg.msg as { data?: unknown } | undefined;
        resolve(msg.error === undefined && typeof reply?.data === 'string' ? reply.data : '');
      });
    });
  }

  /** A request to the namespace helper (through the router); `reply` gets the answer and its fds. */
  #nsRequest(req: Record<string, unknown>, reply: (msg: Msg, fds: number[]) => void): void {
    const id = this.#nextNsId++;
    this.#nsWaiters.set(id, reply);
    this.#env.toRouter({ t: 'ns', id, req });
  }

  /** An answer from the namespace helper; fds nobody waits for are closed. */
  #onNsReply(msg: Msg, fds: number[]): void {
    const id = Number(msg.id);
    const waiter = this.#nsWaiters.get(id);
    this.#nsWaiters.delete(id);
    if (waiter) return waiter(msg, fds);
    for (const fd of fds) native.close(fd, true);
  }

  flows(max: number): FlowInfo[] {
    const now = Date.now();
    const out: FlowInfo[] = [];
    for (const f of this.#flows.all()) {
      if (out.length >= max) return out;
      const d = f.data;
      out.push({
        proto: 'udp', dir: d.fd >= 0 ? 'out' : 'in', path: 'tap',
        guest: endpoint(formatIp(d.guest), d.guestPort), remote: endpoint(formatIp(d.remote), d.remotePort),
        state: udpFlowState(f), idleMs: now - f.lastMs, expiresInMs: Math.max(0, this.#flows.deadline(f) - now),
      });
    }
    return out.concat(this.#loop.flows(max - out.length, now));
  }

  // --- expiry ----------------------------------------------------------------------------------

  #expire(): void {
    const expired = this.#flows.expired(Date.now());
    for (const f of expired) this.#closeFlow(f);
    if (expired.length > 0) this.#env.counters.add('flows-expired', expired.length);
  }

  /** epoll-del first (the router's duplicate would keep the registration alive), then close. */
  #closeFlow(f: UdpFlow): void {
    if (f.data.fd >= 0) {
      this.#env.epollDel(Proto.Udp, f.gen, f.handle);
      native.close(f.data.fd, true);
      f.data.fd = -1;
    }
    this.#flows.remove(f);
  }
}

/** An inbound flow follows its latest sender (two host peers the guest sees as one, e.g. the gateway). */
function setPeer(d: FlowData, l: Listener, dg: { addr: string; port: number }): void {
  d.listener = l.handle;
  d.listenerGen = l.gen;
  d.peerAddr = dg.addr;
  d.peerPort = dg.port;
}

function readResolvConf(): ReturnType<typeof parseResolvConf> {
  try {
    return parseResolvConf(readFileSync(RESOLV_CONF, 'utf8'));
  } catch {
    return { nameservers: [], search: [] };
  }
}

/** The host's own addresses, as the -u path compares peers with them. */
function hostAddresses(env: ActorEnv): string[] {
  const h = env.config.host, n = env.config.net;
  const all = [h.ipv4?.addr, h.ipv6?.addr, h.ipv6?.linkLocal, n.addr4, n.addr6];
  return all.filter((a): a is string => typeof a === 'string');
}

/** Copies len bytes of b at off into `into` (reused when it has the right size). */
function copyBytes(b: Uint8Array, off: number, len: number, into: Uint8Array | null): Uint8Array {
  const out = into && into.length === len ? into : new Uint8Array(len);
  out.set(b.subarray(off, off + len));
  return out;
}

function errCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'error';
}

export function createActor(env: ActorEnv): Actor {
  return new UdpActor(env);
}
