/**
 * The control socket's commands (`--control PATH`): one JSON object per line in, one per line out.
 * Pure dispatch over what the router can tell and do (`ControlDeps`); the socket is in server.ts.
 *
 *   {"cmd":"actors"}                  → {"ok":true,"actors":[{"name","pid","ready","restarts","resets"}...]}
 *   {"cmd":"counters"}                → {"ok":true,"counters":{"tap":{...},...}}
 *   {"cmd":"counters","actor":"tcp"}  → {"ok":true,"counters":{"tcp":{...}}}
 *   {"cmd":"restart","actor":"tcp"}   → {"ok":true,"actor":"tcp","pid":N} once the new incarnation is
 *                                       ready (its flows are reset, as after a crash; not counted by
 *                                       the restart policy)
 *   {"cmd":"help"}                    → {"ok":true,"commands":[...]}
 * Anything else: {"ok":false,"error":"..."}; never a crash, never a closed connection. `flows` and
 * `forward` (listing flows, changing port forwards at run time) are refused by name until built.
 */
import { ACTOR_NAMES, type ActorName } from '../runtime/actor.js';

export interface ActorStatus {
  name: ActorName;
  pid: number | null;
  ready: boolean;
  /** restarts after a crash or an unexpected exit (what the restart policy counts) */
  restarts: number;
  /** restarts on purpose: this socket's `restart`, passt's client leaving */
  resets: number;
}

export interface ControlDeps {
  actors(): ActorStatus[];
  counters(name: ActorName): Promise<Record<string, number>>;
  allCounters(): Promise<Record<string, Record<string, number>>>;
  restart(name: ActorName): Promise<void>;
}

export type Reply = Record<string, unknown> & { ok: boolean };

const COMMANDS = ['actors', 'counters', 'restart', 'help'];
const NOT_YET = new Set(['flows', 'forward']);
/** The longest request line taken (a longer one is refused). */
export const MAX_REQUEST = 64 * 1024;

const fail = (error: string): Reply => ({ ok: false, error });

/** One request line → one reply. */
export async function handleLine(line: string, deps: ControlDeps): Promise<Reply> {
  if (line.length > MAX_REQUEST) return fail(`request longer than ${MAX_REQUEST} bytes`);
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    return fail('not JSON: one object per line, e.g. {"cmd":"actors"}');
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return fail('a request is a JSON object');
  const { cmd, actor } = req as { cmd?: unknown; actor?: unknown };
  if (typeof cmd !== 'string') return fail('missing "cmd"');
  return run(cmd, actor, deps);
}

async function run(cmd: string, actor: unknown, deps: ControlDeps): Promise<Reply> {
  switch (cmd) {
    case 'help':
      return { ok: true, commands: COMMANDS };
    case 'actors':
      return { ok: true, actors: deps.actors() };
    case 'counters':
      return counters(actor, deps);
    case 'restart':
      return restart(actor, deps);
    default:
      if (NOT_YET.has(cmd)) return fail(`"${cmd}" is not supported yet`);
      return fail(`unknown command "${cmd}" (known: ${COMMANDS.join(', ')})`);
  }
}

function actorName(actor: unknown): ActorName | null {
  return typeof actor === 'string' && (ACTOR_NAMES as readonly string[]).includes(actor) ? (actor as ActorName) : null;
}

async function counters(actor: unknown, deps: ControlDeps): Promise<Reply> {
  if (actor === undefined) return { ok: true, counters: await deps.allCounters() };
  const name = actorName(actor);
  if (!name) return fail(`unknown actor ${JSON.stringify(actor)} (known: ${ACTOR_NAMES.join(', ')})`);
  try {
    return { ok: true, counters: { [name]: await deps.counters(name) } };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

async function restart(actor: unknown, deps: ControlDeps): Promise<Reply> {
  const name = actorName(actor);
  if (!name) return fail(`"restart" needs "actor", one of: ${ACTOR_NAMES.join(', ')}`);
  await deps.restart(name);
  const now = deps.actors().find((a) => a.name === name);
  return { ok: true, actor: name, pid: now?.pid ?? null };
}
