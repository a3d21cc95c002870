/**
 * Gradient alignment (spec §11): per time step t = 1..T, the cosine between the learning signal a method
 * delivers to h_t and BPTT's dL/dh_t under the same weights, averaged over the batch.
 *
 * - BP(λ), full-state mode: l_t + (β/c) ĝ_t (ĝ_T = 0, c the target scale), so with a loss only at the last step it
 *   is proportional to ĝ_t for t < T.
 * - BP(λ), LSTM cell mode: ε_t + (β/c) u_{t+1} D_{t+1} on h_t (ε_T at the end).
 * - n-step SG: the gradient the chunked backpropagation delivers to each state, with (β/c) ĝ injected at the end of
 *   every chunk but the last (core `nStepSg`'s state gradients; c the target scale).
 * - truncated BPTT: the gradient within each chunk;  BPTT: dL/dh_t itself (cosine 1);  e-prop: l_t.
 * A zero signal has cosine 0 (so e-prop scores 0 wherever the immediate loss is zero).
 */
import { nStepSg } from '../core/baselines.js';
import { bpLambdaLearningSignals, bpLambdaOptionsOf } from '../core/bplambda.js';
import { backprop, bptt, chunking, trajectory } from '../core/bptt.js';
import type { LearnerConfig, LearnerState } from '../core/learner.js';
import { synthesiserFor } from '../core/learner.js';
import type { Batch, Sequence } from '../core/model.js';
import { cosine } from '../core/tensor.js';

/** The learning signal on h_t (size H) of every step of one sequence. */
export const learningSignals = (config: LearnerConfig, state: LearnerState, seq: Sequence): Float64Array[] => {
  const { model, method } = config;
  const H = model.cell.hiddenSize;
  const params = state.params;
  switch (method.kind) {
    case 'bp-lambda':
      return bpLambdaLearningSignals({ model, synth: synthesiserFor(model, method)!, params, theta: state.theta!, options: bpLambdaOptionsOf(method), mode: method.mode }, seq);
    case 'sg':
      return nStepSg(model, synthesiserFor(model, method)!, params, state.theta!, seq, method).stateGrads.map((g) => g.slice(0, H));
    case 'tbptt': {
      const traj = trajectory(model, params, seq);
      const { cut } = chunking(traj.records.length, method.n, method.align);
      return backprop(model, params, traj, { cut }).stateGrads.map((g) => g.slice(0, H));
    }
    case 'bptt':
      return bptt(model, params, seq).stateGrads.map((g) => g.slice(0, H));
    case 'eprop':
      return trajectory(model, params, seq).records.map((r) => r.immediate.slice(0, H));
  }
};

export interface Alignment {
  /** Mean over the batch of the cosine at each step t = 1..T (first step first). */
  readonly perStep: number[];
  /** Mean of `perStep` over the steps with a future gradient (t = 1..T−1). */
  readonly meanWithFuture: number;
}

export const alignment = (config: LearnerConfig, state: LearnerState, batch: Batch): Alignment => {
  const H = config.model.cell.hiddenSize;
  const T = batch[0]!.inputs.length;
  const sums = new Array<number>(T).fill(0);
  for (const seq of batch) {
    const exact = bptt(config.model, state.params, seq).stateGrads;
    const signals = learningSignals(config, state, seq);
    for (let k = 0; k < T; k++) sums[k]! += cosine(signals[k]!, exact[k]!.subarray(0, H));
  }
  const perStep = sums.map((s) => s / batch.length);
  const future = perStep.slice(0, T - 1);
  return { perStep, meanWithFuture: future.reduce((a, b) => a + b, 0) / Math.max(1, future.length) };
};
