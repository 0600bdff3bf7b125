/**
 * IP addresses: text <-> bytes <-> compact forms, prefixes, classification. Pure, no `node:net`.
 *
 * Forms used across src/protocol:
 * - IPv4 as bytes (`Uint8Array(4)`, network order) or as an unsigned 32-bit number (`u32`, 10.0.2.1 is
 *   0x0a000201). Numbers are the cheap hot-path form: compare with `===`, no allocation.
 * - IPv6 as bytes (`Uint8Array(16)`), usually read in place as (buffer, offset): functions taking
 *   `(b, off = 0)` never allocate.
 * - Text: IPv4 dotted quad (no leading zeros, like inet_pton), IPv6 as in RFC 4291 §2.2 on input and
 *   RFC 5952 canonical form on output (IPv4-mapped addresses print as `::ffff:a.b.c.d`).
 *
 * Parsers return `null` (or `false` for the `...Into` forms) on bad text; nothing here throws.
 */

export const IPV4_LEN = 4;
export const IPV6_LEN = 16;

// ---------------------------------------------------------------------------------------------
// IPv4

/** u32 from 4 bytes at b[off]. */
export function ipv4ToU32(b: Uint8Array, off = 0): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Writes u32 `n` as 4 bytes at out[off]; returns `out`. */
export function u32ToIpv4(n: number, out: Uint8Array = new Uint8Array(4), off = 0): Uint8Array {
  out[off] = n >>> 24;
  out[off + 1] = (n >>> 16) & 0xff;
  out[off + 2] = (n >>> 8) & 0xff;
  out[off + 3] = n & 0xff;
  return out;
}

/** Parses one decimal octet "0".."255" (no sign, no leading zero); -1 if invalid. */
function parseOctet(s: string): number {
  if (s.length === 0 || s.length > 3 || (s.length > 1 && s.charCodeAt(0) === 0x30)) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= 255 ? v : -1;
}

/** Dotted quad to u32, or null. */
export function parseIpv4U32(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const o = parseOctet(p);
    if (o < 0) return null;
    n = n * 256 + o;
  }
  return n;
}

/** Dotted quad into out[off..off+4); false (out untouched) if invalid. */
export function parseIpv4Into(text: string, out: Uint8Array, off = 0): boolean {
  const n = parseIpv4U32(text);
  if (n === null) return false;
  u32ToIpv4(n, out, off);
  return true;
}

/** Dotted quad to a new Uint8Array(4), or null. */
export function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out) ? out : null;
}

