/**
 * Address translation of the TCP actor, between what the guest sees and what host sockets use. Pure.
 *
 * Guest to host (`outboundTarget`), first rule that applies:
 * 1. the DNS redirect of that IP version (--dns-forward ADDR, or the gateway standing for a loopback
 *    resolver; see ns/resolv.ts), port 53: the host's resolver, port 53;
 * 2. the gateway (and, for IPv6, our own link-local address, the router the guest learns from our RAs),
 *    unless --no-map-gw: the host's loopback (127.0.0.1, ::1), same port;
 * 3. other unicast destinations: the same address and port (IPv6 link-local ones scoped to the host's
 *    interface); unspecified, loopback, multicast and broadcast destinations are refused (dropped).
 * Outbound sockets to the host itself are never bound to -o / --outbound-if4/6 (`hostLocal`).
 * Host to guest (`guestSourceFor`, connections accepted on -t listeners): a peer on the host's loopback,
 * or using one of the host's own addresses (which the guest shares), appears as the gateway (without
 * map-gw it cannot be shown and the connection is refused); any other peer appears as itself.
 */
import {
  bytesEqual, formatIpv4, formatIpv6, isIpv4Loopback, isIpv4Mapped, isIpv4Multicast, isIpv4Unspecified,
  ipv4ToU32, isIpv6LinkLocal, isIpv6Loopback, isIpv6Multicast, isIpv6Unspecified, parseIpv4, parseIpv6,
} from '../../protocol/addr.js';
import { DNS_PORT, planDns } from '../../ns/resolv.js';
import type { ActorConfig } from '../../runtime/actor-config.js';
import { ourLinkLocal } from '../common/link-local.js';

export interface Redirect {
  match: Uint8Array;
  host: string;
}

export interface Bind {
  addr: string | null;
  ifname: string | null;
}

export interface TcpAddrPlan {
  /** the guest's own address per version (where accepted connections go) */
  guest4: Uint8Array | null;
  guest6: Uint8Array | null;
  gw4: Uint8Array | null;
  gw6: Uint8Array | null;
  /** our link-local address towards the guest */
  ll6: Uint8Array | null;
  mapGw: boolean;
  dns4: Redirect | null;
  dns6: Redirect | null;
  /** the host's own addresses (4 or 16 bytes) */
  own: Uint8Array[];
  /** the host interface that scopes IPv6 link-local destinations */
  scope6: string | null;
  /** -o / --outbound-if4/6 */
  bind4: Bind;
  bind6: Bind;
}

export interface OutboundTarget {
  addr: string;
  port: number;
  /** the host itself (loopback): no outbound binding */
  hostLocal: boolean;
}

const addr4 = (s: string | null | undefined): Uint8Array | null => (s ? parseIpv4(s) : null);
const addr6 = (s: string | null | undefined): Uint8Array | null => (s ? parseIpv6(s.replace(/%.*$/, '')) : null);

export function planAddresses(cfg: ActorConfig, nameservers: readonly string[]): TcpAddrPlan {
  const { cli, host, net } = cfg;
  const dns = planDns({
    dnsForward4: cli.ip4.dnsForward, dnsForward6: cli.ip6.dnsForward, gw4: net.gw4 ?? null, gw6: net.gw6 ?? null,
    mapGw: !cli.disabled.mapGw, nameservers,
  });
  const own = [host.ipv4?.addr, net.addr4].map(addr4).concat([host.ipv6?.addr, host.ipv6?.linkLocal, net.addr6].map(addr6));
  return {
    guest4: addr4(net.addr4), guest6: addr6(net.addr6), gw4: addr4(net.gw4), gw6: addr6(net.gw6), ll6: ourLinkLocal(cfg),
    mapGw: !cli.disabled.mapGw,
    dns4: redirect(dns.v4, addr4), dns6: redirect(dns.v6, addr6),
    own: own.filter((a): a is Uint8Array => a !== null),
    scope6: host.ipv6?.iface.name ?? null,
    bind4: { addr: cli.ip4.outbound, ifname: cli.ip4.outboundIf },
    bind6: { addr: cli.ip6.outbound, ifname: cli.ip6.outboundIf },
  };
}

function redirect(r: { match: string; host: string } | null, parse: (s: string) => Uint8Array | null): Redirect | null {
  const match = r ? parse(r.match) : null;
  return r && match ? { match, host: r.host } : null;
}

const same = (a: Uint8Array | null, b: Uint8Array, off: number): boolean =>
  a !== null && bytesEqual(a, 0, b, off, a.length);

/** Where a guest connection to dst:port goes on the host, or null if it is refused. */
export function outboundTarget(p: TcpAddrPlan, family: 4 | 6, dst: Uint8Array, off: number, port: number): OutboundTarget | null {
  const dns = family === 4 ? p.dns4 : p.dns6;
  if (port === DNS_PORT && dns && same(dns.match, dst, off)) {
    return { addr: dns.host, port: DNS_PORT, hostLocal: isLoopbackText(dns.host) };
  }
  if (p.mapGw && (same(family === 4 ? p.gw4 : p.gw6, dst, off) || (family === 6 && same(p.ll6, dst, off)))) {
    return { addr: family === 4 ? '127.0.0.1' : '::1', port, hostLocal: true };
  }
  return family === 4 ? unicast4(dst, off, port) : unicast6(p, dst, off, port);
}

function unicast4(dst: Uint8Array, off: number, port: number): OutboundTarget | null {
  const a = ipv4ToU32(dst, off);
  if (isIpv4Unspecified(a) || isIpv4Loopback(a) || isIpv4Multicast(a) || a === 0xffffffff) return null;
  return { addr: formatIpv4(dst, off), port, hostLocal: false };
}

function unicast6(p: TcpAddrPlan, dst: Uint8Array, off: number, port: number): OutboundTarget | null {
  if (isIpv6Unspecified(dst, off) || isIpv6Loopback(dst, off) || isIpv6Multicast(dst, off)) return null;
  const text = formatIpv6(dst, off);
  if (!isIpv6LinkLocal(dst, off)) return { addr: text, port, hostLocal: false };
  return p.scope6 ? { addr: `${text}%${p.scope6}`, port, hostLocal: false } : null;
}

function isLoopbackText(s: string): boolean {
  const a4 = parseIpv4(s);
  if (a4) return isIpv4Loopback(ipv4ToU32(a4));
  const a6 = addr6(s);
  return a6 !== null && (isIpv6Loopback(a6) || (isIpv4Mapped(a6) && isIpv4Loopback(ipv4ToU32(a6, 12))));
}

/** The source address the guest sees for a host peer at `peer` (text), or null if it cannot be shown. */
export function guestSourceFor(p: TcpAddrPlan, family: 4 | 6, peer: string): Uint8Array | null {
  let a = family === 4 ? addr4(peer) : addr6(peer);
  if (a === null) return null;
  if (family === 6 && isIpv4Mapped(a)) return null; // a v6-only listener never sees these
  if (isLoopbackText(peer) || p.own.some((o) => o.length === a!.length && bytesEqual(o, 0, a!, 0, o.length))) {
    a = p.mapGw ? (family === 4 ? p.gw4 : p.gw6) : null;
  }
  return a;
}
