/**
 * The run loop, one for every task: a trainer on the run's backend, the task's batches through it, divergence
 * checks, metrics rows and a summary, with a snapshot for a checkpoint after every batch. Each task is a plug-in
 * (`tasks/`). A run is deterministic for a given configuration (same seed, same numbers) apart from the measured
 * wall-clock `seconds`; the caller decides where the results go (see `files.ts`) and how progress is shown.
 */
import { learnerInit } from '../core/learner.js';
import { type RunConfig, methodLabel } from './config.js';
import {
  type MetricsRow,
  type RunCheckpoint,
  type RunHooks,
  type RunResult,
  type RunStep,
  type RunSteps,
  type Summary,
  type TaskPlugin,
  RUN_CHECKPOINT_KIND,
  RUN_CHECKPOINT_VERSION,
  round,
} from './runTypes.js';
import { learnerConfigOf, startTrainer } from './setup.js';
import { runStreams } from './streams.js';
import { copyRepeatPlugin } from './tasks/copyRepeat.js';
import { seqMnistPlugin } from './tasks/seqMnist.js';
import { toyPlugin } from './tasks/toy.js';

export * from './runTypes.js';
export { runStreams } from './streams.js';
export { evaluateMnist, type Evaluation } from './tasks/seqMnist.js';
export { toyTaskOf } from './tasks/toy.js';

/** The plug-in of a task (an exhaustive switch: a new task is a compile error here until it has one). */
export const taskPlugin = (task: RunConfig['task']): TaskPlugin => {
  switch (task) {
    case 'toy':
      return toyPlugin;
    case 'seq-mnist':
      return seqMnistPlugin;
    case 'copy-repeat':
      return copyRepeatPlugin;
  }
  throw new RangeError(`unknown task ${String(task satisfies never)}`);
};

const baseSummary = (c: RunConfig, seconds: number, batches: number, finalLoss: number | null): Summary => ({
  task: c.task,
  method: c.method,
  label: methodLabel(c),
  lambda: c.method === 'bp-lambda' ? c.lambda : null,
  n: c.method === 'sg' || c.method === 'tbptt' ? c.n : null,
  seed: c.seed,
  preset: c.preset,
  computation: c.computation,
  backend: c.backend,
  seconds: round(seconds, 4),
  batches,
  finalLoss: finalLoss === null ? null : round(finalLoss, 8),
});

/**
 * The run as an asynchronous generator: it yields after every completed batch (with a snapshot for a checkpoint)
 * and returns the result. Given a checkpoint of the same configuration, it continues from there exactly.
 */
export async function* runSteps(c: RunConfig, hooks: RunHooks = {}, resume?: RunCheckpoint): RunSteps {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now() - (resume?.seconds ?? 0) * 1000;
  const elapsed = () => (now() - t0) / 1000;
  const config = learnerConfigOf(c);
  const state = resume?.learner ?? learnerInit(config, runStreams(c.seed).init)[0];
  const { trainer, close, backend } = await startTrainer(c, config, state, hooks.threads, hooks.backend);
  let current = 0; // the batch whose step was yielded last (−1 once the run has closed)
  try {
    hooks.onBackend?.(backend);
    const run = await taskPlugin(c.task).start({ config: c, trainer, hooks, elapsed }, resume?.task);
    const rows: MetricsRow[] = resume ? [...resume.rows] : [];
    const push = (row: MetricsRow | null) => {
      if (row === null) return;
      rows.push(row);
      hooks.onRow?.(row);
    };
    if (!resume) push(await run.initialRow());
    let lastLoss: number | null = (resume?.task['lastLoss'] as number | null | undefined) ?? null;
    for (let i = (resume?.batches ?? 0) + 1; i <= run.total; i++) {
      current = i;
      // The trainer throws a DivergenceError naming the batch when its metrics are not finite.
      const m = await trainer.trainBatch(run.nextBatch(i));
      lastLoss = m.loss;
      const { row, live } = await run.after(i, m);
      push(row);
      hooks.onProgress?.({ done: i, total: run.total, live });
      const task = run.snapshot();
      const step: RunStep = {
        done: i,
        total: run.total,
        snapshot: async (): Promise<RunCheckpoint> => {
          // It reads the trainer when called, so it belongs to this step only.
          if (current !== i) throw new RangeError(`the snapshot of batch ${i} was asked for after the run moved on (take it before the next step)`);
          return {
            kind: RUN_CHECKPOINT_KIND,
            version: RUN_CHECKPOINT_VERSION,
            config: c,
            batches: i,
            total: run.total,
            seconds: elapsed(),
            columns: run.columns,
            rows: [...rows],
            learner: await trainer.state(),
            task,
          };
        },
      };
      yield step;
    }
    // How it ran: the backend's mode, threads and adapter (the configuration names the backend only).
    const execution = { backendMode: backend.mode, threads: backend.threads, adapter: backend.adapter };
    return { config: c, backend, columns: run.columns, rows, summary: { ...baseSummary(c, elapsed(), run.total, lastLoss), ...execution, ...(await run.summary()) } };
  } finally {
    current = -1;
    close();
  }
}

export const runExperiment = async (c: RunConfig, hooks: RunHooks = {}): Promise<RunResult> => {
  const steps = runSteps(c, hooks);
  for (;;) {
    const r = await steps.next();
    if (r.done === true) return r.value;
  }
};

export interface DriveOptions {
  /** Save a checkpoint after every this many batches (0: only at the end or when stopped). */
  readonly checkpointEvery: number;
  /** Save a checkpoint. */
  readonly save: (cp: RunCheckpoint) => void;
  /** Polled after every batch; when true the run saves a checkpoint and stops (returns null). */
  readonly stopRequested: () => boolean;
  /** Yield to the event loop (so signal handlers run) at least this often, in milliseconds (default 20). */
  readonly sliceMs?: number;
}

/**
 * Drive a run, yielding to the event loop between batches every few milliseconds, saving a checkpoint every K
 * batches and at the end, and stopping at a completed batch (after a checkpoint) when asked. A batch that diverges
 * throws before any checkpoint of it is saved: the last good checkpoint stays in place.
 */
export const driveRun = async (steps: RunSteps, opts: DriveOptions): Promise<RunResult | null> => {
  const slice = opts.sliceMs ?? 20;
  let last = performance.now();
  let saved = -1;
  for (;;) {
    const r = await steps.next();
    if (r.done === true) return r.value;
    // Every K batches, and after the last one (before the run closes its trainer).
    if ((opts.checkpointEvery > 0 && r.value.done % opts.checkpointEvery === 0) || r.value.done === r.value.total) {
      opts.save(await r.value.snapshot());
      saved = r.value.done;
    }
    if (performance.now() - last >= slice) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
    if (opts.stopRequested()) {
      if (saved !== r.value.done) opts.save(await r.value.snapshot());
      await steps.return(undefined as never);
      return null;
    }
  }
};