/** u32 to dotted quad. */
export function formatIpv4U32(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** 4 bytes at b[off] to dotted quad. */
export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`;
}

// ---------------------------------------------------------------------------------------------
// IPv6

/** Parses 1-4 hex digits; -1 if invalid. */
function parseHextet(s: string): number {
  if (s.length === 0 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20; // lower-case letters; digits are unchanged
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

/**
 * Parses colon-separated groups into 16-bit words. The last group of the whole address may be a dotted
 * quad (two words) when `ipv4Allowed`. Returns the number of words or -1.
 */
function parseGroups(s: string, words: number[], ipv4Allowed: boolean): number {
  if (s.length === 0) return 0;
  const groups = s.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (ipv4Allowed && i === groups.length - 1 && g.includes('.')) {
      const n = parseIpv4U32(g);
      if (n === null) return -1;
      words.push(n >>> 16, n & 0xffff);
    } else {
      const w = parseHextet(g);
      if (w < 0) return -1;
      words.push(w);
    }
  }
  return words.length;
}

/** RFC 4291 text into out[off..off+16); false (out untouched) if invalid. Zone ids ("%eth0") are rejected. */
export function parseIpv6Into(text: string, out: Uint8Array, off = 0): boolean {
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return false;
  const head: number[] = [];
  const tail: number[] = [];
  if (dbl === -1) {
    if (parseGroups(text, head, true) !== 8) return false;
  } else {
    const tailText = text.slice(dbl + 2);
    if (parseGroups(text.slice(0, dbl), head, false) < 0) return false;
    if (parseGroups(tailText, tail, true) < 0) return false;
    if (head.length + tail.length > 7) return false;
  }
  out.fill(0, off, off + 16);
  head.forEach((w, i) => writeWord(out, off + 2 * i, w));
  tail.forEach((w, i) => writeWord(out, off + 16 - 2 * (tail.length - i), w));
  return true;
}

function writeWord(out: Uint8Array, at: number, w: number): void {
  out[at] = w >>> 8;
  out[at + 1] = w & 0xff;
}

/** RFC 4291 text to a new Uint8Array(16), or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return parseIpv6Into(text, out) ? out : null;
}

/** Start and length of the longest run (>= 2) of zero words, first one on ties; len 0 if none. */
function longestZeroRun(b: Uint8Array, off: number): { start: number; len: number } {
  let best = { start: -1, len: 0 };
  let start = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && b[off + 2 * i] === 0 && b[off + 2 * i + 1] === 0;
    if (zero && start < 0) start = i;
    if (!zero && start >= 0) {
      if (i - start > best.len) best = { start, len: i - start };
      start = -1;
    }
  }
  return best.len >= 2 ? best : { start: -1, len: 0 };
}

/** 16 bytes at b[off] to RFC 5952 canonical text. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  if (isIpv4Mapped(b, off)) return `::ffff:${formatIpv4(b, off + 12)}`;
  const run = longestZeroRun(b, off);
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === run.start) {
      s += '::';
      i += run.len - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!).toString(16);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Either family

/** 4 for a dotted quad, 6 for IPv6 text, 0 otherwise. */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (parseIpv4U32(text) !== null) return 4;
  return parseIpv6(text) !== null ? 6 : 0;
}

/** IPv4 or IPv6 text to bytes (length 4 or 16), or null. */
export function parseIp(text: string): Uint8Array | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** Bytes of length 4 or 16 to text; '' for any other length. */
export function formatIp(addr: Uint8Array): string {
  if (addr.length === 4) return formatIpv4(addr);
  return addr.length === 16 ? formatIpv6(addr) : '';
}

/** True if a[aOff..+len) equals b[bOff..+len). */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Prefixes

/** Netmask u32 of an IPv4 prefix length 0..32. */
export function ipv4PrefixToMask(prefix: number): number {
  if (prefix <= 0) return 0;
  return prefix >= 32 ? 0xffffffff : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask u32, or -1 if the mask has holes. */
export function ipv4MaskToPrefix(mask: number): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1; // the host part must be 2^k - 1
  return Math.clz32(inv);
}

/** Network address (host bits cleared). */
export function ipv4Network(addr: number, prefix: number): number {
  return (addr & ipv4PrefixToMask(prefix)) >>> 0;
}

/** Directed broadcast address (host bits set). */
export function ipv4Broadcast(addr: number, prefix: number): number {
  return (addr | ~ipv4PrefixToMask(prefix)) >>> 0;
}

/** True if `addr` lies in `net`/`prefix`. */
export function ipv4InSubnet(addr: number, net: number, prefix: number): boolean {
  const m = ipv4PrefixToMask(prefix);
  return ((addr & m) >>> 0) === ((net & m) >>> 0);
}

/** The classful prefix length of an address (A: 8, B: 16, C: 24, else 32), as a default guess. */
export function ipv4ClassfulPrefix(addr: number): number {
  if (addr >>> 31 === 0) return 8;
  if (addr >>> 30 === 0b10) return 16;
  return addr >>> 29 === 0b110 ? 24 : 32;
}

/** True if the first `prefix` bits of a[aOff..] and b[bOff..] are equal (any address length). */
export function prefixEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, prefix: number): boolean {
  const whole = prefix >>> 3;
  if (!bytesEqual(a, aOff, b, bOff, whole)) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const m = (0xff00 >> rest) & 0xff;
  return (a[aOff + whole]! & m) === (b[bOff + whole]! & m);
}

/** Copies `len` address bytes from src[srcOff] to out[outOff], clearing bits past `prefix`. */
export function applyPrefix(
  src: Uint8Array, srcOff: number, len: number, prefix: number, out: Uint8Array, outOff: number,
): void {
  for (let i = 0; i < len; i++) {
    const bits = Math.min(8, Math.max(0, prefix - 8 * i));
    out[outOff + i] = src[srcOff + i]! & ((0xff00 >> bits) & 0xff);
  }
}

/** "addr/prefix" (either family; prefix optional, defaulting to the full length), or null. */
export function parseCidr(text: string): { addr: Uint8Array; prefix: number } | null {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, prefix: addr.length * 8 };
  const p = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > addr.length * 8) return null;
  return { addr, prefix: Number(p) };
}

// ---------------------------------------------------------------------------------------------
// Classification

/** 127.0.0.0/8 */
export const isIpv4Loopback = (a: number): boolean => a >>> 24 === 127;
/** 169.254.0.0/16 */
export const isIpv4LinkLocal = (a: number): boolean => a >>> 16 === 0xa9fe;
/** 0.0.0.0 */
export const isIpv4Unspecified = (a: number): boolean => a === 0;
/** 224.0.0.0/4 */
export const isIpv4Multicast = (a: number): boolean => a >>> 28 === 0xe;
/** 255.255.255.255 */
export const isIpv4LimitedBroadcast = (a: number): boolean => a >>> 0 === 0xffffffff;

function zeroBytes(b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[off + i] !== 0) return false;
  return true;
}

/** :: */
export const isIpv6Unspecified = (b: Uint8Array, off = 0): boolean => zeroBytes(b, off, 16);
/** ::1 */
export const isIpv6Loopback = (b: Uint8Array, off = 0): boolean => zeroBytes(b, off, 15) && b[off + 15] === 1;
/** fe80::/10 */
export const isIpv6LinkLocal = (b: Uint8Array, off = 0): boolean =>
  b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
/** ff00::/8 */
export const isIpv6Multicast = (b: Uint8Array, off = 0): boolean => b[off] === 0xff;
/** fc00::/7 */
export const isIpv6UniqueLocal = (b: Uint8Array, off = 0): boolean => (b[off]! & 0xfe) === 0xfc;
/** ::ffff:0:0/96 */
export const isIpv4Mapped = (b: Uint8Array, off = 0): boolean =>
  zeroBytes(b, off, 10) && b[off + 10] === 0xff && b[off + 11] === 0xff;

/** The u32 inside an IPv4-mapped address (check `isIpv4Mapped` first). */
export const ipv4MappedToU32 = (b: Uint8Array, off = 0): number => ipv4ToU32(b, off + 12);

/** Writes ::ffff:a.b.c.d for u32 `a` at out[off]; returns `out`. */
export function writeIpv4Mapped(a: number, out: Uint8Array = new Uint8Array(16), off = 0): Uint8Array {
  out.fill(0, off, off + 10);
  out[off + 10] = 0xff;
  out[off + 11] = 0xff;
  u32ToIpv4(a, out, off + 12);
  return out;
}

/** Family-independent checks over 4- or 16-byte addresses. */
export function isLoopback(a: Uint8Array): boolean {
  return a.length === 4 ? isIpv4Loopback(ipv4ToU32(a)) : isIpv6Loopback(a);
}
export function isLinkLocal(a: Uint8Array): boolean {
  return a.length === 4 ? isIpv4LinkLocal(ipv4ToU32(a)) : isIpv6LinkLocal(a);
}
export function isUnspecified(a: Uint8Array): boolean {
  return a.length === 4 ? isIpv4Unspecified(ipv4ToU32(a)) : isIpv6Unspecified(a);
}
export function isMulticast(a: Uint8Array): boolean {
  return a.length === 4 ? isIpv4Multicast(ipv4ToU32(a)) : isIpv6Multicast(a);
}

// ---------------------------------------------------------------------------------------------
// Derived addresses

/** Solicited-node multicast address ff02::1:ffXX:XXXX of target b[off..] into out[outOff..]. */
export function ipv6SolicitedNode(b: Uint8Array, off: number, out: Uint8Array, outOff = 0): Uint8Array {
  out.fill(0, outOff, outOff + 16);
  out[outOff] = 0xff;
  out[outOff + 1] = 0x02;
  out[outOff + 11] = 0x01;
  out[outOff + 12] = 0xff;
  out[outOff + 13] = b[off + 13]!;
  out[outOff + 14] = b[off + 14]!;
  out[outOff + 15] = b[off + 15]!;
  return out;
}

/** Ethernet multicast MAC 33:33:xx:xx:xx:xx of IPv6 multicast b[off..] into out[outOff..]. */
export function ipv6MulticastMac(b: Uint8Array, off: number, out: Uint8Array, outOff = 0): Uint8Array {
  out[outOff] = 0x33;
  out[outOff + 1] = 0x33;
  for (let i = 0; i < 4; i++) out[outOff + 2 + i] = b[off + 12 + i]!;
  return out;
}

/** Ethernet multicast MAC 01:00:5e + low 23 bits of IPv4 multicast u32 `a`, into out[outOff..]. */
export function ipv4MulticastMac(a: number, out: Uint8Array, outOff = 0): Uint8Array {
  out[outOff] = 0x01;
  out[outOff + 1] = 0x00;
  out[outOff + 2] = 0x5e;
  out[outOff + 3] = (a >>> 16) & 0x7f;
  out[outOff + 4] = (a >>> 8) & 0xff;
  out[outOff + 5] = a & 0xff;
  return out;
}
