/**
 * Tests of the native addon against the real kernel: errors, fd passing (in process, across
 * processes, out of a user+net namespace), tap + setns, epoll and libuv polls (main thread and worker
 * threads), checksum against a plain-JS oracle, UDP mmsg, splice, ping sockets, TCP_INFO and queues,
 * memfd mappings, timerfd, processes. Every wait is bounded; namespaces are deleted in teardown.
 * Runs as root (tap, `ip netns`, `unshare --user`).
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrnoError, constants as C, isErrno, native } from './index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./test-fixtures/${name}.js`, import.meta.url));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Fds a test owns: closed at teardown unless the test closed them first with `close` (closing twice
 * could hit a number another test, a worker or libuv has reused meanwhile).
 */
function fdsOf(t: ExecutionContext): { own: (fd: number) => number; close: (fd: number) => void } {
  const fds = new Set<number>();
  t.teardown(() => {
    for (const fd of fds) native.close(fd, true);
  });
  return {
    own: (fd) => (fds.add(fd), fd),
    close: (fd) => {
      if (fds.delete(fd)) native.close(fd);
    },
  };
}

/** Polls `cond` every few ms; resolves true as soon as it holds, false after `ms`. */
async function waitFor(cond: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(2);
  }
  return cond();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the result of `read` the first time it is non-null after `fd` polls readable. */
function readWhenReady<T>(fd: number, read: () => T | null, ms: number): Promise<T> {
  let id = 0;
  const p = new Promise<T>((resolve) => {
    id = native.pollStart(fd, () => {
      const r = read();
      if (r === null) return;
      native.pollStop(id);
      resolve(r);
    });
  });
  return withTimeout(p, ms, `fd ${fd} readable`).finally(() => native.pollStop(id));
}

function childExit(child: ReturnType<typeof spawn>, ms: number): Promise<number | null> {
  const p = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
  return withTimeout(p, ms, `child ${child.pid} exit`).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
}

/** An established loopback TCP connection: {client, server} fds (listener closed). */
async function tcpPair(t: ExecutionContext, family: 4 | 6 = 4): Promise<{ client: number; server: number }> {
  const { own, close } = fdsOf(t);
  const af = family === 4 ? C.AF_INET : C.AF_INET6;
  const host = family === 4 ? '127.0.0.1' : '::1';
  const l = own(native.socket(af, C.SOCK_STREAM, 0));
  native.bindInet(l, host, 0);
  native.listen(l, 8);
  const client = own(native.socket(af, C.SOCK_STREAM, 0));
  const r = native.connectInet(client, host, native.sockName(l).port);
  t.true(r === 0 || r === 115);
  let server = -1;
  t.true(await waitFor(() => (server = native.accept(l)?.fd ?? -1) >= 0), 'accept');
  own(server);
  t.true(await waitFor(() => native.tcpInfo(client).state === C.TCP_ESTABLISHED), 'client established');
  close(l);
  return { client, server };
}

/** fcntl flags of an fd as /proc reports them (octal). */
function fdFlags(fd: number): number {
  const m = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return parseInt(m?.[1] ?? 'x', 8);
}
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

// ---- errors ----------------------------------------------------------------------------------

test('close(-5) throws ErrnoError EBADF; quiet close ignores it', (t) => {
  const e = t.throws(() => native.close(-5), { instanceOf: ErrnoError });
  t.is(e?.errno, 9);
  t.is(e?.code, 'EBADF');
  t.is(e?.syscall, 'close');
  t.is(e?.message, 'close: EBADF (Bad file descriptor)');
  t.true(isErrno(e, 'EBADF'));
  t.false(isErrno(e, 'EAGAIN'));
  t.notThrows(() => native.close(-5, true));
});

test('connect to a closed loopback port: ECONNREFUSED (blocking throw, non-blocking SO_ERROR)', async (t) => {
  const { own, close } = fdsOf(t);
  const probe = native.socket(C.AF_INET, C.SOCK_STREAM, 0);
  native.bindInet(probe, '127.0.0.1', 0);
  const port = native.sockName(probe).port;
  native.close(probe);
  const blocking = own(native.socket(C.AF_INET, C.SOCK_STREAM, 0));
  native.setNonBlocking(blocking, false);
  const e = t.throws(() => native.connectInet(blocking, '127.0.0.1', port), { instanceOf: ErrnoError });
  t.is(e?.errno, 111);
  t.is(e?.code, 'ECONNREFUSED');
  t.is(e?.syscall, 'connect');
  t.is(e?.message, 'connect: ECONNREFUSED (Connection refused)');
  const nb = own(native.socket(C.AF_INET, C.SOCK_STREAM, 0));
  let r = -1;
  try {
    r = native.connectInet(nb, '127.0.0.1', port);
  } catch (err) {
    t.true(isErrno(err, 'ECONNREFUSED'));
    return;
  }
  t.is(r, 115);
  t.true(await waitFor(() => native.getsockoptInt(nb, C.SOL_SOCKET, C.SO_ERROR) === 111));
});

