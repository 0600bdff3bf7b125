/**
 * Helpers for the TCP end-to-end tests: our pasta (-d, --config-net) in the host namespace of the private
 * topology (test/topology.ts) serving a guest namespace, TCP peers (tcp-tool.ts, socat, curl) in any
 * namespace, fd counts and the counters pasta logs at exit. Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASTA, ROOT, background, exitWithin, makeNetns, run, waitFor, type Background, type RunResult } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';

export const TCP_TOOL = `${ROOT}dist/test/tcp-tool.js`;
export const GUEST_IF = 'pa0';

export interface TcpWorld {
  topo: Topology;
  guest: string;
  pasta: Background;
  dir: string;
  log: () => string;
  /** runs a shell script in the guest namespace */
  inGuest: (script: string, timeoutMs?: number) => RunResult;
  guestArgv: (argv: string[]) => string[];
  /** SIGTERM, then the log (with -d: the counters) */
  stop: () => Promise<string>;
}

import { tempDir } from './helpers.js';
export { tempDir };
import { hostResolvConf } from './topology.js';
export { hostResolvConf };


export interface WorldOptions {
  actors?: boolean;
  topo?: Topology;
  /** the host namespace's /etc/resolv.conf */
  resolvConf?: string;
  /** loopback -t connections take the splice path (default: off, --no-splice: the tap path) */
  splice?: boolean;
}

/** Starts our pasta in the host namespace, attached to a new guest namespace (`--netns`). */
export async function startWorld(t: ExecutionContext, args: string[], opts: WorldOptions = {}): Promise<TcpWorld> {
  const topo = opts.topo ?? makeTopology(t);
  if (opts.resolvConf !== undefined) hostResolvConf(t, topo, opts.resolvConf);
  const guest = makeNetns(t, 'pag');
  const dir = tempDir(t, 'tcp-');
  const logFile = join(dir, 'pasta.log'), pidFile = join(dir, 'pid');
  const argv = [PASTA, '-f', '-d', '-l', logFile, '-P', pidFile, '--config-net', '-I', GUEST_IF, ...(opts.actors ? ['--actors'] : []), ...(opts.splice ? [] : ['--no-splice']), ...args, '--netns', guest];
  const pasta = background(t, 'ip', ['netns', 'exec', topo.host, ...argv]);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await waitFor('pasta serving the guest', () => existsSync(pidFile) && guestAddressed(guest), 20_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}; pasta said: ${pasta.err()}${log()}`);
  });
  pinGatewayNeighbours(topo, guest);
  await untentative([topo.host, topo.upstream]);
  const guestArgv = (a: string[]) => ['ip', 'netns', 'exec', guest, ...a];
  const inGuest = (script: string, timeoutMs = 30_000) => run('ip', ['netns', 'exec', guest, 'sh', '-c', script], timeoutMs);
  const stop = async () => {
    if (pasta.child.exitCode === null) pasta.child.kill('SIGTERM');
    await exitWithin(pasta, 10_000).catch(() => pasta.child.kill('SIGKILL'));
    return log();
  };
  return { topo, guest, pasta, dir, log, inGuest, guestArgv, stop };
}

function guestAddressed(guest: string): boolean {
  return run('ip', ['-n', guest, '-o', 'addr', 'show', 'dev', GUEST_IF], 5000).stdout.includes('inet ');
}

/** Waits until no address of the topology's veth is tentative (IPv6 duplicate address detection). */
async function untentative(namespaces: string[]): Promise<void> {
  const tentative = () => namespaces.some((ns) => run('ip', ['-n', ns, '-6', 'addr', 'show', 'tentative'], 5000).stdout.trim() !== '');
  await waitFor('IPv6 duplicate address detection in the topology', () => !tentative(), 10_000, 100);
}

/**
 * Static neighbour entries for the gateway in the guest, so that these tests of TCP do not depend on
 * the guest services' ARP and NDP answers. pasta's MAC towards the guest is the host interface's.
 */
function pinGatewayNeighbours(topo: Topology, guest: string): void {
  const links = JSON.parse(run('ip', ['-n', topo.host, '-j', 'link', 'show']).stdout) as { ifname: string; address: string }[];
  const mac = links.find((l) => l.ifname !== 'lo')!.address;
  for (const gw of [topo.gw4, topo.gw6]) run('ip', ['-n', guest, 'neigh', 'replace', gw, 'lladdr', mac, 'dev', GUEST_IF, 'nud', 'permanent']);
}

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

/** The counters our pasta logged at exit (-d), by actor. */
export function countersOf(log: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of log.matchAll(/counters (\w+): (\{.*\})$/gm)) out[m[1]!] = JSON.parse(m[2]!) as Record<string, number>;
  return out;
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
