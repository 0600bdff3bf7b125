/**
 * Shared helpers for the end-to-end tests: run our pasta and Debian's, make and delete namespaces,
 * wait for conditions. Every wait is bounded; every namespace a test makes is deleted in teardown.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PASTA = `${ROOT}bin/pasta`;
export const PASST = `${ROOT}bin/passt`;
export const DEBIAN_PASTA = '/usr/bin/pasta';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a time limit (SIGKILL after it). */
export function run(cmd: string, args: string[], timeoutMs = 30_000, opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: opts.env ?? process.env,
    input: opts.input ?? '',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function runPasta(args: string[], timeoutMs = 30_000): RunResult {
  return run(PASTA, args, timeoutMs);
}

export function sh(script: string, timeoutMs = 30_000): RunResult {
  return run('sh', ['-c', script], timeoutMs);
}

/** A unique, short name for a namespace or interface made by a test. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

/** Makes a named network namespace (`ip netns add`) and deletes it when the test ends. */
export function makeNetns(t: ExecutionContext, prefix = 'pa'): string {
  const name = uniqueName(prefix);
  const r = run('ip', ['netns', 'add', name]);
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  t.teardown(() => void run('ip', ['netns', 'del', name]));
  return name;
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A background process with its output collected, killed (by PID) at teardown if still running. */
export interface Background {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function background(t: ExecutionContext, cmd: string, args: string[]): Background {
  // its own process group, so teardown also ends what it forked (`ip netns exec` forks its command)
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '', err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  });
  return { child, out: () => out, err: () => err, exited };
}

/** Resolves with the exit, or rejects after the time limit. */
export function exitWithin(b: Background, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return Promise.race([
    b.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not exit within ${ms} ms`)), ms).unref()),
  ]);
}

/** The pids of a process's direct children. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(path)) return out;
  for (const s of readFileSync(path, 'utf8').trim().split(/\s+/)) if (s) out.push(Number(s));
  return out;
}

/** The command line of a process, as an array. */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Pids of the actor processes (`--actors`) under a pasta pid, by actor name. */
export function actorPids(pastaPid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const pid of childPids(pastaPid)) {
    // actor processes set their title to "passt-actors:NAME" (what ps shows)
    const title = /^passt-actors:(\w+)/.exec(cmdline(pid)[0] ?? '');
    if (title?.[1]) m.set(title[1], pid);
  }
  return m;
}

export function parseJsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
