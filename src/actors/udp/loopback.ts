/**
 * The UDP loopback fast path (pasta only, not with --no-splice): datagrams between the host's loopback
 * and the namespace's loopback, socket to socket, never through the tap.
 *
 * Theory of operation
 * - Inbound (-u): the actor reads its host-side -u listeners; a datagram whose sender is a loopback
 *   address (127.0.0.0/8, ::1, ::ffff:127.x) is handed here (`fromHostListener`) instead of going to the
 *   guest. Its flow (splice-flows.ts: listener + sender) owns a UDP socket created INSIDE the namespace
 *   by the namespace helper (`ns {open-socket}` through the router, asynchronous: the flow queues up to
 *   QUEUE_MAX datagrams meanwhile), bound to the namespace's loopback at the sender's own port when free
 *   (else an ephemeral one) and connected to the namespace's loopback (same family) at the target port.
 * - Outbound (-U SPEC / auto): listeners on the namespace's loopback (127.0.0.1 and ::1, families as
 *   -4/-6 allow), sockets the helper created there, bound here; EADDRNOTAVAIL (::1 comes with lo going
 *   up) is retried at each one-second tick, ten times at most. A datagram there opens a flow whose socket
 *   is created here (so on the host), bound to the host's loopback at the sender's port when free, and
 *   connected to the host's loopback at the target port. -U auto re-reads the host's /proc/net/udp and
 *   udp6 every second (the actor runs in the host namespace) and mirrors the unconnected UDP ports,
 *   loopback-bound ones included, minus the ports of this actor's own -u listeners; a port the namespace
 *   already holds is tried again every 10 s. The -U listeners have SO_REUSEADDR, so a namespace program
 *   binding the same port on any address with SO_REUSEADDR still can.
 * - Batches: all datagrams of one recvmmsg batch for one flow go out in one sendmmsg (connected: no
 *   address). Replies read on the flow socket with recvmmsg go back to the original sender with sendmmsg
 *   ON THE LISTENER, so they leave from the forwarded port.
 * - epoll: every socket of this path is (Proto.UdpSplice, edge-triggered). A flow socket has aux = the
 *   flow's generation, handle = its slot (< 2^31); a -U listener has aux = 0 and handle = NS_LISTENER |
 *   a never-reused id. Stale readiness (old generation, closed listener) is counted and ignored.
 * - Expiry: the tap-path timeouts (30 s one way, 120 s both ways, PASST_ACTORS_TEST_UDP_TIMEOUTS in tests).
 * - Owns: the flow sockets, the -U listeners, the namespace sockets in flight (closed when they arrive
 *   for a flow or listener that is gone). `epollDel` before every close. On a crash the router closes the
 *   registered ones; the new incarnation re-opens the -U listeners at start and new datagrams open new flows.
 * - Counters: splice-flows-opened (-in / -out), splice-flows-closed, splice-dgrams-in (host -> namespace),
 *   splice-dgrams-out (namespace -> host), splice-listeners-opened/-closed, splice-error:CODE,
 *   drop:splice-REASON. Never throws on what peers send.
 */
import { constants as C, native, ErrnoError, type MmsgDatagram } from '../../native/index.js';
import { endpoint, type ActorEnv, type FlowInfo } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { Proto } from '../../runtime/epoll-ref.js';
import { hostUdpPorts, readProcText } from '../common/procnet.js';
import { isLoopbackPeer, loopbackOf, spliceEnabled } from '../splice/state.js';
import { listenKey, type ListenSpec } from './forward.js';
import type { ForwardConfig } from '../../config/config.js';
import { DatagramQueue, listenerDiff, mirrorListeners, spliceKey, udpOutPlan, type SpliceDir, type UdpOutPlan } from './splice-flows.js';
import { FlowTable, timeoutsFromEnv, udpFlowState, type Flow } from './state.js';

const RX_SLOTS = 16;
const SLOT = 65536;
const READ_BUDGET = 8;
const TICK_MS = 1000;
const LISTEN_TRIES = 10;
/** -U auto: a port that could not be bound (the namespace holds it) is tried again after this long */
const AUTO_RETRY_MS = 10_000;
/** handle bit of a -U listener (flow handles are slot indices, far below it) */
export const NS_LISTENER = 0x80000000;
const EVENTS = (C.EPOLLIN | C.EPOLLET) >>> 0;
const HOST_UDP = ['/proc/net/udp', '/proc/net/udp6'];
const TIMEOUTS_ENV = 'PASST_ACTORS_TEST_UDP_TIMEOUTS';

