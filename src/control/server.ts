/**
 * The control socket (`--control PATH`): a UNIX stream socket served by the router's process, one JSON
 * request per line, one JSON reply per line, in order (commands.ts). Mode 0600: whoever can connect can
 * restart actors. A stale socket left at PATH by an earlier run is replaced; any other file there is an
 * error. Served by Node's own loop (net), not the router's epoll set: it carries no guest traffic.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { applyForwardChange, handleLine, MAX_REQUEST, type ControlDeps } from './commands.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../runtime/log.js';
import type { Router } from '../actors/router/router.js';

export interface ControlServer {
  close(): void;
}

/** Listens on `path`; resolves once it does. */
export async function startControl(path: string, deps: ControlDeps, log: Logger): Promise<ControlServer> {
  removeStaleSocket(path);
  const server = createServer((sock) => serveClient(sock, deps, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.on('error', (e) => log.warn(`control socket: ${e.message}`));
  log.debug(`control socket at ${path}`);
  return { close: () => closeServer(server, path) };
}

function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`--control ${path}: exists and is not a socket`);
  unlinkSync(path);
}

function closeServer(server: Server, path: string): void {
  server.close();
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Reads lines, answers each in order; a line over MAX_REQUEST ends the connection after the error. */
function serveClient(sock: Socket, deps: ControlDeps, log: Logger): void {
  let buf = '';
  let chain = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) chain = chain.then(() => answer(sock, line, deps, log));
    }
    if (buf.length > MAX_REQUEST) {
      buf = '';
      chain = chain.then(() => void sock.end(`${JSON.stringify({ ok: false, error: `request longer than ${MAX_REQUEST} bytes` })}\n`));
    }
  });
}

async function answer(sock: Socket, line: string, deps: ControlDeps, log: Logger): Promise<void> {
  const reply = await handleLine(line, deps).catch((e: unknown) => ({ ok: false, error: e instanceof Error ? e.message : String(e) }));
  log.debug(`control: ${line} -> ${reply.ok ? 'ok' : String(reply.error)}`);
  if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\n`);
}

/**
 * The control socket's view of the router. `cfg` is the configuration actors are started with: a
 * forward changed here is what a restarted actor starts with too.
 */
export function routerControl(router: Router, cfg: Config): ControlDeps {
  return {
    actors: () => router.actorStatus(),
    counters: (name) => router.counters(name),
    allCounters: () => router.allCounters(),
    flows: (name, max) => router.flows(name, max),
    restart: (name) => router.resetActors([name]),
    mode: cfg.mode,
    forward: () => cfg.forward,
    setForward: async (change) => {
      cfg.forward = applyForwardChange(cfg.forward, change);
      router.setForward(cfg.forward);
    },
    faults: () => router.faults(),
    setFaults: (name, spec) => router.setFaults(name, spec),
  };
}
