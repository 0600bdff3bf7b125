/**
 * Port-forwarding specifications: the SPEC argument of -t/--tcp-ports, -u/--udp-ports, -T/--tcp-ns and
 * -U/--udp-ns, parsed into a pure value.
 *
 * Grammar (as passt's man page describes it; the code is ours):
 *
 *   SPEC   := 'none' | 'auto' (pasta only) | 'all' (passt only) | [BIND '/'] PARTS
 *   BIND   := ADDR | ADDR '%' IFNAME | '%' IFNAME          (only for -t and -u)
 *   PARTS  := PART (',' PART)*
 *   PART   := RANGE [':' RANGE]                              forward, optionally translated
 *           | '~' RANGE                                      exclude
 *   RANGE  := PORT ['-' PORT]                                first <= last, 1..65535
 *
 * Semantics, matching Debian's passt 0.0~git20230309:
 * - exclusions of one SPEC apply to that SPEC's ranges, wherever they appear in it;
 * - a SPEC with exclusions only forwards every non-ephemeral port (1..49151) but those;
 * - a translated part needs both ranges of equal length: `22-80:32-90`;
 * - several options for the same direction combine: a port forwarded twice is an "overlapping" error
 *   (except that an exclusions-only SPEC silently skips ports already forwarded, as passt does);
 * - 'none', 'auto' and 'all' can't be combined with anything else for the same direction.
 *
 * Port 0 is never forwarded (passt's maps include it, but a listening socket on port 0 is meaningless).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Mode } from './config.js';
import { UsageError } from './errors.js';

export const NUM_PORTS = 65536;
/** First ephemeral port: 'all' and exclusions-only specs forward ports below it. */
export const EPHEMERAL_MIN = 49152;
/** Longest Linux interface name (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

export type ForwardMode = 'none' | 'auto' | 'all' | 'spec';

/** Forwarded ports first..last, to target..target+(last-first), listening on addr/ifname (null: any). */
export interface PortRange {
  first: number;
  last: number;
  target: number;
  addr: string | null;
  ifname: string | null;
}

/**
 * Forwarding for one protocol and direction. `ranges` is sorted, non-overlapping, and lists every
 * forwarded port for modes 'all' and 'spec'; it is empty for 'none' and 'auto' (ports found at run time).
 */
export interface PortForward {
  mode: ForwardMode;
  ranges: readonly PortRange[];
}

/** Where a forwarded port goes: its target port, and the address and interface it is bound to. */
export interface PortDestination {
  target: number;
  addr: string | null;
  ifname: string | null;
}

/** Where one option's SPECs come from, for checks and error messages. */
export interface SpecContext {
  /** the option as shown in errors, e.g. '-t' */
  option: string;
  mode: Mode;
  /** may a SPEC name an address or interface (-t, -u) */
  allowBind: boolean;
}

interface Span {
  first: number;
  last: number;
}

interface Mapping extends Span {
  target: number;
}

interface Bind {
  addr: string | null;
  ifname: string | null;
}

export type ParsedSpec =
  | { kind: 'none' | 'auto' | 'all' }
  | { kind: 'ports'; bind: Bind; includes: Mapping[]; excludes: Span[] };

const bad = (text: string, ctx: SpecContext): UsageError =>
  new UsageError(`invalid port specification '${text}' for ${ctx.option}`);

const overlapping = (text: string, ctx: SpecContext): UsageError =>
  new UsageError(`overlapping port specification '${text}' for ${ctx.option}`);

