/**
 * Entry point of both programs. The mode is the name the program is invoked as (`pasta` or `passt`),
 * as with the C tools: bin/pasta is a link to bin/passt.
 */
import { basename } from 'node:path';
import { parseCommandLine, unsupportedOptionsUsed, type ParsedCommandLine } from './config/options.js';
import { isUsageError } from './config/errors.js';
import type { Mode } from './config/config.js';
import { runPasta } from './pasta.js';
import { detach, shouldDetach } from './daemon.js';

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
  if (mode === 'passt' || parsed.target === null) {
    process.stderr.write('passt: passt mode (a qemu guest over a UNIX socket) is not supported yet; use pasta\n');
    return process.exit(1);
  }
  if (shouldDetach(parsed.config.foreground, parsed.target.kind === 'spawn')) return process.exit(await detach(argv));
  try {
    process.exit(await runPasta(parsed.config, parsed.target));
  } catch (e) {
    process.stderr.write(`${mode}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
