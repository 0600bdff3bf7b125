/**
 * rtnetlink (NETLINK_ROUTE) codec: builders for the requests pasta makes and parsers for the kernel's
 * replies. Pure: no I/O, nothing here throws on bad bytes.
 *
 * Wire shape: a datagram holds messages back to back, each a 16-byte `nlmsghdr` (length, type, flags,
 * sequence, port id) then a fixed family header (`ifinfomsg` 16 bytes, `ifaddrmsg` 8, `rtmsg` 12, or
 * `nlmsgerr` 4 + the echoed request header) then attributes (`rtattr`: u16 length, u16 type, value padded
 * to 4 bytes; a nested attribute's value is itself a run of attributes). All integers are in HOST byte
 * order, addresses in network order.
 *
 * Requests are value types emitted by `emit*` functions into a caller's buffer (they return the bytes
 * written, or 0 when the request does not fit or an address in it is not valid text). Replies are read
 * with `nlMessages` (the framing) and `parseLink`/`parseAddr`/`parseRoute`/`parseError` (one message's
 * payload, null when malformed). Attribute order in emitted requests follows Debian's pasta, so that its
 * captured requests are our golden bytes.
 */
import { formatIp, parseIp } from './addr.js';
import { parseMac } from './eth.js';

export const NLMSG_HDR_LEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;
export const RTA_HDR_LEN = 4;
/** `nlmsgerr`: the error code (negative errno, 0 for an ACK) then the request's header. */
export const NLMSGERR_LEN = 4 + NLMSG_HDR_LEN;

/** Field offsets in `nlmsghdr`. */
export const NlOff = { Len: 0, Type: 4, Flags: 6, Seq: 8, Pid: 12 } as const;

export const Af = { Unspec: 0, Inet: 2, Inet6: 10, Packet: 17 } as const;

/** nlmsg_type values. */
export const NlType = {
  Noop: 1, Error: 2, Done: 3, Overrun: 4,
  NewLink: 16, DelLink: 17, GetLink: 18, SetLink: 19,
  NewAddr: 20, DelAddr: 21, GetAddr: 22,
  NewRoute: 24, DelRoute: 25, GetRoute: 26,
} as const;

/** nlmsg_flags bits (some share a value: their meaning depends on the request kind). */
export const NlmF = {
  Request: 0x1, Multi: 0x2, Ack: 0x4, Echo: 0x8, DumpIntr: 0x10,
  Root: 0x100, Match: 0x200, Dump: 0x300,
  Replace: 0x100, Excl: 0x200, Create: 0x400, Append: 0x800,
  Capped: 0x100, AckTlvs: 0x200,
} as const;

/** Interface flags (ifi_flags). */
export const Iff = {
  Up: 0x1, Broadcast: 0x2, Loopback: 0x8, PointToPoint: 0x10, Running: 0x40, NoArp: 0x80,
  Multicast: 0x1000, LowerUp: 0x10000,
} as const;

export const Ifla = {
  Address: 1, Broadcast: 2, IfName: 3, Mtu: 4, Link: 5, OperState: 16, LinkInfo: 18, ExtMask: 29,
} as const;
export const IflaInfo = { Kind: 1, Data: 2 } as const;
/** IFLA_EXT_MASK bits. */
export const RtExtFilter = { Vf: 1, BrVlan: 2, SkipStats: 8 } as const;

export const Ifa = {
  Address: 1, Local: 2, Label: 3, Broadcast: 4, Anycast: 5, CacheInfo: 6, Multicast: 7, Flags: 8,
} as const;
export const IfaF = {
  Secondary: 0x1, NoDad: 0x2, Optimistic: 0x4, DadFailed: 0x8, HomeAddress: 0x10, Deprecated: 0x20,
  Tentative: 0x40, Permanent: 0x80, ManageTempAddr: 0x100, NoPrefixRoute: 0x200, McAutoJoin: 0x400,
  StablePrivacy: 0x800,
} as const;

