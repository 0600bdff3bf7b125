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
 *   {"cmd":"forward"}                 → {"ok":true,"forward":{"t":{mode,ranges},"u":..,"T":..,"U":..}}
 *   {"cmd":"forward","t":"8080,9000:90","U":"none"}
 *                                     → the port forwards replaced at run time, then as above. Each key is
 *                                       an option letter (-T and -U: pasta only); its value a SPEC, or a
 *                                       list of SPECs as several options would give, parsed exactly as
 *                                       the command line's. Listeners of ports no longer forwarded are
 *                                       closed (their connections stay), new ones opened; with "u" (or
 *                                       "U") absent UDP keeps following TCP if it did at start.
 *   {"cmd":"fault"}                   → {"ok":true,"faults":{"tcp":"drop=0.01,seed=1",...}} in force
 *   {"cmd":"fault","actor":"tcp","spec":"drop=0.01,delay=0.1@20ms,seed=7"}
 *                                     → that actor's frames from now on (runtime/faults.ts; "none" ends
 *                                       them; a crash is injected once), then as above
 *   {"cmd":"help"}                    → {"ok":true,"commands":[...]}
 * Anything else: {"ok":false,"error":"..."}; never a crash, never a closed connection.
 */
import { ACTOR_NAMES, type ActorName, type FlowInfo } from '../runtime/actor.js';
import type { ForwardConfig, Mode } from '../config/config.js';
import { portForwardFromSpecs, type PortForward } from '../config/portspec.js';
import { formatFaultSpec, parseFaultSpec, type FaultSpec } from '../runtime/faults.js';

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
  /** pasta or passt: which options exist and which keywords a SPEC may use */
  mode: Mode;
  forward(): ForwardConfig;
  /** Replaces these forwards (the actors reconcile their listeners); resolves once they were told. */
  setForward(change: ForwardChange): Promise<void>;
  faults(): Partial<Record<ActorName, FaultSpec>>;
  setFaults(name: ActorName, spec: FaultSpec): void;
}

export type ForwardChange = Partial<Pick<ForwardConfig, 'tcpIn' | 'udpIn' | 'tcpOut' | 'udpOut'>>;

/** The option letters `forward` takes, their field, and whether a SPEC may bind an address. */
const FORWARD_KEYS = {
  t: { field: 'tcpIn', allowBind: true, pastaOnly: false },
  u: { field: 'udpIn', allowBind: true, pastaOnly: false },
  T: { field: 'tcpOut', allowBind: false, pastaOnly: true },
  U: { field: 'udpOut', allowBind: false, pastaOnly: true },
} as const;
type ForwardKey = keyof typeof FORWARD_KEYS;

/** The actors that carry flows. */
export const FLOW_ACTORS: readonly ActorName[] = ['tcp', 'udp', 'icmp', 'splice'];
export const DEFAULT_FLOWS_MAX = 10_000;
const FLOWS_MAX_LIMIT = 100_000;

export type Reply = Record<string, unknown> & { ok: boolean };

const COMMANDS = ['actors', 'counters', 'flows', 'forward', 'fault', 'restart', 'help'];
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
  const fields = req as Record<string, unknown>;
  if (typeof fields.cmd !== 'string') return fail('missing "cmd"');
  return run(fields.cmd, fields, deps);
}

async function run(cmd: string, req: Record<string, unknown>, deps: ControlDeps): Promise<Reply> {
  switch (cmd) {
    case 'help':
      return { ok: true, commands: COMMANDS };
    case 'actors':
      return { ok: true, actors: deps.actors() };
    case 'counters':
      return counters(req.actor, deps);
    case 'restart':
      return restart(req.actor, deps);
    case 'flows':
      return flows(req.actor, req.max, deps);
    case 'forward':
      return forward(req, deps);
    case 'fault':
      return fault(req, deps);
    default:
      return fail(`unknown command "${cmd}" (known: ${COMMANDS.join(', ')})`);
  }
}

function actorName(actor: unknown): ActorName | null {
  return typeof actor === 'string' && (ACTOR_NAMES as readonly string[]).includes(actor) ? (actor as ActorName) : null;
}

const unknownActor = (actor: unknown): Reply => fail(`unknown actor ${JSON.stringify(actor)} (known: ${ACTOR_NAMES.join(', ')})`);
const failure = (e: unknown): Reply => fail(e instanceof Error ? e.message : String(e));

