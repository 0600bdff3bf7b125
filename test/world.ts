/**
 * The end-to-end world of the TCP, UDP and splice tests: our pasta (-d, --config-net) in the host
 * namespace of the private topology (test/topology.ts), attached with `--netns` to a new guest
 * namespace, with the gateway's neighbours pinned and IPv6 duplicate address detection done; and the
 * counters pasta logs at exit. Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASTA, background, exitWithin, makeNetns, run, tempDir, waitFor, type Background, type RunResult } from './helpers.js';
import { hostResolvConf, makeTopology, type Topology } from './topology.js';

export const GUEST_IF = 'pa0';

export interface World {
  topo: Topology;
  guest: string;
  pasta: Background;
  dir: string;
  /** pasta's log so far */
  log: () => string;
  /** runs a shell script in the guest namespace */
  inGuest: (script: string, timeoutMs?: number) => RunResult;
  /** argv prefix for the guest namespace */
  guestArgv: (argv: string[]) => string[];
  /** SIGTERM, then the log (with -d: the counters) */
  stop: () => Promise<string>;
}

export interface WorldOptions {
  /** pasta runs with --actors */
  actors?: boolean;
  /** an existing topology (default: a new one) */
  topo?: Topology;
  /** the host namespace's /etc/resolv.conf */
  resolvConf?: string;
  /** loopback peers take the loopback fast path (default: off, --no-splice: the tap path) */
  splice?: boolean;
  /** environment for pasta (e.g. the test-only UDP timeouts) */
  env?: Record<string, string>;
}

/** Starts our pasta in the host namespace, attached to a new guest namespace, once it serves. */
export async function startWorld(t: ExecutionContext, args: string[], opts: WorldOptions = {}): Promise<World> {
  const topo = opts.topo ?? makeTopology(t);
  if (opts.resolvConf !== undefined) hostResolvConf(t, topo, opts.resolvConf);
  const guest = makeNetns(t, 'pag');
  const dir = tempDir(t, 'world-');
  const logFile = join(dir, 'pasta.log'), pidFile = join(dir, 'pid');
  const argv = [PASTA, '-f', '-d', '-l', logFile, '-P', pidFile, '--config-net', '-I', GUEST_IF, ...(opts.actors ? ['--actors'] : []), ...(opts.splice ? [] : ['--no-splice']), ...args, '--netns', guest];
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const inHost = ['ip', 'netns', 'exec', topo.host, ...argv];
  const pasta = env.length > 0 ? background(t, 'env', [...env, ...inHost]) : background(t, inHost[0]!, inHost.slice(1));
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

/**
 * Waits for the addresses of the topology's veth to pass duplicate address detection (about 2 s after
 * the link comes up): until then the upstream cannot resolve the host's IPv6 neighbour, and its first
 * packets to the host wait in the neighbour queue for seconds.
 */
async function untentative(namespaces: string[]): Promise<void> {
  const tentative = () => namespaces.some((ns) => run('ip', ['-n', ns, '-6', 'addr', 'show', 'tentative'], 5000).stdout.trim() !== '');
  await waitFor('IPv6 duplicate address detection in the topology', () => !tentative(), 10_000, 100);
}

/**
 * Static neighbour entries for the gateway in the guest, so that these tests do not depend on the guest
 * services' ARP and NDP answers. pasta's MAC towards the guest is the host interface's.
 */
function pinGatewayNeighbours(topo: Topology, guest: string): void {
  const links = JSON.parse(run('ip', ['-n', topo.host, '-j', 'link', 'show']).stdout) as { ifname: string; address: string }[];
  const mac = links.find((l) => l.ifname !== 'lo')!.address;
  for (const gw of [topo.gw4, topo.gw6]) run('ip', ['-n', guest, 'neigh', 'replace', gw, 'lladdr', mac, 'dev', GUEST_IF, 'nud', 'permanent']);
}

/** The counters our pasta logged at exit (-d), by actor. */
export function countersOf(log: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of log.matchAll(/counters (\w+): (\{.*\})$/gm)) out[m[1]!] = JSON.parse(m[2]!) as Record<string, number>;
  return out;
}
