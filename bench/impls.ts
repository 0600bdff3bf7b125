/**
 * Starting each implementation in a world (world.ts): the tool runs in the HOST namespace and attaches
 * to the GUEST namespace by path, configuring it (MTU, address, routes), optionally with TCP port
 * forwarding from the host to the guest.
 *
 *   ours         bin/pasta -f -q --config-net -m MTU [-t PORTS] --netns PATH
 *   ours-actors  the same with --actors (one OS process per actor)
 *   pasta        Debian's /usr/bin/pasta, the same options plus --runas 0:0 (it refuses to run as root)
 *   slirp4netns  slirp4netns --configure --mtu=MTU --disable-host-loopback --api-socket SOCK
 *                --netns-type=path PATH tap0; forwards added through the API socket (add_hostfwd)
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImplId } from './catalog.js';
import { Daemon, onCleanup, sleep } from './procs.js';
import type { World } from './world.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUR_PASTA = join(ROOT, 'bin/pasta');
export const DEBIAN_PASTA = '/usr/bin/pasta';
export const SLIRP4NETNS = '/usr/bin/slirp4netns';

export interface StartSpec {
  mtu: number;
  /** TCP ports forwarded from the host to the same port in the guest */
  forwardTcp: readonly number[];
  /** extra environment (NODE_OPTIONS for profiles) */
  env?: NodeJS.ProcessEnv;
}

export interface Launch {
  argv: string[];
  /** after the guest is configured: set up what the command line could not (slirp4netns's forwards) */
  afterReady: () => Promise<void>;
  cleanup: () => void;
}

function pastaArgs(spec: StartSpec, world: World): string[] {
  const fwd = spec.forwardTcp.length ? ['-t', spec.forwardTcp.join(',')] : [];
  return ['-f', '-q', '--config-net', '-m', String(spec.mtu), ...fwd, '--netns', world.guestPath];
}

export function launchFor(impl: ImplId, spec: StartSpec, world: World): Launch {
  const none = { afterReady: async () => {}, cleanup: () => {} };
  switch (impl) {
    case 'ours': return { argv: world.inHost([OUR_PASTA, ...pastaArgs(spec, world)]), ...none };
    case 'ours-actors': return { argv: world.inHost([OUR_PASTA, '--actors', ...pastaArgs(spec, world)]), ...none };
    case 'pasta': return { argv: world.inHost([DEBIAN_PASTA, '--runas', '0:0', ...pastaArgs(spec, world)]), ...none };
    case 'slirp4netns': return slirpLaunch(spec, world);
  }
}

function slirpLaunch(spec: StartSpec, world: World): Launch {
  const dir = mkdtempSync(join(tmpdir(), 'bench-slirp-'));
  const sock = join(dir, 'api.sock');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const unregister = onCleanup(cleanup);
  const argv = world.inHost([
    SLIRP4NETNS, '--configure', `--mtu=${spec.mtu}`, '--disable-host-loopback', '--api-socket', sock,
    '--netns-type=path', world.guestPath, 'tap0',
  ]);
  const afterReady = async () => {
    for (const port of spec.forwardTcp) await slirpAddHostfwd(sock, port);
  };
  return { argv, afterReady, cleanup: () => (cleanup(), unregister()) };
}

/** One request on slirp4netns's API socket: forward host 0.0.0.0:port to the guest's port. */
async function slirpAddHostfwd(sock: string, port: number): Promise<void> {
  for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(20);
  const req = { execute: 'add_hostfwd', arguments: { proto: 'tcp', host_addr: '0.0.0.0', host_port: port, guest_port: port } };
  const reply = await new Promise<string>((resolve, reject) => {
    const s = connect(sock);
    let data = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error('slirp4netns API: no reply in 3 s'))), 3000);
    s.on('connect', () => s.write(JSON.stringify(req)));
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => (clearTimeout(timer), resolve(data)));
    s.on('error', (e) => (clearTimeout(timer), reject(e)));
  });
  const parsed = JSON.parse(reply) as { return?: unknown; error?: { desc?: string } };
  if (parsed.error || !parsed.return) throw new Error(`slirp4netns add_hostfwd ${port}: ${reply.trim()}`);
}

/** A started implementation. */
export interface Instance {
  impl: ImplId;
  daemon: Daemon;
  launch: Launch;
  /** epoch ms just before the spawn */
  startedAt: number;
}

export function spawnImpl(impl: ImplId, spec: StartSpec, world: World): Instance {
  const launch = launchFor(impl, spec, world);
  const env = spec.env ? { ...process.env, ...spec.env } : undefined;
  const startedAt = performance.timeOrigin + performance.now();
  return { impl, launch, startedAt, daemon: new Daemon(launch.argv, 'ignore', env) };
}

export async function stopImpl(inst: Instance): Promise<void> {
  await inst.daemon.stop();
  inst.launch.cleanup();
}
