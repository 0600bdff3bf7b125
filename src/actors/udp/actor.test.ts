/**
 * The UDP actor fed by hand: frames in as the tap actor sends them, readiness from a small epoll loop
 * standing in for the router, frames out read from the other end of its tap writer (a socketpair), real
 * host sockets on loopback as the peers.
 */
import test, { type ExecutionContext } from 'ava';
import dgram from 'node:dgram';
import { constants as C, native } from '../../native/index.js';
import { Counters, type Actor, type ActorEnv } from '../../runtime/actor.js';
import type { ActorConfig } from '../../runtime/actor-config.js';
import type { Msg } from '../../runtime/channel.js';
import { createLogger } from '../../runtime/log.js';
import { Proto, decodeRef, refHi, refLo } from '../../runtime/epoll-ref.js';
import { defaultConfig, type Config } from '../../config/config.js';
import { portForwardFromSpecs } from '../../config/portspec.js';
import { parseIpv4, parseIpv6, formatIp } from '../../protocol/addr.js';
import { FrameClass, FrameClassifier, L4Kind, Verdict } from '../../protocol/classify.js';
import { buildUdp4, buildUdp6, Headroom } from '../../protocol/frame.js';
import { createActor, TIMEOUTS_ENV } from './actor.js';

const GUEST_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x15]);
const OUR_MAC = new Uint8Array([0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55]);
const NET = { mtu: 65520, ourMac: '9a:55:9a:55:9a:55', addr4: '10.0.2.15', prefix4: 24, gw4: '10.0.2.2', addr6: 'fd00::15', gw6: 'fd00::2' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Harness {
  actor: Actor;
  counters: Counters;
  /** ns requests the actor sent, and registrations */
  toRouter: Msg[];
  added: { fd: number; proto: number; aux: number; handle: number }[];
  deleted: { proto: number; aux: number; handle: number }[];
  /** the guest's end of the tap */
  tap: number;
  /** runs readiness until `until` holds or the time is up */
  pump(until: () => boolean, ms?: number): Promise<void>;
  /** frames the actor wrote so far */
  frames: Uint8Array[];
}

function harness(t: ExecutionContext, cli: Config = defaultConfig('pasta')): Harness {
  const epfd = native.epollCreate();
  const [mine, theirs] = native.socketpair('seqpacket');
  const counters = new Counters();
  const h: Harness = {
    actor: null as unknown as Actor, counters, toRouter: [], added: [], deleted: [], tap: mine, frames: [],
    pump: async (until, ms = 3000) => {
      const out = new Uint32Array(3 * 64);
      for (const end = Date.now() + ms; Date.now() < end && !until();) {
        const n = native.epollWait(epfd, out, 64, 0);
        for (let i = 0; i < n; i++) {
          const d = decodeRef(out[3 * i]!, out[3 * i + 1]!);
          h.actor.onReady(d.proto, d.aux, d.handle, out[3 * i + 2]!);
        }
        readFrames(h);
        await sleep(5);
      }
    },
  };
  const env: ActorEnv = {
    name: 'udp',
    config: { mode: 'pasta', log: { level: 'warn', stderr: true, prog: 'test' }, trace: false, net: NET, cli, host: { ipv4: null, ipv6: null } } as ActorConfig,
    log: createLogger({ level: 'warn', stderr: true, prog: 'test' }),
    counters,
    toRouter: (msg) => void h.toRouter.push(msg),
    toPeer: () => true,
    epollAdd: (fd, proto, aux, handle, events) => {
      h.added.push({ fd, proto, aux, handle });
      native.epollCtl(epfd, C.EPOLL_CTL_ADD, fd, events >>> 0, refHi(proto, aux), refLo(handle));
    },
    epollMod: () => {},
    epollDel: (proto, aux, handle) => {
      h.deleted.push({ proto, aux, handle });
      const e = h.added.find((a) => a.proto === proto && a.aux === aux && a.handle === handle);
      if (e) native.epollCtl(epfd, C.EPOLL_CTL_DEL, e.fd, 0, 0, 0);
    },
    holdFd: () => {},
    releaseFd: () => {},
  };
  h.actor = createActor(env);
  h.actor.onMessage('router', { t: 'adopt-tap-writer' }, [theirs]);
  t.teardown(() => {
    h.actor.stop();
    native.close(mine, true);
    native.close(epfd, true);
  });
  return h;
}

function readFrames(h: Harness): void {
  const buf = new Uint8Array(70000);
  for (;;) {
    const n = native.recv(h.tap, buf, 0, buf.length, C.MSG_DONTWAIT);
    if (n <= 0) return;
    h.frames.push(buf.slice(0, n));
  }
}

/** A guest frame: UDP from guest (src, sport) to (dst, dport) with `payload`. */
function guestFrame(family: 4 | 6, src: string, sport: number, dst: string, dport: number, payload: Uint8Array): Uint8Array {
  const head = family === 4 ? Headroom.Udp4 : Headroom.Udp6;
  const buf = new Uint8Array(head + payload.length);
  buf.set(payload, head);
  const eth = { dst: OUR_MAC, src: GUEST_MAC };
  const n = family === 4
    ? buildUdp4(buf, 0, eth, { src: ipv4(src), dst: ipv4(dst) }, sport, dport, payload.length)
    : buildUdp6(buf, 0, eth, { src: parseIpv6(src)!, dst: parseIpv6(dst)! }, sport, dport, payload.length);
  return buf.subarray(0, n);
}

const ipv4 = (s: string): number => new DataView(parseIpv4(s)!.buffer).getUint32(0);

function sendFrames(h: Harness, frames: Uint8Array[]): void {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const f of frames) {
    buf.set(f, off);
    off += f.length;
  }
  h.actor.onMessage('tap', { t: 'frames', buf, lens: frames.map((f) => f.length) }, []);
}

