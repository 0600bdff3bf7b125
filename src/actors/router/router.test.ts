/**
 * The router with real actors (worker threads, and processes with --actors), real epoll and real fd
 * passing. A SOCK_SEQPACKET socketpair stands in for the tap here (one read() = one packet, as a tap);
 * the end-to-end tests in test/ use real tap devices.
 */
import test from 'ava';
import { readdirSync, readlinkSync } from 'node:fs';
import { constants as C, native } from '../../native/index.js';
import { Router, type RouterEvent } from './router.js';
import type { ActorMode } from './supervisor.js';
import { Proto } from '../../runtime/epoll-ref.js';
import { createLogger } from '../../runtime/log.js';
import type { ActorName } from '../../runtime/actor.js';
import { DEFAULT_POLICY } from './policy.js';
import { defaultConfig } from '../../config/config.js';

const HOST = { ipv4: null, ipv6: null };
const CLI = defaultConfig('pasta');

const EPOLLIN = 1, EPOLLET = 1 << 31;

/**
 * A TCP ACK for a connection nobody knows (10.0.0.2:12345 → 10.0.0.1:80): the tcp actor answers it with
 * a RST to the guest and opens nothing on the host, so these tests send no traffic anywhere.
 */
function strayAckFrame(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], 0); // eth: dst, src, IPv4
  f.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1], 14); // IPv4, TCP
  f.set([0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0], 34); // ACK
  return f;
}

function makeRouter(mode: ActorMode, events: RouterEvent[]): Router {
  const log = createLogger({ level: 'error', stderr: true, prog: 'test' });
  const router = new Router({
    mode,
    log,
    policy: { ...DEFAULT_POLICY, shutdownMs: 1000 },
    actorConfig: () => ({ mode: 'pasta', log: { level: 'error', stderr: true, prog: 'test' }, trace: false, net: { mtu: 65520, ourMac: '02:00:00:00:00:01' }, cli: CLI, host: HOST }),
  });
  router.on((e) => events.push(e));
  return router;
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every frame waiting on the guest's end of the fake tap. */
function readFrames(fd: number): Uint8Array[] {
  native.setNonBlocking(fd, true);
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = native.read(fd, buf, 0, buf.length);
    if (n <= 0) return out;
    out.push(buf.slice(0, n));
  }
}

async function counter(router: Router, actor: ActorName, name: string): Promise<number> {
  return (await router.counters(actor))[name] ?? 0;
}

