/**
 * One benchmark session = one implementation started once in a fresh world (world.ts), measured, stopped,
 * and the world deleted, whatever happens. Three kinds:
 *
 *   main       MTU 65520 with TCP forwards: start-up (7), TCP out (1), TCP in (2), UDP out (3),
 *              latency (4), connection rate (5), CPU per GB for 1 and 2 and peak RSS (6)
 *   mtu1500    MTU 1500: TCP out (1) and its CPU per GB (6)
 *   recovery   ours --actors only: SIGKILL each actor process in turn; time until the actor is back and
 *              until a new TCP connection from the guest succeeds
 *
 * A measure that cannot be taken is recorded as an error (shown "n/a"), never as a number; a start-up
 * failure fails the measures of the session and the run goes on. Which step failed is in the message.
 */
import { join } from 'node:path';
import type { BenchOptions } from './args.js';
import { MEASURES, type Group, type ImplId, type MeasureDef } from './catalog.js';
import { stderrSummary } from './errors.js';
import { parseIperfJson } from './iperf.js';
import { ROOT, spawnImpl, stopImpl, type Instance, type StartSpec } from './impls.js';
import { actorPids, alive, Daemon, describeFailure, killPid, RssSampler, run, sleep, treeCpuSeconds } from './procs.js';
import type { Results } from './results.js';
import { HOST_ADDR, makeWorld, REMOTE_ADDR, type World } from './world.js';

export const PEER = join(ROOT, 'dist/bench/peer.js');
const NODE = process.execPath;

/** Fixed ports: every session has its own namespaces, so nothing else uses them. */
export const PORTS = { iperfUp: 5201, rrUp: 7001, crrUp: 7002, udpUp: 7003, iperfGuest: 5301, rrGuest: 7101 } as const;

const READY_LIMIT_MS = 4000;
export const RR_SIZE = 64;
export const CRR_PARALLEL = 8;

export interface Ctx {
  opts: BenchOptions;
  results: Results;
  log: (line: string) => void;
}

export type SessionKind = 'main' | 'mtu1500' | 'recovery';

export const SESSION_GROUPS: Record<SessionKind, readonly Group[]> = {
  main: ['tcp-out', 'tcp-in', 'udp', 'rr', 'crr', 'ready'],
  mtu1500: ['tcp-1500'],
  recovery: ['recovery'],
};

