/**
 * The netlink client against a scripted fake kernel (sequence numbers, multi-datagram dumps, interrupted
 * dumps, errors, timeouts), then read-only against the real kernel, checked against `ip -j`.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isErrno, native } from '../native/index.js';
import {
  Af, emitMessage, ifinfomsg, Ifla, NLMSG_HDR_LEN, NlmF, NlType, parseNlHeader, strAttr, u32Attr,
} from '../protocol/netlink.js';
import type { NlAttr } from '../protocol/netlink.js';
import { NetlinkClient, NetlinkError, readReplies } from './netlink-client.js';
import type { NetlinkIo } from './netlink-client.js';

/** Concatenates messages into one datagram. */
function datagram(...msgs: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(msgs.reduce((n, m) => n + m.length, 0));
  let off = 0;
  for (const m of msgs) { out.set(m, off); off += m.length; }
  return out;
}

function msg(type: number, flags: number, seq: number, fixed: Uint8Array, attrs: NlAttr[] = []): Uint8Array {
  const buf = new Uint8Array(1024);
  return buf.slice(0, emitMessage(buf, 0, { type, flags, seq }, fixed, attrs));
}

const linkMsg = (seq: number, index: number, name: string, flags: number = NlmF.Multi): Uint8Array =>
  msg(NlType.NewLink, flags, seq, ifinfomsg({ index }), [strAttr(Ifla.IfName, name), u32Attr(Ifla.Mtu, 1500)]);

const done = (seq: number, code = 0): Uint8Array => msg(NlType.Done, NlmF.Multi, seq, int32(code));

/** NLMSG_ERROR answering request `seq` (capped: header only). */
function errorMsg(seq: number, errno: number, type: number = NlType.NewLink): Uint8Array {
  const fixed = new Uint8Array(4 + NLMSG_HDR_LEN);
  const v = new DataView(fixed.buffer);
  v.setInt32(0, -errno, true);
  v.setUint32(4, 32, true);
  v.setUint16(8, type, true);
  v.setUint32(12, seq, true);
  return msg(NlType.Error, NlmF.Capped, seq, fixed);
}

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

/** A fake kernel: `answer(request)` returns the datagrams to queue for each request sent. */
class FakeKernel implements NetlinkIo {
  sent: { type: number; seq: number; flags: number }[] = [];
  queue: Uint8Array[] = [];
  waits = 0;
  closed = false;
  constructor(private readonly answer: (req: { type: number; seq: number }, n: number) => Uint8Array[]) {}
  send(buf: Uint8Array, len: number): number {
    const h = parseNlHeader(buf, 0, len)!;
    this.sent.push({ type: h.type, seq: h.seq, flags: h.flags });
    this.queue.push(...this.answer(h, this.sent.length));
    return len;
  }
  recv(buf: Uint8Array): number {
    const d = this.queue.shift();
    if (!d) return -1;
    buf.set(d);
    return d.length;
  }
  wait(): boolean {
    this.waits++;
    return false;
  }
  close(): void { this.closed = true; }
}

test('readReplies: skips other sequence numbers, stops at DONE, reports DUMP_INTR', (t) => {
  const d = datagram(linkMsg(6, 1, 'old'), linkMsg(7, 2, 'a', NlmF.Multi | NlmF.DumpIntr), done(7));
  const seen: number[] = [];
  const st = readReplies(d, d.length, 7, (_b, m) => seen.push(m.hdr.seq));
  t.deepEqual(st, { t: 'done', interrupted: true });
  t.deepEqual(seen, [7]);
});

test('readReplies: more when the dump goes on, error with errno, failed dump in DONE', (t) => {
  const part = linkMsg(3, 1, 'lo');
  t.deepEqual(readReplies(part, part.length, 3, () => undefined), { t: 'more', interrupted: false });
  const e = errorMsg(3, 17);
  t.like(readReplies(e, e.length, 3, () => undefined), { t: 'error', error: { errno: 17 } });
  const failed = done(3, -16);
  t.like(readReplies(failed, failed.length, 3, () => undefined), { t: 'error', error: { errno: 16 } });
  const ack = errorMsg(3, 0);
  t.deepEqual(readReplies(ack, ack.length, 3, () => undefined), { t: 'done', interrupted: false });
});

