/**
 * Output directories of runs and sweeps: their default paths (defined once, for the commands and for their
 * --help), and the guard that keeps a new run out of an earlier one's directory. An existing non-empty directory
 * is refused unless --force is given; --force accepts only a directory bplambda wrote (a run, or a sweep) and first
 * removes the files bplambda writes there, and nothing else.
 */
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import { RUN_FORMAT, fromJson } from './files.js';

/** Where runs go when no --out is given. */
export const RUNS_DIR = 'runs';

/** A run directory's name from its parts: `bp-lambda-0.5-seed0`, `sg-3-seed1`; `bptt-seed0` (no parameter). */
export const runDirName = (method: string, param: string | null, seed: string): string =>
  `${method}${param === null ? '' : `-${param}`}-seed${seed}`;

/** The default directory of a run (`runs/<task>/<name>`) and of a sweep (`runs/sweep-<task>`). */
export const defaultRunDir = (task: string, name: string): string => join(RUNS_DIR, task, name);
export const defaultSweepDir = (task: string): string => join(RUNS_DIR, `sweep-${task}`);

/** The defaults in the words of --help, from the same functions. */
export const RUN_DIR_HELP = `${defaultRunDir('<task>', runDirName('<method>', '<λ|n>', '<seed>'))}; no -<λ|n> for bptt and eprop`;
export const SWEEP_DIR_HELP = defaultSweepDir('<task>');

/** The files bplambda writes into a run directory (the checkpoint's predecessor included). */
export const RUN_FILES = ['config.json', 'metrics.csv', 'summary.json', 'checkpoint.json', 'checkpoint.prev.json'] as const;
/** The files a sweep (or `collect`) writes into its directory, besides the run directories. */
export const SWEEP_FILES = ['sweep.json', 'results.md'] as const;
/** The figures `plot` and `sweep --plot` write into `<dir>/plots` (src/plot/plot.ts FIGURE_NAMES; a test holds them equal). */
export const PLOTS_DIR = 'plots';
export const FIGURE_FILES = ['toy-alignment', 'seq-mnist-learning-curves', 'copy-repeat-curriculum'].flatMap((n) => [`${n}.svg`, `${n}.png`]);

/** A temporary file of an atomic write (src/io/files.ts) of one of `names`, left behind by a killed process. */
const isTempOf = (name: string, names: readonly string[]): boolean => {
  const m = /^\.(.+)\.\d+\.\d+\.tmp$/.exec(name);
  return m !== null && names.includes(m[1]!);
};

/** Whether `dir` is a run directory bplambda wrote: its config.json is of format bplambda-run/1. */
export const isRunDir = (dir: string): boolean => {
  try {
    const cfg = fromJson(readFileSync(join(dir, 'config.json'), 'utf8')) as { format?: unknown } | null;
    return cfg !== null && typeof cfg === 'object' && cfg.format === RUN_FORMAT;
  } catch {
    return false;
  }
};

const isDirectory = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false; // a dangling link
  }
};

const subdirs = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .map((n) => join(dir, n))
    .filter(isDirectory);

/** Whether `dir` is a sweep directory bplambda wrote: sweep.json, or run directories in it. */
export const isSweepDir = (dir: string): boolean => existsSync(join(dir, 'sweep.json')) || subdirs(dir).some(isRunDir);

/** Remove the named files (and the temporaries of their atomic writes) from `dir`; returns the paths removed. */
const removeFiles = (dir: string, names: readonly string[]): string[] => {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if ((names.includes(name) || isTempOf(name, names)) && statSync(p).isFile()) {
      rmSync(p);
      removed.push(p);
    }
  }
  return removed;
};

/** Remove a directory if nothing is left in it. */
const removeIfEmpty = (dir: string): void => {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
};

const clearPlots = (dir: string): string[] => {
  const plots = join(dir, PLOTS_DIR);
  if (!isDirectory(plots)) return [];
  const removed = removeFiles(plots, FIGURE_FILES);
  removeIfEmpty(plots);
  return removed;
};

/** Remove what bplambda wrote into a run directory (anything else stays); returns the paths removed. */
export const clearRun = (dir: string): string[] => [...removeFiles(dir, RUN_FILES), ...clearPlots(dir)];

/** Remove what bplambda wrote into a sweep directory: its files, figures and run directories. */
export const clearSweep = (dir: string): string[] => {
  const removed = [...removeFiles(dir, SWEEP_FILES), ...clearPlots(dir)];
  for (const sub of subdirs(dir))
    if (isRunDir(sub)) {
      removed.push(...clearRun(sub));
      removeIfEmpty(sub);
    }
  return removed;
};

export interface OutDirCheck {
  /** What the directory receives: one run, or a sweep (run directories, sweep.json, results.md). */
  readonly kind: 'run' | 'sweep';
  /** Replace an earlier run or sweep of bplambda in it. */
  readonly force: boolean;
  /** The option that named the directory, for errors (default '--out'). */
  readonly option?: string;
  /** Whether the directory is the default one (no --out given), for errors. */
  readonly isDefault?: boolean;
}

/**
 * Check that a run or sweep may write into `dir` (absent or empty; with `force`, an earlier run or sweep of
 * bplambda, whose files are then removed). Throws InvalidInputError naming the option otherwise, having removed
 * nothing. Returns the paths removed.
 */
export const prepareOutDir = (dir: string, check: OutDirCheck): string[] => {
  const option = check.option ?? '--out';
  const named = `'${dir}'${check.isDefault === true ? ' (the default)' : ''}`;
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new InvalidInputError(option, 'a directory', `is ${named}, which is a file`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return [];
  const run = isRunDir(dir);
  const sweep = !run && isSweepDir(dir);
  if (!check.force) {
    const holds = run ? 'an earlier run of bplambda' : sweep ? 'an earlier sweep of bplambda' : `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`;
    const resume = check.kind === 'run' && run && existsSync(join(dir, 'checkpoint.json')) && !existsSync(join(dir, 'summary.json')) ? `, or continue it with bplambda run --resume '${dir}'` : '';
    const instead = (check.kind === 'run' && run) || (check.kind === 'sweep' && sweep) ? `; pass --force to replace it${resume}` : '';
    throw new InvalidInputError(option, `a new or empty directory${instead}`, `is ${named}, which holds ${holds}`);
  }
  if (check.kind === 'run' && !run)
    throw new InvalidInputError('--force', `a directory holding a run of bplambda (config.json of format ${RUN_FORMAT}): it replaces nothing else`, `is given for ${named}, which is not one`);
  if (check.kind === 'sweep' && !sweep)
    throw new InvalidInputError('--force', 'a directory holding a sweep of bplambda (sweep.json or run directories): it replaces nothing else', `is given for ${named}, which is not one`);
  return check.kind === 'run' ? clearRun(dir) : clearSweep(dir);
};
