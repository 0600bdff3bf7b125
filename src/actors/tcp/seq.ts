/**
 * TCP sequence-number arithmetic, modulo 2^32 (RFC 9293 §3.4). Sequence numbers are uint32 values held
 * in JS numbers; every result is normalised back to 0..2^32-1. Comparisons are valid when the two numbers
 * are less than 2^31 apart, which a window (at most 2^30 with scaling) guarantees. Pure.
 */

/** a + n, modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed 32-bit distance: positive when a is after b. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

/** The later of a and b. */
export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}

/** True if lo <= x < lo + len (modulo 2^32). */
export function seqInWindow(x: number, lo: number, len: number): boolean {
  const d = seqDiff(x, lo);
  return d >= 0 && d < len;
}
