/**
 * The tcp actor: TCP translation on the tap path, both directions, IPv4 and IPv6.
 *
 * Theory of operation (as passt: no TCP stack here, the host kernel does the real TCP)
 * - Guest segments arrive from the tap actor in batches (`frames`). Each is classified, matched to a
 *   flow by its 4-tuple (flow-table.ts) and handed to the pure state machine (state.ts); once the batch
 *   is done every flow it touched is flushed once (one ACK per flow per batch, data sent within the
 *   window). A SYN of no flow opens an outbound flow: a non-blocking socket connect()s to the mapped
 *   destination (addresses.ts: the gateway is the host's loopback, DNS redirects, -o/--outbound-if
 *   binding); the guest gets its SYN-ACK when connect() completes (EPOLLOUT + SO_ERROR), a RST when it
 *   fails. Any other segment of no flow gets a RST.
 * - Inbound (`-t`): listeners on the host (listen.ts; `auto` follows the namespace's listening ports,
 *   read through the namespace helper every second). An accepted connection becomes a SYN to the
 *   guest's address on the target port; a peer on the host's loopback appears as the gateway.
 * - Flow sockets are registered edge-triggered for EPOLLIN|EPOLLOUT|EPOLLRDHUP with the reference
 *   (Proto.Tcp, aux = slot generation, handle = slot index); stale readiness (a reused slot) is ignored.
 *   Listeners are (Proto.TcpListen, 0, listener id). Host-side I/O goes through kernel-io.ts; frames to
 *   the guest are written with this actor's own tap writer.
 * - Timers are data in each flow (`deadline`); one interval sweeps the table every TICK_MS.
 * - Owns: every flow socket and listener (the router holds duplicates: `epollDel` before each close),
 *   its tap writer. On a crash the router closes its duplicates; in process mode (`--actors`) the kernel
 *   closes the rest, so host peers see their connections end, and the restarted actor, with an empty
 *   table, answers the guest's next segment on each old connection with a RST.
 */
