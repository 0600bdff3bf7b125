/**
 * The actor host: the piscina task that runs one actor, in a worker thread of either the router's
 * process (`mode: 'port'`) or an actor process of its own (`mode: 'socket'`, `--actors`).
 *
 * Theory of operation
 * - The task connects its channel to the router and waits for `start` (the actor's config). It then
 *   imports the actor's module, creates the actor and answers `ready`.
 * - Router messages: `start`, `stop`, `ready` (epoll readiness, a flat [hi, lo, events, ...] batch),
 *   `link` (a direct channel to a peer actor: a MessagePort or a socket fd), `unlink`, `get-counters`.
 *   Everything else goes to the actor's `onMessage`.
 * - The task's promise settles when the actor stops: resolved on `stop` or when the router goes away,
 *   rejected (the worker dies) when the actor throws. The router's supervisor decides what follows.
 * - With tracing on, every message in or out of this actor is logged as a JSON line.
 */
import type { MessagePort } from 'node:worker_threads';
import { native, setBeforeClose } from '../native/index.js';
import { decodeRef, refHi, refLo } from './epoll-ref.js';
import { PortChannel, SocketChannel, type Channel, type Msg } from './channel.js';
import { Counters, isActorName, type Actor, type ActorEnv, type ActorFactory, type ActorName, type Sender } from './actor.js';
import type { ActorConfig } from './actor-config.js';
import { createLogger, type Logger } from './log.js';
import { summarize } from './trace.js';
import { OwnedFds, holdInShared } from './owned-fds.js';
import { configurePcap } from '../actors/common/pcap-writer.js';
import { configureTapFaults, configureTapWriters } from '../actors/common/tap-writer.js';
import { FaultInjector, applyToBatch, formatFaultSpec, hasFaults, packFrames, type FaultSpec } from './faults.js';

export interface ActorTask {
  name: ActorName;
  mode: 'port' | 'socket';
  port?: MessagePort;
  fd?: number;
}

const FACTORIES: Record<ActorName, () => Promise<ActorFactory>> = {
  tap: async () => (await import('../actors/tap/actor.js')).createActor,
  tcp: async () => (await import('../actors/tcp/actor.js')).createActor,
  udp: async () => (await import('../actors/udp/actor.js')).createActor,
  icmp: async () => (await import('../actors/icmp/actor.js')).createActor,
  splice: async () => (await import('../actors/splice/actor.js')).createActor,
};

function channelFor(mode: 'port' | 'socket', port: MessagePort | undefined, fd: number | undefined): Channel {
  if (mode === 'port' && port) return new PortChannel(port);
  if (mode === 'socket' && fd !== undefined) return new SocketChannel(fd);
  throw new Error(`actor task without a ${mode === 'port' ? 'port' : 'socket fd'}`);
}

class Host {
  readonly #router: Channel;
  readonly #links = new Map<ActorName, Channel>();
  /** thread mode: each linked peer's fd bitmap, where fds sent to it are marked until it reads them */
  readonly #peerOwned = new Map<ActorName, SharedArrayBuffer>();
  readonly #counters = new Counters();
  #owned = new OwnedFds();
  #actor: Actor | undefined;
  /** --fault / the control socket's `fault`: what happens to this actor's frames */
  #faults: FaultInjector | null = null;
  #stopped = false;
  #log: Logger | undefined;
  #config: ActorConfig | undefined;
  #done: (err?: unknown) => void = () => {};

