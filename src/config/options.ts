/**
 * The command line of pasta and passt: one option table for both modes, parsed with commander into a
 * validated Config (config.ts) and, for pasta, the target namespace.
 *
 * Behaviour follows Debian's passt 0.0~git20230309 (GNU getopt_long):
 * - options and operands may be mixed; '--' ends the options; short options cluster (`-46`, `-ft22`);
 *   long options may be abbreviated to any unambiguous prefix, values given as `--opt=v` or `--opt v`;
 * - every long name is known in both modes (passt's table is shared) but the mode-specific ones are
 *   refused in the other mode ("--netns is for pasta mode only"); short letters exist only in the mode
 *   that has them (passt has -s and -1, pasta -I, -T and -U);
 * - options are applied in command-line order: the first bad one, or --help / --version, ends parsing.
 *
 * Nothing is printed and nothing exits here: the caller prints the help or version text, or
 * `<mode>: <message>` for a UsageError, and exits.
 *
 * Which options the rest of the program implements is IMPLEMENTED_OPTIONS (one place, flipped one by one);
 * `unsupportedOptionsUsed()` lists the others the user gave.
 */
import { ACTOR_NAMES, isActorName } from '../runtime/actor.js';
import { parseFaultSpec } from '../runtime/faults.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import {
  MAX_DNS_PER_FAMILY,
  MAX_LOG_SIZE,
  MAX_MTU,
  MAX_SEARCH_DOMAINS,
  MIN_LOG_SIZE,
  MIN_MTU,
  NETNS_RUN_DIR,
  PATH_MAX,
  TRACEABLE_ACTORS,
  UNIX_PATH_MAX,
  defaultConfig,
  isUsableIpv4,
  isUsableIpv6,
  isValidDomain,
  parseCInteger,
  parseMac,
  parseNetmask,
  type Config,
  type Ip4Use,
  type Mode,
  type TraceableActor,
} from './config.js';
import { UsageError } from './errors.js';
import { PortForwardBuilder, isValidIfname, type ForwardMode } from './portspec.js';

export type { Mode } from './config.js';

/* ---------------------------------------------------------------------------------------------- */
/* Results                                                                                          */

/** What pasta connects to. A 'spawn' argv is never empty: no command means the user's shell. */
export type PastaTarget =
  | { kind: 'spawn'; argv: string[] }
  | { kind: 'pid'; pid: number; userns?: string }
  | { kind: 'netns'; path: string; userns?: string };

export interface RunRequest {
  action: 'run';
  mode: Mode;
  config: Config;
  /** null in passt mode */
  target: PastaTarget | null;
  /** long names of the options the user gave, in first-use order */
  given: readonly string[];
}

export type ParsedCommandLine =
  | RunRequest
  | { action: 'help'; mode: Mode; text: string }
  | { action: 'version'; mode: Mode; text: string };

/** What the parser needs to know about the host; injectable for tests. */
export interface HostInfo {
  /** effective user and group ids */
  uid: number;
  gid: number;
  /** $SHELL */
  shell: string | undefined;
  /** our version, for --version */
  version: string;
  lookupUser(name: string): { uid: number; gid: number } | null;
  lookupGroup(name: string): number | null;
}

/* ---------------------------------------------------------------------------------------------- */
/* Support status: the one place to flip when an option gets implemented.                          */

export const IMPLEMENTED_OPTIONS: ReadonlySet<string> = new Set([
  'debug',
  'trace',
  'quiet',
  'foreground',
  'stderr',
  'log-file',
  'log-size',
  'help',
  'version',
  'pid',
  'ns-ifname',
  'mtu',
  'address',
  'netmask',
  'gateway',
  'interface',
  'ipv4-only',
  'ipv6-only',
  'config-net',
  'netns',
  'userns',
  'netns-only',
  'no-netns-quit',
  'ns-mac-addr',
  'mac-addr',
  'actors',
  'trace-actors',
  'runas',
  'pcap',
  'dns',
  'search',
  'dhcp-dns',
  'dhcp-search',
  'no-dhcp-dns',
  'no-dhcp-search',
  'no-dhcp',
  'no-ndp',
  'no-ra',
  'no-dhcpv6',
  'no-icmp',
  'udp-ports',
  'tcp-ports',
  'tcp-ns',
  'udp-ns',
  'no-tcp',
  'dns-forward',
  'outbound',
  'outbound-if4',
  'outbound-if6',
  'no-udp',
  'no-map-gw',
  'no-splice',
  'control',
  'fault',
  'socket',
  'one-off',
  'fd',
]);

/** Long names of options the user gave explicitly that are not implemented yet (defaults never count). */
export function unsupportedOptionsUsed(parsed: ParsedCommandLine, implemented: ReadonlySet<string> = IMPLEMENTED_OPTIONS): string[] {
  if (parsed.action !== 'run') return [];
  return parsed.given.filter((name) => !implemented.has(name));
}

/* ---------------------------------------------------------------------------------------------- */
/* Parsing state                                                                                    */

interface PortBuilders {
  tcpIn: PortForwardBuilder;
  udpIn: PortForwardBuilder;
  tcpOut: PortForwardBuilder;
  udpOut: PortForwardBuilder;
}

