/**
 * Entry point of both programs. The mode is the name the program is invoked as (`pasta` or `passt`),
 * as with the C tools: bin/pasta is a link to bin/passt.
 */
import { basename } from 'node:path';
import { parseCommandLine, unsupportedOptionsUsed, type ParsedCommandLine } from './config/options.js';
import { isUsageError } from './config/errors.js';
import type { Mode } from './config/config.js';
import { runPasta } from './pasta.js';
import { runPasst } from './passt.js';
import { detach, shouldDetach } from './daemon.js';
import { native } from './native/index.js';

export function modeFromArgv0(argv1: string | undefined): Mode {
  return basename(argv1 ?? '').startsWith('pasta') ? 'pasta' : 'passt';
}

function parseOrExit(mode: Mode, args: string[]): ParsedCommandLine {
  try {
    return parseCommandLine(mode, args);
  } catch (e) {
    if (!isUsageError(e)) throw e;
    process.stderr.write(`${mode}: ${e.message}\n`);
    return process.exit(1);
  }
}

export async function main(argv: string[]): Promise<void> {
  const mode = modeFromArgv0(argv[1]);
  const parsed = parseOrExit(mode, argv.slice(2));
  if (parsed.action === 'help' || parsed.action === 'version') {
    process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
    return process.exit(0);
  }
  const unsupported = unsupportedOptionsUsed(parsed);
  if (unsupported.length > 0) {
    process.stderr.write(`${mode}: option --${unsupported[0]} is not supported yet\n`);
    return process.exit(1);
  }
  if (mode === 'pasta' && parsed.given.includes('fd')) {
    process.stderr.write('pasta: option --fd is not supported yet\n'); // passt's -F is built; pasta's (a tap fd) is not
    return process.exit(1);
  }
  const cfg = parsed.config;
  if (mode === 'passt' || parsed.target === null) {
    // passt daemonises unless -f, with or without a terminal, as Debian's does
    if (shouldDetach(cfg.foreground, false)) return process.exit(await detach(argv, cfg.fd === null ? [] : [cfg.fd]));
    return runOrExit(mode, () => runPasst(cfg));
  }
  const target = parsed.target;
  if (shouldDetach(cfg.foreground, target.kind === 'spawn')) return process.exit(await detach(argv));
  return runOrExit(mode, () => runPasta(cfg, target));
}

async function runOrExit(mode: Mode, body: () => Promise<number>): Promise<void> {
  try {
    // every flow is a socket (two fds in one process in thread mode: the actor's and the router's
    // duplicate): a 1024 soft limit would cap the guest at a few hundred connections
    native.raiseNofileLimit();
    process.exit(await body());
  } catch (e) {
    process.stderr.write(`${mode}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
