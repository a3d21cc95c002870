/**
 * The toy alignment task in a run: a fixed evaluation batch drawn first, then training batches from the data
 * stream; every `logEvery` batches the alignment of the method's learning signal with BPTT's dL/dh_t is measured
 * per time step on the evaluation batch, from the learner state read back from the trainer.
 */
import type { BatchMetrics } from '../../core/learner.js';
import type { Rng } from '../../core/random.js';
import { type ToyTaskConfig, toyBatch } from '../../tasks/toy.js';
import { type Alignment, alignment } from '../alignment.js';
import type { RunConfig } from '../config.js';
import { runStreams } from '../streams.js';
import { type Cell, type MetricsRow, type TaskPlugin, round } from '../runTypes.js';

export const toyTaskOf = (c: RunConfig): ToyTaskConfig => ({
  seqLen: c.seqLen,
  npoints: c.npoints,
  inputDim: 10,
  mag: 1,
  endOnly: c.endOnly,
  noise: c.noise,
});

interface ToyLoop {
  rng: Rng;
  last: Alignment | null;
  lastLoss: number | null;
}

export const toyPlugin: TaskPlugin = {
  async start({ config: c, trainer, elapsed }, resume) {
    const task = toyTaskOf(c);
    // A fixed evaluation batch, drawn first (with one pattern and no noise every example is the same sequence).
    const [evalBatch, rng] = toyBatch(task, c.batchSize, runStreams(c.seed).data);
    const loop: ToyLoop = resume === undefined ? { rng, last: null, lastLoss: null } : (structuredClone(resume) as unknown as ToyLoop);
    const T = c.seqLen;
    const columns = ['batch', 'loss', 'grad_norm', 'synth_update_norm', 'align_mean', ...Array.from({ length: T }, (_, k) => `align_t${k + 1}`), 'seconds'];
    const measure = async (batch: number, m: BatchMetrics | null): Promise<MetricsRow> => {
      const a = alignment(trainer.config, await trainer.state(), evalBatch);
      loop.last = a;
      const row: Record<string, Cell> = {
        batch,
        loss: m === null ? null : m.loss,
        // Not applied when the network is frozen.
        grad_norm: m === null || c.lr === 0 ? null : m.gradNorm,
        synth_update_norm: m?.synthUpdateNorm ?? null,
        align_mean: a.meanWithFuture,
      };
      a.perStep.forEach((v, k) => (row[`align_t${k + 1}`] = v));
      row['seconds'] = round(elapsed(), 4);
      return row;
    };
    return {
      columns,
      total: c.steps,
      initialRow: () => measure(0, null),
      nextBatch() {
        const [batch, next] = toyBatch(task, c.batchSize, loop.rng);
        loop.rng = next;
        return batch;
      },
      async after(i, m) {
        loop.lastLoss = m.loss;
        const row = i % c.logEvery === 0 || i === c.steps ? await measure(i, m) : null;
        const a = loop.last;
        return { row, live: { loss: round(m.loss, 4), 'align t1': a === null ? null : round(a.perStep[0]!, 4), 'align mean': a === null ? null : round(a.meanWithFuture, 4) } };
      },
      snapshot: () => structuredClone(loop) as unknown as Record<string, unknown>,
      async summary() {
        const a = loop.last!;
        return { finalAlignment: a.perStep.map((v) => round(v, 8)), finalAlignmentMean: round(a.meanWithFuture, 8) };
      },
    };
  },
};
