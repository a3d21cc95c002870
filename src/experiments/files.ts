/**
 * A run directory: `config.json` (the full configuration, the machine and what the backend ran on: mode,
 * precision, threads, adapter), `metrics.csv` (one row per logged step) and `summary.json`. Written atomically;
 * read back by `plot` and `sweep`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import type { BackendInfo } from '../backends/registry.js';
import { atomicWriteFile } from '../io/files.js';
import type { RunConfig } from './config.js';
import type { Cell, MetricsRow, RunResult, Summary } from './run.js';

export const RUN_FORMAT = 'bplambda-run/1';

/** JSON with ±Infinity written as the strings "Infinity" / "-Infinity" (JSON has no infinities). */
export const toJson = (value: unknown): string =>
  `${JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v), 2)}\n`;

export const fromJson = (text: string): unknown =>
  JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));

const csvCell = (v: Cell): string => {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : String(v);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

export const toCsv = (columns: readonly string[], rows: readonly MetricsRow[]): string =>
  [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(','))].join('\n') + '\n';

/** Parse our own CSV (numbers where they parse, empty cells as null; no quoted commas are produced for numbers). */
export const parseCsv = (text: string): { columns: string[]; rows: MetricsRow[] } => {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const columns = (lines[0] ?? '').split(',');
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(
      columns.map((c, i) => {
        const s = cells[i] ?? '';
        if (s === '') return [c, null];
        const x = Number(s);
        return [c, Number.isNaN(x) && s !== 'NaN' ? s : x];
      }),
    );
  });
  return { columns, rows };
};

export const machine = () => ({
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
});

export const writeRun = (dir: string, result: RunResult): void => {
  mkdirSync(dir, { recursive: true });
  atomicWriteFile(join(dir, 'config.json'), toJson({ format: RUN_FORMAT, config: result.config, machine: machine(), backend: result.backend }));
  atomicWriteFile(join(dir, 'metrics.csv'), toCsv(result.columns, result.rows));
  atomicWriteFile(join(dir, 'summary.json'), toJson(result.summary));
};

/**
 * Write the configuration before a run starts (so a run in progress can be identified), with what its backend
 * runs on once that is known.
 */
export const writeConfig = (dir: string, config: RunConfig, backend?: BackendInfo): void => {
  mkdirSync(dir, { recursive: true });
  atomicWriteFile(join(dir, 'config.json'), toJson({ format: RUN_FORMAT, config, machine: machine(), ...(backend === undefined ? {} : { backend }) }));
};

export interface StoredRun {
  readonly dir: string;
  readonly config: RunConfig;
  readonly summary: Summary;
  readonly columns: readonly string[];
  readonly rows: readonly MetricsRow[];
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidInputError(path, 'a readable file of a run directory', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
};

const parseJsonFile = (path: string): Record<string, unknown> => {
  try {
    return fromJson(readText(path)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    throw new InvalidInputError(path, 'valid JSON', `is not (${(e as Error).message})`);
  }
};

export const readRun = (dir: string): StoredRun => {
  const cfg = parseJsonFile(join(dir, 'config.json'));
  if (cfg['format'] !== RUN_FORMAT) throw new InvalidInputError(join(dir, 'config.json'), `format '${RUN_FORMAT}'`, `has format '${String(cfg['format'])}'`);
  const summary = parseJsonFile(join(dir, 'summary.json')) as unknown as Summary;
  const { columns, rows } = parseCsv(readText(join(dir, 'metrics.csv')));
  return { dir, config: cfg['config'] as RunConfig, summary, columns, rows };
};

const isRunDir = (dir: string): boolean => existsSync(join(dir, 'summary.json')) && existsSync(join(dir, 'config.json'));

/**
 * Run directories under the given paths: each path is a run directory, or a directory whose subdirectories (to
 * any depth) are run directories (a sweep). Sorted by path.
 */
export const findRunDirs = (paths: readonly string[]): string[] => {
  const out: string[] = [];
  const visit = (dir: string, depth: number) => {
    if (isRunDir(dir)) {
      out.push(dir);
      return;
    }
    if (depth > 4) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) visit(p, depth + 1);
    }
  };
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new InvalidInputError(p, 'a run or sweep directory', 'does not exist or is not a directory');
    const before = out.length;
    visit(p, 0);
    if (out.length === before) throw new InvalidInputError(p, 'a run directory (config.json, summary.json) or a directory of runs', 'has no finished run');
  }
  return out;
};

/** The checkpoint of a run directory (see `checkpoint.ts`; the one before it is `checkpoint.prev.json`). */
export const checkpointPath = (dir: string): string => join(dir, 'checkpoint.json');

/**
 * Live metrics while a run is in progress: appends each row to DIR/metrics.csv (header first). `writeRun`
 * rewrites the file atomically at the end. A resumed run passes the columns and rows of its checkpoint: the file is
 * rewritten with exactly those (dropping rows logged after the checkpoint) and new rows are appended after them.
 */
export const metricsAppender = (dir: string, resumed?: { columns: readonly string[]; rows: readonly MetricsRow[] }): ((row: MetricsRow) => void) => {
  const path = join(dir, 'metrics.csv');
  let columns: string[] | null = null;
  if (resumed !== undefined && resumed.rows.length > 0) {
    columns = [...resumed.columns];
    atomicWriteFile(path, toCsv(columns, resumed.rows));
  }
  return (row) => {
    if (columns === null) {
      columns = Object.keys(row);
      writeFileSync(path, `${columns.join(',')}\n`);
    }
    appendFileSync(path, toCsv(columns, [row]).split('\n')[1]! + '\n');
  };
};
