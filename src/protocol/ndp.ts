/**
 * Neighbour Discovery (RFC 4861) messages: router solicitation and advertisement, neighbour solicitation
 * and advertisement, as one value type with `parseNdp` / `emitNdp`. Options: source and target link-layer
 * address, prefix information, MTU, RDNSS and DNSSL (RFC 8106).
 *
 * The bytes handled here are the ICMPv6 message only (the caller bounds them by the IPv6 payload length).
 * `parseNdp` applies the RFC 4861 checks that need no IP header: code 0, the fixed part present, every
 * option of non-zero length inside the message, a unicast target; hop limit 255 and the checksum are the
 * caller's (they need the IPv6 header). `emitNdp` writes a zero checksum for the caller to fill. Unknown
 * options are skipped. Nothing throws. IPv6 addresses are 16-byte Uint8Arrays, MACs 6-byte ones.
 */
import { decodeDnsNames, encodeDnsNamesCopy } from './dhcp.js';

/** ICMPv6 types of NDP. */
export const NdpType = { RouterSolicit: 133, RouterAdvert: 134, NeighborSolicit: 135, NeighborAdvert: 136 } as const;

/** NDP option types. */
export const NdpOptType = {
  SourceLinkAddr: 1, TargetLinkAddr: 2, PrefixInfo: 3, Mtu: 5, Rdnss: 25, Dnssl: 31,
} as const;

/** Field offsets within the ICMPv6 message. */
export const NdpOff = {
  Type: 0, Code: 1, Checksum: 2,
  /** RA */ CurHopLimit: 4, RaFlags: 5, RouterLifetime: 6, ReachableTime: 8, RetransTimer: 12,
  /** NS, NA */ NaFlags: 4, Target: 8,
} as const;

/** Length of the fixed part, where options start, by type. */
export const NDP_FIXED_LEN: Readonly<Record<number, number>> = { 133: 8, 134: 16, 135: 24, 136: 24 };

export const RA_FLAG_MANAGED = 0x80;
export const RA_FLAG_OTHER = 0x40;
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
export const PREFIX_FLAG_ON_LINK = 0x80;
export const PREFIX_FLAG_AUTONOMOUS = 0x40;
/** Lifetime meaning "forever" (prefix, RDNSS, DNSSL). */
export const NDP_INFINITE = 0xffffffff;

export interface NdpPrefixInfo {
  prefix: Uint8Array;
  prefixLen: number;
  /** PREFIX_FLAG_* bits. */
  flags: number;
  validLifetime: number;
  preferredLifetime: number;
}

export interface NdpRdnss { lifetime: number; servers: Uint8Array[] }
export interface NdpDnssl { lifetime: number; domains: string[] }

/** One NDP message; fields that do not belong to its type stay zero, null or empty. */
export interface NdpMessage {
  type: number;
  /** NS/NA target address. */
  target: Uint8Array | null;
  /** NA_FLAG_* bits (NA). */
  naFlags: number;
  /** RA fixed part. */
  curHopLimit: number;
  raFlags: number;
  routerLifetime: number;
  reachableTime: number;
  retransTimer: number;
  sourceLinkAddr: Uint8Array | null;
  targetLinkAddr: Uint8Array | null;
  prefixes: NdpPrefixInfo[];
  mtu: number | null;
  rdnss: NdpRdnss | null;
  dnssl: NdpDnssl | null;
}

export type NdpParseResult = { ok: true; msg: NdpMessage } | { ok: false; reason: string };

