/**
 * A batch's metrics, formed as the core's `trainBatch` forms them: the loss from the per-step, per-example losses
 * (read back once), the network gradient's norm and the synthesiser update's norm at every optimiser point (their
 * sums of squares recorded on the backend, read back once, finished here in the core's order).
 */
import type { DeviceArray } from '../backends/backend.js';
import type { BatchMetrics, LearnerConfig, Method } from '../core/learner.js';
import type { ParamShapes } from '../core/tensor.js';
import type { OpContext } from '../ops/context.js';
import { sumOfSquares } from '../ops/optim.js';
import type { LossRule } from './methods/context.js';

/** [optimiser points, tensors + 1]: the sums of squares of every gradient tensor, then of the synthesiser update. */
export const metricsShape = (config: LearnerConfig, T: number, shapes: ParamShapes): [number, number] => {
  const m = config.method;
  return [m.kind === 'bp-lambda' && m.schedule === 'step' ? T : 1, Object.keys(shapes).length + 1];
};

export const recordNorms = <A extends DeviceArray>(ctx: OpContext<A>, metrics: A, row: number, shapes: ParamShapes, net: Readonly<Record<string, A>>, synth: A | null): void => {
  const s = ctx.tmp('metrics.s', [1, 1]);
  const put = (col: number) => ctx.be.copyBlock(metrics, s, { outBegin: [row, col], xBegin: [0, 0], size: [1, 1] });
  Object.keys(shapes).forEach((k, i) => {
    sumOfSquares(ctx, s, net[k]!);
    put(i);
  });
  if (synth !== null) {
    sumOfSquares(ctx, s, synth);
    put(Object.keys(shapes).length);
  }
};

/** The batch loss from losses [T, B] by the method's rule. */
export const batchLoss = (rule: LossRule, losses: ArrayLike<number>, T: number, B: number): number => {
  if (rule === 'steps') {
    let loss = 0;
    for (let k = 0; k < T; k++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += losses[k * B + b]!;
      loss += s / Math.max(1, B);
    }
    return loss;
  }
  let total = 0;
  for (let b = 0; b < B; b++) {
    let l = 0;
    for (let k = 0; k < T; k++) l += losses[k * B + b]!;
    total += l;
  }
  return total / Math.max(1, B);
};

export const readMetrics = (loss: number, norms: ArrayLike<number>, applies: number, shapes: ParamShapes, method: Method): BatchMetrics => {
  const K = Object.keys(shapes).length;
  let gradNorm = 0;
  let synthNorm = 0;
  for (let r = 0; r < applies; r++) {
    let s = 0;
    for (let i = 0; i < K; i++) s += norms[r * (K + 1) + i]!;
    gradNorm = Math.max(gradNorm, Math.sqrt(s));
    synthNorm = Math.max(synthNorm, Math.sqrt(norms[r * (K + 1) + K]!));
  }
  return method.kind === 'bp-lambda' || method.kind === 'sg' ? { loss, gradNorm, synthUpdateNorm: synthNorm } : { loss, gradNorm };
};
