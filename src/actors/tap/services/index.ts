/**
 * The guest services behind one call: `respondToGuest` picks the responder for a classified frame (ARP,
 * DHCP to port 67, DHCPv6 to port 547, NDP messages) and returns its reply or drop reason. Pure.
 */
import { FrameKind, L4Kind } from '../../../protocol/classify.js';
import type { FrameClass } from '../../../protocol/classify.js';
import { DHCP_SERVER_PORT } from '../../../protocol/dhcp.js';
import { DHCPV6_SERVER_PORT } from '../../../protocol/dhcpv6.js';
import { respondArp } from './arp.js';
import { drop } from './config.js';
import type { ServiceResult, ServicesConfig } from './config.js';
import { respondDhcp } from './dhcp.js';
import { respondDhcpv6 } from './dhcpv6.js';
import { respondNdp } from './ndp.js';

export type { ServiceResult, ServicesConfig } from './config.js';
export { ARP_REPLY_LEN, respondArp } from './arp.js';
export { classlessRoutes, respondDhcp } from './dhcp.js';
export { respondDhcpv6, serverDuid } from './dhcpv6.js';
export { ALL_NODES, buildRouterAdvert, respondNdp, routerAdvert } from './ndp.js';

/** Answers the frame b[...] classified (Verdict.Ok) in `fc`, writing any reply at out[outOff]. */
export function respondToGuest(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  switch (fc.kind) {
    case FrameKind.Arp:
      return respondArp(cfg, b, fc, out, outOff);
    case FrameKind.Ipv4:
      if (fc.l4 === L4Kind.Udp && fc.dstPort === DHCP_SERVER_PORT) return respondDhcp(cfg, b, fc, out, outOff);
      return drop('not a guest service');
    case FrameKind.Ipv6:
      if (fc.l4 === L4Kind.Udp && fc.dstPort === DHCPV6_SERVER_PORT) return respondDhcpv6(cfg, b, fc, out, outOff);
      if (fc.l4 === L4Kind.Icmpv6 && fc.icmpType >= 133 && fc.icmpType <= 137) return respondNdp(cfg, b, fc, out, outOff);
      return drop('not a guest service');
    default:
      return drop('not a guest service');
  }
}
