/**
 * pasta: attach to a network namespace, give it a tap device, serve its frames.
 *
 * Sequence: read the host's network (netlink) → start the namespace helper (new namespace, PID or
 * path) → open the tap there (and configure it with --config-net) → start the router and its actors,
 * hand them the tap → write the PID file → run the command (spawn mode) or watch the namespace →
 * stop everything and exit with the command's status (128+N when it died by signal N).
 */
import { writeFileSync, existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Config } from './config/config.js';
import type { PastaTarget } from './config/options.js';
import { native } from './native/index.js';
import { attachNamespace, type NamespaceHelper, type NamespaceTarget } from './ns/attach.js';
import { NetlinkClient } from './ns/netlink-client.js';
import { discoverHostNetwork, type HostNetwork } from './ns/hostnet.js';
import { configureNamespace, planNamespaceConfig, type NsConfigPlan } from './ns/netconf.js';
import { Af } from './protocol/netlink.js';
import { pcapGlobalHeader } from './protocol/pcap.js';
import { Router } from './actors/router/router.js';
import { startControl, routerControl } from './control/server.js';
import { Proto } from './runtime/epoll-ref.js';
import { createLogger, type LogConfig as RuntimeLogConfig, type Logger } from './runtime/log.js';
import type { ActorConfig } from './runtime/actor-config.js';
import type { ActorName } from './runtime/actor.js';
import { signalReady } from './daemon.js';

const EPOLLIN = 0x001;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 1 << 31;
const NS_WATCH_MS = 250;
/** our MAC towards the guest when the host interface has none (as passt's default) */
const DEFAULT_OUR_MAC = '9a:55:9a:55:9a:55';

export function runtimeLogConfig(cfg: Config): RuntimeLogConfig {
  const level = cfg.log.trace ? 'trace' : cfg.log.debug ? 'debug' : cfg.log.quiet ? 'warn' : 'info';
  const out: RuntimeLogConfig = { level, stderr: cfg.log.file === null || cfg.log.stderr, prog: cfg.mode };
  if (cfg.log.file !== null) out.file = cfg.log.file;
  return out;
}

function namespaceTarget(target: PastaTarget): NamespaceTarget {
  if (target.kind === 'pid') return { kind: 'pid', pid: target.pid };
  if (target.kind === 'netns') {
    return target.userns === undefined ? { kind: 'netns', path: target.path } : { kind: 'netns', path: target.path, userns: target.userns };
  }
  return { kind: 'spawn' };
}

/** An object without its null and undefined fields (for exactOptionalPropertyTypes). */
function present<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}

export function readHostNetwork(cfg: Config): HostNetwork {
  const nl = NetlinkClient.open();
  try {
    return discoverHostNetwork(
      nl,
      present({ ifname: cfg.interface, outboundIf4: cfg.ip4.outboundIf, outboundIf6: cfg.ip6.outboundIf, ...families(cfg) }),
    );
  } finally {
    nl.close();
  }
}

function families(cfg: Config): { ipv4: boolean; ipv6: boolean } {
  return { ipv4: cfg.ipOnly !== 'ipv6', ipv6: cfg.ipOnly !== 'ipv4' };
}

export function namespacePlan(cfg: Config, host: HostNetwork): NsConfigPlan {
  return planNamespaceConfig(
    host,
    present({
      ifname: cfg.ns.ifname, mtu: cfg.mtu, addr4: cfg.ip4.address, prefix4: cfg.ip4.prefixLen, gw4: cfg.ip4.gateway,
      addr6: cfg.ip6.address, gw6: cfg.ip6.gateway, nsMac: cfg.ns.macAddr, ...families(cfg),
    }),
  );
}

async function openTap(ns: NamespaceHelper, name: string): Promise<{ fd: number; name: string }> {
  const r = await ns.request({ t: 'open-tap', name });
  const fd = r.fds[0];
  if (fd === undefined) throw new Error('namespace helper sent no tap fd');
  return { fd, name: String(r.msg.name) };
}

async function configureNet(ns: NamespaceHelper, plan: NsConfigPlan, log: Logger): Promise<void> {
  const r = await ns.request({ t: 'open-netlink' });
  const fd = r.fds[0];
  if (fd === undefined) throw new Error('namespace helper sent no netlink fd');
  const nl = NetlinkClient.fromFd(fd);
  try {
    for (const f of configureNamespace(nl, plan).failures) log.warn(`--config-net: ${f.step}: ${f.error.message}`);
  } finally {
    nl.close();
  }
}

/**
 * In a namespace we created, let its users open ping sockets (the guest's own `ping` without raw
 * sockets), as pasta does: group 0 is the only group mapped in our user namespace.
 */
