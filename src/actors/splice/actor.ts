/**
 * The splice actor: the loopback fast path between the host and the namespace (pasta only).
 *
 * Theory of operation
 * - Inbound (`-t`): the tcp actor owns the listeners. A connection it accepts from a loopback peer
 *   (127.0.0.0/8, ::1) is handed here over the tcp–splice link (`splice-accept {family, port}` + the
 *   accepted socket, never registered in epoll by the tcp actor). This actor takes a TCP socket
 *   created inside the namespace by the namespace helper, from a pool of them made ahead of time (pool.ts: the
 *   helper makes a batch per request, through the router: `ns {open-socket, count}`), connects it
 *   (non-blocking) to the namespace's loopback at the target port, and joins the two sockets.
 * - Outbound (`-T`): this actor listens on the namespace's loopback (127.0.0.1 / ::1, or the SPEC's
 *   address) with sockets the helper created there, bound and listening from here (a socket keeps the
 *   namespace it was created in). A connection accepted there is joined the same way to a host socket
 *   connecting to the host's loopback at the target port. Addresses not there yet at start
 *   (EADDRNOTAVAIL: ::1 comes with lo going up) are retried.
 * - `-T auto` (pasta's default): every second the host's /proc/net/tcp{,6} is read (this actor runs in the
 *   host's namespace) and the namespace's loopback listens on each port listening on the host
 *   (auto.ts), minus the ports our own `-t` listeners hold, which the tcp actor announces
 *   (`host-ports {ports}` over the link, at start, on each change and when the link comes up). The first
 *   scan waits for that announcement (or AUTO_FIRST_SCAN_MS), so -t ports are never mirrored back. A port
 *   that cannot be bound in the namespace (a namespace service holds it) is tried again after
 *   AUTO_RETRY_MS; a port gone from the host closes its listeners (spliced connections stay).
 * - Data moves socket -> pipe -> socket with splice(2) in both directions (state.ts `pump`), never
 *   through JavaScript. Pipes are made large (F_SETPIPE_SZ) and pooled. EOF on one side becomes
 *   shutdown(SHUT_WR) on the other once its pipe is drained; an error on either side resets both
 *   (SO_LINGER {1, 0} + close); a refused connect in the namespace resets the accepted socket.
 * - Both sockets are registered edge-triggered (EPOLLIN|EPOLLOUT|EPOLLRDHUP) as (Proto.Splice,
 *   aux = generation << 1 | side, handle = connection slot); stale readiness of a reused slot is ignored.
 *   -T listeners are (Proto.Splice, aux 0, listener id).
 *   Any readiness pumps both directions; a pump that spent its budget is resumed with setImmediate.
 * - Owns: the connection sockets (the router holds duplicates of the registered ones: `epollDel` before
 *   each close), the pipes (not in epoll: a pipe only fills or drains as its sockets do), the sockets
 *   waiting for their namespace peer, the pooled namespace sockets. In thread mode the router closes
 *   them if the thread dies: the pipes are declared with `holdFd`, the sockets arrived in messages
 *   (held on arrival). On a crash, the router closes its duplicates and the
 *   held fds (process mode: the kernel closes everything), so the spliced connections end; new ones are
 *   served by the new incarnation.
 * - Counters: `flows-opened` (`flows-inbound` for -t, `flows-outbound` for -T), `flows-closed`,
 *   `flows-reset`, `bytes-in` (host -> namespace), `bytes-out`, `connect-error:ERRNO|CODE`,
 *   `error:CODE`, `ns-socket-error`, `pipe-error`, `stale-event`, `listeners-opened`, `listeners-closed`,
 *   `listen-failed:CODE`, `ns-socket-pooled` (namespace sockets taken from the pool at once),
 *   `ns-socket-waited` (taken from the next batch: the pool was empty), `ns-socket-batches` (helper
 *   requests for the pool), `connected-at-once`
 *   (loopback connects done within the call: no wait for EPOLLOUT).
 */
