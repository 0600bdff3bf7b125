/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`): self time per function, largest first.
 * Pure: takes the parsed .cpuprofile JSON.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  name: string;
  /** self time, ms */
  ms: number;
  /** share of all sampled time, percent */
  pct: number;
}

function shortUrl(url: string): string {
  const m = /\/(dist\/.*|node_modules\/.*)$/.exec(url) ?? /([^/]*)$/.exec(url);
  return m?.[1] ?? url;
}

function label(f: CpuProfile['nodes'][number]['callFrame']): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/** Self time by function (samples × their time deltas) over one or more profiles (chunks), the top `count`. */
export function hotFunctions(profiles: CpuProfile | readonly CpuProfile[], count = 15): { totalMs: number; idleMs: number; top: HotFunction[] } {
  const self = new Map<string, number>();
  let total = 0;
  for (const p of Array.isArray(profiles) ? profiles : [profiles]) total += addSelfTimes(p as CpuProfile, self);
  const idle = self.get('(idle)') ?? 0;
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: total ? (us / total) * 100 : 0 }));
  return { totalMs: total / 1000, idleMs: idle / 1000, top };
}

/** Adds one profile's self times (µs) by function label into `self`; returns its total (µs). */
function addSelfTimes(p: CpuProfile, self: Map<string, number>): number {
  const byNode = new Map<number, string>();
  for (const n of p.nodes) byNode.set(n.id, label(n.callFrame));
  const samples = p.samples ?? [], deltas = p.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = Math.max(0, deltas[i] ?? 0);
    const name = byNode.get(samples[i]!) ?? '(unknown)';
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  }
  return total;
}