export function def(id: string): MeasureDef {
  const d = MEASURES.find((x) => x.id === id);
  if (!d) throw new Error(`bench: unknown measure ${id}`);
  return d;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/* ---------------------------------------------------------------------------------------------- */
/* Worlds, servers, start-up                                                                        */

/** Runs fn with a fresh world and a list to put daemons in; stops them and deletes the world after. */
export async function inWorld<T>(fn: (w: World, daemons: Daemon[]) => Promise<T>): Promise<T> {
  const world = await makeWorld();
  const daemons: Daemon[] = [];
  try {
    return await fn(world, daemons);
  } finally {
    for (const d of daemons.reverse()) await d.stop(1000);
    await world.destroy();
  }
}

export async function iperfServer(argv: string[], daemons: Daemon[], what: string): Promise<void> {
  const d = new Daemon([...argv, '--forceflush']);
  daemons.push(d);
  await d.waitOutput(/Server listening/, 5000, what);
}

export async function peerServer(argv: string[], daemons: Daemon[], what: string): Promise<Daemon> {
  const d = new Daemon(argv, 'pipe');
  daemons.push(d);
  await d.waitOutput(/^ready$/m, 10_000, what);
  return d;
}

export interface Started {
  inst: Instance;
  rss: RssSampler;
  configMs: number;
  /** null when a TCP connection from the guest to the upstream server worked */
  tcpError: string | null;
  connectMs: number | null;
  /** why host→guest forwarding is unavailable, or null */
  forwardError: string | null;
}

interface ReadyLine {
  configuredAt?: number;
  connectedAt?: number | null;
  error?: string;
}

/**
 * Starts impl with a ready probe already waiting in the guest: the times from spawn to a configured
 * interface and to a first TCP connection (to the upstream server). If the tool refuses the forwarding
 * options it is started again without them, and the reason kept as forwardError.
 */
export async function startWithProbe(impl: ImplId, world: World, spec: StartSpec, daemons: Daemon[]): Promise<Started> {
  const probe = new Daemon(world.inGuest([NODE, PEER, 'ready', REMOTE_ADDR, String(PORTS.crrUp), String(READY_LIMIT_MS)]));
  daemons.push(probe);
  await probe.waitOutput(/^armed$/m, 10_000, 'ready probe');
  const inst = spawnImpl(impl, spec, world);
  const rss = new RssSampler(inst.daemon.pid);
  const exited = inst.daemon.exited.then(() => null);
  let line: ReadyLine | null;
  try {
    line = await Promise.race([probe.nextJson<ReadyLine>(READY_LIMIT_MS + 6000, 'ready probe', 0), exited]);
  } catch (e) {
    rss.stop();
    await stopImpl(inst);
    throw e;
  }
  if (line === null || line.configuredAt === undefined) return retryOrFail(impl, world, spec, daemons, inst, rss, line);
  let forwardError: string | null = null;
  try {
    await inst.launch.afterReady();
  } catch (e) {
    forwardError = errorText(e);
  }
  return {
    inst, rss, forwardError,
    configMs: line.configuredAt - inst.startedAt,
    tcpError: line.connectedAt ? null : `TCP ns→host does not work: ${line.error ?? 'no connection'}`,
    connectMs: line.connectedAt ? line.connectedAt - inst.startedAt : null,
  };
}

async function retryOrFail(
  impl: ImplId, world: World, spec: StartSpec, daemons: Daemon[], inst: Instance, rss: RssSampler, line: ReadyLine | null,
): Promise<Started> {
  rss.stop();
  const why = line === null ? `${impl} exited: ${describeExit(inst)}` : `${impl}: ${line.error ?? 'not ready'}; ${describeExit(inst)}`;
  await stopImpl(inst);
  if (line !== null || spec.forwardTcp.length === 0) throw new Error(`did not start: ${why}`);
  const again = await startWithProbe(impl, world, { ...spec, forwardTcp: [] }, daemons);
  return { ...again, forwardError: `with -t ${spec.forwardTcp.join(',')}: ${why}` };
}

function describeExit(inst: Instance): string {
  const c = inst.daemon.child;
  const status = c.exitCode !== null ? `exit ${c.exitCode}` : c.signalCode ? `signal ${c.signalCode}` : 'still running';
  const err = stderrSummary(inst.daemon.err);
  return err ? `${status}: ${err}` : status;
}

/* ---------------------------------------------------------------------------------------------- */
/* Measures                                                                                         */

/** Runs a peer mode and returns its JSON result line (throws with the error it reports). */
async function peerJson<T>(argv: string[], timeoutMs: number): Promise<T> {
  const r = await run(argv, timeoutMs);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`peer ${argv.slice(argv.indexOf(PEER) + 1, argv.indexOf(PEER) + 2).join('')}: ${describeFailure(r)}`);
  const j = JSON.parse(line) as T & { error?: string };
  if (j.error) throw new Error(j.error);
  return j;
}

/** iperf3 client (argv prefix places it), with the tool's CPU time across the run. */
export async function throughput(ctx: Ctx, s: Started, tput: MeasureDef, cpu: MeasureDef, place: (a: string[]) => string[], host: string, port: number): Promise<void> {
  const impl = s.inst.impl;
  const secs = ctx.opts.duration;
  try {
    const cpu0 = treeCpuSeconds(s.inst.daemon.pid);
    const r = await run(place(['iperf3', '-c', host, '-p', String(port), '-t', String(secs), '-J', '--connect-timeout', '3000']), secs * 1000 + 15_000);
    const cpu1 = treeCpuSeconds(s.inst.daemon.pid);
    if (r.timedOut) throw new Error(`iperf3 -c ${host}:${port}: timed out`);
    const res = parseIperfJson(r.stdout);
    ctx.results.add(tput, impl, res.bitsPerSecond / 1e9);
    ctx.results.add(cpu, impl, (cpu1 - cpu0) / (res.bytes / 1e9));
  } catch (e) {
    ctx.results.fail(tput, impl, errorText(e));
    ctx.results.fail(cpu, impl, errorText(e));
  }
}

