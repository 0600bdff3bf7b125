/**
 * The one typed wrapper of the native addon (build/Release/passt_native.node, sources in src/native/*.cc).
 *
 * - `native`: every syscall of the contract in ./api.ts (`NativeAddon`).
 * - `ErrnoError`: what every failing syscall throws ({errno, code, syscall}); `isErrno(e, 'EAGAIN')`.
 * - `constants`: platform values (EPOLLIN, AF_INET6, TCP_INFO, ...) read from the C headers by the addon.
 *
 * The .node file is found from the package root (the nearest directory upwards whose package.json is
 * named "passt-actors"), so this works the same from src/ under a TS runner and from dist/. Loading it
 * in a worker thread gives that thread its own addon instance (its own poll watchers and error class).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './api.js';

export type { EpollRef, MmsgDatagram, NativeAddon, RecvmsgResult, SockErr, TcpInfo } from './api.js';

const PACKAGE_NAME = 'passt-actors';
const ADDON_PATH = ['build', 'Release', 'passt_native.node'];

/** A failed syscall: `errno` is the positive Linux errno, `code` its name ("ECONNREFUSED"). */
export class ErrnoError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(message: string, errno: number, code: string, syscall: string) {
    super(message);
    this.name = 'ErrnoError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

/** True if `e` is an ErrnoError with this code (e.g. 'EAGAIN', 'ECONNREFUSED'). */
export function isErrno(e: unknown, code: string): e is ErrnoError {
  return e instanceof ErrnoError && e.code === code;
}

/** What the .node module exports beyond the contract. */
interface RawAddon extends NativeAddon {
  setErrorClass(ctor: typeof ErrnoError): void;
  constants: Record<string, number>;
}

/** The nearest directory at or above `start` whose package.json names this package. */
export function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (readPackageName(join(dir, 'package.json')) === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`native: no ${PACKAGE_NAME} package.json above ${start}`);
  }
}

function readPackageName(file: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'name' in pkg ? String(pkg.name) : undefined;
  } catch {
    return undefined;
  }
}

function loadAddon(): RawAddon {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  const file = join(root, ...ADDON_PATH);
  try {
    const addon = createRequire(import.meta.url)(file) as RawAddon;
    addon.setErrorClass(ErrnoError);
    return addon;
  } catch (e) {
    const hint = `build it with: cd ${root} && npx node-gyp rebuild --nodedir=/usr`;
    throw new Error(`native: cannot load ${file} (${hint})`, { cause: e });
  }
}

const raw = loadAddon();

let beforeClose: ((fd: number) => void) | null = null;

/**
 * A hook run before every `native.close` of this thread (this module is loaded once per thread): an
 * actor thread unmarks the fd in its ownership bitmap (runtime/owned-fds.ts) before the number is
 * freed, so a bit never outlives its fd. Unmark first, close second: a thread ended between the two
 * leaks one fd, it never leaves a mark on a number that another thread may get next.
 */
export function setBeforeClose(hook: ((fd: number) => void) | null): void {
  beforeClose = hook;
}

const rawClose = raw.close.bind(raw);

/** The addon's syscalls, as typed by the contract (`close` runs the thread's hook first). */
export const native: NativeAddon = Object.assign({ ...raw } as NativeAddon, {
  close(fd: number, quiet?: boolean): void {
    beforeClose?.(fd);
    rawClose(fd, quiet);
  },
});

const CONSTANT_NAMES = [
  'EPOLLIN', 'EPOLLOUT', 'EPOLLPRI', 'EPOLLERR', 'EPOLLHUP', 'EPOLLRDHUP', 'EPOLLET', 'EPOLLONESHOT',
  'EPOLL_CTL_ADD', 'EPOLL_CTL_DEL', 'EPOLL_CTL_MOD',
  'UV_READABLE', 'UV_WRITABLE', 'UV_DISCONNECT', 'UV_PRIORITIZED',
  'AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK',
  'SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_RAW', 'SOCK_SEQPACKET',
  'SOL_SOCKET', 'SO_ERROR', 'SO_REUSEADDR', 'SO_REUSEPORT', 'SO_RCVBUF', 'SO_SNDBUF', 'SO_PEEK_OFF',
  'SO_KEEPALIVE',
  'MSG_PEEK', 'MSG_DONTWAIT', 'MSG_NOSIGNAL', 'MSG_TRUNC', 'MSG_MORE', 'MSG_WAITALL', 'MSG_ERRQUEUE',
  'SHUT_RD', 'SHUT_WR', 'SHUT_RDWR',
  'NETLINK_ROUTE',
  'IPPROTO_IP', 'IPPROTO_TCP', 'IPPROTO_UDP', 'IPPROTO_ICMP', 'IPPROTO_ICMPV6', 'IPPROTO_IPV6',
  'IP_TTL', 'IP_FREEBIND', 'IP_RECVERR', 'IPV6_V6ONLY', 'IPV6_FREEBIND', 'IPV6_RECVERR', 'IPV6_UNICAST_HOPS',
  'TCP_NODELAY', 'TCP_MAXSEG', 'TCP_CORK', 'TCP_QUICKACK', 'TCP_INFO', 'TCP_WINDOW_CLAMP',
  'TCP_ESTABLISHED', 'TCP_CLOSE_WAIT', 'TCP_CLOSE',
  'CLONE_NEWNET', 'CLONE_NEWUSER', 'CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWPID',
] as const;

export type ConstantName = (typeof CONSTANT_NAMES)[number];

function readConstants(): Readonly<Record<ConstantName, number>> {
  const out: Partial<Record<ConstantName, number>> = {};
  for (const name of CONSTANT_NAMES) {
    const v = raw.constants[name];
    if (typeof v !== 'number') throw new Error(`native: the addon does not export constant ${name}`);
    out[name] = v;
  }
  return Object.freeze(out as Record<ConstantName, number>);
}

/** Platform constants, as the kernel headers define them. */
export const constants = readConstants();
