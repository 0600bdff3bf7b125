/**
 * Which host listeners the inbound forwarding (`-t`) needs. Pure: the actor opens and closes the sockets.
 *
 * - Static specs (`-t 22`, `-t 8000-8010:9000-9010`, `-t 10.0.0.1/80`, `-t %eth0/443`, passt's `all`):
 *   one listener per forwarded port and IP version; a range bound to an IPv4 (IPv6) address only
 *   listens on IPv4 (IPv6).
 * - `auto` (pasta's default): the ports listening inside the namespace, read from its /proc/net/tcp and
 *   /proc/net/tcp6 about once a second, each forwarded to the same port on both IP versions. Sockets
 *   bound to the namespace's loopback are left out: nothing from the tap can reach them.
 * A listener is known by its key (version, address, interface, port); the actor diffs the wanted set
 * against the open one.
 */
import { ProcState, boundPorts } from '../common/procnet.js';
import type { PortForward } from '../../config/portspec.js';

export interface ListenSpec {
  family: 4 | 6;
  /** bind address (text), null for any */
  addr: string | null;
  /** SO_BINDTODEVICE, null for none */
  ifname: string | null;
  port: number;
  /** the port in the guest */
  target: number;
}

export interface Families {
  v4: boolean;
  v6: boolean;
}

/** /proc/net/tcp state of a listening socket. */

export function listenKey(s: ListenSpec): string {
  return `${s.family}/${s.addr ?? '*'}%${s.ifname ?? ''}:${s.port}>${s.target}`;
}

function familiesOf(addr: string | null, fam: Families): (4 | 6)[] {
  if (addr !== null) return addr.includes(':') ? (fam.v6 ? [6] : []) : fam.v4 ? [4] : [];
  const out: (4 | 6)[] = [];
  if (fam.v4) out.push(4);
  if (fam.v6) out.push(6);
  return out;
}

/** Listeners of a static forwarding ('spec' or 'all'); none for 'none' and 'auto'. */
export function staticListeners(fwd: PortForward, fam: Families): ListenSpec[] {
  if (fwd.mode !== 'spec' && fwd.mode !== 'all') return [];
  const out: ListenSpec[] = [];
  for (const r of fwd.ranges) {
    for (const family of familiesOf(r.addr, fam)) {
      for (let p = r.first; p <= r.last; p++) {
        if (p === 0) continue;
        out.push({ family, addr: r.addr, ifname: r.ifname, port: p, target: r.target + (p - r.first) });
      }
    }
  }
  return out;
}

/** Listeners for `auto`: each port on each enabled version, untranslated. */
export function autoListeners(ports: Iterable<number>, fam: Families): ListenSpec[] {
  const out: ListenSpec[] = [];
  for (const port of [...ports].sort((a, b) => a - b)) {
    for (const family of familiesOf(null, fam)) out.push({ family, addr: null, ifname: null, port, target: port });
  }
  return out;
}

/**
 * Adds to `out` the ports of the listening sockets in a /proc/net/tcp or tcp6 text, except those bound
 * to loopback.
 */
export function listeningPorts(text: string, out: Set<number> = new Set()): Set<number> {
  return boundPorts(text, ProcState.TcpListen, out);
}

/** What to open and what to close to go from the `open` keys to the `wanted` listeners. */
export function diffListeners(open: Iterable<string>, wanted: readonly ListenSpec[]): { add: ListenSpec[]; remove: string[] } {
  const want = new Map(wanted.map((s) => [listenKey(s), s]));
  const have = new Set(open);
  const add = [...want].filter(([k]) => !have.has(k)).map(([, s]) => s);
  const remove = [...have].filter((k) => !want.has(k));
  return { add, remove };
}