for (const mode of ['thread', 'process'] as const) {
  test.serial(`${mode} mode: frames flow tap → tcp in batches, bad frames are counted`, async (t) => {
    const events: RouterEvent[] = [];
    const router = makeRouter(mode, events);
    const [tapEnd, guestEnd] = native.socketpair('seqpacket');
    t.teardown(async () => {
      await router.stop();
      native.close(guestEnd, true);
    });
    await router.start();
    router.addKeptFd(tapEnd, Proto.Tap, 0, 0, EPOLLIN | EPOLLET);
    const syn = strayAckFrame();
    for (let i = 0; i < 10; i++) native.write(guestEnd, syn, 0, syn.length);
    native.write(guestEnd, new Uint8Array(5), 0, 5); // too short for Ethernet
    await until('tap counted 11 frames', async () => ((await counter(router, 'tap', 'frames-in')) >= 11 ? true : undefined));
    t.is(await counter(router, 'tap', 'to-tcp'), 10);
    t.is(await counter(router, 'tap', 'drop:Truncated'), 1);
    await until('tcp answered 10 frames', async () => ((await counter(router, 'tcp', 'rst-to-guest')) === 10 ? true : undefined));
    // ... with RSTs written to the tap by the tcp actor itself (its own tap writer)
    const rsts = readFrames(guestEnd);
    t.is(rsts.filter((f) => f.length >= 54 && f[47] !== undefined && (f[47]! & 0x04) !== 0).length, 10);
  });

  test.serial(`${mode} mode: a killed actor is restarted and the others are not disturbed`, async (t) => {
    const events: RouterEvent[] = [];
    const router = makeRouter(mode, events);
    const [tapEnd, guestEnd] = native.socketpair('seqpacket');
    t.teardown(async () => {
      await router.stop();
      native.close(guestEnd, true);
    });
    await router.start();
    router.addKeptFd(tapEnd, Proto.Tap, 0, 0, EPOLLIN | EPOLLET);
    const syn = strayAckFrame();
    native.write(guestEnd, syn, 0, syn.length);
    await until('first frame', async () => ((await counter(router, 'tcp', 'rst-to-guest')) === 1 ? true : undefined));
    const pidsBefore = new Map((['tap', 'udp', 'icmp', 'splice'] as const).map((n) => [n, router.actorPid(n)]));

    router.killActor('tcp');
    await until('tcp restarted', () => (events.some((e) => e.t === 'actor-ready' && e.name === 'tcp' && e.restarts === 1) ? true : undefined));
    const exit = events.find((e) => e.t === 'actor-exit' && e.name === 'tcp');
    t.truthy(exit);
    t.is(exit?.t === 'actor-exit' ? exit.decision : '', 'restart');
    if (mode === 'process') {
      for (const [n, pid] of pidsBefore) t.is(router.actorPid(n), pid, `${n} kept its process`);
    }
    t.false(events.some((e) => e.t === 'actor-exit' && e.name !== 'tcp'), 'no other actor ended');
    t.is(await counter(router, 'tap', 'frames-in'), 1, 'the tap actor kept its state');
    // the new tcp incarnation gets the frames at once, over a new link
    native.write(guestEnd, syn, 0, syn.length);
    await until('frame reaches the new tcp', async () => ((await counter(router, 'tcp', 'rst-to-guest')) === 1 ? true : undefined));

    router.killActor('tap');
    await until('tap restarted', () => (events.some((e) => e.t === 'actor-ready' && e.name === 'tap' && e.restarts === 1) ? true : undefined));
    native.write(guestEnd, syn, 0, syn.length);
    await until('the new tap reads the kept tap fd', async () => ((await counter(router, 'tap', 'frames-in')) === 1 ? true : undefined));
    await until('and forwards to tcp', async () => ((await counter(router, 'tcp', 'rst-to-guest')) === 2 ? true : undefined));
    t.false(events.some((e) => e.t === 'fatal'));
  });
}

test.serial('process mode: too many crashes in the period make the supervisor give up', async (t) => {
  const events: RouterEvent[] = [];
  const log = createLogger({ level: 'error', stderr: false, prog: 'test' });
  const router = new Router({
    mode: 'process',
    log,
    actors: ['udp'],
    policy: { restart: 'permanent', intensity: 2, periodMs: 60_000, shutdownMs: 500 },
    actorConfig: () => ({ mode: 'pasta', log: { level: 'error', stderr: false, prog: 'test' }, trace: false, net: { mtu: 65520, ourMac: '02:00:00:00:00:01' }, cli: CLI, host: HOST }),
  });
  router.on((e) => events.push(e));
  t.teardown(() => router.stop());
  await router.start();
  for (let i = 1; i <= 2; i++) {
    router.killActor('udp');
    await until(`restart ${i}`, () => (events.some((e) => e.t === 'actor-ready' && e.restarts === i) ? true : undefined));
  }
  router.killActor('udp');
  const fatal = await until('fatal', () => events.find((e) => e.t === 'fatal'));
  t.regex(fatal.t === 'fatal' ? fatal.reason : '', /more than 2 restarts/);
});

test.serial('tap EOF: the tap actor reports it and the router tells its owner (pasta then exits cleanly)', async (t) => {
  const events: RouterEvent[] = [];
  const router = makeRouter('thread', events);
  const [tapEnd, guestEnd] = native.socketpair('seqpacket');
  t.teardown(() => router.stop());
  await router.start();
  router.addKeptFd(tapEnd, Proto.Tap, 0, 0, EPOLLIN | EPOLLET);
  const syn = strayAckFrame();
  native.write(guestEnd, syn, 0, syn.length);
  native.close(guestEnd);
  await until('tap-closed', () => (events.some((e) => e.t === 'tap-closed') ? true : undefined));
  t.is(await counter(router, 'tap', 'frames-in'), 1, 'frames before the EOF were still read');
  t.false(events.some((e) => e.t === 'actor-exit'), 'no actor died');
});

