/**
 * passt: give a qemu guest the host's network over a UNIX stream socket.
 *
 * Sequence: read the host's network (netlink) → bind the socket (`-s PATH`, or the first free
 * /tmp/passt_N.socket; with `-F N` an inherited, connected socket instead) → start the router and its
 * actors, in passt mode: no namespace (no namespace helper: `ns` requests are answered with an error),
 * no tap writers (only the tap actor writes the stream) → tell the user the qemu command line, write
 * the PID file, tell a detaching parent we are ready → serve clients one at a time (passt-clients.ts):
 * each accepted socket becomes the router's kept `Tap` fd (it outlives tap-actor restarts, as the tap
 * device does in pasta); when the client goes away the protocol actors are reset (every flow of that
 * guest closed) and the next client is served → exit on SIGTERM/SIGHUP/SIGINT, or when the first
 * client leaves with `-1`/`-F`.
 *
 * The listening socket is the router's own fd (`TapListen`): connections are accepted here, in the
 * router's thread. The socket file is removed at exit.
 */
import { existsSync, lstatSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Config } from './config/config.js';
import { native, isErrno } from './native/index.js';
import { pcapGlobalHeader } from './protocol/pcap.js';
import { startControl, routerControl } from './control/server.js';
import { Router } from './actors/router/router.js';
import { Proto } from './runtime/epoll-ref.js';
import { createLogger, type Logger } from './runtime/log.js';
import type { ActorConfig } from './runtime/actor-config.js';
import type { ActorName } from './runtime/actor.js';
import { signalReady } from './daemon.js';
import { actorConfigFor, guestNetwork, logCounters, namespacePlan, onStopSignal, readHostNetwork, runtimeLogConfig } from './pasta.js';
import { ClientGate } from './passt-clients.js';

const EPOLLIN = 0x001;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 1 << 31;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOL_SOCKET = 1;
/** getsockopt(SO_PEERCRED) with an int's room gives the first field of struct ucred: the peer's pid */
const SO_PEERCRED = 17;
/** /tmp/passt_1.socket ... /tmp/passt_99.socket, as passt */
const SOCKET_NUMBERS = 99;
const LISTEN_BACKLOG = 8;
/** the actors whose state belongs to one guest: reset when it goes away */
const PER_GUEST_ACTORS: readonly ActorName[] = ['tcp', 'udp', 'icmp'];

export function defaultSocketPath(n: number): string {
  return `/tmp/passt_${n}.socket`;
}

