/**
 * What an actor is, seen from the runtime.
 *
 * An actor is a module under src/actors/<name>/actor.ts exporting `createActor(env)`. The runtime
 * (actor-host.ts) runs it inside a piscina worker, either in the router's process or in a process of
 * its own (`--actors`), and gives it an `ActorEnv`: its channels, its epoll registrations (which the
 * router owns), its logger and counters. The actor never sees which of the two modes it runs in.
 */
import type { Msg } from './channel.js';
import type { Logger } from './log.js';
import type { ActorConfig } from './actor-config.js';

export const ACTOR_NAMES = ['tap', 'tcp', 'udp', 'icmp', 'splice'] as const;
export type ActorName = (typeof ACTOR_NAMES)[number];

export function isActorName(s: string): s is ActorName {
  return (ACTOR_NAMES as readonly string[]).includes(s);
}

/** Who a message came from: the router, or a peer actor over a direct link. */
export type Sender = 'router' | ActorName;

export interface ActorEnv {
  readonly name: ActorName;
  readonly config: ActorConfig;
  readonly log: Logger;
  /** Counters shown by the control socket and at exit; actors only ever add to them. */
  readonly counters: Counters;
  /** Sends to the router. fds move (see channel.ts). */
  toRouter(msg: Msg, fds?: number[]): void;
  /** Sends to a peer actor over the direct link; false if the peer is down right now (message dropped). */
  toPeer(peer: ActorName, msg: Msg, fds?: number[], transfer?: ArrayBuffer[]): boolean;
  /**
   * Registers `fd` in the router's epoll set with the reference (proto, aux, handle). The actor keeps
   * `fd`; the router keeps a duplicate until `epollDel`. Readiness comes back through `onReady`.
   */
  epollAdd(fd: number, proto: number, aux: number, handle: number, events: number): void;
  epollMod(proto: number, aux: number, handle: number, events: number): void;
  epollDel(proto: number, aux: number, handle: number): void;
  /**
   * An fd the actor MADE (a pipe, an accepted or new socket) and holds outside epoll: in thread mode the
   * router closes it if the actor's thread dies (one fd table: nobody else would). Fds that arrived in a
   * message are held already, and `native.close` ends the hold (runtime/owned-fds.ts). No effect in
   * process mode (the kernel closes them).
   */
  holdFd(fd: number): void;
}

export interface Actor {
  /** Readiness of an fd this actor registered. */
  onReady(proto: number, aux: number, handle: number, events: number): void;
  /** A message from the router or a peer; `fds` are now owned by the actor. */
  onMessage(from: Sender, msg: Msg, fds: number[]): void;
  /** Stop cleanly: close what you own. */
  stop(): void;
  /** The flows it carries right now, at most `max` (the control socket's `flows`); none if absent. */
  flows?(max: number): FlowInfo[];
}

/**
 * One flow as the control socket lists it. Addresses are as the guest sees them ("10.0.2.15:40000",
 * "[fd00::2]:443"); a spliced connection has no guest address: its two sockets' ends are named.
 */
export interface FlowInfo {
  proto: 'tcp' | 'udp' | 'icmp';
  /** who opened it: the guest (`out`), or a host peer through a forward (`in`) */
  dir: 'out' | 'in';
  /** `tap`: translated to and from the guest's frames; `splice`: joined socket to socket on loopback */
  path: 'tap' | 'splice';
  /** the guest's (or the namespace's) end */
  guest: string;
  /** the other end, as the guest sees it */
  remote: string;
  state: string;
  ageMs?: number;
  idleMs?: number;
  /** extra figures of the flow (bytes moved, queued, ...) */
  [more: string]: unknown;
}

/** "a.b.c.d:port" or "[v6]:port". */
export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export type ActorFactory = (env: ActorEnv) => Actor;

export class Counters {
  readonly values: Record<string, number> = Object.create(null) as Record<string, number>;

  add(name: string, n = 1): void {
    this.values[name] = (this.values[name] ?? 0) + n;
  }

  get(name: string): number {
    return this.values[name] ?? 0;
  }

  snapshot(): Record<string, number> {
    return { ...this.values };
  }
}