async function counters(actor: unknown, deps: ControlDeps): Promise<Reply> {
  if (actor === undefined) return { ok: true, counters: await deps.allCounters() };
  const name = actorName(actor);
  if (!name) return unknownActor(actor);
  try {
    return { ok: true, counters: { [name]: await deps.counters(name) } };
  } catch (e) {
    return failure(e);
  }
}

async function flows(actor: unknown, maxField: unknown, deps: ControlDeps): Promise<Reply> {
  const max = maxField === undefined ? DEFAULT_FLOWS_MAX : maxField;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > FLOWS_MAX_LIMIT) {
    return fail(`"max" is a whole number from 1 to ${FLOWS_MAX_LIMIT}`);
  }
  if (actor === undefined) {
    const out: Record<string, FlowInfo[]> = {};
    // every actor that answers; one not running (being restarted, or not started in this mode) is left out
    await Promise.all(FLOW_ACTORS.map((n) => deps.flows(n, max).then((f) => void (out[n] = f), () => undefined)));
    return { ok: true, flows: out, max };
  }
  const name = actorName(actor);
  if (!name) return unknownActor(actor);
  try {
    return { ok: true, flows: { [name]: await deps.flows(name, max) }, max };
  } catch (e) {
    return failure(e);
  }
}

/** The forwards after a change: UDP stops following TCP in the direction it is given for. */
export function applyForwardChange(now: ForwardConfig, change: ForwardChange): ForwardConfig {
  return {
    ...now,
    ...change,
    udpInFollowsTcp: now.udpInFollowsTcp && change.udpIn === undefined,
    udpOutFollowsTcp: now.udpOutFollowsTcp && change.udpOut === undefined,
  };
}

function forwardReply(deps: ControlDeps): Reply {
  const f = deps.forward();
  const out: Record<string, PortForward> = {};
  for (const [key, { field, pastaOnly }] of Object.entries(FORWARD_KEYS)) if (!pastaOnly || deps.mode === 'pasta') out[key] = f[field];
  return { ok: true, forward: out };
}

async function forward(req: Record<string, unknown>, deps: ControlDeps): Promise<Reply> {
  const change: ForwardChange = {};
  for (const [key, value] of Object.entries(req)) {
    if (key === 'cmd') continue;
    if (!(key in FORWARD_KEYS)) return fail(`"forward" takes the option letters t, u, T, U (got "${key}")`);
    const { field, allowBind, pastaOnly } = FORWARD_KEYS[key as ForwardKey];
    if (pastaOnly && deps.mode !== 'pasta') return fail(`-${key} exists in pasta mode only`);
    const specs = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(specs) || specs.length === 0 || !specs.every((x) => typeof x === 'string')) {
      return fail(`"${key}": a SPEC, or a non-empty list of SPECs`);
    }
    try {
      change[field] = portForwardFromSpecs(specs as string[], { option: `-${key}`, mode: deps.mode, allowBind }, 'none');
    } catch (e) {
      return failure(e);
    }
  }
  if (Object.keys(change).length > 0) await deps.setForward(change);
  return forwardReply(deps);
}

function fault(req: Record<string, unknown>, deps: ControlDeps): Reply {
  const { actor, spec } = req;
  if (actor !== undefined || spec !== undefined) {
    const name = actorName(actor);
    if (!name) return fail(`"fault" needs "actor", one of: ${ACTOR_NAMES.join(', ')}, and "spec"`);
    if (typeof spec !== 'string') return fail('"spec": e.g. "drop=0.01,seed=7", or "none"');
    try {
      deps.setFaults(name, parseFaultSpec(spec));
    } catch (e) {
      return failure(e);
    }
  }
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(deps.faults())) if (s) out[name] = formatFaultSpec(s);
  return { ok: true, faults: out };
}

async function restart(actor: unknown, deps: ControlDeps): Promise<Reply> {
  const name = actorName(actor);
  if (!name) return fail(`"restart" needs "actor", one of: ${ACTOR_NAMES.join(', ')}`);
  await deps.restart(name);
  const now = deps.actors().find((a) => a.name === name);
  return { ok: true, actor: name, pid: now?.pid ?? null };
}
