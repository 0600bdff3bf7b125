/**
 * DHCPv6 (RFC 8415) client/server messages as a value type with `parseDhcpv6` / `emitDhcpv6`, and DUIDs.
 *
 * Known options: client and server identifier, IA_NA with IAADDR and status code inside, option request,
 * elapsed time, status code, rapid commit, DNS servers (23, RFC 3646) and domain list (24, uncompressed
 * names). Parsing is strict about bounds: an option whose length runs past its container, a DUID outside
 * 3..130 bytes or a known option of impossible length drops the message with a reason; unknown options
 * (IA_TA, IA_PD, FQDN, vendor options...) are skipped. Relay messages are not parsed. Nothing throws.
 * IPv6 addresses are 16-byte Uint8Arrays.
 */
import { decodeDnsNames, encodeDnsNamesCopy } from './dhcp.js';

export const DHCPV6_CLIENT_PORT = 546;
export const DHCPV6_SERVER_PORT = 547;
/** msg-type (1) and transaction-id (3). */
export const DHCPV6_HEADER_LEN = 4;
/** Lifetime or T1/T2 meaning "forever". */
export const DHCPV6_INFINITE = 0xffffffff;
export const DUID_MIN_LEN = 3;
export const DUID_MAX_LEN = 130;

export const Dhcpv6MsgType = {
  Solicit: 1, Advertise: 2, Request: 3, Confirm: 4, Renew: 5, Rebind: 6, Reply: 7, Release: 8,
  Decline: 9, Reconfigure: 10, InformationRequest: 11, RelayForw: 12, RelayRepl: 13,
} as const;

export const Dhcpv6Opt = {
  ClientId: 1, ServerId: 2, IaNa: 3, IaAddr: 5, Oro: 6, ElapsedTime: 8, StatusCode: 13, RapidCommit: 14,
  DnsServers: 23, DomainList: 24,
} as const;

export const Dhcpv6Status = {
  Success: 0, UnspecFail: 1, NoAddrsAvail: 2, NoBinding: 3, NotOnLink: 4, UseMulticast: 5,
} as const;

export const DuidType = { Llt: 1, En: 2, Ll: 3, Uuid: 4 } as const;
const HW_TYPE_ETHERNET = 1;

export interface Dhcpv6StatusCode { code: number; message: string }
export interface Dhcpv6IaAddr { addr: Uint8Array; preferred: number; valid: number }
export interface Dhcpv6IaNa {
  iaid: number;
  t1: number;
  t2: number;
  addrs: Dhcpv6IaAddr[];
  status: Dhcpv6StatusCode | null;
}

/** A DHCPv6 client/server message; absent options are null, empty or false. */
export interface Dhcpv6Message {
  msgType: number;
  /** 24-bit transaction id. */
  xid: number;
  clientId: Uint8Array | null;
  serverId: Uint8Array | null;
  iaNa: Dhcpv6IaNa[];
  /** Option request option: the codes asked for. */
  oro: number[];
  elapsedTime: number | null;
  status: Dhcpv6StatusCode | null;
  rapidCommit: boolean;
  dnsServers: Uint8Array[];
  domainList: string[];
}

export type Dhcpv6ParseResult = { ok: true; msg: Dhcpv6Message } | { ok: false; reason: string };

export function emptyDhcpv6Message(msgType: number, xid: number): Dhcpv6Message {
  return {
    msgType, xid, clientId: null, serverId: null, iaNa: [], oro: [], elapsedTime: null, status: null,
    rapidCommit: false, dnsServers: [], domainList: [],
  };
}

// ---------------------------------------------------------------------------------------------
// DUIDs (RFC 8415 §11)

/** DUID-LL for an Ethernet MAC: type 3, hardware type 1, the address. */
export function duidLl(mac: Uint8Array): Uint8Array {
  return Uint8Array.of(0, DuidType.Ll, 0, HW_TYPE_ETHERNET, ...mac.subarray(0, 6));
}