  constructor(
    readonly name: ActorName,
    router: Channel,
  ) {
    this.#router = router;
    setBeforeClose((fd) => this.#owned.release(fd)); // this thread's closes unmark first (thread mode)
  }

  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#done = (err?: unknown) => (err === undefined ? resolve() : reject(err));
      this.#router.onMessage((msg, fds) => this.#fromRouter(msg, fds));
      this.#router.onClose(() => this.#stop());
    });
  }

  #trace(dir: 'in' | 'out', peer: Sender, msg: Msg, fds: number): void {
    if (!this.#config?.trace || !this.#log) return;
    this.#log.json({ ts: Date.now() / 1000, actor: this.name, dir, peer, fds, ...summarize(msg) });
  }

  #fromRouter(msg: Msg, fds: number[]): void {
    this.#trace('in', 'router', msg, fds.length);
    // fds from the router arrive marked in this thread's bitmap (thread mode) and stay marked until
    // closed here (the close hook) or sent away: a thread ended at any point leaves none open
    switch (msg.t) {
      case 'start':
        // thread mode: the router's bitmap for this incarnation, marked since launch (see OwnedFds)
        if (msg.owned instanceof SharedArrayBuffer) this.#owned = new OwnedFds(msg.owned);
        void this.#start(msg.config as ActorConfig).catch((e: unknown) => this.#done(e));
        return;
      case 'stop':
        return this.#stop();
      case 'ready':
        return this.#dispatchReady(msg.ev as number[]);
      case 'link':
        return this.#link(msg, fds);
      case 'unlink':
        return this.#unlink(msg.peer as string);
      case 'get-counters':
        return this.#sendRouter({ t: 'counters', id: msg.id, c: this.#counters.snapshot() });
      case 'get-flows':
        return this.#sendRouter({ t: 'flows', id: msg.id, flows: this.#flows(Number(msg.max) || 0) });
      case 'set-faults':
        return this.#setFaults(msg.spec as FaultSpec);
      default:
        if (this.#actor) this.#actor.onMessage('router', msg, fds);
        else for (const fd of fds) native.close(fd, true);
    }
  }

  async #start(config: ActorConfig): Promise<void> {
    this.#config = config;
    this.#log = createLogger(config.log).child(this.name);
    configurePcap(config.cli?.pcapFile ?? null); // -p: this thread's capture writer (TapWriter, tap actor)
    // passt: only the tap actor writes qemu's socket; this thread's TapWriters send it their frames
    configureTapWriters(
      config.mode === 'passt' && this.name !== 'tap'
        ? (buf, lens) => this.#sendPeer('tap', { t: 'frames', buf, lens }, [], [buf.buffer as ArrayBuffer])
        : null,
    );
    const factory = await FACTORIES[this.name]();
    this.#actor = factory(this.#env(config, this.#log));
    this.#sendRouter({ t: 'ready', pid: process.pid, tid: native.gettid() });
  }

  #env(config: ActorConfig, log: Logger): ActorEnv {
    return {
      name: this.name,
      config,
      log,
      counters: this.#counters,
      toRouter: (msg, fds) => this.#sendRouter(msg, fds),
      toPeer: (peer, msg, fds, transfer) => this.#sendPeer(peer, msg, fds, transfer),
      epollAdd: (fd, proto, aux, handle, events) => {
        this.#owned.add(refHi(proto, aux), refLo(handle), fd);
        this.#sendRouter({ t: 'epoll-add', hi: refHi(proto, aux), lo: refLo(handle), events }, [native.dup(fd)]);
      },
      epollMod: (proto, aux, handle, events) =>
        this.#sendRouter({ t: 'epoll-mod', hi: refHi(proto, aux), lo: refLo(handle), events }),
      epollDel: (proto, aux, handle) => {
        this.#owned.remove(refHi(proto, aux), refLo(handle));
        this.#sendRouter({ t: 'epoll-del', hi: refHi(proto, aux), lo: refLo(handle) });
      },
      holdFd: (fd) => this.#owned.hold(fd),
    };
  }

  // --- fault injection (runtime/faults.ts) ------------------------------------------------------

  #setFaults(spec: FaultSpec): void {
    this.#faults = hasFaults(spec) ? new FaultInjector(spec) : null;
    configureTapFaults(this.#faults && { injector: this.#faults, crash: () => this.#faultCrash() });
    this.#log?.info(`faults: ${formatFaultSpec(spec)}`);
  }

  /**
   * A `frames` batch through the injector: `deliver` gets what passes now (one batch) and, later, each
   * frame held back. Which batches: those an actor receives from the guest's side (from the tap actor),
   * and for the tap actor those it hands on from the guest (`in`) or receives for it (`out`, passt).
   */
  #filterFrames(m: Msg, deliver: (msg: Msg) => void): void {
    const r = applyToBatch(this.#faults!, m.buf as Uint8Array, m.lens as number[]);
    const c = this.#counters;
    if (r.dropped) c.add('fault-dropped', r.dropped);
    if (r.duplicated) c.add('fault-duplicated', r.duplicated);
    if (r.corrupted) c.add('fault-corrupted', r.corrupted);
    if (r.now.length > 0) deliver({ ...m, ...packFrames(r.now) });
    for (const { delayMs, frame } of r.later) {
      c.add('fault-delayed');
      setTimeout(() => this.#stopped || deliver({ t: 'frames', ...packFrames([frame]) }), delayMs).unref();
    }
    if (r.crash) this.#faultCrash();
  }

  /** An injected crash: the router is told (it is injected once), then the actor ends as a crash would. */
  #faultCrash(): void {
    this.#sendRouter({ t: 'fault-crash' });
    setImmediate(() => {
      throw new Error(`${this.name}: injected crash (--fault)`);
    });
  }

  /** The actor's flows for the control socket; a failure is logged and counted, never fatal. */
  #flows(max: number): unknown[] {
    try {
      return this.#actor?.flows?.(max) ?? [];
    } catch (e) {
      this.#counters.add('flows-listing-error');
      this.#log?.warn(`listing flows: ${e instanceof Error ? e.message : String(e)}`);
      return [];
    }
  }

  #sendRouter(msg: Msg, fds: number[] = []): void {
    this.#trace('out', 'router', msg, fds.length);
    for (const fd of fds) this.#owned.release(fd); // the router's now
    this.#router.send(msg, fds);
  }

  #sendPeer(peer: ActorName, msg: Msg, fds: number[] = [], transfer: ArrayBuffer[] = []): boolean {
    const link = this.#links.get(peer);
    if (!link) {
      for (const fd of fds) native.close(fd, true);
      return false;
    }
    this.#trace('out', peer, msg, fds.length);
    if (this.name === 'tap' && msg.t === 'frames' && fds.length === 0 && this.#faults?.applies('in')) {
      // the guest's frames, on their way to a protocol actor
      this.#filterFrames(msg, (x) => this.#links.get(peer)?.send(x, [], [(x.buf as Uint8Array).buffer as ArrayBuffer]));
      return true;
    }
    const owned = this.#peerOwned.get(peer);
    for (const fd of fds) {
      this.#owned.release(fd); // no longer ours (unmarked first: ended in between, it leaks, never doubles)
      if (owned) holdInShared(owned, fd); // the router closes it if the peer dies before closing it
    }
    link.send(msg, fds, transfer);
    return true;
  }

  #dispatchReady(ev: number[]): void {
    const actor = this.#actor;
    if (!actor) return;
    const d = { proto: 0, aux: 0, handle: 0 };
    for (let i = 0; i + 2 < ev.length; i += 3) {
      decodeRef(ev[i]!, ev[i + 1]!, d);
      actor.onReady(d.proto, d.aux, d.handle, ev[i + 2]!);
    }
  }

  #link(msg: Msg, fds: number[]): void {
    const peer = String(msg.peer);
    if (!isActorName(peer)) throw new Error(`link to unknown actor ${peer}`);
    this.#links.get(peer)?.close();
    const ch = msg.port ? new PortChannel(msg.port as MessagePort) : new SocketChannel(fds[0]!);
    if (msg.owned instanceof SharedArrayBuffer) this.#peerOwned.set(peer, msg.owned);
    else this.#peerOwned.delete(peer);
    ch.onMessage((m, f) => {
      this.#trace('in', peer, m, f.length);
      if (!this.#actor) for (const fd of f) native.close(fd, true);
      else if (m.t === 'frames' && this.#faults?.applies(this.name === 'tap' ? 'out' : 'in')) {
        this.#filterFrames(m, (x) => this.#actor?.onMessage(peer, x, []));
      }
      else this.#actor.onMessage(peer, m, f);
    });
    ch.onClose(() => {
      if (this.#links.get(peer) === ch) this.#links.delete(peer);
    });
    this.#links.set(peer, ch);
    this.#actor?.onMessage(peer, { t: 'link-up' }, []);
  }

  #unlink(peer: string): void {
    if (!isActorName(peer)) return;
    const ch = this.#links.get(peer);
    this.#links.delete(peer);
    this.#peerOwned.delete(peer);
    ch?.close();
  }

  #stop(): void {
    this.#stopped = true;
    try {
      this.#actor?.stop();
    } finally {
      for (const ch of this.#links.values()) ch.close();
      this.#links.clear();
      this.#router.close();
      this.#log?.close();
      this.#done();
    }
  }
}

/** The piscina task: runs the actor until it stops. */
export default function runActor(task: ActorTask): Promise<void> {
  return new Host(task.name, channelFor(task.mode, task.port, task.fd)).run();
}
