/**
 * A grid of runs (methods × seeds) on worker threads, one job per run, at most `workers` at a time.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { takesThreads } from '../backends/registry.js';
import { InvalidInputError } from '../core/errors.js';
import { type MethodChoice, type Preset, type RunConfig, type Task, buildConfig } from './config.js';
import { toJson } from './files.js';
import { runDirName } from './outDir.js';
import type { Summary } from './run.js';
import type { JobMessage, WorkerMessage } from './worker.js';

export interface SweepJob {
  readonly id: number;
  readonly config: RunConfig;
  readonly dir: string;
}

/** Directory name of a run in a sweep: bp-lambda-0.5-seed0, sg-3-seed1, bptt-seed0. */
export const jobName = (c: Pick<RunConfig, 'method' | 'lambda' | 'n' | 'seed'>): string =>
  runDirName(c.method, c.method === 'bp-lambda' ? String(c.lambda) : c.method === 'sg' || c.method === 'tbptt' ? String(c.n) : null, String(c.seed));

/** The jobs of a sweep: every method choice with every seed, on top of the shared options. */
export const sweepJobs = (
  task: Task,
  preset: Preset,
  overrides: Partial<RunConfig>,
  methods: readonly MethodChoice[],
  seeds: readonly number[],
  outDir: string,
): SweepJob[] => {
  if (methods.length === 0) throw new InvalidInputError('--methods', 'at least one method', 'is empty');
  if (seeds.length === 0) throw new InvalidInputError('--seeds', 'at least one seed', 'is empty');
  const jobs: SweepJob[] = [];
  for (const m of methods)
    for (const seed of seeds) {
      const config = buildConfig(task, preset, { ...overrides, ...m, seed });
      jobs.push({ id: jobs.length, config, dir: join(outDir, jobName(config)) });
    }
  return jobs;
};

export interface SweepHooks {
  readonly onProgress?: (job: SweepJob, done: number, total: number, live: string) => void;
  readonly onDone?: (job: SweepJob, summary: Summary) => void;
  /**
   * Threads of each run's CPU backend (default: for cpu-f64 and cpu-f32, the cores shared among the workers running
   * at once, at least 1; the other backends run on one thread).
   */
  readonly threads?: number;
}

export const defaultWorkers = (): number => availableParallelism();

/** Run the jobs on `workers` threads; resolves with the summaries in job order, rejects on the first failure. */
export const runSweep = (jobs: readonly SweepJob[], workers: number, hooks: SweepHooks = {}): Promise<Summary[]> =>
  new Promise((resolve, reject) => {
    const results = new Array<Summary | undefined>(jobs.length);
    const queue = [...jobs];
    const pool: Worker[] = [];
    let finished = 0;
    let failed = false;
    const stopAll = () => {
      for (const w of pool) void w.terminate();
    };
    const feed = (w: Worker) => {
      const job = queue.shift();
      if (job === undefined) {
        void w.terminate();
        return;
      }
      // Only the threaded CPU backends get the share; the others run on one thread.
      const t = hooks.threads ?? (takesThreads(job.config.backend) ? share : undefined);
      w.postMessage({ id: job.id, config: toJson(job.config), dir: job.dir, ...(t === undefined ? {} : { threads: t }) } satisfies JobMessage);
    };
    const n = Math.max(1, Math.min(workers, jobs.length));
    // Runs share the cores: n workers at once, each run's backend on its share (results do not depend on it).
    const share = Math.max(1, Math.floor(availableParallelism() / n));
    if (jobs.length === 0) {
      resolve([]);
      return;
    }
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      pool.push(w);
      w.on('message', (m: WorkerMessage) => {
        const job = jobs[m.id]!;
        if (m.type === 'progress') hooks.onProgress?.(job, m.done, m.total, m.live);
        else if (m.type === 'done') {
          const summary = JSON.parse(m.summary) as Summary;
          results[m.id] = summary;
          finished++;
          hooks.onDone?.(job, summary);
          if (finished === jobs.length) {
            stopAll();
            resolve(results as Summary[]);
          } else feed(w);
        } else if (!failed) {
          failed = true;
          stopAll();
          reject(m.input ? new InvalidInputError(`job ${jobName(job.config)}`, 'a valid run', `failed: ${m.message}`) : new Error(`job ${jobName(job.config)} failed: ${m.message}`));
        }
      });
      w.on('error', (e) => {
        if (failed) return;
        failed = true;
        stopAll();
        reject(e);
      });
      feed(w);
    }
  });
