/**
 * Helpers for the UDP end-to-end tests: our pasta serving a guest namespace inside the private topology
 * (test/topology.ts), UDP peers (udp-tool.ts) in any of the namespaces, the host namespace's own
 * resolv.conf, and the counters pasta logs at exit. Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASTA, ROOT, background, exitWithin, makeNetns, run, waitFor, type Background, type RunResult } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';

export const UDP_TOOL = `${ROOT}dist/test/udp-tool.js`;
export const GUEST_IF = 'pa0';

export interface UdpWorld {
  topo: Topology;
  guest: string;
  pasta: Background;
  dir: string;
  /** runs a shell script in the guest namespace */
  inGuest: (script: string, timeoutMs?: number) => RunResult;
  /** argv prefix for the guest namespace */
  guestArgv: (argv: string[]) => string[];
  /** SIGTERM, then the log (with -d: the counters) */
  stop: () => Promise<string>;
}

export interface WorldOptions {
  /** environment for pasta (e.g. the test-only UDP timeouts) */
  env?: Record<string, string>;
  /** the host namespace's /etc/resolv.conf */
  resolvConf?: string;
  /** pasta runs with --actors */
  actors?: boolean;
  /** an existing topology (default: a new one) */
  topo?: Topology;
  /** loopback datagrams take the loopback fast path (default: off, --no-splice: the tap path) */
  splice?: boolean;
}

import { tempDir } from './helpers.js';
export { tempDir };
import { hostResolvConf } from './topology.js';
export { hostResolvConf };


/** Starts our pasta (-d, --config-net) in the host namespace serving a new guest namespace. */
export async function startWorld(t: ExecutionContext, args: string[], opts: WorldOptions = {}): Promise<UdpWorld> {
  const topo = opts.topo ?? makeTopology(t);
  if (opts.resolvConf !== undefined) hostResolvConf(t, topo, opts.resolvConf);
  const guest = makeNetns(t, 'pag');
  const dir = tempDir(t, 'udp-');
  const log = join(dir, 'pasta.log'), pidFile = join(dir, 'pid');
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const argv = [PASTA, '-f', '-d', '-l', log, '-P', pidFile, '--config-net', '-I', GUEST_IF, ...(opts.actors ? ['--actors'] : []), ...(opts.splice ? [] : ['--no-splice']), ...args, '--netns', guest];
  const pasta = background(t, 'env', [...env, 'ip', 'netns', 'exec', topo.host, ...argv]);
  const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  await waitFor('pasta serving the guest', () => existsSync(pidFile) && guestAddressed(guest), 20_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}; pasta said: ${pasta.err()}${logText()}`);
  });
  pinGatewayNeighbours(topo, guest);
  await untentative([topo.host, topo.upstream]);
  const guestArgv = (a: string[]) => ['ip', 'netns', 'exec', guest, ...a];
  const inGuest = (script: string, timeoutMs = 30_000) => run('ip', ['netns', 'exec', guest, 'sh', '-c', script], timeoutMs);
  const stop = async () => {
    if (pasta.child.exitCode === null) pasta.child.kill('SIGTERM');
    await exitWithin(pasta, 10_000).catch(() => pasta.child.kill('SIGKILL'));
    return logText();
  };
  return { topo, guest, pasta, dir, inGuest, guestArgv, stop };
}

/**
 * Waits for the link-local addresses of the topology's veth to pass duplicate address detection (about
 * 2 s after the link comes up): until then the upstream cannot resolve the host's IPv6 neighbour, and
 * its first datagrams to the host wait in the neighbour queue for seconds.
 */
async function untentative(namespaces: string[]): Promise<void> {
  const tentative = () => namespaces.some((ns) => run('ip', ['-n', ns, '-6', 'addr', 'show', 'tentative'], 5000).stdout.trim() !== '');
  await waitFor('IPv6 duplicate address detection in the topology', () => !tentative(), 10_000, 100);
}

function guestAddressed(guest: string): boolean {
  return run('ip', ['-n', guest, '-o', 'addr', 'show', 'dev', GUEST_IF], 5000).stdout.includes('inet ');
}

/**
 * Static neighbour entries for the gateway in the guest, so that these tests of UDP do not depend on
 * the guest services' ARP and NDP answers. pasta's MAC towards the guest is the host interface's.
 */
function pinGatewayNeighbours(topo: Topology, guest: string): void {
  const links = JSON.parse(run('ip', ['-n', topo.host, '-j', 'link', 'show']).stdout) as { ifname: string; address: string }[];
  const mac = links.find((l) => l.ifname !== 'lo')!.address;
  for (const gw of [topo.gw4, topo.gw6]) run('ip', ['-n', guest, 'neigh', 'replace', gw, 'lladdr', mac, 'dev', GUEST_IF, 'nud', 'permanent']);
}

/** A udp-tool peer in a namespace (argv prefix from topo.inHost / inUpstream / world.guestArgv), once ready. */
export async function peer(t: ExecutionContext, inNs: (argv: string[]) => string[], args: string[]): Promise<Background> {
  const argv = inNs(['node', UDP_TOOL, ...args]);
  const b = background(t, argv[0]!, argv.slice(1));
  await waitFor(`udp-tool ${args.join(' ')} ready`, () => b.out().includes('ready'), 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${b.err()}`);
  });
  return b;
}

/** `peer ADDR PORT LEN` lines of an echo peer. */
export function echoPeers(b: Background): { addr: string; port: number; len: number }[] {
  return [...b.out().matchAll(/^peer (\S+) (\d+) (\d+)$/gm)].map((m) => ({ addr: m[1]!, port: Number(m[2]), len: Number(m[3]) }));
}

/** The counters our pasta logged at exit (-d), by actor. */
export function countersOf(log: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of log.matchAll(/counters (\w+): (\{.*\})$/gm)) out[m[1]!] = JSON.parse(m[2]!) as Record<string, number>;
  return out;
}

/** A port no one uses in any of the test's namespaces (random in 20000..29999: each namespace is private). */
export function somePort(): number {
  return 20000 + Math.floor(Math.random() * 10000);
}