test('bad arguments throw TypeError/RangeError, not ErrnoError', (t) => {
  const buf = new Uint8Array(8);
  t.throws(() => native.read(0, 'x' as unknown as Uint8Array, 0, 1), { instanceOf: TypeError });
  t.throws(() => native.read(0, buf, 4, 5), { instanceOf: RangeError });
  t.throws(() => native.read(0, buf, -1, 1), { instanceOf: TypeError });
  t.throws(() => native.close(1.5), { instanceOf: TypeError });
  t.throws(() => native.bindInet(0, 'not-an-ip', 0), { instanceOf: TypeError });
  t.throws(() => native.socketpair('raw' as 'stream'), { instanceOf: TypeError });
});

// ---- plain fds -------------------------------------------------------------------------------

test('pipe read/write respect byteOffset, EAGAIN is -1, EOF is 0; flags and dup', (t) => {
  const { own, close } = fdsOf(t);
  const [rd, wr] = native.pipe(0).map(own) as [number, number];
  t.is(fdFlags(rd) & (O_NONBLOCK | O_CLOEXEC), O_NONBLOCK | O_CLOEXEC);
  const big = new Uint8Array(64).fill(0xa5);
  const src = big.subarray(10, 30); // byteOffset 10
  src.set(enc('hello, world'), 3);
  t.is(native.write(wr, src, 3, 12), 12);
  const dst = new Uint8Array(100).subarray(7);
  t.is(native.read(rd, dst, 5, 50), 12);
  t.is(dec(dst.subarray(5, 17)), 'hello, world');
  t.is(native.read(rd, dst, 0, 10), -1);
  const d = own(native.dup(wr));
  t.not(d, wr);
  t.is(fdFlags(d) & O_CLOEXEC, O_CLOEXEC);
  native.setCloexec(d, false);
  t.is(fdFlags(d) & O_CLOEXEC, 0);
  native.setNonBlocking(d, false);
  t.is(fdFlags(d) & O_NONBLOCK, 0, 'status flags are shared by dups');
  native.setNonBlocking(d, true);
  close(wr);
  close(d);
  t.is(native.read(rd, dst, 0, 10), 0);
});

test('writeBatch/readBatch move frames one per syscall, honour minRoom, report EOF as -1', (t) => {
  const { own, close } = fdsOf(t);
  const [a, b] = native.socketpair('seqpacket').map(own) as [number, number];
  native.setNonBlocking(a, true);
  native.setNonBlocking(b, true);
  const sizes = [60, 1514, 1, 9000, 300];
  const out = new Uint8Array(20000 + 5).subarray(5);
  let off = 0;
  sizes.forEach((n, i) => out.fill(i + 1, off, (off += n)));
  t.is(native.writeBatch(a, out, Uint32Array.from(sizes), sizes.length), sizes.length);
  const inBuf = new Uint8Array(70000 + 3).subarray(3);
  const lens = new Uint32Array(16);
  t.is(native.readBatch(b, inBuf, lens, 16, 0), sizes.length);
  t.deepEqual([...lens.subarray(0, sizes.length)], sizes);
  t.deepEqual(inBuf.subarray(0, off), out.subarray(0, off));
  t.is(native.readBatch(b, inBuf, lens, 16, 0), 0, 'EAGAIN ends an empty batch');
  const frames = Uint32Array.from([9000, 9000, 9000]);
  t.is(native.writeBatch(a, new Uint8Array(27000), frames, 3), 3);
  t.is(native.readBatch(b, new Uint8Array(20000), lens, 16, 10000), 2, 'third read would lack room');
  t.is(native.readBatch(b, new Uint8Array(20000), lens, 1, 0), 1, 'max bounds the batch');
  t.throws(() => native.writeBatch(a, new Uint8Array(10), Uint32Array.from([11]), 1), { instanceOf: RangeError });
  close(a);
  t.is(native.readBatch(b, inBuf, lens, 16), -1);
});

// ---- fd passing ------------------------------------------------------------------------------

