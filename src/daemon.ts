/**
 * Detaching from the terminal, as pasta does when started from one without -f (attach modes only: with
 * a command, pasta stays with the command). The parent re-runs the program detached with --foreground
 * and waits until the child says it is serving (a line on an inherited pipe, fd 3, named by
 * PASST_ACTORS_READY_FD) or fails (the pipe closes first: its stderr so far is shown, exit 1).
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

const READY_ENV = 'PASST_ACTORS_READY_FD';
const READY_LINE = 'ready\n';

/** True when this process should detach: started from a terminal, not -f, not running a command. */
export function shouldDetach(foreground: boolean, spawnsCommand: boolean): boolean {
  if (foreground || spawnsCommand || process.env[READY_ENV] !== undefined) return false;
  return Boolean(process.stdin.isTTY || process.stderr.isTTY);
}

/** Starts the detached copy and resolves with the exit status for this (parent) process. */
export function detach(argv: string[]): Promise<number> {
  const [, script, ...args] = argv;
  const child = spawn(process.execPath, [script!, '--foreground', ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, [READY_ENV]: '3' },
  });
  let err = '';
  let ready = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.on('data', (d: Buffer) => {
      ready += d.toString();
      if (ready.includes(READY_LINE)) {
        child.unref();
        child.stderr?.destroy();
        (pipe as unknown as { destroy(): void }).destroy();
        resolve(0);
      }
    });
    pipe.on('end', () => {
      process.stderr.write(err);
      resolve(1);
    });
  });
}

/** In the detached child: tells the parent we are serving, once. */
export function signalReady(): void {
  const fd = Number(process.env[READY_ENV]);
  if (!Number.isInteger(fd) || fd < 0) return;
  delete process.env[READY_ENV];
  try {
    writeSync(fd, READY_LINE);
    closeSync(fd);
  } catch {
    // the parent went away: nothing to tell
  }
}
