/**
 * Fault injection per actor: what happens to the Ethernet frames one actor receives from the guest
 * side (`in`: the `frames` batches the tap actor hands it) and sends to the guest (`out`: its tap
 * writes), decided frame by frame by a seeded generator, so a run can be replayed.
 *
 * SPEC (the `--fault ACTOR:SPEC` option and the control socket's `fault` command), comma-separated:
 *   drop=P          lose the frame
 *   dup=P           deliver it twice
 *   corrupt=P       flip one byte of it (at a random offset)
 *   delay=P@MS      hold it back MS milliseconds (it then arrives after later frames)
 *   crash=P         end the actor as a crash would, at this frame (once: see below)
 *   crash-after=N   end it at its Nth frame (in + out) instead
 *   dir=in|out|both which frames (default both)
 *   seed=N          the generator's seed (default 1)
 *   none            no faults
 * P is a probability from 0 to 1. A crash is injected once: the router clears `crash` and
 * `crash-after` when the actor reports it, so the restarted actor runs on (the other faults stay).
 *
 * Pure: parsing and the per-frame decision. The actor host and the tap writer apply them.
 */
import { Prng } from './prng.js';

export interface FaultSpec {
  drop: number;
  dup: number;
  corrupt: number;
  delay: number;
  delayMs: number;
  crash: number;
  crashAfter: number;
  dir: 'in' | 'out' | 'both';
  seed: number;
}

export const NO_FAULTS: FaultSpec = { drop: 0, dup: 0, corrupt: 0, delay: 0, delayMs: 0, crash: 0, crashAfter: 0, dir: 'both', seed: 1 };

/** The longest delay taken (a frame held longer would only look lost). */
export const MAX_DELAY_MS = 60_000;

function probability(key: string, v: string): number {
  const p = Number(v);
  if (v === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new Error(`fault ${key}: a probability from 0 to 1, not '${v}'`);
  return p;
}

function whole(key: string, v: string, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) > max) throw new Error(`fault ${key}: a whole number up to ${max}, not '${v}'`);
  return Number(v);
}

/** Parses a SPEC; throws an Error naming the bad part. */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = { ...NO_FAULTS };
  if (text.trim() === 'none') return spec;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part.trim() : part.slice(0, eq).trim();
    const v = eq < 0 ? '' : part.slice(eq + 1).trim();
    switch (key) {
      case 'drop':
      case 'dup':
      case 'corrupt':
      case 'crash':
        spec[key] = probability(key, v);
        break;
      case 'delay': {
        const m = /^([^@]+)@(\d+)(?:ms)?$/.exec(v);
        if (!m) throw new Error(`fault delay: P@MS (e.g. 0.1@20ms), not '${v}'`);
        spec.delay = probability(key, m[1]!);
        spec.delayMs = whole('delay', m[2]!, MAX_DELAY_MS);
        break;
      }
      case 'crash-after':
        spec.crashAfter = whole(key, v, 2 ** 31);
        break;
      case 'dir':
        if (v !== 'in' && v !== 'out' && v !== 'both') throw new Error(`fault dir: in, out or both, not '${v}'`);
        spec.dir = v;
        break;
      case 'seed':
        spec.seed = whole(key, v, 2 ** 32 - 1);
        break;
      default:
        throw new Error(`unknown fault '${key}' (known: drop, dup, corrupt, delay, crash, crash-after, dir, seed, none)`);
    }
  }
  return spec;
}

/** Whether a spec does anything at all. */
export function hasFaults(s: FaultSpec): boolean {
  return s.drop > 0 || s.dup > 0 || s.corrupt > 0 || s.delay > 0 || s.crash > 0 || s.crashAfter > 0;
}

