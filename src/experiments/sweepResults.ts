/**
 * What a sweep leaves at its top level, the same whether its runs trained in one process (`sweep`) or as separate
 * jobs (`sweep --emit-jobs`, then `collect`): the caption and result table it prints, DIR/results.md (the table
 * in Markdown) and DIR/sweep.json (what ran and every run's summary). The figure (`--plot`) is drawn by the
 * command line, above this layer.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../io/files.js';
import type { MethodChoice, Preset, RunConfig, Task } from './config.js';
import { type StoredRun, toJson } from './files.js';
import type { Summary } from './run.js';
import { formatTable, markdownTable, resultTable, tableCaption } from './table.js';

export interface SweepRecord {
  readonly task: Task;
  readonly preset: Preset;
  readonly seeds: readonly number[];
  /** The methods as `bp-lambda0.5`, `sg3`, `bptt` (the method and its λ or n, when given). */
  readonly methods: readonly string[];
  /** Worker threads of an in-process sweep; null for collected runs. */
  readonly workers: number | null;
  /** Wall-clock seconds of an in-process sweep; null for collected runs (each summary has its run's seconds). */
  readonly seconds: number | null;
  readonly summaries: readonly Summary[];
  /** The directories `collect` read; absent for an in-process sweep. */
  readonly collectedFrom?: readonly string[];
}

/** A method of sweep.json's `methods`: the method and its λ or n when given. */
export const methodKey = (m: MethodChoice): string => `${m.method}${m.lambda ?? m.n ?? ''}`;

/** The method choice a run was made with (its λ or n only where the method has one). */
export const methodChoiceOf = (c: Pick<RunConfig, 'method' | 'lambda' | 'n'>): MethodChoice =>
  c.method === 'bp-lambda' ? { method: c.method, lambda: c.lambda } : c.method === 'sg' || c.method === 'tbptt' ? { method: c.method, n: c.n } : { method: c.method };

/** The text a sweep prints on stdout before its last line: the caption, then the result table. */
export const sweepTableText = (runs: readonly StoredRun[]): string => `\n${tableCaption(runs)}\n\n${formatTable(resultTable(runs))}\n\n`;

/** The sweep's files, DIR/sweep.json and DIR/results.md; returns their paths. */
export const writeSweepFiles = (out: string, runs: readonly StoredRun[], record: SweepRecord): string[] => {
  const json = join(out, 'sweep.json');
  const md = join(out, 'results.md');
  mkdirSync(out, { recursive: true });
  atomicWriteFile(json, toJson(record));
  atomicWriteFile(md, `${markdownTable(resultTable(runs))}\n`);
  return [json, md];
};
