/**
 * Inbound UDP forwarding (-u): which host ports to listen on, and where their datagrams go. Pure.
 *
 * - `-u SPEC` given: its ports ('spec' or 'all'), each to its target port, bound to the SPEC's address
 *   and interface if any; 'none' nothing; 'auto' (pasta) the UDP ports bound in the namespace, followed
 *   at run time (common/procnet.ts).
 * - `-u` not given: UDP follows TCP, as the man page says: TCP's forwarded ports, without translation
 *   (the same port number inside), or with `-t auto` the ports bound in the namespace, TCP listeners
 *   included (what Debian's 2023 pasta does in that mode).
 * - A listener bound to an address serves that address's IP version only; otherwise one listener per
 *   version the guest has.
 */
import type { ForwardConfig } from '../../config/config.js';
import type { PortForward } from '../../config/portspec.js';
import { isIPv4 } from 'node:net';

/** One host port to listen on. */
export interface ListenSpec {
  family: 4 | 6;
  port: number;
  /** the guest's port its datagrams go to */
  target: number;
  addr: string | null;
  ifname: string | null;
}

export type UdpForwardPlan =
  | { kind: 'none' }
  | { kind: 'static'; ranges: PortForward['ranges']; translate: boolean }
  | { kind: 'auto'; followTcp: boolean };

export function udpForwardPlan(fwd: ForwardConfig): UdpForwardPlan {
  const own = !fwd.udpInFollowsTcp;
  const source = own ? fwd.udpIn : fwd.tcpIn;
  switch (source.mode) {
    case 'none':
      return { kind: 'none' };
    case 'auto':
      return { kind: 'auto', followTcp: !own };
    case 'all':
    case 'spec':
      return { kind: 'static', ranges: source.ranges, translate: own };
    default:
      return { kind: 'none' };
  }
}

/** The listeners of a static plan, for the IP versions the guest has. */
export function staticListeners(plan: Extract<UdpForwardPlan, { kind: 'static' }>, families: readonly (4 | 6)[]): ListenSpec[] {
  const out: ListenSpec[] = [];
  for (const r of plan.ranges) {
    const fams = r.addr === null ? families : families.filter((f) => f === (isIPv4(r.addr!) ? 4 : 6));
    for (let p = r.first; p <= r.last; p++) {
      const target = plan.translate ? r.target + (p - r.first) : p;
      for (const family of fams) out.push({ family, port: p, target, addr: r.addr, ifname: r.ifname });
    }
  }
  return out;
}

/** The listeners for the ports `-u auto` found bound in the namespace. */
export function autoListeners(ports: Iterable<number>, families: readonly (4 | 6)[]): ListenSpec[] {
  const out: ListenSpec[] = [];
  for (const port of ports) for (const family of families) out.push({ family, port, target: port, addr: null, ifname: null });
  return out;
}

/** A listener's identity, for comparing the wanted set with the open one. */
export function listenKey(s: ListenSpec): string {
  return `${s.family}/${s.addr ?? ''}%${s.ifname ?? ''}:${s.port}>${s.target}`;
}