/** A spec as SPEC text (what the control socket shows). */
export function formatFaultSpec(s: FaultSpec): string {
  if (!hasFaults(s)) return 'none';
  const parts: string[] = [];
  for (const k of ['drop', 'dup', 'corrupt', 'crash'] as const) if (s[k] > 0) parts.push(`${k}=${s[k]}`);
  if (s.delay > 0) parts.push(`delay=${s.delay}@${s.delayMs}ms`);
  if (s.crashAfter > 0) parts.push(`crash-after=${s.crashAfter}`);
  if (s.dir !== 'both') parts.push(`dir=${s.dir}`);
  parts.push(`seed=${s.seed}`);
  return parts.join(',');
}

/** What to do with one frame. */
export interface FrameFate {
  drop: boolean;
  /** 1, or 2 with dup */
  copies: number;
  /** the offset of the byte to flip, or -1 */
  corruptAt: number;
  /** 0, or how long to hold the frame */
  delayMs: number;
  /** end the actor now */
  crash: boolean;
}

/** Decides frame by frame; the same spec and seed give the same decisions. */
export class FaultInjector {
  readonly #rng: Prng;
  #frames = 0;
  readonly #fate: FrameFate = { drop: false, copies: 1, corruptAt: -1, delayMs: 0, crash: false };

  constructor(readonly spec: FaultSpec) {
    this.#rng = new Prng(spec.seed);
  }

  applies(dir: 'in' | 'out'): boolean {
    return this.spec.dir === 'both' || this.spec.dir === dir;
  }

  /** The fate of the next frame of `len` bytes (one object, reused: read it before the next call). */
  decide(len: number): FrameFate {
    const s = this.spec, r = this.#rng, f = this.#fate;
    this.#frames++;
    f.crash = (s.crashAfter > 0 && this.#frames === s.crashAfter) || (s.crash > 0 && r.chance(s.crash));
    f.drop = s.drop > 0 && r.chance(s.drop);
    f.copies = s.dup > 0 && r.chance(s.dup) ? 2 : 1;
    f.corruptAt = s.corrupt > 0 && len > 0 && r.chance(s.corrupt) ? r.below(len) : -1;
    f.delayMs = s.delay > 0 && r.chance(s.delay) ? s.delayMs : 0;
    return f;
  }
}

/**
 * Applies the injector to a batch of frames (`buf` holds them back to back, `lens` their lengths):
 * the frames to deliver now, those to deliver later (by delay), whether to crash, and what was done.
 * Corrupted frames are copies: `buf` itself is never written.
 */
export function applyToBatch(inj: FaultInjector, buf: Uint8Array, lens: readonly number[]): {
  now: Uint8Array[];
  later: { delayMs: number; frame: Uint8Array }[];
  crash: boolean;
  dropped: number;
  duplicated: number;
  corrupted: number;
} {
  const out = { now: [] as Uint8Array[], later: [] as { delayMs: number; frame: Uint8Array }[], crash: false, dropped: 0, duplicated: 0, corrupted: 0 };
  let off = 0;
  for (const len of lens) {
    let frame = buf.subarray(off, off + len);
    off += len;
    const f = inj.decide(len);
    if (f.crash) out.crash = true;
    if (f.drop) {
      out.dropped++;
      continue;
    }
    if (f.corruptAt >= 0) {
      frame = corruptedCopy(frame, f.corruptAt);
      out.corrupted++;
    }
    if (f.copies > 1) out.duplicated++;
    for (let i = 0; i < f.copies; i++) {
      if (f.delayMs > 0) out.later.push({ delayMs: f.delayMs, frame: frame.slice() });
      else out.now.push(frame);
    }
  }
  return out;
}

/** A copy of `frame` with the byte at `at` flipped (the frame itself is never written). */
export function corruptedCopy(frame: Uint8Array, at: number): Uint8Array {
  const copy = frame.slice();
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

/** Frames back to back, as a `frames` message carries them. */
export function packFrames(frames: readonly Uint8Array[]): { buf: Uint8Array; lens: number[] } {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const buf = new Uint8Array(total);
  const lens: number[] = [];
  let off = 0;
  for (const f of frames) {
    buf.set(f, off);
    off += f.length;
    lens.push(f.length);
  }
  return { buf, lens };
}
