/**
 * ARP responder: every address the guest asks for is behind us, so every request gets our MAC, except
 * gratuitous announcements (sender address = target address) and requests for the guest's own address,
 * which must stay unanswered for the guest's duplicate address detection (RFC 5227) to succeed.
 */
import { ARP_LEN, ArpOff, ArpOp } from '../../../protocol/arp.js';
import { FrameKind } from '../../../protocol/classify.js';
import type { FrameClass } from '../../../protocol/classify.js';
import { ETH_HEADER_LEN } from '../../../protocol/eth.js';
import { buildArp } from '../../../protocol/frame.js';
import { drop, reply, requestSrcMac } from './config.js';
import type { ServiceResult, ServicesConfig } from './config.js';

/** Length of our ARP reply frame (not padded: the tap needs no minimum). */
export const ARP_REPLY_LEN = ETH_HEADER_LEN + ARP_LEN;

/** Answers the ARP packet classified in `fc` (frame bytes in `b`) into out[outOff]. */
export function respondArp(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  if (fc.kind !== FrameKind.Arp) return drop('not arp');
  if (fc.arpOp !== ArpOp.Request) return drop('arp: not a request');
  if (fc.src4 === fc.dst4) return drop('arp: gratuitous');
  if (cfg.ip4Addr !== null && fc.dst4 === cfg.ip4Addr) return drop("arp: guest's own address");
  if (out.length - outOff < ARP_REPLY_LEN) return drop('arp: no room for reply');
  const shaOff = fc.l3Off + ArpOff.SenderMac;
  const requesterMac = b.slice(shaOff, shaOff + 6);
  const eth = { dst: requestSrcMac(b, fc), src: cfg.ourMac };
  return reply(buildArp(out, outOff, eth, ArpOp.Reply, cfg.ourMac, fc.dst4, requesterMac, fc.src4));
}