export function emptyNdpMessage(type: number): NdpMessage {
  return {
    type, target: null, naFlags: 0, curHopLimit: 0, raFlags: 0, routerLifetime: 0, reachableTime: 0,
    retransTimer: 0, sourceLinkAddr: null, targetLinkAddr: null, prefixes: [], mtu: null, rdnss: null,
    dnssl: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses the ICMPv6 message b[off, off+len). */
export function parseNdp(b: Uint8Array, off: number, len: number): NdpParseResult {
  if (off < 0 || len < 0 || off + len > b.length) return fail('bounds');
  const d = b.subarray(off, off + len);
  if (d.length < 4) return fail('short message');
  const fixed = NDP_FIXED_LEN[d[0]!];
  if (fixed === undefined) return fail('not an NDP message');
  if (d[1] !== 0) return fail('bad code');
  if (d.length < fixed) return fail('short message');
  const msg = parseFixed(d);
  if (msg.target !== null && msg.target[0] === 0xff) return fail('multicast target');
  const reason = parseOptions(msg, d, fixed);
  return reason === null ? { ok: true, msg } : fail(reason);
}

function fail(reason: string): NdpParseResult {
  return { ok: false, reason };
}

function parseFixed(d: Uint8Array): NdpMessage {
  const m = emptyNdpMessage(d[0]!);
  const dv = new DataView(d.buffer, d.byteOffset, d.length);
  if (m.type === NdpType.RouterAdvert) {
    m.curHopLimit = d[NdpOff.CurHopLimit]!;
    m.raFlags = d[NdpOff.RaFlags]!;
    m.routerLifetime = dv.getUint16(NdpOff.RouterLifetime);
    m.reachableTime = dv.getUint32(NdpOff.ReachableTime);
    m.retransTimer = dv.getUint32(NdpOff.RetransTimer);
  } else if (m.type === NdpType.NeighborSolicit || m.type === NdpType.NeighborAdvert) {
    if (m.type === NdpType.NeighborAdvert) m.naFlags = d[NdpOff.NaFlags]!;
    m.target = d.slice(NdpOff.Target, NdpOff.Target + 16);
  }
  return m;
}

/** Walks the options from d[start]; a drop reason for a zero length, an overrun or a bad known option. */
function parseOptions(m: NdpMessage, d: Uint8Array, start: number): string | null {
  let i = start;
  while (i < d.length) {
    if (i + 2 > d.length) return 'option past end';
    const olen = d[i + 1]! * 8;
    if (olen === 0) return 'zero-length option';
    if (i + olen > d.length) return 'option past end';
    const reason = applyOption(m, d[i]!, d.subarray(i, i + olen));
    if (reason !== null) return reason;
    i += olen;
  }
  return null;
}

/** `o` is the whole option, type and length bytes included. */
function applyOption(m: NdpMessage, type: number, o: Uint8Array): string | null {
  switch (type) {
    case NdpOptType.SourceLinkAddr: m.sourceLinkAddr = o.slice(2, 8); return null;
    case NdpOptType.TargetLinkAddr: m.targetLinkAddr = o.slice(2, 8); return null;
    case NdpOptType.PrefixInfo: return readPrefix(m, o);
    case NdpOptType.Mtu: m.mtu = u32At(o, 4); return null;
    case NdpOptType.Rdnss: return readRdnss(m, o);
    case NdpOptType.Dnssl: return readDnssl(m, o);
    default: return null; // unknown options are skipped (RFC 4861 §4.6)
  }
}

function u32At(d: Uint8Array, i: number): number {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

function readPrefix(m: NdpMessage, o: Uint8Array): string | null {
  if (o.length !== 32 || o[2]! > 128) return 'bad prefix option';
  m.prefixes.push({
    prefixLen: o[2]!, flags: o[3]!, validLifetime: u32At(o, 4), preferredLifetime: u32At(o, 8),
    prefix: o.slice(16, 32),
  });
  return null;
}

function readRdnss(m: NdpMessage, o: Uint8Array): string | null {
  if (o.length < 24 || (o.length - 8) % 16 !== 0) return 'bad rdnss option';
  const servers: Uint8Array[] = [];
  for (let i = 8; i < o.length; i += 16) servers.push(o.slice(i, i + 16));
  m.rdnss = { lifetime: u32At(o, 4), servers };
  return null;
}

function readDnssl(m: NdpMessage, o: Uint8Array): string | null {
  const domains = o.length >= 16 ? decodeDnsNames(o, 8, o.length - 8, false) : null;
  if (domains === null) return 'bad dnssl option';
  m.dnssl = { lifetime: u32At(o, 4), domains };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Emitting

/**
 * Writes `m` at out[off] (at most `cap` bytes) with a zero checksum; returns its length, or -1 if it does
 * not fit, the type is not NDP, or a DNSSL name is invalid. Options go in a fixed order: prefixes, MTU,
 * RDNSS, DNSSL, source then target link-layer address.
 */
export function emitNdp(m: NdpMessage, out: Uint8Array, off: number, cap: number): number {
  const fixed = NDP_FIXED_LEN[m.type];
  const opts = encodeOptions(m);
  if (fixed === undefined || opts === null) return -1;
  const len = fixed + opts.length;
  if (len > cap || off < 0 || off + len > out.length) return -1;
  out.fill(0, off, off + fixed);
  writeFixed(m, new DataView(out.buffer, out.byteOffset + off, fixed), out, off);
  out.set(opts, off + fixed);
  return len;
}

function writeFixed(m: NdpMessage, dv: DataView, out: Uint8Array, off: number): void {
  dv.setUint8(NdpOff.Type, m.type);
  if (m.type === NdpType.RouterAdvert) {
    dv.setUint8(NdpOff.CurHopLimit, m.curHopLimit);
    dv.setUint8(NdpOff.RaFlags, m.raFlags);
    dv.setUint16(NdpOff.RouterLifetime, m.routerLifetime);
    dv.setUint32(NdpOff.ReachableTime, m.reachableTime >>> 0);
    dv.setUint32(NdpOff.RetransTimer, m.retransTimer >>> 0);
  } else if (m.type === NdpType.NeighborSolicit || m.type === NdpType.NeighborAdvert) {
    if (m.type === NdpType.NeighborAdvert) dv.setUint8(NdpOff.NaFlags, m.naFlags);
    if (m.target !== null) out.set(m.target.subarray(0, 16), off + NdpOff.Target);
  }
}

/** All options of `m`, encoded back to back; null if a DNSSL name is invalid. */
function encodeOptions(m: NdpMessage): Uint8Array | null {
  const parts: Uint8Array[] = m.prefixes.map(encodePrefix);
  if (m.mtu !== null) parts.push(optionWith(NdpOptType.Mtu, 8, (o) => putU32(o, 4, m.mtu!)));
  if (m.rdnss !== null && m.rdnss.servers.length > 0) parts.push(encodeRdnss(m.rdnss));
  if (m.dnssl !== null && m.dnssl.domains.length > 0) {
    const o = encodeDnssl(m.dnssl);
    if (o === null) return null;
    parts.push(o);
  }
  if (m.sourceLinkAddr !== null) parts.push(encodeLinkAddr(NdpOptType.SourceLinkAddr, m.sourceLinkAddr));
  if (m.targetLinkAddr !== null) parts.push(encodeLinkAddr(NdpOptType.TargetLinkAddr, m.targetLinkAddr));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** A zeroed option of `len` bytes (a multiple of 8) with its type and length set, then filled. */
function optionWith(type: number, len: number, fill: (o: Uint8Array) => void): Uint8Array {
  const o = new Uint8Array(len);
  o[0] = type;
  o[1] = len / 8;
  fill(o);
  return o;
}

function putU32(o: Uint8Array, at: number, v: number): void {
  o[at] = v >>> 24;
  o[at + 1] = (v >>> 16) & 0xff;
  o[at + 2] = (v >>> 8) & 0xff;
  o[at + 3] = v & 0xff;
}

function encodePrefix(p: NdpPrefixInfo): Uint8Array {
  return optionWith(NdpOptType.PrefixInfo, 32, (o) => {
    o[2] = p.prefixLen;
    o[3] = p.flags;
    putU32(o, 4, p.validLifetime);
    putU32(o, 8, p.preferredLifetime);
    o.set(p.prefix.subarray(0, 16), 16);
  });
}

function encodeRdnss(r: NdpRdnss): Uint8Array {
  return optionWith(NdpOptType.Rdnss, 8 + 16 * r.servers.length, (o) => {
    putU32(o, 4, r.lifetime);
    r.servers.forEach((s, i) => o.set(s.subarray(0, 16), 8 + 16 * i));
  });
}

/** Names uncompressed (RFC 8106 §5.2), zero-padded to a multiple of 8 bytes. */
function encodeDnssl(d: NdpDnssl): Uint8Array | null {
  const names = encodeDnsNamesCopy(d.domains, false);
  if (names === null || 8 + names.length > 255 * 8) return null;
  return optionWith(NdpOptType.Dnssl, 8 + Math.ceil(names.length / 8) * 8, (o) => {
    putU32(o, 4, d.lifetime);
    o.set(names, 8);
  });
}

function encodeLinkAddr(type: number, mac: Uint8Array): Uint8Array {
  return optionWith(type, 8, (o) => o.set(mac.subarray(0, 6), 2));
}
