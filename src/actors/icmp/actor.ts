/**
 * The icmp actor: the guest's echo requests (ping, ping -6) through the host's unprivileged ping
 * sockets (socket(AF_INET[6], SOCK_DGRAM, IPPROTO_ICMP[V6])), and their replies back to the guest.
 *
 * Theory of operation
 * - The tap actor sends every ICMP/ICMPv6 echo request here in `frames` batches; other ICMP never comes
 *   (it is dropped and counted there). Each frame is classified again (cheap, no allocation) and
 *   checked (`echoRequestDrop`); bad ones are dropped and counted, never thrown.
 * - One flow per (IP version, peer, guest's echo identifier), see state.ts. A new flow opens a ping
 *   socket, connects it to the peer as the host sees it (`hostPeerOf`: the gateway, and our link-local
 *   address, are the host's loopback unless --no-map-gw) and registers it in the router's epoll set,
 *   edge-triggered, with the reference (Icmp, generation, slot). A request goes out with one send():
 *   the kernel sets the identifier of the socket and the checksum.
 * - On readiness the actor reads replies until EAGAIN, straight into the frame buffer after the room
 *   for the headers, gives each its guest's identifier back, and writes it to the guest through its
 *   TapWriter (one write per frame), from the address the guest pinged. ICMP errors reported on a
 *   socket (host unreachable...) are counted, not forwarded.
 * - A flow idle for ECHO_IDLE_MS is closed: epollDel first, then close(). All flows close on stop.
 * - If the host forbids ping sockets (net.ipv4.ping_group_range), the first refusal is logged once as
 *   an error naming the sysctl, and every request is counted as `drop:ping-socket-denied`.
 * - --no-icmp: every request is counted as `drop:icmp-disabled`.
 * Owns: its ping sockets (the router holds duplicates in its ledger), its TapWriter, the idle timer.
 * The hot path (request out, reply back) allocates nothing per packet.
 */
