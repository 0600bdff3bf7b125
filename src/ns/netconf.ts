/**
 * `pasta --config-net`: configures the namespace's loopback and tap interface the way Debian's pasta
 * does, through a netlink socket opened INSIDE the namespace (a netlink socket acts on the namespace
 * it was created in).
 *
 * What Debian's pasta (2023-03) does, measured with strace on its netlink socket and `ip -j -d` inside
 * its namespace (default options, -I, -a/-n/-g, -m, -4, -6, --ns-mac-addr, -i, --outbound-if4/6):
 * - Six requests (seven with --ns-mac-addr), each RTM_NEW* with NLM_F_ACK, in this order, by index:
 *   1. lo: IFF_UP (ifi_flags = ifi_change = IFF_UP), nothing else;
 *   2. with --ns-mac-addr only: tap IFF_UP + IFLA_ADDRESS;
 *   3. tap IFF_UP + IFLA_MTU in one message (65520 by default, -m N gives N);
 *   4. IPv4 address: CREATE|EXCL, IFA_LOCAL and IFA_ADDRESS = the address, prefix length from the
 *      host's address (or -n), scope universe, ifa_flags 0, no IFA_BROADCAST (so `ip addr` shows no
 *      "brd"), so the kernel adds the prefix route (proto kernel, scope link, src = address);
 *   5. IPv4 default route: CREATE|EXCL, main table, protocol boot (3), scope universe, unicast,
 *      rtm_flags 0, no metric, attributes RTA_OIF, RTA_DST 0.0.0.0, RTA_GATEWAY;
 *   6./7. IPv6 address (IFA_F_NODAD in ifa_flags, prefix length ALWAYS 64 whatever the host's, so
 *      `ip` shows "nodad", not tentative) and IPv6 default route (as IPv4: RTA_DST ::, main, boot,
 *      universe; the kernel gives it metric 1024, pref medium). -4 or -6 leaves a family out.
 * - The tap keeps the MAC the kernel drew at random (pasta sets one only with --ns-mac-addr), hence a
 *   random EUI-64 link-local address (tentative for a second, as DAD runs on it). The link shows
 *   BROADCAST,MULTICAST,UP,LOWER_UP, qdisc pfifo_fast, operstate UNKNOWN, tun/tap without vnet_hdr.
 * - The tap is named like the host's IPv4 outbound interface (the IPv6 one with -6), -I overrides.
 * - Failures are ignored: a gateway outside the configured prefix (`-a 2001:db8::5` with the host's
 *   fd00::1, or an -a IPv4 address with the host's gateway) leaves no default route. `-m 0` sends
 *   IFLA_MTU 0xffffffff, the kernel refuses the whole message, and the tap stays DOWN with no routes.
 * - Its -a without -n gives a classful prefix with bugs in it (172.16.3.5 gets /1, 192.168.3.5 /8), and
 *   -n in dotted form is misread (255.255.255.0 gives /15); the caller passes prefix4 explicitly.
 *
 * Where we differ, on purpose: a gateway outside the address's prefix gets RTNH_F_ONLINK, so the
 * default route exists (pasta answers ARP/NDP for any gateway); `mtu: 0` leaves the kernel's MTU and
 * still brings the tap up; an -a IPv4 address without a prefix gets its proper classful prefix.
 * Address and route failures are reported back (pasta ignores them), link failures throw.
 */
import {
  ipFamily, ipv4ClassfulPrefix, isIpv6LinkLocal, parseIp, parseIpv4U32, prefixEquals,
} from '../protocol/addr.js';
import { Af, IfaF } from '../protocol/netlink.js';
import type { HostNetwork } from './hostnet.js';
import type { RtnlReader, RtnlWriter } from './netlink-client.js';

/** pasta's default namespace MTU: 65535 minus the 14-byte Ethernet header, rounded down to 4 bytes. */
export const NS_DEFAULT_MTU = 65520;
/** pasta gives the namespace's IPv6 address this prefix length, whatever the host's. */
export const NS_PREFIX6 = 64;

/** Options from the command line that shape the namespace (all optional). */
export interface NsConfigInput {
  /** -I: the tap's name */
  ifname?: string;
  /** -m: 0 leaves the kernel's MTU */
  mtu?: number;
  /** -a, -n, -g for IPv4 */
  addr4?: string;
  prefix4?: number;
  gw4?: string;
  /** -a, -g for IPv6 */
  addr6?: string;
  gw6?: string;
  /** false with -6 / -4 */
  ipv4?: boolean;
  ipv6?: boolean;
  /** --ns-mac-addr */
  nsMac?: string;
}

export interface NsFamilyPlan {
  family: number;
  address: string;
  prefixLen: number;
  /** IFA_F_* for the address */
  flags: number;
  gateway: string | null;
  /** the gateway lies outside address/prefixLen: the route needs RTNH_F_ONLINK */
  onlink: boolean;
}

