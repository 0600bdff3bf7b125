/**
 * DHCP (RFC 2131, 2132) over BOOTP: the message as a value type with `parseDhcp` / `emitDhcp`, and the DNS
 * name lists several guest services send (DHCP option 119 with RFC 1035 compression, as RFC 3397 wants;
 * the NDP DNSSL option and DHCPv6 option 24 use the same encoder without compression).
 *
 * Parsing is strict about bounds and lenient about content: any option is read only if its whole length
 * lies inside the message, and the END option (RFC 2132 §3.2) must be there, else the message is dropped
 * (so a cut message never passes as a shorter one); unknown options are skipped, repeated instances
 * of a variable-length option are concatenated (RFC 3396), bytes after END are ignored. Option 52
 * (overload: more options in `sname`/`file`) is recorded but those fields are not read. Nothing throws:
 * `parseDhcp` returns a drop reason instead.
 *
 * IPv4 addresses are u32 numbers (see addr.ts). Emitting writes message type 53 first (some small
 * clients expect it there), then the options in the order of the client's parameter request list, then
 * the rest in ascending order, END, and zero padding up to the 300-byte BOOTP minimum. Options longer
 * than 255 bytes are split into consecutive instances (RFC 3396).
 */

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Fixed BOOTP header, up to the magic cookie. */
export const BOOTP_FIXED_LEN = 236;
/** Fixed header plus the magic cookie: the shortest DHCP message. */
export const DHCP_MIN_LEN = 240;
/** Replies are padded to at least this length (RFC 1542 §2.1). */
export const BOOTP_MIN_LEN = 300;
export const DHCP_CHADDR_LEN = 16;
export const DHCP_FLAG_BROADCAST = 0x8000;
/** Lease time meaning "forever". */
export const DHCP_INFINITE_LEASE = 0xffffffff;

/** Field offsets within the BOOTP header. */
export const BootpOff = {
  Op: 0, Htype: 1, Hlen: 2, Hops: 3, Xid: 4, Secs: 8, Flags: 10, Ciaddr: 12, Yiaddr: 16, Siaddr: 20,
  Giaddr: 24, Chaddr: 28, Sname: 44, File: 108, Cookie: 236, Options: 240,
} as const;

export const BootpOp = { Request: 1, Reply: 2 } as const;

/** Option 53 values; any other value stays a number. */
export const DhcpMsgType = {
  Discover: 1, Offer: 2, Request: 3, Decline: 4, Ack: 5, Nak: 6, Release: 7, Inform: 8,
} as const;

/** Option codes we read or write. */
export const DhcpOpt = {
  Pad: 0, SubnetMask: 1, Router: 3, DnsServer: 6, InterfaceMtu: 26, RequestedAddr: 50, LeaseTime: 51,
  Overload: 52, MsgType: 53, ServerId: 54, ParamList: 55, ClientId: 61, RapidCommit: 80,
  DomainSearch: 119, ClasslessRoutes: 121, End: 255,
} as const;

/** One RFC 3442 route: `dest`/`prefix` via `gateway` (0: on-link). */
export interface ClasslessRoute {
  dest: number;
  prefix: number;
  gateway: number;
}

/** A DHCP message, either direction. Absent options are null, empty or false. */
export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** The 16-byte chaddr field; the hardware address is its first `hlen` bytes. */
  chaddr: Uint8Array;
  /** Option 53; 0 if absent (a plain BOOTP message). */
  msgType: number;
  requestedAddr: number | null;
  serverId: number | null;
  paramList: Uint8Array;
  clientId: Uint8Array | null;
  rapidCommit: boolean;
  /** Option 52 value, 0 if absent; the overloaded fields are never read. */
  overload: number;
  subnetMask: number | null;
  routers: number[];
  dnsServers: number[];
  mtu: number | null;
  leaseTime: number | null;
  domainSearch: string[];
  classlessRoutes: ClasslessRoute[];
}

export type DhcpParseResult = { ok: true; msg: DhcpMessage } | { ok: false; reason: string };

