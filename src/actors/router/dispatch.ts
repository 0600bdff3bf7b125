/**
 * Which actor owns the fds of each protocol of the epoll reference: the router's flat switch.
 * Pure, so it is tested without sockets.
 */
import { Proto } from '../../runtime/epoll-ref.js';
import type { ActorName } from '../../runtime/actor.js';

export type Owner = ActorName | 'router';

/** The owner of a protocol, or undefined for a protocol number nobody registers (a bug: dropped). */
export function ownerOf(proto: number): Owner | undefined {
  switch (proto) {
    case Proto.Tap:
      return 'tap';
    case Proto.Tcp:
    case Proto.TcpListen:
    case Proto.TcpTimer:
      return 'tcp';
    case Proto.Udp:
    case Proto.UdpListen:
    case Proto.UdpSplice:
      return 'udp';
    case Proto.Icmp:
      return 'icmp';
    case Proto.Splice:
      return 'splice';
    case Proto.TapListen: // passt's listening socket: accepted in the router's thread (passt.ts), so the
    // client's socket is a router-kept fd that outlives tap-actor restarts, as the tap device does
    case Proto.Timer:
    case Proto.Control:
    case Proto.Channel:
    case Proto.NsQuit:
      return 'router';
    default:
      return undefined;
  }
}

/** The direct links the router sets up between actors (frames flow over them, not through the router). */
export const LINKS: readonly (readonly [ActorName, ActorName])[] = [
  ['tap', 'tcp'],
  ['tap', 'udp'],
  ['tap', 'icmp'],
  ['tcp', 'splice'],
];

export function peersOf(name: ActorName): ActorName[] {
  const out: ActorName[] = [];
  for (const [a, b] of LINKS) {
    if (a === name) out.push(b);
    else if (b === name) out.push(a);
  }
  return out;
}
