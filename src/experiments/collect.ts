/**
 * Collecting a sweep whose runs trained as separate jobs (`sweep --emit-jobs`, then `collect`): the finished runs
 * under the given directories, and every expected run that is missing (its directory absent, or never started) or
 * failed (started but without a summary: it failed, was stopped or is still running; or its files are unreadable).
 *
 * The runs expected are: each directory given that is a run directory (it has config.json); in a directory of runs
 * (a sweep), every run directory in it and every other point of its grid (the methods × the seeds found there, laid
 * out as the sweep names them); and, with a jobs file, the --out of each of its lines.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import type { RunConfig } from './config.js';
import { type StoredRun, checkpointPath, fromJson, readRun, toJson } from './files.js';
import { jobName } from './sweep.js';
import { methodOrder } from './table.js';

export interface Problem {
  readonly dir: string;
  /** missing: absent or never started; failed: started and unfinished, or unreadable. */
  readonly kind: 'missing' | 'failed';
  readonly reason: string;
}

export interface Collected {
  /** The finished runs: in the jobs file's order when one is given, else by method and seed. */
  readonly runs: readonly StoredRun[];
  readonly problems: readonly Problem[];
  /** How many runs were expected (finished + problems). */
  readonly expected: number;
  /** Configuration fields (other than the method, its λ or n, and the seed) that differ between the runs. */
  readonly differing: readonly string[];
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const hasConfig = (dir: string): boolean => existsSync(join(dir, 'config.json'));

/** The run directories under a directory of runs (to depth 4), sorted by path. */
const runDirsUnder = (root: string): string[] => {
  const out: string[] = [];
  const visit = (dir: string, depth: number) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (!isDir(p)) continue;
      if (hasConfig(p)) out.push(p);
      else if (depth < 4) visit(p, depth + 1);
    }
  };
  visit(root, 0);
  return out;
};

const configOf = (dir: string): RunConfig | null => {
  try {
    const c = (fromJson(readFileSync(join(dir, 'config.json'), 'utf8')) as { config?: RunConfig }).config;
    return c !== undefined && typeof c === 'object' ? c : null;
  } catch {
    return null;
  }
};

/**
 * The points of a sweep's grid that have no directory: the methods × seeds of the runs found in `root`, when every
 * one of them lies at the name the sweep gives it (else the layout is not a sweep's, and nothing is inferred).
 */
const gridGaps = (root: string, found: readonly string[]): string[] => {
  const configs = found.map(configOf);
  if (configs.some((c, i) => c === null || resolve(join(root, jobName(c))) !== resolve(found[i]!))) return [];
  const methods = new Map<string, RunConfig>();
  const seeds = new Set<number>();
  for (const c of configs as RunConfig[]) {
    methods.set(jobName({ ...c, seed: 0 }), c);
    seeds.add(c.seed);
  }
  const have = new Set(found.map((d) => resolve(d)));
  const gaps: string[] = [];
  for (const c of methods.values())
    for (const seed of seeds) {
      const dir = join(root, jobName({ ...c, seed }));
      if (!have.has(resolve(dir))) gaps.push(dir);
    }
  return gaps;
};

/** Why a directory expected to hold a finished run does not, or null when it does (the run is then read). */
const problemOf = (dir: string): Problem | null => {
  if (!existsSync(dir)) return { dir, kind: 'missing', reason: 'no such directory (the job did not run, or wrote elsewhere)' };
  if (!isDir(dir)) return { dir, kind: 'missing', reason: 'not a directory' };
  if (!hasConfig(dir)) return { dir, kind: 'missing', reason: 'no config.json (the run never started)' };
  if (!existsSync(join(dir, 'summary.json'))) {
    const cp = existsSync(checkpointPath(dir)) ? `; it has a checkpoint: bplambda run ${configOf(dir)?.task ?? '<task>'} --resume ${dir} continues it` : '';
    return { dir, kind: 'failed', reason: `no summary.json: the run failed, was stopped, or is still running${cp}` };
  }
  return null;
};

/** Collect the runs under `paths` (run directories or directories of runs), and those of a jobs file. */
export const collectRuns = (paths: readonly string[], jobsDirs: readonly string[] = []): Collected => {
  const expected: string[] = [];
  const seen = new Set<string>();
  const expect = (dir: string) => {
    const key = resolve(dir);
    if (seen.has(key)) return;
    seen.add(key);
    expected.push(dir);
  };
  jobsDirs.forEach(expect);
  for (const p of paths) {
    if (!existsSync(p) || hasConfig(p)) {
      expect(p);
      continue;
    }
    if (!isDir(p)) throw new InvalidInputError(p, 'a run directory or a directory of runs', 'is a file');
    const found = runDirsUnder(p);
    if (found.length === 0 && jobsDirs.length === 0) throw new InvalidInputError(p, 'a run directory (config.json) or a directory of runs', 'has no run');
    found.forEach(expect);
    if (jobsDirs.length === 0) gridGaps(p, found).forEach(expect);
  }
  const runs: StoredRun[] = [];
  const problems: Problem[] = [];
  for (const dir of expected) {
    const problem = problemOf(dir);
    if (problem !== null) {
      problems.push(problem);
      continue;
    }
    try {
      runs.push(readRun(dir));
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      problems.push({ dir, kind: 'failed', reason: `unreadable: ${e.message}` });
    }
  }
  const tasks = [...new Set(runs.map((r) => r.config.task))];
  if (tasks.length > 1) throw new InvalidInputError(paths.join(' '), 'runs of one task (a sweep)', `holds runs of ${tasks.join(' and ')}`);
  if (jobsDirs.length === 0)
    runs.sort((a, b) => {
      const [ka, pa] = methodOrder(a);
      const [kb, pb] = methodOrder(b);
      return ka - kb || pa - pb || a.config.seed - b.config.seed;
    });
  const fixed = new Set(['method', 'lambda', 'n', 'seed']);
  const field = (r: StoredRun, k: string) => toJson((r.config as unknown as Record<string, unknown>)[k]);
  const differing = runs.length === 0 ? [] : Object.keys(runs[0]!.config).filter((k) => !fixed.has(k) && runs.some((r) => field(r, k) !== field(runs[0]!, k)));
  return { runs, problems, expected: expected.length, differing };
};
