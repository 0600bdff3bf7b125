/**
 * The benchmark's own traffic ends, run by the benchmark inside a namespace (`node peer.js MODE ...`).
 * Each mode prints one JSON line with its result (and "armed"/"ready" first where the benchmark must wait),
 * and every mode is bounded in time.
 *
 *   serve RR_PORT CRR_PORT UDP_PORT    echo server, connect-and-close server, UDP counter (0 = off);
 *                                      prints "ready"; stdin lines "udp-reset" / "udp-stats"; exits at EOF
 *   rr HOST PORT SECONDS SIZE          request/response round trips of SIZE bytes: {n, p50, p99} in µs
 *   crr HOST PORT SECONDS PARALLEL     connect, read one byte, close, repeat: {conns, errors, seconds}
 *   udp-send HOST PORT MBIT SIZE SECS  datagrams at a fixed offered rate: {sent, bytes, seconds}
 *   ready HOST PORT LIMIT_MS           prints "armed"; then the times (epoch ms) when a default route
 *                                      appears and when a first TCP connection succeeds
 *   probe HOST PORT LIMIT_MS           prints "armed"; for each stdin line, ms until a connection succeeds
 *   connect HOST PORT LIMIT_MS         ms until a TCP connection succeeds (retrying), or the error
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { percentile } from './stats.js';

const nowMs = () => performance.now();
const epochMs = () => performance.timeOrigin + performance.now();
const print = (o: unknown) => process.stdout.write(`${typeof o === 'string' ? o : JSON.stringify(o)}\n`);

/** Hard limit: whatever happens, this process is gone after ms. */
function limit(ms: number): void {
  setTimeout(() => {
    print({ error: `peer: hard time limit of ${ms} ms` });
    process.exit(3);
  }, ms).unref();
}

/* ---------------------------------------------------------------------------------------------- */

function serve(rrPort: number, crrPort: number, udpPort: number): void {
  const servers: Promise<void>[] = [];
  if (rrPort) servers.push(listen(net.createServer({ noDelay: true }, (s) => s.on('data', (d) => s.write(d)).on('error', () => s.destroy())), rrPort));
  if (crrPort) servers.push(listen(net.createServer((s) => s.on('error', () => s.destroy()).end('x')), crrPort));
  const udp = { packets: 0, bytes: 0 };
  if (udpPort) servers.push(udpCounter(udpPort, udp));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    if (l === 'udp-reset') (udp.packets = 0, udp.bytes = 0, print({ ok: true }));
    else if (l === 'udp-stats') print({ udp });
  });
  rl.on('close', () => process.exit(0));
  void Promise.all(servers).then(() => print('ready'), (e: Error) => (print({ error: e.message }), process.exit(1)));
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', backlog: 4096 }, () => resolve());
  });
}

function udpCounter(port: number, udp: { packets: number; bytes: number }): Promise<void> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  s.on('message', (m) => (udp.packets++, (udp.bytes += m.length)));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '0.0.0.0', () => resolve());
  });
}

/* ---------------------------------------------------------------------------------------------- */

function rr(host: string, port: number, seconds: number, size: number): void {
  limit(seconds * 1000 + 10_000);
  const msg = Buffer.alloc(size, 0x61);
  const rtts: number[] = [];
  const s = net.connect({ host, port, noDelay: true, timeout: 5000 });
  let got = 0, t0 = 0, end = 0, warm = 50;
  const send = () => ((t0 = nowMs()), s.write(msg));
  s.on('connect', () => ((end = nowMs() + seconds * 1000), send()));
  s.on('data', (d) => {
    got += d.length;
    if (got < size) return;
    got -= size;
    const t = nowMs();
    if (warm > 0) warm--;
    else rtts.push((t - t0) * 1000);
    if (t < end) send();
    else finishRr(s, rtts);
  });
  s.on('timeout', () => fail(s, 'no answer for 5 s'));
  s.on('error', (e) => fail(s, e.message));
}

function finishRr(s: net.Socket, rtts: number[]): void {
  s.destroy();
  print({ n: rtts.length, p50: percentile(rtts, 50), p99: percentile(rtts, 99) });
  process.exit(0);
}

function fail(s: net.Socket, error: string): void {
  s.destroy();
  print({ error });
  process.exit(1);
}

/* ---------------------------------------------------------------------------------------------- */

function crr(host: string, port: number, seconds: number, parallel: number): void {
  limit(seconds * 1000 + 10_000);
  const r = { conns: 0, errors: 0, seconds, firstError: '' };
  const t0 = nowMs(), end = t0 + seconds * 1000;
  let running = parallel;
  const one = () => {
    if (nowMs() >= end) {
      if (--running === 0) (print({ ...r, seconds: (nowMs() - t0) / 1000 }), process.exit(0));
      return;
    }
    const s = net.connect({ host, port, timeout: 2000 });
    let ok = false;
    s.on('data', () => (ok = true));
    s.on('timeout', () => s.destroy(new Error('timed out')));
    s.on('error', (e) => ((r.firstError ||= e.message), r.errors++));
    s.on('close', () => (ok && r.conns++, setImmediate(one)));
    s.resume();
  };
  for (let i = 0; i < parallel; i++) one();
}

