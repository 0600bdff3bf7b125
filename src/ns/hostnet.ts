/**
 * The host's side of the network, as pasta reads it at start-up: for IPv4 and for IPv6 separately, the
 * "outbound" interface (name, index, MAC, MTU), its address and prefix, its default gateway, and for
 * IPv6 its link-local address. The namespace copies the addresses and gateways (see netconf.ts); the
 * MAC is the one pasta uses as its own source address towards the namespace.
 *
 * Selection (measured on Debian's pasta 2023-03, in scratch namespaces with several uplinks):
 * - interface: `-i NAME` for both families, else `--outbound-if4/6 NAME` for that family, else the
 *   first default route (dst length 0, main table, unicast, with an output interface) in the kernel's
 *   dump order of that family, which is lowest metric first; a multipath route counts by its first hop;
 * - gateway: the first such default route through that interface (null if none);
 * - IPv4 address: the first IPv4 address on the interface (IFA_LOCAL), with its prefix length;
 * - IPv6 address: the first scope-global address. Debian's pasta takes it whatever its flags; we skip
 *   deprecated, tentative and DAD-failed ones when a usable one exists, and fall back to the first;
 * - IPv6 link-local: the first scope-link address (same preference).
 *
 * `selectHostNetwork` is the pure part (parsed dumps in, choice out); `discoverHostNetwork` adds the
 * netlink reads.
 */
import { Af, IfaF, RtScope, RtTable, Rtn } from '../protocol/netlink.js';
import type { AddrMsg, LinkMsg, RouteMsg } from '../protocol/netlink.js';
import type { RtnlReader } from './netlink-client.js';

export interface HostIface {
  name: string;
  index: number;
  /** "aa:bb:cc:dd:ee:ff", or null for a link without one */
  mac: string | null;
  mtu: number | null;
}

export interface HostFamilyNet {
  iface: HostIface;
  /** the chosen address, null if the interface has none of this family */
  addr: string | null;
  /** the host's prefix length of `addr` (0 when addr is null) */
  prefixLen: number;
  gateway: string | null;
  /** IPv6 only: the interface's link-local address */
  linkLocal: string | null;
}

export interface HostNetwork {
  ipv4: HostFamilyNet | null;
  ipv6: HostFamilyNet | null;
}

export interface HostNetOptions {
  /** -i / --interface: both families */
  ifname?: string;
  /** --outbound-if4 / --outbound-if6 */
  outboundIf4?: string;
  outboundIf6?: string;
  /** false to leave a family out (-6 / -4) */
  ipv4?: boolean;
  ipv6?: boolean;
}

/** The parsed dumps selection works on. */
export interface HostNetState {
  links: LinkMsg[];
  addrs: AddrMsg[];
  routes4: RouteMsg[];
  routes6: RouteMsg[];
}

/** Reads links, addresses and routes through `nl`, then selects. Throws for a named interface that is absent. */
export function discoverHostNetwork(nl: RtnlReader, opts: HostNetOptions = {}): HostNetwork {
  const state: HostNetState = {
    links: nl.links(),
    addrs: nl.addrs(),
    routes4: opts.ipv4 === false ? [] : nl.routes(Af.Inet),
    routes6: opts.ipv6 === false ? [] : nl.routes(Af.Inet6),
  };
  return selectHostNetwork(state, opts);
}

export function selectHostNetwork(s: HostNetState, opts: HostNetOptions = {}): HostNetwork {
  const name4 = opts.ifname ?? opts.outboundIf4;
  const name6 = opts.ifname ?? opts.outboundIf6;
  return {
    ipv4: opts.ipv4 === false ? null : selectFamily(s, Af.Inet, s.routes4, name4),
    ipv6: opts.ipv6 === false ? null : selectFamily(s, Af.Inet6, s.routes6, name6),
  };
}

function selectFamily(s: HostNetState, family: number, routes: RouteMsg[], name?: string): HostFamilyNet | null {
  const index = name === undefined ? defaultRoute(routes, family)?.oif : indexOfName(s.links, name);
  const link = s.links.find((l) => l.index === index);
  if (index === undefined || index === null || !link) return null;
  const chosen = family === Af.Inet ? pickIpv4Addr(s.addrs, index) : pickIpv6Global(s.addrs, index);
  const ll = family === Af.Inet6 ? pickIpv6LinkLocal(s.addrs, index) : null;
  return {
    iface: { name: link.name ?? name ?? '', index, mac: link.address, mtu: link.mtu },
    addr: chosen ? addrText(chosen) : null,
    prefixLen: chosen?.prefixLen ?? 0,
    gateway: defaultRoute(routes, family, index)?.gateway ?? null,
    linkLocal: ll ? addrText(ll) : null,
  };
}

function indexOfName(links: LinkMsg[], name: string): number {
  const link = links.find((l) => l.name === name);
  if (!link) throw new Error(`interface ${name} not found`);
  return link.index;
}

/** The first default route of `family` in the main table (through `oif` if given), in dump order. */
export function defaultRoute(routes: RouteMsg[], family: number, oif?: number): RouteMsg | null {
  return routes.find((r) =>
    r.family === family && r.dstLen === 0 && r.table === RtTable.Main && r.type === Rtn.Unicast &&
    r.oif !== null && (oif === undefined || r.oif === oif)) ?? null;
}

/** The first IPv4 address on interface `index` (host-scope ones, like 127.0.0.1, excluded). */
export function pickIpv4Addr(addrs: AddrMsg[], index: number): AddrMsg | null {
  return addrs.find((a) => a.family === Af.Inet && a.index === index && a.scope < RtScope.Host &&
    addrText(a) !== null) ?? null;
}

const UNUSABLE6 = IfaF.Deprecated | IfaF.Tentative | IfaF.DadFailed;

/** The first usable scope-global IPv6 address on `index`, else the first scope-global one. */
export function pickIpv6Global(addrs: AddrMsg[], index: number): AddrMsg | null {
  return preferUsable(addrs.filter((a) => isV6On(a, index) && a.scope === RtScope.Universe));
}

/** The first usable scope-link IPv6 address on `index`, else the first scope-link one. */
export function pickIpv6LinkLocal(addrs: AddrMsg[], index: number): AddrMsg | null {
  return preferUsable(addrs.filter((a) => isV6On(a, index) && a.scope === RtScope.Link));
}

const isV6On = (a: AddrMsg, index: number): boolean =>
  a.family === Af.Inet6 && a.index === index && addrText(a) !== null;

function preferUsable(candidates: AddrMsg[]): AddrMsg | null {
  return candidates.find((a) => (a.flags & UNUSABLE6) === 0) ?? candidates[0] ?? null;
}

/** IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on point-to-point links). */
const addrText = (a: AddrMsg): string | null => a.local ?? a.address;
