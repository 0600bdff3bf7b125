/**
 * Byte helpers shared by the golden-bytes tests beside the protocol modules (test support only:
 * nothing outside *.test.ts imports this).
 */

/** Bytes from hex text (several parts are joined; whitespace ignored). */
export function fromHex(...parts: string[]): Uint8Array {
  return Uint8Array.from(Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex'));
}

/** Bytes from hex text where a token `00*N` stands for N zero bytes (for long, sparse captures). */
export function unhex(text: string): Uint8Array {
  const out: number[] = [];
  for (const t of text.trim().split(/\s+/)) {
    const run = /^00\*(\d+)$/.exec(t);
    if (run !== null) out.push(...new Array<number>(Number(run[1])).fill(0));
    else for (let i = 0; i < t.length; i += 2) out.push(parseInt(t.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

/** Hex text of bytes ('null' for null), for comparing with golden text. */
export function toHex(b: Uint8Array | null): string {
  return b === null ? 'null' : Buffer.from(b).toString('hex');
}

/** `bytes` at offset `at` of a buffer of `size` bytes otherwise filled with 0xa5 (an unset field shows). */
export function inA5(bytes: Uint8Array, at: number, size = at + bytes.length + 5): Uint8Array {
  const b = new Uint8Array(size).fill(0xa5);
  b.set(bytes, at);
  return b;
}
