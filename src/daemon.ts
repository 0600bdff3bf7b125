/**
 * Detaching, as pasta does without -f in its attach modes (PID, --netns: with a command, pasta stays
 * with the command) and as passt always does without -f, with or without a terminal: podman runs pasta
 * and waits for it to return once the namespace is served. The parent re-runs the
 * program detached with --foreground and waits until the child says it is serving (a line on an
 * inherited pipe, fd 3 or the first fd above those the child must keep, named by
 * PASST_ACTORS_READY_FD) or fails (the pipe closes first: its stderr so far is shown, exit 1). Text the
 * child sends before its ready line (passt: the qemu command line to use) is shown by the parent.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

const READY_ENV = 'PASST_ACTORS_READY_FD';
const READY_LINE = 'ready\n';

/** True when this process should detach: not -f, not running a command, not already the detached copy. */
export function shouldDetach(foreground: boolean, spawnsCommand: boolean): boolean {
  return !foreground && !spawnsCommand && process.env[READY_ENV] === undefined;
}

/** The child's stdio: fds 0-2, `keepFds` passed through at their own numbers, the ready pipe above. */
function childStdio(keepFds: readonly number[]): { stdio: ('ignore' | 'pipe' | number)[]; readyFd: number } {
  let readyFd = 3;
  while (keepFds.includes(readyFd)) readyFd++;
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
  for (let fd = 3; fd < readyFd || keepFds.some((k) => k >= fd); fd++) stdio[fd] = keepFds.includes(fd) ? fd : 'ignore';
  stdio[readyFd] = 'pipe';
  return { stdio, readyFd };
}

/**
 * Starts the detached copy and resolves with the exit status for this (parent) process. `keepFds`:
 * inherited fds the child needs at the same numbers (passt -F).
 */
export function detach(argv: string[], keepFds: readonly number[] = []): Promise<number> {
  const [, script, ...args] = argv;
  const { stdio, readyFd } = childStdio(keepFds);
  const child = spawn(process.execPath, [script!, '--foreground', ...args], {
    detached: true,
    stdio,
    env: { ...process.env, [READY_ENV]: String(readyFd) },
  });
  let err = '';
  let ready = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    const pipe = child.stdio[readyFd] as NodeJS.ReadableStream;
    pipe.on('data', (d: Buffer) => {
      ready += d.toString();
      if (ready.endsWith(READY_LINE)) {
        process.stderr.write(ready.slice(0, -READY_LINE.length));
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

/** In the detached child: tells the parent we are serving, once; `message` is shown by the parent. */
export function signalReady(message = ''): void {
  const fd = Number(process.env[READY_ENV]);
  if (!Number.isInteger(fd) || fd < 0) return;
  delete process.env[READY_ENV];
  try {
    writeSync(fd, message + READY_LINE);
    closeSync(fd);
  } catch {
    // the parent went away: nothing to tell
  }
}
