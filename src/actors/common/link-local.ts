/**
 * Our IPv6 link-local address towards the guest: the source of router advertisements and DHCPv6
 * replies, hence the guest's default router when it configures itself from our RAs, and an address the
 * guest may ping. Shared by the tap actor (guest services) and the icmp actor (which maps it to the
 * host's loopback), so both agree.
 *
 * As passt: the host interface's own link-local address when it has one, else the EUI-64 (RFC 4291
 * appendix A) link-local address of our MAC.
 */
import { parseIpv6 } from '../../protocol/addr.js';
import { parseMac } from '../../protocol/eth.js';
import type { ActorConfig } from '../../runtime/actor-config.js';

/** fe80::/64 with the modified EUI-64 interface identifier of `mac`. */
export function eui64LinkLocal(mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a.set([mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!], 8);
  return a;
}

/** Our link-local address for this configuration (see the module comment). */
export function ourLinkLocal(config: ActorConfig): Uint8Array {
  const host = config.host.ipv6?.linkLocal;
  const fromHost = host ? parseIpv6(host) : null;
  if (fromHost) return fromHost;
  return eui64LinkLocal(parseMac(config.net.ourMac) ?? new Uint8Array(6));
}