async function enablePingSockets(ns: NamespaceHelper, log: Logger): Promise<void> {
  try {
    await ns.request({ t: 'write-file', path: '/proc/sys/net/ipv4/ping_group_range', data: '0 0' });
  } catch (e) {
    log.debug(`cannot enable ping sockets in the namespace: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function actorConfigFor(cfg: Config, host: HostNetwork, net: ActorConfig['net'], log: RuntimeLogConfig): (name: ActorName) => ActorConfig {
  const traced = new Set<string>(cfg.actors.trace);
  return (name) => ({
    mode: cfg.mode,
    log,
    trace: traced.has(name),
    net,
    cli: cfg,
    host,
  });
}

export function guestNetwork(cfg: Config, host: HostNetwork, plan: NsConfigPlan): ActorConfig['net'] {
  const v4 = plan.families.find((f) => f.family === Af.Inet);
  const v6 = plan.families.find((f) => f.family === Af.Inet6);
  const mac = cfg.macAddr ?? host.ipv4?.iface.mac ?? host.ipv6?.iface.mac ?? DEFAULT_OUR_MAC;
  return {
    mtu: cfg.mtu || 65520,
    ourMac: mac,
    ...present({ addr4: v4?.address, prefix4: v4?.prefixLen, gw4: v4?.gateway, addr6: v6?.address, gw6: v6?.gateway }),
  };
}

function exitCodeOf(code: number | null, signal: string | null): number {
  if (signal) return 128 + ((osConstants.signals as Record<string, number>)[signal] ?? 0);
  return code ?? 1;
}

/** Resolves when the attached namespace goes away (its PID exits, or its path disappears). */
function watchNamespace(target: PastaTarget, onGone: () => void): () => void {
  const gone =
    target.kind === 'pid' ? () => !native.processExists(target.pid) : target.kind === 'netns' ? () => !existsSync(target.path) : () => false;
  const timer = setInterval(() => gone() && onGone(), NS_WATCH_MS);
  return () => clearInterval(timer);
}

/** With -d, the counters of every actor at exit: what was handled, what was dropped and why. */
export async function logCounters(router: Router, log: Logger): Promise<void> {
  if (!log.enabled('debug')) return;
  for (const [name, c] of Object.entries(await router.allCounters())) log.debug(`counters ${name}: ${JSON.stringify(c)}`);
}

/** SIGTERM/SIGHUP at any point: finish cleanly, exit 128+N. Installed first, so no signal is missed. */
export function onStopSignal(): Promise<number> {
  return new Promise((resolve) => {
    for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve(128 + osConstants.signals[sig]));
  });
}

export async function runPasta(cfg: Config, target: PastaTarget): Promise<number> {
  const stopSignal = onStopSignal();
  const logCfg = runtimeLogConfig(cfg);
  const log = createLogger(logCfg);
  const host = readHostNetwork(cfg);
  const plan = namespacePlan(cfg, host);
  // -p: the global header once, truncating; every actor then appends whole records (pcap-writer.ts)
  if (cfg.pcapFile !== null) writeFileSync(cfg.pcapFile, pcapGlobalHeader());
  // The namespace helper and the actors start in parallel: both are Node start-ups.
  const attaching = attachNamespace(namespaceTarget(target));
  const router = new Router({
    mode: cfg.actors.separateProcesses ? 'process' : 'thread',
    log,
    actorConfig: actorConfigFor(cfg, host, guestNetwork(cfg, host, plan), logCfg),
    nsRequest: (msg) => attaching.then((ns) => ns.request(msg)),
    trace: cfg.actors.trace.includes('router'),
    faults: cfg.actors.faults,
  });
  const [attached, started] = await Promise.allSettled([attaching, router.start()]);
  const cleanup: (() => void | Promise<void>)[] = [() => logCounters(router, log), () => router.stop()];
  if (attached.status === 'fulfilled') cleanup.push(() => attached.value.close());
  try {
    if (attached.status === 'rejected') throw attached.reason;
    if (started.status === 'rejected') throw started.reason;
    const ns = attached.value;
    const tap = await openTap(ns, plan.ifname);
    log.debug(`tap ${tap.name} opened in the namespace (helper pid ${ns.pid})`);
    if (cfg.ns.configNet) await configureNet(ns, { ...plan, ifname: tap.name }, log);
    if (target.kind === 'spawn' && !cfg.disabled.icmp) await enablePingSockets(ns, log);
    router.addKeptFd(tap.fd, Proto.Tap, 0, 0, EPOLLIN | EPOLLRDHUP | EPOLLET);
    if (cfg.actors.control !== null) {
      const control = await startControl(cfg.actors.control, routerControl(router, cfg), log);
      cleanup.unshift(() => control.close());
    }
    if (cfg.pidFile !== null) writeFileSync(cfg.pidFile, `${process.pid}\n`);
    signalReady();
    return await serve(cfg, target, ns, router, log, stopSignal);
  } finally {
    for (const c of cleanup) await c();
    log.close();
  }
}

/** Runs until the command exits, the namespace goes away, the tap closes, or a fatal actor failure. */
function serve(cfg: Config, target: PastaTarget, ns: NamespaceHelper, router: Router, log: Logger, stopSignal: Promise<number>): Promise<number> {
  return new Promise<number>((resolve) => {
    const stopWatch = watchNamespace(target, () => {
      log.info('namespace is gone, exiting');
      resolve(0);
    });
    const done = (code: number) => {
      stopWatch();
      resolve(code);
    };
    if (cfg.ns.noNetnsQuit) stopWatch();
    router.on((e) => {
      if (e.t === 'fatal') {
        log.error(e.reason);
        done(1);
      } else if (e.t === 'tap-closed') {
        log.info('tap device closed, exiting');
        done(0);
      }
    });
    void stopSignal.then(done);
    if (target.kind === 'spawn') startCommand(ns, target.argv, done, log);
  });
}

function startCommand(ns: NamespaceHelper, argv: string[], done: (code: number) => void, log: Logger): void {
  const command = argv.length > 0 ? argv : [process.env.SHELL || '/bin/sh'];
  // Ctrl-C and friends are for the command; its exit decides ours.
  for (const sig of ['SIGINT', 'SIGQUIT'] as const) process.on(sig, () => {});
  ns.onCommandExit((code, signal) => done(exitCodeOf(code, signal)));
  ns.request({ t: 'spawn', argv: command }).catch((e: unknown) => {
    log.error(`cannot run ${command[0]}: ${e instanceof Error ? e.message : String(e)}`);
    done(1);
  });
}
