/**
 * Baselines on the same cell interface: Jaderberg-style n-step synthetic gradients ("BPTT + SG") and the online
 * rule without a synthesiser (immediate gradient for the RNN, e-prop for the LSTM). Truncated BPTT lives in
 * `bptt.ts`.
 */
import { type ChunkAlign, type GradientResult, backprop, chunking, trajectory, windowTarget } from './bptt.js';
import { type Model, type Sequence, modelShapes, readoutGrad, sequenceLoss } from './model.js';
import type { Synthesiser } from './synthesiser.js';
import { type Params, addParams, paramCount, vadd, vecmat, vscale, vsub, vzeros, zerosParams } from './tensor.js';
import { rollout } from './cell.js';
import { targetScaleOf } from './bplambda.js';
import { stepRecord } from './model.js';

export interface NStepSgOptions {
  /** Chunk (truncation) length n ≥ 1. */
  readonly n: number;
  readonly gamma: number;
  /** β: weight of the synthetic gradient injected at the end of each chunk. */
  readonly beta: number;
  readonly align?: ChunkAlign;
  /**
   * The synthesiser's regression target at a chunk boundary s_b:
   * - 'discounted' (default): G^{(n)}_b = Σ γ^{τ−b−1} l_τ Φ_{τ,b} + γ^n ĝ(s_{b+n}) Φ_{b+n,b}, the n-step target of
   *   the spec (with n = 1 it is BP(0)'s one-step target);
   * - 'authors': the gradient BPTT delivers to s_b with the injected β ĝ at the chunk's end and no γ, as in the
   *   authors' DNI code (the bootstrap is scaled by β, acting as a discount of β per chunk).
   */
  readonly target?: 'discounted' | 'authors';
  /**
   * c > 0, the scale of what the synthesiser learns, as BP(λ)'s `targetScale` (default 1): it is regressed on c ×
   * the target above and injects (β/c) ĝ; the authors' code has c = 1/B (spec §8.2).
   */
  readonly targetScale?: number;
}

export interface NStepSgResult extends GradientResult {
  /** Σ over boundaries of (target − ĝ) ∇θ ĝ at each chunk boundary: the direction to add to θ (flat). */
  readonly synthUpdate: Float64Array;
  /** 0-based indices k of the boundary states s_{k+1} that received a prediction. */
  readonly boundaries: readonly number[];
  readonly targets: readonly Float64Array[];
  readonly predictions: readonly Float64Array[];
  /** dL/ds_t as the chunked backpropagation delivers it to every state (with the injected (β/c) ĝ), t = 1..T. */
  readonly stateGrads: readonly Float64Array[];
}

/**
 * n-step synthetic gradients on one sequence: BPTT inside each chunk, a bootstrapped synthetic gradient β ĝ(s_e)
 * injected at each chunk end e (not after the last step, where ĝ_T = 0), and the synthesiser regressed at each
 * boundary on the gradient that the next chunk delivers (semi-gradient, like BP(λ): no factor 2 of the MSE).
 */
export const nStepSg = (
  model: Model,
  synth: Synthesiser,
  params: Params,
  theta: Params,
  seq: Sequence,
  options: NStepSgOptions,
): NStepSgResult => {
  const traj = trajectory(model, params, seq);
  const T = traj.records.length;
  const c = targetScaleOf(options);
  const { cut, ends } = chunking(T, options.n, options.align ?? 'start');
  const boundaries = ends.slice(0, -1); // every chunk end but the last (ĝ_T = 0)
  const preds = new Map(boundaries.map((e) => [e, synth.predict(theta, traj.records[e]!.step.state, e + 1)]));
  const injections = traj.records.map((_, k) => {
    const g = preds.get(k);
    return g === undefined ? null : vscale(g, options.beta / c);
  });
  const { grads, stateGrads } = backprop(model, params, traj, { cut, injections });
  const authors = options.target === 'authors';
  // The window's gradient in the example's own units (bootstrap ĝ/c, or the injected (β/c) ĝ), then × c.
  const targets = boundaries.map((b, i) => {
    const end = ends[i + 1]!;
    const g = preds.get(end);
    const target = authors
      ? windowTarget(traj, b, end, g === undefined ? null : vscale(g, options.beta / c), 1)
      : windowTarget(traj, b, end, g === undefined ? null : vscale(g, 1 / c), options.gamma);
    return vscale(target, c);
  });
  let synthUpdate = vzeros(paramCount(synth.paramShapes));
  boundaries.forEach((b, i) => {
    const s = traj.records[b]!.step.state;
    const err = vsub(targets[i]!, preds.get(b)!);
    synthUpdate = vadd(synthUpdate, vecmat(err, synth.paramJacobian(theta, s, b + 1)));
  });
  return {
    loss: sequenceLoss(traj.records),
    grads,
    synthUpdate,
    boundaries,
    targets,
    predictions: boundaries.map((b) => preds.get(b)!),
    stateGrads,
  };
};

/**
 * The online rule without a synthesiser: Σ_t L_t · e_t with the e-prop traces e_t of the cell and a learning
 * signal L_t on h_t. By default L_t = ε_t = ∂L_t/∂h_t (immediate loss only). Passing the true total dL/dh_t as
 * `signals` reproduces BPTT exactly (the e-prop factorisation).
 */
export const onlineRule = (
  model: Model,
  params: Params,
  seq: Sequence,
  signals?: readonly Float64Array[],
): GradientResult => {
  const H = model.cell.hiddenSize;
  const steps = rollout(model.cell, params, seq.inputs);
  let traces = model.cell.eprop.init();
  let grads = zerosParams(modelShapes(model));
  let loss = 0;
  steps.forEach((step, k) => {
    const rec = stepRecord(model, params, step, seq.targets[k] ?? null);
    loss += rec.loss;
    traces = model.cell.eprop.advance(params, traces, step);
    const signal = signals?.[k] ?? rec.immediate.subarray(0, H);
    grads = addParams(grads, { ...model.cell.eprop.gradient(params, traces, step, signal), ...readoutGrad(model, rec) });
  });
  return { loss, grads };
};