test('client: a dump spread over datagrams, after a stale reply', (t) => {
  const k = new FakeKernel((req) => [
    datagram(linkMsg(req.seq - 1, 9, 'stale'), linkMsg(req.seq, 1, 'lo')),
    datagram(linkMsg(req.seq, 2, 'eth0'), done(req.seq)),
  ]);
  const nl = new NetlinkClient(k, { firstSeq: 40 });
  t.deepEqual(nl.links().map((l) => [l.index, l.name, l.mtu]), [[1, 'lo', 1500], [2, 'eth0', 1500]]);
  t.deepEqual(k.sent, [{ type: NlType.GetLink, seq: 40, flags: NlmF.Request | NlmF.Dump }]);
  nl.close();
  t.true(k.closed);
});

test('client: an interrupted dump runs again, at most 3 times', (t) => {
  const k = new FakeKernel((req, n) => [datagram(
    linkMsg(req.seq, n, `try${n}`, NlmF.Multi | (n < 2 ? NlmF.DumpIntr : 0)), done(req.seq))]);
  const nl = new NetlinkClient(k);
  t.deepEqual(nl.links().map((l) => l.name), ['try2']);
  t.deepEqual(k.sent.map((s) => s.seq), [1, 2]);
  const always = new FakeKernel((req) => [
    datagram(linkMsg(req.seq, 1, 'x', NlmF.Multi | NlmF.DumpIntr), done(req.seq)),
  ]);
  new NetlinkClient(always).links();
  t.is(always.sent.length, 3);
});

test('client: ACKed requests; a refusal throws a NetlinkError that isErrno recognises', (t) => {
  const k = new FakeKernel((req) => [errorMsg(req.seq, req.seq === 2 ? 17 : 0, req.type)]);
  const nl = new NetlinkClient(k);
  nl.setLink({ index: 1, up: true });
  const e = t.throws(() => nl.addAddr({ index: 2, address: '10.0.0.2', prefixLen: 24 }), { instanceOf: NetlinkError });
  t.like(e, { errno: 17, code: 'EEXIST', syscall: 'netlink', request: 'RTM_NEWADDR' });
  t.true(isErrno(e, 'EEXIST'));
  t.deepEqual(k.sent.map((s) => [s.type, s.flags]), [
    [NlType.NewLink, NlmF.Request | NlmF.Ack],
    [NlType.NewAddr, NlmF.Request | NlmF.Ack | NlmF.Create | NlmF.Excl],
  ]);
});

test('client: no answer ends in ETIMEDOUT after waiting', (t) => {
  const k = new FakeKernel(() => []);
  const nl = new NetlinkClient(k, { timeoutMs: 30 });
  const e = t.throws(() => nl.addRoute({ oif: 2, gateway: '10.0.0.1' }), { instanceOf: NetlinkError });
  t.is(e?.code, 'ETIMEDOUT');
  t.true(k.waits > 0);
});

test('client: a request that cannot be built throws before anything is sent', (t) => {
  const k = new FakeKernel(() => []);
  t.throws(() => new NetlinkClient(k).addAddr({ index: 2, address: 'nope', prefixLen: 24 }), { instanceOf: TypeError });
  t.is(k.sent.length, 0);
});

// --- the real kernel -------------------------------------------------------------------------------

interface IpLink { ifindex: number; ifname: string; mtu: number; address?: string }
interface IpAddr { ifindex: number; addr_info: { family: string; local: string; prefixlen: number }[] }
interface IpRoute { dst: string; gateway?: string; dev: string }