/** Everything gathered while walking the command line, before the cross-option checks. */
interface Draft {
  mode: Mode;
  host: HostInfo;
  cfg: Config;
  ports: PortBuilders;
  netns: string | null;
  userns: string | null;
  seen: Set<string>;
}

/** --help or --version met: parsing stops there, as getopt's loop does. */
class EarlyExit {
  constructor(readonly action: 'help' | 'version') {}
}

/* ---------------------------------------------------------------------------------------------- */
/* The option table                                                                                 */

export type OptionSection = 'general' | 'guest' | 'dns' | 'protocols' | 'ports' | 'namespace' | 'actors';

export interface OptionSpec {
  long: string;
  /** short letter, registered only in the modes the option belongs to */
  short?: string;
  /** argument placeholder; absent for a flag */
  arg?: string;
  /** the mode the option is for; absent: both */
  only?: Mode;
  /** a second use is an error ("multiple --X options given") */
  once?: boolean;
  section: OptionSection;
  /** help text, our wording; a function when it differs by mode */
  help: string | ((mode: Mode) => string);
  /** apply one use; `value` is '' for a flag; `opt` is the option as shown in errors */
  apply(d: Draft, value: string, opt: string): void;
}

const invalid = (what: string, value: string, opt: string): UsageError =>
  new UsageError(`invalid ${what} '${value}' for ${opt}`);

/** A flag whose only effect is `set` on the Config. */
function flag(
  section: OptionSection,
  long: string,
  help: OptionSpec['help'],
  set: (c: Config) => void,
  extra: Partial<OptionSpec> = {},
): OptionSpec {
  return { long, section, help, apply: (d) => set(d.cfg), ...extra };
}

function path(value: string, opt: string, max = PATH_MAX): string {
  if (value.length === 0 || value.length > max) throw invalid('path', value, opt);
  return value;
}

function ifname(value: string, opt: string): string {
  if (!isValidIfname(value)) throw invalid('interface name', value, opt);
  return value;
}

function mac(value: string, opt: string): string {
  const m = parseMac(value);
  if (m === null) throw invalid('MAC address', value, opt);
  return m;
}

type FamilyField = 'address' | 'gateway' | 'outbound' | 'dnsForward';

/** -a, -g, -o, --dns-forward: one address per IP version. */
function setPerFamily(d: Draft, field: FamilyField, use: Ip4Use, what: string, value: string, opt: string): void {
  const v6 = isIPv6(value);
  if (!(v6 ? isUsableIpv6(value, use) : isUsableIpv4(value, use))) throw invalid(what, value, opt);
  const ip = v6 ? d.cfg.ip6 : d.cfg.ip4;
  if (ip[field] !== null) throw new UsageError(`more than one IPv${v6 ? 6 : 4} ${what} for ${opt}: '${value}'`);
  ip[field] = value;
}

/** -d, --trace, -q: quiet excludes the other two, in either order. */
function applyLogFlag(d: Draft, which: 'debug' | 'trace' | 'quiet'): void {
  const log = d.cfg.log;
  if (which === 'quiet' && log.debug) throw new UsageError('--quiet conflicts with --debug and --trace');
  if (which !== 'quiet' && log.quiet) throw new UsageError(`--${which} conflicts with --quiet`);
  if (which === 'quiet') log.quiet = true;
  else log.debug = true;
  if (which === 'trace') log.trace = true;
}

function applyLogTarget(d: Draft, value: string | null, opt: string): void {
  const log = d.cfg.log;
  if (value === null ? log.file !== null : log.stderr)
    throw new UsageError(`can't log to both stderr and a file (${opt})`);
  if (value === null) log.stderr = true;
  else log.file = path(value, opt);
}

