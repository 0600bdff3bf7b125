/**
 * The printed table: one row per measure, one column per implementation (median and spread), the ratios
 * of ours to each anchor, and whether the issue's goal holds. Cells that could not be measured show
 * "n/a [k]", where footnote k gives the error; "—" means not applicable. Pure: builds a string.
 */
import { IMPLS, MEASURES, type ImplId, type MeasureDef } from './catalog.js';
import type { Report, ReportCell, ReportMeasure } from './results.js';

/** Three significant digits, never an exponent; large values as integers. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toString();
  if (x === 0) return '0';
  return Number(x.toPrecision(3)).toString();
}

export function formatRatio(r: number | null | undefined): string {
  return r === null || r === undefined ? '—' : `${formatNumber(r)}×`;
}

/** Numbers footnotes for error texts, each distinct text once, in order of first use. */
export class Footnotes {
  readonly texts: string[] = [];
  ref(text: string): number {
    let i = this.texts.indexOf(text);
    if (i < 0) i = this.texts.push(text) - 1;
    return i + 1;
  }
}

export function formatCell(c: ReportCell | undefined, notes: Footnotes): string {
  if (!c || c.status === 'none') return '—';
  const refs = c.errors.map((e) => `[${notes.ref(e)}]`).join('');
  if (c.status === 'n/a' || !c.summary) return `n/a ${refs}`.trim();
  const s = c.summary;
  const spread = s.n > 1 ? ` ±${s.spreadPct < 10 ? s.spreadPct.toFixed(1) : Math.round(s.spreadPct)}%` : '';
  return `${formatNumber(s.median)}${spread}${refs ? ` ${refs}` : ''}`;
}

function goalDef(m: ReportMeasure): MeasureDef['goal'] {
  return MEASURES.find((d) => d.id === m.id)?.goal;
}

/** Whether ours meets the issue's goal for this measure: 'yes', 'no', '?' (missing data) or '' (no goal). */
export function goalStatus(m: ReportMeasure, ours: ImplId = 'ours'): string {
  const goal = goalDef(m);
  if (!goal) return '';
  const checks: boolean[] = [];
  for (const anchor of ['pasta', 'slirp4netns'] as const) {
    const bound = goal[anchor];
    if (bound === undefined || !(anchor in m.cells)) continue;
    const r = m.ratios[`${ours}/${anchor}`];
    if (r === null || r === undefined) return '?';
    const strict = anchor === 'slirp4netns';
    checks.push(m.better === 'higher' ? (strict ? r > bound : r >= bound) : strict ? r < bound : r <= bound);
  }
  if (checks.length === 0) return '?';
  return checks.every(Boolean) ? 'yes' : 'no';
}

export function unitLabel(m: Pick<MeasureDef, 'unit' | 'better'>): string {
  return `${m.unit} ${m.better === 'higher' ? '↑' : '↓'}`;
}

/** Pads cells into aligned columns: the first two left-aligned, the rest right-aligned. */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat((widths[i] ?? 0) - [...c].length);
    return i < 2 ? c + fill : fill + c;
  };
  return rows.map((r) => r.map(pad).join('  ').trimEnd()).join('\n');
}

function ratioColumns(report: Report): { key: string; title: string }[] {
  const ids = new Set(report.implementations.map((i) => i.id));
  const cols: { key: string; title: string }[] = [];
  if (!ids.has('ours')) return cols;
  for (const anchor of ['pasta', 'slirp4netns'] as const) if (ids.has(anchor)) cols.push({ key: `ours/${anchor}`, title: `ours/${anchor}` });
  return cols;
}

export function renderTable(report: Report, maxNote = 200): string {
  const impls = IMPLS.filter((i) => report.implementations.some((r) => r.id === i.id));
  const ratios = ratioColumns(report);
  const notes = new Footnotes();
  const header = ['measure', 'unit', ...impls.map((i) => i.label), ...ratios.map((r) => r.title), ...(ratios.length ? ['goal'] : [])];
  const rows: string[][] = [header];
  for (const m of report.measures) {
    rows.push([
      m.label,
      unitLabel(m),
      ...impls.map((i) => formatCell(m.cells[i.id], notes)),
      ...ratios.map((r) => formatRatio(m.ratios[r.key])),
      ...(ratios.length ? [goalStatus(m)] : []),
    ]);
  }
  const lines = [alignColumns(rows)];
  if (notes.texts.length) lines.push('', ...notes.texts.map((t, i) => `[${i + 1}] ${oneLine(t, maxNote)}`));
  return lines.join('\n');
}

function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
