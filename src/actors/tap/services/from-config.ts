/**
 * The guest services' configuration (`ServicesConfig`), derived once at start from the command line,
 * the guest's resolved link (`net`: addresses, prefix, gateways, MTU, our MAC) and the host's
 * /etc/resolv.conf. Pure: the caller reads the file.
 *
 * What the guest is told, as passt does:
 * - DNS servers, per IP version: the `-D` addresses of that version, else the host's resolv.conf
 *   nameservers of that version, where a loopback resolver (127.0.0.53, ::1) becomes the gateway address
 *   (the guest reaches the host's loopback there, see --no-map-gw: then it is left out) and link-local
 *   ones (which need a scope) are left out; none at all with `-D none`. With --dns-forward the
 *   forwarding address is advertised instead. At most 4 per version.
 * - Search domains: `-S`, else the host's last `search`/`domain` line; none with `-S none`; invalid
 *   names are left out (they would make every reply that carries them fail).
 * - Whether they are advertised at all: `dhcpDns` / `dhcpSearch` (passt: yes; pasta: only with
 *   --dhcp-dns / --dhcp-search).
 * - MTU: `-m` (default 65520, as Debian's pasta sends); `-m 0` sends no MTU option.
 * - -4 turns off every IPv6 service, -6 every IPv4 one (ARP included): the tap actor drops those frames.
 */
import { familyOf, type ResolvConf } from '../../../ns/resolv.js';
import { dnsLabels } from '../../../protocol/dhcp.js';
import {
  isIpv4Loopback, isIpv6LinkLocal, isIpv6Loopback, parseIpv4U32, parseIpv6,
} from '../../../protocol/addr.js';
import { parseMac } from '../../../protocol/eth.js';
import type { ActorConfig } from '../../../runtime/actor-config.js';
import { ourLinkLocal } from '../../common/link-local.js';
import type { ServicesConfig } from './config.js';

const MAX_DNS = 4;
const DEFAULT_OUR_MAC = Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55);

export function servicesConfigFrom(config: ActorConfig, resolv: ResolvConf): ServicesConfig {
  const { cli, net } = config;
  const v4 = cli.ipOnly !== 'ipv6' && net.addr4 !== undefined ? parseIpv4U32(net.addr4) : null;
  const v6 = cli.ipOnly !== 'ipv4' && net.addr6 !== undefined ? parseIpv6(net.addr6) : null;
  return {
    ourMac: parseMac(net.ourMac) ?? DEFAULT_OUR_MAC,
    ip4Addr: v4,
    ip4PrefixLen: net.prefix4 ?? 24,
    ip4Gateway: (net.gw4 !== undefined ? parseIpv4U32(net.gw4) : null) ?? 0,
    ip4Dns: dns4(config, resolv),
    ip6Addr: v6,
    ip6LinkLocal: ourLinkLocal(config),
    ip6Dns: dns6(config, resolv),
    searchList: searchList(config, resolv),
    mtu: cli.mtu === 0 ? null : cli.mtu,
    dhcpDns: cli.dns.dhcpDns,
    dhcpSearch: cli.dns.dhcpSearch,
    noDhcp: cli.disabled.dhcp || v4 === null,
    noNdp: cli.disabled.ndp || v6 === null,
    noRa: cli.disabled.ra || v6 === null,
    noDhcpv6: cli.disabled.dhcpv6 || v6 === null,
  };
}

function dns4(config: ActorConfig, resolv: ResolvConf): number[] {
  const { cli, net } = config;
  if (cli.dns.disabled) return [];
  if (cli.ip4.dnsForward !== null) return [parseIpv4U32(cli.ip4.dnsForward) ?? 0].filter((a) => a !== 0);
  const given = cli.ip4.dns.length > 0;
  const out: number[] = [];
  for (const text of given ? cli.ip4.dns : resolv.nameservers.filter((a) => familyOf(a) === 4)) {
    let a = parseIpv4U32(text);
    if (a !== null && !given && isIpv4Loopback(a)) a = cli.disabled.mapGw || net.gw4 === undefined ? null : parseIpv4U32(net.gw4);
    if (a !== null && a !== 0 && !out.includes(a)) out.push(a);
  }
  return out.slice(0, MAX_DNS);
}

function dns6(config: ActorConfig, resolv: ResolvConf): Uint8Array[] {
  const { cli, net } = config;
  if (cli.dns.disabled) return [];
  if (cli.ip6.dnsForward !== null) return [parseIpv6(cli.ip6.dnsForward)].filter((a): a is Uint8Array => a !== null);
  const given = cli.ip6.dns.length > 0;
  const out: Uint8Array[] = [];
  for (const text of given ? cli.ip6.dns : resolv.nameservers.filter((a) => familyOf(a) === 6)) {
    let a = text.includes('%') ? null : parseIpv6(text);
    if (a !== null && !given && isIpv6Loopback(a)) a = cli.disabled.mapGw || net.gw6 === undefined ? null : parseIpv6(net.gw6);
    if (a !== null && !given && isIpv6LinkLocal(a)) a = null;
    if (a !== null && !out.some((b) => b.every((x, i) => x === a![i]))) out.push(a);
  }
  return out.slice(0, MAX_DNS);
}

function searchList(config: ActorConfig, resolv: ResolvConf): string[] {
  const dns = config.cli.dns;
  if (dns.searchDisabled) return [];
  const names = dns.search.length > 0 ? dns.search : resolv.search;
  return names.filter((n) => dnsLabels(n) !== null);
}