export interface NsConfigPlan {
  ifname: string;
  mac: string | null;
  /** null: leave the kernel's */
  mtu: number | null;
  /** IPv4 first, as pasta does */
  families: NsFamilyPlan[];
}

/** Pure: what to configure, from the host's network and the options. Throws on address text of the wrong family. */
export function planNamespaceConfig(host: HostNetwork, cfg: NsConfigInput = {}): NsConfigPlan {
  const v4 = cfg.ipv4 === false ? null : planIpv4(host, cfg);
  const v6 = cfg.ipv6 === false ? null : planIpv6(host, cfg);
  const hostIf = (cfg.ipv4 === false ? null : host.ipv4?.iface.name)
    ?? (cfg.ipv6 === false ? null : host.ipv6?.iface.name);
  return {
    ifname: cfg.ifname ?? hostIf ?? 'tap0',
    mac: cfg.nsMac ?? null,
    mtu: cfg.mtu === undefined ? NS_DEFAULT_MTU : cfg.mtu === 0 ? null : cfg.mtu,
    families: [v4, v6].filter((f): f is NsFamilyPlan => f !== null),
  };
}

function planIpv4(host: HostNetwork, cfg: NsConfigInput): NsFamilyPlan | null {
  const address = cfg.addr4 ?? host.ipv4?.addr ?? null;
  if (address === null) return null;
  const a = checkedIp(address, 4);
  const prefixLen = cfg.prefix4
    ?? (cfg.addr4 !== undefined ? ipv4ClassfulPrefix(parseIpv4U32(address)!) : host.ipv4!.prefixLen);
  const gateway = cfg.gw4 ?? host.ipv4?.gateway ?? null;
  const onlink = gateway !== null && !prefixEquals(checkedIp(gateway, 4), 0, a, 0, prefixLen);
  return { family: Af.Inet, address, prefixLen, flags: 0, gateway, onlink };
}

function planIpv6(host: HostNetwork, cfg: NsConfigInput): NsFamilyPlan | null {
  const address = cfg.addr6 ?? host.ipv6?.addr ?? null;
  if (address === null) return null;
  const a = checkedIp(address, 6);
  const gateway = cfg.gw6 ?? host.ipv6?.gateway ?? null;
  const gw = gateway === null ? null : checkedIp(gateway, 6);
  const onlink = gw !== null && !isIpv6LinkLocal(gw) && !prefixEquals(gw, 0, a, 0, NS_PREFIX6);
  return { family: Af.Inet6, address, prefixLen: NS_PREFIX6, flags: IfaF.NoDad, gateway, onlink };
}

function checkedIp(text: string, family: 4 | 6): Uint8Array {
  if (ipFamily(text) !== family) throw new Error(`not an IPv${family} address: ${text}`);
  return parseIp(text)!;
}

/** A step that failed without stopping the configuration (pasta ignores these). */
export interface NsConfigFailure {
  step: string;
  error: Error;
}

export interface NsConfigResult {
  /** the tap's index inside the namespace */
  ifindex: number;
  failures: NsConfigFailure[];
}

/**
 * Carries out `plan` through `nl`, a client on a netlink socket of the target namespace: lo up, tap
 * MAC (if any), tap MTU + up, then per family its address and default route. Throws if the tap is
 * absent or a link change is refused; address and route refusals are returned in `failures`.
 */
export function configureNamespace(nl: RtnlReader & RtnlWriter, plan: NsConfigPlan): NsConfigResult {
  const links = nl.links();
  const tap = links.find((l) => l.name === plan.ifname);
  if (!tap) throw new Error(`configureNamespace: no interface ${plan.ifname} in the namespace`);
  const lo = links.find((l) => l.name === 'lo');
  if (lo) nl.setLink({ index: lo.index, up: true });
  const index = tap.index;
  if (plan.mac !== null) nl.setLink({ index, up: true, mac: plan.mac });
  nl.setLink(plan.mtu === null ? { index, up: true } : { index, up: true, mtu: plan.mtu });
  const failures: NsConfigFailure[] = [];
  for (const f of plan.families) configureFamily(nl, index, f, failures);
  return { ifindex: index, failures };
}

function configureFamily(nl: RtnlWriter, index: number, f: NsFamilyPlan, failures: NsConfigFailure[]): void {
  attempt(failures, `address ${f.address}/${f.prefixLen}`, () =>
    nl.addAddr({ index, address: f.address, prefixLen: f.prefixLen, flags: f.flags }));
  const gateway = f.gateway;
  if (gateway === null) return;
  attempt(failures, `default route via ${gateway}`, () => nl.addRoute({ oif: index, gateway, onlink: f.onlink }));
}

function attempt(failures: NsConfigFailure[], step: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    failures.push({ step, error: e instanceof Error ? e : new Error(String(e)) });
  }
}