interface Seen { verdict: number; l4: number; src: string; dst: string; sport: number; dport: number; payload: Uint8Array; icmpType: number; icmpCode: number; dstMac: Uint8Array }

function parse(frame: Uint8Array): Seen {
  const fc = new FrameClass();
  const verdict = new FrameClassifier().classify(frame, 0, frame.length, fc);
  const addr = (off: number) => formatIp(frame.slice(off, off + fc.addrLen));
  return {
    verdict, l4: fc.l4, src: addr(fc.srcAddrOff), dst: addr(fc.dstAddrOff), sport: fc.srcPort, dport: fc.dstPort,
    payload: frame.slice(fc.payloadOff, fc.payloadOff + fc.payloadLen), icmpType: fc.icmpType, icmpCode: fc.icmpCode,
    dstMac: frame.slice(0, 6),
  };
}

async function echoServer(t: ExecutionContext, family: 4 | 6, addr: string): Promise<{ port: number; peers: string[] }> {
  const s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
  const peers: string[] = [];
  s.on('message', (m, r) => {
    peers.push(`${r.address}:${r.port}`);
    s.send(m, r.port, r.address);
  });
  await new Promise<void>((resolve) => s.bind(0, addr, resolve));
  t.teardown(() => s.close());
  return { port: s.address().port, peers };
}

function freePort(family: 4 | 6): number {
  const fd = native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM, 0);
  native.bindInet(fd, family === 4 ? '127.0.0.1' : '::1', 0);
  const port = native.sockName(fd).port;
  native.close(fd);
  return port;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

for (const [family, gw, guest, loop] of [[4, '10.0.2.2', '10.0.2.15', '127.0.0.1'], [6, 'fd00::2', 'fd00::15', '::1']] as const) {
  test.serial(`IPv${family}: a datagram to the gateway reaches the host loopback from the guest's port; the reply comes from the gateway`, async (t) => {
    const h = harness(t);
    const echo = await echoServer(t, family, loop);
    const sport = freePort(family);
    sendFrames(h, [guestFrame(family, guest, sport, gw, echo.port, enc('ping')), guestFrame(family, guest, sport, gw, echo.port, enc('pong!'))]);
    await h.pump(() => h.frames.length >= 2);
    t.deepEqual(echo.peers, [`${loop}:${sport}`, `${loop}:${sport}`], 'same source port on the host');
    t.is(h.frames.length, 2);
    const seen = h.frames.map(parse);
    t.deepEqual(seen.map((s) => [s.verdict, s.l4, s.src, s.sport, s.dst, s.dport]), [
      [Verdict.Ok, L4Kind.Udp, gw, echo.port, guest, sport], [Verdict.Ok, L4Kind.Udp, gw, echo.port, guest, sport],
    ]);
    t.deepEqual(seen.map((s) => new TextDecoder().decode(s.payload)), ['ping', 'pong!']);
    t.deepEqual(seen[0]!.dstMac, GUEST_MAC, 'the guest MAC learnt from its frames');
    t.like(h.counters.snapshot(), { 'flows-opened': 1, 'flows-gateway': 1, 'dgrams-out': 2, 'dgrams-in': 2 });
  });

  test.serial(`IPv${family}: port unreachable on the host becomes an ICMP error to the guest`, async (t) => {
    const h = harness(t);
    const port = freePort(family);
    sendFrames(h, [guestFrame(family, guest, 40000 + family, gw, port, enc('anyone?'))]);
    await h.pump(() => h.frames.length >= 1);
    const s = parse(h.frames[0]!);
    t.is(s.l4, family === 4 ? L4Kind.Icmp : L4Kind.Icmpv6);
    t.deepEqual([s.icmpType, s.icmpCode, s.src, s.dst], family === 4 ? [3, 3, gw, guest] : [1, 4, gw, guest]);
    t.is(h.counters.get('icmp-errors-out'), 1);
  });
}

