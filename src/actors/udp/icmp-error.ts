/**
 * Host socket errors as ICMP errors to the guest. Pure.
 *
 * A flow socket has IP_RECVERR / IPV6_RECVERR set, so an ICMP error the host receives about one of its
 * datagrams (port unreachable, fragmentation needed, packet too big...) is queued on it with the
 * message's type, code and info, and with the quoted payload. `icmpForSockErr` picks the ICMP message to
 * give the guest; `buildUdpIcmpError` builds it, quoting the guest's datagram as the guest sent it (guest
 * addresses and ports, not the host's), so that the guest's stack finds the socket it concerns.
 *
 * The quote: the inner IP and UDP headers are rebuilt from the flow, followed by as much of the payload as
 * the kernel kept and as fits (an ICMPv4 error is at most 576 bytes, RFC 1812; an ICMPv6 one at most
 * 1280, RFC 4443). The inner UDP length is the original datagram's; its checksum is 0 (receivers do not
 * check the checksum of a quote, and the whole payload may not be known).
 * The error comes from the remote address the guest addressed (the offender may be a router on the host's
 * path, whose address means nothing to the guest).
 */
import { ETH_HEADER_LEN } from '../../protocol/eth.js';
import { buildIcmp4, buildIcmp6, Headroom, writeIpv4, writeIpv6, writeUdp, type EthParams } from '../../protocol/frame.js';
import type { CsumPartial } from '../../protocol/checksum.js';
import { IcmpType, IcmpUnreachCode, Icmpv6Type } from '../../protocol/icmp.js';
import { IPV4_HEADER_LEN, IpProto } from '../../protocol/ipv4.js';
import { IPV6_HEADER_LEN } from '../../protocol/ipv6.js';
import { ipv4ToU32 } from '../../protocol/addr.js';
import { UDP_HEADER_LEN } from '../../protocol/udp.js';

/** sock_extended_err.ee_origin values (linux/errqueue.h: a stable kernel ABI). */
export const ErrOrigin = { Local: 1, Icmp: 2, Icmp6: 3 } as const;
const EMSGSIZE = 90;

/** Most bytes of an ICMP error packet (IP header included) for each version. */
export const ICMP4_ERROR_MAX = 576;
export const ICMP6_ERROR_MAX = 1280;

export interface SockErrFacts {
  origin: number;
  type: number;
  code: number;
  info: number;
  errno: number;
}

export interface IcmpMessage {
  type: number;
  code: number;
  /** the 4 bytes after the checksum (the MTU for fragmentation needed / packet too big) */
  rest: number;
}

/** The ICMP message for a queued socket error of a `family` flow, or null if the guest gets none. */
export function icmpForSockErr(family: 4 | 6, e: SockErrFacts): IcmpMessage | null {
  if (e.origin === ErrOrigin.Local) return e.errno === EMSGSIZE ? tooBig(family, e.info) : null;
  if (family === 4 && e.origin === ErrOrigin.Icmp) return icmp4(e);
  if (family === 6 && e.origin === ErrOrigin.Icmp6) return icmp6(e);
  return null;
}

function tooBig(family: 4 | 6, mtu: number): IcmpMessage {
  if (family === 4) return { type: IcmpType.DestUnreachable, code: IcmpUnreachCode.FragNeeded, rest: mtu & 0xffff };
  return { type: Icmpv6Type.PacketTooBig, code: 0, rest: mtu >>> 0 };
}

function icmp4(e: SockErrFacts): IcmpMessage | null {
  if (e.type === IcmpType.DestUnreachable && e.code === IcmpUnreachCode.FragNeeded) return tooBig(4, e.info);
  if (e.type === IcmpType.DestUnreachable && e.code <= 15) return { type: e.type, code: e.code, rest: 0 };
  if (e.type === IcmpType.TimeExceeded && e.code <= 1) return { type: e.type, code: e.code, rest: 0 };
  return null;
}

function icmp6(e: SockErrFacts): IcmpMessage | null {
  if (e.type === Icmpv6Type.PacketTooBig) return tooBig(6, e.info);
  if (e.type === Icmpv6Type.DestUnreachable && e.code <= 7) return { type: e.type, code: e.code, rest: 0 };
  if (e.type === Icmpv6Type.TimeExceeded && e.code <= 1) return { type: e.type, code: e.code, rest: 0 };
  return null;
}