/** True if something listens at `path` (a connect() gets through, or its backlog is full). */
function socketInUse(path: string): boolean {
  const fd = native.socket(AF_UNIX, SOCK_STREAM, 0);
  try {
    native.connectUnix(fd, path);
    return true;
  } catch (e) {
    return !(isErrno(e, 'ENOENT') || isErrno(e, 'ECONNREFUSED'));
  } finally {
    native.close(fd, true);
  }
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Binds a new listening socket at `path`; a stale socket file there is replaced, any other file is not. */
function bindAt(path: string): number {
  if (existsSync(path) && !isSocketFile(path)) throw new Error(`${path} exists and is not a socket`);
  if (socketInUse(path)) throw new Error(`socket path ${path} is already in use`);
  if (existsSync(path)) unlinkSync(path);
  const fd = native.socket(AF_UNIX, SOCK_STREAM, 0);
  try {
    native.bindUnix(fd, path);
    native.listen(fd, LISTEN_BACKLOG);
    return fd;
  } catch (e) {
    native.close(fd, true);
    throw e;
  }
}

/** `-s PATH`, or the first /tmp/passt_N.socket that nobody serves. */
export function listenUnix(path: string | null): { fd: number; path: string } {
  if (path !== null) return { fd: bindAt(path), path };
  for (let n = 1; n <= SOCKET_NUMBERS; n++) {
    const p = defaultSocketPath(n);
    try {
      return { fd: bindAt(p), path: p };
    } catch {
      // in use, not ours, or lost a race with another passt: the next number
    }
  }
  throw new Error(`no free socket path among ${defaultSocketPath(1)} .. ${defaultSocketPath(SOCKET_NUMBERS)}`);
}

/** What the user needs to start qemu, and what the guest will be told. */
export function bannerLines(path: string | null, net: ActorConfig['net']): string[] {
  const v4 = net.addr4 === undefined ? [] : [`${net.addr4}/${net.prefix4 ?? 24}${net.gw4 ? ` via ${net.gw4}` : ''}`];
  const v6 = net.addr6 === undefined ? [] : [`${net.addr6}${net.gw6 ? ` via ${net.gw6}` : ''}`];
  const lines = [`guest addresses: ${[...v4, ...v6].join(', ') || 'none'}; MTU ${net.mtu}; our MAC ${net.ourMac}`];
  if (path === null) return lines;
  return [
    ...lines,
    `UNIX domain socket bound at ${path}`,
    'You can now start qemu (>= 7.2, with commit 13c6be96618c):',
    `    kvm ... -device virtio-net-pci,netdev=s -netdev stream,id=s,server=off,addr.type=unix,addr.path=${path}`,
  ];
}

function peerPid(fd: number): string {
  try {
    const pid = native.getsockoptInt(fd, SOL_SOCKET, SO_PEERCRED);
    return pid > 0 ? ` (PID ${pid})` : '';
  } catch {
    return '';
  }
}

/** The inherited socket of -F, made non-blocking (an fd that is not open fails here, clearly). */
function inheritedSocket(fd: number): number {
  try {
    native.setNonBlocking(fd, true);
    native.setCloexec(fd, true);
  } catch (e) {
    throw new Error(`--fd ${fd}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return fd;
}

export async function runPasst(cfg: Config): Promise<number> {
  const stopSignal = stopSignals();
  const logCfg = runtimeLogConfig(cfg);
  const log = createLogger(logCfg);
  const cleanup: (() => void | Promise<void>)[] = [];
  try {
    const host = readHostNetwork(cfg);
    const net = guestNetwork(cfg, host, namespacePlan(cfg, host));
    const inherited = cfg.fd === null ? null : inheritedSocket(cfg.fd);
    const listener = inherited === null ? listenUnix(cfg.socketPath) : null;
    if (listener) cleanup.push(() => closeListener(listener));
    if (cfg.pcapFile !== null) writeFileSync(cfg.pcapFile, pcapGlobalHeader());
    const router = new Router({
      mode: cfg.actors.separateProcesses ? 'process' : 'thread',
      log,
      actorConfig: actorConfigFor(cfg, host, net, logCfg),
      trace: cfg.actors.trace.includes('router'),
    faults: cfg.actors.faults,
      tapWriters: false,
    });
    cleanup.unshift(() => router.stop());
    cleanup.unshift(() => logCounters(router, log));
    await router.start();
    if (cfg.actors.control !== null) {
      const control = await startControl(cfg.actors.control, routerControl(router, cfg), log);
      cleanup.unshift(() => control.close());
    }
    return await serve(cfg, router, log, { inherited, listener, banner: bannerLines(listener?.path ?? null, net) }, stopSignal, cleanup);
  } finally {
    for (const c of cleanup) await c();
    log.close();
  }
}

interface Endpoints {
  inherited: number | null;
  listener: { fd: number; path: string } | null;
  banner: string[];
}

/** Serves clients until a signal, a fatal actor failure, or (one-off) the first client's departure. */
function serve(cfg: Config, router: Router, log: Logger, ends: Endpoints, stopSignal: Promise<number>, cleanup: (() => void | Promise<void>)[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const gate = new ClientGate(cfg.oneOff, {
      attach: (fd) => {
        log.info(`client connected${peerPid(fd)}`);
        router.addKeptFd(fd, Proto.Tap, 0, 0, EPOLLIN | EPOLLRDHUP | EPOLLET);
      },
      refuse: (fd, why) => {
        log.info(`${why}: refusing the connection${peerPid(fd)}`);
        native.close(fd, true);
      },
      detach: () => router.removeKeptFd(Proto.Tap, 0, 0),
      reset: () => router.resetActors(PER_GUEST_ACTORS),
      exit: (code) => {
        log.info('the client is gone, exiting (one-off)');
        resolve(code);
      },
    });
    cleanup.unshift(() => gate.stop());
    router.on((e) => {
      if (e.t === 'tap-closed') void gate.closed();
      else if (e.t === 'fatal') {
        log.error(e.reason);
        resolve(1);
      }
    });
    void stopSignal.then(resolve);
    if (ends.listener) router.addOwnFd(ends.listener.fd, Proto.TapListen, 0, EPOLLIN, () => acceptAll(ends.listener!.fd, gate, log));
    announceReady(cfg, log, ends.banner);
    if (ends.inherited !== null) gate.offer(ends.inherited);
  });
}

function acceptAll(fd: number, gate: ClientGate, log: Logger): void {
  for (;;) {
    let c: { fd: number } | null;
    try {
      c = native.accept(fd);
    } catch (e) {
      return log.warn(`accept: ${e instanceof Error ? e.message : String(e)}`); // EMFILE: tried again on the next wake-up
    }
    if (c === null) return;
    gate.offer(c.fd);
  }
}

/** The banner (also shown by a detaching parent), the PID file, then "ready" to the parent. */
function announceReady(cfg: Config, log: Logger, banner: string[]): void {
  for (const line of banner) log.info(line);
  if (cfg.pidFile !== null) writeFileSync(cfg.pidFile, `${process.pid}\n`);
  signalReady(log.enabled('info') ? banner.map((l) => `passt: ${l}\n`).join('') : '');
}

function closeListener(listener: { fd: number; path: string }): void {
  native.close(listener.fd, true);
  try {
    if (isSocketFile(listener.path)) unlinkSync(listener.path);
  } catch {
    // already gone
  }
}

/** SIGTERM, SIGHUP (as pasta) and SIGINT (passt has no command to leave Ctrl-C to): exit 128+N, cleanly. */
function stopSignals(): Promise<number> {
  const sigint = new Promise<number>((resolve) => process.once('SIGINT', () => resolve(130)));
  return Promise.race([onStopSignal(), sigint]);
}
