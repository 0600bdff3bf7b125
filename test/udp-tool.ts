/**
 * Small UDP peers for the end-to-end tests, run as `node dist/test/udp-tool.js MODE ...` inside a
 * namespace (the kernel's sockets, nothing of ours):
 *
 *   echo FAMILY ADDR PORT SECONDS       echoes every datagram to its sender; prints `ready`, then
 *                                       `peer ADDR PORT LEN` per datagram
 *   sink FAMILY ADDR PORT SECONDS       counts datagrams; prints `ready`, then at the end
 *                                       `{"count":N,"bytes":N}` (ends 1.5 s after the last datagram)
 *   blast FAMILY ADDR PORT PPS SECONDS SIZE
 *                                       a connected socket sending SIZE-byte datagrams at PPS per second;
 *                                       prints `{"sent":N}`
 *   ping FAMILY ADDR PORT SECONDS MS    one connected socket sending `seq N` every MS ms; prints `ready`,
 *                                       then `reply N` for every answer (an echo peer's)
 *   check FAMILY ADDR PORT COUNT SIZE   one connected socket sends COUNT random SIZE-byte datagrams, one at a
 *                                       time, each compared byte for byte with its echo (1 s each); prints
 *                                       `{"port":LOCAL,"ok":N,"bad":N,"lost":N}`
 * Every mode ends by itself after SECONDS at most.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const [mode, fam, addr, portText, ...rest] = process.argv.slice(2);
const family = fam === '6' ? 6 : 4;
const port = Number(portText);

function socket(): dgram.Socket {
  return dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
}

function endAfter(seconds: number, last: () => void = () => {}): void {
  setTimeout(() => {
    last();
    process.exit(0);
  }, seconds * 1000).unref();
}

function echo(seconds: number): void {
  const s = socket();
  s.on('message', (m, r) => {
    process.stdout.write(`peer ${r.address} ${r.port} ${m.length}\n`);
    s.send(m, r.port, r.address);
  });
  s.bind(port, addr, () => process.stdout.write('ready\n'));
  endAfter(seconds);
}

function sink(seconds: number): void {
  const s = socket();
  let count = 0, bytes = 0;
  let idle: NodeJS.Timeout | undefined;
  const report = () => process.stdout.write(`${JSON.stringify({ count, bytes })}\n`);
  s.on('message', (m) => {
    count++;
    bytes += m.length;
    clearTimeout(idle);
    idle = setTimeout(() => (report(), process.exit(0)), 1500);
  });
  s.bind(port, addr, () => process.stdout.write('ready\n'));
  endAfter(seconds, report);
}

function blast(pps: number, seconds: number, size: number): void {
  const s = socket();
  const payload = Buffer.alloc(size, 0x5a);
  let sent = 0;
  const start = Date.now();
  s.connect(port, addr, () => {
    const tick = setInterval(() => {
      const due = Math.min(pps * seconds, Math.floor(((Date.now() - start) / 1000) * pps));
      for (; sent < due; sent++) s.send(payload);
      if (sent >= pps * seconds) {
        clearInterval(tick);
        setTimeout(() => (process.stdout.write(`${JSON.stringify({ sent })}\n`), process.exit(0)), 200);
      }
    }, 5);
  });
  endAfter(seconds + 5);
}

function ping(seconds: number, everyMs: number): void {
  const s = socket();
  let seq = 0;
  s.on('message', (m) => process.stdout.write(`reply ${m.toString().replace(/^seq /, '')}\n`));
  s.on('error', () => {}); // refused while nobody listens: keep going
  s.connect(port, addr, () => {
    process.stdout.write('ready\n');
    setInterval(() => s.send(`seq ${seq++}`), everyMs);
  });
  endAfter(seconds);
}

function check(count: number, size: number): void {
  const s = socket();
  const result = { port: 0, ok: 0, bad: 0, lost: 0 };
  let want: Buffer | null = null;
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  const next = (): void => {
    clearTimeout(timer);
    if (sent === count) return void (process.stdout.write(`${JSON.stringify(result)}\n`), process.exit(0));
    sent++;
    want = randomBytes(size);
    timer = setTimeout(() => (result.lost++, next()), 1000);
    s.send(want);
  };
  s.on('message', (m) => {
    if (want === null) return;
    if (m.equals(want)) result.ok++;
    else result.bad++;
    want = null;
    next();
  });
  s.on('error', () => {}); // refused: counted as lost by the timer
  s.connect(port, addr, () => {
    result.port = s.address().port;
    next();
  });
  endAfter(count + 5, () => process.stdout.write(`${JSON.stringify(result)}\n`));
}

if (mode === 'echo') echo(Number(rest[0] ?? 10));
else if (mode === 'sink') sink(Number(rest[0] ?? 10));
else if (mode === 'ping') ping(Number(rest[0]), Number(rest[1]));
else if (mode === 'check') check(Number(rest[0]), Number(rest[1]));
else if (mode === 'blast') blast(Number(rest[0]), Number(rest[1]), Number(rest[2]));
else {
  process.stderr.write(`usage: udp-tool echo|sink|blast|ping|check FAMILY ADDR PORT ...\n`);
  process.exit(2);
}
