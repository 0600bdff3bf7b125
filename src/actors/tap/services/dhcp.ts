/**
 * DHCP server for one guest: it always offers the configured address, with an infinite lease.
 *
 * DISCOVER gets an OFFER (an ACK with Rapid Commit, RFC 4039, if the client asked for it), REQUEST an ACK,
 * or a NAK if it asks for another address (INIT-REBOOT with a stale lease); a REQUEST naming another
 * server is not for us. Anything else (DECLINE, RELEASE, INFORM, plain BOOTP) is dropped. Options: mask,
 * router, DNS and domain search (if enabled), MTU (if configured), lease time, server identifier, and,
 * when the gateway lies outside the guest's subnet, classless static routes (RFC 3442) making the gateway
 * reachable on-link (gateway/32 with no next hop, then the default route through it); option 3 is still
 * sent for clients without RFC 3442 support. Addressing follows RFC 2131 §4.1: NAKs and replies to
 * clients that set the broadcast flag go to 255.255.255.255, renewals to ciaddr, the rest to yiaddr
 * (at the client's MAC); UDP and IP checksums are filled.
 */
import { ipv4InSubnet, ipv4PrefixToMask } from '../../../protocol/addr.js';
import { FrameKind, L4Kind } from '../../../protocol/classify.js';
import type { FrameClass } from '../../../protocol/classify.js';
import {
  BootpOp, DHCP_CLIENT_PORT, DHCP_FLAG_BROADCAST, DHCP_INFINITE_LEASE, DHCP_SERVER_PORT, DhcpMsgType,
  emitDhcp, emptyDhcpMessage, parseDhcp,
} from '../../../protocol/dhcp.js';
import type { ClasslessRoute, DhcpMessage } from '../../../protocol/dhcp.js';
import { MAC_BROADCAST } from '../../../protocol/eth.js';
import { Headroom, buildUdp4 } from '../../../protocol/frame.js';
import { REPLY_HOP_LIMIT, drop, reply, requestSrcMac } from './config.js';
import type { ServiceResult, ServicesConfig } from './config.js';

const LIMITED_BROADCAST = 0xffffffff;

/** Answers the DHCP request classified in `fc` (frame bytes in `b`) into out[outOff]. */
export function respondDhcp(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, out: Uint8Array, outOff: number,
): ServiceResult {
  if (fc.kind !== FrameKind.Ipv4 || fc.l4 !== L4Kind.Udp || fc.dstPort !== DHCP_SERVER_PORT) return drop('not dhcp');
  if (fc.fragment) return drop('dhcp: fragment');
  if (cfg.noDhcp) return drop('dhcp: disabled');
  if (cfg.ip4Addr === null) return drop('dhcp: no IPv4 address');
  const parsed = parseDhcp(b, fc.payloadOff, fc.payloadLen);
  if (!parsed.ok) return drop(`dhcp: ${parsed.reason}`);
  const req = parsed.msg;
  if (req.op !== BootpOp.Request) return drop('dhcp: not a request');
  const type = replyType(cfg, cfg.ip4Addr, req);
  if (typeof type === 'string') return drop(type);
  const msg = buildReply(cfg, cfg.ip4Addr, req, type);
  return writeReplyFrame(cfg, b, fc, req, msg, out, outOff);
}

/** The message type we answer `req` with, or a drop reason. */
function replyType(cfg: ServicesConfig, addr: number, req: DhcpMessage): number | string {
  switch (req.msgType) {
    case DhcpMsgType.Discover:
      return req.rapidCommit ? DhcpMsgType.Ack : DhcpMsgType.Offer;
    case DhcpMsgType.Request: {
      if (req.serverId !== null && req.serverId !== cfg.ip4Gateway) return 'dhcp: request for another server';
      const wanted = req.requestedAddr ?? (req.ciaddr !== 0 ? req.ciaddr : addr);
      return wanted === addr ? DhcpMsgType.Ack : DhcpMsgType.Nak;
    }
    case 0:
      return 'dhcp: no message type';
    default:
      return `dhcp: message type ${req.msgType} not handled`;
  }
}

/** The reply message (RFC 2131 table 3); a NAK carries only the type and our server identifier. */
function buildReply(cfg: ServicesConfig, addr: number, req: DhcpMessage, type: number): DhcpMessage {
  const m = emptyDhcpMessage();
  m.op = BootpOp.Reply;
  m.htype = req.htype;
  m.hlen = req.hlen;
  m.xid = req.xid;
  m.flags = req.flags;
  m.giaddr = req.giaddr;
  m.chaddr.set(req.chaddr);
  m.msgType = type;
  m.serverId = cfg.ip4Gateway;
  if (type === DhcpMsgType.Nak) return m;
  if (type === DhcpMsgType.Ack) m.ciaddr = req.ciaddr;
  m.yiaddr = addr;
  m.rapidCommit = req.msgType === DhcpMsgType.Discover && type === DhcpMsgType.Ack;
  addLeaseOptions(cfg, addr, m);
  return m;
}

function addLeaseOptions(cfg: ServicesConfig, addr: number, m: DhcpMessage): void {
  m.leaseTime = DHCP_INFINITE_LEASE;
  m.subnetMask = ipv4PrefixToMask(cfg.ip4PrefixLen);
  if (cfg.ip4Gateway !== 0) m.routers = [cfg.ip4Gateway];
  m.classlessRoutes = classlessRoutes(cfg, addr);
  if (cfg.dhcpDns) m.dnsServers = [...cfg.ip4Dns];
  if (cfg.dhcpSearch) m.domainSearch = [...cfg.searchList];
  m.mtu = cfg.mtu;
}

/** Routes making an off-subnet gateway usable: the gateway itself on-link, then the default via it. */
export function classlessRoutes(cfg: ServicesConfig, addr: number): ClasslessRoute[] {
  const gw = cfg.ip4Gateway;
  if (gw === 0 || ipv4InSubnet(gw, addr, cfg.ip4PrefixLen)) return [];
  return [{ dest: gw, prefix: 32, gateway: 0 }, { dest: 0, prefix: 0, gateway: gw }];
}

/** Where the reply goes (RFC 2131 §4.1, without relays): IP destination and whether it is a broadcast. */
function replyDestination(req: DhcpMessage, msg: DhcpMessage): { ip: number; broadcast: boolean } {
  if (msg.msgType === DhcpMsgType.Nak) return { ip: LIMITED_BROADCAST, broadcast: true };
  if (req.ciaddr !== 0) return { ip: req.ciaddr, broadcast: false };
  if ((req.flags & DHCP_FLAG_BROADCAST) !== 0) return { ip: LIMITED_BROADCAST, broadcast: true };
  return { ip: msg.yiaddr, broadcast: false };
}

function writeReplyFrame(
  cfg: ServicesConfig, b: Uint8Array, fc: FrameClass, req: DhcpMessage, msg: DhcpMessage, out: Uint8Array,
  outOff: number,
): ServiceResult {
  const payloadOff = outOff + Headroom.Udp4;
  const n = payloadOff < out.length ? emitDhcp(msg, out, payloadOff, out.length - payloadOff, req.paramList) : -1;
  if (n < 0) return drop('dhcp: reply does not fit (or bad search list)');
  const dst = replyDestination(req, msg);
  const eth = { dst: dst.broadcast ? MAC_BROADCAST : requestSrcMac(b, fc), src: cfg.ourMac };
  const ip = { src: cfg.ip4Gateway, dst: dst.ip, ttl: REPLY_HOP_LIMIT };
  return reply(buildUdp4(out, outOff, eth, ip, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, n));
}
