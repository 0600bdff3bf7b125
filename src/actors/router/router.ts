/**
 * The router actor: the epoll loop, the fd ledger, the supervisor of every other actor.
 *
 * Theory of operation
 * - One epoll set, owned here, woken through libuv (a uv_poll on the epoll fd) so the router stays an
 *   ordinary Node event loop. Each wake-up drains epoll_wait() without blocking, decodes every 64-bit
 *   reference into (protocol, aux, handle), and sends each owning actor ONE `ready` message with all of
 *   its events of that wake-up. Frames never pass through here.
 * - Fd ledger: every fd in the epoll set is a router-owned duplicate, recorded with its reference and
 *   its owner actor. Actors register fds (`epoll-add`, the duplicate rides along) and release them
 *   (`epoll-del`). The router's own long-lived fds (the tap) are marked `keep`: they survive the
 *   owner's crash and a duplicate is handed to its successor.
 * - Supervision: each actor is an `Incarnation` (thread or process). When one ends, `decideRestart`
 *   (policy.ts) says restart, leave down or give up. Before a restart the dead actor's non-kept fds are
 *   removed from epoll and closed (their flows are reset by the kernel, the guest gets RSTs for them
 *   from the restarted actor), its peers are told to drop their links, and once the new incarnation is
 *   ready it gets its links and its kept fds back. The others never notice.
 * - Invariants: an fd is in the ledger iff it is in the epoll set; only this file calls epoll_ctl.
 */
import { native } from '../../native/index.js';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { summarize } from '../../runtime/trace.js';
import { holdInShared, newOwnedFdsBitmap, ownedFdsOf } from '../../runtime/owned-fds.js';
import type { Channel, Msg } from '../../runtime/channel.js';
import { ACTOR_NAMES, type ActorName, type FlowInfo } from '../../runtime/actor.js';
import type { ForwardConfig } from '../../config/config.js';
import { hasFaults, type FaultSpec } from '../../runtime/faults.js';
import type { ActorConfig } from '../../runtime/actor-config.js';
import { Proto, decodeRef, protoName, refHi, refLo, refToBigInt } from '../../runtime/epoll-ref.js';
import type { Logger } from '../../runtime/log.js';
import { DEFAULT_POLICY, decideRestart, type RestartPolicy } from './policy.js';
import { LINKS, ownerOf, peersOf } from './dispatch.js';
import { startIncarnation, type ActorMode, type ExitInfo, type Incarnation } from './supervisor.js';

interface LedgerEntry {
  fd: number;
  owner: ActorName;
  hi: number;
  lo: number;
  events: number;
  /** router-originated fd, survives its owner's restarts */
  keep: boolean;
}

interface ActorSlot {
  name: ActorName;
  /** thread mode: the actor's registered fds, shared with its thread (closed here if it dies) */
  owned: SharedArrayBuffer | undefined;
  inc: Incarnation | undefined;
  ready: boolean;
  stopping: boolean;
  restarts: readonly number[];
  restartCount: number;
  /** restarts on purpose (resetActors: the control socket's `restart`, passt's client leaving) */
  resetCount: number;
  readyWaiters: (() => void)[];
  /** being restarted on purpose (resetActors): not a crash, not counted by the policy */
  resetting: boolean;
}

export interface RouterOptions {
  mode: ActorMode;
  log: Logger;
  actorConfig: (name: ActorName) => ActorConfig;
  policy?: RestartPolicy;
  /** which actors to run (default: all) */
  actors?: readonly ActorName[];
  /** log every message to and from the router as JSON lines (--trace-actors router) */
  trace?: boolean;
  /** forwards a request to the namespace helper (open a socket in the namespace, read a file there) */
  nsRequest?: (msg: Msg) => Promise<{ msg: Msg; fds: number[] }>;
  /**
   * Hand each frame-handling actor a duplicate of the tap to write frames (default true). passt:
   * false, the tap actor is the only writer of qemu's stream socket (the TapWriters send it frames).
   */
  tapWriters?: boolean;
  /** faults injected into actors' frames from their start (--fault) */
  faults?: Partial<Record<ActorName, FaultSpec>>;
}

export type RouterEvent =
  | { t: 'actor-ready'; name: ActorName; pid: number; restarts: number }
  | { t: 'actor-exit'; name: ActorName; how: string; decision: string }
  | { t: 'fatal'; reason: string }
  | { t: 'tap-closed' };

