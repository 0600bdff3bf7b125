/**
 * The icmp actor's pure part: the echo flow table, which echo requests are forwarded and where to, and
 * the echo reply frames built for the guest. No I/O: actor.ts opens, registers and closes the sockets.
 *
 * Flows. One flow per (IP version, peer address, guest's echo identifier): the guest may run several
 * `ping`s to one peer, each with its own identifier, and each gets its own ping socket. The kernel
 * gives every ping socket an identifier of its own and rewrites the requests' identifier to it, so a
 * reply read from a flow's socket belongs to that flow, and gets the guest's identifier back.
 * Invariants:
 * - a flow is found by (family, peer, id) through `EchoFlowTable.find` without allocating;
 * - a flow's slot is its epoll handle, and its generation (bumped on every reuse of the slot) its
 *   epoll aux, so a readiness report for a closed flow never reaches its slot's next flow;
 * - only actor.ts sets `fd`; a flow leaves the table (`close`) before its socket is closed.
 */
import {
  bytesEqual, formatIpv4, formatIpv4U32, formatIpv6, isIpv4Loopback, isIpv4Multicast, isIpv6LinkLocal, isIpv6Loopback,
  isIpv6Multicast, isIpv6Unspecified,
} from '../../protocol/addr.js';
import { FrameKind, L4Kind } from '../../protocol/classify.js';
import { endpoint, type FlowInfo } from '../../runtime/actor.js';
import type { FrameClass } from '../../protocol/classify.js';
import type { CsumPartial } from '../../protocol/checksum.js';
import { ETH_HEADER_LEN, EtherType, writeEth } from '../../protocol/eth.js';
import { ICMP_HEADER_LEN, IcmpOff, IcmpType, Icmpv6Type } from '../../protocol/icmp.js';
import { IPV4_HEADER_LEN, IpProto, writeIpv4 } from '../../protocol/ipv4.js';
import type { Ipv4Params } from '../../protocol/ipv4.js';
import { IPV6_HEADER_LEN, writeIpv6 } from '../../protocol/ipv6.js';
import type { Ipv6Params } from '../../protocol/ipv6.js';
import { setIpv4L4Checksum, setIpv6L4Checksum } from '../../protocol/checksum.js';

/** A flow with no request for this long is closed (as passt: about a minute). */
export const ECHO_IDLE_MS = 60_000;
/** Most flows open at once; a request for one more is dropped and counted. */
export const MAX_ECHO_FLOWS = 1024;
const GEN_MASK = 0xffffff;

export class EchoFlow {
  family: 4 | 6 = 4;
  /** generation of this slot's current flow: the epoll aux */
  gen = 0;
  fd = -1;
  /** the guest's echo identifier (replies carry it back) */
  guestId = 0;
  /** the peer the guest pings (source of the replies), and the guest's own address (their destination) */
  readonly peer = new Uint8Array(16);
  readonly guest = new Uint8Array(16);
  lastUse = 0;
  open = false;

  constructor(readonly slot: number) {}
}

