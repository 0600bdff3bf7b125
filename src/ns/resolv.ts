/**
 * The host's resolver configuration (resolv.conf) and what pasta does with it for DNS.
 *
 * - `parseResolvConf`: the nameserver and search lines, in order (the rest is ignored, as the C
 *   library's resolver ignores what it does not know).
 * - `planDns`: per IP version, which guest destination is redirected to which host resolver
 *   (`DnsRedirect`). What the guest is told (DHCP, NDP) is the guest services' business
 *   (actors/tap/services/from-config.ts), which follows the same rules.
 *
 * Rules (the behaviour of passt, written down here; the code is ours):
 * - the host resolver of a version is the first `nameserver` of that version in resolv.conf;
 * - `--dns-forward ADDR` makes queries to ADDR port 53 go to that resolver, and the replies come back
 *   from ADDR;
 * - without --dns-forward, a loopback resolver (systemd-resolved's 127.0.0.53, ::1) cannot be reached
 *   from the guest as it is: the gateway is announced in its place and queries to the gateway's port 53
 *   go to it (unless --no-map-gw: then nothing is redirected);
 * - a version with no resolver redirects nothing (queries to the --dns-forward address are dropped).
 * Pure: the caller reads the file (the UDP actor; the TCP actor for DNS over TCP).
 */
import { isIPv4, isIPv6 } from 'node:net';

export const RESOLV_CONF = '/etc/resolv.conf';
export const DNS_PORT = 53;

export interface ResolvConf {
  /** addresses of `nameserver` lines, in order; IPv6 may carry a %scope */
  nameservers: string[];
  /** the domains of the last `search` (or `domain`) line */
  search: string[];
}

/** The nameserver and search lines of a resolv.conf text; bad lines are skipped. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [] };
  for (const raw of text.split('\n')) {
    const [keyword, ...args] = raw.replace(/[#;].*$/s, '').trim().split(/\s+/); // s: a CR ends no comment
    if (keyword === 'nameserver' && args[0] !== undefined && isResolverAddress(args[0])) out.nameservers.push(args[0]);
    if ((keyword === 'search' || keyword === 'domain') && args.length > 0) out.search = args;
  }
  return out;
}

function isResolverAddress(text: string): boolean {
  return isIPv4(text) || isIPv6(text.replace(/%[^%]+$/, ''));
}

/** Which family a resolver address belongs to. */
export function familyOf(addr: string): 4 | 6 {
  return isIPv4(addr) ? 4 : 6;
}

export function isLoopbackAddress(addr: string): boolean {
  if (isIPv4(addr)) return addr.startsWith('127.');
  return addr === '::1' || /^::ffff:127\./i.test(addr);
}

/** Queries to `match` port 53 go to `host` port 53; replies appear to come from `match`. */
export interface DnsRedirect {
  match: string;
  host: string;
}

export interface DnsPlanInput {
  /** --dns-forward per version, null if not given */
  dnsForward4: string | null;
  dnsForward6: string | null;
  /** the guest's gateways (null: that version is off) */
  gw4: string | null;
  gw6: string | null;
  /** false with --no-map-gw */
  mapGw: boolean;
  /** resolv.conf's nameservers, in order */
  nameservers: readonly string[];
}

export interface DnsPlan {
  v4: DnsRedirect | null;
  v6: DnsRedirect | null;
}

export function planDns(input: DnsPlanInput): DnsPlan {
  return {
    v4: redirectFor(4, input.dnsForward4, input.gw4, input),
    v6: redirectFor(6, input.dnsForward6, input.gw6, input),
  };
}

function redirectFor(family: 4 | 6, forward: string | null, gw: string | null, input: DnsPlanInput): DnsRedirect | null {
  const host = input.nameservers.find((a) => familyOf(a) === family);
  if (host === undefined) return null;
  if (forward !== null) return { match: forward, host };
  if (isLoopbackAddress(host) && input.mapGw && gw !== null) return { match: gw, host };
  return null;
}
