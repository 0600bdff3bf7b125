import test from 'ava';
import { parseBenchArgs, type BenchOptions } from './args.js';

function opts(argv: string[]): BenchOptions {
  const r = parseBenchArgs(argv);
  if (r.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(r)}`);
  return r.options;
}

function error(argv: string[]): string {
  const r = parseBenchArgs(argv);
  return r.kind === 'error' ? r.message : `no error: ${r.kind}`;
}

test('defaults: 3 repetitions, 3 s runs, every implementation and group, install, no JSON', (t) => {
  const o = opts([]);
  t.is(o.reps, 3);
  t.is(o.duration, 3);
  t.deepEqual(o.impls, ['ours', 'ours-actors', 'pasta', 'slirp4netns']);
  t.true(o.groups.includes('recovery') && o.groups.includes('tcp-out'));
  t.true(o.install);
  t.is(o.json, null);
  t.is(o.profile, null);
  t.is(o.udpRate, 1000);
});

test('--quick: 1 repetition, 1 s runs, shorter latency and connection runs; explicit values still win', (t) => {
  const q = opts(['--quick']);
  t.is(q.reps, 1);
  t.is(q.duration, 1);
  t.true(q.rrSeconds < opts([]).rrSeconds);
  t.is(opts(['--quick', '--reps', '2']).reps, 2);
});

test('--json PATH, in both spellings (npm run bench -- --json out.json)', (t) => {
  t.is(opts(['--json', 'out.json']).json, 'out.json');
  t.is(opts(['--json=o.json']).json, 'o.json');
});

test('--impl and --only take comma lists, keep the canonical order, refuse unknown names', (t) => {
  t.deepEqual(opts(['--impl', 'slirp4netns,ours']).impls, ['ours', 'slirp4netns']);
  t.deepEqual(opts(['--only', 'udp, rr']).groups, ['udp', 'rr']);
  t.regex(error(['--impl', 'ours,qemu']), /--impl: unknown "qemu"/);
  t.regex(error(['--only', ',']), /--only: empty list/);
});

test('numbers must be positive (integers where counted)', (t) => {
  t.regex(error(['--reps', '0']), /--reps: not a positive integer/);
  t.regex(error(['--reps', '1.5']), /--reps: not a positive integer/);
  t.regex(error(['--duration', 'x']), /--duration: not a positive number/);
  t.is(opts(['--duration', '0.5']).duration, 0.5);
  t.regex(error(['--udp-size', '70000']), /at most 65000/);
});

test('unknown options and stray arguments are errors; -h gives the help', (t) => {
  t.regex(error(['--fast']), /fast/);
  t.regex(error(['extra']), /unexpected argument: extra/);
  const h = parseBenchArgs(['-h']);
  t.is(h.kind, 'help');
  if (h.kind === 'help') t.regex(h.text, /--json PATH/);
  t.false(opts(['--no-install']).install);
});
