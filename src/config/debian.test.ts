/**
 * Our option table against the options Debian's pasta and passt list in their --help: every long
 * option they list must be known to our parser in that mode, with the same short letter and the same
 * arity. A missing or mismatched option fails here. The binaries must be installed (`apt-get install
 * passt`): without them the test fails rather than passing silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';
import type { Mode } from './config.js';
import { isUsageError } from './errors.js';
import { OPTIONS, optionTakesArgument, parseCommandLine, shortOptionFor, type HostInfo } from './options.js';

const HOST: HostInfo = { uid: 0, gid: 0, shell: '/bin/sh', version: 'test', lookupUser: () => null, lookupGroup: () => null };

interface ListedOption {
  long: string;
  short: string | undefined;
  takesArg: boolean;
}

/** Debian's --help text (printed on stderr, exit status 1), without the syslog noise. */
function debianHelp(mode: Mode): string {
  const bin = `/usr/bin/${mode}`;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y passt`);
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => !/syslog/.test(l))
    .join('\n');
}

/** The option definition lines: "  -t, --tcp-ports SPEC\t...", "      --trace\t\t...", "  --log-size BYTES\t..." */
function listedOptions(help: string): ListedOption[] {
  const out: ListedOption[] = [];
  for (const line of help.split('\n')) {
    const m = /^\s+(?:-(\w), )?--([a-z0-9-]+)( [^\t ]+)?\s*(?:\t|$)/.exec(line);
    if (m) out.push({ long: m[2]!, short: m[1], takesArg: m[3] !== undefined });
  }
  return out;
}

/** Every --name anywhere in the text, descriptions included. */
const mentionedOptions = (help: string): string[] => [...new Set([...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!))];

/** Parse just this option; return the error message, or '' if it parsed. */
function tryOption(mode: Mode, o: ListedOption): string {
  try {
    parseCommandLine(mode, o.takesArg ? [`--${o.long}`, 'x'] : [`--${o.long}`], HOST);
    return '';
  } catch (err) {
    if (isUsageError(err)) return err.message;
    throw err;
  }
}

for (const mode of ['pasta', 'passt'] as const) {
  test(`${mode}: the help text parsed here lists a sane number of options`, (t) => {
    t.true(listedOptions(debianHelp(mode)).length >= 45);
  });

  test(`${mode}: every option Debian lists is known, same short letter, same arity`, (t) => {
    for (const o of listedOptions(debianHelp(mode))) {
      t.is(optionTakesArgument(o.long), o.takesArg, `--${o.long}: argument`);
      t.is(shortOptionFor(o.long, mode), o.short, `--${o.long}: short letter`);
    }
  });

  test(`${mode}: every option Debian lists parses in this mode (never unknown, never "for the other mode")`, (t) => {
    for (const o of listedOptions(debianHelp(mode))) {
      const message = tryOption(mode, o);
      t.notRegex(message, /unrecognized|ambiguous|mode only|doesn't allow|requires an argument/, `--${o.long}: ${message}`);
    }
  });

  test(`${mode}: every --option mentioned anywhere in Debian's help is known`, (t) => {
    const known = new Set(OPTIONS.map((o) => o.long));
    t.deepEqual(mentionedOptions(debianHelp(mode)).filter((name) => !known.has(name)), []);
  });

  test(`${mode}: our short letters are exactly Debian's`, (t) => {
    const debian = listedOptions(debianHelp(mode)).flatMap((o) => (o.short ? [o.short] : [])).sort();
    const ours = OPTIONS.flatMap((o) => shortOptionFor(o.long, mode) ?? []).sort();
    t.deepEqual(ours, debian);
  });
}