/** A message with every field zero or absent, to fill in. */
export function emptyDhcpMessage(): DhcpMessage {
  return {
    op: 0, htype: 0, hlen: 0, hops: 0, xid: 0, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0,
    giaddr: 0, chaddr: new Uint8Array(DHCP_CHADDR_LEN), msgType: 0, requestedAddr: null, serverId: null,
    paramList: new Uint8Array(0), clientId: null, rapidCommit: false, overload: 0, subnetMask: null,
    routers: [], dnsServers: [], mtu: null, leaseTime: null, domainSearch: [], classlessRoutes: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses the DHCP message in b[off, off+len) (the UDP payload). */
export function parseDhcp(b: Uint8Array, off: number, len: number): DhcpParseResult {
  if (off < 0 || len < 0 || off + len > b.length) return fail('bounds');
  if (len < DHCP_MIN_LEN) return fail('short message');
  const dv = new DataView(b.buffer, b.byteOffset + off, len);
  if (dv.getUint32(BootpOff.Cookie) !== DHCP_MAGIC_COOKIE) return fail('bad magic cookie');
  const msg = parseFixed(b, off, dv);
  if (msg.hlen > DHCP_CHADDR_LEN) return fail('bad hlen');
  const opts = collectOptions(b, off + BootpOff.Options, off + len);
  if (typeof opts === 'string') return fail(opts);
  const reason = applyOptions(msg, opts);
  return reason === null ? { ok: true, msg } : fail(reason);
}

function fail(reason: string): DhcpParseResult {
  return { ok: false, reason };
}

function parseFixed(b: Uint8Array, off: number, dv: DataView): DhcpMessage {
  const m = emptyDhcpMessage();
  m.op = dv.getUint8(BootpOff.Op);
  m.htype = dv.getUint8(BootpOff.Htype);
  m.hlen = dv.getUint8(BootpOff.Hlen);
  m.hops = dv.getUint8(BootpOff.Hops);
  m.xid = dv.getUint32(BootpOff.Xid);
  m.secs = dv.getUint16(BootpOff.Secs);
  m.flags = dv.getUint16(BootpOff.Flags);
  m.ciaddr = dv.getUint32(BootpOff.Ciaddr);
  m.yiaddr = dv.getUint32(BootpOff.Yiaddr);
  m.siaddr = dv.getUint32(BootpOff.Siaddr);
  m.giaddr = dv.getUint32(BootpOff.Giaddr);
  m.chaddr.set(b.subarray(off + BootpOff.Chaddr, off + BootpOff.Chaddr + DHCP_CHADDR_LEN));
  return m;
}

/**
 * Walks the options in b[start, end) up to END: code -> concatenated data of all its instances. Returns
 * a drop reason if an option's length byte or data runs past `end`, or END is missing.
 */
function collectOptions(b: Uint8Array, start: number, end: number): Map<number, Uint8Array> | string {
  const parts = new Map<number, Uint8Array[]>();
  let i = start;
  for (;;) {
    if (i >= end) return 'no end option';
    const code = b[i]!;
    if (code === DhcpOpt.End) break;
    if (code === DhcpOpt.Pad) { i++; continue; }
    if (i + 1 >= end) return 'option length past end';
    const olen = b[i + 1]!;
    if (i + 2 + olen > end) return 'option length past end';
    const list = parts.get(code) ?? [];
    list.push(b.subarray(i + 2, i + 2 + olen));
    parts.set(code, list);
    i += 2 + olen;
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) out.set(code, concat(list));
  return out;
}

function concat(list: Uint8Array[]): Uint8Array {
  const total = list.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of list) { out.set(p, at); at += p.length; }
  return out;
}

/** Moves the known options into `m`; a drop reason for a known option with an impossible length. */
function applyOptions(m: DhcpMessage, opts: Map<number, Uint8Array>): string | null {
  for (const [code, data] of opts) {
    const reason = applyOption(m, code, data);
    if (reason !== null) return reason;
  }
  return null;
}

function applyOption(m: DhcpMessage, code: number, d: Uint8Array): string | null {
  switch (code) {
    case DhcpOpt.MsgType: return readNumber(d, 1, (v) => (m.msgType = v), 'bad message type option');
    case DhcpOpt.Overload: return readNumber(d, 1, (v) => (m.overload = v), 'bad overload option');
    case DhcpOpt.InterfaceMtu: return readNumber(d, 2, (v) => (m.mtu = v), 'bad mtu option');
    case DhcpOpt.RequestedAddr: return readNumber(d, 4, (v) => (m.requestedAddr = v), 'bad requested address');
    case DhcpOpt.ServerId: return readNumber(d, 4, (v) => (m.serverId = v), 'bad server id');
    case DhcpOpt.SubnetMask: return readNumber(d, 4, (v) => (m.subnetMask = v), 'bad subnet mask');
    case DhcpOpt.LeaseTime: return readNumber(d, 4, (v) => (m.leaseTime = v), 'bad lease time');
    case DhcpOpt.RapidCommit: return readNumber(d, 0, () => (m.rapidCommit = true), 'bad rapid commit');
    case DhcpOpt.ParamList: m.paramList = d; return null;
    case DhcpOpt.ClientId:
      if (d.length < 2) return 'bad client id'; // type and at least one byte
      m.clientId = d;
      return null;
    case DhcpOpt.Router: return readAddrList(d, m.routers, 'bad router option');
    case DhcpOpt.DnsServer: return readAddrList(d, m.dnsServers, 'bad dns option');
    case DhcpOpt.DomainSearch: return readSearch(m, d);
    case DhcpOpt.ClasslessRoutes: return readRoutes(m, d);
    default: return null; // anything else is not ours to interpret
  }
}

function u32At(d: Uint8Array, i: number): number {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

/** A big-endian number of exactly `size` bytes (0: a flag option without data), else `reason`. */
function readNumber(d: Uint8Array, size: number, set: (v: number) => void, reason: string): string | null {
  if (d.length !== size) return reason;
  let v = 0;
  for (const x of d) v = v * 256 + x;
  set(v);
  return null;
}

function readAddrList(d: Uint8Array, out: number[], reason: string): string | null {
  if (d.length === 0 || d.length % 4 !== 0) return reason;
  for (let i = 0; i < d.length; i += 4) out.push(u32At(d, i));
  return null;
}

function readSearch(m: DhcpMessage, d: Uint8Array): string | null {
  const names = decodeDnsNames(d, 0, d.length, true);
  if (names === null) return 'bad domain search option';
  m.domainSearch = names;
  return null;
}

function readRoutes(m: DhcpMessage, d: Uint8Array): string | null {
  let i = 0;
  while (i < d.length) {
    const prefix = d[i]!;
    const sig = (prefix + 7) >> 3;
    if (prefix > 32 || i + 1 + sig + 4 > d.length) return 'bad classless routes option';
    let dest = 0;
    for (let k = 0; k < 4; k++) dest = dest * 256 + (k < sig ? d[i + 1 + k]! : 0);
    m.classlessRoutes.push({ dest, prefix, gateway: u32At(d, i + 1 + sig) });
    i += 1 + sig + 4;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Emitting

/**
 * Writes `m` at out[off], at most `cap` bytes; returns the length written (at least BOOTP_MIN_LEN), or
 * -1 if it does not fit or a domain name is invalid. Only options with a value are written; `order` (a
 * reply passes the request's parameter request list) sets the order after option 53.
 */
export function emitDhcp(
  m: DhcpMessage, out: Uint8Array, off: number, cap: number, order: Uint8Array = m.paramList,
): number {
  const opts = encodeOptions(m);
  if (opts === null) return -1;
  const codes = optionOrder(opts, order);
  let optLen = 1; // END
  for (const code of codes) optLen += splitLen(opts.get(code)!.length);
  const len = Math.max(BOOTP_MIN_LEN, DHCP_MIN_LEN + optLen);
  if (cap < len || off < 0 || off + len > out.length) return -1;
  out.fill(0, off, off + len);
  writeFixed(m, new DataView(out.buffer, out.byteOffset + off, len), out, off);
  let at = off + BootpOff.Options;
  for (const code of codes) at = writeOption(out, at, code, opts.get(code)!);
  out[at] = DhcpOpt.End;
  return len;
}

function writeFixed(m: DhcpMessage, dv: DataView, out: Uint8Array, off: number): void {
  dv.setUint8(BootpOff.Op, m.op);
  dv.setUint8(BootpOff.Htype, m.htype);
  dv.setUint8(BootpOff.Hlen, m.hlen);
  dv.setUint8(BootpOff.Hops, m.hops);
  dv.setUint32(BootpOff.Xid, m.xid >>> 0);
  dv.setUint16(BootpOff.Secs, m.secs);
  dv.setUint16(BootpOff.Flags, m.flags);
  dv.setUint32(BootpOff.Ciaddr, m.ciaddr >>> 0);
  dv.setUint32(BootpOff.Yiaddr, m.yiaddr >>> 0);
  dv.setUint32(BootpOff.Siaddr, m.siaddr >>> 0);
  dv.setUint32(BootpOff.Giaddr, m.giaddr >>> 0);
  out.set(m.chaddr.subarray(0, DHCP_CHADDR_LEN), off + BootpOff.Chaddr);
  dv.setUint32(BootpOff.Cookie, DHCP_MAGIC_COOKIE);
}

/** Bytes taken by an option of `n` data bytes once split into 255-byte instances. */
function splitLen(n: number): number {
  return n === 0 ? 2 : n + 2 * Math.ceil(n / 255);
}

function writeOption(out: Uint8Array, at: number, code: number, data: Uint8Array): number {
  let i = 0;
  do {
    const n = Math.min(255, data.length - i);
    out[at] = code;
    out[at + 1] = n;
    out.set(data.subarray(i, i + n), at + 2);
    at += 2 + n;
    i += n;
  } while (i < data.length);
  return at;
}

/** 53 first, then the client's parameter request list order, then ascending codes. */
function optionOrder(opts: Map<number, Uint8Array>, preferred: Uint8Array): number[] {
  const order: number[] = [];
  const take = (code: number): void => {
    if (opts.has(code) && !order.includes(code)) order.push(code);
  };
  take(DhcpOpt.MsgType);
  for (const code of preferred) take(code);
  for (const code of [...opts.keys()].sort((a, b) => a - b)) take(code);
  return order;
}

/** Encoded option data by code; null if the domain search list cannot be encoded. */
function encodeOptions(m: DhcpMessage): Map<number, Uint8Array> | null {
  const o = new Map<number, Uint8Array>();
  if (m.msgType !== 0) o.set(DhcpOpt.MsgType, Uint8Array.of(m.msgType));
  putAddrs(o, DhcpOpt.SubnetMask, m.subnetMask === null ? [] : [m.subnetMask]);
  putAddrs(o, DhcpOpt.Router, m.routers);
  putAddrs(o, DhcpOpt.DnsServer, m.dnsServers);
  if (m.mtu !== null) o.set(DhcpOpt.InterfaceMtu, Uint8Array.of(m.mtu >> 8, m.mtu & 0xff));
  putAddrs(o, DhcpOpt.RequestedAddr, m.requestedAddr === null ? [] : [m.requestedAddr]);
  putAddrs(o, DhcpOpt.LeaseTime, m.leaseTime === null ? [] : [m.leaseTime]);
  if (m.overload !== 0) o.set(DhcpOpt.Overload, Uint8Array.of(m.overload));
  putAddrs(o, DhcpOpt.ServerId, m.serverId === null ? [] : [m.serverId]);
  if (m.paramList.length > 0) o.set(DhcpOpt.ParamList, m.paramList);
  if (m.clientId !== null) o.set(DhcpOpt.ClientId, m.clientId);
  if (m.rapidCommit) o.set(DhcpOpt.RapidCommit, new Uint8Array(0));
  if (m.classlessRoutes.length > 0) o.set(DhcpOpt.ClasslessRoutes, encodeRoutes(m.classlessRoutes));
  if (m.domainSearch.length === 0) return o;
  const search = encodeDnsNamesCopy(m.domainSearch, true);
  if (search === null) return null;
  o.set(DhcpOpt.DomainSearch, search);
  return o;
}

function putAddrs(o: Map<number, Uint8Array>, code: number, addrs: readonly number[]): void {
  if (addrs.length === 0) return;
  const d = new Uint8Array(4 * addrs.length);
  const dv = new DataView(d.buffer);
  addrs.forEach((a, i) => dv.setUint32(4 * i, a >>> 0));
  o.set(code, d);
}

/** RFC 3442: prefix width, the significant octets of the destination, the gateway. */
export function encodeRoutes(routes: readonly ClasslessRoute[]): Uint8Array {
  const bytes: number[] = [];
  for (const r of routes) {
    bytes.push(r.prefix);
    for (let k = 0; k < (r.prefix + 7) >> 3; k++) bytes.push((r.dest >>> (24 - 8 * k)) & 0xff);
    for (let k = 0; k < 4; k++) bytes.push((r.gateway >>> (24 - 8 * k)) & 0xff);
  }
  return Uint8Array.from(bytes);
}

// ---------------------------------------------------------------------------------------------
// DNS name lists (RFC 1035 §3.1 wire format, §4.1.4 compression)

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
const MAX_POINTER = 0x3fff;

/** Labels of a domain name ("example.com." and "example.com" alike); null if not a valid name. */
export function dnsLabels(name: string): string[] | null {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed.length === 0) return null;
  const labels = trimmed.split('.');
  let wire = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > MAX_LABEL || !/^[\x21-\x7e]+$/.test(l)) return null;
    wire += 1 + l.length;
  }
  return wire <= MAX_NAME_WIRE ? labels : null;
}

/**
 * Writes `names` in DNS wire format at out[off], at most `cap` bytes. With `compress`, a suffix already
 * written is replaced by a pointer whose offset counts from out[off] (RFC 3397 §2: offsets are relative to
 * the start of the option data). Returns the bytes written, or -1 for an invalid name or too little room.
 */
export function encodeDnsNames(
  names: readonly string[], compress: boolean, out: Uint8Array, off: number, cap: number,
): number {
  const seen = new Map<string, number>();
  let at = 0;
  for (const name of names) {
    const labels = dnsLabels(name);
    if (labels === null) return -1;
    at = encodeOneName(labels, compress ? seen : null, out, off, at, cap);
    if (at < 0) return -1;
  }
  return at;
}

/** Writes one name at relative offset `at`; returns the new relative offset or -1. */
function encodeOneName(
  labels: string[], seen: Map<string, number> | null, out: Uint8Array, off: number, at: number, cap: number,
): number {
  for (let i = 0; i < labels.length; i++) {
    const suffix = labels.slice(i).join('.');
    const ptr = seen?.get(suffix);
    if (ptr !== undefined) return writeBytes(out, off, at, cap, [0xc0 | (ptr >> 8), ptr & 0xff]);
    if (seen !== null && at <= MAX_POINTER) seen.set(suffix, at);
    const l = labels[i]!;
    at = writeBytes(out, off, at, cap, [l.length, ...Array.from(l, (c) => c.charCodeAt(0))]);
    if (at < 0) return -1;
  }
  return writeBytes(out, off, at, cap, [0]);
}

function writeBytes(out: Uint8Array, off: number, at: number, cap: number, bytes: number[]): number {
  if (at < 0 || at + bytes.length > cap || off + at + bytes.length > out.length) return -1;
  out.set(bytes, off + at);
  return at + bytes.length;
}

/** `encodeDnsNames` into a new array of the exact length; null for an invalid name. */
export function encodeDnsNamesCopy(names: readonly string[], compress: boolean): Uint8Array | null {
  const scratch = new Uint8Array(names.length * (MAX_NAME_WIRE + 1));
  const n = encodeDnsNames(names, compress, scratch, 0, scratch.length);
  return n < 0 ? null : scratch.slice(0, n);
}

/**
 * Reads the names in b[off, off+len). Pointers (only when `compressed`) count from b[off] and must point
 * backwards, which rules out loops. Empty (root) names are skipped, so trailing zero padding (as in the
 * NDP DNSSL option) reads as nothing. Null if anything runs past the end or is malformed.
 */
export function decodeDnsNames(b: Uint8Array, off: number, len: number, compressed: boolean): string[] | null {
  if (off < 0 || len < 0 || off + len > b.length) return null;
  const d = b.subarray(off, off + len);
  const names: string[] = [];
  let i = 0;
  while (i < d.length) {
    const r = decodeOneName(d, i, compressed);
    if (r === null) return null;
    if (r.name.length > 0) names.push(r.name);
    i = r.next;
  }
  return names;
}

/** One name starting at d[start]: its text and the offset just past it in the stream. */
function decodeOneName(d: Uint8Array, start: number, compressed: boolean): { name: string; next: number } | null {
  const labels: string[] = [];
  let i = start, next = -1, wire = 1;
  for (;;) {
    if (i >= d.length) return null;
    const l = d[i]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      if (!compressed || i + 1 >= d.length) return null;
      const target = ((l & 0x3f) << 8) | d[i + 1]!;
      if (target >= i) return null;
      if (next < 0) next = i + 2;
      i = target;
      continue;
    }
    if (l > MAX_LABEL || i + 1 + l > d.length || (wire += 1 + l) > MAX_NAME_WIRE) return null;
    labels.push(String.fromCharCode(...d.subarray(i + 1, i + 1 + l)));
    i += 1 + l;
  }
  return { name: labels.join('.'), next: next < 0 ? i + 1 : next };
}