const CLONE_NEWNET = 0x40000000;
const run = (...cmd: string[]): string =>
  execFileSync(cmd[0]!, cmd.slice(1), { timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();

/** A scratch namespace with a veth pair, addresses and routes, so that nothing else changes it meanwhile. */
function withScratchNs(fn: (ns: string, nl: NetlinkClient) => void): void {
  const ns = `pa-nl-${randomBytes(4).toString('hex')}`;
  const ip = (...a: string[]): string => run('ip', '-n', ns, ...a);
  run('ip', 'netns', 'add', ns);
  try {
    ip('link', 'add', 'v0', 'mtu', '9000', 'type', 'veth', 'peer', 'name', 'v1');
    for (const l of ['lo', 'v0', 'v1']) ip('link', 'set', l, 'up');
    ip('addr', 'add', '10.1.0.5/24', 'dev', 'v0');
    ip('-6', 'addr', 'add', '2001:db8:1::5/64', 'dev', 'v0', 'nodad');
    ip('route', 'add', 'default', 'via', '10.1.0.1');
    ip('route', 'add', '10.7.0.0/16', 'via', '10.1.0.3', 'metric', '7');
    ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::1');
    const nl = openInside(ns);
    try { fn(ns, nl); } finally { nl.close(); }
  } finally {
    run('ip', 'netns', 'del', ns);
  }
}

function openInside(ns: string): NetlinkClient {
  const home = native.openNs('/proc/thread-self/ns/net');
  const target = native.openNs(`/run/netns/${ns}`);
  try {
    native.setns(target, CLONE_NEWNET);
    try { return NetlinkClient.open(); } finally { native.setns(home, CLONE_NEWNET); }
  } finally {
    native.close(target);
    native.close(home);
  }
}

test('kernel: links, addresses and main-table routes match `ip -j` (socket opened in a namespace keeps it)', (t) => {
  withScratchNs((ns, nl) => {
    const ipJson = <T>(...args: string[]): T => JSON.parse(run('ip', '-n', ns, '-j', ...args)) as T;
    const links = nl.links().map((l) => [l.index, l.name, l.mtu, l.address]);
    t.deepEqual(links, ipJson<IpLink[]>('link', 'show').map((l) => [l.ifindex, l.ifname, l.mtu, l.address ?? null]));
    t.is(links.length, 3);
    const addrs = nl.addrs()
      .map((a) => [a.index, a.family === Af.Inet ? 'inet' : 'inet6', a.local ?? a.address, a.prefixLen]);
    const ipAddrs = ipJson<IpAddr[]>('addr', 'show').flatMap((l) =>
      l.addr_info.map((a) => [l.ifindex, a.family, a.local, a.prefixlen]));
    t.deepEqual(sorted(addrs), sorted(ipAddrs));
    const names = new Map(nl.links().map((l) => [l.index, l.name]));
    for (const [family, flag] of [[Af.Inet, '-4'], [Af.Inet6, '-6']] as const) {
      const mine = nl.routes(family).filter((r) => r.table === 254 && r.type === 1)
        .map((r) => [r.dstLen === 0 ? 'default' : `${r.dst}/${r.dstLen}`, r.gateway, names.get(r.oif ?? 0)]);
      const host = family === Af.Inet ? 32 : 128;
      const viaIp = ipJson<IpRoute[]>(flag, 'route', 'show').map((r) =>
        [r.dst.includes('/') || r.dst === 'default' ? r.dst : `${r.dst}/${host}`, r.gateway ?? null, r.dev]);
      t.deepEqual(sorted(mine), sorted(viaIp), `family ${family}`);
    }
  });
});

test('kernel: changes are acknowledged; refusals carry the errno and the kernel\'s text', (t) => {
  withScratchNs((ns, nl) => {
    const v0 = nl.links().find((l) => l.name === 'v0')!;
    nl.setLink({ index: v0.index, mtu: 1280 });
    nl.addAddr({ index: v0.index, address: '10.2.0.5', prefixLen: 16, broadcast: '10.2.255.255' });
    nl.addRoute({ oif: v0.index, dst: '10.8.0.0', dstLen: 16, gateway: '192.0.2.77', onlink: true });
    t.is(nl.links().find((l) => l.name === 'v0')?.mtu, 1280);
    t.like(nl.addrs(Af.Inet).find((a) => a.local === '10.2.0.5'), { prefixLen: 16, broadcast: '10.2.255.255' });
    const shown = run('ip', '-n', ns, '-d', 'route', 'show', '10.8.0.0/16');
    t.regex(shown, /via 192\.0\.2\.77 dev v0 proto boot scope global onlink/);
    const dup = t.throws(() => nl.addAddr({ index: v0.index, address: '10.2.0.5', prefixLen: 16 }),
      { instanceOf: NetlinkError });
    t.is(dup?.code, 'EEXIST');
    const unreachable = t.throws(
      () => nl.addRoute({ oif: v0.index, dst: '10.9.0.0', dstLen: 16, gateway: '10.99.0.1' }),
      { instanceOf: NetlinkError });
    t.is(unreachable?.code, 'ENETUNREACH');
    t.regex(unreachable?.detail ?? '', /gateway/i);
    t.is(t.throws(() => nl.setLink({ index: 0x7ffffff0, up: true }))?.message, 'RTM_NEWLINK: ENODEV');
  });
});

function sorted(rows: unknown[][]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}
