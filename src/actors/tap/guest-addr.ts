/**
 * The guest's own addresses, as last seen in the source of what it sends: where inbound forwards
 * (`-t`, `-u`) reach it. The configured address is only a guess: a guest may use the address SLAAC gave
 * it, a privacy address, or one it set by hand (passt does the same: the last source address seen).
 *
 * IPv4: any source but 0.0.0.0 (a DHCP client before its lease). IPv6: global unicast sources only
 * (not ::, not link-local fe80::/10, not multicast). Pure: `see` says whether anything changed; the tap
 * actor announces the change to the protocol actors (`guest-addr`), at most once per short period.
 */
import { formatIpv4, formatIpv6, isIpv6LinkLocal, isIpv6Unspecified, parseIpv4, parseIpv6 } from '../../protocol/addr.js';
import { FrameKind } from '../../protocol/classify.js';

export class GuestAddresses {
  readonly #v4 = new Uint8Array(4);
  readonly #v6 = new Uint8Array(16);
  #has4 = false;
  #has6 = false;

  /** The source address at `off` of a frame of `kind`: true if it is a new address of the guest. */
  see(buf: Uint8Array, off: number, kind: FrameKind): boolean {
    if (kind === FrameKind.Ipv4) return this.#see4(buf, off);
    if (kind === FrameKind.Ipv6) return this.#see6(buf, off);
    return false;
  }

  /** The addresses known so far, as text (null: none seen). */
  get v4(): string | null {
    return this.#has4 ? formatIpv4(this.#v4) : null;
  }

  get v6(): string | null {
    return this.#has6 ? formatIpv6(this.#v6) : null;
  }

  /** A new guest (passt: the next client): nothing known. */
  forget(): void {
    this.#has4 = this.#has6 = false;
  }

  #see4(buf: Uint8Array, off: number): boolean {
    if (off + 4 > buf.length) return false;
    if ((buf[off]! | buf[off + 1]! | buf[off + 2]! | buf[off + 3]!) === 0) return false;
    if (this.#has4 && same(buf, off, this.#v4)) return false;
    this.#v4.set(buf.subarray(off, off + 4));
    this.#has4 = true;
    return true;
  }

  #see6(buf: Uint8Array, off: number): boolean {
    if (off + 16 > buf.length) return false;
    if (isIpv6Unspecified(buf, off) || isIpv6LinkLocal(buf, off) || buf[off] === 0xff) return false;
    if (this.#has6 && same(buf, off, this.#v6)) return false;
    this.#v6.set(buf.subarray(off, off + 16));
    this.#has6 = true;
    return true;
  }
}

/** A `guest-addr {v4, v6}` message as its receivers use it: the addresses as bytes, null where absent. */
export function guestAddrOf(msg: Record<string, unknown>): { v4: Uint8Array | null; v6: Uint8Array | null } {
  return {
    v4: typeof msg['v4'] === 'string' ? parseIpv4(msg['v4']) : null,
    v6: typeof msg['v6'] === 'string' ? parseIpv6(msg['v6']) : null,
  };
}

function same(buf: Uint8Array, off: number, known: Uint8Array): boolean {
  for (let i = 0; i < known.length; i++) if (buf[off + i] !== known[i]) return false;
  return true;
}