/* ---------------------------------------------------------------------------------------------- */

function udpSend(host: string, port: number, mbit: number, size: number, seconds: number): void {
  limit(seconds * 1000 + 10_000);
  const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  const buf = Buffer.alloc(size, 0x75);
  const perMs = (mbit * 1e6) / 8 / size / 1000;
  const r = { sent: 0, bytes: 0, errors: 0, seconds: 0, firstError: '' };
  let queued = 0, t0 = 0;
  const done = (e: Error | null) => {
    queued--;
    if (e) (r.errors++, (r.firstError ||= e.message));
    else (r.sent++, (r.bytes += size));
  };
  const tick = () => {
    const el = nowMs() - t0;
    if (el >= seconds * 1000) return finishUdp(s, r, el, () => queued);
    const due = Math.floor(el * perMs) - r.sent - r.errors - queued;
    for (let i = 0; i < due && queued < 4096; i++) (queued++, s.send(buf, done));
    setTimeout(tick, 1);
  };
  s.on('error', (e) => (print({ error: e.message }), process.exit(1)));
  s.connect(port, host, () => ((t0 = nowMs()), tick()));
}

function finishUdp(s: dgram.Socket, r: { seconds: number }, elapsedMs: number, queued: () => number): void {
  r.seconds = elapsedMs / 1000;
  const wait = () => (queued() > 0 ? setTimeout(wait, 5) : (print(r), s.close(), process.exit(0)));
  wait();
}

/* ---------------------------------------------------------------------------------------------- */

function hasDefaultRoute(): boolean {
  try {
    return readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).some((l) => l.split('\t')[1] === '00000000');
  } catch {
    return false;
  }
}

/** Tries TCP connections (each given attemptMs) until one succeeds; resolves with null or the last error at deadline. */
function connectUntil(host: string, port: number, deadline: number, attemptMs = 100): Promise<string | null> {
  return new Promise((resolve) => {
    let lastError = 'no attempt';
    const attempt = () => {
      if (nowMs() >= deadline) return resolve(`no TCP connection to ${host}:${port} within the limit (last: ${lastError})`);
      const s = net.connect({ host, port });
      const timer = setTimeout(() => s.destroy(new Error(`connect took over ${attemptMs} ms`)), attemptMs);
      s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve(null)));
      s.once('error', (e) => (clearTimeout(timer), (lastError = e.message), setTimeout(attempt, 2)));
    };
    attempt();
  });
}

function ready(host: string, port: number, limitMs: number): void {
  limit(limitMs + 5000);
  const deadline = nowMs() + limitMs;
  print('armed');
  const poll = () => {
    if (nowMs() >= deadline) return (print({ error: `no default route within ${limitMs} ms` }), process.exit(1));
    if (!hasDefaultRoute()) return void setTimeout(poll, 1);
    const configuredAt = epochMs();
    void connectUntil(host, port, deadline).then((error) => {
      print(error ? { configuredAt, connectedAt: null, error } : { configuredAt, connectedAt: epochMs() });
      process.exit(0);
    });
  };
  poll();
}

function probe(host: string, port: number, limitMs: number): void {
  print('armed');
  const rl = createInterface({ input: process.stdin });
  let busy = Promise.resolve();
  rl.on('line', () => {
    busy = busy.then(async () => {
      const t0 = nowMs();
      const error = await connectUntil(host, port, t0 + limitMs);
      print(error ? { error } : { ms: nowMs() - t0 });
    });
  });
  rl.on('close', () => void busy.then(() => process.exit(0)));
}

function connectOnce(host: string, port: number, limitMs: number): void {
  limit(limitMs + 5000);
  const t0 = nowMs();
  void connectUntil(host, port, t0 + limitMs).then((error) => {
    print(error ? { error } : { ms: nowMs() - t0 });
    process.exit(0);
  });
}

/* ---------------------------------------------------------------------------------------------- */

function main(argv: string[]): void {
  const [mode, ...a] = argv;
  const n = (i: number) => Number(a[i]);
  const s = (i: number) => a[i] ?? '';
  switch (mode) {
    case 'serve': return serve(n(0), n(1), n(2));
    case 'rr': return rr(s(0), n(1), n(2), n(3));
    case 'crr': return crr(s(0), n(1), n(2), n(3));
    case 'udp-send': return udpSend(s(0), n(1), n(2), n(3), n(4));
    case 'ready': return ready(s(0), n(1), n(2));
    case 'probe': return probe(s(0), n(1), n(2));
    case 'connect': return connectOnce(s(0), n(1), n(2));
    default:
      print({ error: `peer: unknown mode ${mode}` });
      process.exit(2);
  }
}

main(process.argv.slice(2));