/**
 * The ICMP message for a flow socket that could not even be opened (connect() failed at once): no route
 * (ENETUNREACH), no host (EHOSTUNREACH), refused by policy (EACCES, EPERM); null for anything else.
 */
export function icmpForConnectError(family: 4 | 6, code: string): IcmpMessage | null {
  const v4 = family === 4;
  switch (code) {
    case 'ENETUNREACH':
      return v4 ? { type: IcmpType.DestUnreachable, code: IcmpUnreachCode.Net, rest: 0 } : { type: Icmpv6Type.DestUnreachable, code: 0, rest: 0 };
    case 'EHOSTUNREACH':
      return v4 ? { type: IcmpType.DestUnreachable, code: IcmpUnreachCode.Host, rest: 0 } : { type: Icmpv6Type.DestUnreachable, code: 3, rest: 0 };
    case 'EACCES':
    case 'EPERM':
      return v4 ? { type: IcmpType.DestUnreachable, code: IcmpUnreachCode.AdminProhibited, rest: 0 } : { type: Icmpv6Type.DestUnreachable, code: 1, rest: 0 };
    default:
      return null;
  }
}

/** The guest's datagram an error is about, as the guest sent it. */
export interface QuotedDatagram {
  family: 4 | 6;
  /** guest address and port (the datagram's source) */
  guest: Uint8Array;
  guestPort: number;
  /** the remote address and port the guest addressed */
  remote: Uint8Array;
  remotePort: number;
  /** the payload bytes the kernel kept: src[off, off+len) */
  src: Uint8Array;
  off: number;
  len: number;
  /** the datagram's full payload length (>= len) */
  fullLen: number;
}

/**
 * Builds Ethernet + IP + ICMP error + quote at buf[off] (buf must have room for ICMP6_ERROR_MAX plus the
 * Ethernet header); returns the frame length.
 */
export function buildUdpIcmpError(
  buf: Uint8Array, off: number, eth: EthParams, msg: IcmpMessage, q: QuotedDatagram, partial?: CsumPartial,
): number {
  return q.family === 4 ? build4(buf, off, eth, msg, q, partial) : build6(buf, off, eth, msg, q, partial);
}

function build4(buf: Uint8Array, off: number, eth: EthParams, msg: IcmpMessage, q: QuotedDatagram, partial?: CsumPartial): number {
  const inner = off + Headroom.Icmp4;
  const guest = ipv4ToU32(q.guest), remote = ipv4ToU32(q.remote);
  const udpOff = writeIpv4(buf, inner, { src: guest, dst: remote }, IpProto.Udp, UDP_HEADER_LEN + q.fullLen);
  const room = ICMP4_ERROR_MAX - (Headroom.Icmp4 - ETH_HEADER_LEN) - IPV4_HEADER_LEN - UDP_HEADER_LEN;
  const quoted = copyQuote(buf, writeUdp(buf, udpOff, q.guestPort, q.remotePort, q.fullLen), q, room);
  const body = IPV4_HEADER_LEN + UDP_HEADER_LEN + quoted;
  return buildIcmp4(buf, off, eth, { src: remote, dst: guest, ttl: 255 }, msg.type, msg.code, msg.rest, body, partial);
}

function build6(buf: Uint8Array, off: number, eth: EthParams, msg: IcmpMessage, q: QuotedDatagram, partial?: CsumPartial): number {
  const inner = off + Headroom.Icmp6;
  const udpOff = writeIpv6(buf, inner, { src: q.guest, dst: q.remote }, IpProto.Udp, UDP_HEADER_LEN + q.fullLen);
  const room = ICMP6_ERROR_MAX - (Headroom.Icmp6 - ETH_HEADER_LEN) - IPV6_HEADER_LEN - UDP_HEADER_LEN;
  const quoted = copyQuote(buf, writeUdp(buf, udpOff, q.guestPort, q.remotePort, q.fullLen), q, room);
  const body = IPV6_HEADER_LEN + UDP_HEADER_LEN + quoted;
  return buildIcmp6(buf, off, eth, { src: q.remote, dst: q.guest, hopLimit: 255 }, msg.type, msg.code, msg.rest, body, partial);
}

/** Copies up to `room` payload bytes to buf[at]; returns how many. */
function copyQuote(buf: Uint8Array, at: number, q: QuotedDatagram, room: number): number {
  const n = Math.max(0, Math.min(q.len, room));
  buf.set(q.src.subarray(q.off, q.off + n), at);
  return n;
}
