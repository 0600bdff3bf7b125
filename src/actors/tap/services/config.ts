/**
 * What the guest services (ARP, DHCP, NDP, DHCPv6 responders) are told, and what they answer.
 *
 * Every responder is a pure function `(cfg, frame bytes, FrameClass, out, outOff) => ServiceResult`: it
 * reads the guest's request (already classified by protocol/classify.ts, so headers are bounded and
 * valid), decides like passt would, and either writes a complete reply frame (Ethernet, IP, UDP/ICMPv6,
 * lengths and checksums) at out[outOff] or returns why the request is dropped. No I/O, no clock, no state:
 * learning the guest's MAC and addresses from its frames is the caller's job, and replies always go to
 * the Ethernet source of the request.
 */
import { ETH_HEADER_LEN } from '../../../protocol/eth.js';
import type { FrameClass } from '../../../protocol/classify.js';

/** Static configuration of the guest services, derived once from the command line. */
export interface ServicesConfig {
  /** Our MAC: the source of every reply, and what ARP and NDP resolve every address to. */
  ourMac: Uint8Array;
  /** The guest's IPv4 address (DHCP yiaddr); null: no IPv4, DHCP is dropped. */
  ip4Addr: number | null;
  /** Prefix length of the guest's subnet (DHCP option 1). */
  ip4PrefixLen: number;
  /** The guest's default gateway (option 3; 0: none), also the DHCP server identifier and replies' source. */
  ip4Gateway: number;
  /** DNS servers for DHCP option 6 (sent only with `dhcpDns`). */
  ip4Dns: readonly number[];
  /** The guest's IPv6 address (DHCPv6 IA_NA; its /64 is advertised in RAs); null: no IPv6 services. */
  ip6Addr: Uint8Array | null;
  /** Our link-local address: the source of router advertisements and DHCPv6 replies. */
  ip6LinkLocal: Uint8Array;
  /** DNS servers for RDNSS and DHCPv6 option 23 (sent only with `dhcpDns`). */
  ip6Dns: readonly Uint8Array[];
  /**
   * Search domains for DHCP 119, DNSSL and DHCPv6 24 (sent only with `dhcpSearch`). Validate them with
   * protocol/dhcp.ts `dnsLabels` when parsing options: an invalid name makes those replies drop.
   */
  searchList: readonly string[];
  /** MTU for DHCP option 26 and the RA MTU option; null: no MTU option (passt's default without -m). */
  mtu: number | null;
  /** Advertise `ip4Dns`/`ip6Dns` (passt: on unless --no-dhcp-dns; pasta: off unless --dhcp-dns). */
  dhcpDns: boolean;
  /** Advertise `searchList` (passt: on unless --no-dhcp-search; pasta: off unless --dhcp-search). */
  dhcpSearch: boolean;
  noDhcp: boolean;
  noNdp: boolean;
  noRa: boolean;
  noDhcpv6: boolean;
  /** Our DHCPv6 server DUID; defaults to DUID-LL of `ourMac` (see `serverDuid`). */
  duid?: Uint8Array;
}

/** A responder's verdict: a reply of `len` bytes written at out[outOff], or a drop with its reason. */
export type ServiceResult = { action: 'reply'; len: number } | { action: 'drop'; reason: string };

export function reply(len: number): ServiceResult {
  return { action: 'reply', len };
}

export function drop(reason: string): ServiceResult {
  return { action: 'drop', reason };
}

/** TTL / hop limit of every reply, as passt uses towards the guest (NDP requires 255). */
export const REPLY_HOP_LIMIT = 255;

/** Offset of the request's Ethernet header (classify.ts does not parse VLAN tags). */
export function ethOffOf(fc: FrameClass): number {
  return fc.l3Off - ETH_HEADER_LEN;
}

/** The request's Ethernet source address, copied (the reply's destination). */
export function requestSrcMac(b: Uint8Array, fc: FrameClass): Uint8Array {
  const at = ethOffOf(fc) + 6;
  return b.slice(at, at + 6);
}