import { readFileSync } from 'node:fs';
import type { ForwardConfig } from '../../config/config.js';
import type { PortForward } from '../../config/portspec.js';
import { performance } from 'node:perf_hooks';
import { constants as C, native } from '../../native/index.js';
import { FrameClass, FrameClassifier, FrameKind, L4Kind, Verdict, VerdictName } from '../../protocol/classify.js';
import { dataViewOf, parseMac } from '../../protocol/eth.js';
import { TcpFlag, TcpOptions, TcpView, parseTcpOptions } from '../../protocol/tcp.js';
import { parseResolvConf, RESOLV_CONF } from '../../ns/resolv.js';
import type { Actor, ActorEnv, FlowInfo, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { Proto } from '../../runtime/epoll-ref.js';
import { TapWriter } from '../common/tap-writer.js';
import { guestSourceFor, outboundTarget, planAddresses, type OutboundTarget, type TcpAddrPlan } from './addresses.js';
import { FlowTable, flowKey } from './flow-table.js';
import { KernelIo, enablePeekOffset, errnoOf } from './kernel-io.js';
import { autoListeners, diffListeners, listenKey, listeningPorts, staticListeners, type Families, type ListenSpec } from './listen.js';
import { SegmentWriter } from './segment.js';
import { guestAddrOf } from '../tap/guest-addr.js';
import { Coalescer } from './coalesce.js';
import { isLoopbackPeer, spliceEnabled } from '../splice/state.js';
import {
  FlowState, connected, flowInfo, flush, initOutbound, newFlow, onSegment, onSocketEvents, onTimer, openInbound, resetFor,
  type FlowAddr, type SegmentIn, type TcpFlow,
} from './state.js';

const TICK_MS = 50;
const MAX_SETTABLE_MSS = 32767;
const AUTO_SCAN_MS = 1000;
const LISTEN_BACKLOG = 1024;
const FLOW_EVENTS = (C.EPOLLIN | C.EPOLLOUT | C.EPOLLRDHUP | C.EPOLLET) >>> 0;
const LISTEN_EVENTS = (C.EPOLLIN | C.EPOLLET) >>> 0;
const PROC_FILES = ['/proc/net/tcp', '/proc/net/tcp6'];

interface Listener {
  id: number;
  fd: number;
  spec: ListenSpec;
  auto: boolean;
}

const randomIsn = (): number => (Math.random() * 0x100000000) >>> 0;

function readNameservers(): string[] {
  try {
    return parseResolvConf(readFileSync(RESOLV_CONF, 'utf8')).nameservers;
  } catch {
    return [];
  }
}

class TcpActor implements Actor {
  readonly #env: ActorEnv;
  readonly #tap: TapWriter;
  readonly #w: SegmentWriter;
  readonly #io: KernelIo;
  readonly #table = new FlowTable<TcpFlow>();
  readonly #plan: TcpAddrPlan;
  readonly #fam: Families;
  readonly #mss: { 4: number; 6: number };
  readonly #classifier = new FrameClassifier();
  readonly #fc = new FrameClass();
  readonly #view = new TcpView();
  readonly #opts = new TcpOptions();
  readonly #seg: SegmentIn = { flags: 0, seq: 0, ack: 0, window: 0, buf: new Uint8Array(0), payOff: 0, payLen: 0, mss: 0, wscale: -1 };
  readonly #touched = new Set<TcpFlow>();
  /** consecutive data segments of one flow within a batch, merged (coalesce.ts) */
  readonly #run = new Coalescer<TcpFlow>();
  readonly #listeners = new Map<string, Listener>();
  readonly #listenersById = new Map<number, Listener>();
  readonly #autoFailed = new Set<string>();
  readonly #nsWaiters = new Map<number, (data: string | null) => void>();
  /** -t auto's scan of the namespace's listening ports, while -t is auto */
  #autoTimer: NodeJS.Timeout | undefined;
  /** the flow timer sweep, running only while there are flows */
  #ticker: NodeJS.Timeout | undefined;
  #nextId = 1;
  #scanning = false;
  /** loopback peers of -t listeners go to the splice actor (pasta, unless --no-splice) */
  readonly #splice: boolean;

  constructor(env: ActorEnv) {
    this.#env = env;
    const { cli, net } = env.config;
    this.#tap = new TapWriter(env.counters);
    this.#w = new SegmentWriter(parseMac(net.ourMac) ?? new Uint8Array(6), native.csumPartial);
    this.#io = new KernelIo(this.#w, this.#tap, env.counters, {
      watch: (f) => env.epollMod(Proto.Tcp, f.gen, f.index, FLOW_EVENTS),
      close: (f, reset) => this.#release(f, reset),
    });
    this.#plan = planAddresses(env.config, readNameservers());
    this.#fam = { v4: cli.ipOnly !== 'ipv6' && this.#plan.guest4 !== null, v6: cli.ipOnly !== 'ipv4' && this.#plan.guest6 !== null };
    this.#mss = { 4: Math.min(0xffff, net.mtu - 40), 6: Math.min(0xffff, net.mtu - 60) };
    this.#splice = spliceEnabled(env.config.mode, env.config.cli.disabled.splice);
    if (cli.disabled.tcp) return;
    this.#forwardIs(cli.forward.tcpIn);
  }

  /**
   * -t as it stands now (the command line's, or the control socket's `forward`): the static listeners
   * wanted and not open are opened, the others closed (connections they accepted stay); auto scanning
   * starts or stops (stopping closes the listeners it opened).
   */
  #forwardIs(fwd: PortForward): void {
    const open = [...this.#listeners.values()].filter((l) => !l.auto).map((l) => listenKey(l.spec));
    const { add, remove } = diffListeners(open, staticListeners(fwd, this.#fam));
    for (const key of remove) this.#closeListener(key);
    for (const spec of add) this.#openListener(spec, false);
    const auto = fwd.mode === 'auto' && this.#env.config.mode === 'pasta';
    if (auto && !this.#autoTimer) this.#startAutoScan();
    if (!auto && this.#autoTimer) {
      clearInterval(this.#autoTimer);
      this.#autoTimer = undefined;
      this.#applyAuto([]);
    }
    this.#announcePorts();
  }

  onMessage(from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'adopt-tap-writer' && fds[0] !== undefined) return this.#tap.adopt(fds[0]);
    for (const fd of fds) native.close(fd, true);
    switch (msg.t) {
      case 'frames':
        return this.#frames(msg.buf as Uint8Array, msg.lens as number[]);
      case 'guest-mac': {
        const mac = parseMac(String(msg.mac));
        if (mac) this.#w.setGuestMac(mac);
        return;
      }
      case 'ns-reply':
        return this.#nsReply(msg);
      case 'link-up':
        if (from === 'splice') this.#announcePorts();
        return;
      case 'guest-addr':
        return this.#guestAddressIs(msg);
      case 'set-forward':
        if (from === 'router' && !this.#env.config.cli.disabled.tcp) this.#forwardIs((msg.forward as ForwardConfig).tcpIn);
        return;
      default:
        void from;
    }
  }

  onReady(proto: number, aux: number, handle: number, events: number): void {
    if (proto === Proto.TcpListen) return this.#accept(handle);
    if (proto !== Proto.Tcp) return;
    const f = this.#table.get(handle, aux);
    if (!f) return this.#env.counters.add('stale-event');
    onSocketEvents(f, {
      readable: (events & C.EPOLLIN) !== 0,
      writable: (events & C.EPOLLOUT) !== 0,
      error: (events & C.EPOLLERR) !== 0,
      hangup: (events & C.EPOLLHUP) !== 0,
    }, this.#io, performance.now());
  }

  flows(max: number): FlowInfo[] {
    const out: FlowInfo[] = [];
    const now = performance.now();
    this.#table.forEach((f) => void (out.length < max && out.push(flowInfo(f, now))));
    return out;
  }

  stop(): void {
    clearInterval(this.#autoTimer);
    clearInterval(this.#ticker);
    this.#table.forEach((f) => this.#release(f, false));
    for (const l of this.#listeners.values()) native.close(l.fd, true);
    this.#listeners.clear();
    this.#tap.close();
  }

  // --- guest segments --------------------------------------------------------------------------

  #frames(buf: Uint8Array, lens: number[]): void {
    const c = this.#env.counters;
    c.add('frames-in', lens.length);
    if (this.#env.config.cli.disabled.tcp) return c.add('drop:tcp-disabled', lens.length);
    const now = performance.now();
    const dv = dataViewOf(buf);
    let off = 0;
    for (const len of lens) {
      this.#frame(buf, dv, off, len, now);
      off += len;
    }
    this.#endRun(now);
    for (const f of this.#touched) if (f.state !== FlowState.Closed) flush(f, this.#io, now);
    this.#touched.clear();
  }

  #frame(buf: Uint8Array, dv: DataView, off: number, len: number, now: number): void {
    const fc = this.#fc;
    const v = this.#classifier.classify(buf, off, len, fc);
    if (v !== Verdict.Ok) return this.#env.counters.add(`drop:${VerdictName[v] ?? v}`);
    if (fc.l4 !== L4Kind.Tcp) return this.#env.counters.add('drop:not-tcp');
    if (fc.fragment) return this.#env.counters.add('drop:fragment');
    if (!this.#w.guestMacKnown) this.#w.setGuestMac(buf, off + 6);
    const s = this.#parseSegment(buf, dv);
    const family = fc.kind === FrameKind.Ipv4 ? 4 : 6;
    const key = flowKey(family, buf, fc.srcAddrOff, fc.srcPort, buf, fc.dstAddrOff, fc.dstPort);
    const f = this.#table.lookup(key);
    if (f && f.state === FlowState.Established && Coalescer.mergeable(s)) {
      if (this.#run.add(f, s)) return;
      this.#endRun(now);
      this.#run.add(f, s); // starts the next run
      return;
    }
    this.#endRun(now);
    if (!f) return this.#noFlow(family, key, buf, s, now);
    onSegment(f, s, this.#io, now);
    this.#touched.add(f);
  }

  /** Hands the merged run of data segments (if any) to its flow. */
  #endRun(now: number): void {
    const merged = this.#run.count;
    const r = this.#run.take();
    if (!r) return;
    if (merged > 1) this.#env.counters.add('segments-merged', merged - 1);
    onSegment(r.flow, r.seg, this.#io, now);
    this.#touched.add(r.flow);
  }

  #parseSegment(buf: Uint8Array, dv: DataView): SegmentIn {
    const fc = this.#fc, v = this.#view, s = this.#seg;
    v.wrap(dv, fc.l4Off, fc.l4Len);
    s.flags = v.flags;
    s.seq = v.seqNumber;
    s.ack = v.ackNumber;
    s.window = v.window;
    s.buf = buf;
    s.payOff = fc.payloadOff;
    s.payLen = fc.payloadLen;
    s.mss = 0;
    s.wscale = -1;
    if (s.flags & TcpFlag.Syn) {
      parseTcpOptions(v, this.#opts);
      s.mss = this.#opts.mss;
      s.wscale = this.#opts.wscale;
    }
    return s;
  }

  /** The flow's addresses as the guest sees them, copied out of the frame. */
  #addrOfFrame(family: 4 | 6, buf: Uint8Array): FlowAddr {
    const fc = this.#fc, n = family === 4 ? 4 : 16;
    return {
      family,
      guest: buf.slice(fc.srcAddrOff, fc.srcAddrOff + n),
      guestPort: fc.srcPort,
      remote: buf.slice(fc.dstAddrOff, fc.dstAddrOff + n),
      remotePort: fc.dstPort,
    };
  }

  #noFlow(family: 4 | 6, key: string, buf: Uint8Array, s: SegmentIn, now: number): void {
    if ((s.flags & (TcpFlag.Syn | TcpFlag.Ack | TcpFlag.Rst)) === TcpFlag.Syn) return this.#openOutbound(family, key, buf, s, now);
    this.#env.counters.add('no-flow');
    this.#resetUnknown(this.#addrOfFrame(family, buf), s);
  }

  /** Answers a segment of no flow (or a SYN we cannot serve) with a RST. */
  #resetUnknown(a: FlowAddr, s: SegmentIn): void {
    const r = resetFor(s);
    if (!r) return;
    this.#tap.write(this.#w.buf, 0, this.#w.write(a, r.flags, r.seq, r.ack, 0, 0));
    this.#env.counters.add('rst-to-guest');
  }

  // --- outbound ----------------------------------------------------------------------------------

  #openOutbound(family: 4 | 6, key: string, buf: Uint8Array, s: SegmentIn, now: number): void {
    const a = this.#addrOfFrame(family, buf);
    const target = this.#targetOf(a);
    if (!target) return;
    const slot = this.#table.reserve();
    const sock = slot ? this.#tryConnect(family, target, s.mss) : null;
    if (!slot || !sock) {
      if (slot) this.#table.unreserve(slot.index);
      else this.#env.counters.add('drop:flow-table-full');
      return this.#resetUnknown(a, s);
    }
    const f = newFlow(slot.index, slot.gen, key, a, sock.fd, this.#mss[family], now);
    this.#adoptSocket(f);
    this.#env.counters.add('flows-outbound');
    initOutbound(f, s, randomIsn(), now);
    if (sock.done) connected(f, this.#io, now);
  }

  /** Where a guest SYN goes on the host, or null (counted) for a destination we do not serve. */
  #targetOf(a: FlowAddr): OutboundTarget | null {
    const ipOnly = this.#env.config.cli.ipOnly;
    if ((ipOnly === 'ipv4' && a.family === 6) || (ipOnly === 'ipv6' && a.family === 4)) {
      this.#env.counters.add('drop:family-disabled');
      return null;
    }
    const target = outboundTarget(this.#plan, a.family, a.remote, 0, a.remotePort);
    if (!target) this.#env.counters.add('drop:destination');
    return target;
  }

  /** #connect, with a failure counted and turned into null (the guest gets a RST). */
  #tryConnect(family: 4 | 6, target: OutboundTarget, guestMss: number): { fd: number; done: boolean } | null {
    try {
      return this.#connect(family, target, guestMss);
    } catch (e) {
      this.#env.counters.add(`connect-error:${errnoName(e)}`);
      return null;
    }
  }

  /** A non-blocking socket connecting to `target`; done when connect() finished at once. */
  #connect(family: 4 | 6, target: OutboundTarget, guestMss: number): { fd: number; done: boolean } {
    const fd = native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_STREAM, 0);
    try {
      // Linux takes 88..32767 (MAX_TCP_WINDOW); a guest MSS beyond that limits nothing anyway
      if (guestMss >= 88 && guestMss <= MAX_SETTABLE_MSS) trySetsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG, guestMss);
      if (!target.hostLocal) this.#bindOutbound(fd, family);
      return { fd, done: native.connectInet(fd, target.addr, target.port) === 0 };
    } catch (e) {
      native.close(fd, true);
      throw e;
    }
  }

  /** -o ADDR and --outbound-if4/6 IF. */
  #bindOutbound(fd: number, family: 4 | 6): void {
    const b = family === 4 ? this.#plan.bind4 : this.#plan.bind6;
    if (b.ifname !== null) native.bindToDevice(fd, b.ifname);
    if (b.addr !== null) native.bindInet(fd, b.addr, 0);
  }

  /** Puts a new flow's socket in the table and in epoll. */
  #adoptSocket(f: TcpFlow): void {
    this.#table.insert(f);
    if (!enablePeekOffset(f.fd)) this.#io.noPeekOffset.add(f.fd);
    this.#env.epollAdd(f.fd, Proto.Tcp, f.gen, f.index, FLOW_EVENTS);
    this.#env.counters.add('flows-opened');
    this.#ticker ??= setInterval(() => this.#tick(), TICK_MS);
  }

  /** The state machine closed the flow: release its socket and slot. */
  #release(f: TcpFlow, reset: boolean): void {
    this.#env.epollDel(Proto.Tcp, f.gen, f.index);
    if (reset) trySetLinger(f.fd);
    native.close(f.fd, true);
    this.#table.release(f);
    this.#touched.delete(f);
    this.#env.counters.add(reset ? 'flows-reset' : 'flows-closed');
    if (this.#table.size === 0) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  // --- inbound -----------------------------------------------------------------------------------

  #accept(id: number): void {
    const l = this.#listenersById.get(id);
    if (!l) return;
    for (;;) {
      let a: { fd: number; addr: string; port: number } | null;
      try {
        a = native.accept(l.fd);
      } catch (e) {
        this.#env.counters.add(`accept-error:${errnoName(e)}`);
        return;
      }
      if (!a) return;
      if (this.#spliced(l.spec, a.fd, a.addr)) continue;
      this.#inbound(l.spec, a.fd, a.addr, a.port, performance.now());
    }
  }

  /**
   * A connection from a loopback peer (pasta, splicing on) goes to the splice actor, which joins it to a
   * socket on the namespace's loopback. The socket moves (never registered here); true if it was handed.
   * If the splice actor is down right now, the connection takes the tap path.
   */
  #spliced(spec: ListenSpec, fd: number, peer: string): boolean {
    if (!this.#splice || !isLoopbackPeer(peer)) return false;
    const copy = native.dup(fd);
    if (!this.#env.toPeer('splice', { t: 'splice-accept', family: spec.family, port: spec.target }, [copy])) {
      this.#env.counters.add('splice-unavailable');
      return false;
    }
    native.close(fd, true);
    this.#env.counters.add('flows-spliced');
    return true;
  }

  /** An accepted host connection becomes a SYN to the guest (or is reset if it cannot be shown to it). */
  #inbound(spec: ListenSpec, fd: number, peer: string, peerPort: number, now: number): void {
    const a = this.#inboundAddr(spec, peer, peerPort);
    const key = a ? flowKey(a.family, a.guest, 0, a.guestPort, a.remote, 0, a.remotePort) : '';
    const slot = a && !this.#table.lookup(key) ? this.#table.reserve() : null;
    if (!a || !slot) {
      this.#env.counters.add(a ? 'drop:inbound-no-slot' : 'drop:inbound-address');
      trySetLinger(fd);
      return native.close(fd, true);
    }
    const f = newFlow(slot.index, slot.gen, key, a, fd, this.#mss[a.family], now);
    f.inbound = true;
    this.#adoptSocket(f);
    this.#env.counters.add('flows-inbound');
    openInbound(f, randomIsn(), this.#io, now);
  }

  /** The guest's view of an accepted connection: its own address and the target port, the peer mapped. */
  #inboundAddr(spec: ListenSpec, peer: string, peerPort: number): FlowAddr | null {
    const family = spec.family;
    const guest = family === 4 ? this.#plan.guest4 : this.#plan.guest6;
    const remote = guestSourceFor(this.#plan, family, peer);
    return guest && remote ? { family, guest, guestPort: spec.target, remote, remotePort: peerPort } : null;
  }

  #openListener(spec: ListenSpec, auto: boolean): boolean {
    let fd = -1;
    try {
      fd = native.socket(spec.family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_STREAM, 0);
      native.setsockoptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      if (spec.family === 6) native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
      if (spec.ifname !== null) native.bindToDevice(fd, spec.ifname);
      native.bindInet(fd, spec.addr ?? '', spec.port);
      native.listen(fd, LISTEN_BACKLOG);
    } catch (e) {
      if (fd >= 0) native.close(fd, true);
      const why = `cannot listen on ${listenKey(spec)}: ${e instanceof Error ? e.message : String(e)}`;
      if (auto) this.#env.log.debug(why);
      else this.#env.log.warn(why);
      return false;
    }
    const l: Listener = { id: this.#nextId++, fd, spec, auto };
    this.#listeners.set(listenKey(spec), l);
    this.#listenersById.set(l.id, l);
    this.#env.epollAdd(fd, Proto.TcpListen, 0, l.id, LISTEN_EVENTS);
    return true;
  }

  #closeListener(key: string): void {
    const l = this.#listeners.get(key);
    if (!l) return;
    this.#env.epollDel(Proto.TcpListen, 0, l.id);
    native.close(l.fd, true);
    this.#listeners.delete(key);
    this.#listenersById.delete(l.id);
  }

  // --- -t auto: follow the namespace's listening ports -----------------------------------------------

  #startAutoScan(): void {
    this.#autoTimer = setInterval(() => void this.#scan(), AUTO_SCAN_MS);
    void this.#scan();
  }

  async #scan(): Promise<void> {
    if (this.#scanning) return;
    this.#scanning = true;
    try {
      const texts = await Promise.all(PROC_FILES.map((p) => this.#nsRead(p)));
      const ports = new Set<number>();
      for (const t of texts) if (t !== null) listeningPorts(t, ports);
      if (this.#autoTimer) this.#applyAuto(autoListeners(ports, this.#fam)); // not turned off meanwhile
    } finally {
      this.#scanning = false;
    }
  }

  #applyAuto(wanted: ListenSpec[]): void {
    const open = [...this.#listeners.values()].filter((l) => l.auto).map((l) => listenKey(l.spec));
    const { add, remove } = diffListeners(open, wanted);
    for (const key of remove) this.#closeListener(key);
    const wantedKeys = new Set(wanted.map(listenKey));
    for (const key of this.#autoFailed) if (!wantedKeys.has(key)) this.#autoFailed.delete(key);
    for (const spec of add) {
      const key = listenKey(spec);
      if (this.#autoFailed.has(key)) continue;
      if (!this.#openListener(spec, true)) this.#autoFailed.add(key);
    }
    if (add.length > 0 || remove.length > 0) this.#announcePorts();
  }

  /** The guest's addresses as the tap actor saw them: inbound connections go there from now on. */
  #guestAddressIs(msg: Msg): void {
    const { v4, v6 } = guestAddrOf(msg);
    if (v4) this.#plan.guest4 = v4;
    if (v6) this.#plan.guest6 = v6;
  }

  /**
   * Tells the splice actor which host ports our -t listeners hold, so that its `-T auto` does not
   * mirror them back into the namespace (each direction would then forward the other's port forever).
   */
  #announcePorts(): void {
    if (this.#env.config.mode !== 'pasta') return;
    const ports = [...new Set([...this.#listeners.values()].map((l) => l.spec.port))].sort((a, b) => a - b);
    this.#env.toPeer('splice', { t: 'host-ports', ports });
  }

  /** A file read inside the namespace (through the router and the namespace helper); null on error. */
  #nsRead(path: string): Promise<string | null> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#nsWaiters.set(id, resolve);
      this.#env.toRouter({ t: 'ns', id, req: { t: 'read-file', path } });
    });
  }

  #nsReply(msg: Msg): void {
    const id = Number(msg.id);
    const done = this.#nsWaiters.get(id);
    if (!done) return;
    this.#nsWaiters.delete(id);
    const reply = msg.msg as { data?: unknown } | undefined;
    done(msg.error === undefined && typeof reply?.data === 'string' ? reply.data : null);
  }

  // --- timers --------------------------------------------------------------------------------------

  #tick(): void {
    const now = performance.now();
    this.#table.forEach((f) => {
      if (f.deadline !== 0 && f.deadline <= now) onTimer(f, this.#io, now);
    });
  }
}

function errnoName(e: unknown): string {
  errnoOf(e);
  return (e as { code: string }).code;
}

function trySetsockopt(fd: number, level: number, opt: number, value: number): void {
  try {
    native.setsockoptInt(fd, level, opt, value);
  } catch (e) {
    errnoOf(e);
  }
}

/** SO_LINGER {1, 0}: the last close() resets the connection instead of closing it gracefully. */
function trySetLinger(fd: number): void {
  try {
    native.setLinger(fd, 1, 0);
  } catch (e) {
    errnoOf(e);
  }
}

export function createActor(env: ActorEnv): Actor {
  return new TcpActor(env);
}