test('sendFds/recvFds pass an eventfd in process; 253 fds fit, 254 do not', (t) => {
  const { own, close } = fdsOf(t);
  const [a, b] = native.socketpair('stream').map(own) as [number, number];
  native.setNonBlocking(b, true);
  const buf = new Uint8Array(16);
  t.is(native.recvFds(b, buf, 0, 16), null);
  const ev = own(native.eventfd());
  t.is(native.sendFds(a, enc('E'), 0, 1, [ev]), 1);
  const r = native.recvFds(b, buf, 0, 16);
  t.is(r?.bytes, 1);
  t.is(r?.fds.length, 1);
  const got = own(r?.fds[0] ?? -1);
  t.not(got, ev);
  t.is(native.fdInode(got), native.fdInode(ev));
  t.is(fdFlags(got) & O_CLOEXEC, O_CLOEXEC, 'MSG_CMSG_CLOEXEC');
  native.eventfdWrite(got, 5);
  t.is(native.eventfdRead(ev), 5);
  const many = Array.from({ length: 253 }, () => ev);
  t.is(native.sendFds(a, enc('M'), 0, 1, many), 1);
  const r2 = native.recvFds(b, buf, 0, 16);
  t.is(r2?.fds.length, 253);
  for (const fd of r2?.fds ?? []) native.close(fd);
  t.throws(() => native.sendFds(a, enc('M'), 0, 1, [...many, ev]), { instanceOf: RangeError });
});

test('fd passing across processes: a child sends back a pipe end it wrote into', async (t) => {
  const { own, close } = fdsOf(t);
  const [mine, theirs] = native.socketpair('stream').map(own) as [number, number];
  const child = spawn(process.execPath, [fixture('fd-child')], { stdio: ['ignore', 'inherit', 'inherit', theirs] });
  close(theirs);
  t.is(await childExit(child, 15000), 0);
  native.setNonBlocking(mine, true);
  const buf = new Uint8Array(64);
  const r = native.recvFds(mine, buf, 0, buf.length);
  t.is(r?.bytes, 1);
  t.is(dec(buf.subarray(0, 1)), 'P');
  const rd = own(r?.fds[0] ?? -1);
  const n = native.read(rd, buf, 0, buf.length);
  t.is(dec(buf.subarray(0, n)), `hello from child ${child.pid}`);
  t.is(native.read(rd, buf, 0, buf.length), 0, 'the writer is gone');
});

// ---- tap & namespaces ------------------------------------------------------------------------

interface TapMsg {
  fd: number;
  name: string;
  index: number;
  nsInode: number;
}

function parseTapMsg(buf: Uint8Array, r: { bytes: number; fds: number[] }): TapMsg {
  const [name = '', index = '0', ino = '0'] = dec(buf.subarray(0, r.bytes)).split(' ');
  return { fd: r.fds[0] ?? -1, name, index: Number(index), nsInode: Number(ino) };
}

/** setns into a netns made with `ip netns add`, open a tap there, and come back. Synchronous. */
function tapViaSetns(t: ExecutionContext, ns: string): { inside: number; back: number; target: number; orig: number } {
  const { own, close } = fdsOf(t);
  const orig = own(native.openNs('/proc/thread-self/ns/net'));
  const target = own(native.openNs(`/run/netns/${ns}`));
  let inside = -1;
  native.setns(target, C.CLONE_NEWNET);
  try {
    const cur = native.openNs('/proc/thread-self/ns/net');
    inside = native.fdInode(cur);
    native.close(cur);
    const tap = native.tapOpen('pa%d');
    own(tap.fd);
    t.regex(tap.name, /^pa\d+$/, 'the kernel fills the name pattern');
    t.true(native.ifIndex(tap.name) > 0);
  } finally {
    native.setns(orig, C.CLONE_NEWNET);
  }
  const cur = native.openNs('/proc/thread-self/ns/net');
  const back = native.fdInode(cur);
  native.close(cur);
  return { inside, back, target: native.fdInode(target), orig: native.fdInode(orig) };
}

