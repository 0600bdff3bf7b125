/**
 * The tap actor's pure logic: where a classified frame goes, and the per-destination batches of one
 * wake-up. No I/O here; actor.ts does the reads and the sends.
 */
import { EtherType } from '../../protocol/eth.js';
import { IpProto } from '../../protocol/ipv4.js';

/** Who handles a frame: a protocol actor, the guest services (ARP, DHCP, NDP, DHCPv6), or nobody. */
export type Destination = 'tcp' | 'udp' | 'icmp' | 'services';

export interface FrameFacts {
  etherType: number;
  /** upper-layer protocol (IpProto), for IP frames */
  l4: number;
  dstPort: number;
  /** ICMP/ICMPv6 type */
  icmpType: number;
}

export const DHCP_SERVER_PORT = 67;
export const DHCPV6_SERVER_PORT = 547;
const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;
const NDP_TYPES = new Set([133, 135, 136]); // router solicitation, neighbour solicitation/advertisement

/**
 * The drop reason for a frame of an IP version turned off (-4: IPv6 is ignored; -6: IPv4 and ARP are),
 * or null if the frame's version is served.
 */
export function disabledFamilyDrop(etherType: number, ipOnly: 'ipv4' | 'ipv6' | null): `drop:${string}` | null {
  if (ipOnly === 'ipv4' && etherType === EtherType.Ipv6) return 'drop:ipv6-disabled';
  if (ipOnly === 'ipv6' && (etherType === EtherType.Ipv4 || etherType === EtherType.Arp)) return 'drop:ipv4-disabled';
  return null;
}

/** A destination, or the drop reason (a counter name) for a frame nobody handles. */
export function destinationOf(f: FrameFacts): Destination | `drop:${string}` {
  if (f.etherType === EtherType.Arp) return 'services';
  const v6 = f.etherType === EtherType.Ipv6;
  if (!v6 && f.etherType !== EtherType.Ipv4) return 'drop:ethertype';
  switch (f.l4) {
    case IpProto.Tcp:
      return 'tcp';
    case IpProto.Udp:
      return f.dstPort === (v6 ? DHCPV6_SERVER_PORT : DHCP_SERVER_PORT) ? 'services' : 'udp';
    case IpProto.Icmp:
      return !v6 && f.icmpType === ICMP_ECHO_REQUEST ? 'icmp' : 'drop:icmp-not-echo';
    case IpProto.Icmpv6:
      if (!v6) return 'drop:icmpv6-over-ipv4';
      if (NDP_TYPES.has(f.icmpType)) return 'services';
      return f.icmpType === ICMPV6_ECHO_REQUEST ? 'icmp' : 'drop:icmpv6-not-echo';
    default:
      return 'drop:l4-protocol';
  }
}

/**
 * Frames of one wake-up for one destination, recorded as (offset, length) in the read buffer and
 * copied out once, into one transferable buffer, when the batch is sent.
 */
export class FrameBatch {
  #offs: number[] = [];
  #lens: number[] = [];
  #bytes = 0;

  add(off: number, len: number): void {
    this.#offs.push(off);
    this.#lens.push(len);
    this.#bytes += len;
  }

  get count(): number {
    return this.#lens.length;
  }

  /** Copies the frames out of `src` back to back; resets the batch. */
  take(src: Uint8Array): { buf: Uint8Array; lens: number[] } {
    const buf = new Uint8Array(this.#bytes);
    let at = 0;
    for (let i = 0; i < this.#lens.length; i++) {
      const off = this.#offs[i]!, len = this.#lens[i]!;
      buf.set(src.subarray(off, off + len), at);
      at += len;
    }
    const lens = this.#lens;
    this.#offs = [];
    this.#lens = [];
    this.#bytes = 0;
    return { buf, lens };
  }
}

/** Unsolicited router advertisements (RFC 4861 §6.2.4): a few quick ones at start, then one every few minutes. */
export const RA_INITIAL_COUNT = 3;
export const RA_INITIAL_INTERVAL_MS = 4_000;
export const RA_MIN_INTERVAL_MS = 200_000;
export const RA_MAX_INTERVAL_MS = 600_000;

/**
 * Delay before unsolicited advertisement number `sent` (0 = the first, sent at once), with `random` in
 * [0, 1): RA_INITIAL_COUNT advertisements RA_INITIAL_INTERVAL_MS apart, then uniformly between the
 * minimum and maximum interval, well within the 9000 s router lifetime the advertisements carry.
 */
export function raDelayMs(sent: number, random: number): number {
  if (sent === 0) return 0;
  if (sent < RA_INITIAL_COUNT) return RA_INITIAL_INTERVAL_MS;
  return Math.floor(RA_MIN_INTERVAL_MS + random * (RA_MAX_INTERVAL_MS - RA_MIN_INTERVAL_MS));
}