/** A host-side -u listener, as the actor describes it. */
export interface HostListener {
  handle: number;
  gen: number;
  family: 4 | 6;
  target: number;
}

/** What the actor lends this path. */
export interface LoopbackDeps {
  env: ActorEnv;
  /** the fd of the -u listener (handle, gen), or -1 if it is gone */
  hostListenerFd(handle: number, gen: number): number;
  /** the ports of the -u listeners open on the host now */
  hostListenerPorts(): Set<number>;
  /** a request to the namespace helper, answered by `reply` */
  nsRequest(req: Record<string, unknown>, reply: (msg: Msg, fds: number[]) => void): void;
  /** runs `fn` at the next turn of the event loop (a read that spent its budget) */
  later(fn: () => void): void;
}

interface SpliceData {
  dir: SpliceDir;
  family: 4 | 6;
  /** the listener datagrams arrive on and replies leave from (-u: host slot/gen; -U: handle, gen 0) */
  listener: number;
  listenerGen: number;
  peerAddr: string;
  peerPort: number;
  target: number;
  /** the connected socket on the other side; -1 while it is being opened */
  fd: number;
  queue: DatagramQueue | null;
}

interface NsListener {
  handle: number;
  fd: number;
  spec: ListenSpec;
  key: string;
}

type SpliceFlow = Flow<SpliceData>;

