/**
 * DHCPv6 server for one guest (RFC 8415, stateful, one address): every IA_NA gets the configured address
 * with infinite lifetimes and T1/T2 (the client never needs to renew).
 *
 * SOLICIT gets an ADVERTISE (a REPLY with Rapid Commit if the client asked for it); REQUEST, RENEW and
 * REBIND a REPLY with the address; CONFIRM a REPLY with status Success if every address it carries lies
 * in the guest's /64, NotOnLink otherwise (no reply if it carries none); INFORMATION-REQUEST a REPLY with
 * DNS and domain list only. A message naming another server, or lacking a client identifier where RFC
 * 8415 requires one, is dropped, as are RELEASE, DECLINE and anything else. A SOLICIT or REQUEST without
 * IA_NA gets status NoAddrsAvail. Replies come from our link-local address to the client's address and
 * port, at the client's MAC, with DNS servers (23) and domain list (24) when enabled.
 */
import { bytesEqual, isIpv6Unspecified, prefixEquals } from '../../../protocol/addr.js';
import { FrameKind, L4Kind } from '../../../protocol/classify.js';
import type { FrameClass } from '../../../protocol/classify.js';
import {
  DHCPV6_INFINITE, DHCPV6_SERVER_PORT, Dhcpv6MsgType, Dhcpv6Status, duidLl, emitDhcpv6, emptyDhcpv6Message,
  parseDhcpv6,
} from '../../../protocol/dhcpv6.js';
import type { Dhcpv6IaNa, Dhcpv6Message } from '../../../protocol/dhcpv6.js';
import { Headroom, buildUdp6 } from '../../../protocol/frame.js';
import { REPLY_HOP_LIMIT, drop, reply, requestSrcMac } from './config.js';
import type { ServiceResult, ServicesConfig } from './config.js';

/** Our server DUID: the configured one, else DUID-LL of our MAC. */
export function serverDuid(cfg: ServicesConfig): Uint8Array {
  return cfg.duid ?? duidLl(cfg.ourMac);
}

/** Answers the DHCPv6 message classified in `fc` (frame bytes in `b`) into out[outOff]. */
export function respondDhcpv6(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  if (fc.kind !== FrameKind.Ipv6 || fc.l4 !== L4Kind.Udp || fc.dstPort !== DHCPV6_SERVER_PORT) return drop('not dhcpv6');
  if (fc.fragment) return drop('dhcpv6: fragment');
  if (cfg.noDhcpv6) return drop('dhcpv6: disabled');
  if (cfg.ip6Addr === null) return drop('dhcpv6: no IPv6 address');
  if (isIpv6Unspecified(b, fc.srcAddrOff)) return drop('dhcpv6: unspecified source');
  const parsed = parseDhcpv6(b, fc.payloadOff, fc.payloadLen);
  if (!parsed.ok) return drop(`dhcpv6: ${parsed.reason}`);
  const msg = answer(cfg, cfg.ip6Addr, parsed.msg);
  if (typeof msg === 'string') return drop(msg);
  return writeReplyFrame(cfg, b, fc, msg, out, outOff);
}

/** The reply to `req`, or a drop reason. */
function answer(cfg: ServicesConfig, addr: Uint8Array, req: Dhcpv6Message): Dhcpv6Message | string {
  const duid = serverDuid(cfg);
  if (req.serverId !== null && !sameBytes(req.serverId, duid)) return 'dhcpv6: message for another server';
  if (req.clientId === null && req.msgType !== Dhcpv6MsgType.InformationRequest) return 'dhcpv6: no client id';
  switch (req.msgType) {
    case Dhcpv6MsgType.Solicit:
      return withAddress(cfg, addr, req, req.rapidCommit ? Dhcpv6MsgType.Reply : Dhcpv6MsgType.Advertise);
    case Dhcpv6MsgType.Request:
    case Dhcpv6MsgType.Renew:
    case Dhcpv6MsgType.Rebind:
      return withAddress(cfg, addr, req, Dhcpv6MsgType.Reply);
    case Dhcpv6MsgType.Confirm:
      return confirm(cfg, addr, req);
    case Dhcpv6MsgType.InformationRequest:
      return baseReply(cfg, req, Dhcpv6MsgType.Reply);
    default:
      return `dhcpv6: message type ${req.msgType} not handled`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqual(a, 0, b, 0, a.length);
}

/** Server id, client id (echoed), DNS and domain list. */
function baseReply(cfg: ServicesConfig, req: Dhcpv6Message, type: number): Dhcpv6Message {
  const m = emptyDhcpv6Message(type, req.xid);
  m.serverId = serverDuid(cfg);
  m.clientId = req.clientId;
  if (cfg.dhcpDns) m.dnsServers = [...cfg.ip6Dns];
  if (cfg.dhcpSearch) m.domainList = [...cfg.searchList];
  return m;
}

/** Our address in every IA_NA of the request; NoAddrsAvail if there is none. */
function withAddress(cfg: ServicesConfig, addr: Uint8Array, req: Dhcpv6Message, type: number): Dhcpv6Message {
  const m = baseReply(cfg, req, type);
  m.rapidCommit = req.msgType === Dhcpv6MsgType.Solicit && type === Dhcpv6MsgType.Reply;
  m.iaNa = req.iaNa.map((ia) => lease(ia.iaid, addr));
  if (m.iaNa.length === 0) m.status = { code: Dhcpv6Status.NoAddrsAvail, message: 'only IA_NA is served' };
  return m;
}

function lease(iaid: number, addr: Uint8Array): Dhcpv6IaNa {
  return {
    iaid, t1: DHCPV6_INFINITE, t2: DHCPV6_INFINITE, status: null,
    addrs: [{ addr: addr.slice(0, 16), preferred: DHCPV6_INFINITE, valid: DHCPV6_INFINITE }],
  };
}

/** RFC 8415 §18.3.3: Success if all addresses are on our link, NotOnLink otherwise; no answer without any. */
function confirm(cfg: ServicesConfig, addr: Uint8Array, req: Dhcpv6Message): Dhcpv6Message | string {
  const addrs = req.iaNa.flatMap((ia) => ia.addrs);
  if (addrs.length === 0) return 'dhcpv6: confirm without addresses';
  const onLink = addrs.every((a) => prefixEquals(a.addr, 0, addr, 0, 64));
  const m = baseReply(cfg, req, Dhcpv6MsgType.Reply);
  m.status = onLink
    ? { code: Dhcpv6Status.Success, message: 'all addresses on link' }
    : { code: Dhcpv6Status.NotOnLink, message: 'address not on link' };
  return m;
}

function writeReplyFrame(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, msg: Dhcpv6Message, out: Uint8Array, outOff: number,
): ServiceResult {
  const payloadOff = outOff + Headroom.Udp6;
  const n = payloadOff < out.length ? emitDhcpv6(msg, out, payloadOff, out.length - payloadOff) : -1;
  if (n < 0) return drop('dhcpv6: reply does not fit (or bad search list)');
  const eth = { dst: requestSrcMac(b, fc), src: cfg.ourMac };
  const dst = b.slice(fc.srcAddrOff, fc.srcAddrOff + 16);
  const ip = { src: cfg.ip6LinkLocal, dst, hopLimit: REPLY_HOP_LIMIT };
  return reply(buildUdp6(out, outOff, eth, ip, DHCPV6_SERVER_PORT, fc.srcPort, n));
}
