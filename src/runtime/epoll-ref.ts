/**
 * The 64-bit epoll reference: what an fd is, and who owns it.
 *
 * Every fd in the router's epoll set carries one reference in `epoll_data.u64`. The router decodes it
 * with no table lookup to know which protocol the readiness belongs to (and so which actor owns it),
 * and hands the actor the opaque handle it chose when it registered the fd.
 *
 *   bit 63 ........ 56 55 ................ 32 31 ............................ 0
 *      | protocol (8) |      aux (24)        |          handle (32)            |
 *
 * - protocol: a `Proto` value; 0 is never valid, so an all-zero reference is caught as a bug.
 * - aux: 24 bits for the owner (TCP uses it for the socket side of a spliced pair, for example).
 * - handle: 32 bits for the owner (a flow index, a listener number, ...).
 *
 * JS numbers hold 53 bits exactly, so the reference travels as two uint32 halves (hi, lo), which is
 * also how the addon's epoll calls take it.
 */

export const Proto = {
  Tap: 1, // the tap device (pasta) or the qemu stream socket (passt)
  TapListen: 2, // passt's listening UNIX socket
  Tcp: 3, // a TCP socket of a tap-path flow
  TcpListen: 4, // a -t listener
  TcpTimer: 5, // a TCP timerfd
  Udp: 6, // a UDP flow socket
  UdpListen: 7, // a -u listener
  Icmp: 8, // a ping socket
  Splice: 9, // a spliced TCP socket, or a -T listener in the namespace
  Timer: 10, // a generic timerfd
  Control: 11, // the control socket and its connections
  Channel: 12, // an actor channel (socketpair to an actor process)
  NsQuit: 13, // namespace-gone watcher
  UdpSplice: 14, // a UDP socket of the loopback fast path, or a -U listener in the namespace
} as const;
export type Proto = (typeof Proto)[keyof typeof Proto];

const PROTO_NAMES = new Map<number, string>(Object.entries(Proto).map(([name, v]) => [v, name]));

export const PROTO_MAX = 0xff;
export const AUX_MAX = 0xffffff;
export const HANDLE_MAX = 0xffffffff;

export interface DecodedRef {
  proto: number;
  aux: number;
  handle: number;
}

/** Name of a protocol number, or `proto#N` for one we do not know. */
export function protoName(proto: number): string {
  return PROTO_NAMES.get(proto) ?? `proto#${proto}`;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`epoll reference ${name} ${value} out of range 0..${max}`);
  }
}

/** High 32 bits of a reference. Throws on out-of-range fields: that is a bug in the caller. */
export function refHi(proto: number, aux: number): number {
  checkField('protocol', proto, PROTO_MAX);
  if (proto === 0) throw new RangeError('epoll reference protocol 0 is reserved');
  checkField('aux', aux, AUX_MAX);
  return ((proto << 24) | aux) >>> 0;
}

/** Low 32 bits of a reference. */
export function refLo(handle: number): number {
  checkField('handle', handle, HANDLE_MAX);
  return handle >>> 0;
}

/** Decodes the two halves of a reference. Pure, allocation-free when `out` is given. */
export function decodeRef(hi: number, lo: number, out: DecodedRef = { proto: 0, aux: 0, handle: 0 }): DecodedRef {
  out.proto = hi >>> 24;
  out.aux = hi & AUX_MAX;
  out.handle = lo >>> 0;
  return out;
}

/** The reference as one BigInt (for logs and for tests of the exact 64-bit layout). */
export function refToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