/** Lookup key: exact for IPv4 (id and address), a hash of the address for IPv6 (then compared). */
export function flowKey(family: 4 | 6, b: Uint8Array, off: number, id: number): number {
  if (family === 4) return id * 2 ** 32 + (((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0);
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ b[off + i]!, 0x01000193);
  return 2 ** 48 + id * 2 ** 32 + (h >>> 0);
}

export class EchoFlowTable {
  readonly #slots: EchoFlow[] = [];
  readonly #free: number[] = [];
  readonly #buckets = new Map<number, EchoFlow[]>();
  #count = 0;

  constructor(readonly max = MAX_ECHO_FLOWS) {}

  get size(): number {
    return this.#count;
  }

  /** The open flow for (family, peer at b[off], id), if any. */
  find(family: 4 | 6, b: Uint8Array, off: number, id: number): EchoFlow | undefined {
    const bucket = this.#buckets.get(flowKey(family, b, off, id));
    if (bucket === undefined) return undefined;
    const len = family === 4 ? 4 : 16;
    for (const f of bucket) if (f.family === family && f.guestId === id && bytesEqual(f.peer, 0, b, off, len)) return f;
    return undefined;
  }

  /** A new open flow (fd still -1), or null when the table is full. */
  add(family: 4 | 6, b: Uint8Array, off: number, id: number, now: number): EchoFlow | null {
    if (this.#count >= this.max) return null;
    const f = this.#takeSlot();
    f.family = family;
    f.gen = (f.gen + 1) & GEN_MASK;
    f.fd = -1;
    f.guestId = id;
    f.peer.fill(0);
    f.peer.set(b.subarray(off, off + (family === 4 ? 4 : 16)));
    f.lastUse = now;
    f.open = true;
    const key = flowKey(family, b, off, id);
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.push(f);
    else this.#buckets.set(key, [f]);
    this.#count++;
    return f;
  }

  #takeSlot(): EchoFlow {
    const slot = this.#free.pop();
    if (slot !== undefined) return this.#slots[slot]!;
    const f = new EchoFlow(this.#slots.length);
    this.#slots.push(f);
    return f;
  }

  /** The open flow in `slot` with generation `gen` (an epoll reference), if it is still there. */
  at(slot: number, gen: number): EchoFlow | undefined {
    const f = this.#slots[slot];
    return f !== undefined && f.open && f.gen === gen ? f : undefined;
  }

  /** Takes the flow out of the table; its slot may be reused at once (with a new generation). */
  close(f: EchoFlow): void {
    if (!f.open) throw new Error(`echo flow ${f.slot} closed twice`);
    const key = flowKey(f.family, f.peer, 0, f.guestId);
    const bucket = this.#buckets.get(key) ?? [];
    const rest = bucket.filter((x) => x !== f);
    if (rest.length > 0) this.#buckets.set(key, rest);
    else this.#buckets.delete(key);
    f.open = false;
    this.#free.push(f.slot);
    this.#count--;
  }

  /** Open flows with no use since `now - idleMs`. */
  idle(now: number, idleMs = ECHO_IDLE_MS): EchoFlow[] {
    return this.#slots.filter((f) => f.open && now - f.lastUse >= idleMs);
  }

  all(): EchoFlow[] {
    return this.#slots.filter((f) => f.open);
  }
}

/** An echo flow for the control socket: the echo identifier stands in for the port. */
export function echoFlowInfo(f: EchoFlow, now: number): FlowInfo {
  const addr = (a: Uint8Array) => (f.family === 4 ? formatIpv4(a, 0) : formatIpv6(a, 0));
  return {
    proto: 'icmp', dir: 'out', path: 'tap',
    guest: endpoint(addr(f.guest), f.guestId), remote: endpoint(addr(f.peer), f.guestId),
    state: 'echo', idleMs: Math.max(0, now - f.lastUse), expiresInMs: Math.max(0, f.lastUse + ECHO_IDLE_MS - now),
  };
}

/** What the icmp actor must know about the guest's link to translate echo requests. */
export interface EchoConfig {
  /** the guest's IPv4 gateway (0: none) and IPv6 gateway (null: none) */
  gw4: number;
  gw6: Uint8Array | null;
  /** our link-local address (the guest's router when it took our RAs) */
  linkLocal6: Uint8Array;
  /** --no-map-gw: the gateway addresses are not the host */
  noMapGw: boolean;
}

/** Why an echo request from the guest is not forwarded, or null if it is (classified Ok). */
export function echoRequestDrop(fc: FrameClass): string | null {
  if (fc.kind === FrameKind.Ipv4) {
    if (fc.l4 !== L4Kind.Icmp || fc.icmpType !== IcmpType.EchoRequest) return 'not-echo-request';
  } else if (fc.kind !== FrameKind.Ipv6 || fc.l4 !== L4Kind.Icmpv6 || fc.icmpType !== Icmpv6Type.EchoRequest) {
    return 'not-echo-request';
  }
  if (fc.icmpCode !== 0) return 'echo-code';
  if (fc.fragment) return 'fragment';
  return null;
}

/**
 * Where the host's ping socket sends a request the guest sent to the peer at b[off] (4 or 16 bytes):
 * the peer itself, or the host's loopback for the gateway (and our link-local address) unless
 * --no-map-gw. Null for peers a ping socket cannot reach on the guest's behalf (multicast, broadcast,
 * loopback, unspecified, other link-local addresses).
 */
export function hostPeerOf(family: 4 | 6, b: Uint8Array, off: number, cfg: EchoConfig): string | null {
  return family === 4 ? hostPeer4(b, off, cfg) : hostPeer6(b, off, cfg);
}

function hostPeer4(b: Uint8Array, off: number, cfg: EchoConfig): string | null {
  const a = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  if (a === cfg.gw4 && a !== 0) return cfg.noMapGw ? formatIpv4U32(a) : '127.0.0.1';
  if (a === 0 || a === 0xffffffff || isIpv4Multicast(a) || isIpv4Loopback(a)) return null;
  return formatIpv4U32(a);
}

function hostPeer6(b: Uint8Array, off: number, cfg: EchoConfig): string | null {
  const isGw = cfg.gw6 !== null && bytesEqual(b, off, cfg.gw6, 0, 16);
  if (!cfg.noMapGw && (isGw || bytesEqual(b, off, cfg.linkLocal6, 0, 16))) return '::1';
  if (isIpv6Unspecified(b, off) || isIpv6Multicast(b, off) || isIpv6LinkLocal(b, off)) return null;
  if (isIpv6Loopback(b, off)) return null;
  return formatIpv6(b, off);
}

/** Where a reply's ICMP message goes in the frame buffer, so the headers fit before it. */
export function echoMessageOffset(family: 4 | 6): number {
  return ETH_HEADER_LEN + (family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
}

/** Reusable header parameters (no allocation per reply). */
export class ReplyScratch {
  readonly ip4: Ipv4Params = { src: 0, dst: 0, ttl: 64 };
  readonly ip6: Ipv6Params = { src: new Uint8Array(16), dst: new Uint8Array(16), hopLimit: 64 };
}

/**
 * Completes the echo reply frame whose ICMP message (`msgLen` bytes, as read from the flow's ping
 * socket) is already at buf[echoMessageOffset(flow.family)]: the guest's identifier back, the checksum,
 * IP from the peer to the guest, Ethernet from us to the guest. Returns the frame length, or a drop
 * reason if the message is not an echo reply.
 */
export function completeEchoReply(
  buf: Uint8Array, flow: EchoFlow, msgLen: number, guestMac: Uint8Array, ourMac: Uint8Array, s: ReplyScratch,
  partial: CsumPartial,
): number | string {
  const v4 = flow.family === 4;
  const at = echoMessageOffset(flow.family);
  if (msgLen < ICMP_HEADER_LEN) return 'short-reply';
  if (buf[at] !== (v4 ? IcmpType.EchoReply : Icmpv6Type.EchoReply)) return 'not-echo-reply';
  buf[at + IcmpOff.EchoId] = flow.guestId >>> 8;
  buf[at + IcmpOff.EchoId + 1] = flow.guestId & 0xff;
  const ipOff = writeEth(buf, 0, guestMac, ourMac, v4 ? EtherType.Ipv4 : EtherType.Ipv6);
  if (v4) {
    s.ip4.src = u32(flow.peer);
    s.ip4.dst = u32(flow.guest);
    writeIpv4(buf, ipOff, s.ip4, IpProto.Icmp, msgLen);
    setIpv4L4Checksum(buf, ipOff, partial);
  } else {
    s.ip6.src = flow.peer;
    s.ip6.dst = flow.guest;
    writeIpv6(buf, ipOff, s.ip6, IpProto.Icmpv6, msgLen);
    setIpv6L4Checksum(buf, ipOff, at, IpProto.Icmpv6, partial);
  }
  return at + msgLen;
}

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
