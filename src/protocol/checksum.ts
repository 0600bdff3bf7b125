/**
 * The Internet checksum (RFC 1071) in plain JS: the reference implementation and test oracle. The fast
 * one lives in the native addon; every function that sums many bytes takes an optional `partial` of type
 * `CsumPartial`, so callers inject `native.csumPartial` and keep this module pure.
 *
 * Sums are carried "unfolded": any non-negative number below 2^32 that is congruent (mod 0xffff) to the
 * one's-complement sum. Sum pieces separately only if every piece but the last has an even length (an odd
 * trailing byte is padded with a zero low byte). `csumFold` turns a sum into the value stored in a header
 * (folded to 16 bits and inverted), like the addon's `csumFold`; a region that includes a correct checksum
 * field folds to 0.
 */

/** Same contract as `csumPartial` below (and as the addon's `csumPartial`). */
export type CsumPartial = (b: Uint8Array, off: number, len: number, init: number) => number;

/** Bytes per inner chunk: 16384 words of at most 0xffff keep the chunk sum a small integer (< 2^30). */
const CHUNK = 32768;

/** Reduces a sum (exact double) below 2^32 without changing it mod 0xffff. */
function reduce32(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** One's-complement sum of big-endian 16-bit words of b[off, off+len), plus `init`; unfolded, < 2^32. */
export function csumPartial(b: Uint8Array, off: number, len: number, init = 0): number {
  let sum = init;
  const end = off + (len & ~1);
  let i = off;
  while (i < end) {
    const stop = Math.min(end, i + CHUNK);
    let s = 0;
    for (; i < stop; i += 2) s += (b[i]! << 8) | b[i + 1]!;
    sum += s;
  }
  if (len & 1) sum += b[i]! << 8;
  return reduce32(sum);
}

/** Folds a sum to 16 bits (not inverted): 0..0xffff. */
export function csumSum16(sum: number): number {
  sum = reduce32(sum);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for a sum: folded to 16 bits and inverted. */
export function csumFold(sum: number): number {
  return ~csumSum16(sum) & 0xffff;
}

// ---------------------------------------------------------------------------------------------
// Pseudo-headers (RFC 768, RFC 793, RFC 8200 §8.1)

/** Pseudo-header sum for IPv4: addresses as u32, upper-layer protocol and length. */
export function pseudoSumIpv4(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/** Same, reading source then destination address (8 contiguous bytes, as in the IPv4 header) at b[addrOff]. */
export function pseudoSumIpv4At(b: Uint8Array, addrOff: number, proto: number, len: number): number {
  return csumPartial(b, addrOff, 8, proto + len);
}

/** Pseudo-header sum for IPv6 from two 16-byte addresses (in place) and the upper-layer length. */
export function pseudoSumIpv6(
  src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, proto: number, len: number,
  partial: CsumPartial = csumPartial,
): number {
  const s = partial(src, srcOff, 16, proto + (len >>> 16) + (len & 0xffff));
  return partial(dst, dstOff, 16, s);
}

/** Same, reading source then destination (32 contiguous bytes, as in the IPv6 header) at b[addrOff]. */
export function pseudoSumIpv6At(
  b: Uint8Array, addrOff: number, proto: number, len: number, partial: CsumPartial = csumPartial,
): number {
  return partial(b, addrOff, 32, proto + (len >>> 16) + (len & 0xffff));
}

// ---------------------------------------------------------------------------------------------
// IPv4 header

/** IPv4 header checksum field offset. */
const IPV4_CSUM = 10;

/** Computes and stores the checksum of the IPv4 header of `hlen` bytes at b[off]; returns it. */
export function setIpv4HeaderChecksum(b: Uint8Array, off: number, hlen: number): number {
  b[off + IPV4_CSUM] = 0;
  b[off + IPV4_CSUM + 1] = 0;
  const c = csumFold(csumPartial(b, off, hlen, 0));
  b[off + IPV4_CSUM] = c >>> 8;
  b[off + IPV4_CSUM + 1] = c & 0xff;
  return c;
}

/** True if the IPv4 header of `hlen` bytes at b[off] carries a correct checksum. */
export function verifyIpv4HeaderChecksum(b: Uint8Array, off: number, hlen: number): boolean {
  return csumFold(csumPartial(b, off, hlen, 0)) === 0;
}

// ---------------------------------------------------------------------------------------------
// Upper layers

/** Offset of the checksum field within the upper-layer header of `proto`, or -1 if we do not know it. */
export function l4ChecksumFieldOffset(proto: number): number {
  switch (proto) {
    case 6: return 16; // TCP
    case 17: return 6; // UDP
    case 1: // ICMP
    case 58: return 2; // ICMPv6
    default: return -1;
  }
}

/**
 * Computes and stores the checksum of the upper-layer segment b[l4Off, l4Off+l4Len) of protocol `proto`
 * given its pseudo-header sum (0 for ICMPv4). UDP's computed 0 is sent as 0xffff (RFC 768). Returns the
 * stored value, or -1 (nothing written) if `proto` has no known checksum field or the header does not fit.
 */
export function setL4Checksum(
  b: Uint8Array, l4Off: number, l4Len: number, proto: number, pseudo: number, partial: CsumPartial = csumPartial,
): number {
  const field = l4ChecksumFieldOffset(proto);
  if (field < 0 || l4Len < field + 2) return -1;
  b[l4Off + field] = 0;
  b[l4Off + field + 1] = 0;
  let c = csumFold(partial(b, l4Off, l4Len, pseudo));
  if (c === 0 && proto === 17) c = 0xffff;
  b[l4Off + field] = c >>> 8;
  b[l4Off + field + 1] = c & 0xff;
  return c;
}

/** True if the segment b[l4Off, +l4Len), checksum field included, sums with `pseudo` to a valid checksum. */
export function verifyL4Checksum(
  b: Uint8Array, l4Off: number, l4Len: number, pseudo: number, partial: CsumPartial = csumPartial,
): boolean {
  return csumFold(partial(b, l4Off, l4Len, pseudo)) === 0;
}

const ipv4HeaderLen = (b: Uint8Array, ipOff: number): number => (b[ipOff]! & 0x0f) * 4;
const ipv4TotalLen = (b: Uint8Array, ipOff: number): number => (b[ipOff + 2]! << 8) | b[ipOff + 3]!;

/** The pseudo-header sum of the IPv4 datagram at b[ipOff] (0 for ICMP, which has none). */
function ipv4Pseudo(b: Uint8Array, ipOff: number, proto: number, l4Len: number): number {
  return proto === 1 ? 0 : pseudoSumIpv4At(b, ipOff + 12, proto, l4Len);
}

/**
 * Fills the upper-layer checksum of the (already valid, unfragmented) IPv4 datagram at b[ipOff], from its
 * header's protocol, total length and addresses. Returns the stored value or -1 (unknown protocol).
 */
export function setIpv4L4Checksum(b: Uint8Array, ipOff: number, partial: CsumPartial = csumPartial): number {
  const hlen = ipv4HeaderLen(b, ipOff);
  const l4Len = ipv4TotalLen(b, ipOff) - hlen;
  const proto = b[ipOff + 9]!;
  return setL4Checksum(b, ipOff + hlen, l4Len, proto, ipv4Pseudo(b, ipOff, proto, l4Len), partial);
}

/** True if the upper-layer checksum of the IPv4 datagram at b[ipOff] is right (UDP with 0: no checksum). */
export function verifyIpv4L4Checksum(b: Uint8Array, ipOff: number, partial: CsumPartial = csumPartial): boolean {
  const hlen = ipv4HeaderLen(b, ipOff);
  const l4Off = ipOff + hlen;
  const l4Len = ipv4TotalLen(b, ipOff) - hlen;
  const proto = b[ipOff + 9]!;
  if (proto === 17 && l4Len >= 8 && b[l4Off + 6] === 0 && b[l4Off + 7] === 0) return true;
  return verifyL4Checksum(b, l4Off, l4Len, ipv4Pseudo(b, ipOff, proto, l4Len), partial);
}

/**
 * Fills the upper-layer checksum of an IPv6 packet at b[ipOff] whose upper-layer header of protocol `proto`
 * starts at b[l4Off] (after any extension headers) and runs to the end of the IPv6 payload.
 */
export function setIpv6L4Checksum(
  b: Uint8Array, ipOff: number, l4Off: number, proto: number, partial: CsumPartial = csumPartial,
): number {
  const l4Len = ipOff + 40 + ((b[ipOff + 4]! << 8) | b[ipOff + 5]!) - l4Off;
  return setL4Checksum(b, l4Off, l4Len, proto, pseudoSumIpv6At(b, ipOff + 8, proto, l4Len, partial), partial);
}

/** True if the upper-layer checksum of the IPv6 packet at b[ipOff] (upper header at l4Off) is right. */
export function verifyIpv6L4Checksum(
  b: Uint8Array, ipOff: number, l4Off: number, proto: number, partial: CsumPartial = csumPartial,
): boolean {
  const l4Len = ipOff + 40 + ((b[ipOff + 4]! << 8) | b[ipOff + 5]!) - l4Off;
  return verifyL4Checksum(b, l4Off, l4Len, pseudoSumIpv6At(b, ipOff + 8, proto, l4Len, partial), partial);
}