test.serial('resetActors restarts on purpose, not counted by the policy; after removeKeptFd the next client socket is served', async (t) => {
  const events: RouterEvent[] = [];
  const log = createLogger({ level: 'error', stderr: false, prog: 'test' });
  const router = new Router({
    mode: 'thread',
    log,
    actors: ['tap', 'udp'],
    policy: { restart: 'permanent', intensity: 1, periodMs: 60_000, shutdownMs: 500 },
    actorConfig: () => ({ mode: 'passt', log: { level: 'error', stderr: false, prog: 'test' }, trace: false, net: { mtu: 65520, ourMac: '02:00:00:00:00:01' }, cli: defaultConfig('passt'), host: HOST }),
    tapWriters: false,
  });
  router.on((e) => events.push(e));
  t.teardown(() => router.stop());
  await router.start();
  for (let i = 0; i < 3; i++) await router.resetActors(['udp']); // a policy of 1 restart would give up on the 2nd crash
  t.false(events.some((e) => e.t === 'fatal'));
  t.is(events.filter((e) => e.t === 'actor-ready' && e.name === 'udp').length, 4, 'started, then reset three times');
  // passt's client sequence: a client leaves (the tap actor reports it), its socket is removed, the next one is served
  const [first, firstPeer] = native.socketpair('stream');
  router.addKeptFd(first, Proto.Tap, 0, 0, EPOLLIN | EPOLLET);
  native.close(firstPeer);
  await until('tap-closed', () => (events.some((e) => e.t === 'tap-closed') ? true : undefined));
  router.removeKeptFd(Proto.Tap, 0, 0);
  const [second, secondPeer] = native.socketpair('stream');
  t.teardown(() => native.close(secondPeer, true));
  router.addKeptFd(second, Proto.Tap, 0, 0, EPOLLIN | EPOLLET);
  const frame = strayAckFrame();
  const framed = new Uint8Array(4 + frame.length);
  new DataView(framed.buffer).setUint32(0, frame.length);
  framed.set(frame, 4);
  native.write(secondPeer, framed, 0, framed.length);
  await until('the next client is read', async () => ((await counter(router, 'tap', 'frames-in')) === 1 ? true : undefined));
  t.false(events.some((e) => e.t === 'fatal'));
});

/** The socket inodes open in this process (a closed-then-reused fd number is told apart by its inode). */
function openSocketInodes(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const l = readlinkSync(`/proc/self/fd/${fd}`);
      if (l.startsWith('socket:')) out.add(l);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

test.serial('thread mode: namespace sockets answering a request of an incarnation that died are closed, not handed to its successor', async (t) => {
  const log = createLogger({ level: 'error', stderr: false, prog: 'test' });
  const cli = defaultConfig('pasta');
  cli.forward.tcpIn = { mode: 'spec', ranges: [] }; // the splice actor prefills its socket pool at start
  cli.forward.tcpOut = { mode: 'none', ranges: [] };
  const made: string[][] = [];
  const router = new Router({
    mode: 'thread',
    log,
    actors: ['splice'],
    policy: { ...DEFAULT_POLICY, shutdownMs: 500 },
    actorConfig: () => ({ mode: 'pasta', log: { level: 'error', stderr: false, prog: 'test' }, trace: false, net: { mtu: 65520, ourMac: '02:00:00:00:00:01' }, cli, host: HOST }),
    // a slow helper: the reply comes 300 ms after the request (unconnected host sockets stand in)
    nsRequest: async (msg) => {
      const fds = Array.from({ length: Number(msg.count ?? 1) }, () => native.socket(Number(msg.family), C.SOCK_STREAM, 0));
      made.push(fds.map((fd) => readlinkSync(`/proc/self/fd/${fd}`)));
      await new Promise((r) => setTimeout(r, 300));
      return { msg: { t: 'sockets' }, fds };
    },
  });
  t.teardown(() => router.stop());
  await router.start();
  await until('the pool requests of the first incarnation', () => (made.length === 2 ? true : undefined));
  await router.resetActors(['splice']); // the first incarnation dies with both replies in flight
  await until('the pool requests of the second incarnation', () => (made.length === 4 ? true : undefined));
  await new Promise((r) => setTimeout(r, 700)); // every reply delivered
  const open = openSocketInodes();
  const [first, second] = [made.slice(0, 2).flat(), made.slice(2).flat()];
  t.is(first.length, 32);
  t.deepEqual(first.filter((s) => open.has(s)), [], 'the dead incarnation\'s sockets are closed');
  t.is(second.filter((s) => open.has(s)).length, 32, 'the successor holds its own pool');
  await router.stop();
  t.is(second.filter((s) => openSocketInodes().has(s)).length, 0, 'and closes it when stopped');
});