export const Rta = {
  Dst: 1, Src: 2, Iif: 3, Oif: 4, Gateway: 5, Priority: 6, PrefSrc: 7, Metrics: 8, Multipath: 9,
  Table: 15, Pref: 20,
} as const;
export const RtProt = { Unspec: 0, Redirect: 1, Kernel: 2, Boot: 3, Static: 4, Ra: 9, Dhcp: 16 } as const;
export const RtScope = { Universe: 0, Site: 200, Link: 253, Host: 254, Nowhere: 255 } as const;
export const RtTable = { Unspec: 0, Compat: 252, Default: 253, Main: 254, Local: 255 } as const;
export const Rtn = {
  Unspec: 0, Unicast: 1, Local: 2, Broadcast: 3, Anycast: 4, Multicast: 5, Blackhole: 6, Unreachable: 7,
  Prohibit: 8,
} as const;
/** rtm_flags / rtnh_flags bits. */
export const RtnhF = { Dead: 0x1, Pervasive: 0x2, OnLink: 0x4, LinkDown: 0x10 } as const;

/** NLMSGERR_ATTR_* in an extended ACK. */
export const NlErrAttr = { Msg: 1, Offs: 2 } as const;

const NLA_TYPE_MASK = 0x3fff;
const RTNEXTHOP_LEN = 8;

/** Netlink integers are in host order: true on little-endian hosts. */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Rounds up to a multiple of 4 in plain arithmetic: lengths read from the wire may be any u32. */
const align4 = (n: number): number => n + ((4 - (n % 4)) % 4);

// ---------------------------------------------------------------------------------------------
// Attributes as values (for building)

/** An attribute to emit: raw bytes, or nested attributes. */
export interface NlAttr {
  type: number;
  value: Uint8Array | NlAttr[];
}

export function u32Attr(type: number, v: number): NlAttr {
  const value = new Uint8Array(4);
  dv(value).setUint32(0, v >>> 0, HOST_LE);
  return { type, value };
}

/** A NUL-terminated string attribute. */
export function strAttr(type: number, s: string): NlAttr {
  const bytes = new TextEncoder().encode(s);
  const value = new Uint8Array(bytes.length + 1);
  value.set(bytes);
  return { type, value };
}

function attrsLen(attrs: NlAttr[]): number {
  let n = 0;
  for (const a of attrs) n += align4(RTA_HDR_LEN + valueLen(a.value));
  return n;
}

function valueLen(v: Uint8Array | NlAttr[]): number {
  return v instanceof Uint8Array ? v.length : attrsLen(v);
}

/** Writes attributes at b[off] (padding zeroed); returns the offset past them. */
function writeAttrs(b: Uint8Array, view: DataView, off: number, attrs: NlAttr[]): number {
  for (const a of attrs) {
    const len = RTA_HDR_LEN + valueLen(a.value);
    view.setUint16(off, len, HOST_LE);
    view.setUint16(off + 2, a.type, HOST_LE);
    const end = a.value instanceof Uint8Array
      ? (b.set(a.value, off + RTA_HDR_LEN), off + len)
      : writeAttrs(b, view, off + RTA_HDR_LEN, a.value);
    b.fill(0, end, off + align4(len));
    off += align4(len);
  }
  return off;
}

// ---------------------------------------------------------------------------------------------
// Generic message builder

export interface NlRequestHeader {
  type: number;
  flags: number;
  seq: number;
  /** Port id; 0 lets the kernel fill in ours. */
  pid?: number;
}

/**
 * Emits header + fixed family header + attributes at buf[off]. Returns the message length (a multiple
 * of 4), or 0 if it does not fit.
 */