async function latency(ctx: Ctx, impl: ImplId, p50: MeasureDef, p99: MeasureDef, place: (a: string[]) => string[], host: string, port: number): Promise<void> {
  try {
    const secs = ctx.opts.rrSeconds;
    const r = await peerJson<{ n: number; p50: number; p99: number }>(place([NODE, PEER, 'rr', host, String(port), String(secs), String(RR_SIZE)]), secs * 1000 + 20_000);
    if (!r.n) throw new Error(`rr ${host}:${port}: no round trip completed`);
    ctx.results.add(p50, impl, r.p50);
    ctx.results.add(p99, impl, r.p99);
  } catch (e) {
    ctx.results.fail(p50, impl, errorText(e));
    ctx.results.fail(p99, impl, errorText(e));
  }
}

export async function connRate(ctx: Ctx, impl: ImplId, world: World): Promise<void> {
  const d = def('crr-out');
  try {
    const secs = ctx.opts.crrSeconds;
    const r = await peerJson<{ conns: number; errors: number; seconds: number; firstError: string }>(
      world.inGuest([NODE, PEER, 'crr', REMOTE_ADDR, String(PORTS.crrUp), String(secs), String(CRR_PARALLEL)]), secs * 1000 + 20_000);
    if (!r.conns) throw new Error(`no connection completed (${r.errors} errors${r.firstError ? `, first: ${r.firstError}` : ''})`);
    ctx.results.add(d, impl, r.conns / r.seconds);
  } catch (e) {
    ctx.results.fail(d, impl, errorText(e));
  }
}

interface UdpStats {
  udp: { packets: number; bytes: number };
}

async function udpOut(ctx: Ctx, impl: ImplId, world: World, upPeer: Daemon): Promise<void> {
  const [rx, loss] = [def('udp-out'), def('udp-out-loss')];
  try {
    const { udpRate, udpSize, udpSeconds: secs } = ctx.opts;
    const m0 = upPeer.mark;
    upPeer.write('udp-reset\n');
    await upPeer.nextJson(3000, 'udp counter reset', m0);
    const sent = await peerJson<{ sent: number; seconds: number }>(
      world.inGuest([NODE, PEER, 'udp-send', REMOTE_ADDR, String(PORTS.udpUp), String(udpRate), String(udpSize), String(secs)]), secs * 1000 + 20_000);
    await sleep(300);
    const m1 = upPeer.mark;
    upPeer.write('udp-stats\n');
    const got = (await upPeer.nextJson<UdpStats>(3000, 'udp counter', m1)).udp;
    if (got.packets === 0) throw new Error(`UDP: none of ${sent.sent} datagrams arrived`);
    ctx.results.add(rx, impl, (got.bytes * 8) / sent.seconds / 1e6);
    ctx.results.add(loss, impl, Math.max(0, 100 * (1 - got.packets / sent.sent)));
  } catch (e) {
    ctx.results.fail(rx, impl, errorText(e));
    ctx.results.fail(loss, impl, errorText(e));
  }
}

/** Whether host→guest forwarding works (a connection through the forwarded port), or why not. */
async function forwardCheck(world: World, s: Started): Promise<string | null> {
  if (s.forwardError) return `port forwarding unavailable: ${s.forwardError}`;
  try {
    await peerJson(world.inHost([NODE, PEER, 'connect', '127.0.0.1', String(PORTS.rrGuest), '2000']), 10_000);
    return null;
  } catch (e) {
    return `port forwarding does not work: ${errorText(e)}`;
  }
}

function failAll(ctx: Ctx, impl: ImplId, ids: readonly string[], error: string): void {
  for (const id of ids) ctx.results.fail(def(id), impl, error);
}

/* ---------------------------------------------------------------------------------------------- */
/* Sessions                                                                                         */

const MAIN_TCP_OUT = ['tcp-out-65520', 'cpu-tcp-out-65520', 'rr-out-p50', 'rr-out-p99', 'crr-out'];
const MAIN_TCP_IN = ['tcp-in-lo', 'tcp-in-addr', 'cpu-tcp-in-lo', 'cpu-tcp-in-addr', 'rr-in-lo-p50', 'rr-in-lo-p99', 'rr-in-addr-p50', 'rr-in-addr-p99'];

/** The measures of a session kind that the selected groups ask for. */
export function sessionMeasures(kind: SessionKind, groups: readonly Group[]): string[] {
  if (kind === 'recovery') return [];
  const ids = MEASURES.filter((m) => SESSION_GROUPS[kind].includes(m.group) && groups.includes(m.group)).map((m) => m.id);
  if (kind === 'main' && ids.length && !ids.includes('rss-peak')) ids.push('rss-peak');
  return ids;
}

