/**
 * The namespace helper: a small Node process that lives INSIDE the target network (and user)
 * namespace and opens what must be opened there, passing the fds back with SCM_RIGHTS.
 *
 * Why a process: setns() into a user namespace is refused to a multithreaded process (every Node
 * process), so the helper is started already inside the namespaces, by `unshare` (a new namespace for
 * a spawned command) or `nsenter` (an existing PID's or path's namespace). The router keeps the fds; the
 * kernel remembers the namespace each fd was created in (a tap, a netlink socket, a socket for splice).
 *
 * Requests (socket channel on fd 3), each answered by `{t: 'reply', id, ...}` or `{t: 'reply', id, error}`:
 * - `open-tap {name}` → the tap fd and the name the kernel gave it
 * - `open-netlink` → an rtnetlink socket of this namespace
 * - `open-socket {family, type, protocol, count?}` → `count` (default 1, at most 64) sockets of this
 *   namespace
 * - `write-file {path, data}` → e.g. a sysctl of this namespace
 * - `read-file {path}` → `{data}`, e.g. /proc/net/tcp of this namespace (for `-t auto`)
 * - `spawn {argv, env}` → runs the command (stdio inherited); later `{t: 'exited', code, signal}`
 * - `signal {signal}` → forwards a signal to the command
 * The helper exits when the router's end of the channel closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { native } from '../native/index.js';
import { SocketChannel, type Msg } from '../runtime/channel.js';

const ROUTER_FD = 3;
const NETLINK_ROUTE = 0;

type Reply = { msg: Record<string, unknown>; fds: number[] };

function openTap(msg: Msg): Reply {
  const tap = native.tapOpen(String(msg.name ?? ''));
  return { msg: { name: tap.name, index: native.ifIndex(tap.name) }, fds: [tap.fd] };
}

function openNetlink(): Reply {
  return { msg: {}, fds: [native.socket(16, 3, NETLINK_ROUTE)] };
}

const MAX_SOCKETS_PER_REQUEST = 64;

/** `count` sockets, all or none (the ones made are closed if one fails). */
function openSocket(msg: Msg): Reply {
  const count = Math.max(1, Math.min(MAX_SOCKETS_PER_REQUEST, Number(msg.count ?? 1) || 1));
  const fds: number[] = [];
  try {
    for (let i = 0; i < count; i++) fds.push(native.socket(Number(msg.family), Number(msg.type), Number(msg.protocol)));
  } catch (e) {
    for (const fd of fds) native.close(fd, true);
    throw e;
  }
  return { msg: {}, fds };
}

function writeFile(msg: Msg): Reply {
  writeFileSync(String(msg.path), String(msg.data));
  return { msg: {}, fds: [] };
}

function errorReply(e: unknown): Record<string, unknown> {
  const err = e as { code?: unknown; message?: unknown; errno?: unknown };
  return { code: String(err.code ?? 'EUNKNOWN'), errno: Number(err.errno ?? 0), message: String(err.message ?? e) };
}

class Helper {
  readonly #ch = new SocketChannel(ROUTER_FD);
  #child: ChildProcess | undefined;

  start(): void {
    this.#ch.onMessage((msg) => this.#handle(msg));
    this.#ch.onClose(() => process.exit(0));
    this.#ch.send({ t: 'hello', pid: process.pid });
  }

  #handle(msg: Msg): void {
    const id = msg.id;
    try {
      const r = this.#perform(msg);
      this.#ch.send({ t: 'reply', id, ...r.msg }, r.fds);
    } catch (e) {
      this.#ch.send({ t: 'reply', id, error: errorReply(e) });
    }
  }

  #perform(msg: Msg): Reply {
    switch (msg.t) {
      case 'open-tap':
        return openTap(msg);
      case 'open-netlink':
        return openNetlink();
      case 'open-socket':
        return openSocket(msg);
      case 'write-file':
        return writeFile(msg);
      case 'read-file':
        return { msg: { data: readFileSync(String(msg.path), 'utf8') }, fds: [] };
      case 'spawn':
        return this.#spawn(msg.argv as string[]);
      case 'signal':
        this.#child?.kill(String(msg.signal) as NodeJS.Signals);
        return { msg: {}, fds: [] };
      default:
        throw new Error(`unknown request '${msg.t}'`);
    }
  }

  #spawn(argv: string[]): Reply {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('empty command');
    const child = spawn(cmd, args, { stdio: 'inherit' });
    this.#child = child;
    child.on('error', (e) => {
      process.stderr.write(`pasta: cannot run ${cmd}: ${e.message}\n`);
      this.#ch.send({ t: 'exited', code: 127, signal: null, error: e.message });
    });
    child.on('exit', (code, signal) => this.#ch.send({ t: 'exited', code, signal }));
    return { msg: { pid: child.pid ?? -1 }, fds: [] };
  }
}

// The terminal's job-control signals go to the command; the helper itself must outlive them.
for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const) process.on(sig, () => {});
new Helper().start();