export class LoopbackPath {
  readonly enabled: boolean;
  readonly #d: LoopbackDeps;
  readonly #flows = new FlowTable<SpliceData>(timeoutsFromEnv(process.env[TIMEOUTS_ENV]));
  #plan: UdpOutPlan;
  /** the -U listeners' reconciliation (and -U auto's scan), while -U forwards anything */
  #tickTimer: NodeJS.Timeout | undefined;
  readonly #families: (4 | 6)[];
  readonly #rx = new Uint8Array(RX_SLOTS * SLOT);
  readonly #batch = new Map<SpliceFlow, MmsgDatagram[]>();
  readonly #ns = new Map<number, NsListener>();
  readonly #nsByKey = new Map<string, NsListener>();
  readonly #nsPending = new Set<string>();
  readonly #nsTries = new Map<string, number>();
  /** keys given up on, and when */
  readonly #nsGaveUp = new Map<string, number>();
  #wanted: ListenSpec[] = [];
  #nextNsId = 1;
  #stopped = false;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(deps: LoopbackDeps) {
    this.#d = deps;
    const { cli, mode } = deps.env.config;
    this.enabled = spliceEnabled(mode, cli.disabled.splice) && !cli.disabled.udp;
    this.#families = [...(cli.ipOnly !== 'ipv6' ? [4 as const] : []), ...(cli.ipOnly !== 'ipv4' ? [6 as const] : [])];
    this.#plan = udpOutPlan(cli.forward.udpOut, this.enabled, this.#families);
    if (!this.enabled) return;
    const t = this.#flows.timeouts;
    this.#timers.push(setInterval(() => this.#expire(), Math.max(50, Math.min(1000, Math.floor(t.oneWayMs / 4)))));
    this.#planIs(this.#plan);
  }

  /** -U changed at run time (the control socket's `forward`): listeners follow at once. */
  forwardIs(fwd: ForwardConfig): void {
    if (this.enabled && !this.#stopped) this.#planIs(udpOutPlan(fwd.udpOut, this.enabled, this.#families));
  }

  #planIs(plan: UdpOutPlan): void {
    this.#plan = plan;
    this.#wanted = plan.kind === 'static' ? plan.specs : [];
    this.#tick();
    if (plan.kind === 'none') {
      clearInterval(this.#tickTimer);
      this.#tickTimer = undefined;
    } else {
      this.#tickTimer ??= setInterval(() => this.#tick(), TICK_MS);
    }
  }

  /** The spliced flows for the control socket (at most `max`). */
  flows(max: number, now: number): FlowInfo[] {
    const out: FlowInfo[] = [];
    for (const f of this.#flows.all()) {
      if (out.length >= max) break;
      const d = f.data;
      const loopback = loopbackOf(d.family);
      // -u: a host sender to the namespace's loopback; -U: a namespace sender to the host's loopback
      const [guest, remote] = d.dir === 'in'
        ? [endpoint(loopback, d.target), endpoint(d.peerAddr, d.peerPort)]
        : [endpoint(d.peerAddr, d.peerPort), endpoint(loopback, d.target)];
      out.push({
        proto: 'udp', dir: d.dir, path: 'splice', guest, remote, state: d.fd < 0 ? 'opening' : udpFlowState(f),
        idleMs: now - f.lastMs, expiresInMs: Math.max(0, this.#flows.deadline(f) - now),
      });
    }
    return out;
  }

  /** Whether a datagram from `addr` on a -u listener takes this path. */
  takes(addr: string): boolean {
    return this.enabled && isLoopbackPeer(addr);
  }

  // --- datagrams arriving on listeners ---------------------------------------------------------

  /** A loopback sender's datagram on a -u listener (a view: valid until `flush`). */
  fromHostListener(l: HostListener, data: Uint8Array, addr: string, port: number, now: number): void {
    this.#toFlow('in', l.handle, l.gen, l.family, l.target, data, addr, port, now);
  }

  /** Sends what the last listener batch gathered: one sendmmsg per flow. */
  flush(): void {
    for (const [flow, dgrams] of this.#batch) {
      if (this.#flows.get(flow.handle, flow.gen) === flow && flow.data.fd >= 0) this.#send(flow.data.fd, dgrams, flow.data.dir);
    }
    this.#batch.clear();
  }

  #toFlow(dir: SpliceDir, lh: number, lg: number, family: 4 | 6, target: number, data: Uint8Array, addr: string, port: number, now: number): void {
    const key = spliceKey(dir, lh, lg, addr, port);
    const flow = this.#flows.find(key) ?? this.#open(key, { dir, family, listener: lh, listenerGen: lg, peerAddr: addr, peerPort: port, target, fd: -1, queue: new DatagramQueue() }, now);
    if (!flow) return;
    this.#flows.touch(flow, 'host', now);
    const q = flow.data.queue;
    if (q) {
      if (!q.push(data)) this.#d.env.counters.add('drop:splice-queue-full');
      return;
    }
    let list = this.#batch.get(flow);
    if (!list) this.#batch.set(flow, (list = []));
    list.push({ data, addr: '', port: 0 });
  }

  // --- opening flows ---------------------------------------------------------------------------

  #open(key: string, data: SpliceData, now: number): SpliceFlow | null {
    const c = this.#d.env.counters;
    const flow = this.#flows.add(key, data, 'host', now);
    if (!flow) {
      c.add('drop:splice-flow-table-full');
      return null;
    }
    c.add('splice-flows-opened');
    c.add(`splice-flows-${data.dir}`);
    if (data.dir === 'in') this.#nsSocket(data.family, (fd) => this.#socketArrived(flow, fd));
    else this.#socketArrived(flow, this.#hostSocket(data.family));
    return this.#flows.get(flow.handle, flow.gen) === flow ? flow : null;
  }

  /** A UDP socket on the host (for -U flows); null on failure (counted). */
  #hostSocket(family: 4 | 6): number | null {
    try {
      return native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM, 0);
    } catch (e) {
      this.#d.env.counters.add(`splice-error:${codeOf(e)}`);
      return null;
    }
  }

  /** A UDP socket created inside the namespace by the helper; `done(null)` on failure (counted). */
  #nsSocket(family: 4 | 6, done: (fd: number | null) => void): void {
    const req = { t: 'open-socket', family: family === 4 ? C.AF_INET : C.AF_INET6, type: C.SOCK_DGRAM, protocol: 0 };
    this.#d.nsRequest(req, (msg, fds) => {
      for (const extra of fds.slice(1)) native.close(extra, true);
      const fd = fds[0];
      if (fd !== undefined && msg.error === undefined) return done(fd);
      if (fd !== undefined) native.close(fd, true);
      this.#d.env.counters.add('drop:splice-ns-socket');
      done(null);
    });
  }

  /** The flow's socket is here: bound, connected, registered, and the queue sent; or the flow dropped. */
  #socketArrived(flow: SpliceFlow, fd: number | null): void {
    const live = this.#flows.get(flow.handle, flow.gen) === flow && !this.#stopped;
    if (fd === null || !live) {
      if (fd !== null) native.close(fd, true);
      if (live) this.#closeFlow(flow);
      return;
    }
    const d = flow.data;
    try {
      connectLoopback(fd, d.family, d.peerPort, d.target);
    } catch (e) {
      native.close(fd, true);
      this.#d.env.counters.add(`splice-error:${codeOf(e)}`);
      return this.#closeFlow(flow);
    }
    d.fd = fd;
    this.#d.env.epollAdd(fd, Proto.UdpSplice, flow.gen, flow.handle, EVENTS);
    const queued = d.queue?.take() ?? [];
    d.queue = null;
    if (queued.length > 0) this.#send(fd, queued.map((data) => ({ data, addr: '', port: 0 })), d.dir);
  }

  // --- sending ---------------------------------------------------------------------------------

  /** sendmmsg until done; EAGAIN drops the rest, a failing datagram is counted and skipped. */
  #send(fd: number, dgrams: MmsgDatagram[], dir: SpliceDir): void {
    const c = this.#d.env.counters;
    let sent = 0;
    while (sent < dgrams.length) {
      let n: number;
      try {
        n = native.sendmmsg(fd, sent === 0 ? dgrams : dgrams.slice(sent));
      } catch (e) {
        c.add(`drop:splice-send-${codeOf(e)}`);
        sent++;
        continue;
      }
      if (n <= 0) break;
      c.add(dir === 'in' ? 'splice-dgrams-in' : 'splice-dgrams-out', n);
      sent += n;
    }
    if (sent < dgrams.length) c.add('drop:splice-send-EAGAIN', dgrams.length - sent);
  }

  // --- readiness -------------------------------------------------------------------------------

  onReady(aux: number, handle: number, _events: number): void {
    if (handle >= NS_LISTENER) {
      const l = this.#ns.get(handle);
      if (!l || aux !== 0) return this.#d.env.counters.add('stale-ready');
      return this.#readNsListener(l);
    }
    const flow = this.#flows.get(handle, aux);
    if (!flow || flow.data.fd < 0) return this.#d.env.counters.add('stale-ready');
    this.#readFlow(flow);
  }

  /** recvmmsg into the receive slots; [] on EAGAIN, null on a socket error (counted: read again). */
  #recv(fd: number): { len: number; addr: string; port: number }[] | null {
    try {
      return native.recvmmsg(fd, this.#rx, SLOT, RX_SLOTS);
    } catch (e) {
      this.#d.env.counters.add(`splice-error:${codeOf(e)}`);
      return null;
    }
  }

  /** Datagrams of namespace senders on a -U listener: to their flows, one sendmmsg per flow and batch. */
  #readNsListener(l: NsListener): void {
    for (let round = 0; round < READ_BUDGET; round++) {
      if (this.#ns.get(l.handle) !== l) return;
      const got = this.#recv(l.fd);
      if (got === null) continue;
      const now = Date.now();
      for (let i = 0; i < got.length; i++) {
        const dg = got[i]!;
        this.#toFlow('out', l.handle, 0, l.spec.family, l.spec.target, this.#slot(i, dg.len), dg.addr, dg.port, now);
      }
      this.flush();
      if (got.length < RX_SLOTS) return;
    }
    this.#d.later(() => this.#readNsListener(l));
  }

  /** Replies on a flow socket: back to the original sender, from the listener, one sendmmsg per batch. */
  #readFlow(flow: SpliceFlow): void {
    const d = flow.data;
    for (let round = 0; round < READ_BUDGET; round++) {
      if (this.#flows.get(flow.handle, flow.gen) !== flow) return;
      const got = this.#recv(d.fd);
      if (got === null) continue;
      if (got.length === 0) return;
      this.#flows.touch(flow, 'guest', Date.now());
      this.#reply(flow, got.map((dg, i) => ({ data: this.#slot(i, dg.len), addr: d.peerAddr, port: d.peerPort })));
      if (got.length < RX_SLOTS) return;
    }
    this.#d.later(() => this.#readFlow(flow));
  }

  #reply(flow: SpliceFlow, dgrams: MmsgDatagram[]): void {
    const d = flow.data;
    const fd = d.dir === 'in' ? this.#d.hostListenerFd(d.listener, d.listenerGen) : (this.#ns.get(d.listener)?.fd ?? -1);
    if (fd < 0) return this.#d.env.counters.add('drop:splice-listener-gone', dgrams.length);
    this.#send(fd, dgrams, d.dir === 'in' ? 'out' : 'in');
  }

  #slot(i: number, len: number): Uint8Array {
    return this.#rx.subarray(i * SLOT, i * SLOT + Math.min(len, SLOT));
  }

  // --- -U listeners ----------------------------------------------------------------------------

  /** Every second: -U auto re-reads the host's ports; listeners follow the wanted set (and retry). */
  #tick(): void {
    if (this.#stopped) return;
    if (this.#plan.kind === 'auto') this.#wanted = mirrorListeners(hostUdpPorts(HOST_UDP.map(readProcText)), this.#d.hostListenerPorts(), this.#families);
    const wantedKeys = new Set(this.#wanted.map(listenKey));
    const diff = listenerDiff(this.#nsByKey.keys(), this.#wanted);
    for (const key of diff.close) this.#closeNsListener(this.#nsByKey.get(key)!);
    for (const key of [...this.#nsTries.keys()]) if (!wantedKeys.has(key)) this.#nsTries.delete(key);
    const retry = this.#plan.kind === 'auto' ? Date.now() - AUTO_RETRY_MS : -Infinity;
    for (const [key, at] of [...this.#nsGaveUp]) if (!wantedKeys.has(key) || at <= retry) this.#nsGaveUp.delete(key);
    for (const spec of diff.open) {
      const key = listenKey(spec);
      if (!this.#nsPending.has(key) && !this.#nsGaveUp.has(key)) this.#openNsListener(spec, key);
    }
  }

  #openNsListener(spec: ListenSpec, key: string): void {
    this.#nsPending.add(key);
    this.#nsSocket(spec.family, (fd) => {
      this.#nsPending.delete(key);
      if (fd === null) return;
      if (this.#stopped || !this.#wanted.some((s) => listenKey(s) === key) || this.#nsByKey.has(key)) return native.close(fd, true);
      try {
        if (spec.family === 6) native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
        // a namespace program that binds the same port on any address with SO_REUSEADDR (DHCP clients do)
        // can still do so: datagrams to the loopback keep coming here, the more specific binding
        native.setsockoptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
        native.setNonBlocking(fd, true);
        native.bindInet(fd, spec.addr ?? loopbackOf(spec.family), spec.port);
      } catch (e) {
        native.close(fd, true);
        return this.#listenFailed(key, e);
      }
      const l: NsListener = { handle: (NS_LISTENER | this.#nextNsId++) >>> 0, fd, spec, key };
      this.#ns.set(l.handle, l);
      this.#nsByKey.set(key, l);
      this.#nsTries.delete(key);
      this.#d.env.epollAdd(fd, Proto.UdpSplice, 0, l.handle, EVENTS);
      this.#d.env.counters.add('splice-listeners-opened');
    });
  }

  /** EADDRNOTAVAIL is retried at the next ticks (LISTEN_TRIES in all); anything else gives up on that key. */
  #listenFailed(key: string, e: unknown): void {
    const code = codeOf(e);
    const tries = (this.#nsTries.get(key) ?? 0) + 1;
    this.#nsTries.set(key, tries);
    this.#d.env.counters.add(`splice-listen-failed:${code}`);
    if (code === 'EADDRNOTAVAIL' && tries < LISTEN_TRIES) return;
    this.#nsGaveUp.set(key, Date.now());
    const text = `-U: cannot listen on ${key} in the namespace: ${code}`;
    if (this.#plan.kind === 'auto') this.#d.env.log.debug(text);
    else this.#d.env.log.warn(text);
  }

  #closeNsListener(l: NsListener): void {
    this.#d.env.epollDel(Proto.UdpSplice, 0, l.handle);
    native.close(l.fd, true);
    this.#ns.delete(l.handle);
    this.#nsByKey.delete(l.key);
    this.#d.env.counters.add('splice-listeners-closed');
  }

  // --- expiry and shutdown ---------------------------------------------------------------------

  #expire(): void {
    for (const f of this.#flows.expired(Date.now())) this.#closeFlow(f);
  }

  /** epoll-del first (the router's duplicate would keep the registration alive), then close. */
  #closeFlow(f: SpliceFlow): void {
    if (f.data.fd >= 0) {
      this.#d.env.epollDel(Proto.UdpSplice, f.gen, f.handle);
      native.close(f.data.fd, true);
      f.data.fd = -1;
    }
    this.#batch.delete(f);
    this.#flows.remove(f);
    this.#d.env.counters.add('splice-flows-closed');
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    clearInterval(this.#tickTimer);
    for (const f of this.#flows.all()) this.#closeFlow(f);
    for (const l of [...this.#ns.values()]) this.#closeNsListener(l);
  }
}

/**
 * Binds a flow socket to its namespace's loopback at `port` (the sender's, so the service sees the same
 * source port) or, when taken, any port; connects it to that loopback at `target`.
 * Syscalls: setsockopt (IPV6_V6ONLY), fcntl, bind, connect.
 */
function connectLoopback(fd: number, family: 4 | 6, port: number, target: number): void {
  const lo = loopbackOf(family);
  if (family === 6) native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
  native.setNonBlocking(fd, true);
  try {
    native.bindInet(fd, lo, port);
  } catch {
    native.bindInet(fd, lo, 0);
  }
  native.connectInet(fd, lo, target);
}

function codeOf(e: unknown): string {
  return e instanceof ErrnoError ? e.code : typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'error';
}