import { constants as C, native, ErrnoError } from '../../native/index.js';
import { endpoint, type Actor, type ActorEnv, type FlowInfo, type Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { Proto } from '../../runtime/epoll-ref.js';
import {
  Side, connStateName, finished, loopbackOf, newDirection, newSide, pump, spliceEnabled,
  type Conn, type Pipe, type SideState, type SpliceIo,
} from './state.js';
import { autoListeners, diffListeners, listenKey, staticListeners, type Families, type ListenSpec } from '../tcp/listen.js';
import { mirroredPorts } from './auto.js';
import { readProcText } from '../common/procnet.js';
import { SocketPool } from './pool.js';
import type { ForwardConfig } from '../../config/config.js';
import type { PortForward } from '../../config/portspec.js';

/**
 * Pipe capacities asked with F_SETPIPE_SZ, largest first: beyond /proc/sys/fs/pipe-max-size (1 MiB)
 * only with CAP_SYS_RESOURCE; the kernel's default size (0) if every size is refused.
 */
export const PIPE_SIZES = [4 << 20, 1 << 20, 0];
const PIPE_POOL_MAX = 64;
/** bytes one pump may move before yielding to other connections */
const PUMP_BUDGET = 8 << 20;
const SOCK_EVENTS = (C.EPOLLIN | C.EPOLLOUT | C.EPOLLRDHUP | C.EPOLLET) >>> 0;
const GEN_MASK = 0x7fffff;
/** aux of a -T listener (a connection's aux is generation << 1 | side, and generations start at 1) */
const LISTENER_AUX = 0;
const LISTEN_BACKLOG = 1024;
const LISTEN_TRIES = 10;
const LISTEN_EVENTS = (C.EPOLLIN | C.EPOLLET) >>> 0;
/** namespace sockets kept ready per IP version (refilled in one helper request below half) */
const POOL_TARGET = 16;
const TCP_ESTABLISHED = 1;
/** -T auto: rescan period, first scan at the latest (if the tcp actor never announces), bind retry */
const AUTO_SCAN_MS = 1000;
const AUTO_FIRST_SCAN_MS = 3000;
const AUTO_RETRY_MS = 10_000;
const HOST_PROC_FILES = ['/proc/net/tcp', '/proc/net/tcp6'];

const io: SpliceIo = {
  splice: (i, o, len) => native.splice(i, o, len),
  shutWrite: (fd) => native.shutdown(fd, 1),
};

interface NsListener {
  fd: number;
  spec: ListenSpec;
  /** opened by -T auto (keyed in #autoOpen) */
  auto: boolean;
}

class SpliceActor implements Actor {
  readonly #env: ActorEnv;
  readonly #conns: (Conn | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #pipes: Pipe[] = [];
  /** accepted sockets waiting for their namespace peer */
  readonly #opening = new Set<number>();
  readonly #nsWaiters = new Map<number, (fds: number[] | null) => void>();
  /** namespace sockets made ahead of time (pool.ts), held */
  readonly #pool = new SocketPool(POOL_TARGET, (family, count) => this.#askPool(family, count));
  readonly #listeners = new Map<number, NsListener>();
  #stopped = false;
  readonly #listenTries = new Map<ListenSpec, number>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #again = new Set<Conn>();
  #gen = 1;
  #nextId = 1;
  #immediate: NodeJS.Immediate | undefined;
  readonly #fam: Families;
  /** -T auto: listener ids by key, keys waiting for their namespace socket, keys to retry (time) */
  readonly #autoOpen = new Map<string, number>();
  readonly #autoPending = new Set<string>();
  readonly #autoRetryAt = new Map<string, number>();
  #autoWanted = new Set<string>();
  /** host ports held by the tcp actor's -t listeners (null: not heard yet) */
  #tcpPorts: Set<number> | null = null;
  #autoScanning = false;
  #autoTimer: NodeJS.Timeout | undefined;
  /** -T as it stands (the command line's, or the control socket's `forward`) */
  #tcpOut: PortForward = { mode: 'none', ranges: [] };
  /** static -T listeners wanted, and those whose namespace socket is on its way */
  #staticWanted = new Set<string>();
  readonly #staticPending = new Set<string>();

  constructor(env: ActorEnv) {
    this.#env = env;
    const { cli, mode } = env.config;
    this.#fam = { v4: cli.ipOnly !== 'ipv6', v6: cli.ipOnly !== 'ipv4' };
    if (mode !== 'pasta' || cli.disabled.tcp) return;
    this.#forwardIs(cli.forward, true);
  }

  /**
   * The forwards as they stand (at start, or changed through the control socket): the socket pool is
   * filled once -t forwards anything; static -T listeners are opened and closed to match (connections
   * stay); -T auto starts (at start: once the tcp actor said which ports are its own) or stops.
   */
  #forwardIs(fwd: ForwardConfig, atStart: boolean): void {
    const { cli, mode } = this.#env.config;
    if (spliceEnabled(mode, cli.disabled.splice) && fwd.tcpIn.mode !== 'none') {
      if (this.#fam.v4) this.#pool.prefill(4);
      if (this.#fam.v6) this.#pool.prefill(6);
    }
    this.#tcpOut = fwd.tcpOut;
    const wanted = staticListeners(fwd.tcpOut, this.#fam);
    this.#staticWanted = new Set(wanted.map(listenKey));
    const open = new Map([...this.#listeners].filter(([, l]) => !l.auto).map(([id, l]) => [listenKey(l.spec), id]));
    const { add, remove } = diffListeners(open.keys(), wanted);
    for (const key of remove) this.#closeListener(open.get(key)!);
    for (const spec of add) if (!this.#staticPending.has(listenKey(spec))) this.#openNsListener(spec, false);
    const auto = fwd.tcpOut.mode === 'auto';
    if (auto && !this.#autoScanning) {
      if (atStart) this.#startAutoScan();
      else this.#tcpPortsAre(null);
    }
    if (!auto) this.#stopAutoScan();
  }

  #stopAutoScan(): void {
    clearInterval(this.#autoTimer);
    this.#autoTimer = undefined;
    this.#autoScanning = false;
    this.#autoWanted = new Set();
    this.#autoRetryAt.clear();
    for (const id of [...this.#autoOpen.values()]) this.#closeListener(id);
  }

  onMessage(from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'splice-accept' && fds.length === 1) return this.#accepted(msg, fds[0]!);
    if (msg.t === 'set-forward' && from === 'router') {
      const { cli, mode } = this.#env.config;
      if (mode === 'pasta' && !cli.disabled.tcp) this.#forwardIs(msg.forward as ForwardConfig, false);
      return;
    }
    if (msg.t === 'ns-reply' && from === 'router') return this.#nsReply(msg, fds);
    for (const fd of fds) native.close(fd, true);
    if (msg.t === 'host-ports' && from === 'tcp' && Array.isArray(msg.ports)) this.#tcpPortsAre(msg.ports);
  }

  flows(max: number): FlowInfo[] {
    const out: FlowInfo[] = [];
    for (const c of this.#conns) {
      if (out.length >= max) break;
      if (c) out.push(this.#connInfo(c));
    }
    return out;
  }

  /**
   * -t: A is the host's client, B the namespace socket connected to the guest's listener; -T: A is the
   * namespace's client, B the socket connected to the host's listener. Names read from the sockets.
   */
  #connInfo(c: Conn): FlowInfo {
    const [guestSide, hostSide] = c.outbound ? [c.a, c.b] : [c.b, c.a];
    const peerOf = (fd: number): string => {
      try {
        const n = native.peerName(fd);
        return endpoint(n.addr, n.port);
      } catch {
        return '?';
      }
    };
    return {
      proto: 'tcp', dir: c.outbound ? 'out' : 'in', path: 'splice',
      // -t: the guest's listener; -T: the guest's client
      guest: peerOf(guestSide.fd),
      // -t: the host's client; -T: the host's listener
      remote: peerOf(hostSide.fd),
      state: connStateName(c),
      bytesToGuest: c.outbound ? c.ba.bytes : c.ab.bytes,
      bytesFromGuest: c.outbound ? c.ab.bytes : c.ba.bytes,
    };
  }

  onReady(proto: number, aux: number, handle: number, events: number): void {
    if (proto !== Proto.Splice) return;
    if (aux === LISTENER_AUX) return this.#acceptNs(handle);
    const c = this.#conns[handle];
    if (!c || c.gen !== aux >>> 1) return this.#env.counters.add('stale-event');
    if (c.connecting && (aux & 1) === Side.B) return this.#connectDone(c, events);
    if (events & C.EPOLLERR) return this.#sockError(c, (aux & 1) === Side.A ? c.a : c.b);
    this.#run(c);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    clearInterval(this.#autoTimer);
    clearImmediate(this.#immediate);
    for (const c of this.#conns) if (c) this.#close(c, false);
    for (const fd of this.#opening) native.close(fd, true);
    this.#opening.clear();
    for (const id of [...this.#listeners.keys()]) this.#closeListener(id);
    for (const p of this.#pipes) this.#closePipe(p);
    this.#pipes.length = 0;
    for (const fd of this.#pool.drain()) native.close(fd, true);
  }

  // --- opening -----------------------------------------------------------------------------------

  /** A namespace socket from the pool: at once, or from the next batch when a burst emptied it. */
  #nsSocket(family: 4 | 6, done: (fd: number | null) => void): void {
    const atOnce = this.#pool.take(family, done);
    this.#env.counters.add(atOnce ? 'ns-socket-pooled' : 'ns-socket-waited');
  }

  /** Refills the pool with `count` sockets in one request (fds from the router: owned on arrival). */
  #askPool(family: 4 | 6, count: number): void {
    this.#env.counters.add('ns-socket-batches');
    this.#nsRequest(family, count, (fds) => {
      if (this.#stopped) return fds?.forEach((fd) => native.close(fd, true));
      this.#pool.filled(family, fds ?? []);
    });
  }

  #nsRequest(family: 4 | 6, count: number, done: (fds: number[] | null) => void): void {
    const id = this.#nextId++;
    this.#nsWaiters.set(id, done);
    const req = { t: 'open-socket', family: family === 4 ? C.AF_INET : C.AF_INET6, type: C.SOCK_STREAM, protocol: 0, count };
    this.#env.toRouter({ t: 'ns', id, req });
  }

  #nsReply(msg: Msg, fds: number[]): void {
    const done = this.#nsWaiters.get(Number(msg.id));
    if (!done || msg.error !== undefined || fds.length === 0) {
      for (const fd of fds) native.close(fd, true);
      if (!done) return;
      this.#nsWaiters.delete(Number(msg.id));
      this.#env.counters.add('ns-socket-error');
      return done(null);
    }
    this.#nsWaiters.delete(Number(msg.id));
    done(fds);
  }

  /** A loopback connection accepted on a -t listener: joined to a namespace socket to its loopback. */
  #accepted(msg: Msg, fd: number): void {
    const family = msg.family === 6 ? 6 : 4;
    const port = Number(msg.port);
    this.#opening.add(fd);
    this.#nsSocket(family, (nsFd) => {
      if (!this.#opening.delete(fd)) {
        if (nsFd !== null) native.close(nsFd, true);
        return;
      }
      if (nsFd === null) return resetClose(fd);
      this.#join(fd, nsFd, family, port, false);
    });
  }

  /** Connects B to the loopback (of B's namespace) at `port` and joins it to A; resets A on failure. */
  #join(fdA: number, fdB: number, family: 4 | 6, port: number, outbound: boolean): void {
    let pending: boolean;
    try {
      native.setNonBlocking(fdB, true);
      pending = native.connectInet(fdB, loopbackOf(family), port) !== 0 && !establishedNow(fdB);
    } catch (e) {
      this.#env.counters.add(`connect-error:${codeOf(e)}`);
      native.close(fdB, true);
      return resetClose(fdA);
    }
    const pipes = this.#takePipes();
    if (!pipes) {
      native.close(fdB, true);
      return resetClose(fdA);
    }
    const c = this.#insert(fdA, fdB, pipes, pending, outbound);
    if (!pending) this.#env.counters.add('connected-at-once');
    if (!pending) this.#run(c);
  }

  // --- -T: listeners on the namespace's loopback ---------------------------------------------------

  #openNsListener(spec: ListenSpec, auto: boolean): void {
    const key = listenKey(spec);
    (auto ? this.#autoPending : this.#staticPending).add(key);
    this.#nsSocket(spec.family, (fd) => {
      (auto ? this.#autoPending : this.#staticPending).delete(key);
      if (fd === null) return this.#env.log.warn(`-T: no socket in the namespace for port ${spec.port}`);
      // no longer wanted (-T changed meanwhile), or already open (asked twice)
      const wanted = auto ? this.#autoWanted.has(key) : this.#staticWanted.has(key);
      const open = [...this.#listeners.values()].some((l) => l.auto === auto && listenKey(l.spec) === key);
      if (this.#stopped || !wanted || open) return native.close(fd, true);
      try {
        native.setsockoptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
        if (spec.family === 6) native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
        native.bindInet(fd, spec.addr ?? loopbackOf(spec.family), spec.port);
        native.listen(fd, LISTEN_BACKLOG);
      } catch (e) {
        native.close(fd, true);
        return auto ? this.#autoListenFailed(key, e) : this.#listenFailed(spec, e);
      }
      const id = this.#nextId++;
      this.#listeners.set(id, { fd, spec, auto });
      if (auto) this.#autoOpen.set(key, id);
      this.#env.epollAdd(fd, Proto.Splice, LISTENER_AUX, id, LISTEN_EVENTS);
      this.#env.counters.add('listeners-opened');
    });
  }

  #closeListener(id: number): void {
    const l = this.#listeners.get(id);
    if (!l) return;
    this.#env.epollDel(Proto.Splice, LISTENER_AUX, id);
    native.close(l.fd, true);
    this.#listeners.delete(id);
    if (l.auto) this.#autoOpen.delete(listenKey(l.spec));
    this.#env.counters.add('listeners-closed');
  }

  /**
   * The namespace's loopback address may not be there yet right after start (IPv6 ::1 comes with lo
   * going up): EADDRNOTAVAIL is retried every second for a while; anything else is a warning.
   */
  #listenFailed(spec: ListenSpec, e: unknown): void {
    const tries = (this.#listenTries.get(spec) ?? 0) + 1;
    this.#listenTries.set(spec, tries);
    if (e instanceof ErrnoError && e.code === 'EADDRNOTAVAIL' && tries < LISTEN_TRIES) {
      this.#timers.push(setTimeout(() => this.#staticWanted.has(listenKey(spec)) && this.#openNsListener(spec, false), 1000));
      return;
    }
    this.#env.counters.add(`listen-failed:${codeOf(e)}`);
    this.#env.log.warn(`-T: cannot listen on port ${spec.port} in the namespace: ${e instanceof Error ? e.message : String(e)}`);
  }

  // --- -T auto: mirror the host's listening ports --------------------------------------------------

  /** Scans once the tcp actor said which ports are its own (or after AUTO_FIRST_SCAN_MS), then every second. */
  #startAutoScan(): void {
    this.#timers.push(setTimeout(() => this.#tcpPortsAre(null), AUTO_FIRST_SCAN_MS));
  }

  #tcpPortsAre(ports: unknown[] | null): void {
    const first = !this.#autoScanning;
    if (ports !== null) this.#tcpPorts = new Set(ports.map(Number));
    if (!first || this.#stopped || this.#tcpOut.mode !== 'auto') return;
    this.#autoScanning = true;
    this.#autoTimer = setInterval(() => this.#autoScan(), AUTO_SCAN_MS);
    this.#autoScan();
  }

  #autoScan(): void {
    const texts = HOST_PROC_FILES.map(readProcText);
    const wanted = autoListeners(mirroredPorts(texts, this.#tcpPorts ?? new Set()), this.#fam);
    this.#autoWanted = new Set(wanted.map(listenKey));
    for (const [key, id] of [...this.#autoOpen]) if (!this.#autoWanted.has(key)) this.#closeListener(id);
    for (const key of [...this.#autoRetryAt.keys()]) if (!this.#autoWanted.has(key)) this.#autoRetryAt.delete(key);
    const now = Date.now();
    for (const spec of wanted) {
      const key = listenKey(spec);
      if (this.#autoOpen.has(key) || this.#autoPending.has(key) || (this.#autoRetryAt.get(key) ?? 0) > now) continue;
      this.#openNsListener(spec, true);
    }
  }

  /** A mirrored port the namespace holds already (a service of its own): tried again later, quietly. */
  #autoListenFailed(key: string, e: unknown): void {
    this.#autoRetryAt.set(key, Date.now() + AUTO_RETRY_MS);
    this.#env.counters.add(`listen-failed:${codeOf(e)}`);
    this.#env.log.debug(`-T auto: cannot listen on ${key} in the namespace: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Connections to a -T listener: each joined to a host socket connecting to the host's loopback. */
  #acceptNs(id: number): void {
    const l = this.#listeners.get(id);
    if (!l) return;
    for (;;) {
      let a: { fd: number } | null;
      try {
        a = native.accept(l.fd);
      } catch (e) {
        return this.#env.counters.add(`accept-error:${codeOf(e)}`);
      }
      if (!a) return;
      let host: number;
      try {
        host = native.socket(l.spec.family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_STREAM, 0);
      } catch (e) {
        this.#env.counters.add(`socket-error:${codeOf(e)}`);
        resetClose(a.fd);
        continue;
      }
      this.#join(a.fd, host, l.spec.family, l.spec.target, true);
    }
  }

  #insert(fdA: number, fdB: number, pipes: [Pipe, Pipe], connecting: boolean, outbound: boolean): Conn {
    const index = this.#free.pop() ?? this.#conns.length;
    const gen = this.#gen;
    this.#gen = (this.#gen + 1) & GEN_MASK || 1;
    const c: Conn = {
      index, gen, a: newSide(fdA), b: newSide(fdB),
      ab: newDirection(pipes[0]), ba: newDirection(pipes[1]), connecting, outbound,
    };
    this.#conns[index] = c;
    this.#env.epollAdd(fdA, Proto.Splice, (gen << 1) | Side.A, index, SOCK_EVENTS);
    this.#env.epollAdd(fdB, Proto.Splice, (gen << 1) | Side.B, index, SOCK_EVENTS);
    this.#env.counters.add('flows-opened');
    this.#env.counters.add(outbound ? 'flows-outbound' : 'flows-inbound');
    return c;
  }

  #connectDone(c: Conn, events: number): void {
    let err = 0;
    try {
      err = native.getsockoptInt(c.b.fd, C.SOL_SOCKET, C.SO_ERROR);
    } catch (e) {
      err = (e as ErrnoError).errno ?? -1;
    }
    if (err !== 0 || (events & (C.EPOLLERR | C.EPOLLHUP)) !== 0) {
      this.#env.counters.add(`connect-error:${err}`);
      return this.#close(c, true);
    }
    if ((events & C.EPOLLOUT) === 0) return;
    c.connecting = false;
    this.#run(c);
  }

  // --- data --------------------------------------------------------------------------------------

  /** Pumps both directions; closes the connection when both are done, resets it on an error. */
  #run(c: Conn): void {
    if (c.connecting || this.#conns[c.index] !== c) return;
    let more = false;
    try {
      const inBefore = c.ab.bytes, outBefore = c.ba.bytes;
      more = pump(c.a, c.b, c.ab, io, PUMP_BUDGET) === 'budget';
      more = pump(c.b, c.a, c.ba, io, PUMP_BUDGET) === 'budget' || more;
      const ab = c.ab.bytes - inBefore, ba = c.ba.bytes - outBefore;
      this.#env.counters.add('bytes-in', c.outbound ? ba : ab);
      this.#env.counters.add('bytes-out', c.outbound ? ab : ba);
    } catch (e) {
      this.#env.counters.add(`error:${codeOf(e)}`);
      return this.#close(c, true);
    }
    if (finished(c)) return this.#close(c, false);
    if (more) this.#later(c);
  }

  /** A connection with bytes still to move after its budget: resume it after other events. */
  #later(c: Conn): void {
    this.#again.add(c);
    this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined;
      const batch = [...this.#again];
      this.#again.clear();
      for (const x of batch) this.#run(x);
    });
  }

  #sockError(c: Conn, s: SideState): void {
    let err = 0;
    try {
      err = native.getsockoptInt(s.fd, C.SOL_SOCKET, C.SO_ERROR);
    } catch {
      err = -1;
    }
    this.#env.counters.add(`error:${err}`);
    this.#close(c, true);
  }

  /** Removes both sockets from epoll, closes them (with a RST if `reset`), frees the slot and pipes. */
  #close(c: Conn, reset: boolean): void {
    this.#env.epollDel(Proto.Splice, (c.gen << 1) | Side.A, c.index);
    this.#env.epollDel(Proto.Splice, (c.gen << 1) | Side.B, c.index);
    if (reset) {
      resetClose(c.a.fd);
      resetClose(c.b.fd);
    } else {
      native.close(c.a.fd, true);
      native.close(c.b.fd, true);
    }
    this.#givePipe(c.ab);
    this.#givePipe(c.ba);
    this.#conns[c.index] = undefined;
    this.#free.push(c.index);
    this.#again.delete(c);
    this.#env.counters.add(reset ? 'flows-reset' : 'flows-closed');
  }

  // --- pipes -------------------------------------------------------------------------------------

  #takePipes(): [Pipe, Pipe] | null {
    const p = this.#takePipe();
    const q = p ? this.#takePipe() : null;
    if (p && q) return [p, q];
    if (p) this.#pipes.push(p);
    this.#env.counters.add('pipe-error');
    return null;
  }

  #takePipe(): Pipe | null {
    const pooled = this.#pipes.pop();
    if (pooled) return pooled;
    for (const size of PIPE_SIZES) {
      try {
        const [r, w] = native.pipe(size);
        this.#env.holdFd(r);
        this.#env.holdFd(w);
        return { r, w, size: size || 65536 };
      } catch {
        // F_SETPIPE_SZ refused (per-user pipe limits): try the default size
      }
    }
    return null;
  }

  /** A drained pipe goes back to the pool; one with bytes left in it is closed. */
  #givePipe(d: { pipe: Pipe; pending: number }): void {
    if (d.pending === 0 && this.#pipes.length < PIPE_POOL_MAX) this.#pipes.push(d.pipe);
    else this.#closePipe(d.pipe);
  }

  #closePipe(p: Pipe): void {
    native.close(p.r, true);
    native.close(p.w, true);
  }
}

/**
 * A loopback connect() usually completes within the call even when it says EINPROGRESS (the handshake
 * runs in the same softirq pass): then there is no need to wait for EPOLLOUT through the router.
 */
function establishedNow(fd: number): boolean {
  try {
    return native.tcpInfo(fd).state === TCP_ESTABLISHED;
  } catch {
    return false;
  }
}

/** SO_LINGER {1, 0} then close: the peer gets a RST. */
function resetClose(fd: number): void {
  try {
    native.setLinger(fd, 1, 0);
  } catch {
    // not a connected socket any more: a plain close will do
  }
  native.close(fd, true);
}

function codeOf(e: unknown): string {
  if (e instanceof ErrnoError) return e.code;
  throw e;
}

export function createActor(env: ActorEnv): Actor {
  return new SpliceActor(env);
}
