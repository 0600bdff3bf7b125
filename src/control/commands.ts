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
 *   {"cmd":"flows"}                   → {"ok":true,"flows":{"tcp":[...],"udp":[...],"icmp":[...],
 *                                       "splice":[...]},"max":N}: what each actor carries now (FlowInfo:
 *                                       proto, dir, path, guest, remote, state, ...), at most `max` per
 *                                       actor (default 10000; `"max":N` in the request, 1 to 100000)
 *   {"cmd":"flows","actor":"tcp"}     → one actor's
 *   {"cmd":"help"}                    → {"ok":true,"commands":[...]}
 * Anything else: {"ok":false,"error":"..."}; never a crash, never a closed connection. `forward`
 * (changing port forwards at run time) is refused by name until built.
 */
import { ACTOR_NAMES, type ActorName, type FlowInfo } from '../runtime/actor.js';

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
  flows(name: ActorName, max: number): Promise<FlowInfo[]>;
}

/** The actors that carry flows. */
export const FLOW_ACTORS: readonly ActorName[] = ['tcp', 'udp', 'icmp', 'splice'];
export const DEFAULT_FLOWS_MAX = 10_000;
const FLOWS_MAX_LIMIT = 100_000;

export type Reply = Record<string, unknown> & { ok: boolean };

const COMMANDS = ['actors', 'counters', 'flows', 'restart', 'help'];
const NOT_YET = new Set(['forward']);
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
  const { cmd, actor, max } = req as { cmd?: unknown; actor?: unknown; max?: unknown };
  if (typeof cmd !== 'string') return fail('missing "cmd"');
  return run(cmd, actor, max, deps);
}

async function run(cmd: string, actor: unknown, max: unknown, deps: ControlDeps): Promise<Reply> {
  switch (cmd) {
    case 'help':
      return { ok: true, commands: COMMANDS };
    case 'actors':
      return { ok: true, actors: deps.actors() };
    case 'counters':
      return counters(actor, deps);
    case 'restart':
      return restart(actor, deps);
    case 'flows':
      return flows(actor, max, deps);
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

async function flows(actor: unknown, maxField: unknown, deps: ControlDeps): Promise<Reply> {
  const max = maxField === undefined ? DEFAULT_FLOWS_MAX : maxField;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > FLOWS_MAX_LIMIT) {
    return fail(`"max" is a whole number from 1 to ${FLOWS_MAX_LIMIT}`);
  }
  const names = actor === undefined ? FLOW_ACTORS : [actorName(actor)];
  const name = names[0];
  if (!name) return fail(`unknown actor ${JSON.stringify(actor)} (known: ${ACTOR_NAMES.join(', ')})`);
  if (actor !== undefined) {
    try {
      return { ok: true, flows: { [name]: await deps.flows(name, max) }, max };
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
  }
  const out: Record<string, FlowInfo[]> = {};
  // every actor that answers; one not running (being restarted, or not started in this mode) is left out
  await Promise.all(names.map(async (n) => deps.flows(n!, max).then((f) => void (out[n!] = f), () => undefined)));
  return { ok: true, flows: out, max };
}

async function restart(actor: unknown, deps: ControlDeps): Promise<Reply> {
  const name = actorName(actor);
  if (!name) return fail(`"restart" needs "actor", one of: ${ACTOR_NAMES.join(', ')}`);
  await deps.restart(name);
  const now = deps.actors().find((a) => a.name === name);
  return { ok: true, actor: name, pid: now?.pid ?? null };
}
