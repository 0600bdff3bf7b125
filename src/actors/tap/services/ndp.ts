/**
 * NDP responder: neighbour solicitations get our MAC for any target except the guest's own addresses;
 * router solicitations get a router advertisement.
 *
 * Requests must pass RFC 4861 §6.1/§7.1 validation (hop limit 255, valid ICMPv6 checksum, code 0, sane
 * options). A solicitation from the unspecified address is a duplicate address detection probe and stays
 * unanswered, so the guest keeps its address. The neighbour advertisement comes from the target address
 * itself with Router, Solicited and Override set and our MAC as target link-layer address. The router
 * advertisement comes from our link-local address (to the soliciting address, or to all nodes if that is
 * unspecified): M flag when DHCPv6 is on, the /64 of the guest's address with on-link and autonomous
 * flags, MTU, RDNSS and DNSSL when enabled, our MAC as source link-layer address. Lifetimes are infinite
 * except the router lifetime, whose maximum is 9000 s (RFC 4861 §6.2.1): the caller should repeat
 * unsolicited advertisements (`buildRouterAdvert` to all nodes) well within that.
 */
import { applyPrefix, bytesEqual, ipv6MulticastMac, isIpv6Unspecified } from '../../../protocol/addr.js';
import { verifyIpv6L4Checksum } from '../../../protocol/checksum.js';
import { FrameKind, L4Kind } from '../../../protocol/classify.js';
import type { FrameClass } from '../../../protocol/classify.js';
import { ETH_HEADER_LEN, EtherType } from '../../../protocol/eth.js';
import { setIpv6L4Checksum, writeEth, writeIpv6 } from '../../../protocol/frame.js';
import { IPV6_HEADER_LEN, IpProto } from '../../../protocol/ipv6.js';
import {
  NA_FLAG_OVERRIDE, NA_FLAG_ROUTER, NA_FLAG_SOLICITED, NDP_INFINITE, NdpType, PREFIX_FLAG_AUTONOMOUS,
  PREFIX_FLAG_ON_LINK, RA_FLAG_MANAGED, emitNdp, emptyNdpMessage, parseNdp,
} from '../../../protocol/ndp.js';
import type { NdpMessage } from '../../../protocol/ndp.js';
import { REPLY_HOP_LIMIT, drop, reply, requestSrcMac } from './config.js';
import type { ServiceResult, ServicesConfig } from './config.js';

/** ff02::1 */
export const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
/** Router lifetime in seconds: the largest RFC 4861 allows. */
export const RA_ROUTER_LIFETIME = 9000;
/** Current hop limit advertised to the guest (what passt advertises). */
export const RA_CUR_HOP_LIMIT = 255;
const NDP_HOP_LIMIT = 255;
const HEADROOM = ETH_HEADER_LEN + IPV6_HEADER_LEN;

/** Answers the NDP message classified in `fc` (frame bytes in `b`) into out[outOff]. */
export function respondNdp(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  if (fc.kind !== FrameKind.Ipv6 || fc.l4 !== L4Kind.Icmpv6) return drop('not ndp');
  if (cfg.noNdp) return drop('ndp: disabled');
  if (fc.fragment) return drop('ndp: fragment');
  if (fc.ttl !== NDP_HOP_LIMIT) return drop('ndp: hop limit not 255');
  if (!verifyIpv6L4Checksum(b, fc.l3Off, fc.l4Off, IpProto.Icmpv6)) return drop('ndp: bad checksum');
  const parsed = parseNdp(b, fc.l4Off, fc.l4Len);
  if (!parsed.ok) return drop(`ndp: ${parsed.reason}`);
  switch (parsed.msg.type) {
    case NdpType.NeighborSolicit: return answerSolicit(cfg, b, fc, parsed.msg, out, outOff);
    case NdpType.RouterSolicit: return answerRouterSolicit(cfg, b, fc, out, outOff);
    default: return drop(`ndp: type ${parsed.msg.type} not handled`);
  }
}

