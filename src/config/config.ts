/**
 * The typed configuration that the command line produces, its defaults, and the validators of the
 * values it holds.
 *
 * Addresses stay text (validated with net.isIPv4/isIPv6, IPv6 as given); MACs are normalised to lower
 * case. `null` means "not given: derive it from the host at start-up" (passt's behaviour for addresses,
 * gateway, MAC, interfaces). Everything here is plain data: it crosses threads and processes as it is.
 */
import type { ActorName } from '../runtime/actor.js';
import type { FaultSpec } from '../runtime/faults.js';
import { isIPv4, isIPv6 } from 'node:net';
import type { PortForward } from './portspec.js';

export type Mode = 'pasta' | 'passt';

/** Actors whose messages --trace-actors can log. */
export const TRACEABLE_ACTORS = ['tap', 'tcp', 'udp', 'icmp', 'splice', 'router'] as const;
export type TraceableActor = (typeof TRACEABLE_ACTORS)[number];

/** 65520: the largest 802.3 MTU (65535) minus the Ethernet header, rounded down to 32-bit words. */
export const DEFAULT_MTU = 65520;
export const MIN_MTU = 68;
export const MAX_MTU = 65535;
export const DEFAULT_LOG_SIZE = 1024 * 1024;
/** Smallest --log-size passt accepts. */
export const MIN_LOG_SIZE = 40960;
export const MAX_LOG_SIZE = Number.MAX_SAFE_INTEGER;
/** At most this many -D addresses per IP version, and -S domains in all (passt's limits). */
export const MAX_DNS_PER_FAMILY = 4;
export const MAX_SEARCH_DOMAINS = 6;
export const NETNS_RUN_DIR = '/run/netns';
/** sizeof(sun_path) minus the terminating NUL */
export const UNIX_PATH_MAX = 107;
export const PATH_MAX = 4095;

export interface LogConfig {
  debug: boolean;
  /** implies debug */
  trace: boolean;
  quiet: boolean;
  /** -e: also log to stderr */
  stderr: boolean;
  /** -l: log (only) to this file */
  file: string | null;
  /** --log-size, bytes */
  fileSize: number;
}

/** Per IP version settings; null where the host's values are to be used. */
export interface Ip4Config {
  address: string | null;
  /** -n as a prefix length; null: the host's, or the address's classful one */
  prefixLen: number | null;
  gateway: string | null;
  /** -o: bind outbound sockets to this source address */
  outbound: string | null;
  /** --outbound-if4 */
  outboundIf: string | null;
  /** -D addresses of this version, in order */
  dns: string[];
  /** --dns-forward: DNS queries sent to this address go to the first resolver */
  dnsForward: string | null;
}

export type Ip6Config = Omit<Ip4Config, 'prefixLen'>;

export interface DnsConfig {
  /** -D none: use no resolver at all */
  disabled: boolean;
  /** -S domains, in order */
  search: string[];
  /** -S none */
  searchDisabled: boolean;
  /** resolvers are announced via DHCP/DHCPv6/NDP (passt: yes unless --no-dhcp-dns; pasta: only with --dhcp-dns) */
  dhcpDns: boolean;
  /** same for the search list (--no-dhcp-search / --dhcp-search) */
  dhcpSearch: boolean;
}

/** The --no-* switches: true means that handler or server is disabled. */
export interface DisabledFeatures {
  tcp: boolean;
  udp: boolean;
  icmp: boolean;
  dhcp: boolean;
  ndp: boolean;
  dhcpv6: boolean;
  /** also set by --config-net, as passt does */
  ra: boolean;
  mapGw: boolean;
  /** --no-splice (pasta): loopback connections take the tap path instead of the splice actor */
  splice: boolean;
}

/**
 * Port forwarding. "in" is towards the guest or namespace (-t, -u), "out" from the namespace to the
 * init namespace (-T, -U; pasta only, 'none' in passt mode).
 */
export interface ForwardConfig {
  tcpIn: PortForward;
  udpIn: PortForward;
  tcpOut: PortForward;
  udpOut: PortForward;
  /**
   * -u (resp. -U) was not given: UDP also covers the port numbers TCP forwards, without translation, as
   * the man page says. Debian's 2023-03 passt honours this in 'auto' mode only (its scan of bound UDP
   * ports includes TCP listeners); the flag says what the user asked for, the runtime decides.
   */
  udpInFollowsTcp: boolean;
  udpOutFollowsTcp: boolean;
}

/** pasta-only settings (left at their defaults in passt mode) */
export interface NamespaceConfig {
  /** -I: name of the tap interface in the namespace; null: same as the host's template interface */
  ifname: string | null;
  /** --netns-only, or implied by --netns without --userns */
  netnsOnly: boolean;
  /** --no-netns-quit */
  noNetnsQuit: boolean;
  /** --config-net */
  configNet: boolean;
  /** --ns-mac-addr; null: the tap driver's random address */
  macAddr: string | null;
}

/** Our own options, for both modes. */
export interface ActorsConfig {
  /** --actors: each actor in its own OS process */
  separateProcesses: boolean;
  /** --trace-actors: actors whose messages are logged as JSON lines */
  trace: TraceableActor[];
  /** --control: path of a control socket */
  control: string | null;
  /** --fault ACTOR:SPEC: faults injected into an actor's frames (runtime/faults.ts) */
  faults: Partial<Record<ActorName, FaultSpec>>;
}

