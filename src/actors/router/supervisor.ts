/**
 * One supervised actor: starts it as a piscina worker thread in this process, or as an actor process of
 * its own (`--actors`) connected by a UNIX socketpair; reports its exit (normal or crash) to the router.
 * The restart decision itself is `decideRestart` (policy.ts); this file only does the I/O.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { native } from '../../native/index.js';
import { PortChannel, SocketChannel, type Channel } from '../../runtime/channel.js';
import type { ActorName } from '../../runtime/actor.js';
import type { ActorTask } from '../../runtime/actor-host.js';

export type ActorMode = 'thread' | 'process';

export interface ExitInfo {
  normal: boolean;
  /** how it ended, for the log: "exit code 70", "signal SIGKILL", the error message */
  how: string;
}

const HOST_URL = new URL('../../runtime/actor-host.js', import.meta.url).href;
const PROCESS_ENTRY = fileURLToPath(new URL('../../runtime/actor-process.js', import.meta.url));

/** A running incarnation of an actor: its channel and how to end it. */
export interface Incarnation {
  readonly channel: Channel;
  /** the OS process id (process mode) or the router's own pid (thread mode) */
  readonly pid: number;
  /** ends it at once: SIGKILL for a process, terminate for a thread */
  kill(): void;
  /** resolves when it has ended */
  readonly exited: Promise<ExitInfo>;
}

export function startIncarnation(name: ActorName, mode: ActorMode): Incarnation {
  return mode === 'process' ? startProcess(name) : startThread(name);
}

function startThread(name: ActorName): Incarnation {
  const pool = new Piscina({ filename: HOST_URL, minThreads: 1, maxThreads: 1, idleTimeout: Number.POSITIVE_INFINITY });
  const { port1, port2 } = new MessageChannel();
  const task: ActorTask = { name, mode: 'port', port: port2 };
  const run = pool.run(task, { transferList: [port2] });
  // Once only: a second destroy() while the first is terminating the worker (kill, then the task's
  // rejection) leaves the thread and its event loop's fds behind (piscina 5).
  let destroying: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroying ??= pool.destroy().catch(() => {}));
  // The exit is reported once the thread has really ended: piscina rejects the task as soon as it asks
  // the worker to terminate, while the thread may still run a message or two. The router then closes
  // what the thread owned (its fd bitmap): a thread still running could mark more fds after that sweep.
  const exited = run
    .then(
      (): ExitInfo => ({ normal: true, how: 'stopped' }),
      (e: unknown): ExitInfo => ({ normal: false, how: e instanceof Error ? e.message : String(e) }),
    )
    .then(async (info) => {
      await destroy();
      return info;
    });
  return {
    channel: new PortChannel(port1),
    pid: process.pid,
    kill: () => void destroy(),
    exited,
  };
}

function startProcess(name: ActorName): Incarnation {
  const [ours, theirs] = native.socketpair('stream');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [PROCESS_ENTRY, name], { stdio: ['ignore', 'inherit', 'inherit', theirs] });
  } finally {
    native.close(theirs);
  }
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve({ normal: code === 0, how: signal ? `signal ${signal}` : `exit code ${code ?? '?'}` }),
    );
    child.once('error', (e) => resolve({ normal: false, how: e.message }));
  });
  return {
    channel: new SocketChannel(ours),
    pid: child.pid ?? -1,
    kill: () => void child.kill('SIGKILL'),
    exited,
  };
}