function answerSolicit(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, ns: NdpMessage, out: Uint8Array, outOff: number,
): ServiceResult {
  const target = ns.target!;
  if (isIpv6Unspecified(b, fc.srcAddrOff)) return drop('ndp: duplicate address detection');
  if (bytesEqual(target, 0, b, fc.srcAddrOff, 16)) return drop("ndp: guest's own address");
  if (cfg.ip6Addr !== null && bytesEqual(target, 0, cfg.ip6Addr, 0, 16)) return drop("ndp: guest's own address");
  const na = emptyNdpMessage(NdpType.NeighborAdvert);
  na.naFlags = NA_FLAG_ROUTER | NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
  na.target = target;
  na.targetLinkAddr = cfg.ourMac;
  const dst = b.slice(fc.srcAddrOff, fc.srcAddrOff + 16);
  return writeNdpFrame(na, requestSrcMac(b, fc), cfg.ourMac, target, dst, out, outOff);
}

function answerRouterSolicit(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  if (cfg.noRa) return drop('ndp: router advertisements disabled');
  if (cfg.ip6Addr === null) return drop('ndp: no IPv6 address');
  if (isIpv6Unspecified(b, fc.srcAddrOff)) return buildRouterAdvert(cfg, ALL_NODES, null, out, outOff);
  const dst = b.slice(fc.srcAddrOff, fc.srcAddrOff + 16);
  return buildRouterAdvert(cfg, dst, requestSrcMac(b, fc), out, outOff);
}

/**
 * Writes a router advertisement frame from our link-local address to `dst` (at `dstMac`; null: the
 * multicast MAC of `dst`, e.g. ff02::1 for an unsolicited advertisement) into out[outOff].
 */
export function buildRouterAdvert(
  cfg: ServicesConfig, dst: Uint8Array, dstMac: Uint8Array | null, out: Uint8Array, outOff: number,
): ServiceResult {
  if (cfg.ip6Addr === null) return drop('ndp: no IPv6 address');
  const mac = dstMac ?? ipv6MulticastMac(dst, 0, new Uint8Array(6));
  return writeNdpFrame(routerAdvert(cfg, cfg.ip6Addr), mac, cfg.ourMac, cfg.ip6LinkLocal, dst, out, outOff);
}

/** The advertisement's content, see the module comment. */
export function routerAdvert(cfg: ServicesConfig, addr: Uint8Array): NdpMessage {
  const ra = emptyNdpMessage(NdpType.RouterAdvert);
  ra.curHopLimit = RA_CUR_HOP_LIMIT;
  ra.raFlags = cfg.noDhcpv6 ? 0 : RA_FLAG_MANAGED;
  ra.routerLifetime = RA_ROUTER_LIFETIME;
  const prefix = new Uint8Array(16);
  applyPrefix(addr, 0, 16, 64, prefix, 0);
  ra.prefixes = [{
    prefix, prefixLen: 64, flags: PREFIX_FLAG_ON_LINK | PREFIX_FLAG_AUTONOMOUS,
    validLifetime: NDP_INFINITE, preferredLifetime: NDP_INFINITE,
  }];
  ra.mtu = cfg.mtu;
  if (cfg.dhcpDns && cfg.ip6Dns.length > 0) ra.rdnss = { lifetime: NDP_INFINITE, servers: [...cfg.ip6Dns] };
  if (cfg.dhcpSearch && cfg.searchList.length > 0) ra.dnssl = { lifetime: NDP_INFINITE, domains: [...cfg.searchList] };
  ra.sourceLinkAddr = cfg.ourMac;
  return ra;
}

/** Ethernet + IPv6 (hop limit 255) + the NDP message with its checksum. */
function writeNdpFrame(
  msg: NdpMessage, dstMac: Uint8Array, srcMac: Uint8Array, src: Uint8Array, dst: Uint8Array, out: Uint8Array,
  outOff: number,
): ServiceResult {
  const l4Off = outOff + HEADROOM;
  const n = l4Off < out.length ? emitNdp(msg, out, l4Off, out.length - l4Off) : -1;
  if (n < 0) return drop('ndp: reply does not fit (or bad search list)');
  const ipOff = writeEth(out, outOff, dstMac, srcMac, EtherType.Ipv6);
  writeIpv6(out, ipOff, { src, dst, hopLimit: REPLY_HOP_LIMIT }, IpProto.Icmpv6, n);
  setIpv6L4Checksum(out, ipOff, l4Off, IpProto.Icmpv6);
  return reply(HEADROOM + n);
}