function applyInteger(value: string, opt: string, what: string, min: number, max: number): number {
  const n = parseCInteger(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(what, value, opt);
  return n;
}

function applyMtu(d: Draft, value: string, opt: string): void {
  const n = parseCInteger(value);
  if (n === 0) d.cfg.mtu = 0;
  else d.cfg.mtu = applyInteger(value, opt, 'MTU', MIN_MTU, MAX_MTU);
}

function applyNetmask(d: Draft, value: string, opt: string): void {
  const len = parseNetmask(value);
  if (len === null) throw invalid('netmask', value, opt);
  d.cfg.ip4.prefixLen = len === 0 ? null : len;
}

function applyDns(d: Draft, value: string, opt: string): void {
  const dns = d.cfg.dns;
  const given = d.cfg.ip4.dns.length + d.cfg.ip6.dns.length > 0;
  if (value === 'none' || value === '') {
    if (dns.disabled) throw new UsageError(`redundant ${opt} none`);
    if (given) throw new UsageError(`${opt} none conflicts with the DNS addresses given before it`);
    dns.disabled = true;
    return;
  }
  if (dns.disabled) throw new UsageError(`DNS address '${value}' for ${opt} conflicts with ${opt} none`);
  const list = isIPv4(value) ? d.cfg.ip4.dns : isIPv6(value) && !value.includes('%') ? d.cfg.ip6.dns : null;
  if (list === null || /^(0\.0\.0\.0|::)$/.test(value)) throw invalid('DNS address', value, opt);
  if (list.length >= MAX_DNS_PER_FAMILY) throw new UsageError(`too many DNS addresses for ${opt}: '${value}'`);
  list.push(value);
}

function applySearch(d: Draft, value: string, opt: string): void {
  const dns = d.cfg.dns;
  const domains = value.split(/\s+/).filter((s) => s.length > 0);
  if (value === 'none' || domains.length === 0) {
    if (dns.searchDisabled) throw new UsageError(`redundant ${opt} none`);
    if (dns.search.length > 0) throw new UsageError(`${opt} none conflicts with the search domains given before it`);
    dns.searchDisabled = true;
    return;
  }
  if (dns.searchDisabled) throw new UsageError(`search domains '${value}' for ${opt} conflict with ${opt} none`);
  for (const name of domains) {
    if (!isValidDomain(name)) throw invalid('search domain', name, opt);
    if (dns.search.length >= MAX_SEARCH_DOMAINS) throw new UsageError(`too many search domains for ${opt}: '${name}'`);
    dns.search.push(name);
  }
}

function applyIpOnly(d: Draft, which: 'ipv4' | 'ipv6'): void {
  if (d.cfg.ipOnly !== null && d.cfg.ipOnly !== which)
    throw new UsageError('--ipv4-only and --ipv6-only are mutually exclusive');
  d.cfg.ipOnly = which;
}

function applyTraceActors(d: Draft, value: string, opt: string): void {
  for (const name of value.split(',')) {
    if (!(TRACEABLE_ACTORS as readonly string[]).includes(name))
      throw new UsageError(`unknown actor '${name}' for ${opt} (known: ${TRACEABLE_ACTORS.join(', ')})`);
    const actor = name as TraceableActor;
    if (!d.cfg.actors.trace.includes(actor)) d.cfg.actors.trace.push(actor);
  }
}

/** --fault ACTOR:SPEC (several: one per actor, the last one given for an actor wins). */
function applyFault(d: Draft, value: string, opt: string): void {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!isActorName(name)) throw new UsageError(`unknown actor '${name}' for ${opt} (known: ${ACTOR_NAMES.join(', ')}), e.g. ${opt} tcp:drop=0.01`);
  try {
    d.cfg.actors.faults[name] = parseFaultSpec(colon < 0 ? '' : value.slice(colon + 1));
  } catch (e) {
    throw new UsageError(`${opt} ${value}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** --runas UID|UID:GID|LOGIN|LOGIN:GROUP, resolved; only "no change" (or root) is supported yet. */
function applyRunas(d: Draft, value: string, opt: string): void {
  const ids = resolveRunas(value, d.host);
  if (ids === null) throw invalid('user', value, opt);
  const sameOrRoot = (want: number, have: number): boolean => want === 0 || want === have;
  if (!sameOrRoot(ids.uid, d.host.uid) || !sameOrRoot(ids.gid, d.host.gid))
    throw new UsageError(`${opt} ${value}: dropping privileges is not supported yet`);
  d.cfg.runas = ids;
}

function resolveRunas(value: string, host: HostInfo): { uid: number; gid: number } | null {
  const colon = value.indexOf(':');
  const user = colon >= 0 ? value.slice(0, colon) : value;
  const group = colon >= 0 ? value.slice(colon + 1) : null;
  const uid = parseCInteger(user);
  const base = Number.isSafeInteger(uid) && uid >= 0 ? { uid, gid: uid } : host.lookupUser(user);
  if (base === null || group === null) return base;
  const gid = parseCInteger(group);
  const resolved = Number.isSafeInteger(gid) && gid >= 0 ? gid : host.lookupGroup(group);
  return resolved === null ? null : { uid: base.uid, gid: resolved };
}

function ports(d: Draft, which: keyof PortBuilders, value: string): void {
  d.ports[which].add(value);
}

/** Help text that differs by mode. */
const byMode = (text: { pasta: string; passt: string }) => (m: Mode): string => text[m];

/**
 * Every option of both modes. Order is help order. A spec's `apply` validates one use and records it;
 * checks across options are in `finish()`.
 */
export const OPTIONS: readonly OptionSpec[] = [
  { long: 'debug', short: 'd', once: true, section: 'general',
    help: 'log debugging messages',
    apply: (d) => applyLogFlag(d, 'debug') },
  { long: 'trace', once: true, section: 'general',
    help: 'log every packet too (implies --debug)',
    apply: (d) => applyLogFlag(d, 'trace') },
  { long: 'quiet', short: 'q', once: true, section: 'general',
    help: 'log only warnings and errors',
    apply: (d) => applyLogFlag(d, 'quiet') },
  flag('general', 'foreground',
    "stay in the foreground (default: detach when started from a terminal)",
    (c) => (c.foreground = true), { short: 'f', once: true }),
  { long: 'stderr', short: 'e', once: true, section: 'general',
    help: 'log to standard error as well',
    apply: (d, _v, o) => applyLogTarget(d, null, o) },
  { long: 'log-file', short: 'l', arg: 'PATH', once: true, section: 'general',
    help: 'log to the file PATH only',
    apply: (d, v, o) => applyLogTarget(d, v, o) },
  { long: 'log-size', arg: 'BYTES', once: true, section: 'general',
    help: `largest size of the log file, at least ${MIN_LOG_SIZE} (default: 1 MiB)`,
    apply: (d, v, o) => (d.cfg.log.fileSize = applyInteger(v, o, 'log size', MIN_LOG_SIZE, MAX_LOG_SIZE)) },
  { long: 'runas', arg: 'UID|UID:GID', once: true, section: 'general',
    help: 'user and group to run as, by number or name',
    apply: applyRunas },
  { long: 'help', short: 'h', section: 'general',
    help: 'show this text and exit',
    apply: () => { throw new EarlyExit('help'); } },
  { long: 'version', section: 'general',
    help: 'show the version and exit',
    apply: () => { throw new EarlyExit('version'); } },
  { long: 'socket', short: 's', arg: 'PATH', only: 'passt', once: true, section: 'general',
    help: 'UNIX domain socket for the hypervisor (default: first free /tmp/passt_N.socket)',
    apply: (d, v, o) => (d.cfg.socketPath = path(v, o, UNIX_PATH_MAX)) },
  { long: 'fd', short: 'F', arg: 'FD', once: true, section: 'general',
    help: 'use FD, an already connected socket (implies --one-off)',
    apply: (d, v, o) => (d.cfg.fd = applyInteger(v, o, 'file descriptor', 0, 0x7fffffff)) },
  flag('general', 'one-off',
    'exit once the first client disconnects',
    (c) => (c.oneOff = true), { short: '1', only: 'passt', once: true }),
  { long: 'pcap', short: 'p', arg: 'FILE', once: true, section: 'general',
    help: 'capture the guest-side frames to FILE, pcap format',
    apply: (d, v, o) => (d.cfg.pcapFile = path(v, o)) },
  { long: 'pid', short: 'P', arg: 'FILE', once: true, section: 'general',
    help: 'write our process ID to FILE',
    apply: (d, v, o) => (d.cfg.pidFile = path(v, o)) },

  { long: 'ns-ifname', short: 'I', arg: 'NAME', only: 'pasta', once: true, section: 'guest',
    help: "name of the tap interface in the namespace (default: the host interface's)",
    apply: (d, v, o) => (d.cfg.ns.ifname = ifname(v, o)) },
  { long: 'mtu', short: 'm', arg: 'MTU', once: true, section: 'guest',
    help: 'MTU to announce via DHCP and NDP, 0 for none (default: 65520)',
    apply: applyMtu },
  { long: 'address', short: 'a', arg: 'ADDR', section: 'guest',
    help: "IPv4 or IPv6 address to assign, once per IP version (default: the host's)",
    apply: (d, v, o) => setPerFamily(d, 'address', 'address', 'address', v, o) },
  { long: 'netmask', short: 'n', arg: 'MASK', section: 'guest',
    help: 'IPv4 netmask, dotted or as a prefix length',
    apply: applyNetmask },
  { long: 'mac-addr', short: 'M', arg: 'ADDR', section: 'guest',
    help: "our MAC address towards the guest (default: the host interface's)",
    apply: (d, v, o) => (d.cfg.macAddr = mac(v, o)) },
  { long: 'gateway', short: 'g', arg: 'ADDR', section: 'guest',
    help: "IPv4 or IPv6 default gateway, once per IP version (default: the host's)",
    apply: (d, v, o) => setPerFamily(d, 'gateway', 'gateway', 'gateway address', v, o) },
  { long: 'interface', short: 'i', arg: 'NAME', once: true, section: 'guest',
    help: "host interface for addresses and routes (default: the default route's)",
    apply: (d, v, o) => (d.cfg.interface = ifname(v, o)) },
  { long: 'outbound', short: 'o', arg: 'ADDR', section: 'guest',
    help: 'source address for outbound traffic, once per IP version',
    apply: (d, v, o) => setPerFamily(d, 'outbound', 'outbound', 'outbound address', v, o) },
  { long: 'outbound-if4', arg: 'NAME', once: true, section: 'guest',
    help: 'bind outbound IPv4 sockets to interface NAME',
    apply: (d, v, o) => (d.cfg.ip4.outboundIf = ifname(v, o)) },
  { long: 'outbound-if6', arg: 'NAME', once: true, section: 'guest',
    help: 'bind outbound IPv6 sockets to interface NAME',
    apply: (d, v, o) => (d.cfg.ip6.outboundIf = ifname(v, o)) },
  { long: 'ipv4-only', short: '4', section: 'guest',
    help: 'IPv4 only: ignore IPv6 traffic',
    apply: (d) => applyIpOnly(d, 'ipv4') },
  { long: 'ipv6-only', short: '6', section: 'guest',
    help: 'IPv6 only: ignore IPv4 traffic',
    apply: (d) => applyIpOnly(d, 'ipv6') },

  { long: 'dns', short: 'D', arg: 'ADDR', section: 'dns',
    help: byMode({
      pasta: "DNS resolver, repeatable; 'none' for no DNS (default: none)",
      passt: "DNS resolver, repeatable; 'none' for no DNS (default: /etc/resolv.conf's)",
    }),
    apply: applyDns },
  { long: 'search', short: 'S', arg: 'LIST', section: 'dns',
    help: byMode({
      pasta: "space-separated search domains; 'none' for no list (default: none)",
      passt: "space-separated search domains; 'none' for no list (default: /etc/resolv.conf's)",
    }),
    apply: applySearch },
  flag('dns', 'dhcp-dns',
    'announce the resolvers via DHCP, DHCPv6 and NDP',
    (c) => (c.dns.dhcpDns = true), { only: 'pasta' }),
  flag('dns', 'dhcp-search',
    'announce the search list via DHCP, DHCPv6 and NDP',
    (c) => (c.dns.dhcpSearch = true), { only: 'pasta' }),
  flag('dns', 'no-dhcp-dns',
    "don't announce the resolvers via DHCP, DHCPv6 and NDP",
    (c) => (c.dns.dhcpDns = false), { only: 'passt' }),
  flag('dns', 'no-dhcp-search',
    "don't announce the search list via DHCP, DHCPv6 and NDP",
    (c) => (c.dns.dhcpSearch = false), { only: 'passt' }),
  { long: 'dns-forward', arg: 'ADDR', section: 'dns',
    help: 'relay DNS queries sent to ADDR to the first resolver, once per IP version',
    apply: (d, v, o) => setPerFamily(d, 'dnsForward', 'dns-forward', 'DNS forwarding address', v, o) },

  flag('protocols', 'no-tcp', 'no TCP', (c) => (c.disabled.tcp = true)),
  flag('protocols', 'no-udp', 'no UDP', (c) => (c.disabled.udp = true)),
  flag('protocols', 'no-icmp', 'no ICMP and ICMPv6 echo', (c) => (c.disabled.icmp = true)),
  flag('protocols', 'no-dhcp', 'no DHCP server', (c) => (c.disabled.dhcp = true)),
  flag('protocols', 'no-ndp', 'no NDP answers', (c) => (c.disabled.ndp = true)),
  flag('protocols', 'no-dhcpv6', 'no DHCPv6 server', (c) => (c.disabled.dhcpv6 = true)),
  flag('protocols', 'no-ra', 'no router advertisements', (c) => (c.disabled.ra = true)),
  flag('protocols', 'no-map-gw',
    "don't map traffic to the gateway address to the host",
    (c) => (c.disabled.mapGw = true)),
  flag('protocols', 'no-splice',
    'no loopback fast path: connections from the loopback take the tap path',
    (c) => (c.disabled.splice = true), { only: 'pasta' }),

  { long: 'tcp-ports', short: 't', arg: 'SPEC', section: 'ports',
    help: byMode({
      pasta: 'TCP ports to forward into the namespace, repeatable (default: auto)',
      passt: 'TCP ports to forward to the guest, repeatable (default: none)',
    }),
    apply: (d, v) => ports(d, 'tcpIn', v) },
  { long: 'udp-ports', short: 'u', arg: 'SPEC', section: 'ports',
    help: byMode({
      pasta: 'UDP ports to forward into the namespace (default: auto)',
      passt: 'UDP ports to forward to the guest (default: none)',
    }),
    apply: (d, v) => ports(d, 'udpIn', v) },
  { long: 'tcp-ns', short: 'T', arg: 'SPEC', only: 'pasta', section: 'ports',
    help: 'TCP ports to forward from the namespace to the host (default: auto)',
    apply: (d, v) => ports(d, 'tcpOut', v) },
  { long: 'udp-ns', short: 'U', arg: 'SPEC', only: 'pasta', section: 'ports',
    help: 'UDP ports to forward from the namespace to the host (default: auto)',
    apply: (d, v) => ports(d, 'udpOut', v) },

  { long: 'userns', arg: 'NSPATH', only: 'pasta', section: 'namespace',
    help: 'user namespace to join, as a path',
    apply: (d, v, o) => (d.userns = path(v, o)) },
  { long: 'netns', arg: 'PATH|NAME', only: 'pasta', section: 'namespace',
    help: `network namespace to join: a path, or a name in ${NETNS_RUN_DIR}`,
    apply: (d, v, o) => (d.netns = netnsPath(path(v, o))) },
  flag('namespace', 'netns-only',
    "don't join a user namespace (implied by --netns without --userns)",
    (c) => (c.ns.netnsOnly = true), { only: 'pasta' }),
  flag('namespace', 'no-netns-quit',
    "keep running when the namespace's file is deleted",
    (c) => (c.ns.noNetnsQuit = true), { only: 'pasta' }),
  flag('namespace', 'config-net',
    'set up the addresses, routes and link in the namespace',
    (c) => (c.ns.configNet = true), { only: 'pasta' }),
  { long: 'ns-mac-addr', arg: 'ADDR', only: 'pasta', section: 'namespace',
    help: 'MAC address of the tap interface in the namespace',
    apply: (d, v, o) => (d.cfg.ns.macAddr = mac(v, o)) },

  flag('actors', 'actors', 'run each actor in its own process', (c) => (c.actors.separateProcesses = true)),
  { long: 'trace-actors', arg: 'LIST', section: 'actors',
    help: `log the messages of these actors as JSON lines (${TRACEABLE_ACTORS.join(',')})`,
    apply: applyTraceActors },
  { long: 'control', arg: 'PATH', once: true, section: 'actors',
    help: 'path of the control socket',
    apply: (d, v, o) => (d.cfg.actors.control = path(v, o, UNIX_PATH_MAX)) },
  { long: 'fault', arg: 'ACTOR:SPEC', section: 'actors',
    help: 'inject faults into an actor\'s frames: drop=P,dup=P,corrupt=P,delay=P@MS,crash=P,crash-after=N,dir=in|out|both,seed=N',
    apply: applyFault },
];

const BY_LONG = new Map(OPTIONS.map((s) => [s.long, s]));

/** A NAME without '/' lives in /run/netns, as with ip-netns(8). */
function netnsPath(value: string): string {
  return value.includes('/') ? value : `${NETNS_RUN_DIR}/${value}`;
}

/** Is the short letter of this option available in this mode? */
function hasShort(spec: OptionSpec, m: Mode): spec is OptionSpec & { short: string } {
  return spec.short !== undefined && (spec.only === undefined || spec.only === m);
}

/** How errors name an option: its short form where the mode has one, else the long one. */
function displayName(spec: OptionSpec, m: Mode): string {
  return hasShort(spec, m) ? `-${spec.short}` : `--${spec.long}`;
}

/** Long names known to the parser in this mode (all of them: mode-only ones are refused, not unknown). */
export function knownLongOptions(): string[] {
  return OPTIONS.map((s) => s.long);
}

/** The short letter this mode accepts for a long option, if any. */
export function shortOptionFor(long: string, m: Mode): string | undefined {
  const spec = BY_LONG.get(long);
  return spec && hasShort(spec, m) ? spec.short : undefined;
}

/** Does this long option take an argument? undefined if unknown. */
export function optionTakesArgument(long: string): boolean | undefined {
  const spec = BY_LONG.get(long);
  return spec === undefined ? undefined : spec.arg !== undefined;
}

/* ---------------------------------------------------------------------------------------------- */
/* Parsing                                                                                          */

export function parseCommandLine(mode: Mode, argv: string[], host: HostInfo = systemHost()): ParsedCommandLine {
  const d = newDraft(mode, host);
  try {
    const { args, error } = normalizeArgv(argv, mode);
    const operands = runCommander(d, args);
    if (error) throw error;
    return finish(d, operands);
  } catch (err) {
    if (err instanceof EarlyExit) return earlyResult(err.action, mode, host);
    throw translateCommanderError(err);
  }
}

function earlyResult(action: 'help' | 'version', mode: Mode, host: HostInfo): ParsedCommandLine {
  if (action === 'help') return { action, mode, text: helpText(mode) };
  return { action, mode, text: versionText(mode, host) };
}

function newDraft(mode: Mode, host: HostInfo): Draft {
  const ctx = (option: string, allowBind: boolean) => ({ option, mode, allowBind });
  return {
    mode,
    host,
    cfg: defaultConfig(mode),
    ports: {
      tcpIn: new PortForwardBuilder(ctx('-t', true)),
      udpIn: new PortForwardBuilder(ctx('-u', true)),
      tcpOut: new PortForwardBuilder(ctx('-T', false)),
      udpOut: new PortForwardBuilder(ctx('-U', false)),
    },
    netns: null,
    userns: null,
    seen: new Set(),
  };
}

/** Tokenising is commander's; each use of an option reaches `applyOption` in command-line order. */
function runCommander(d: Draft, argv: string[]): string[] {
  const program = new Command(d.mode)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .helpOption(false)
    .showSuggestionAfterError(false)
    .allowExcessArguments(true)
    .argument('[args...]');
  for (const spec of OPTIONS) {
    const flags = hasShort(spec, d.mode) ? `-${spec.short}, --${spec.long}` : `--${spec.long}`;
    program.addOption(new Option(spec.arg ? `${flags} <value>` : flags));
    program.on(`option:${spec.long}`, (value: string | undefined) => applyOption(d, spec, value ?? ''));
  }
  program.parse(argv, { from: 'user' });
  return program.args;
}

function applyOption(d: Draft, spec: OptionSpec, value: string): void {
  if (spec.only !== undefined && spec.only !== d.mode)
    throw new UsageError(`--${spec.long} is for ${spec.only} mode only`);
  if (spec.once && d.seen.has(spec.long)) throw new UsageError(`multiple --${spec.long} options given`);
  d.seen.add(spec.long);
  spec.apply(d, value, displayName(spec, d.mode));
}

/**
 * getopt_long's ways that commander lacks, applied before commander sees the arguments: long options
 * abbreviated to an unambiguous prefix (`--tcp-p 22`), `--flag=value` refused, and an unknown option
 * refused where it stands. On such an error the arguments before it are returned with the error, so
 * that they are still applied first (an earlier --help or bad value wins, as with getopt). Option
 * values are skipped, never rewritten; everything after '--' is left alone.
 */
export function normalizeArgv(argv: readonly string[], mode: Mode): { args: string[]; error: UsageError | null } {
  const args: string[] = [];
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') return { args: args.concat(argv.slice(i)), error: null };
      const norm = arg.startsWith('--') ? expandLong(arg) : arg;
      if (valueFollows(norm, mode) && i + 1 < argv.length) args.push(norm, argv[++i]!);
      else args.push(norm);
    }
  } catch (err) {
    if (err instanceof UsageError) return { args, error: err };
    throw err;
  }
  return { args, error: null };
}

function expandLong(arg: string): string {
  const eq = arg.indexOf('=');
  const name = arg.slice(2, eq >= 0 ? eq : undefined);
  const spec = BY_LONG.get(name) ?? uniquePrefixMatch(name);
  if (spec === null) throw new UsageError(`unrecognized option '${arg.slice(0, eq >= 0 ? eq : undefined)}'`);
  if (eq >= 0 && spec.arg === undefined) throw new UsageError(`option '--${spec.long}' doesn't allow an argument`);
  return `--${spec.long}${eq >= 0 ? arg.slice(eq) : ''}`;
}

function uniquePrefixMatch(name: string): OptionSpec | null {
  if (name === '') return null;
  const matches = OPTIONS.filter((s) => s.long.startsWith(name));
  if (matches.length > 1) {
    const names = matches.map((s) => `--${s.long}`).join(' ');
    throw new UsageError(`option '--${name}' is ambiguous; possibilities: ${names}`);
  }
  return matches[0] ?? null;
}

/** Does this (normalised) argument take the next one as its value? */
function valueFollows(arg: string, m: Mode): boolean {
  if (arg.startsWith('--')) return !arg.includes('=') && BY_LONG.get(arg.slice(2))?.arg !== undefined;
  if (!arg.startsWith('-') || arg.length < 2) return false;
  return shortClusterNeedsNext(arg, m);
}

/** `-46`, `-ft22`, `-t`: walks the letters; true if the last one needs the next argument. */
function shortClusterNeedsNext(arg: string, m: Mode): boolean {
  for (let i = 1; i < arg.length; i++) {
    const spec = OPTIONS.find((s) => hasShort(s, m) && s.short === arg[i]);
    if (spec === undefined) throw new UsageError(`unrecognized option '-${arg[i]}'`);
    if (spec.arg !== undefined) return i === arg.length - 1;
  }
  return false;
}

function translateCommanderError(err: unknown): unknown {
  if (!(err instanceof CommanderError)) return err;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  if (err.code === 'commander.unknownOption') return new UsageError(`unrecognized option '${quoted}'`);
  if (err.code === 'commander.optionMissingArgument') {
    const long = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
    return new UsageError(`option '${long}' requires an argument`);
  }
  return new UsageError(err.message.replace(/^error: /, ''));
}

/* ---------------------------------------------------------------------------------------------- */
/* Cross-option checks and the result                                                               */

function finish(d: Draft, operands: string[]): RunRequest {
  if (d.cfg.socketPath !== null && d.cfg.fd !== null) throw new UsageError('--socket and --fd are mutually exclusive');
  if (d.cfg.fd !== null) d.cfg.oneOff = true;
  if (d.cfg.ns.configNet) d.cfg.disabled.ra = true;
  finishPorts(d);
  const target = d.mode === 'pasta' ? pastaTarget(d, operands) : passtOperands(operands);
  return { action: 'run', mode: d.mode, config: d.cfg, target, given: [...d.seen] };
}

function finishPorts(d: Draft): void {
  const dflt: ForwardMode = d.mode === 'pasta' ? 'auto' : 'none';
  const f = d.cfg.forward;
  f.tcpIn = d.ports.tcpIn.build(dflt);
  f.udpIn = d.ports.udpIn.build(dflt);
  f.tcpOut = d.ports.tcpOut.build(dflt);
  f.udpOut = d.ports.udpOut.build(dflt);
  f.udpInFollowsTcp = !d.ports.udpIn.given;
  f.udpOutFollowsTcp = !d.ports.udpOut.given;
}

function passtOperands(operands: readonly string[]): null {
  if (operands.length > 0) throw new UsageError(`unexpected argument '${operands[0]}'`);
  return null;
}

function pastaTarget(d: Draft, operands: string[]): PastaTarget {
  if (d.cfg.ns.netnsOnly && d.userns !== null) throw new UsageError('--userns and --netns-only are mutually exclusive');
  if (d.netns !== null && operands.length > 0)
    throw new UsageError(`--netns can't be combined with a PID or command ('${operands[0]}')`);
  const userns = d.userns === null ? {} : { userns: d.userns };
  if (d.netns !== null) {
    if (d.userns === null) d.cfg.ns.netnsOnly = true;
    return { kind: 'netns', path: d.netns, ...userns };
  }
  const pid = operands.length === 1 ? pidOperand(operands[0]!) : null;
  if (pid !== null) return { kind: 'pid', pid, ...userns };
  if (d.userns !== null) throw new UsageError('--userns needs a PID or --netns');
  return { kind: 'spawn', argv: operands.length > 0 ? operands : [d.host.shell || '/bin/sh'] };
}

/** A lone operand of digits is a PID (an optional sign counts too, as strtol reads it). */
function pidOperand(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const pid = Number(text);
  if (pid < 1 || pid > 0x7fffffff) throw new UsageError(`invalid PID '${text}'`);
  return pid;
}

/* ---------------------------------------------------------------------------------------------- */
/* Help and version                                                                                 */

const SECTION_TITLES: Record<OptionSection, string> = {
  general: 'General',
  guest: 'Addresses and interfaces',
  dns: 'DNS',
  protocols: 'Protocol handlers and servers',
  ports: 'Port forwarding',
  namespace: 'Namespace (pasta)',
  actors: 'passt-actors',
};

const USAGE: Record<Mode, string> = {
  pasta: [
    'Usage: pasta [OPTION]... [COMMAND [ARG]...]',
    '       pasta [OPTION]... PID',
    '       pasta [OPTION]... --netns PATH|NAME',
    '',
    'Connects a network namespace to the host network through a tap device. Without a PID or --netns,',
    'starts COMMAND (default: your shell) in new user and network namespaces. Put -- before a COMMAND',
    'that has options of its own.',
  ].join('\n'),
  passt: [
    'Usage: passt [OPTION]...',
    '',
    "Gives a virtual machine (qemu, over a UNIX domain socket) the host's network connectivity.",
  ].join('\n'),
};

const SPEC_HELP: Record<Mode, string> = {
  pasta: [
    'SPEC, for -t, -u, -T and -U:',
    '  none                  forward nothing',
    '  auto                  forward the ports bound on the other side, followed at run time',
    '  PORTS                 comma-separated parts: 22 | 8000-8010 | 8080:80 (to another port) |',
    '                        8000-8010:9000-9010 | ~8005 or ~8003-8004 (leave out of this SPEC);',
    '                        only ~ parts: every port below 49152 but those',
    '  ADDR/PORTS            listen on ADDR only (-t and -u): 127.0.0.1/22, ::1/22',
    '  ADDR%IF/PORTS         ...and on interface IF only; %IF/PORTS: interface only',
    'Repeated options add up. Without -u, UDP also covers the ports TCP forwards.',
  ].join('\n'),
  passt: [
    'SPEC, for -t and -u:',
    '  none                  forward nothing',
    '  all                   forward every port below 49152 that can be bound',
    '  PORTS                 comma-separated parts: 22 | 8000-8010 | 8080:80 (to another port) |',
    '                        8000-8010:9000-9010 | ~8005 or ~8003-8004 (leave out of this SPEC);',
    '                        only ~ parts: every port below 49152 but those',
    '  ADDR/PORTS            listen on ADDR only: 127.0.0.1/22, ::1/22',
    '  ADDR%IF/PORTS         ...and on interface IF only; %IF/PORTS: interface only',
    'Repeated options add up. Without -u, UDP also covers the ports TCP forwards.',
  ].join('\n'),
};

function helpLine(spec: OptionSpec, m: Mode): string {
  const names = `${hasShort(spec, m) ? `-${spec.short}, ` : '    '}--${spec.long}${spec.arg ? ` ${spec.arg}` : ''}`;
  const text = typeof spec.help === 'function' ? spec.help(m) : spec.help;
  return names.length < 28 ? `  ${names.padEnd(28)}${text}` : `  ${names}\n  ${''.padEnd(28)}${text}`;
}

/** The --help text for a mode: every option of that mode, in our words. */
export function helpText(m: Mode): string {
  const parts = [USAGE[m]];
  for (const section of Object.keys(SECTION_TITLES) as OptionSection[]) {
    const specs = OPTIONS.filter((s) => s.section === section && (s.only === undefined || s.only === m));
    const lines = specs.map((s) => helpLine(s, m));
    if (lines.length > 0) parts.push(`${SECTION_TITLES[section]}:\n${lines.join('\n')}`);
  }
  parts.push(SPEC_HELP[m]);
  return `${parts.join('\n\n')}\n`;
}

export function versionText(m: Mode, host: HostInfo): string {
  const about = 'A re-implementation of passt and pasta in TypeScript. License: GPL-2.0-or-later.';
  return `${m} (passt-actors) ${host.version}\n${about}\n`;
}

/* ---------------------------------------------------------------------------------------------- */
/* The real host                                                                                    */

/** HostInfo of this process: effective ids, $SHELL, /etc/passwd and /etc/group, package version. */
export function systemHost(): HostInfo {
  return {
    uid: process.geteuid?.() ?? 0,
    gid: process.getegid?.() ?? 0,
    shell: process.env['SHELL'],
    version: packageVersion(),
    lookupUser: (name) => {
      const f = etcEntry('/etc/passwd', name);
      return f ? { uid: Number(f[2]), gid: Number(f[3]) } : null;
    },
    lookupGroup: (name) => {
      const f = etcEntry('/etc/group', name);
      return f ? Number(f[2]) : null;
    },
  };
}

/** The colon-separated fields of NAME's line in an /etc database, or null. */
function etcEntry(file: string, name: string): string[] | null {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.split(':')[0] === name);
  return line === undefined ? null : line.split(':');
}

/** Version of the nearest package.json above this module named passt-actors. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'passt-actors') return pkg.version ?? 'unknown';
    } catch {
      /* not here: look one level up */
    }
  }
  return 'unknown';
}
