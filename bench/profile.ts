/**
 * `--profile DIR`: where ours spends its time under load. Starts ours with --actors (one process per
 * actor), every thread profiled by V8's CPU profiler (cpu-prof-preload.ts), drives TCP from the guest to
 * the upstream server with iperf3, stops it cleanly (main threads write their profile at exit), and
 * prints the busiest threads with their hottest functions by self time. Without working TCP the
 * profile is of an idle tool, and says so.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hotFunctions, type CpuProfile } from './cpuprofile.js';
import { actorPids, descendants, title } from './procs.js';
import { connRate, def, inWorld, iperfServer, peerServer, PEER, PORTS, startWithProbe, throughput, type Ctx } from './session.js';
import { ROOT, stopImpl } from './impls.js';
import { REMOTE_ADDR } from './world.js';
import { formatNumber } from './table.js';

/** Names the processes of ours: the router (root), actors by title, the namespace helper. */
function processNames(root: number): Map<number, string> {
  const names = new Map<number, string>([[root, 'router']]);
  for (const [name, pid] of actorPids(root)) names.set(pid, `actor ${name}`);
  for (const pid of descendants(root)) if (!names.has(pid)) names.set(pid, /helper/.test(readCmdline(pid)) ? 'namespace helper' : title(pid));
  return names;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export async function runProfile(ctx: Ctx, dirArg: string): Promise<string> {
  const dir = resolve(dirArg);
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  const names = await inWorld(async (world, daemons) => {
    await peerServer(world.inUpstream([process.execPath, PEER, 'serve', '0', String(PORTS.crrUp), '0']), daemons, 'upstream peer');
    await iperfServer(world.inUpstream(['iperf3', '-s', '-p', String(PORTS.iperfUp)]), daemons, 'upstream iperf3');
    const preload = pathToFileURL(join(ROOT, 'dist/bench/cpu-prof-preload.js')).href;
    const env = { NODE_OPTIONS: `--import=${preload}`, BENCH_CPU_PROF_DIR: dir };
    const mtu = ctx.opts.profileMtu;
    const s = await startWithProbe('ours-actors', world, { mtu, forwardTcp: [], env }, daemons);
    const names = processNames(s.inst.daemon.pid);
    try {
      if (s.tcpError) out.push(`note: ${s.tcpError}; this is the profile of an idle pasta`);
      else if (ctx.opts.profileLoad === 'crr') await connRate(ctx, 'ours-actors', world);
      else await throughput(ctx, s, def(`tcp-out-${mtu}`), def(`cpu-tcp-out-${mtu}`), world.inGuest, REMOTE_ADDR, PORTS.iperfUp);
    } finally {
      s.rss.stop();
      await stopImpl(s.inst);
    }
    return names;
  });
  const crr = ctx.results.cell('crr-out', 'ours-actors');
  if (crr?.samples.length) out.push(`new TCP connections under profiling: ${formatNumber(crr.samples[0]!)} conn/s`);
  const tput = ctx.results.cell(`tcp-out-${ctx.opts.profileMtu}`, 'ours-actors');
  if (tput?.samples.length) out.push(`TCP ns→host under profiling: ${formatNumber(tput.samples[0]!)} Gbit/s`);
  if (tput?.errors.length) out.push(`TCP ns→host under profiling failed: ${tput.errors.join('; ')}`);
  return [...out, ...summarizeDir(dir, names)].join('\n');
}

/** The profile files of DIR grouped by process and thread ("PID.TID"), chunks in order. */
function profileFiles(dir: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort((a, b) => seqOf(a) - seqOf(b))) {
    const [, , , pid, tid] = f.split('.');
    const key = `${pid}.${tid}`;
    groups.set(key, [...(groups.get(key) ?? []), join(dir, f)]);
  }
  return groups;
}

const seqOf = (f: string) => Number(f.split('.')[5]);

/** Busiest threads first; each with its hottest functions (idle time left out of the list). */
function summarizeDir(dir: string, names: Map<number, string>): string[] {
  const entries: { title: string; busyMs: number; lines: string[] }[] = [];
  for (const [key, files] of profileFiles(dir)) {
    const [pid, tid] = key.split('.').map(Number) as [number, number];
    const name = names.get(pid);
    if (!name) continue;
    const h = hotFunctions(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile), 13);
    const busyMs = h.totalMs - h.idleMs;
    const title = `${name}${tid ? ` (worker thread ${tid})` : ' (main thread)'}, pid ${pid}: busy ${formatNumber(busyMs)} of ${formatNumber(h.totalMs)} ms sampled`;
    const lines = h.top.filter((x) => x.name !== '(idle)').slice(0, 10).map((x) => `  ${x.pct.toFixed(1).padStart(5)}%  ${formatNumber(x.ms).padStart(7)} ms  ${x.name}`);
    entries.push({ title, busyMs, lines });
  }
  if (!entries.length) return [`no profile of ours was written to ${dir}`];
  entries.sort((a, b) => b.busyMs - a.busyMs);
  // functions only for the threads that did real work; the others get their one-line total
  const busy = (e: { busyMs: number }) => e.busyMs >= Math.max(50, (entries[0]?.busyMs ?? 0) * 0.1);
  return [...entries.filter(busy).flatMap((e) => ['', e.title, ...e.lines]), '', ...entries.filter((e) => !busy(e)).map((e) => e.title)];
}
