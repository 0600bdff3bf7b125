/**
 * Helpers for the UDP end-to-end tests: the world of world.ts (our pasta serving a guest namespace in
 * the private topology), UDP peers (udp-tool.ts) in any of the namespaces.
 * Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { ROOT, background, waitFor, type Background } from './helpers.js';
import type { World } from './world.js';
export { GUEST_IF, countersOf, startWorld, type WorldOptions } from './world.js';

export const UDP_TOOL = `${ROOT}dist/test/udp-tool.js`;

/** Our pasta serving a guest namespace (world.ts). */
export type UdpWorld = World;

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


/** A port no one uses in any of the test's namespaces (random in 20000..29999: each namespace is private). */
export function somePort(): number {
  return 20000 + Math.floor(Math.random() * 10000);
}