/** DUID-LLT: type 1, hardware type 1, `time` (seconds since 2000-01-01 UTC), the MAC. */
export function duidLlt(mac: Uint8Array, time: number): Uint8Array {
  return Uint8Array.of(
    0, DuidType.Llt, 0, HW_TYPE_ETHERNET,
    (time >>> 24) & 0xff, (time >>> 16) & 0xff, (time >>> 8) & 0xff, time & 0xff, ...mac.subarray(0, 6),
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses the DHCPv6 message b[off, off+len) (the UDP payload). */
export function parseDhcpv6(b: Uint8Array, off: number, len: number): Dhcpv6ParseResult {
  if (off < 0 || len < 0 || off + len > b.length) return fail('bounds');
  if (len < DHCPV6_HEADER_LEN) return fail('short message');
  const d = b.subarray(off, off + len);
  if (d[0] === Dhcpv6MsgType.RelayForw || d[0] === Dhcpv6MsgType.RelayRepl) return fail('relay message');
  const msg = emptyDhcpv6Message(d[0]!, (d[1]! << 16) | (d[2]! << 8) | d[3]!);
  const reason = walkOptions(d, DHCPV6_HEADER_LEN, (code, data) => applyOption(msg, code, data));
  return reason === null ? { ok: true, msg } : fail(reason);
}

function fail(reason: string): Dhcpv6ParseResult {
  return { ok: false, reason };
}

type OptionHandler = (code: number, data: Uint8Array) => string | null;

/** Calls `each` for every option in d[start..]; the first drop reason stops the walk. */
function walkOptions(d: Uint8Array, start: number, each: OptionHandler): string | null {
  let i = start;
  while (i < d.length) {
    if (i + 4 > d.length) return 'option header past end';
    const olen = (d[i + 2]! << 8) | d[i + 3]!;
    if (i + 4 + olen > d.length) return 'option length past end';
    const reason = each((d[i]! << 8) | d[i + 1]!, d.subarray(i + 4, i + 4 + olen));
    if (reason !== null) return reason;
    i += 4 + olen;
  }
  return null;
}

function applyOption(m: Dhcpv6Message, code: number, d: Uint8Array): string | null {
  switch (code) {
    case Dhcpv6Opt.ClientId: return readDuid(d, (x) => (m.clientId = x), 'bad client id');
    case Dhcpv6Opt.ServerId: return readDuid(d, (x) => (m.serverId = x), 'bad server id');
    case Dhcpv6Opt.IaNa: return readIaNa(m, d);
    case Dhcpv6Opt.Oro: return readOro(m, d);
    case Dhcpv6Opt.ElapsedTime: return d.length === 2 ? setElapsed(m, d) : 'bad elapsed time';
    case Dhcpv6Opt.StatusCode: return readStatus(d, (s) => (m.status = s));
    case Dhcpv6Opt.RapidCommit:
      if (d.length !== 0) return 'bad rapid commit';
      m.rapidCommit = true;
      return null;
    case Dhcpv6Opt.DnsServers: return readDns(m, d);
    case Dhcpv6Opt.DomainList: return readDomains(m, d);
    default: return null; // not ours to interpret
  }
}

function u32At(d: Uint8Array, i: number): number {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

function readDuid(d: Uint8Array, set: (duid: Uint8Array) => void, reason: string): string | null {
  if (d.length < DUID_MIN_LEN || d.length > DUID_MAX_LEN) return reason;
  set(d.slice());
  return null;
}

function setElapsed(m: Dhcpv6Message, d: Uint8Array): null {
  m.elapsedTime = (d[0]! << 8) | d[1]!;
  return null;
}

function readOro(m: Dhcpv6Message, d: Uint8Array): string | null {
  if (d.length % 2 !== 0) return 'bad option request';
  for (let i = 0; i < d.length; i += 2) m.oro.push((d[i]! << 8) | d[i + 1]!);
  return null;
}

function readStatus(d: Uint8Array, set: (s: Dhcpv6StatusCode) => void): string | null {
  if (d.length < 2) return 'bad status code';
  set({ code: (d[0]! << 8) | d[1]!, message: new TextDecoder().decode(d.subarray(2)) });
  return null;
}

function readIaNa(m: Dhcpv6Message, d: Uint8Array): string | null {
  if (d.length < 12) return 'bad IA_NA';
  const ia: Dhcpv6IaNa = { iaid: u32At(d, 0), t1: u32At(d, 4), t2: u32At(d, 8), addrs: [], status: null };
  const reason = walkOptions(d, 12, (code, data) => applyIaOption(ia, code, data));
  if (reason !== null) return reason;
  m.iaNa.push(ia);
  return null;
}

function applyIaOption(ia: Dhcpv6IaNa, code: number, d: Uint8Array): string | null {
  if (code === Dhcpv6Opt.StatusCode) return readStatus(d, (s) => (ia.status = s));
  if (code !== Dhcpv6Opt.IaAddr) return null;
  if (d.length < 24) return 'bad IAADDR';
  const reason = walkOptions(d, 24, () => null); // IAADDR options are only bounds-checked
  if (reason !== null) return reason;
  ia.addrs.push({ addr: d.slice(0, 16), preferred: u32At(d, 16), valid: u32At(d, 20) });
  return null;
}

function readDns(m: Dhcpv6Message, d: Uint8Array): string | null {
  if (d.length === 0 || d.length % 16 !== 0) return 'bad dns servers';
  for (let i = 0; i < d.length; i += 16) m.dnsServers.push(d.slice(i, i + 16));
  return null;
}

function readDomains(m: Dhcpv6Message, d: Uint8Array): string | null {
  const names = decodeDnsNames(d, 0, d.length, false);
  if (names === null) return 'bad domain list';
  m.domainList = names;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Emitting

/**
 * Writes `m` at out[off], at most `cap` bytes; returns the length, or -1 if it does not fit or a domain
 * name is invalid. Option order: server id, client id, IA_NAs, status, rapid commit, DNS, domain list,
 * ORO, elapsed time.
 */
export function emitDhcpv6(m: Dhcpv6Message, out: Uint8Array, off: number, cap: number): number {
  const opts = encodeOptions(m);
  if (opts === null) return -1;
  const len = DHCPV6_HEADER_LEN + opts.length;
  if (len > cap || off < 0 || off + len > out.length) return -1;
  out[off] = m.msgType;
  out[off + 1] = (m.xid >>> 16) & 0xff;
  out[off + 2] = (m.xid >>> 8) & 0xff;
  out[off + 3] = m.xid & 0xff;
  out.set(opts, off + DHCPV6_HEADER_LEN);
  return len;
}

function encodeOptions(m: Dhcpv6Message): Uint8Array | null {
  const parts: Uint8Array[] = [];
  if (m.serverId !== null) parts.push(option(Dhcpv6Opt.ServerId, m.serverId));
  if (m.clientId !== null) parts.push(option(Dhcpv6Opt.ClientId, m.clientId));
  for (const ia of m.iaNa) parts.push(encodeIaNa(ia));
  if (m.status !== null) parts.push(encodeStatus(m.status));
  if (m.rapidCommit) parts.push(option(Dhcpv6Opt.RapidCommit, new Uint8Array(0)));
  if (m.dnsServers.length > 0) parts.push(option(Dhcpv6Opt.DnsServers, joinBytes(m.dnsServers)));
  if (m.domainList.length > 0) {
    const names = encodeDnsNamesCopy(m.domainList, false);
    if (names === null) return null;
    parts.push(option(Dhcpv6Opt.DomainList, names));
  }
  if (m.oro.length > 0) parts.push(option(Dhcpv6Opt.Oro, Uint8Array.from(m.oro.flatMap((c) => [c >> 8, c & 0xff]))));
  if (m.elapsedTime !== null) parts.push(option(Dhcpv6Opt.ElapsedTime, Uint8Array.of(m.elapsedTime >> 8, m.elapsedTime & 0xff)));
  const out = joinBytes(parts);
  return out.length <= 0xffff ? out : null;
}

/** Code, 16-bit length, data. */
function option(code: number, data: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + data.length);
  o[0] = code >> 8;
  o[1] = code & 0xff;
  o[2] = data.length >> 8;
  o[3] = data.length & 0xff;
  o.set(data, 4);
  return o;
}

function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u32Bytes(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(4 * i, v >>> 0));
  return out;
}

function encodeStatus(s: Dhcpv6StatusCode): Uint8Array {
  const text = new TextEncoder().encode(s.message);
  return option(Dhcpv6Opt.StatusCode, joinBytes([Uint8Array.of(s.code >> 8, s.code & 0xff), text]));
}

function encodeIaNa(ia: Dhcpv6IaNa): Uint8Array {
  const parts = [u32Bytes(ia.iaid, ia.t1, ia.t2)];
  for (const a of ia.addrs) {
    parts.push(option(Dhcpv6Opt.IaAddr, joinBytes([a.addr.subarray(0, 16), u32Bytes(a.preferred, a.valid)])));
  }
  if (ia.status !== null) parts.push(encodeStatus(ia.status));
  return option(Dhcpv6Opt.IaNa, joinBytes(parts));
}