const MAX_EVENTS = 256;
/** epoll_ctl operations (Linux ABI) */
const EPOLL = { CTL_ADD: 1, CTL_DEL: 2, CTL_MOD: 3 } as const;

export class Router {
  readonly #log: Logger;
  readonly #opts: RouterOptions;
  readonly #policy: RestartPolicy;
  readonly #slots = new Map<ActorName, ActorSlot>();
  readonly #ledger = new Map<bigint, LedgerEntry>();
  readonly #events = new Uint32Array(MAX_EVENTS * 3);
  readonly #listeners: ((e: RouterEvent) => void)[] = [];
  /** faults each actor runs with (sent after `start`, and when changed) */
  readonly #faults = new Map<ActorName, FaultSpec>();
  /** answers awaited from actors (`get-counters`, `get-flows`), by request id */
  readonly #answerWaiters = new Map<number, (msg: Msg) => void>();
  #epfd = -1;
  #pollId = -1;
  #nextRequest = 1;
  #stopping = false;
  /** readiness of the router's own protocols (control socket, timers) */
  #ownHandlers = new Map<number, (handle: number, events: number) => void>();

  constructor(opts: RouterOptions) {
    this.#opts = opts;
    this.#log = opts.log.child('router');
    this.#policy = opts.policy ?? DEFAULT_POLICY;
    for (const name of opts.actors ?? ACTOR_NAMES) this.#slots.set(name, this.#newSlot(name));
    for (const [name, spec] of Object.entries(opts.faults ?? {})) if (spec && hasFaults(spec)) this.#faults.set(name as ActorName, spec);
  }

