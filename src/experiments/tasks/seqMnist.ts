/**
 * Sequential MNIST in a run: the 48k/12k split of the training set, shuffled passes, validation every epoch (or
 * every `evalEvery` batches) on the parameters read back from the trainer, the best validation checkpoint
 * evaluated on the test set at the end.
 */
import type { Model } from '../../core/model.js';
import { evaluate } from '../../core/predict.js';
import type { Rng } from '../../core/random.js';
import type { Params } from '../../core/tensor.js';
import { type LabelledImages, loadMnist, mnistBatch, permutation, trainValidationSplit } from '../../tasks/mnist.js';
import { runStreams } from '../streams.js';
import { type MetricsRow, type TaskPlugin, round } from '../runTypes.js';

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

/** Mean cross-entropy and accuracy of the prediction at the last step, over the given examples. */
export const evaluateMnist = (model: Model, params: Params, set: LabelledImages, indices: ArrayLike<number>): Evaluation => {
  let loss = 0;
  let correct = 0;
  const chunk = 256;
  for (let start = 0; start < indices.length; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, indices.length - start) }, (_, k) => indices[start + k]!);
    // The core's evaluate (one target per sequence, at its last step): its mean loss back to a sum, its correct count.
    const e = evaluate(model, params, mnistBatch(set, idx));
    loss += e.loss * idx.length;
    correct += e.correct!;
  }
  const n = Math.max(1, indices.length);
  return { loss: loss / n, accuracy: correct / n };
};

const range = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

interface Best {
  readonly loss: number;
  readonly accuracy: number;
  readonly batch: number;
  readonly params: Params;
}

interface MnistLoop {
  rng: Rng;
  order: number[];
  best: Best | null;
  lossSum: number;
  lossCount: number;
  lastLoss: number | null;
  lastVal: Evaluation | null;
}

export const seqMnistPlugin: TaskPlugin = {
  async start({ config: c, trainer, hooks, elapsed }, resume) {
    const data = hooks.mnist ?? loadMnist();
    const streams = runStreams(c.seed);
    const [splitIdx] = trainValidationSplit(data.train.count, 12_000, streams.split);
    const trainIdx = c.trainSize > 0 ? splitIdx.train.slice(0, c.trainSize) : splitIdx.train;
    const valIdx = c.valSize > 0 ? splitIdx.validation.slice(0, c.valSize) : splitIdx.validation;
    const testIdx = range(c.testSize > 0 ? c.testSize : data.test.count);
    const model = trainer.config.model;
    const perEpoch = Math.ceil(trainIdx.length / c.batchSize);
    const total = c.steps > 0 ? c.steps : c.epochs * perEpoch;
    const loop: MnistLoop =
      resume === undefined
        ? { rng: streams.data, order: Array.from(trainIdx), best: null, lossSum: 0, lossCount: 0, lastLoss: null, lastVal: null }
        : (structuredClone(resume) as unknown as MnistLoop);
    const row = (batch: number, val: Evaluation | null): MetricsRow => {
      const r: MetricsRow = {
        batch,
        epoch: round(batch / perEpoch, 6),
        loss: loop.lossCount > 0 ? loop.lossSum / loop.lossCount : null,
        val_loss: val?.loss ?? null,
        val_accuracy: val?.accuracy ?? null,
        seconds: round(elapsed(), 4),
      };
      loop.lossSum = 0;
      loop.lossCount = 0;
      return r;
    };
    const validate = async (batch: number): Promise<Evaluation> => {
      const params = (await trainer.state()).params;
      const v = evaluateMnist(model, params, data.train, valIdx);
      if (loop.best === null || v.loss < loop.best.loss) loop.best = { loss: v.loss, accuracy: v.accuracy, batch, params };
      loop.lastVal = v;
      return v;
    };
    return {
      columns: ['batch', 'epoch', 'loss', 'val_loss', 'val_accuracy', 'seconds'],
      total,
      initialRow: async () => null,
      nextBatch(i) {
        const pos = (i - 1) % perEpoch;
        if (pos === 0) {
          const [p, r] = permutation(trainIdx.length, loop.rng);
          loop.rng = r;
          loop.order = Array.from(p, (k) => trainIdx[k]!);
        }
        return mnistBatch(data.train, loop.order.slice(pos * c.batchSize, Math.min(loop.order.length, (pos + 1) * c.batchSize)));
      },
      async after(done, m) {
        loop.lastLoss = m.loss;
        loop.lossSum += m.loss;
        loop.lossCount++;
        const epochEnd = done % perEpoch === 0 || done === total;
        const evalNow = epochEnd || (c.evalEvery > 0 && done % c.evalEvery === 0);
        const r = evalNow ? row(done, await validate(done)) : done % c.logEvery === 0 ? row(done, null) : null;
        const lv = loop.lastVal;
        return { row: r, live: { epoch: round(done / perEpoch, 3), loss: round(m.loss, 4), 'val acc': lv === null ? null : round(lv.accuracy, 4) } };
      },
      snapshot: () => structuredClone(loop) as unknown as Record<string, unknown>,
      async summary() {
        const chosen = loop.best;
        const test = evaluateMnist(model, chosen?.params ?? (await trainer.state()).params, data.test, testIdx);
        return {
          testAccuracy: round(test.accuracy, 8),
          testLoss: round(test.loss, 8),
          validationAccuracy: chosen === null ? null : round(chosen.accuracy, 8),
          validationLoss: chosen === null ? null : round(chosen.loss, 8),
          bestBatch: chosen?.batch ?? null,
          epochs: round(total / perEpoch, 6),
          trainExamples: trainIdx.length,
          validationExamples: valIdx.length,
          testExamples: testIdx.length,
        };
      },
    };
  },
};