export async function mainSession(ctx: Ctx, impl: ImplId): Promise<void> {
  const wanted = new Set(sessionMeasures('main', ctx.opts.groups));
  const has = (id: string) => wanted.has(id);
  const g = ctx.opts.groups;
  await inWorld(async (world, daemons) => {
    const upPeer = await peerServer(world.inUpstream([NODE, PEER, 'serve', String(PORTS.rrUp), String(PORTS.crrUp), String(PORTS.udpUp)]), daemons, 'upstream peer');
    await iperfServer(world.inUpstream(['iperf3', '-s', '-p', String(PORTS.iperfUp)]), daemons, 'upstream iperf3');
    const wantIn = g.includes('tcp-in') || g.includes('rr');
    if (wantIn) {
      await iperfServer(world.inGuest(['iperf3', '-s', '-p', String(PORTS.iperfGuest)]), daemons, 'guest iperf3');
      await peerServer(world.inGuest([NODE, PEER, 'serve', String(PORTS.rrGuest), '0', '0']), daemons, 'guest peer');
    }
    const s = await startWithProbe(impl, world, { mtu: 65520, forwardTcp: wantIn ? [PORTS.iperfGuest, PORTS.rrGuest] : [] }, daemons);
    try {
      recordReady(ctx, impl, s, has);
      await tcpOutMeasures(ctx, world, s, has);
      if (wantIn) await tcpInMeasures(ctx, world, s, has);
      if (g.includes('udp')) await udpOut(ctx, impl, world, upPeer);
      s.rss.sample();
      if (has('rss-peak')) ctx.results.add(def('rss-peak'), impl, s.rss.peak() / 2 ** 20);
    } finally {
      s.rss.stop();
      await stopImpl(s.inst);
    }
  });
}

function recordReady(ctx: Ctx, impl: ImplId, s: Started, has: (id: string) => boolean): void {
  if (has('ready-config')) ctx.results.add(def('ready-config'), impl, s.configMs);
  if (!has('ready-connect')) return;
  if (s.connectMs !== null) ctx.results.add(def('ready-connect'), impl, s.connectMs);
  else ctx.results.fail(def('ready-connect'), impl, s.tcpError ?? 'no connection');
}

async function tcpOutMeasures(ctx: Ctx, world: World, s: Started, has: (id: string) => boolean): Promise<void> {
  const impl = s.inst.impl;
  if (s.tcpError) return failAll(ctx, impl, MAIN_TCP_OUT.filter(has), s.tcpError);
  if (has('tcp-out-65520')) await throughput(ctx, s, def('tcp-out-65520'), def('cpu-tcp-out-65520'), world.inGuest, REMOTE_ADDR, PORTS.iperfUp);
  if (has('rr-out-p50')) await latency(ctx, impl, def('rr-out-p50'), def('rr-out-p99'), world.inGuest, REMOTE_ADDR, PORTS.rrUp);
  if (has('crr-out')) await connRate(ctx, impl, world);
}

async function tcpInMeasures(ctx: Ctx, world: World, s: Started, has: (id: string) => boolean): Promise<void> {
  const impl = s.inst.impl;
  const err = await forwardCheck(world, s);
  if (err) return failAll(ctx, impl, MAIN_TCP_IN.filter(has), err);
  for (const [host, tag] of [['127.0.0.1', 'lo'], [HOST_ADDR, 'addr']] as const) {
    if (has(`tcp-in-${tag}`)) await throughput(ctx, s, def(`tcp-in-${tag}`), def(`cpu-tcp-in-${tag}`), world.inHost, host, PORTS.iperfGuest);
  }
  for (const [host, tag] of [['127.0.0.1', 'lo'], [HOST_ADDR, 'addr']] as const) {
    if (has(`rr-in-${tag}-p50`)) await latency(ctx, impl, def(`rr-in-${tag}-p50`), def(`rr-in-${tag}-p99`), world.inHost, host, PORTS.rrGuest);
  }
}

