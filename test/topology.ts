/**
 * A private "outside world" for end-to-end tests: a "host" namespace where pasta runs, joined by a
 * veth pair to an "upstream" namespace that plays the default gateway, the remote servers and the
 * resolver. Nothing leaves this machine: the real gateway and resolver are never involved.
 *
 *   [guest ns, made by pasta]  --tap--  pasta in HOST ns  --veth--  UPSTREAM ns
 *                                       10.77.0.2/24               10.77.0.1/24  (also 10.77.1.1/32 on lo)
 *                                       fd77::2/64                 fd77::1/64    (also fd77:1::1/128 on lo)
 *                                       default via 10.77.0.1 / fd77::1
 *
 * `host.exec([...])` runs a command in the host namespace (`ip netns exec`), e.g. our pasta or Debian's.
 * 10.77.1.1 / fd77:1::1 are "remote" addresses behind the gateway (reached through its routes).
 */
import type { ExecutionContext } from 'ava';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, uniqueName } from './helpers.js';

export interface Topology {
  host: string;
  upstream: string;
  /** addresses */
  hostAddr4: string;
  hostAddr6: string;
  gw4: string;
  gw6: string;
  remote4: string;
  remote6: string;
  /** argv prefix to run a command in the host namespace */
  inHost: (argv: string[]) => string[];
  /** argv prefix to run a command in the upstream namespace */
  inUpstream: (argv: string[]) => string[];
}

function must(args: string[]): void {
  const r = run(args[0]!, args.slice(1), 15_000);
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim()}`);
}

export function makeTopology(t: ExecutionContext): Topology {
  const host = uniqueName('pah');
  const upstream = uniqueName('pau');
  const vh = uniqueName('vh'), vu = uniqueName('vu');
  must(['ip', 'netns', 'add', host]);
  t.teardown(() => void run('ip', ['netns', 'del', host]));
  must(['ip', 'netns', 'add', upstream]);
  t.teardown(() => void run('ip', ['netns', 'del', upstream]));
  must(['ip', 'link', 'add', vh, 'netns', host, 'type', 'veth', 'peer', 'name', vu, 'netns', upstream]);
  for (const [ns, dev, a4, a6] of [[host, vh, '10.77.0.2/24', 'fd77::2/64'], [upstream, vu, '10.77.0.1/24', 'fd77::1/64']] as const) {
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', ns, 'addr', 'add', a4, 'dev', dev]);
    must(['ip', '-n', ns, 'addr', 'add', a6, 'dev', dev, 'nodad']);
    must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  must(['ip', '-n', upstream, 'addr', 'add', '10.77.1.1/32', 'dev', 'lo']);
  must(['ip', '-n', upstream, 'addr', 'add', 'fd77:1::1/128', 'dev', 'lo']);
  must(['ip', '-n', host, 'route', 'add', 'default', 'via', '10.77.0.1']);
  must(['ip', '-n', host, '-6', 'route', 'add', 'default', 'via', 'fd77::1']);
  return {
    host, upstream,
    hostAddr4: '10.77.0.2', hostAddr6: 'fd77::2', gw4: '10.77.0.1', gw6: 'fd77::1', remote4: '10.77.1.1', remote6: 'fd77:1::1',
    inHost: (argv) => ['ip', 'netns', 'exec', host, ...argv],
    inUpstream: (argv) => ['ip', 'netns', 'exec', upstream, ...argv],
  };
}

/**
 * Gives the host namespace its own resolv.conf: `ip netns exec NAME` bind-mounts /etc/netns/NAME/*
 * over /etc in the command's mount namespace, so pasta (and only it) reads this one.
 */
export function hostResolvConf(t: ExecutionContext, topo: Topology, text: string): void {
  const dir = `/etc/netns/${topo.host}`;
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'resolv.conf'), text);
}
