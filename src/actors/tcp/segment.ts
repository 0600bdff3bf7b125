/**
 * Frames to the guest for TCP flows: Ethernet + IPv4/IPv6 + TCP built in one reusable buffer. A data
 * segment's payload is read straight into the buffer at `payloadOffset(family)` first (from the socket,
 * with MSG_PEEK), then the headers are written around it. The checksum function is injected (the addon's
 * csumPartial in the actor, the plain-JS oracle in tests). No allocation per frame.
 */
import { ipv4ToU32 } from '../../protocol/addr.js';
import type { CsumPartial } from '../../protocol/checksum.js';
import { MAC_BROADCAST } from '../../protocol/eth.js';
import { buildTcp4, buildTcp6, tcpPayloadOffset, writeTcpOptions } from '../../protocol/frame.js';
import type { FlowAddr } from './state.js';

/** Room for the largest frame: a 65535-byte IPv6 payload plus the Ethernet header, and slack. */
export const FRAME_ROOM = 65536 + 128;

export class SegmentWriter {
  readonly buf = new Uint8Array(FRAME_ROOM);
  readonly #ourMac: Uint8Array;
  /** the guest's MAC: broadcast until it is known */
  readonly guestMac = new Uint8Array(MAC_BROADCAST);
  #guestMacKnown = false;
  readonly #partial: CsumPartial;
  readonly #eth: { dst: Uint8Array; src: Uint8Array };
  readonly #tcp = { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, optionsLen: 0 };
  readonly #ip4 = { src: 0, dst: 0, dontFragment: true };
  readonly #ip6: { src: Uint8Array; dst: Uint8Array } = { src: new Uint8Array(16), dst: new Uint8Array(16) };

  constructor(ourMac: Uint8Array, partial: CsumPartial) {
    this.#ourMac = ourMac;
    this.#partial = partial;
    this.#eth = { dst: this.guestMac, src: this.#ourMac };
  }

  get guestMacKnown(): boolean {
    return this.#guestMacKnown;
  }

  setGuestMac(mac: Uint8Array, off = 0): void {
    this.guestMac.set(mac.subarray(off, off + 6));
    this.#guestMacKnown = true;
  }

  /** Where the payload of a segment without options goes. */
  payloadOffset(family: 4 | 6): number {
    return tcpPayloadOffset(0, family, 0);
  }

  /** A segment with `payLen` payload bytes already at payloadOffset(family); returns the frame length. */
  write(a: FlowAddr, flags: number, seq: number, ack: number, window: number, payLen: number): number {
    this.#setTcp(a, flags, seq, ack, window, 0);
    return this.#build(a, payLen);
  }

  /** A SYN or SYN-ACK with the MSS option and, if `wscale` >= 0, the window scale option. */
  writeSyn(a: FlowAddr, flags: number, seq: number, ack: number, window: number, mss: number, wscale: number): number {
    const at = this.payloadOffset(a.family); // the options sit where a payload would start
    const end = writeTcpOptions(this.buf, at, wscale >= 0 ? { mss, wscale } : { mss });
    this.#setTcp(a, flags, seq, ack, window, end - at);
    return this.#build(a, 0);
  }

  #setTcp(a: FlowAddr, flags: number, seq: number, ack: number, window: number, optionsLen: number): void {
    const t = this.#tcp;
    t.srcPort = a.remotePort;
    t.dstPort = a.guestPort;
    t.seq = seq >>> 0;
    t.ack = ack >>> 0;
    t.flags = flags;
    t.window = window;
    t.optionsLen = optionsLen;
  }

  #build(a: FlowAddr, payLen: number): number {
    if (a.family === 4) {
      this.#ip4.src = ipv4ToU32(a.remote);
      this.#ip4.dst = ipv4ToU32(a.guest);
      return buildTcp4(this.buf, 0, this.#eth, this.#ip4, this.#tcp, payLen, this.#partial);
    }
    this.#ip6.src = a.remote;
    this.#ip6.dst = a.guest;
    return buildTcp6(this.buf, 0, this.#eth, this.#ip6, this.#tcp, payLen, this.#partial);
  }
}