/** Parse one SPEC string; throws UsageError on any malformed part. */
export function parsePortSpec(text: string, ctx: SpecContext): ParsedSpec {
  const keyword = parseKeyword(text, ctx);
  if (keyword) return keyword;
  const slash = text.indexOf('/');
  if (slash >= 0 && !ctx.allowBind) throw bad(text, ctx);
  const bind = slash >= 0 ? parseBind(text.slice(0, slash), text, ctx) : { addr: null, ifname: null };
  const includes: Mapping[] = [];
  const excludes: Span[] = [];
  for (const part of text.slice(slash + 1).split(',')) {
    if (part.startsWith('~')) excludes.push(parseSpan(part.slice(1), text, ctx));
    else includes.push(parseMapping(part, text, ctx));
  }
  checkExclusionsDisjoint(excludes, text, ctx);
  return { kind: 'ports', bind, includes, excludes };
}

function parseKeyword(text: string, ctx: SpecContext): ParsedSpec | null {
  if (text !== 'none' && text !== 'auto' && text !== 'all') return null;
  if (text === 'auto' && ctx.mode !== 'pasta')
    throw new UsageError(`'auto' port forwarding is only available in pasta mode (${ctx.option} auto)`);
  if (text === 'all' && ctx.mode !== 'passt')
    throw new UsageError(`'all' port forwarding is only available in passt mode (${ctx.option} all)`);
  return { kind: text };
}

/** ADDR, ADDR%IF or %IF before the '/'. */
function parseBind(head: string, text: string, ctx: SpecContext): Bind {
  const pct = head.indexOf('%');
  const addr = pct >= 0 ? head.slice(0, pct) : head;
  const ifname = pct >= 0 ? head.slice(pct + 1) : null;
  if (ifname !== null && !isValidIfname(ifname)) throw bad(text, ctx);
  if (addr === '' && ifname !== null) return { addr: null, ifname };
  if (!isIPv4(addr) && !isIPv6(addr)) throw bad(text, ctx);
  return { addr, ifname };
}

/** A Linux network interface name, as the kernel's dev_valid_name() accepts it. */
export function isValidIfname(name: string): boolean {
  if (name.length === 0 || name.length > IFNAME_MAX || name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}

/** PORT or PORT-PORT */
function parseSpan(s: string, text: string, ctx: SpecContext): Span {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) throw bad(text, ctx);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last < first || last >= NUM_PORTS) throw bad(text, ctx);
  return { first, last };
}

/** RANGE or RANGE:RANGE, the two ranges of equal length */
function parseMapping(part: string, text: string, ctx: SpecContext): Mapping {
  const sides = part.split(':');
  if (sides.length > 2) throw bad(text, ctx);
  const from = parseSpan(sides[0] ?? '', text, ctx);
  if (sides[1] === undefined) return { ...from, target: from.first };
  const to = parseSpan(sides[1], text, ctx);
  if (to.last - to.first !== from.last - from.first) throw bad(text, ctx);
  return { ...from, target: to.first };
}

function checkExclusionsDisjoint(excludes: readonly Span[], text: string, ctx: SpecContext): void {
  const sorted = [...excludes].sort((a, b) => a.first - b.first);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.first <= sorted[i - 1]!.last) throw overlapping(text, ctx);
  }
}

/**
 * Accumulates every SPEC given for one protocol and direction, in command-line order, with passt's
 * combination rules; `build()` gives the resulting PortForward.
 */
export class PortForwardBuilder {
  #mode: ForwardMode | null = null;
  readonly #taken = new Uint8Array(NUM_PORTS);
  readonly #ranges: PortRange[] = [];
  readonly #ctx: SpecContext;

  constructor(ctx: SpecContext) {
    this.#ctx = ctx;
  }

  /** Was any SPEC given? */
  get given(): boolean {
    return this.#mode !== null;
  }

