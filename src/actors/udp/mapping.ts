/**
 * Address mapping between what the guest sees and what the host's sockets use. Pure.
 *
 * Guest to host (`outboundTarget`), first rule that applies:
 * 1. the --dns-forward address (or the gateway standing for a loopback resolver), port 53: the host's
 *    resolver, port 53;
 * 2. the gateway (IPv4 or IPv6), unless --no-map-gw: the host's loopback (127.0.0.1, ::1), same port;
 * 3. anything else unicast: the same address and port;
 *    unspecified, loopback, multicast, broadcast and (IPv6) other link-local destinations are dropped.
 * Host to guest (`guestViewOfPeer`), for datagrams arriving on -u listeners: a peer on the host's
 * loopback, or using the host's own address (which the guest shares), appears as the gateway (without
 * map-gw such a peer cannot be shown and is dropped); any other peer appears as itself.
 * Replies on a flow opened by the guest need no mapping: the flow remembers what the guest addressed.
 */
import {
  bytesEqual,
  formatIpv4,
  formatIpv6,
  ipv4ToU32,
  isIpv4Loopback,
  isIpv4Multicast,
  isIpv4Unspecified,
  isIpv6LinkLocal,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  parseIpv4,
  parseIpv6,
} from '../../protocol/addr.js';
import { DNS_PORT, type DnsPlan } from '../../ns/resolv.js';

export type Family = 4 | 6;

export interface DnsTarget {
  /** the address the guest queries (bytes) */
  match: Uint8Array;
  /** the host resolver it stands for */
  host: string;
}

export interface AddressMap {
  gw4: Uint8Array | null;
  gw6: Uint8Array | null;
  mapGw: boolean;
  dns4: DnsTarget | null;
  dns6: DnsTarget | null;
  /** the guest's IPv4 subnet broadcast address (u32), if known */
  broadcast4: number | null;
  /** addresses of the host (and so of the guest, which copies them) as text */
  hostOwn: readonly string[];
}

export interface MapInput {
  gw4?: string | undefined;
  gw6?: string | undefined;
  addr4?: string | undefined;
  prefix4?: number | undefined;
  mapGw: boolean;
  dns: Pick<DnsPlan, 'v4' | 'v6'>;
  hostOwn: readonly string[];
}

export function makeAddressMap(i: MapInput): AddressMap {
  return {
    gw4: i.gw4 !== undefined ? parseIpv4(i.gw4) : null,
    gw6: i.gw6 !== undefined ? parseIpv6(i.gw6) : null,
    mapGw: i.mapGw,
    dns4: dnsTarget(i.dns.v4, parseIpv4),
    dns6: dnsTarget(i.dns.v6, parseIpv6),
    broadcast4: broadcastOf(i.addr4, i.prefix4),
    hostOwn: i.hostOwn.map(canonical),
  };
}

/** inet_ntop's form of an address (how the addon reports peers), so that text compares work. */
function canonical(addr: string): string {
  const v4 = parseIpv4(addr);
  if (v4) return formatIpv4(v4);
  const v6 = parseIpv6(addr);
  return v6 ? formatIpv6(v6) : addr;
}

function dnsTarget(r: { match: string; host: string } | null, parse: (s: string) => Uint8Array | null): DnsTarget | null {
  const match = r ? parse(r.match) : null;
  return r && match ? { match, host: r.host } : null;
}

function broadcastOf(addr: string | undefined, prefix: number | undefined): number | null {
  const a = addr !== undefined ? parseIpv4(addr) : null;
  if (a === null || prefix === undefined || prefix >= 31) return null;
  return (ipv4ToU32(a) | (0xffffffff >>> prefix)) >>> 0;
}

/** Where a guest datagram goes on the host; `via` says which rule applied. */
export interface OutboundTarget {
  addr: string;
  port: number;
  via: 'dns' | 'gateway' | 'direct';
}

export type DropReason = 'unspecified' | 'loopback' | 'multicast' | 'broadcast' | 'link-local';

/** The host destination of a guest datagram to (b[off..], port), or why it is dropped. */
export function outboundTarget(m: AddressMap, family: Family, b: Uint8Array, off: number, port: number): OutboundTarget | DropReason {
  const len = family === 4 ? 4 : 16;
  const dns = family === 4 ? m.dns4 : m.dns6;
  if (dns && port === DNS_PORT && bytesEqual(b, off, dns.match, 0, len)) return { addr: dns.host, port, via: 'dns' };
  const gw = family === 4 ? m.gw4 : m.gw6;
  if (m.mapGw && gw && bytesEqual(b, off, gw, 0, len)) return { addr: family === 4 ? '127.0.0.1' : '::1', port, via: 'gateway' };
  const drop = family === 4 ? dropReason4(m, ipv4ToU32(b, off)) : dropReason6(b, off);
  if (drop) return drop;
  return { addr: family === 4 ? formatIpv4(b, off) : formatIpv6(b, off), port, via: 'direct' };
}

function dropReason4(m: AddressMap, a: number): DropReason | null {
  if (isIpv4Unspecified(a)) return 'unspecified';
  if (isIpv4Loopback(a)) return 'loopback';
  if (isIpv4Multicast(a)) return 'multicast';
  if (a === 0xffffffff || a === m.broadcast4) return 'broadcast';
  return null;
}

function dropReason6(b: Uint8Array, off: number): DropReason | null {
  if (isIpv6Unspecified(b, off)) return 'unspecified';
  if (isIpv6Loopback(b, off)) return 'loopback';
  if (isIpv6Multicast(b, off)) return 'multicast';
  if (isIpv6LinkLocal(b, off)) return 'link-local';
  return null;
}

/** How a host peer (text address of a `family` socket) appears to the guest; null if it cannot. */
export function guestViewOfPeer(m: AddressMap, family: Family, addr: string): Uint8Array | null {
  const bytes = family === 4 ? parseIpv4(addr) : parseIpv6(addr);
  if (bytes === null) return null;
  const local = family === 4 ? isIpv4Loopback(ipv4ToU32(bytes)) : isIpv6Loopback(bytes);
  if (!local && !m.hostOwn.includes(addr)) return bytes;
  const gw = family === 4 ? m.gw4 : m.gw6;
  return m.mapGw && gw ? gw : null;
}
