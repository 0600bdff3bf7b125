/**
 * Attaching to a namespace: starts the namespace helper (helper.ts) inside a new or an existing
 * network namespace and talks to it.
 *
 * - new (pasta spawning a command): `unshare --user --map-root-user --net -- node helper.js`
 *   (works as root and as an unprivileged user, like `unshare -rUn`).
 * - existing PID: `nsenter --target PID --net [--user --preserve-credentials]`, joining the user
 *   namespace too when it is not ours (needed to create a tap there as an unprivileged user).
 * - existing path (`--netns PATH|NAME [--userns PATH]`): `nsenter --net=PATH [--user=USERNS]`.
 * unshare/nsenter exec the helper directly (no fork), so the helper's pid is the child's pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readlinkSync } from 'node:fs';
import { native } from '../native/index.js';
import { SocketChannel, type Msg } from '../runtime/channel.js';

const HELPER = fileURLToPath(new URL('./helper.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

export type NamespaceTarget =
  | { kind: 'spawn' }
  | { kind: 'pid'; pid: number }
  | { kind: 'netns'; path: string; userns?: string };

export class NamespaceError extends Error {
  readonly code = 'ERR_NAMESPACE';
}

export interface Reply {
  msg: Msg;
  fds: number[];
}

/** The helper process inside the namespace, and the request/reply protocol to it. */
export class NamespaceHelper {
  readonly #ch: SocketChannel;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
  readonly ready: Promise<number>;
  readonly gone: Promise<void>;

  constructor(child: ChildProcess, ch: SocketChannel) {
    this.#child = child;
    this.#ch = ch;
    let hello: (pid: number) => void = () => {};
    this.ready = new Promise((resolve) => (hello = resolve));
    this.gone = new Promise((resolve) => ch.onClose(resolve));
    ch.onMessage((msg, fds) => this.#onMessage(msg, fds, hello));
    ch.onClose(() => this.#failAll(new NamespaceError('namespace helper went away')));
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  #onMessage(msg: Msg, fds: number[], hello: (pid: number) => void): void {
    if (msg.t === 'hello') return hello(Number(msg.pid));
    if (msg.t === 'exited') {
      for (const l of this.#exitListeners) l(msg.code as number | null, msg.signal as string | null);
      return;
    }
    if (msg.t !== 'reply') return;
    const p = this.#pending.get(Number(msg.id));
    this.#pending.delete(Number(msg.id));
    if (!p) return fds.forEach((fd) => native.close(fd, true));
    const err = msg.error as { code: string; message: string } | undefined;
    if (err) p.reject(Object.assign(new NamespaceError(err.message), { errnoCode: err.code }));
    else p.resolve({ msg, fds });
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  request(msg: Msg): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ch.send({ ...msg, id });
    });
  }

  /** Called once when the spawned command exits. */
  onCommandExit(l: (code: number | null, signal: string | null) => void): void {
    this.#exitListeners.push(l);
  }

  /** Ends the helper (closing the channel makes it exit; SIGKILL if it lingers). */
  close(): void {
    this.#ch.close();
    const child = this.#child;
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 1000).unref();
  }
}

function sameNamespace(a: string, b: string): boolean {
  try {
    return readlinkSync(a) === readlinkSync(b);
  } catch {
    return false;
  }
}

/** The command line that starts the helper in the target's namespaces. */
export function helperCommand(target: NamespaceTarget): string[] {
  const node = [process.execPath, HELPER];
  switch (target.kind) {
    case 'spawn':
      return ['unshare', '--user', '--map-root-user', '--net', '--', ...node];
    case 'pid': {
      const joinUser = !sameNamespace(`/proc/${target.pid}/ns/user`, '/proc/self/ns/user');
      const user = joinUser ? ['--user', '--preserve-credentials'] : [];
      return ['nsenter', `--target=${target.pid}`, '--net', ...user, '--', ...node];
    }
    case 'netns': {
      const user = target.userns ? [`--user=${target.userns}`, '--preserve-credentials'] : [];
      return ['nsenter', `--net=${target.path}`, ...user, '--', ...node];
    }
  }
}

/** Starts the helper and waits for its hello. */
export async function attachNamespace(target: NamespaceTarget): Promise<NamespaceHelper> {
  const [ours, theirs] = native.socketpair('stream');
  const [cmd, ...args] = helperCommand(target);
  let child: ChildProcess;
  try {
    child = spawn(cmd!, args, { stdio: ['inherit', 'inherit', 'inherit', theirs] });
  } finally {
    native.close(theirs);
  }
  const helper = new NamespaceHelper(child, new SocketChannel(ours));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new NamespaceError(`cannot start ${cmd}: ${e.message}`)));
    child.once('exit', (code) => reject(new NamespaceError(`cannot enter the namespace (${cmd} exited with code ${code})`)));
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new NamespaceError('namespace helper did not start in time')), START_TIMEOUT_MS).unref(),
  );
  failed.catch(() => {});
  timeout.catch(() => {});
  await Promise.race([helper.ready, failed, timeout]);
  return helper;
}
