/**
 * The benchmark's results: samples and errors per (measure, implementation), and the report built from
 * them (the JSON written with --json, and the source of the printed table, so both show the same numbers).
 * Pure: no I/O.
 */
import { IMPL_IDS, type ImplId, type MeasureDef } from './catalog.js';
import { ratio, summarize, type Summary } from './stats.js';

/** ok: has samples (maybe also errors from some repetitions); n/a: only errors; none: not applicable or not run. */
export type CellStatus = 'ok' | 'n/a' | 'none';

export interface ReportCell {
  status: CellStatus;
  samples: number[];
  summary: Summary | null;
  errors: string[];
}

export interface ReportMeasure extends Omit<MeasureDef, 'only'> {
  cells: Partial<Record<ImplId, ReportCell>>;
  /** medians of ours (and ours --actors) over each anchor's */
  ratios: Record<string, number | null>;
}

export interface Report {
  tool: 'passt-actors bench';
  format: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Record<string, string | number>;
  options: Record<string, unknown>;
  implementations: { id: ImplId; label: string; command: string }[];
  measures: ReportMeasure[];
  notes: string[];
}

interface Cell {
  samples: number[];
  errors: string[];
}

export class Results {
  #defs: MeasureDef[] = [];
  #cells = new Map<string, Map<ImplId, Cell>>();

  /** Declares a measure (in the order rows should appear); declaring twice is harmless. */
  declare(def: MeasureDef): void {
    if (!this.#cells.has(def.id)) {
      this.#defs.push(def);
      this.#cells.set(def.id, new Map());
    }
  }

  add(def: MeasureDef, impl: ImplId, value: number): void {
    if (Number.isFinite(value)) this.#cell(def, impl).samples.push(value);
    else this.#cell(def, impl).errors.push(`not a finite number: ${value}`);
  }

  fail(def: MeasureDef, impl: ImplId, error: string): void {
    const errors = this.#cell(def, impl).errors;
    if (!errors.includes(error)) errors.push(error);
  }

  get defs(): readonly MeasureDef[] {
    return this.#defs;
  }

  cell(id: string, impl: ImplId): Cell | undefined {
    return this.#cells.get(id)?.get(impl);
  }

  #cell(def: MeasureDef, impl: ImplId): Cell {
    this.declare(def);
    const row = this.#cells.get(def.id)!;
    let c = row.get(impl);
    if (!c) row.set(impl, (c = { samples: [], errors: [] }));
    return c;
  }

  measures(impls: readonly ImplId[]): ReportMeasure[] {
    return this.#defs.map((def) => reportMeasure(def, impls, (impl) => this.cell(def.id, impl)));
  }
}

function reportCell(c: Cell | undefined): ReportCell {
  const samples = c?.samples ?? [];
  const errors = c?.errors ?? [];
  const status: CellStatus = samples.length > 0 ? 'ok' : errors.length > 0 ? 'n/a' : 'none';
  return { status, samples, summary: summarize(samples), errors };
}

function reportMeasure(def: MeasureDef, impls: readonly ImplId[], get: (impl: ImplId) => Cell | undefined): ReportMeasure {
  const { only: _only, ...rest } = def;
  const cells: Partial<Record<ImplId, ReportCell>> = {};
  for (const impl of IMPL_IDS) if (impls.includes(impl)) cells[impl] = reportCell(get(impl));
  const med = (impl: ImplId) => cells[impl]?.summary?.median ?? null;
  const ratios: Record<string, number | null> = {};
  for (const ours of ['ours', 'ours-actors'] as const) {
    if (!impls.includes(ours)) continue;
    for (const anchor of ['pasta', 'slirp4netns'] as const) {
      if (impls.includes(anchor)) ratios[`${ours}/${anchor}`] = ratio(med(ours), med(anchor));
    }
  }
  return { ...rest, cells, ratios };
}
