/**
 * Helpers for the TCP end-to-end tests: the world of world.ts (our pasta serving a guest namespace in
 * the private topology), TCP peers (tcp-tool.ts, socat, curl) in any namespace, fd counts, the 1 GiB
 * payload. Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, background, run, waitFor, type Background } from './helpers.js';
import type { World } from './world.js';
export { GUEST_IF, countersOf, startWorld, type WorldOptions } from './world.js';

export const TCP_TOOL = `${ROOT}dist/test/tcp-tool.js`;

/** Our pasta serving a guest namespace (world.ts). */
export type TcpWorld = World;

/** A tcp-tool peer in a namespace (argv prefix from topo.inHost / inUpstream / world.guestArgv). */
export function tool(t: ExecutionContext, inNs: (argv: string[]) => string[], args: string[]): Background {
  const argv = inNs(['node', TCP_TOOL, ...args]);
  return background(t, argv[0]!, argv.slice(1));
}

/** A tcp-tool echo server, once listening. */
export async function echoServer(t: ExecutionContext, inNs: (argv: string[]) => string[], addr: string, port: number, seconds = 60): Promise<Background> {
  const b = tool(t, inNs, ['echo', addr, String(port), String(seconds)]);
  await waitFor(`echo server on ${addr} ${port}`, () => b.out().includes('ready'), 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${b.err()}`);
  });
  return b;
}

/** A background command in a namespace, once `port` is listening there (ss). */
export async function listening(t: ExecutionContext, ns: string, argv: string[], port: number): Promise<Background> {
  const b = background(t, 'ip', ['netns', 'exec', ns, ...argv]);
  await waitFor(`a listener on port ${port} in ${ns}`, () => run('ip', ['netns', 'exec', ns, 'ss', '-Htln', `sport = :${port}`]).stdout.includes(String(port)), 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${b.err()}`);
  });
  return b;
}


/** Open flows by the tcp actor's counters (opened minus closed and reset). */
export function openFlows(c: Record<string, number> | undefined): number {
  return (c?.['flows-opened'] ?? 0) - (c?.['flows-closed'] ?? 0) - (c?.['flows-reset'] ?? 0);
}

/** A port no one uses in the test's namespaces (random in 30000..39999: each namespace is private). */
export function somePort(): number {
  return 30000 + Math.floor(Math.random() * 10000);
}

/** Number of open fds of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The pid of our pasta (the router process) in a world: the child of `ip netns exec` is pasta itself. */
export function pastaPid(w: TcpWorld): number {
  return w.pasta.child.pid!;
}

/**
 * The 1 GiB random payload of the bulk-transfer tests: made once per test file (ava `before` hook), its
 * sha256 computed, removed after (`after.always`).
 */
export function bulkData(test: import('ava').TestFn, prefix: string, size: number): { dir: string; file: string; digest: () => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'data');
  let digest = '';
  test.before(async () => {
    const r = run('sh', ['-c', `head -c ${size} /dev/urandom > ${file}`], 60_000);
    if (r.status !== 0) throw new Error(r.stderr);
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    digest = h.digest('hex');
  });
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, file, digest: () => digest };
}

/** An address as a socat/URL host: IPv6 in brackets. */
export const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);

/** Throughput text of `bytes` moved in `ms`. */
export const rate = (bytes: number, ms: number): string =>
  `${((bytes / (ms / 1000)) / 1e6).toFixed(0)} MB/s (${((bytes * 8) / (ms / 1000) / 1e9).toFixed(2)} Gbit/s)`;
