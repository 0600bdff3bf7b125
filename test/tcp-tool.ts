/**
 * Small TCP peers for the end-to-end tests, run as `node dist/test/tcp-tool.js MODE ...` inside a
 * namespace (the kernel's sockets, nothing of ours):
 *
 *   echo ADDR PORT SECONDS              echo server; prints `ready`, then `peer ADDR PORT` per connection
 *   many ADDR PORT N HOLD_MS SECONDS    opens N connections at once, each sends `hello I\n` and waits for
 *                                       its echo; prints `connected N` once all echoed, holds them HOLD_MS,
 *                                       closes them all, prints `closed N` once every one has ended, and
 *                                       `{"ok":N,"failed":N,"errors":{...}}`
 *   stream ADDR PORT SECONDS            connects and writes zeros as fast as it can; prints `connected`,
 *                                       then at the end `{"sent":N,"error":CODE}` (CODE of the failure
 *                                       that ended it, or "timeout")
 * Every mode ends by itself after SECONDS at most.
 */
import net from 'node:net';

const [mode, addr = '', portText = '0', ...rest] = process.argv.slice(2);
const port = Number(portText);
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

function endAfter(seconds: number, last: () => void = () => {}): void {
  setTimeout(() => {
    last();
    process.exit(0);
  }, seconds * 1000).unref();
}

function echo(seconds: number): void {
  const server = net.createServer((s) => {
    out(`peer ${s.remoteAddress ?? '?'} ${s.remotePort ?? 0}`);
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  server.maxConnections = 100_000;
  server.listen({ host: addr, port, backlog: 4096, ipv6Only: addr.includes(':') }, () => out('ready'));
  endAfter(seconds);
}

function many(n: number, holdMs: number, seconds: number): void {
  const socks: net.Socket[] = [];
  const errors: Record<string, number> = {};
  let echoed = 0, ended = 0, ok = 0;
  const report = () => out(JSON.stringify({ ok, failed: n - ok, errors }));
  const finish = () => {
    if (++ended < n) return;
    out(`closed ${n}`);
    report();
    process.exit(0);
  };
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: addr, port });
    let got = '';
    s.on('connect', () => s.write(`hello ${i}\n`));
    s.on('data', (d) => {
      got += d.toString();
      if (got !== `hello ${i}\n`) return;
      ok++;
      if (++echoed === n) {
        out(`connected ${n}`);
        setTimeout(() => socks.forEach((x) => x.end()), holdMs);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => (errors[e.code ?? 'error'] = (errors[e.code ?? 'error'] ?? 0) + 1));
    s.on('close', finish);
    socks.push(s);
  }
  endAfter(seconds, report);
}

function stream(seconds: number): void {
  const s = net.connect({ host: addr, port });
  const chunk = Buffer.alloc(65536);
  let sent = 0;
  const done = (error: string) => {
    out(JSON.stringify({ sent, error }));
    process.exit(0);
  };
  const pump = () => {
    while (s.write(chunk)) sent += chunk.length;
    sent += chunk.length;
  };
  s.on('connect', () => {
    out('connected');
    pump();
  });
  s.on('drain', pump);
  s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
  s.on('close', () => done('closed'));
  endAfter(seconds, () => done('timeout'));
}

switch (mode) {
  case 'echo':
    echo(Number(rest[0] ?? 30));
    break;
  case 'many':
    many(Number(rest[0] ?? 10), Number(rest[1] ?? 0), Number(rest[2] ?? 60));
    break;
  case 'stream':
    stream(Number(rest[0] ?? 30));
    break;
  default:
    process.stderr.write(`tcp-tool: unknown mode ${String(mode)}\n`);
    process.exit(2);
}