test.serial('flows expire: the socket leaves epoll and is closed', async (t) => {
  process.env[TIMEOUTS_ENV] = '200,400';
  t.teardown(() => delete process.env[TIMEOUTS_ENV]);
  const h = harness(t);
  const echo = await echoServer(t, 4, '127.0.0.1');
  sendFrames(h, [guestFrame(4, '10.0.2.15', 41000, '10.0.2.2', echo.port, enc('x'))]);
  await h.pump(() => h.frames.length >= 1);
  const fd = h.added[0]!.fd;
  t.true(native.sockName(fd).port > 0);
  await h.pump(() => h.deleted.length > 0, 2000);
  t.deepEqual(h.deleted, [{ proto: Proto.Udp, aux: h.added[0]!.aux, handle: h.added[0]!.handle }]);
  t.is(h.counters.get('flows-expired'), 1);
  // a new datagram on the same tuple opens a new flow, with a new generation
  sendFrames(h, [guestFrame(4, '10.0.2.15', 41000, '10.0.2.2', echo.port, enc('y'))]);
  await h.pump(() => h.frames.length >= 2);
  t.is(h.added.length, 2);
  t.not(h.added[1]!.aux, h.added[0]!.aux);
});

test.serial('-u: a host datagram reaches the guest from the gateway; the reply goes back from the forwarded port', async (t) => {
  const cli = defaultConfig('pasta');
  const port = freePort(4);
  cli.forward.udpIn = portForwardFromSpecs([`${port}:5353`], { option: '-u', mode: 'pasta', allowBind: true }, 'auto');
  cli.forward.udpInFollowsTcp = false;
  const h = harness(t, cli);
  t.is(h.added.filter((a) => a.proto === Proto.UdpListen).length, 2, 'IPv4 and IPv6 listeners');
  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  const replies: string[] = [];
  client.on('message', (m, r) => replies.push(`${m.toString()} from ${r.address}:${r.port}`));
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  client.send('hello', port, '127.0.0.1');
  await h.pump(() => h.frames.length >= 1);
  const s = parse(h.frames[0]!);
  t.deepEqual([s.src, s.sport, s.dst, s.dport], ['10.0.2.2', client.address().port, '10.0.2.15', 5353]);
  sendFrames(h, [guestFrame(4, '10.0.2.15', 5353, '10.0.2.2', client.address().port, enc('hi back'))]);
  await h.pump(() => replies.length >= 1);
  t.deepEqual(replies, [`hi back from 127.0.0.1:${port}`]);
  t.is(h.counters.get('flows-inbound'), 1);
});

test.serial('-u auto: listeners follow the unconnected UDP sockets the namespace reports', async (t) => {
  const cli = defaultConfig('pasta');
  cli.forward.udpInFollowsTcp = false;
  const h = harness(t, cli);
  const port = freePort(4);
  const reply = (path: string, data: string) => {
    const req = h.toRouter.find((m) => (m.req as { path: string }).path === path)!;
    h.actor.onMessage('router', { t: 'ns-reply', id: req.id, msg: { t: 'reply', data } }, []);
  };
  t.deepEqual(h.toRouter.map((m) => (m.req as { path: string }).path), ['/proc/net/udp', '/proc/net/udp6']);
  reply('/proc/net/udp', `  sl local\n  1: 00000000:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 07 0\n`);
  h.actor.onMessage('router', { t: 'ns-reply', id: h.toRouter[1]!.id, error: 'ENOENT' }, []);
  await sleep(10);
  const listeners = h.added.filter((a) => a.proto === Proto.UdpListen);
  t.is(listeners.length, 2);
  t.is(native.sockName(listeners[0]!.fd).port, port);
});

test.serial('bad frames are counted, never thrown; --no-udp drops everything', (t) => {
  const h = harness(t);
  const good = guestFrame(4, '10.0.2.15', 1000, '10.0.2.2', 9, enc('x'));
  const broadcast = guestFrame(4, '10.0.2.15', 1000, '255.255.255.255', 9, enc('x'));
  const zero = guestFrame(4, '10.0.2.15', 0, '10.0.2.2', 9, enc('x'));
  t.notThrows(() => sendFrames(h, [good.subarray(0, 20), broadcast, zero, new Uint8Array(60)]));
  t.like(h.counters.snapshot(), { 'drop:bad-frame': 2, 'drop:broadcast': 1, 'drop:port-zero': 1 });
  const cli = defaultConfig('pasta');
  cli.disabled.udp = true;
  const off = harness(t, cli);
  sendFrames(off, [good]);
  t.is(off.counters.get('drop:udp-disabled'), 1);
  t.is(off.added.length, 0);
});