export function emitMessage(
  buf: Uint8Array, off: number, h: NlRequestHeader, fixed: Uint8Array, attrs: NlAttr[],
): number {
  const len = NLMSG_HDR_LEN + align4(fixed.length) + attrsLen(attrs);
  if (off < 0 || off + len > buf.length) return 0;
  const view = dv(buf);
  view.setUint32(off + NlOff.Len, len, HOST_LE);
  view.setUint16(off + NlOff.Type, h.type, HOST_LE);
  view.setUint16(off + NlOff.Flags, h.flags, HOST_LE);
  view.setUint32(off + NlOff.Seq, h.seq >>> 0, HOST_LE);
  view.setUint32(off + NlOff.Pid, (h.pid ?? 0) >>> 0, HOST_LE);
  const fixedOff = off + NLMSG_HDR_LEN;
  buf.set(fixed, fixedOff);
  buf.fill(0, fixedOff + fixed.length, fixedOff + align4(fixed.length));
  writeAttrs(buf, view, fixedOff + align4(fixed.length), attrs);
  return len;
}

// ---------------------------------------------------------------------------------------------
// Family headers

export interface IfInfoFields {
  family?: number;
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}

export function ifinfomsg(f: IfInfoFields): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_LEN);
  const v = dv(b);
  v.setUint8(0, f.family ?? Af.Unspec);
  v.setUint16(2, f.type ?? 0, HOST_LE);
  v.setInt32(4, f.index ?? 0, HOST_LE);
  v.setUint32(8, (f.flags ?? 0) >>> 0, HOST_LE);
  v.setUint32(12, (f.change ?? 0) >>> 0, HOST_LE);
  return b;
}

export interface IfAddrFields {
  family: number;
  prefixLen?: number;
  flags?: number;
  scope?: number;
  index?: number;
}

export function ifaddrmsg(f: IfAddrFields): Uint8Array {
  const b = new Uint8Array(IFADDRMSG_LEN);
  const v = dv(b);
  v.setUint8(0, f.family);
  v.setUint8(1, f.prefixLen ?? 0);
  v.setUint8(2, (f.flags ?? 0) & 0xff);
  v.setUint8(3, f.scope ?? RtScope.Universe);
  v.setUint32(4, (f.index ?? 0) >>> 0, HOST_LE);
  return b;
}