  #newSlot(name: ActorName): ActorSlot {
    return { name, owned: undefined, inc: undefined, ready: false, stopping: false, restarts: [], restartCount: 0, resetCount: 0, readyWaiters: [], resetting: false };
  }

  on(listener: (e: RouterEvent) => void): void {
    this.#listeners.push(listener);
  }

  #emit(e: RouterEvent): void {
    for (const l of this.#listeners) l(e);
  }

  /** Starts the epoll loop and every actor; resolves once all are ready. */
  async start(): Promise<void> {
    this.#epfd = native.epollCreate();
    this.#pollId = native.pollStart(this.#epfd, () => this.#drain());
    for (const slot of this.#slots.values()) this.#launch(slot);
    await Promise.all([...this.#slots.values()].map((s) => this.#whenReady(s)));
  }

  #whenReady(slot: ActorSlot): Promise<void> {
    if (slot.ready) return Promise.resolve();
    return new Promise((resolve) => slot.readyWaiters.push(resolve));
  }

  /** Registers a router-owned fd for `owner`'s protocol. The router keeps `fd`; the owner gets a dup. */
  addKeptFd(fd: number, proto: number, aux: number, handle: number, events: number): void {
    const owner = ownerOf(proto);
    if (owner === undefined || owner === 'router') throw new Error(`no actor owns protocol ${protoName(proto)}`);
    native.setNonBlocking(fd, true); // the actor drains it until EAGAIN; a blocking read would hang it
    this.#ledgerAdd({ fd, owner, hi: refHi(proto, aux), lo: refLo(handle), events, keep: true });
    this.#handKeptFd(owner, fd, proto);
    if (proto === Proto.Tap) for (const peer of peersOf('tap')) this.#handTapWriterTo(this.#slots.get(peer));
  }

  /**
   * Removes a router-kept fd (passt: the client's socket once it is gone) from epoll and closes it.
   * The owner has closed its own duplicate already.
   */
  removeKeptFd(proto: number, aux: number, handle: number): void {
    const key = refToBigInt(refHi(proto, aux), refLo(handle));
    const e = this.#ledger.get(key);
    if (e?.keep) this.#ledgerRemove(key, e);
  }

  /** Registers an fd the router itself handles (control socket, namespace watcher). */
  addOwnFd(fd: number, proto: number, handle: number, events: number, handler: (handle: number, events: number) => void): void {
    if (ownerOf(proto) !== 'router') throw new Error(`protocol ${protoName(proto)} is not the router's`);
    this.#ownHandlers.set(proto, handler);
    native.epollCtl(this.#epfd, EPOLL.CTL_ADD, fd, events >>> 0, refHi(proto, 0), refLo(handle));
  }

  #handKeptFd(owner: ActorName, fd: number, proto: number): void {
    const slot = this.#slots.get(owner);
    if (!slot?.ready || !slot.inc) return;
    this.#send(slot, { t: 'adopt', proto }, [native.dup(fd)]);
  }

  // --- epoll -------------------------------------------------------------------------------------

  #drain(): void {
    const batches = new Map<ActorName, number[]>();
    const d = { proto: 0, aux: 0, handle: 0 };
    for (;;) {
      const n = native.epollWait(this.#epfd, this.#events, MAX_EVENTS, 0);
      for (let i = 0; i < n; i++) this.#route(i, d, batches);
      if (n < MAX_EVENTS) break;
    }
    for (const [name, ev] of batches) this.#send(this.#slots.get(name), { t: 'ready', ev });
  }

  #route(i: number, d: { proto: number; aux: number; handle: number }, batches: Map<ActorName, number[]>): void {
    const hi = this.#events[3 * i]!, lo = this.#events[3 * i + 1]!, events = this.#events[3 * i + 2]!;
    decodeRef(hi, lo, d);
    const owner = ownerOf(d.proto);
    if (owner === 'router') return this.#ownHandlers.get(d.proto)?.(d.handle, events);
    if (owner === undefined) return this.#log.warn(`epoll reference of unknown protocol ${d.proto}: dropped`);
    if (!this.#slots.get(owner)?.ready) return; // owner restarting: its successor re-reads on adoption
    let batch = batches.get(owner);
    if (!batch) batches.set(owner, (batch = []));
    batch.push(hi, lo, events);
  }

  #ledgerAdd(e: LedgerEntry): void {
    const key = refToBigInt(e.hi, e.lo);
    const old = this.#ledger.get(key);
    if (old) this.#ledgerRemove(key, old);
    e.events >>>= 0; // EPOLLET is bit 31: a negative number in JS bit arithmetic
    native.epollCtl(this.#epfd, EPOLL.CTL_ADD, e.fd, e.events, e.hi, e.lo);
    this.#ledger.set(key, e);
  }

  #ledgerRemove(key: bigint, e: LedgerEntry): void {
    try {
      native.epollCtl(this.#epfd, EPOLL.CTL_DEL, e.fd, 0, 0, 0);
    } catch {
      // already gone from the set (closed elsewhere): the ledger entry goes anyway
    }
    native.close(e.fd, true);
    this.#ledger.delete(key);
  }

  // --- actor messages ------------------------------------------------------------------------------

  /** Sends to an actor's current incarnation (fds are closed if it is gone); traced with --trace-actors router. */
  #send(slot: ActorSlot | undefined, msg: Msg, fds: number[] = [], transfer: MessagePort[] = []): void {
    if (!slot?.inc) {
      for (const fd of fds) native.close(fd, true);
      return;
    }
    this.#trace('out', slot.name, msg, fds.length);
    if (slot.owned) for (const fd of fds) holdInShared(slot.owned, fd); // until the thread closes or sends them on
    slot.inc.channel.send(msg, fds, transfer);
  }

  #trace(dir: 'in' | 'out', peer: ActorName, msg: Msg, fds: number): void {
    if (this.#opts.trace) this.#log.json({ ts: Date.now() / 1000, actor: 'router', dir, peer, fds, ...summarize(msg) });
  }

  #fromActor(slot: ActorSlot, msg: Msg, fds: number[]): void {
    this.#trace('in', slot.name, msg, fds.length);
    switch (msg.t) {
      case 'ready':
        return this.#onActorReady(slot, Number(msg.pid));
      case 'epoll-add':
        return this.#onEpollAdd(slot, msg, fds);
      case 'epoll-mod':
        return this.#onEpollMod(slot, msg);
      case 'epoll-del':
        return this.#onEpollDel(slot, msg);
      case 'counters':
      case 'flows':
        this.#answerWaiters.get(Number(msg.id))?.(msg);
        this.#answerWaiters.delete(Number(msg.id));
        return;
      case 'tap-closed':
        return this.#emit({ t: 'tap-closed' });
      case 'ns':
        return this.#onNsRequest(slot, msg);
      case 'fault-crash':
        return this.#onFaultCrash(slot);
      default:
        for (const fd of fds) native.close(fd, true);
        this.#log.warn(`unexpected message '${msg.t}' from ${slot.name}: dropped`);
    }
  }

  /** An actor's request to the namespace helper: `{t: 'ns', id, req}` → `{t: 'ns-reply', id, msg | error}` (+ fds). */
  #onNsRequest(slot: ActorSlot, msg: Msg): void {
    const asker = slot.inc;
    const reply = (r: Record<string, unknown>, fds: number[] = []) => {
      // the incarnation that asked is gone: its successor did not ask (and may reuse the id)
      if (slot.inc !== asker) return fds.forEach((fd) => native.close(fd, true));
      this.#send(slot, { ...r, t: 'ns-reply', id: msg.id }, fds);
    };
    if (!this.#opts.nsRequest) return reply({ error: 'no namespace helper' });
    this.#opts.nsRequest(msg.req as Msg).then(
      (r) => reply({ msg: r.msg }, r.fds),
      (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
    );
  }

  #onEpollAdd(slot: ActorSlot, msg: Msg, fds: number[]): void {
    const fd = fds[0];
    if (fd === undefined) return this.#log.warn(`epoll-add from ${slot.name} without an fd: dropped`);
    for (const extra of fds.slice(1)) native.close(extra, true);
    const hi = Number(msg.hi), lo = Number(msg.lo);
    const owner = ownerOf(decodeRef(hi, lo).proto);
    if (owner !== slot.name) {
      native.close(fd, true);
      throw new Error(`${slot.name} registered an fd of protocol owned by ${String(owner)}`);
    }
    this.#ledgerAdd({ fd, owner: slot.name, hi, lo, events: Number(msg.events), keep: false });
  }

  #onEpollMod(slot: ActorSlot, msg: Msg): void {
    const key = refToBigInt(Number(msg.hi), Number(msg.lo));
    const e = this.#ledger.get(key);
    if (!e || e.owner !== slot.name) return this.#log.warn(`epoll-mod of an unknown reference from ${slot.name}`);
    e.events = Number(msg.events) >>> 0;
    native.epollCtl(this.#epfd, EPOLL.CTL_MOD, e.fd, e.events, e.hi, e.lo);
  }

  #onEpollDel(slot: ActorSlot, msg: Msg): void {
    const key = refToBigInt(Number(msg.hi), Number(msg.lo));
    const e = this.#ledger.get(key);
    if (e && e.owner === slot.name) this.#ledgerRemove(key, e);
  }

  // --- supervision ---------------------------------------------------------------------------------

  #launch(slot: ActorSlot): void {
    const inc = startIncarnation(slot.name, this.#opts.mode);
    slot.inc = inc;
    slot.ready = false;
    // A thread shares the router's fd table: what a dead thread still owned (its registered and held
    // fds, and fds in flight to it) is closed here, so its flows are reset as when an actor process dies.
    // The bitmap exists from launch on: fds sent before the thread is ready are marked too.
    slot.owned = this.#opts.mode === 'thread' ? newOwnedFdsBitmap() : undefined;
    inc.channel.onMessage((msg, fds) => this.#fromActor(slot, msg, fds));
    this.#send(slot, { t: 'start', config: this.#opts.actorConfig(slot.name), ...(slot.owned ? { owned: slot.owned } : {}) });
    const faults = this.#faults.get(slot.name);
    if (faults) this.#send(slot, { t: 'set-faults', spec: faults });
    void inc.exited.then((info) => this.#onExit(slot, inc, info));
  }

  #onActorReady(slot: ActorSlot, pid: number): void {
    slot.ready = true;
    this.#log.debug(`actor ${slot.name} ready (pid ${pid}, restarts ${slot.restartCount})`);
    this.#emit({ t: 'actor-ready', name: slot.name, pid, restarts: slot.restartCount });
    for (const peer of peersOf(slot.name)) this.#connect(slot.name, peer);
    for (const e of this.#ledger.values()) if (e.keep && e.owner === slot.name) this.#handKeptFd(slot.name, e.fd, decodeRef(e.hi, e.lo).proto);
    if (slot.name !== 'tap') this.#handTapWriterTo(slot);
    for (const w of slot.readyWaiters.splice(0)) w();
  }

  /** Gives a frame-handling actor its own write handle on the tap (each write is one whole frame). */
  #handTapWriterTo(slot: ActorSlot | undefined): void {
    if (this.#opts.tapWriters === false || !slot?.ready || !peersOf('tap').includes(slot.name)) return;
    for (const e of this.#ledger.values()) {
      if (e.keep && e.owner === 'tap' && decodeRef(e.hi, e.lo).proto === Proto.Tap) {
        this.#send(slot, { t: 'adopt-tap-writer' }, [native.dup(e.fd)]);
      }
    }
  }

  /** Creates a direct link between two ready actors. */
  #connect(a: ActorName, b: ActorName): void {
    const sa = this.#slots.get(a), sb = this.#slots.get(b);
    if (!sa?.ready || !sb?.ready || !sa.inc || !sb.inc) return;
    if (this.#opts.mode === 'thread') {
      const { port1, port2 } = new MessageChannel();
      // each side marks the fds it sends in the other's bitmap (closed here if the receiver dies first)
      this.#send(sa, { t: 'link', peer: b, port: port1, owned: sb.owned }, [], [port1]);
      this.#send(sb, { t: 'link', peer: a, port: port2, owned: sa.owned }, [], [port2]);
    } else {
      const [fa, fb] = native.socketpair('stream');
      this.#send(sa, { t: 'link', peer: b }, [fa]);
      this.#send(sb, { t: 'link', peer: a }, [fb]);
    }
  }

  #onExit(slot: ActorSlot, inc: Incarnation, info: ExitInfo): void {
    if (slot.inc !== inc) return;
    const wasReady = slot.ready;
    slot.ready = false;
    slot.inc = undefined;
    inc.channel.close();
    this.#releaseFdsOf(slot.name);
    if (!info.normal) this.#closeThreadFds(slot);
    for (const peer of peersOf(slot.name)) this.#send(this.#slots.get(peer), { t: 'unlink', peer: slot.name });
    if (this.#stopping || slot.stopping) return;
    if (slot.resetting) {
      slot.resetting = false;
      slot.resetCount++;
      return this.#launch(slot);
    }
    const d = decideRestart(this.#policy, slot.restarts, { kind: info.normal ? 'normal' : 'crash', wasReady, at: Date.now() });
    slot.restarts = d.history;
    const decision = d.action === 'restart' ? 'restart' : `${d.action}: ${d.reason}`;
    this.#log.warn(`actor ${slot.name} (pid ${inc.pid}) ended (${info.how}); ${decision}`);
    this.#emit({ t: 'actor-exit', name: slot.name, how: info.how, decision });
    if (d.action === 'restart') {
      slot.restartCount++;
      this.#launch(slot);
    } else if (d.action === 'give-up') {
      this.#emit({ t: 'fatal', reason: `actor ${slot.name}: ${d.reason} (last: ${info.how})` });
    }
  }

  /** A dead actor thread's own copies of its registered fds: nobody else would ever close them. */
  #closeThreadFds(slot: ActorSlot): void {
    if (!slot.owned) return;
    for (const fd of ownedFdsOf(slot.owned)) native.close(fd, true);
    slot.owned = undefined;
  }

  /** Drops a dead actor's fds from epoll and closes them; kept fds stay for its successor. */
  #releaseFdsOf(name: ActorName): void {
    for (const [key, e] of [...this.#ledger]) if (e.owner === name && !e.keep) this.#ledgerRemove(key, e);
  }

  // --- inspection & control --------------------------------------------------------------------------

  /**
   * Every actor: its current incarnation's pid, whether it is ready, how often it was restarted after
   * it ended on its own (`restarts`, what the policy counts) and on purpose (`resets`).
   */
  actorStatus(): { name: ActorName; pid: number | null; ready: boolean; restarts: number; resets: number }[] {
    return [...this.#slots.values()].map((s) => ({ name: s.name, pid: s.inc?.pid ?? null, ready: s.ready, restarts: s.restartCount, resets: s.resetCount }));
  }

  /** The pid of an actor's current incarnation (process mode: its own process). */
  actorPid(name: ActorName): number | undefined {
    return this.#slots.get(name)?.inc?.pid;
  }

  /** Kills an actor's current incarnation (as a crash would); the supervisor then applies the policy. */
  killActor(name: ActorName): void {
    this.#slots.get(name)?.inc?.kill();
  }

  /**
   * Restarts actors on purpose, as if they had crashed (their registered fds are closed, so every flow
   * they carried is reset; their listeners are opened anew), without counting it against the restart
   * policy: passt does this when its guest goes away. Resolves once the new incarnations are ready.
   */
  resetActors(names: readonly ActorName[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const name of names) {
      const slot = this.#slots.get(name);
      if (!slot?.inc || this.#stopping) continue;
      slot.resetting = true;
      waits.push(new Promise((resolve) => slot.readyWaiters.push(resolve)));
      slot.inc.kill();
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Asks an actor something it answers with `{id, ...}`: rejects if it is not running or silent. */
  #askActor(name: ActorName, msg: Msg, timeoutMs: number): Promise<Msg> {
    const slot = this.#slots.get(name);
    if (!slot?.ready || !slot.inc) return Promise.reject(new Error(`actor ${name} is not running`));
    const id = this.#nextRequest++;
    this.#send(slot, { ...msg, id });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#answerWaiters.delete(id);
        reject(new Error(`actor ${name} did not answer`));
      }, timeoutMs);
      this.#answerWaiters.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  /**
   * New port forwards (the control socket's `forward`): the actors that listen for them reconcile their
   * listeners. Actors started later get them with their configuration (the caller updated it).
   */
  setForward(forward: ForwardConfig): void {
    for (const name of ['tcp', 'udp', 'splice'] as const) {
      const slot = this.#slots.get(name);
      if (slot?.inc) this.#send(slot, { t: 'set-forward', forward });
    }
  }

  /** The faults actors run with now. */
  faults(): Partial<Record<ActorName, FaultSpec>> {
    return Object.fromEntries(this.#faults);
  }

  /** Faults for an actor from now on (and for its next incarnations); `NO_FAULTS` ends them. */
  setFaults(name: ActorName, spec: FaultSpec): void {
    if (hasFaults(spec)) this.#faults.set(name, spec);
    else this.#faults.delete(name);
    const slot = this.#slots.get(name);
    if (slot?.inc) this.#send(slot, { t: 'set-faults', spec });
  }

  /** An actor is about to end by an injected crash: injected once, its next incarnation runs on. */
  #onFaultCrash(slot: ActorSlot): void {
    const spec = this.#faults.get(slot.name);
    if (!spec) return;
    this.#log.warn(`actor ${slot.name}: injected crash`);
    const rest = { ...spec, crash: 0, crashAfter: 0 };
    if (hasFaults(rest)) this.#faults.set(slot.name, rest);
    else this.#faults.delete(slot.name);
  }

  /** Asks an actor for its counters. */
  async counters(name: ActorName, timeoutMs = 2000): Promise<Record<string, number>> {
    return (await this.#askActor(name, { t: 'get-counters' }, timeoutMs)).c as Record<string, number>;
  }

  /** Asks an actor for the flows it carries (at most `max`). */
  async flows(name: ActorName, max: number, timeoutMs = 2000): Promise<FlowInfo[]> {
    const { flows } = await this.#askActor(name, { t: 'get-flows', max }, timeoutMs);
    return Array.isArray(flows) ? (flows as FlowInfo[]) : [];
  }

  /** Counters of every running actor (those that answer in time). */
  async allCounters(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    await Promise.all(
      [...this.#slots.keys()].map(async (name) => {
        out[name] = await this.counters(name, 1000).catch(() => ({}));
      }),
    );
    return out;
  }

  /** Stops every actor (gracefully, then by force after the shutdown timeout) and closes the ledger. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await Promise.all([...this.#slots.values()].map((s) => this.#stopActor(s)));
    for (const [key, e] of [...this.#ledger]) this.#ledgerRemove(key, e);
    if (this.#pollId >= 0) native.pollStop(this.#pollId);
    if (this.#epfd >= 0) native.close(this.#epfd, true);
    this.#pollId = this.#epfd = -1;
  }

  async #stopActor(slot: ActorSlot): Promise<void> {
    const inc = slot.inc;
    if (!inc) return;
    slot.stopping = true;
    this.#send(slot, { t: 'stop' });
    const timer = setTimeout(() => inc.kill(), this.#policy.shutdownMs);
    await inc.exited;
    clearTimeout(timer);
  }

  /** Links currently wired, for the control socket and tests. */
  static links(): readonly (readonly [ActorName, ActorName])[] {
    return LINKS;
  }
}
