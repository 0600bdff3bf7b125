import test from 'ava';
import { MEASURES } from './catalog.js';
import { Results, type Report } from './results.js';
import { alignColumns, formatCell, formatNumber, Footnotes, goalStatus, renderTable } from './table.js';

const def = (id: string) => MEASURES.find((m) => m.id === id)!;

function report(results: Results, impls: Report['implementations']): Report {
  return {
    tool: 'passt-actors bench', format: 1, startedAt: '', finishedAt: '', durationS: 0, machine: {}, options: {},
    implementations: impls, measures: results.measures(impls.map((i) => i.id)), notes: [],
  };
}

const ALL: Report['implementations'] = [
  { id: 'ours', label: 'ours', command: '' },
  { id: 'pasta', label: 'pasta', command: '' },
  { id: 'slirp4netns', label: 'slirp4netns', command: '' },
];

test('formatNumber: three significant digits, integers from 1000, no exponent', (t) => {
  t.is(formatNumber(1.23456), '1.23');
  t.is(formatNumber(0.000123456), '0.000123');
  t.is(formatNumber(123.456), '123');
  t.is(formatNumber(999.7), '1000');
  t.is(formatNumber(12345.6), '12346');
  t.is(formatNumber(0), '0');
});

test('formatCell: median with spread, n/a with its footnote, — when not applicable', (t) => {
  const notes = new Footnotes();
  const r = new Results();
  const d = def('tcp-out-65520');
  r.add(d, 'pasta', 10);
  r.add(d, 'pasta', 12);
  r.add(d, 'pasta', 8);
  r.fail(d, 'ours', 'TCP ns→host does not work');
  const [m] = r.measures(['ours', 'pasta', 'slirp4netns']);
  t.is(formatCell(m!.cells.pasta, notes), '10 ±20%');
  t.is(formatCell(m!.cells.ours, notes), 'n/a [1]');
  t.is(formatCell(m!.cells.slirp4netns, notes), '—');
  t.deepEqual(notes.texts, ['TCP ns→host does not work']);
});

test('an error next to samples keeps the number and adds the footnote; same error, same footnote', (t) => {
  const notes = new Footnotes();
  const r = new Results();
  r.add(def('crr-out'), 'ours', 5000);
  r.fail(def('crr-out'), 'ours', 'boom');
  r.fail(def('crr-out'), 'ours', 'boom');
  r.fail(def('rr-out-p50'), 'ours', 'boom');
  const ms = r.measures(['ours']);
  t.is(formatCell(ms[0]!.cells.ours, notes), '5000 [1]');
  t.is(formatCell(ms[1]!.cells.ours, notes), 'n/a [1]');
});

test('a non-finite sample is recorded as an error, never as a number', (t) => {
  const r = new Results();
  r.add(def('crr-out'), 'ours', Number.NaN);
  const [m] = r.measures(['ours']);
  t.is(m!.cells.ours!.status, 'n/a');
  t.deepEqual(m!.cells.ours!.samples, []);
});

test('ratios are ours over each anchor, by medians; goals follow the measure direction', (t) => {
  const r = new Results();
  for (const [impl, v] of [['ours', 4], ['pasta', 2], ['slirp4netns', 8]] as const) {
    r.add(def('tcp-out-65520'), impl, v); // higher is better
    r.add(def('rr-out-p50'), impl, v); // lower is better
    r.add(def('rss-peak'), impl, v); // within 4x of pasta
  }
  const [tput, rr, rss] = r.measures(['ours', 'pasta', 'slirp4netns']);
  t.is(tput!.ratios['ours/pasta'], 2);
  t.is(tput!.ratios['ours/slirp4netns'], 0.5);
  t.is(goalStatus(tput!), 'no'); // behind slirp4netns
  t.is(goalStatus(rr!), 'no'); // slower than pasta
  t.is(goalStatus(rss!), 'yes');
});

test('goal is "?" when a ratio is missing, empty when the measure has none', (t) => {
  const r = new Results();
  r.fail(def('tcp-out-65520'), 'ours', 'n/a');
  r.add(def('tcp-out-65520'), 'pasta', 1);
  r.add(def('ready-config'), 'ours', 1);
  const [tput, ready] = r.measures(['ours', 'pasta']);
  t.is(goalStatus(tput!), '?');
  t.is(goalStatus(ready!), '');
});

test('alignColumns: first two columns left-aligned, the rest right-aligned, counting characters not bytes', (t) => {
  t.is(alignColumns([['a', 'µs', '1'], ['bbb', 'u', '100']]), 'a    µs    1\nbbb  u   100');
});

test('renderTable: header, one row per measure, ratio and goal columns, numbered footnotes', (t) => {
  const r = new Results();
  r.add(def('tcp-out-65520'), 'ours', 3);
  r.add(def('tcp-out-65520'), 'pasta', 2);
  r.add(def('tcp-out-65520'), 'slirp4netns', 1);
  r.fail(def('udp-out'), 'ours', 'UDP: none of 10 datagrams arrived');
  const text = renderTable(report(r, ALL));
  const lines = text.split('\n');
  t.regex(lines[0]!, /^measure\s+unit\s+ours\s+pasta\s+slirp4netns\s+ours\/pasta\s+ours\/slirp4netns\s+goal$/);
  t.regex(lines[1]!, /^1 TCP ns→host, MTU 65520\s+Gbit\/s ↑\s+3\s+2\s+1\s+1\.5×\s+3×\s+yes$/);
  t.regex(lines[2]!, /^3 UDP ns→host, received\s+Mbit\/s ↑\s+n\/a \[1\]\s+—\s+—\s+—\s+—\s+\?$/);
  t.is(lines.at(-1), '[1] UDP: none of 10 datagrams arrived');
});

test('renderTable without ours has no ratio or goal columns', (t) => {
  const r = new Results();
  r.add(def('crr-out'), 'pasta', 1);
  const text = renderTable(report(r, ALL.slice(1)));
  t.notRegex(text, /goal|ours/);
});