export interface RtFields {
  family: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

export function rtmsg(f: RtFields): Uint8Array {
  const b = new Uint8Array(RTMSG_LEN);
  const v = dv(b);
  v.setUint8(0, f.family);
  v.setUint8(1, f.dstLen ?? 0);
  v.setUint8(2, f.srcLen ?? 0);
  v.setUint8(3, f.tos ?? 0);
  v.setUint8(4, f.table ?? RtTable.Main);
  v.setUint8(5, f.protocol ?? RtProt.Unspec);
  v.setUint8(6, f.scope ?? RtScope.Universe);
  v.setUint8(7, f.type ?? Rtn.Unicast);
  v.setUint32(8, (f.flags ?? 0) >>> 0, HOST_LE);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Requests

const DUMP = NlmF.Request | NlmF.Dump;
const ACKED = NlmF.Request | NlmF.Ack;
const CREATE = NlmF.Request | NlmF.Ack | NlmF.Create | NlmF.Excl;

/** RTM_GETLINK dump of every interface; `extMask` adds IFLA_EXT_MASK as `ip link show` does. */
export function emitGetLinkDump(buf: Uint8Array, off: number, seq: number, extMask?: number): number {
  const attrs = extMask === undefined ? [] : [u32Attr(Ifla.ExtMask, extMask)];
  return emitMessage(buf, off, { type: NlType.GetLink, flags: DUMP, seq }, ifinfomsg({}), attrs);
}

/** RTM_GETADDR dump of one family (Af.Unspec: all); the kernel ignores `index` in a plain dump. */
export function emitGetAddrDump(buf: Uint8Array, off: number, seq: number, family: number, index = 0): number {
  return emitMessage(buf, off, { type: NlType.GetAddr, flags: DUMP, seq }, ifaddrmsg({ family, index }), []);
}

/**
 * RTM_GETROUTE dump of one family, asking for the main table's unicast routes as pasta does (the kernel
 * returns every table in a plain dump: filter the parsed routes). `oif` adds RTA_OIF.
 */
export function emitGetRouteDump(buf: Uint8Array, off: number, seq: number, family: number, oif?: number): number {
  const attrs = oif === undefined ? [] : [u32Attr(Rta.Oif, oif)];
  const fixed = rtmsg({ family, table: RtTable.Main, type: Rtn.Unicast });
  return emitMessage(buf, off, { type: NlType.GetRoute, flags: DUMP, seq }, fixed, attrs);
}

/** A change to one link, by index. */
export interface LinkChange {
  index: number;
  /** true: set IFF_UP; false: clear it; absent: leave it. */
  up?: boolean;
  mtu?: number;
  /** "02:00:00:00:00:01" */
  mac?: string;
}

/** RTM_NEWLINK (or RTM_SETLINK with `type`) with an ACK: up/down, MTU, MAC address. */
export function emitSetLink(
  buf: Uint8Array, off: number, seq: number, c: LinkChange, type: number = NlType.NewLink,
): number {
  const attrs: NlAttr[] = [];
  if (c.mac !== undefined) {
    const mac = parseMac(c.mac);
    if (!mac) return 0;
    attrs.push({ type: Ifla.Address, value: mac });
  }
  if (c.mtu !== undefined) attrs.push(u32Attr(Ifla.Mtu, c.mtu));
  const fixed = ifinfomsg({
    index: c.index, flags: c.up ? Iff.Up : 0, change: c.up === undefined ? 0 : Iff.Up,
  });
  return emitMessage(buf, off, { type, flags: ACKED, seq }, fixed, attrs);
}

/** An address to add to an interface. */
export interface AddrRequest {
  index: number;
  /** IPv4 or IPv6 text: the family follows from it. */
  address: string;
  prefixLen: number;
  /** IFA_F_* bits; above 0xff they go in IFA_FLAGS (and ifa_flags is 0), as iproute2 does. */
  flags?: number;
  scope?: number;
  /** IPv4 broadcast address, like `ip addr add ... brd +` (pasta sets none). */
  broadcast?: string;
}

/** RTM_NEWADDR with CREATE|EXCL and an ACK. IFA_LOCAL and IFA_ADDRESS both carry the address. */
export function emitNewAddr(buf: Uint8Array, off: number, seq: number, r: AddrRequest): number {
  const addr = parseIp(r.address);
  const brd = r.broadcast === undefined ? null : parseIp(r.broadcast);
  if (!addr || (r.broadcast !== undefined && brd?.length !== 4)) return 0;
  const flags = r.flags ?? 0;
  const attrs: NlAttr[] = [{ type: Ifa.Local, value: addr }];
  if (flags > 0xff) attrs.push(u32Attr(Ifa.Flags, flags));
  attrs.push({ type: Ifa.Address, value: addr });
  if (brd) attrs.push({ type: Ifa.Broadcast, value: brd });
  const fixed = ifaddrmsg({
    family: familyOf(addr), prefixLen: r.prefixLen, flags: flags > 0xff ? 0 : flags,
    scope: r.scope ?? RtScope.Universe, index: r.index,
  });
  return emitMessage(buf, off, { type: NlType.NewAddr, flags: CREATE, seq }, fixed, attrs);
}

/** A route to add: by default a unicast route in the main table, protocol "boot" like pasta's. */
export interface RouteRequest {
  /** Output interface index (RTA_OIF). */
  oif: number;
  /** Destination; absent: the default route of the gateway's family. */
  dst?: string;
  dstLen?: number;
  gateway?: string;
  /** RTNH_F_ONLINK: the gateway is on the link even if no prefix says so. */
  onlink?: boolean;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  priority?: number;
}

/** RTM_NEWROUTE with CREATE|EXCL and an ACK. Attributes: OIF, DST (always), GATEWAY, PRIORITY. */
export function emitNewRoute(buf: Uint8Array, off: number, seq: number, r: RouteRequest): number {
  const gw = r.gateway === undefined ? null : parseIp(r.gateway);
  const dst = r.dst === undefined ? (gw ? new Uint8Array(gw.length) : null) : parseIp(r.dst);
  if (!dst || (r.gateway !== undefined && gw?.length !== dst.length)) return 0;
  const attrs: NlAttr[] = [u32Attr(Rta.Oif, r.oif), { type: Rta.Dst, value: dst }];
  if (gw) attrs.push({ type: Rta.Gateway, value: gw });
  if (r.priority !== undefined) attrs.push(u32Attr(Rta.Priority, r.priority));
  const table = r.table ?? RtTable.Main;
  if (table > 0xff) attrs.push(u32Attr(Rta.Table, table));
  const fixed = rtmsg({
    family: familyOf(dst), dstLen: r.dstLen ?? 0, table: table > 0xff ? RtTable.Compat : table,
    protocol: r.protocol ?? RtProt.Boot, scope: r.scope ?? RtScope.Universe, type: r.type ?? Rtn.Unicast,
    flags: r.onlink ? RtnhF.OnLink : 0,
  });
  return emitMessage(buf, off, { type: NlType.NewRoute, flags: CREATE, seq }, fixed, attrs);
}

const familyOf = (addr: Uint8Array): number => (addr.length === 4 ? Af.Inet : Af.Inet6);

// ---------------------------------------------------------------------------------------------
// Framing of received datagrams

export interface NlHeader {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** One message of a datagram: its header and its payload's bounds [off, end) in the same buffer. */
export interface NlMessage {
  hdr: NlHeader;
  off: number;
  end: number;
}

/** The header at b[off], or null if fewer than 16 bytes or its length does not fit in `len`. */
export function parseNlHeader(b: Uint8Array, off: number, len: number): NlHeader | null {
  if (off < 0 || len < NLMSG_HDR_LEN || off + len > b.length) return null;
  const h = readHeader(b, off);
  return h.len >= NLMSG_HDR_LEN && h.len <= len ? h : null;
}

/** The 16 header bytes at b[off] as they are (the caller checked they exist). */
function readHeader(b: Uint8Array, off: number): NlHeader {
  const v = dv(b);
  return {
    len: v.getUint32(off + NlOff.Len, HOST_LE),
    type: v.getUint16(off + NlOff.Type, HOST_LE),
    flags: v.getUint16(off + NlOff.Flags, HOST_LE),
    seq: v.getUint32(off + NlOff.Seq, HOST_LE),
    pid: v.getUint32(off + NlOff.Pid, HOST_LE),
  };
}

/** The messages of b[off, off+len); stops at the first malformed header. */
export function* nlMessages(b: Uint8Array, off: number, len: number): Generator<NlMessage> {
  const end = Math.min(off + len, b.length);
  while (off < end) {
    const hdr = parseNlHeader(b, off, end - off);
    if (!hdr) return;
    yield { hdr, off: off + NLMSG_HDR_LEN, end: off + hdr.len };
    off += align4(hdr.len);
  }
}

// ---------------------------------------------------------------------------------------------
// Attributes as read

export interface RtAttr {
  /** type without the NESTED / NET_BYTEORDER bits */
  type: number;
  /** value bounds [off, end) */
  off: number;
  end: number;
}

/** The attributes in b[off, end); stops at the first malformed one. */
export function* rtAttrs(b: Uint8Array, off: number, end: number): Generator<RtAttr> {
  const v = dv(b);
  end = Math.min(end, b.length);
  while (off + RTA_HDR_LEN <= end) {
    const len = v.getUint16(off, HOST_LE);
    if (len < RTA_HDR_LEN || off + len > end) return;
    yield { type: v.getUint16(off + 2, HOST_LE) & NLA_TYPE_MASK, off: off + RTA_HDR_LEN, end: off + len };
    off += align4(len);
  }
}

function attrU32(b: Uint8Array, a: RtAttr): number | null {
  return a.end - a.off === 4 ? dv(b).getUint32(a.off, HOST_LE) : null;
}

function attrStr(b: Uint8Array, a: RtAttr): string {
  const nul = b.subarray(a.off, a.end).indexOf(0);
  return new TextDecoder().decode(b.subarray(a.off, nul < 0 ? a.end : a.off + nul));
}

/** An address attribute as text; null unless exactly 4 (AF_INET) or 16 (AF_INET6) bytes. */
function attrIp(b: Uint8Array, a: RtAttr, family: number): string | null {
  const n = a.end - a.off;
  if ((family === Af.Inet && n !== 4) || (family === Af.Inet6 && n !== 16)) return null;
  return n === 4 || n === 16 ? formatIp(b.slice(a.off, a.end)) : null;
}

/** A link-layer address as lower-case hex pairs joined by ':' (any length; '' for none). */
function attrHw(b: Uint8Array, a: RtAttr): string {
  return Array.from(b.subarray(a.off, a.end), (x) => x.toString(16).padStart(2, '0')).join(':');
}

// ---------------------------------------------------------------------------------------------
// Replies

export interface LinkMsg {
  family: number;
  /** ARPHRD_* (1 Ethernet, 772 loopback) */
  type: number;
  index: number;
  flags: number;
  change: number;
  name: string | null;
  mtu: number | null;
  /** link-layer address, "aa:bb:cc:dd:ee:ff" for Ethernet */
  address: string | null;
  /** IFLA_LINKINFO / IFLA_INFO_KIND: "tun", "veth", ... */
  kind: string | null;
}

/** An RTM_NEWLINK payload b[off, end), or null if the ifinfomsg does not fit. */
export function parseLink(b: Uint8Array, off: number, end: number): LinkMsg | null {
  if (off < 0 || end > b.length || end - off < IFINFOMSG_LEN) return null;
  const v = dv(b);
  const m: LinkMsg = {
    family: v.getUint8(off), type: v.getUint16(off + 2, HOST_LE), index: v.getInt32(off + 4, HOST_LE),
    flags: v.getUint32(off + 8, HOST_LE), change: v.getUint32(off + 12, HOST_LE),
    name: null, mtu: null, address: null, kind: null,
  };
  for (const a of rtAttrs(b, off + IFINFOMSG_LEN, end)) {
    switch (a.type) {
      case Ifla.IfName: m.name = attrStr(b, a); break;
      case Ifla.Mtu: m.mtu = attrU32(b, a); break;
      case Ifla.Address: m.address = attrHw(b, a); break;
      case Ifla.LinkInfo: m.kind = linkKind(b, a); break;
      default: break;
    }
  }
  return m;
}

function linkKind(b: Uint8Array, info: RtAttr): string | null {
  for (const a of rtAttrs(b, info.off, info.end)) if (a.type === IflaInfo.Kind) return attrStr(b, a);
  return null;
}

export interface AddrMsg {
  family: number;
  prefixLen: number;
  /** IFA_FLAGS when present (all 32 bits), else the 8-bit ifa_flags */
  flags: number;
  scope: number;
  index: number;
  address: string | null;
  local: string | null;
  broadcast: string | null;
  label: string | null;
}

/** An RTM_NEWADDR payload b[off, end), or null if the ifaddrmsg does not fit. */
export function parseAddr(b: Uint8Array, off: number, end: number): AddrMsg | null {
  if (off < 0 || end > b.length || end - off < IFADDRMSG_LEN) return null;
  const v = dv(b);
  const family = v.getUint8(off);
  const m: AddrMsg = {
    family, prefixLen: v.getUint8(off + 1), flags: v.getUint8(off + 2), scope: v.getUint8(off + 3),
    index: v.getUint32(off + 4, HOST_LE), address: null, local: null, broadcast: null, label: null,
  };
  for (const a of rtAttrs(b, off + IFADDRMSG_LEN, end)) {
    switch (a.type) {
      case Ifa.Address: m.address = attrIp(b, a, family); break;
      case Ifa.Local: m.local = attrIp(b, a, family); break;
      case Ifa.Broadcast: m.broadcast = attrIp(b, a, family); break;
      case Ifa.Label: m.label = attrStr(b, a); break;
      case Ifa.Flags: m.flags = attrU32(b, a) ?? m.flags; break;
      default: break;
    }
  }
  return m;
}

export interface RouteMsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** RTA_TABLE when present, else rtm_table */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  /** null for a default route (dstLen 0) that carries no RTA_DST */
  dst: string | null;
  gateway: string | null;
  prefsrc: string | null;
  oif: number | null;
  priority: number | null;
}

/**
 * An RTM_NEWROUTE payload b[off, end), or null if the rtmsg does not fit. A multipath route without
 * RTA_OIF takes its oif and gateway from its first next hop.
 */
export function parseRoute(b: Uint8Array, off: number, end: number): RouteMsg | null {
  if (off < 0 || end > b.length || end - off < RTMSG_LEN) return null;
  const v = dv(b);
  const family = v.getUint8(off);
  const m: RouteMsg = {
    family, dstLen: v.getUint8(off + 1), srcLen: v.getUint8(off + 2), tos: v.getUint8(off + 3),
    table: v.getUint8(off + 4), protocol: v.getUint8(off + 5), scope: v.getUint8(off + 6),
    type: v.getUint8(off + 7), flags: v.getUint32(off + 8, HOST_LE),
    dst: null, gateway: null, prefsrc: null, oif: null, priority: null,
  };
  for (const a of rtAttrs(b, off + RTMSG_LEN, end)) readRouteAttr(b, a, m);
  return m;
}

function readRouteAttr(b: Uint8Array, a: RtAttr, m: RouteMsg): void {
  switch (a.type) {
    case Rta.Dst: m.dst = attrIp(b, a, m.family); break;
    case Rta.Gateway: m.gateway = attrIp(b, a, m.family); break;
    case Rta.PrefSrc: m.prefsrc = attrIp(b, a, m.family); break;
    case Rta.Oif: m.oif = attrU32(b, a); break;
    case Rta.Priority: m.priority = attrU32(b, a); break;
    case Rta.Table: m.table = attrU32(b, a) ?? m.table; break;
    case Rta.Multipath: firstNextHop(b, a, m); break;
    default: break;
  }
}

/** rtnexthop: u16 len, u8 flags, u8 hops, i32 ifindex, then attributes (RTA_GATEWAY). */
function firstNextHop(b: Uint8Array, mp: RtAttr, m: RouteMsg): void {
  const v = dv(b);
  if (m.oif !== null || mp.end - mp.off < RTNEXTHOP_LEN) return;
  const len = v.getUint16(mp.off, HOST_LE);
  if (len < RTNEXTHOP_LEN || mp.off + len > mp.end) return;
  m.oif = v.getInt32(mp.off + 4, HOST_LE);
  for (const a of rtAttrs(b, mp.off + RTNEXTHOP_LEN, mp.off + len)) {
    if (a.type === Rta.Gateway) m.gateway = attrIp(b, a, m.family);
  }
}

export interface ErrorMsg {
  /** positive errno; 0 for an ACK */
  errno: number;
  /** the header of the request this answers (its seq, type), as echoed */
  request: NlHeader;
  /** extended ACK text (NLMSGERR_ATTR_MSG) when the socket asked for it */
  message: string | null;
}

/**
 * An NLMSG_ERROR payload b[off, end) with the message's flags (NLM_F_CAPPED: only the request's header
 * is echoed; NLM_F_ACK_TLVS: extended-ACK attributes follow), or null if too short.
 */
export function parseError(b: Uint8Array, off: number, end: number, flags: number): ErrorMsg | null {
  if (off < 0 || end > b.length || end - off < NLMSGERR_LEN) return null;
  const code = dv(b).getInt32(off, HOST_LE);
  const request = readHeader(b, off + 4);
  const m: ErrorMsg = { errno: code === 0 ? 0 : -code, request, message: null };
  if (!(flags & NlmF.AckTlvs)) return m;
  const echoed = flags & NlmF.Capped ? NLMSG_HDR_LEN : align4(Math.max(request.len, NLMSG_HDR_LEN));
  for (const a of rtAttrs(b, off + 4 + echoed, end)) if (a.type === NlErrAttr.Msg) m.message = attrStr(b, a);
  return m;
}
