/**
 * The telling part of a failed program's stderr, for a one-line "n/a" footnote. Pure.
 */

const NOISE = [/^Node\.js v\d/, /syslog/, /^\s*at /, /^\s*\^+\s*$/, /^\s*$/];

/**
 * The first line that names an error (a thrown JS error, "prog: message", "error"), else the last
 * informative lines; Node's stack frames, its version banner and syslog complaints are skipped.
 */
export function stderrSummary(stderr: string, maxLines = 2): string {
  const raw = stderr.split('\n').map((l) => l.trimEnd());
  // a Node crash starts "path:LINE", then the source line: neither says what went wrong
  const isLocation = (l: string | undefined) => l !== undefined && /^(file:\/\/)?\/\S+:\d+$/.test(l);
  const lines = raw.filter((l, i) => !isLocation(l) && !isLocation(raw[i - 1]) && !NOISE.some((re) => re.test(l)));
  const named = lines.find((l) => /^(\w*Error\b|Uncaught\b|[\w.-]+: )/.test(l) || /\berror\b/i.test(l));
  if (named) return named.trim();
  return lines.slice(-maxLines).map((l) => l.trim()).join(' | ');
}
