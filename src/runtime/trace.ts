/**
 * Message summaries for traces: scalar fields as they are, byte arrays as their length, so a trace
 * line stays small and never carries guest payload.
 */
import type { Msg } from './channel.js';

export function summarize(msg: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) out[k] = summarizeValue(v);
  return out;
}

function summarizeValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: v.length };
  if (Array.isArray(v)) return v.length > 16 ? { items: v.length } : v.map(summarizeValue);
  if (v !== null && typeof v === 'object') {
    if (typeof (v as { postMessage?: unknown }).postMessage === 'function') return '[port]';
    return summarize(v as Msg);
  }
  return v;
}
