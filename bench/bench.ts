/**
 * `npm run bench`: this project's pasta side by side with Debian's pasta and slirp4netns, in one run.
 *
 * For each repetition, each session kind (main, mtu1500, recovery: session.ts) runs every selected
 * implementation in turn (A B C D A B C D ...), each in a fresh private world of namespaces
 * (world.ts), so drifts of the machine spread over all of them. At the end: one table (medians, spreads,
 * ratios of ours to the anchors, the goals) on stdout, the same numbers as JSON with --json.
 * Progress goes to stderr. Everything started is stopped and every namespace deleted, also on error or
 * Ctrl-C (procs.ts cleanup registry).
 */
import { writeFileSync } from 'node:fs';
import { parseBenchArgs, type BenchOptions } from './args.js';
import { IMPLS, MEASURES, type ImplId } from './catalog.js';
import { launchFor } from './impls.js';
import { cleanupOnSignals, runCleanups } from './procs.js';
import { runProfile } from './profile.js';
import { Results, type Report } from './results.js';
import { CRR_PARALLEL, failSession, mainSession, RR_SIZE, mtu1500Session, recoverySession, SESSION_GROUPS, sessionMeasures, type Ctx, type SessionKind } from './session.js';
import { checkPrerequisites, describeMachine, ensureTools } from './setup.js';
import { renderTable } from './table.js';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function sessionPlan(opts: BenchOptions): { kind: SessionKind; impls: ImplId[] }[] {
  const plan: { kind: SessionKind; impls: ImplId[] }[] = [];
  for (const kind of ['main', 'mtu1500', 'recovery'] as const) {
    if (!SESSION_GROUPS[kind].some((g) => opts.groups.includes(g))) continue;
    const impls = kind === 'recovery' ? opts.impls.filter((i) => i === 'ours-actors') : opts.impls;
    if (impls.length) plan.push({ kind, impls });
  }
  return plan;
}

async function runSession(ctx: Ctx, kind: SessionKind, impl: ImplId): Promise<void> {
  try {
    if (kind === 'main') await mainSession(ctx, impl);
    else if (kind === 'mtu1500') await mtu1500Session(ctx, impl);
    else await recoverySession(ctx);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`  ${impl}: ${msg}`);
    failSession(ctx, kind, impl, msg);
  }
}

async function runAll(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const ids = new Set(sessionPlan(opts).flatMap((p) => sessionMeasures(p.kind, opts.groups)));
  for (const m of MEASURES) if (ids.has(m.id)) ctx.results.declare(m);
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const { kind, impls } of sessionPlan(opts)) {
      for (const impl of impls) {
        log(`repetition ${rep}/${opts.reps}: ${kind} session, ${impl}`);
        await runSession(ctx, kind, impl);
      }
    }
  }
}

function commandOf(impl: ImplId): string {
  const launch = launchFor(impl, { mtu: 65520, forwardTcp: [5301, 7101] }, fakeWorld);
  launch.cleanup();
  return launch.argv.slice(4).join(' ');
}

/** Only to print the command lines: names that show where the real ones go. */
const fakeWorld = {
  host: 'HOST', upstream: 'UPSTREAM', guest: 'GUEST', guestPath: '/run/netns/GUEST',
  inHost: (a: readonly string[]) => ['ip', 'netns', 'exec', 'HOST', ...a],
  inUpstream: (a: readonly string[]) => [...a], inGuest: (a: readonly string[]) => [...a],
  destroy: async () => {},
};

async function report(ctx: Ctx, started: Date): Promise<Report> {
  const { opts } = ctx;
  const finished = new Date();
  return {
    tool: 'passt-actors bench',
    format: 1,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationS: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    machine: await describeMachine(),
    options: { ...opts },
    implementations: IMPLS.filter((i) => opts.impls.includes(i.id)).map((i) => ({ id: i.id, label: i.label, command: commandOf(i.id) })),
    measures: ctx.results.measures(opts.impls),
    notes: [
      'medians over repetitions; ± is half the range relative to the median; ratios are ours (threads) over each anchor',
      `UDP: ${opts.udpRate} Mbit/s offered, ${opts.udpSize}-byte datagrams; latency: ${RR_SIZE}-byte messages; connections: ${CRR_PARALLEL} in parallel (Node.js peers)`,
      'CPU per GB: utime+stime of all processes of the implementation (children included) over bytes received',
    ],
  };
}

function header(r: Report): string {
  const m = r.machine;
  return [
    `passt-actors benchmark, ${r.startedAt} (${r.durationS} s): ${r.options.reps} repetition(s), ${r.options.duration} s per throughput run`,
    `machine: Linux ${m.kernel}, ${m.cpus} × ${m.cpuModel}, Node ${m.node}`,
    `versions: ours ${m.ours}; ${m.pasta}; ${m.slirp4netns}; ${m.iperf3}`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (parsed.kind === 'help') return (process.stdout.write(parsed.text), 0);
  if (parsed.kind === 'error') return (process.stderr.write(`bench: ${parsed.message}\n`), 2);
  const opts = parsed.options;
  const problem = checkPrerequisites();
  if (problem) return (process.stderr.write(`${problem}\n`), 2);
  cleanupOnSignals();
  await ensureTools(opts.install, log);
  const ctx: Ctx = { opts, results: new Results(), log };
  if (opts.profile) return (process.stdout.write(`${await runProfile(ctx, opts.profile)}\n`), 0);
  const started = new Date();
  await runAll(ctx);
  const r = await report(ctx, started);
  process.stdout.write(`${header(r)}${renderTable(r)}\n`);
  if (opts.json) (writeFileSync(opts.json, `${JSON.stringify(r, null, 2)}\n`), log(`JSON written to ${opts.json}`));
  return 0;
}

main(process.argv.slice(2))
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  })
  .catch(async (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await runCleanups();
    process.exit(1);
  });