export async function mtu1500Session(ctx: Ctx, impl: ImplId): Promise<void> {
  await inWorld(async (world, daemons) => {
    await peerServer(world.inUpstream([NODE, PEER, 'serve', '0', String(PORTS.crrUp), '0']), daemons, 'upstream peer');
    await iperfServer(world.inUpstream(['iperf3', '-s', '-p', String(PORTS.iperfUp)]), daemons, 'upstream iperf3');
    const s = await startWithProbe(impl, world, { mtu: 1500, forwardTcp: [] }, daemons);
    try {
      if (s.tcpError) failAll(ctx, impl, ['tcp-out-1500', 'cpu-tcp-out-1500'], s.tcpError);
      else await throughput(ctx, s, def('tcp-out-1500'), def('cpu-tcp-out-1500'), world.inGuest, REMOTE_ADDR, PORTS.iperfUp);
    } finally {
      s.rss.stop();
      await stopImpl(s.inst);
    }
  });
}

/** Fails the measures of a session kind that a failed session could not take. */
export function failSession(ctx: Ctx, kind: SessionKind, impl: ImplId, error: string): void {
  if (kind === 'recovery') ctx.results.fail(restartMeasure('(any actor)'), impl, error);
  else failAll(ctx, impl, sessionMeasures(kind, ctx.opts.groups), error);
}

/* ---------------------------------------------------------------------------------------------- */
/* Recovery after SIGKILL of each actor process (ours --actors)                                      */

export function restartMeasure(actor: string): MeasureDef {
  return { id: `restart-${actor}`, label: `restart after SIGKILL of ${actor}`, unit: 'ms', better: 'lower', group: 'recovery', only: ['ours-actors'] };
}

export function recoveryMeasure(actor: string): MeasureDef {
  return { id: `recovery-${actor}`, label: `recovery (new TCP conn) after SIGKILL of ${actor}`, unit: 'ms', better: 'lower', group: 'recovery', only: ['ours-actors'] };
}

async function until(cond: () => boolean, limitMs: number): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (cond()) return performance.now() - t0;
    await sleep(2);
  }
  return null;
}

export async function recoverySession(ctx: Ctx): Promise<void> {
  const impl: ImplId = 'ours-actors';
  await inWorld(async (world, daemons) => {
    await peerServer(world.inUpstream([NODE, PEER, 'serve', '0', String(PORTS.crrUp), '0']), daemons, 'upstream peer');
    const s = await startWithProbe(impl, world, { mtu: 65520, forwardTcp: [] }, daemons);
    try {
      const probe = new Daemon(world.inGuest([NODE, PEER, 'probe', REMOTE_ADDR, String(PORTS.crrUp), '5000']), 'pipe');
      daemons.push(probe);
      await probe.waitOutput(/^armed$/m, 10_000, 'recovery probe');
      const actors = [...actorPids(s.inst.daemon.pid).entries()].sort((a, b) => a[0].localeCompare(b[0]));
      if (actors.length === 0) throw new Error('no actor processes found (children titled passt-actors:NAME)');
      for (const [name, pid] of actors) await killOne(ctx, s, probe, name, pid);
    } finally {
      s.rss.stop();
      await stopImpl(s.inst);
    }
  });
}

async function killOne(ctx: Ctx, s: Started, probe: Daemon, name: string, pid: number): Promise<void> {
  const root = s.inst.daemon.pid;
  const [restart, recovery] = [restartMeasure(name), recoveryMeasure(name)];
  if (!s.inst.daemon.running) return ctx.results.fail(restart, 'ours-actors', `pasta is gone before SIGKILL of ${name}`);
  const mark = probe.mark;
  killPid(pid, 'SIGKILL');
  type ProbeLine = { ms?: number; error?: string };
  const conn: Promise<ProbeLine> = s.tcpError ? Promise.resolve({ error: s.tcpError }) : (probe.write('go\n'), probe.nextJson<ProbeLine>(10_000, 'recovery probe', mark));
  const back = until(() => {
    const p = actorPids(root).get(name);
    return p !== undefined && p !== pid && alive(p);
  }, 10_000);
  const [c, b] = await Promise.all([conn.catch((e: unknown): ProbeLine => ({ error: errorText(e) })), back]);
  if (b !== null) ctx.results.add(restart, 'ours-actors', b);
  else ctx.results.fail(restart, 'ours-actors', `${name} not back within 10 s${s.inst.daemon.running ? '' : ' (pasta exited)'}`);
  if (c.ms !== undefined) ctx.results.add(recovery, 'ours-actors', c.ms);
  else ctx.results.fail(recovery, 'ours-actors', c.error ?? 'no connection');
  await sleep(200);
}
