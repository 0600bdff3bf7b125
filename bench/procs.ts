/**
 * Processes for the benchmark: bounded runs, background daemons, process trees read from /proc (CPU time
 * and resident memory of an implementation and all its descendants), and the cleanup registry that runs
 * on normal exit, on error and on SIGINT/SIGTERM. Only processes this program started are ever signalled,
 * always by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { stderrSummary } from './errors.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs argv to completion, SIGKILLed after timeoutMs. Never rejects (a spawn error becomes stderr, code 127). */
export function run(argv: readonly string[], timeoutMs: number, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      killPid(child.pid, 'SIGKILL');
    }, timeoutMs);
    const unregister = onCleanup(() => killPid(child.pid, 'SIGKILL'));
    const done = (r: RunResult) => (clearTimeout(timer), unregister(), resolve(r));
    child.on('error', (e) => done({ code: 127, signal: null, stdout, stderr: stderr + e.message, timedOut }));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, timedOut }));
  });
}

/** Runs argv and throws (with its stderr) unless it exits 0 in time. */
export async function must(argv: readonly string[], timeoutMs = 15_000): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${describeFailure(r)}`);
  return r.stdout;
}

export function describeFailure(r: RunResult): string {
  const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const text = stderrSummary(r.stderr.trim() ? r.stderr : r.stdout);
  return text ? `${why}: ${text}` : why;
}

export function killPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** A background process, its output collected; stopped by stop() or by the cleanup registry. */
export class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #out = '';
  #err = '';
  #closed: Promise<void>;
  #lineWaiters: { re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }[] = [];

  constructor(readonly argv: readonly string[], stdin: 'pipe' | 'ignore' = 'ignore', env?: NodeJS.ProcessEnv) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'], env: env ?? process.env });
    this.child.stdout!.on('data', (d: Buffer) => this.#onOut(d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.#err += d.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.#err += e.message;
        resolve({ code: 127, signal: null });
      });
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    // output may still arrive after 'exit': waiters give up only when the pipes are closed too
    this.#closed = new Promise((resolve) => {
      this.child.on('error', () => resolve());
      this.child.on('close', () => resolve());
    });
    const unregister = onCleanup(() => this.kill());
    void this.exited.then(unregister);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
  get out(): string {
    return this.#out;
  }
  /** the length of the output so far: a `from` for waitOutput */
  get mark(): number {
    return this.#out.length;
  }
  get err(): string {
    return this.#err;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  #onOut(s: string): void {
    this.#out += s;
    this.#lineWaiters = this.#lineWaiters.filter((w) => {
      const m = w.re.exec(this.#out.slice(w.from));
      if (m) w.resolve(m);
      return !m;
    });
  }

  /** Resolves when the output after offset `from` matches re; rejects on exit or after timeoutMs. */
  waitOutput(re: RegExp, timeoutMs: number, what: string, from = 0): Promise<RegExpExecArray> {
    const now = re.exec(this.#out.slice(from));
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs} ms; stderr: ${this.#err.trim().slice(-300)}`)), timeoutMs);
      this.#lineWaiters.push({ re, from, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      void this.#closed.then(() => {
        clearTimeout(timer);
        const e = this.child;
        reject(new Error(`${what}: exited (${e.exitCode ?? e.signalCode}); stderr: ${this.#err.trim().slice(-300)}`));
      });
    });
  }

  /** Waits for the next JSON line after offset `from` and parses it. */
  async nextJson<T>(timeoutMs: number, what: string, from: number): Promise<T> {
    const m = await this.waitOutput(/^(\{.*\})$/m, timeoutMs, what, from);
    return JSON.parse(m[1]!) as T;
  }

  write(line: string): void {
    this.child.stdin?.write(line);
  }

  /** SIGTERM, then SIGKILL of it and its descendants after graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    const tree = descendants(this.pid);
    killPid(this.pid, 'SIGTERM');
    await Promise.race([this.exited, sleep(graceMs)]);
    for (const pid of [this.pid, ...tree]) if (alive(pid)) killPid(pid, 'SIGKILL');
    await Promise.race([this.exited, sleep(1000)]);
  }

  kill(): void {
    for (const pid of [this.pid, ...descendants(this.pid)]) killPid(pid, 'SIGKILL');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/* ---------------------------------------------------------------------------------------------- */
/* Process trees from /proc                                                                         */

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const s of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (s) out.push(Number(s));
    } catch {
      // the task ended
    }
  }
  return out;
}

/** All descendants of pid (children of any of its threads, recursively). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of childrenOf(todo.pop()!)) {
      if (!out.includes(c)) (out.push(c), todo.push(c));
    }
  }
  return out;
}

/** The fields of /proc/PID/stat after the command name (field 3 onwards), or null. */
function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100;

/** utime+stime+cutime+cstime of pid and all its descendants, in seconds (reaped children are in cutime). */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const f = statFields(p);
    // fields 14..17 of stat: utime stime cutime cstime; f[0] is field 3
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of pid and all its descendants, summed, in bytes. */
export function treeRssBytes(pid: number): number {
  let pages = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      pages += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // gone
    }
  }
  return pages * 4096;
}

/** Samples the summed RSS of a tree every intervalMs; peak() is the largest sum seen. */
export class RssSampler {
  #peak = 0;
  #timer: NodeJS.Timeout;
  constructor(readonly pid: number, intervalMs = 100) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }
  sample(): void {
    this.#peak = Math.max(this.#peak, treeRssBytes(this.pid));
  }
  peak(): number {
    return this.#peak;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The process title of pid (argv[0] as ps shows it). */
export function title(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

/** Actor processes of ours with --actors, by actor name: children titled "passt-actors:NAME". */
export function actorPids(rootPid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const pid of childrenOf(rootPid)) {
    const name = /^passt-actors:(\w+)/.exec(title(pid))?.[1];
    if (name) m.set(name, pid);
  }
  return m;
}

/* ---------------------------------------------------------------------------------------------- */
/* Cleanup                                                                                          */

type Cleanup = () => void | Promise<void>;
const cleanups: Cleanup[] = [];

/** Registers fn to run at cleanup (last registered runs first); returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch {
      // keep cleaning
    }
  }
}

/** On SIGINT/SIGTERM: clean up, then exit 128+N. */
export function cleanupOnSignals(): void {
  for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
      void runCleanups().then(() => process.exit(128 + n));
    });
  }
}
