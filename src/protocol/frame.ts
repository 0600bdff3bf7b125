/**
 * Frame builders: Ethernet + IPv4/IPv6 + UDP/TCP/ICMP headers written into a caller's buffer, lengths and
 * checksums filled, no allocation per call.
 *
 * Two levels:
 * - Per-layer writers (re-exported here from their modules): `writeEth`, `writeIpv4`, `writeIpv6`,
 *   `writeUdp`, `writeTcp` (+ `writeTcpOptions`), `writeIcmp`, `writeIcmpEcho`, `writeArp`. Each writes one
 *   header at buf[off] and returns the offset just past it, so calls chain. L4 writers leave the checksum
 *   0; `writeIpv4` fills the IPv4 header checksum; then `setIpv4L4Checksum` / `setIpv6L4Checksum`
 *   (checksum.ts) finish the upper layer.
 * - Whole frames: `buildUdp4`, `buildUdp6`, `buildTcp4`, `buildTcp6`, `buildIcmp4`, `buildIcmp6`,
 *   `buildArp`. The payload must ALREADY be in place right after where the headers end (at
 *   `off + Headroom.X`, or `tcpPayloadOffset(...)` with TCP options): read socket data straight there.
 *   They write every header, fill lengths and checksums, and return the frame length (from `off`).
 * `partial` is the sum function for the L4 checksum: pass the addon's `csumPartial` on hot paths.
 */
import { csumPartial, setIpv4L4Checksum, setIpv6L4Checksum } from './checksum.js';
import type { CsumPartial } from './checksum.js';
import { ETH_HEADER_LEN, EtherType, writeEth } from './eth.js';
import { ICMP_HEADER_LEN, writeIcmp } from './icmp.js';
import { IPV4_HEADER_LEN, IpProto, writeIpv4 } from './ipv4.js';
import type { Ipv4Params } from './ipv4.js';
import { IPV6_HEADER_LEN, writeIpv6 } from './ipv6.js';
import type { Ipv6Params } from './ipv6.js';
import { TCP_HEADER_LEN, writeTcp } from './tcp.js';
import type { TcpParams } from './tcp.js';
import { UDP_HEADER_LEN, writeUdp } from './udp.js';
import { ARP_LEN, writeArp } from './arp.js';

export { writeEth } from './eth.js';
export { writeIpv4 } from './ipv4.js';
export type { Ipv4Params } from './ipv4.js';
export { writeIpv6 } from './ipv6.js';
export type { Ipv6Params } from './ipv6.js';
export { writeUdp } from './udp.js';
export { writeTcp, writeTcpOptions } from './tcp.js';
export type { TcpParams, TcpOptionsSpec } from './tcp.js';
export { writeIcmp, writeIcmpEcho } from './icmp.js';
export { writeArp } from './arp.js';
export { setIpv4L4Checksum, setIpv6L4Checksum } from './checksum.js';

/** Destination and source MAC addresses of a frame. */
export interface EthParams {
  dst: Uint8Array;
  src: Uint8Array;
}

/** Bytes of headers before the payload (TCP without options). */
export const Headroom = {
  Udp4: ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN,
  Udp6: ETH_HEADER_LEN + IPV6_HEADER_LEN + UDP_HEADER_LEN,
  Tcp4: ETH_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN,
  Tcp6: ETH_HEADER_LEN + IPV6_HEADER_LEN + TCP_HEADER_LEN,
  Icmp4: ETH_HEADER_LEN + IPV4_HEADER_LEN + ICMP_HEADER_LEN,
  Icmp6: ETH_HEADER_LEN + IPV6_HEADER_LEN + ICMP_HEADER_LEN,
} as const;

/** Where a TCP payload goes for a frame at `off` with `optionsLen` option bytes (padded to 4). */
export function tcpPayloadOffset(off: number, family: 4 | 6, optionsLen: number): number {
  return off + (family === 4 ? Headroom.Tcp4 : Headroom.Tcp6) + ((optionsLen + 3) & ~3);
}

/** Option bytes `writeTcp` will account for (before padding). */
function tcpOptionsLen(tcp: TcpParams): number {
  return tcp.options !== undefined ? tcp.options.length : (tcp.optionsLen ?? 0);
}

