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

/** pasta's defaults with --no-splice: loopback senders take the tap path (the loopback path is tested below). */
function tapConfig(): Config {
  const cli = defaultConfig('pasta');
  cli.disabled.splice = true;
  return cli;
}

function harness(t: ExecutionContext, cli: Config = tapConfig()): Harness {
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
  const cli = tapConfig();
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
  const cli = tapConfig();
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

// --- the loopback fast path (the test's "namespace" is the host itself: the ns sockets are made here) ---

const NONE = { mode: 'none' as const, ranges: [] };

/** Answers every open-socket request not answered yet with a fresh socket of the asked family. */
function answerSockets(h: Harness, answered: Set<unknown>): number {
  let n = 0;
  for (const m of h.toRouter) {
    const req = m.req as { t: string; family: number; type: number };
    if (req.t !== 'open-socket' || answered.has(m.id)) continue;
    answered.add(m.id);
    if (req.type !== C.SOCK_DGRAM) throw new Error(`open-socket asked type ${req.type}`);
    h.actor.onMessage('router', { t: 'ns-reply', id: m.id, msg: { t: 'reply' } }, [native.socket(req.family, C.SOCK_DGRAM, 0)]);
    n++;
  }
  return n;
}

async function loopbackClient(t: ExecutionContext, family: 4 | 6, loop: string): Promise<{ s: dgram.Socket; replies: string[] }> {
  const s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
  const replies: string[] = [];
  s.on('message', (m, r) => replies.push(`${m.toString()} from ${r.address}:${r.port}`));
  await new Promise<void>((r) => s.bind(0, loop, r));
  t.teardown(() => s.close());
  return { s, replies };
}

for (const [family, loop] of [[4, '127.0.0.1'], [6, '::1']] as const) {
  test.serial(`-u from a loopback sender (${loop}): through a namespace socket, not the tap; replies leave from the listener`, async (t) => {
    const cli = defaultConfig('pasta');
    const echo = await echoServer(t, family, loop);
    const port = freePort(family);
    cli.forward.udpIn = portForwardFromSpecs([`${port}:${echo.port}`], { option: '-u', mode: 'pasta', allowBind: true }, 'auto');
    cli.forward.udpInFollowsTcp = false;
    cli.forward.udpOut = NONE;
    const h = harness(t, cli);
    const { s, replies } = await loopbackClient(t, family, loop);
    for (const text of ['one', 'two', 'three']) s.send(text, port, loop);
    const answered = new Set<unknown>();
    await h.pump(() => answerSockets(h, answered) > 0 || answered.size > 0);
    t.is(answered.size, 1, 'one namespace socket for the flow');
    await h.pump(() => replies.length >= 3);
    t.deepEqual(replies.sort(), ['one', 'three', 'two'].map((x) => `${x} from ${loop}:${port}`).sort());
    t.is(new Set(echo.peers).size, 1, `one flow socket: ${echo.peers.join(' ')}`);
    t.true(echo.peers[0]!.startsWith(`${loop}:`), 'the service sees a loopback peer');
    s.send('four', port, loop);
    await h.pump(() => replies.length >= 4);
    t.is(answered.size, 1, 'the flow is reused');
    t.is(h.frames.length, 0, 'nothing went to the tap');
    t.like(h.counters.snapshot(), { 'splice-flows-opened': 1, 'splice-flows-in': 1, 'splice-dgrams-in': 4, 'splice-dgrams-out': 4 });
    t.is(h.counters.get('flows-inbound'), 0);
    const reg = h.added.filter((a) => a.proto === Proto.UdpSplice);
    t.is(reg.length, 1);
    h.actor.onReady(Proto.UdpSplice, reg[0]!.aux + 1, reg[0]!.handle, C.EPOLLIN);
    t.is(h.counters.get('stale-ready'), 1, 'an old generation is ignored');
  });
}

test.serial('-u splice: datagrams queue while the namespace socket is on its way; the flow expires', async (t) => {
  process.env[TIMEOUTS_ENV] = '300,600';
  t.teardown(() => delete process.env[TIMEOUTS_ENV]);
  const cli = defaultConfig('pasta');
  const echo = await echoServer(t, 4, '127.0.0.1');
  const port = freePort(4);
  cli.forward.udpIn = portForwardFromSpecs([`${port}:${echo.port}`], { option: '-u', mode: 'pasta', allowBind: true }, 'auto');
  cli.forward.udpInFollowsTcp = false;
  cli.forward.udpOut = NONE;
  const h = harness(t, cli);
  const { s, replies } = await loopbackClient(t, 4, '127.0.0.1');
  for (let i = 0; i < 80; i++) s.send(`q${i}`, port, '127.0.0.1');
  await h.pump(() => h.counters.get('drop:splice-queue-full') >= 16, 2000);
  t.is(h.counters.get('drop:splice-queue-full'), 16, '64 kept, the rest dropped');
  answerSockets(h, new Set());
  await h.pump(() => replies.length >= 64);
  t.is(replies.length, 64);
  t.is(replies[0], `q0 from 127.0.0.1:${port}`, 'in order');
  await h.pump(() => h.deleted.some((d) => d.proto === Proto.UdpSplice), 3000);
  t.is(h.counters.get('splice-flows-closed'), 1);
});

test.serial('-U SPEC: a namespace listener per family; a datagram there reaches the host loopback, the reply comes back from it', async (t) => {
  const cli = defaultConfig('pasta');
  const echo = await echoServer(t, 4, '127.0.0.1');
  const port = freePort(4);
  cli.forward.udpIn = NONE;
  cli.forward.udpInFollowsTcp = false;
  cli.forward.udpOut = portForwardFromSpecs([`${port}:${echo.port}`], { option: '-U', mode: 'pasta', allowBind: false }, 'auto');
  const h = harness(t, cli);
  t.is(answerSockets(h, new Set()), 2, 'IPv4 and IPv6 listeners asked for');
  await h.pump(() => h.added.filter((a) => a.proto === Proto.UdpSplice).length >= 2, 500);
  const listeners = h.added.filter((a) => a.proto === Proto.UdpSplice);
  t.deepEqual(listeners.map((l) => native.sockName(l.fd)).map((a) => `${a.addr}:${a.port}`).sort(), [`127.0.0.1:${port}`, `::1:${port}`].sort());
  const { s, replies } = await loopbackClient(t, 4, '127.0.0.1');
  s.send('out', port, '127.0.0.1');
  await h.pump(() => replies.length >= 1);
  t.deepEqual(replies, [`out from 127.0.0.1:${port}`]);
  t.is(echo.peers.length, 1);
  t.like(h.counters.snapshot(), { 'splice-listeners-opened': 2, 'splice-flows-out': 1, 'splice-dgrams-out': 1, 'splice-dgrams-in': 1 });
  h.actor.stop();
  const gone = h.deleted.filter((d) => d.proto === Proto.UdpSplice);
  t.is(gone.length, 3, 'stop: both listeners and the flow socket leave epoll');
});