test('tap across namespaces: fd from an unshare child carries frames; setns into a netns and back', async (t) => {
  const { own, close } = fdsOf(t);
  const [mine, theirs] = native.socketpair('seqpacket').map(own) as [number, number];
  const args = ['--user', '--map-root-user', '--net', '--', process.execPath, fixture('tap-child'), 'tap0'];
  const child = spawn('unshare', args, { stdio: ['ignore', 'inherit', 'inherit', theirs] });
  t.teardown(() => child.kill('SIGKILL'));
  close(theirs);
  native.setNonBlocking(mine, true);
  const buf = new Uint8Array(70000);
  const msg = parseTapMsg(buf, await readWhenReady(mine, () => native.recvFds(mine, buf, 0, 256), 15000));
  own(msg.fd);
  t.is(msg.name, 'tap0');
  t.true(msg.index > 0);
  t.not(msg.nsInode, native.fdInode(own(native.openNs('/proc/self/ns/net'))), 'tap lives in another netns');
  const lens = new Uint32Array(8);
  const n = native.readBatch(msg.fd, buf, lens, 8);
  t.true(n === 0 || n > 0, 'EAGAIN (0 frames) or frames, never an error');
  const frames = n > 0 ? n : await readWhenReady(msg.fd, () => native.readBatch(msg.fd, buf, lens, 8) || null, 8000);
  t.true(frames >= 1);
  t.true((lens[0] ?? 0) >= 14, 'an Ethernet frame');
  close(mine);
  t.is(await childExit(child, 10000), 0, 'the child leaves when we hang up');

  const ns = `pa-native-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns], { timeout: 10000 });
  t.teardown(() => void spawnSync('ip', ['netns', 'del', ns], { timeout: 10000 }));
  const r = tapViaSetns(t, ns);
  t.is(r.inside, r.target);
  t.not(r.target, r.orig);
  t.is(r.back, r.orig);
});

test('ifIndex: lo exists, a made-up name gives 0', (t) => {
  t.true(native.ifIndex('lo') > 0);
  t.is(native.ifIndex('nosuchif0'), 0);
});

// ---- epoll & polls ---------------------------------------------------------------------------

function refsOf(out: Uint32Array, n: number): string[] {
  const r: string[] = [];
  for (let i = 0; i < n; i++) r.push(`${out[3 * i]?.toString(16)}:${out[3 * i + 1]?.toString(16)}:${out[3 * i + 2]}`);
  return r.sort();
}

test('epoll: extreme refs come back exactly; ONESHOT then MOD re-arms; DEL removes', (t) => {
  const { own, close } = fdsOf(t);
  const ep = own(native.epollCreate());
  const e1 = own(native.eventfd());
  const e2 = own(native.eventfd());
  native.epollCtl(ep, C.EPOLL_CTL_ADD, e1, C.EPOLLIN, 0, 0xffffffff);
  native.epollCtl(ep, C.EPOLL_CTL_ADD, e2, C.EPOLLIN, 0xffffffff, 0);
  const out = new Uint32Array(3 * 8).fill(0xa5a5a5a5);
  t.is(native.epollWait(ep, out, 8, 0), 0);
  native.eventfdWrite(e1, 1);
  native.eventfdWrite(e2, 1);
  const n = native.epollWait(ep, out, 8, 1000);
  t.is(n, 2);
  t.deepEqual(refsOf(out, n), [`0:ffffffff:${C.EPOLLIN}`, `ffffffff:0:${C.EPOLLIN}`]);
  native.epollCtl(ep, C.EPOLL_CTL_MOD, e1, C.EPOLLIN | C.EPOLLONESHOT, 0x12345678, 0x9abcdef0);
  native.epollCtl(ep, C.EPOLL_CTL_DEL, e2, 0, 0, 0);
  t.is(native.epollWait(ep, out, 8, 0), 1);
  t.deepEqual(refsOf(out, 1), [`12345678:9abcdef0:${C.EPOLLIN}`]);
  t.is(native.epollWait(ep, out, 8, 0), 0, 'one-shot: disarmed though still readable');
  native.epollCtl(ep, C.EPOLL_CTL_MOD, e1, C.EPOLLIN | C.EPOLLONESHOT, 1, 2);
  t.is(native.epollWait(ep, out, 8, 0), 1, 're-armed by MOD');
  t.deepEqual(refsOf(out, 1), [`1:2:${C.EPOLLIN}`]);
  const e3 = own(native.eventfd());
  native.epollCtl(ep, C.EPOLL_CTL_ADD, e3, C.EPOLLIN | C.EPOLLET, 0xabcdef01 | 0, -1); // int32 forms
  native.eventfdWrite(e3, 1);
  t.is(native.epollWait(ep, out, 8, 0), 1, 'e1 is disarmed again (one-shot)');
  t.deepEqual(refsOf(out, 1), [`abcdef01:ffffffff:${C.EPOLLIN}`]);
  t.is(native.epollWait(ep, out, 8, 0), 0, 'edge-triggered e3 does not repeat');
  t.throws(() => native.epollWait(ep, new Uint32Array(5), 2, 0), { instanceOf: RangeError });
  t.throws(() => native.epollCtl(ep, C.EPOLL_CTL_ADD, e1, C.EPOLLIN, 0, 0), { code: 'EEXIST' });
});

test('pollStart on an epoll fd fires in the main thread; pollStop stops it', async (t) => {
  const { own, close } = fdsOf(t);
  const ep = own(native.epollCreate());
  const ev = own(native.eventfd());
  native.epollCtl(ep, C.EPOLL_CTL_ADD, ev, C.EPOLLIN, 7, 9);
  const out = new Uint32Array(3 * 4);
  let fired = 0;
  let seen: number[] = [];
  let wake: () => void = () => {};
  const id = native.pollStart(ep, (events) => {
    fired++;
    seen = [events, native.epollWait(ep, out, 4, 0), out[0] ?? -1, out[1] ?? -1, native.gettid()];
    native.eventfdRead(ev);
    wake();
  });
  t.teardown(() => native.pollStop(id));
  const woke = new Promise<void>((r) => (wake = r));
  native.eventfdWrite(ev, 1);
  await withTimeout(woke, 3000, 'poll callback');
  t.deepEqual(seen, [C.UV_READABLE, 1, 7, 9, process.pid]);
  native.pollStop(id);
  native.pollStop(id); // idempotent
  native.eventfdWrite(ev, 1);
  await sleep(100);
  t.is(fired, 1);
});

test('pollStart with UV_WRITABLE and pollUpdate', async (t) => {
  const { own, close } = fdsOf(t);
  const [a, b] = native.socketpair('stream').map(own) as [number, number];
  const events: number[] = [];
  const id = native.pollStart(a, (ev) => {
    events.push(ev);
    if (ev & C.UV_WRITABLE) native.pollUpdate(id, C.UV_READABLE);
    if (ev & C.UV_READABLE) native.recv(a, new Uint8Array(8), 0, 8, 0);
  }, C.UV_WRITABLE);
  t.teardown(() => native.pollStop(id));
  t.true(await waitFor(() => events.length > 0));
  await sleep(50);
  t.deepEqual(events, [C.UV_WRITABLE], 'switched to readable only');
  native.send(b, enc('x'), 0, 1, 0);
  t.true(await waitFor(() => events.length === 2));
  t.is(events[1], C.UV_READABLE);
  t.throws(() => native.pollStart(a, () => {}, 0), { instanceOf: RangeError });
});

interface WorkerReport {
  events: number;
  n: number;
  hi: number;
  lo: number;
  tid: number;
  pid: number;
  errOk: boolean;
}

function runWorker(mode: string): { first: Promise<WorkerReport>; exit: Promise<number>; error: Promise<Error>; w: Worker } {
  const w = new Worker(fixture('poll-worker'), { workerData: { mode } });
  const first = new Promise<WorkerReport>((r) => w.once('message', r));
  const exit = new Promise<number>((r) => w.once('exit', r));
  const error = new Promise<Error>((r) => w.once('error', r));
  return { first, exit, error, w };
}

test('pollStart inside worker threads: fires on the worker, stops, survives exit with live polls', async (t) => {
  const stop = runWorker('stop');
  const rep = await withTimeout(stop.first, 10000, 'worker report');
  t.like(rep, { events: C.UV_READABLE, n: 1, hi: 0xfeedbeef, lo: 0x12345678, pid: process.pid, errOk: true });
  t.not(rep.tid, process.pid, 'the callback ran on the worker thread');
  t.is(await withTimeout(stop.exit, 10000, 'worker ends by itself after pollStop'), 0);

  const live = runWorker('exit-live');
  await withTimeout(live.first, 10000, 'exit-live report');
  t.is(await withTimeout(live.exit, 10000, 'exit-live exit'), 7);

  const term = runWorker('terminate-live');
  await withTimeout(term.first, 10000, 'terminate-live report');
  await term.w.terminate();
  t.is(await withTimeout(term.exit, 10000, 'terminate-live exit'), 1);

  const thrower = runWorker('throw');
  t.is((await withTimeout(thrower.error, 10000, 'worker error')).message, 'boom-in-worker');
  await withTimeout(thrower.exit, 10000, 'throw exit');
  t.pass('the process survived all of it');
});

test('an exception thrown by a poll callback is an ordinary uncaught exception', (t) => {
  const handled = spawnSync(process.execPath, [fixture('poll-throw'), 'handled'], { timeout: 15000, encoding: 'utf8' });
  t.is(handled.status, 0);
  t.regex(handled.stdout, /caught boom-from-poll/);
  const unhandled = spawnSync(process.execPath, [fixture('poll-throw')], { timeout: 15000, encoding: 'utf8' });
  t.is(unhandled.signal, null, 'no abort');
  t.is(unhandled.status, 1);
  t.regex(unhandled.stderr, /Error: boom-from-poll/);
});

// ---- checksum --------------------------------------------------------------------------------

/** Plain word-by-word Internet checksum sum: big-endian 16-bit words, odd byte padded low. */
function oracleSum(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  for (let i = 0; i + 1 < len; i += 2) s += ((b[off + i] ?? 0) << 8) | (b[off + i + 1] ?? 0);
  if (len & 1) s += (b[off + len - 1] ?? 0) << 8;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}
const fold16 = (s: number): number => {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
};

test('csumPartial/csumFold agree with a JS oracle for every length 0..70, odd offsets, initial values', (t) => {
  const buf = new Uint8Array(randomBytes(4096));
  const view = buf.subarray(1); // odd byteOffset
  const initials = [0, 1, 0xffff, 0x1fffe, 0xffffffff, 2 ** 40 + 3];
  let checked = 0;
  for (let len = 0; len <= 70; len++) {
    for (const off of [0, 1, 2, 3, 7, 13]) {
      for (const init of initials) {
        const want = oracleSum(view, off, len, init);
        const got = native.csumPartial(view, off, len, init);
        if (fold16(got) !== want || native.csumFold(got) !== (~want & 0xffff)) {
          t.fail(`len ${len} off ${off} init ${init}: got ${got}, want ${want}`);
          return;
        }
        checked++;
      }
    }
  }
  t.is(checked, 71 * 6 * initials.length);
});

test('csum: 64 KiB buffers, all-0xff and all-zero edge cases, chaining even splits', (t) => {
  for (let round = 0; round < 8; round++) {
    const b = new Uint8Array(randomBytes(65536 + 1)).subarray(1);
    const want = oracleSum(b, 0, b.length, 0);
    t.is(native.csumFold(native.csumPartial(b, 0, b.length, 0)), ~want & 0xffff);
    const split = 2 * Math.floor(Math.random() * 32768);
    const chained = native.csumPartial(b, split, b.length - split, native.csumPartial(b, 0, split, 0));
    t.is(fold16(chained), want);
  }
  const ones = new Uint8Array(65536).fill(0xff);
  t.is(native.csumFold(native.csumPartial(ones, 0, ones.length, 0)), 0);
  const zeros = new Uint8Array(1000);
  t.is(native.csumPartial(zeros, 0, zeros.length, 0), 0);
  t.is(native.csumFold(0), 0xffff);
  // RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  t.is(fold16(native.csumPartial(Uint8Array.from([0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8, 0)), 0xddf2);
});

// ---- UDP, TCP, splice, ping -------------------------------------------------------------------

for (const family of [4, 6] as const) {
  test(`sendmmsg/recvmmsg: 64 datagrams over UDP on ${family === 4 ? '127.0.0.1' : '::1'}`, (t) => {
    const { own, close } = fdsOf(t);
    const af = family === 4 ? C.AF_INET : C.AF_INET6;
    const host = family === 4 ? '127.0.0.1' : '::1';
    const rx = own(native.socket(af, C.SOCK_DGRAM, 0));
    const tx = own(native.socket(af, C.SOCK_DGRAM, 0));
    native.bindInet(rx, host, 0);
    native.bindInet(tx, host, 0);
    const rxPort = native.sockName(rx).port;
    const txPort = native.sockName(tx).port;
    const dgrams = Array.from({ length: 64 }, (_, i) => ({ data: enc(`datagram ${i} `.repeat(i + 1)), addr: host, port: rxPort }));
    t.is(native.sendmmsg(tx, dgrams), 64);
    const slot = 2048;
    const buf = new Uint8Array(slot * 64);
    const got = native.recvmmsg(rx, buf, slot, 64);
    t.is(got.length, 64);
    got.forEach((g, i) => {
      t.is(g.len, dgrams[i]?.data.length ?? -1);
      t.is(dec(buf.subarray(i * slot, i * slot + g.len)), `datagram ${i} `.repeat(i + 1));
      t.is(g.addr, host);
      t.is(g.port, txPort);
    });
    t.deepEqual(native.recvmmsg(rx, buf, slot, 64), [], 'EAGAIN gives []');
    native.connectInet(tx, host, rxPort);
    t.is(native.sendmmsg(tx, [{ data: enc('connected'), addr: '', port: 0 }]), 1);
    const one = native.recvFrom(rx, buf, 0, 100);
    t.like(one, { bytes: 9, addr: host, port: txPort });
    t.is(native.sendTo(tx, enc('to'), 0, 2, host, rxPort), 2);
    t.like(native.recvFrom(rx, buf, 0, 100), { bytes: 2 });
    t.is(native.recvFrom(rx, buf, 0, 100), null);
  });
}

test('TCP: accept/sockName/peerName, v4-mapped peer on a v6 listener, options, peek, shutdown', async (t) => {
  const { own, close } = fdsOf(t);
  const l = own(native.socket(C.AF_INET6, C.SOCK_STREAM, 0));
  native.setsockoptInt(l, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 0);
  native.setsockoptInt(l, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  t.is(native.getsockoptInt(l, C.SOL_SOCKET, C.SO_REUSEADDR), 1);
  native.bindInet(l, '127.0.0.1', 0); // IPv4 text on a v6 socket: mapped
  native.listen(l, 4);
  const { addr, port } = native.sockName(l);
  t.is(addr, '::ffff:127.0.0.1');
  const c = own(native.socket(C.AF_INET, C.SOCK_STREAM, 0));
  native.bindToDevice(c, 'lo');
  native.setsockoptInt(c, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
  native.connectInet(c, '127.0.0.1', port);
  let acc: { fd: number; addr: string; port: number } | null = null;
  t.true(await waitFor(() => (acc = native.accept(l)) !== null));
  const a = acc as unknown as { fd: number; addr: string; port: number };
  own(a.fd);
  t.is(a.addr, '::ffff:127.0.0.1');
  t.is(a.port, native.sockName(c).port);
  t.deepEqual(native.peerName(c), { addr: '127.0.0.1', port });
  t.deepEqual(native.peerName(a.fd), { addr: '::ffff:127.0.0.1', port: a.port });
  t.is(native.accept(l), null);
  t.true(await waitFor(() => native.tcpInfo(c).state === C.TCP_ESTABLISHED));
  t.is(native.send(c, enc('peekaboo'), 0, 8, 0), 8);
  const buf = new Uint8Array(16);
  t.true(await waitFor(() => native.recv(a.fd, buf, 0, 4, C.MSG_PEEK) === 4));
  t.is(native.recv(a.fd, buf, 0, 16, 0), 8);
  t.is(dec(buf.subarray(0, 8)), 'peekaboo');
  t.is(native.recv(a.fd, buf, 0, 16, 0), -1);
  native.shutdown(c, C.SHUT_WR);
  t.true(await waitFor(() => native.recv(a.fd, buf, 0, 16, 0) === 0), 'EOF after SHUT_WR');
  native.setsockoptInt(c, C.SOL_SOCKET, C.SO_RCVBUF, 65536);
  t.true(native.getsockoptInt(c, C.SOL_SOCKET, C.SO_RCVBUF) >= 65536);
});

test('tcpInfo, outq and inq on a connected loopback socket', async (t) => {
  const { client, server } = await tcpPair(t);
  const info = native.tcpInfo(client);
  t.is(info.state, C.TCP_ESTABLISHED);
  t.true(info.sndMss > 0 && info.sndMss <= 65535);
  t.true(info.rcvMss > 0);
  t.true(info.sndCwnd > 0);
  t.true(info.rcvSpace > 0);
  t.true(info.sndWscale >= 0 && info.sndWscale <= 14);
  t.is(native.inq(server), 0);
  t.is(native.send(client, new Uint8Array(1000), 0, 1000, 0), 1000);
  const q = native.outq(client);
  t.true(q >= 0 && q <= 1000);
  t.true(await waitFor(() => native.inq(server) === 1000), 'inq counts unread bytes');
  t.true(await waitFor(() => native.outq(client) === 0), 'outq empties once acked');
  t.true(await waitFor(() => native.tcpInfo(client).bytesAcked >= 1000));
  t.true(native.tcpInfo(server).bytesReceived >= 1000);
  t.true(native.tcpInfo(client).rtt > 0);
});

test('splice: TCP -> pipe -> TCP moves 1 MiB intact and passes EOF', async (t) => {
  const { own, close } = fdsOf(t);
  const one = await tcpPair(t);
  const two = await tcpPair(t);
  const [pr, pw] = native.pipe(1 << 20).map(own) as [number, number];
  const data = new Uint8Array(randomBytes(1 << 20));
  const got = new Uint8Array(data.length + 1);
  let sent = 0, inPipe = 0, recvd = 0, eofIn = false, eofOut = false;
  const deadline = Date.now() + 20000;
  while (!eofOut && Date.now() < deadline) {
    if (sent < data.length) {
      const n = native.send(one.client, data, sent, data.length - sent, 0);
      if (n > 0 && (sent += n) === data.length) native.shutdown(one.client, C.SHUT_WR);
    }
    const i = eofIn ? -1 : native.splice(one.server, pw, 1 << 20);
    if (i === 0) eofIn = true;
    if (i > 0) inPipe += i;
    const o = inPipe > 0 ? native.splice(pr, two.client, inPipe) : -1;
    if (o > 0) inPipe -= o;
    if (eofIn && inPipe === 0) native.shutdown(two.client, C.SHUT_WR);
    const r = native.recv(two.server, got, recvd, got.length - recvd, 0);
    if (r === 0) eofOut = true;
    if (r > 0) recvd += r;
    if (i <= 0 && o <= 0 && r <= 0) await sleep(1);
  }
  t.true(eofOut, 'EOF arrived at the far end');
  t.is(recvd, data.length);
  t.true(Buffer.compare(got.subarray(0, recvd), data) === 0, 'bytes intact');
});

function enablePingSockets(): void {
  const path = '/proc/sys/net/ipv4/ping_group_range';
  const [lo = 1, hi = 0] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
  if (!(lo <= 0 && hi >= 0)) writeFileSync(path, '0 2147483647');
}

for (const family of [4, 6] as const) {
  test(`pingSocket(${family}) echoes on loopback`, async (t) => {
    enablePingSockets();
    const { own, close } = fdsOf(t);
    const fd = own(native.pingSocket(family));
    const host = family === 4 ? '127.0.0.1' : '::1';
    const echo = Uint8Array.from([family === 4 ? 8 : 128, 0, 0, 0, 0, 0, 0, 1, ...enc('ping!')]);
    const sum = native.csumFold(native.csumPartial(echo, 0, echo.length, 0));
    echo[2] = sum >> 8;
    echo[3] = sum & 0xff;
    t.is(native.sendTo(fd, echo, 0, echo.length, host, 0), echo.length);
    const buf = new Uint8Array(128);
    const r = await readWhenReady(fd, () => native.recvFrom(fd, buf, 0, buf.length), 3000);
    t.is(r.addr, host);
    t.is(r.bytes, echo.length);
    t.is(buf[0], family === 4 ? 0 : 129, 'echo reply');
    t.is(dec(buf.subarray(8, r.bytes)), 'ping!');
  });
}

// ---- memory, timers, processes -----------------------------------------------------------------

test('memfd + mmapShared: two mappings and the fd see the same bytes', (t) => {
  const { own, close } = fdsOf(t);
  const fd = own(native.memfd('native-test', 8192));
  const a = new Uint8Array(native.mmapShared(fd, 8192));
  const b = new Uint8Array(native.mmapShared(fd, 8192));
  t.is(a.length, 8192);
  a[4000] = 42;
  t.is(b[4000], 42);
  t.is(native.write(fd, enc('hello'), 0, 5), 5);
  t.is(dec(a.subarray(0, 5)), 'hello');
  t.throws(() => native.mmapShared(fd, 0), { instanceOf: ErrnoError, code: 'EINVAL', message: /^mmap: / });
});

test('timerfd fires once, then stays quiet; eventfd counts', async (t) => {
  const { own, close } = fdsOf(t);
  const tfd = own(native.timerfd());
  const buf = new Uint8Array(8);
  native.timerfdSet(tfd, 20, 0);
  t.is(native.read(tfd, buf, 0, 8), -1, 'not yet');
  const start = Date.now();
  const n = await readWhenReady(tfd, () => (native.read(tfd, buf, 0, 8) === 8 ? 8 : null), 3000);
  t.is(n, 8);
  t.true(Date.now() - start >= 15);
  t.is(new DataView(buf.buffer).getBigUint64(0, true), 1n);
  await sleep(40);
  t.is(native.read(tfd, buf, 0, 8), -1, 'one-shot');
  const ev = own(native.eventfd());
  t.is(native.eventfdRead(ev), 0);
  native.eventfdWrite(ev, 3);
  native.eventfdWrite(ev, 4);
  t.is(native.eventfdRead(ev), 7);
});

test('processes: getpid/gettid, processExists for us and for a reaped child', async (t) => {
  t.is(native.getpid(), process.pid);
  t.is(native.gettid(), process.pid, 'the main thread');
  t.true(native.processExists(process.pid));
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid ?? -1;
  t.is(await childExit(child, 10000), 0);
  t.false(native.processExists(pid));
  t.throws(() => native.processExists(0), { instanceOf: RangeError });
  t.notThrows(() => native.setParentDeathSignal(0));
});

test('raiseNofileLimit: the soft limit of open files goes up to the hard one (prlimit 100:300 -> 300)', (t) => {
  const index = fileURLToPath(new URL('./index.js', import.meta.url));
  const script = `import('${index}').then(({ native }) => console.log(native.raiseNofileLimit()))`;
  const r = spawnSync('prlimit', ['--nofile=100:300', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '300');
});