/** Ethernet + IPv4 + UDP around the payload at off + Headroom.Udp4. */
export function buildUdp4(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv4Params, srcPort: number, dstPort: number,
  payloadLen: number, partial: CsumPartial = csumPartial,
): number {
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv4);
  writeUdp(buf, writeIpv4(buf, ipOff, ip, IpProto.Udp, UDP_HEADER_LEN + payloadLen), srcPort, dstPort, payloadLen);
  setIpv4L4Checksum(buf, ipOff, partial);
  return Headroom.Udp4 + payloadLen;
}

/** Ethernet + IPv6 + UDP around the payload at off + Headroom.Udp6. */
export function buildUdp6(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv6Params, srcPort: number, dstPort: number,
  payloadLen: number, partial: CsumPartial = csumPartial,
): number {
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv6);
  const l4Off = writeIpv6(buf, ipOff, ip, IpProto.Udp, UDP_HEADER_LEN + payloadLen);
  writeUdp(buf, l4Off, srcPort, dstPort, payloadLen);
  setIpv6L4Checksum(buf, ipOff, l4Off, IpProto.Udp, partial);
  return Headroom.Udp6 + payloadLen;
}

/** Ethernet + IPv4 + TCP around the payload at tcpPayloadOffset(off, 4, options length). */
export function buildTcp4(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv4Params, tcp: TcpParams, payloadLen: number,
  partial: CsumPartial = csumPartial,
): number {
  const tcpLen = TCP_HEADER_LEN + ((tcpOptionsLen(tcp) + 3) & ~3) + payloadLen;
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv4);
  writeTcp(buf, writeIpv4(buf, ipOff, ip, IpProto.Tcp, tcpLen), tcp);
  setIpv4L4Checksum(buf, ipOff, partial);
  return ETH_HEADER_LEN + IPV4_HEADER_LEN + tcpLen;
}

/** Ethernet + IPv6 + TCP around the payload at tcpPayloadOffset(off, 6, options length). */
export function buildTcp6(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv6Params, tcp: TcpParams, payloadLen: number,
  partial: CsumPartial = csumPartial,
): number {
  const tcpLen = TCP_HEADER_LEN + ((tcpOptionsLen(tcp) + 3) & ~3) + payloadLen;
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv6);
  const l4Off = writeIpv6(buf, ipOff, ip, IpProto.Tcp, tcpLen);
  writeTcp(buf, l4Off, tcp);
  setIpv6L4Checksum(buf, ipOff, l4Off, IpProto.Tcp, partial);
  return ETH_HEADER_LEN + IPV6_HEADER_LEN + tcpLen;
}

/** Ethernet + IPv4 + ICMP (type, code, u32 rest) around the body at off + Headroom.Icmp4. */
export function buildIcmp4(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv4Params, type: number, code: number, rest: number,
  bodyLen: number, partial: CsumPartial = csumPartial,
): number {
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv4);
  writeIcmp(buf, writeIpv4(buf, ipOff, ip, IpProto.Icmp, ICMP_HEADER_LEN + bodyLen), type, code, rest);
  setIpv4L4Checksum(buf, ipOff, partial);
  return Headroom.Icmp4 + bodyLen;
}

/** Ethernet + IPv6 + ICMPv6 (type, code, u32 rest) around the body at off + Headroom.Icmp6. */
export function buildIcmp6(
  buf: Uint8Array, off: number, eth: EthParams, ip: Ipv6Params, type: number, code: number, rest: number,
  bodyLen: number, partial: CsumPartial = csumPartial,
): number {
  const ipOff = writeEth(buf, off, eth.dst, eth.src, EtherType.Ipv6);
  const l4Off = writeIpv6(buf, ipOff, ip, IpProto.Icmpv6, ICMP_HEADER_LEN + bodyLen);
  writeIcmp(buf, l4Off, type, code, rest);
  setIpv6L4Checksum(buf, ipOff, l4Off, IpProto.Icmpv6, partial);
  return Headroom.Icmp6 + bodyLen;
}

/** Ethernet + ARP (IPs as u32); returns the frame length, 42 (pad to 60 yourself if the link needs it). */
export function buildArp(
  buf: Uint8Array, off: number, eth: EthParams, op: number, senderMac: Uint8Array, senderIp: number,
  targetMac: Uint8Array, targetIp: number,
): number {
  writeArp(buf, writeEth(buf, off, eth.dst, eth.src, EtherType.Arp), op, senderMac, senderIp, targetMac, targetIp);
  return ETH_HEADER_LEN + ARP_LEN;
}
