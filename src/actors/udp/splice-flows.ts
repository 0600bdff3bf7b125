/**
 * The UDP loopback fast path's pure part: flow keys, the bounded queue of a flow still waiting for its
 * socket, which -U listeners are wanted (SPEC or auto, with exclusions), and the listener diff.
 * No I/O: loopback.ts does the sockets.
 *
 * Theory of operation
 * - A spliced flow joins a listener socket on one side (a -u listener on the host, or a -U listener in
 *   the namespace) to a connected socket on the other side (in the namespace for -u, on the host for
 *   -U). Its key is (direction, listener identity, sender address, sender port): every loopback sender
 *   of a listener gets its own flow, and so its own source port on the other side.
 * - The flows live in a `FlowTable` (state.ts), with the same timeouts as the tap-path flows (30 s
 *   one-way, 120 s both ways; PASST_ACTORS_TEST_UDP_TIMEOUTS in tests).
 * - A -u flow's socket comes from the namespace helper (asynchronous): until it arrives, the flow's
 *   datagrams are copied into a `DatagramQueue` of at most QUEUE_MAX datagrams; more are dropped and
 *   counted by the caller.
 * - -U auto: the ports of the host's unconnected UDP sockets (loopback-bound included), minus the ports
 *   of this actor's own host-side -u listeners (which mirror the namespace's ports: without the exclusion
 *   -u auto and -U auto would mirror each other's listeners forever). The opposite direction needs no
 *   exclusion: -U listeners are bound to the namespace's loopback, which -u auto never forwards
 *   (common/procnet.ts), and a -U SPEC cannot name another address.
 */
import type { PortForward } from '../../config/portspec.js';
import { autoListeners, listenKey, staticListeners, type ListenSpec } from './forward.js';

/** Datagrams kept for a flow whose socket is not there yet. */
export const QUEUE_MAX = 64;

/** in: from a -u listener on the host to the namespace; out: from a -U listener in the namespace to the host. */
export type SpliceDir = 'in' | 'out';

/** A flow's key: direction, its listener (slot and generation), and the sender. */
export function spliceKey(dir: SpliceDir, listener: number, listenerGen: number, addr: string, port: number): string {
  return `${dir}/${listener}.${listenerGen}/${addr}/${port}`;
}

/** Copies of datagrams waiting for their flow's socket: at most `max`; `dropped` counts the rest. */
export class DatagramQueue {
  readonly items: Uint8Array[] = [];
  dropped = 0;

  constructor(readonly max = QUEUE_MAX) {}

  /** Keeps a copy of `data`; false (and counted) when the queue is full. */
  push(data: Uint8Array): boolean {
    if (this.items.length >= this.max) {
      this.dropped++;
      return false;
    }
    this.items.push(data.slice());
    return true;
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  take(): Uint8Array[] {
    return this.items.splice(0);
  }
}

/** What -U does: nothing, fixed listeners, or the host's ports followed at run time. */
export type UdpOutPlan = { kind: 'none' } | { kind: 'static'; specs: ListenSpec[] } | { kind: 'auto' };

/**
 * The -U plan: pasta only, not with --no-splice (`enabled` false) nor --no-udp; 'auto' is the default.
 * Listener addresses are left null here: they mean the namespace's loopback of their family.
 */
export function udpOutPlan(fwd: PortForward, enabled: boolean, families: readonly (4 | 6)[]): UdpOutPlan {
  if (!enabled) return { kind: 'none' };
  if (fwd.mode === 'auto') return { kind: 'auto' };
  if (fwd.mode !== 'spec' && fwd.mode !== 'all') return { kind: 'none' };
  return { kind: 'static', specs: staticListeners({ kind: 'static', ranges: fwd.ranges, translate: true }, families) };
}

/** -U auto: a listener per family for each host port, except the ports in `exclude`. */
export function mirrorListeners(hostPorts: Iterable<number>, exclude: ReadonlySet<number>, families: readonly (4 | 6)[]): ListenSpec[] {
  const ports = [...hostPorts].filter((p) => !exclude.has(p)).sort((a, b) => a - b);
  return autoListeners(ports, families);
}

/** The diff between the open listeners (by key) and the wanted ones: which keys to close, which specs to open. */
export function listenerDiff(open: Iterable<string>, wanted: readonly ListenSpec[]): { close: string[]; open: ListenSpec[] } {
  const have = new Set(open);
  const want = new Map(wanted.map((s) => [listenKey(s), s] as const));
  return {
    close: [...have].filter((k) => !want.has(k)),
    open: [...want].filter(([k]) => !have.has(k)).map(([, s]) => s),
  };
}