  add(text: string): void {
    const spec = parsePortSpec(text, this.#ctx);
    if (spec.kind === 'ports') this.#addPorts(spec, text);
    else this.#setKeyword(spec.kind, text);
  }

  build(defaultMode: ForwardMode): PortForward {
    return { mode: this.#mode ?? defaultMode, ranges: canonicalRanges(this.#ranges) };
  }

  #setKeyword(kind: 'none' | 'auto' | 'all', text: string): void {
    if (this.#mode !== null)
      throw new UsageError(`port forwarding mode '${text}' conflicts with an earlier ${this.#ctx.option}`);
    this.#mode = kind;
    if (kind === 'all') this.#forwardAllBut(new Uint8Array(NUM_PORTS), { addr: null, ifname: null });
  }

  #addPorts(spec: Extract<ParsedSpec, { kind: 'ports' }>, text: string): void {
    if (this.#mode !== null && this.#mode !== 'spec')
      throw new UsageError(`specific ports can't be combined with '${this.#mode}' for ${this.#ctx.option}`);
    this.#mode = 'spec';
    const excluded = spanMap(spec.excludes);
    if (spec.includes.length === 0) this.#forwardAllBut(excluded, spec.bind);
    for (const m of spec.includes) this.#forwardMapping(m, excluded, spec.bind, text);
  }

  #forwardMapping(m: Mapping, excluded: Uint8Array, bind: Bind, text: string): void {
    for (let p = m.first; p <= m.last; p++) {
      if (this.#taken[p]) throw overlapping(text, this.#ctx);
      if (!excluded[p]) this.#take(p, m.target + (p - m.first), bind);
    }
  }

  /** Every non-ephemeral port not excluded and not already forwarded. */
  #forwardAllBut(excluded: Uint8Array, bind: Bind): void {
    for (let p = 1; p < EPHEMERAL_MIN; p++) {
      if (!excluded[p] && !this.#taken[p]) this.#take(p, p, bind);
    }
  }

  #take(port: number, target: number, bind: Bind): void {
    this.#taken[port] = 1;
    const last = this.#ranges[this.#ranges.length - 1];
    if (last && continues(last, port, target, bind)) last.last = port;
    else this.#ranges.push({ first: port, last: port, target, addr: bind.addr, ifname: bind.ifname });
  }
}

function spanMap(spans: readonly Span[]): Uint8Array {
  const map = new Uint8Array(NUM_PORTS);
  for (const s of spans) map.fill(1, s.first, s.last + 1);
  return map;
}

/** Would port→target extend range r without a gap, with the same translation and binding? */
function continues(r: PortRange, port: number, target: number, bind: Bind): boolean {
  return (
    r.last === port - 1 && r.target + (port - r.first) === target && r.addr === bind.addr && r.ifname === bind.ifname
  );
}

/** Sorted by first port, touching ranges with the same translation and binding merged. */
function canonicalRanges(ranges: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.first - b.first)) {
    const prev = out[out.length - 1];
    if (prev && continues(prev, r.first, r.target, r)) prev.last = r.last;
    else out.push({ ...r });
  }
  return out;
}

/** Convenience: the PortForward that these SPECs, given in this order, produce. */
export function portForwardFromSpecs(
  specs: readonly string[],
  ctx: SpecContext,
  defaultMode: ForwardMode,
): PortForward {
  const builder = new PortForwardBuilder(ctx);
  for (const s of specs) builder.add(s);
  return builder.build(defaultMode);
}

/** Where a forwarded port goes, or null if it isn't forwarded by this (static) configuration. */
export function lookupPort(fwd: PortForward, port: number): PortDestination | null {
  const r = fwd.ranges.find((x) => port >= x.first && port <= x.last);
  return r ? { target: r.target + (port - r.first), addr: r.addr, ifname: r.ifname } : null;
}

/** Per-port map: targetMap(fwd)[port] is the target port, or -1 where the port isn't forwarded. */
export function targetMap(fwd: PortForward): Int32Array {
  const map = new Int32Array(NUM_PORTS).fill(-1);
  for (const r of fwd.ranges) {
    for (let p = r.first; p <= r.last; p++) map[p] = r.target + (p - r.first);
  }
  return map;
}

/** How many ports this configuration forwards statically. */
export function forwardedPortCount(fwd: PortForward): number {
  return fwd.ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
}
