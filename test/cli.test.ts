/**
 * The command line as a user meets it: help, version, bad input (exit 1, one line naming the problem),
 * options not built yet (a clear "not supported yet"), and the mode chosen by the program's name.
 */
import test from 'ava';
import { PASST, PASTA, run } from './helpers.js';

function oneLineError(t: import('ava').ExecutionContext, args: string[], pattern: RegExp, prog = PASTA): void {
  const r = run(prog, args, 15_000);
  t.is(r.status, 1, `exit status for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, `one line: ${r.stderr}`);
  t.regex(lines[0] ?? '', pattern);
}

test('--help prints the options and exits 0, per mode', (t) => {
  const pasta = run(PASTA, ['--help']);
  t.is(pasta.status, 0);
  t.regex(pasta.stdout, /--config-net/);
  t.regex(pasta.stdout, /--netns/);
  const passt = run(PASST, ['--help']);
  t.is(passt.status, 0);
  t.regex(passt.stdout, /--socket/);
  t.notRegex(passt.stdout, /--config-net/);
});

test('--version exits 0', (t) => {
  const r = run(PASTA, ['--version']);
  t.is(r.status, 0);
  t.regex(r.stdout, /pasta/);
});

test('unknown options are rejected', (t) => {
  oneLineError(t, ['--bogus'], /^pasta: .*--bogus/);
  oneLineError(t, ['--bogus'], /^passt: .*--bogus/, PASST);
});

test('bad values are rejected with the option and the value named', (t) => {
  oneLineError(t, ['-t', '70000'], /70000/);
  oneLineError(t, ['-a', '300.1.2.3'], /300\.1\.2\.3/);
  oneLineError(t, ['-m', 'big'], /big/);
  oneLineError(t, ['-n', '33'], /33/);
  oneLineError(t, ['--mac-addr', 'zz:00:00:00:00:00'], /zz:00/);
});

test('options that are not built yet are refused by name, not ignored', (t) => {
  oneLineError(t, ['--fd', '5', '--', 'true'], /^pasta: option --fd is not supported yet$/);
});

test('passt refuses a socket path it cannot use', (t) => {
  oneLineError(t, ['-f', '-s', '/proc/version'], /^passt: \/proc\/version exists and is not a socket$/, PASST);
});

test('-T and -U: auto, none and ports are accepted; a bad spec is refused', (t) => {
  for (const args of [['-T', 'auto'], ['-T', 'none'], ['-T', '61234'], ['-U', 'auto'], ['-U', '61234'], ['--no-splice']]) {
    const r = run(PASTA, [...args, '--', 'true'], 30_000);
    t.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  oneLineError(t, ['-T', '70000', '--', 'true'], /^pasta: /);
});