export interface Config {
  mode: Mode;
  log: LogConfig;
  foreground: boolean;
  /** --runas, resolved to numbers; null: not given */
  runas: { uid: number; gid: number } | null;
  /** -P */
  pidFile: string | null;
  /** -p */
  pcapFile: string | null;
  /** -s (passt) */
  socketPath: string | null;
  /** -F: pre-opened connected socket */
  fd: number | null;
  /** -1 (passt), also implied by -F */
  oneOff: boolean;
  /** -m; 0 means "don't assign an MTU via DHCP/NDP" */
  mtu: number;
  /** -M: our MAC address towards the guest; null: the host interface's */
  macAddr: string | null;
  /** -i: template interface for addresses and routes */
  interface: string | null;
  /** -4 / -6 */
  ipOnly: 'ipv4' | 'ipv6' | null;
  ip4: Ip4Config;
  ip6: Ip6Config;
  dns: DnsConfig;
  disabled: DisabledFeatures;
  forward: ForwardConfig;
  ns: NamespaceConfig;
  actors: ActorsConfig;
}

/** The configuration with no option given, for each mode (a fresh object every call). */
export function defaultConfig(mode: Mode): Config {
  const fwd = (): PortForward => ({ mode: mode === 'pasta' ? 'auto' : 'none', ranges: [] });
  return {
    mode,
    log: { debug: false, trace: false, quiet: false, stderr: false, file: null, fileSize: DEFAULT_LOG_SIZE },
    foreground: false,
    runas: null,
    pidFile: null,
    pcapFile: null,
    socketPath: null,
    fd: null,
    oneOff: false,
    mtu: DEFAULT_MTU,
    macAddr: null,
    interface: null,
    ipOnly: null,
    ip4: { address: null, prefixLen: null, gateway: null, outbound: null, outboundIf: null, dns: [], dnsForward: null },
    ip6: { address: null, gateway: null, outbound: null, outboundIf: null, dns: [], dnsForward: null },
    dns: {
      disabled: false,
      search: [],
      searchDisabled: false,
      dhcpDns: mode === 'passt',
      dhcpSearch: mode === 'passt',
    },
    disabled: { tcp: false, udp: false, icmp: false, dhcp: false, ndp: false, dhcpv6: false, ra: false, mapGw: false, splice: false },
    forward: {
      tcpIn: fwd(),
      udpIn: fwd(),
      tcpOut: fwd(),
      udpOut: fwd(),
      udpInFollowsTcp: true,
      udpOutFollowsTcp: true,
    },
    ns: { ifname: null, netnsOnly: false, noNetnsQuit: false, configNet: false, macAddr: null },
    actors: { separateProcesses: false, trace: [], control: null, faults: {} },
  };
}

/* ---- value checks (pure; the option layer turns a false into a UsageError) ---- */

/** 32-bit IPv4 value of a valid dotted quad. */
export function ipv4ToNumber(addr: string): number {
  return addr.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export type Ip4Use = 'address' | 'gateway' | 'outbound' | 'dns-forward';

/** Which IPv4 addresses passt accepts for each use (unspecified and broadcast never). */
export function isUsableIpv4(addr: string, use: Ip4Use): boolean {
  if (!isIPv4(addr)) return false;
  const n = ipv4ToNumber(addr);
  if (n === 0 || n === 0xffffffff) return false;
  const loopback = n >>> 24 === 127;
  const multicast = n >>> 28 === 0xe;
  if (use === 'address') return !loopback && !multicast;
  if (use === 'outbound') return !multicast;
  return !loopback;
}

/** The 16 bytes of a valid IPv6 address (an embedded dotted quad allowed). */
export function ipv6ToBytes(addr: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let text = addr.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToNumber(v4[1]!);
    text = text.slice(0, v4.index) + `${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return bytes;
}

export type Ip6Use = 'address' | 'gateway' | 'outbound' | 'dns-forward';

/** Which IPv6 addresses passt accepts for each use (unspecified and loopback never). */
export function isUsableIpv6(addr: string, use: Ip6Use): boolean {
  if (!isIPv6(addr) || addr.includes('%')) return false;
  const b = ipv6ToBytes(addr);
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  if (zeroUpTo(16)) return false;
  if (zeroUpTo(15) && b[15] === 1) return false;
  if (use === 'gateway' || use === 'dns-forward') return true;
  const v4mapped = zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff;
  const v4compat = zeroUpTo(12);
  return !v4mapped && !v4compat && b[0] !== 0xff;
}

/** aa:bb:cc:dd:ee:ff, normalised to lower case, or null if malformed. */
export function parseMac(text: string): string | null {
  return /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i.test(text) ? text.toLowerCase() : null;
}

/**
 * An integer as C's strtol(s, &end, 0) reads it when it must consume the whole string: decimal, 0x hex
 * or 0 octal, optional sign. NaN if anything else.
 */
export function parseCInteger(text: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return NaN;
  const digits = m[2]!;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith('0')
      ? parseInt(digits.slice(1), 8)
      : Number(digits);
  return m[1] === '-' ? -value : value;
}

/** -n: dot-decimal contiguous mask or prefix length 0..32 (0: derive it). null if invalid. */
export function parseNetmask(text: string): number | null {
  if (isIPv4(text)) {
    const n = ipv4ToNumber(text);
    const len = n.toString(2).replace(/0+$/, '').length;
    const contiguous = n === 0 || n.toString(2) === '1'.repeat(len).padEnd(32, '0');
    return contiguous ? (n === 0 ? 0 : len) : null;
  }
  const len = parseCInteger(text);
  return Number.isInteger(len) && len >= 0 && len <= 32 ? len : null;
}

/** A DNS search domain: 1..253 characters, labels of 1..63, no whitespace. */
export function isValidDomain(name: string): boolean {
  if (name.length === 0 || name.length > 253 || /\s/.test(name)) return false;
  return name.replace(/\.$/, '').split('.').every((label) => label.length >= 1 && label.length <= 63);
}
