/**
 * A private world for one benchmark session, made of three network namespaces:
 *
 *   GUEST ns  --tool's tap--  tool in HOST ns  --veth--  UPSTREAM ns
 *   (made empty here;         10.77.0.2/24               10.77.0.1/24, and 10.77.1.1/32 on lo:
 *    the tool configures it)   default via 10.77.0.1      the "remote" servers
 *
 * The implementation under test runs in HOST and serves GUEST (attached by path); servers for traffic
 * leaving the guest listen in UPSTREAM at 10.77.1.1 (reached through the tool's NAT, never its own
 * loopback mapping); servers for port forwarding listen in GUEST. Nothing leaves this machine. The
 * namespaces are deleted by destroy() or, on failure or Ctrl-C, by the cleanup registry.
 */
import { randomBytes } from 'node:crypto';
import { must, onCleanup, run } from './procs.js';

export const HOST_ADDR = '10.77.0.2';
export const GW_ADDR = '10.77.0.1';
export const REMOTE_ADDR = '10.77.1.1';

export interface World {
  host: string;
  upstream: string;
  guest: string;
  guestPath: string;
  inHost(argv: readonly string[]): string[];
  inUpstream(argv: readonly string[]): string[];
  inGuest(argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

const inNs = (ns: string) => (argv: readonly string[]) => ['ip', 'netns', 'exec', ns, ...argv];

/** Namespace-local settings for many short connections: a wide port range, TIME_WAIT reuse. */
const SYSCTLS = ['net.ipv4.ip_local_port_range=1024 65000', 'net.ipv4.tcp_tw_reuse=1'];

export async function makeWorld(): Promise<World> {
  const id = randomBytes(3).toString('hex');
  const host = `pbh${id}`, upstream = `pbu${id}`, guest = `pbg${id}`;
  const made: string[] = [];
  const destroy = async () => {
    for (const ns of made.splice(0)) await run(['ip', 'netns', 'del', ns], 10_000);
  };
  const unregister = onCleanup(destroy);
  try {
    for (const ns of [host, upstream, guest]) (await must(['ip', 'netns', 'add', ns]), made.push(ns));
    await wire(host, upstream, id);
    for (const ns of [host, upstream, guest]) for (const s of SYSCTLS) await must(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', s]);
  } catch (e) {
    await destroy();
    unregister();
    throw e;
  }
  return {
    host, upstream, guest, guestPath: `/run/netns/${guest}`,
    inHost: inNs(host), inUpstream: inNs(upstream), inGuest: inNs(guest),
    destroy: async () => (await destroy(), unregister()),
  };
}

async function wire(host: string, upstream: string, id: string): Promise<void> {
  const vh = `vbh${id}`, vu = `vbu${id}`;
  await must(['ip', 'link', 'add', vh, 'netns', host, 'type', 'veth', 'peer', 'name', vu, 'netns', upstream]);
  for (const [ns, dev, a4] of [[host, vh, `${HOST_ADDR}/24`], [upstream, vu, `${GW_ADDR}/24`]] as const) {
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', ns, 'addr', 'add', a4, 'dev', dev]);
    await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  await must(['ip', '-n', upstream, 'addr', 'add', `${REMOTE_ADDR}/32`, 'dev', 'lo']);
  await must(['ip', '-n', host, 'route', 'add', 'default', 'via', GW_ADDR]);
  await must(['ip', '-n', upstream, 'route', 'add', 'default', 'via', HOST_ADDR]);
}