import { native, ErrnoError } from '../../native/index.js';
import type { Actor, ActorEnv, FlowInfo, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { Proto } from '../../runtime/epoll-ref.js';
import { FrameClass, FrameClassifier, FrameKind, Verdict } from '../../protocol/classify.js';
import { parseIpv4U32, parseIpv6 } from '../../protocol/addr.js';
import { copyMac, parseMac } from '../../protocol/eth.js';
import { TapWriter } from '../common/tap-writer.js';
import { ourLinkLocal } from '../common/link-local.js';
import {
  ECHO_IDLE_MS, EchoFlow, EchoFlowTable, ReplyScratch, completeEchoReply, echoFlowInfo, echoMessageOffset, echoRequestDrop,
  hostPeerOf, type EchoConfig,
} from './state.js';

const EPOLLIN = 0x001;
const EPOLLET = 0x80000000;
const FRAME_ROOM = 65536 + 128;
const SWEEP_MS = 10_000;
/** Replies read per readiness report before yielding (the socket is re-polled: edge-triggered, so we go on later). */
const READ_BUDGET = 64;

class IcmpActor implements Actor {
  readonly #env: ActorEnv;
  readonly #writer: TapWriter;
  readonly #classifier = new FrameClassifier();
  readonly #cls = new FrameClass();
  readonly #flows = new EchoFlowTable();
  readonly #buf = new Uint8Array(FRAME_ROOM);
  readonly #scratch = new ReplyScratch();
  readonly #cfg: EchoConfig;
  readonly #ourMac: Uint8Array;
  readonly #guestMac = new Uint8Array(6).fill(0xff);
  readonly #disabled: boolean;
  readonly #sweep: NodeJS.Timeout;
  #deniedLogged = false;

  constructor(env: ActorEnv) {
    this.#env = env;
    this.#writer = new TapWriter(env.counters);
    this.#cfg = echoConfigFrom(env);
    this.#ourMac = parseMac(env.config.net.ourMac) ?? new Uint8Array(6);
    this.#disabled = env.config.cli.disabled.icmp;
    this.#sweep = setInterval(() => this.#closeIdle(Date.now()), SWEEP_MS);
  }

  onMessage(_from: Sender, msg: Msg, fds: number[]): void {
    if (msg.t === 'adopt-tap-writer' && fds[0] !== undefined) return this.#writer.adopt(fds[0]);
    for (const fd of fds) native.close(fd, true);
    if (msg.t === 'frames') return this.#onFrames(msg.buf as Uint8Array, msg.lens as number[]);
    if (msg.t === 'guest-mac') this.#setGuestMac(String(msg.mac));
  }

  onReady(proto: number, aux: number, handle: number): void {
    if (proto !== Proto.Icmp) return;
    const flow = this.#flows.at(handle, aux);
    if (flow) this.#readReplies(flow);
  }

  flows(max: number): FlowInfo[] {
    const now = Date.now();
    return this.#flows.all().slice(0, max).map((f) => echoFlowInfo(f, now));
  }

  stop(): void {
    clearInterval(this.#sweep);
    for (const f of this.#flows.all()) this.#closeFlow(f);
    this.#writer.close();
  }

  #setGuestMac(text: string): void {
    const mac = parseMac(text);
    if (mac) this.#guestMac.set(mac);
  }

  // --- guest → host ---------------------------------------------------------------------------

  #onFrames(buf: Uint8Array, lens: number[]): void {
    const c = this.#env.counters;
    c.add('frames-in', lens.length);
    if (this.#disabled) return c.add('drop:icmp-disabled', lens.length);
    let off = 0;
    for (const len of lens) {
      this.#onRequest(buf, off, len);
      off += len;
    }
  }

  #onRequest(b: Uint8Array, off: number, len: number): void {
    const fc = this.#cls;
    if (this.#classifier.classify(b, off, len, fc) !== Verdict.Ok) return this.#env.counters.add('drop:malformed');
    const bad = echoRequestDrop(fc);
    if (bad !== null) return this.#env.counters.add(`drop:${bad}`);
    const family = fc.kind === FrameKind.Ipv4 ? 4 : 6;
    const flow = this.#flows.find(family, b, fc.dstAddrOff, fc.echoId) ?? this.#openFlow(family, b, fc.dstAddrOff, fc.echoId);
    if (flow === null) return;
    flow.lastUse = Date.now();
    for (let i = 0; i < fc.addrLen; i++) flow.guest[i] = b[fc.srcAddrOff + i]!;
    copyMac(b, off + 6, this.#guestMac, 0);
    this.#sendRequest(flow, b, fc.l4Off, fc.l4Len);
  }

  #sendRequest(flow: EchoFlow, b: Uint8Array, at: number, len: number): void {
    const c = this.#env.counters;
    try {
      if (native.send(flow.fd, b, at, len, 0) === len) c.add(flow.family === 4 ? 'echo-out' : 'echo6-out');
      else c.add('drop:send-busy');
    } catch (e) {
      c.add(`drop:send-${e instanceof ErrnoError ? e.code : 'error'}`);
    }
  }

  /** A new flow with its ping socket connected and registered; null (counted) if that is not possible. */
  #openFlow(family: 4 | 6, b: Uint8Array, peerOff: number, id: number): EchoFlow | null {
    const c = this.#env.counters;
    const target = hostPeerOf(family, b, peerOff, this.#cfg);
    if (target === null) return (c.add('drop:unreachable-peer'), null);
    const fd = this.#pingSocket(family, target);
    if (fd < 0) return null;
    const flow = this.#flows.add(family, b, peerOff, id, Date.now());
    if (flow === null) {
      native.close(fd, true);
      return (c.add('drop:too-many-flows'), null);
    }
    flow.fd = fd;
    this.#env.epollAdd(fd, Proto.Icmp, flow.gen, flow.slot, EPOLLIN | EPOLLET);
    c.add('flows-opened');
    return flow;
  }

  /** A ping socket connected to `target`, or -1 (counted; a refusal by ping_group_range is logged once). */
  #pingSocket(family: 4 | 6, target: string): number {
    let fd = -1;
    try {
      fd = native.pingSocket(family);
      native.connectInet(fd, target, 0);
      return fd;
    } catch (e) {
      if (fd >= 0) native.close(fd, true);
      this.#socketFailed(e);
      return -1;
    }
  }

  #socketFailed(e: unknown): void {
    const code = e instanceof ErrnoError ? e.code : 'error';
    if (code !== 'EACCES' && code !== 'EPERM') return this.#env.counters.add(`drop:ping-socket-${code}`);
    this.#env.counters.add('drop:ping-socket-denied');
    if (this.#deniedLogged) return;
    this.#deniedLogged = true;
    const gid = process.getgid?.() ?? 0;
    this.#env.log.error(
      `the host does not allow ping sockets to group ${gid}: ICMP echo is dropped ` +
        `(allow it with: sysctl -w net.ipv4.ping_group_range="${gid} ${gid}")`,
    );
  }

  // --- host → guest ---------------------------------------------------------------------------

  #readReplies(flow: EchoFlow): void {
    const at = echoMessageOffset(flow.family);
    for (let i = 0; i < READ_BUDGET; i++) {
      const n = this.#recv(flow, at);
      if (n < 0) return;
      this.#forwardReply(flow, n);
    }
    setImmediate(() => this.#flows.at(flow.slot, flow.gen) && this.#readReplies(flow));
  }

  /** One reply into the frame buffer; -1 when drained (EAGAIN or a reported error). */
  #recv(flow: EchoFlow, at: number): number {
    try {
      return native.recv(flow.fd, this.#buf, at, this.#buf.length - at, 0);
    } catch (e) {
      this.#env.counters.add(`icmp-error:${e instanceof ErrnoError ? e.code : 'error'}`);
      return 0; // a pending socket error (e.g. EHOSTUNREACH) is reported once: read on
    }
  }

  #forwardReply(flow: EchoFlow, n: number): void {
    const c = this.#env.counters;
    if (n === 0) return;
    const r = completeEchoReply(this.#buf, flow, n, this.#guestMac, this.#ourMac, this.#scratch, native.csumPartial);
    if (typeof r === 'string') return c.add(`drop:${r}`);
    if (this.#writer.write(this.#buf, 0, r)) c.add(flow.family === 4 ? 'echo-in' : 'echo6-in');
  }

  // --- idle flows -----------------------------------------------------------------------------

  #closeIdle(now: number): void {
    for (const f of this.#flows.idle(now, ECHO_IDLE_MS)) {
      this.#closeFlow(f);
      this.#env.counters.add('flows-expired');
    }
  }

  #closeFlow(f: EchoFlow): void {
    this.#env.epollDel(Proto.Icmp, f.gen, f.slot);
    native.close(f.fd, true);
    this.#flows.close(f);
  }
}

/** The guest's gateways and our link-local address, as the guest sees them. */
function echoConfigFrom(env: ActorEnv): EchoConfig {
  const net = env.config.net;
  return {
    gw4: (net.gw4 !== undefined ? parseIpv4U32(net.gw4) : null) ?? 0,
    gw6: net.gw6 !== undefined ? parseIpv6(net.gw6) : null,
    linkLocal6: ourLinkLocal(env.config),
    noMapGw: env.config.cli.disabled.mapGw,
  };
}

export function createActor(env: ActorEnv): Actor {
  return new IcmpActor(env);
}
