/**
 * Exact BPTT (full and truncated), the discounted future gradients G_t, n-step targets G^{(n)}_t and the
 * λ-targets G^λ_t (forward view), all written against the cell interface.
 *
 * Indexing: arrays are 0-based with entry k describing step t = k+1 (so `records[k].step.state` is s_{k+1}).
 * Targets and predictions have T−1 entries, for s_1 … s_{T−1}; the terminal convention is ĝ_T = 0, G_T = 0.
 */
import { InvalidInputError } from './errors.js';
import { type StepRecord, type Model, type Sequence, type Batch, forward, modelShapes, readoutGrad, sequenceLoss } from './model.js';
import type { Synthesiser } from './synthesiser.js';
import {
  type Mat,
  type Params,
  addParams,
  meanParams,
  paramCount,
  vadd,
  vaxpy,
  vecmat,
  vscale,
  vsub,
  vzeros,
  zerosParams,
} from './tensor.js';

/** A forward pass plus the state Jacobians J_t = ∂s_t/∂s_{t-1} of every step. */
export interface Trajectory {
  readonly records: readonly StepRecord[];
  readonly jacobians: readonly Mat[];
}

export const trajectory = (model: Model, params: Params, seq: Sequence, s0?: Float64Array): Trajectory => {
  const records = forward(model, params, seq, s0);
  return { records, jacobians: records.map((r) => model.cell.jacobian(params, r.step)) };
};

export interface BackpropOptions {
  /** `cut[k]` true: no gradient flows from step k+1 back to step k (a truncation boundary before step k+1). */
  readonly cut?: readonly boolean[];
  /** Extra gradient injected on s_{k+1} (e.g. a synthetic gradient at the end of a chunk). */
  readonly injections?: readonly (Float64Array | null)[];
}

export interface BackpropResult {
  /** Gradients of the loss for every model parameter (cell and readout). */
  readonly grads: Params;
  /** The gradient that reached each state: dL/ds_t as seen by (possibly truncated) backpropagation. */
  readonly stateGrads: readonly Float64Array[];
}

/** Reverse-mode through the unrolled sequence, using only the cell interface. */
export const backprop = (model: Model, params: Params, traj: Trajectory, options: BackpropOptions = {}): BackpropResult => {
  const { records, jacobians } = traj;
  const T = records.length;
  const S = model.cell.stateSize;
  let grads = zerosParams(modelShapes(model));
  const stateGrads: Float64Array[] = new Array<Float64Array>(T);
  let carry = vzeros(S);
  for (let k = T - 1; k >= 0; k--) {
    const r = records[k]!;
    let d = vadd(r.immediate, carry);
    const inj = options.injections?.[k];
    if (inj) d = vadd(d, inj);
    stateGrads[k] = d;
    grads = addParams(grads, { ...model.cell.vjpParams(params, r.step, d), ...readoutGrad(model, r) });
    carry = options.cut?.[k - 1] ? vzeros(S) : vecmat(d, jacobians[k]!);
  }
  return { grads, stateGrads };
};

export interface GradientResult {
  readonly loss: number;
  readonly grads: Params;
}

/** Full BPTT on one sequence: the exact gradient of L = Σ_t L_t. */
export const bptt = (model: Model, params: Params, seq: Sequence): GradientResult & BackpropResult => {
  const traj = trajectory(model, params, seq);
  return { loss: sequenceLoss(traj.records), ...backprop(model, params, traj) };
};

export type ChunkAlign = 'start' | 'end';

/**
 * Truncation boundaries for chunks of length n over T steps. `align: 'start'` gives chunks [1..n], [n+1..2n], …;
 * `align: 'end'` gives a short first chunk of length T mod n (or n), as the authors' code does. Returns `cut`
 * for `BackpropOptions` and the chunk ends (0-based index of each chunk's last step).
 */
export const chunking = (T: number, n: number, align: ChunkAlign = 'start'): { cut: boolean[]; ends: number[] } => {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError('n', 'an integer ≥ 1 (the chunk length)', `is ${String(n)}`);
  const first = align === 'start' ? n : T % n === 0 ? n : T % n;
  const cut = new Array<boolean>(T).fill(false);
  const ends: number[] = [];
  for (let end = first - 1; end < T - 1; end += n) {
    ends.push(end);
    cut[end] = true;
  }
  ends.push(T - 1);
  return { cut, ends };
};

/**
 * Truncated BPTT with chunk length n: the state is carried forward across chunks, gradients are not carried
 * back across chunk boundaries. With n ≥ T it is full BPTT.
 */
export const truncatedBptt = (
  model: Model,
  params: Params,
  seq: Sequence,
  n: number,
  align: ChunkAlign = 'start',
): GradientResult & BackpropResult => {
  const traj = trajectory(model, params, seq);
  const { cut } = chunking(traj.records.length, n, align);
  return { loss: sequenceLoss(traj.records), ...backprop(model, params, traj, { cut }) };
};

/** Mean over a batch of a per-sequence gradient computation. */
export const batchMean = (model: Model, batch: Batch, f: (seq: Sequence) => GradientResult): GradientResult => {
  const rs = batch.map(f);
  return {
    loss: rs.reduce((a, r) => a + r.loss, 0) / Math.max(1, rs.length),
    grads: meanParams(
      rs.map((r) => r.grads),
      modelShapes(model),
    ),
  };
};

// ---------------------------------------------------------------------------------------------------
// Targets (forward view)

/** G_t = (l_{t+1} + γ G_{t+1}) J_{t+1}, G_T = 0, for t = 1..T−1. With γ = 1, G_t = ∂(Σ_{τ>t} L_τ)/∂s_t. */
export const futureGradients = (traj: Trajectory, gamma: number): Float64Array[] => {
  const T = traj.records.length;
  const S = traj.records[0]!.immediate.length;
  const G = new Array<Float64Array>(T - 1);
  let next = vzeros(S); // G_{t+1}
  for (let k = T - 2; k >= 0; k--) {
    next = vecmat(vaxpy(traj.records[k + 1]!.immediate, gamma, next), traj.jacobians[k + 1]!);
    G[k] = next;
  }
  return G;
};

/**
 * λ-targets G^λ_t = (c l_{t+1} + γ[(1−λ) ĝ_{t+1} + λ G^λ_{t+1}]) J_{t+1}, G^λ_T = 0, ĝ_T = 0, for t = 1..T−1.
 * `predictions[k]` is ĝ_{k+1} (T−1 entries); c is BP(λ)'s target scale (`BpLambdaOptions.targetScale`, 1 by default).
 */
export const lambdaTargets = (
  traj: Trajectory,
  predictions: readonly Float64Array[],
  gamma: number,
  lambda: number,
  scale = 1,
): Float64Array[] => {
  const T = traj.records.length;
  const S = traj.records[0]!.immediate.length;
  const out = new Array<Float64Array>(T - 1);
  let next = vzeros(S); // G^λ_{t+1}
  for (let k = T - 2; k >= 0; k--) {
    const gNext = k + 1 <= T - 2 ? predictions[k + 1]! : vzeros(S); // ĝ_{t+1}, zero at t+1 = T
    const mix = vadd(vscale(gNext, 1 - lambda), vscale(next, lambda));
    next = vecmat(vaxpy(vscale(traj.records[k + 1]!.immediate, scale), gamma, mix), traj.jacobians[k + 1]!);
    out[k] = next;
  }
  return out;
};

/**
 * Backward recursion a ← (l_j + γ a) J_j over steps j = last+1 … k+2 (1-indexed), starting from `bootstrap` on
 * s_{last+1} (null: 0). It is the gradient delivered to s_{k+1} by the window (k+1, last+1] with a bootstrapped
 * value at the window's end, discounted by γ per step.
 */
export const windowTarget = (
  traj: Trajectory,
  k: number,
  last: number,
  bootstrap: Float64Array | null,
  gamma: number,
): Float64Array => {
  const S = traj.records[0]!.immediate.length;
  let a = bootstrap ?? vzeros(S);
  for (let j = last; j >= k + 1; j--) a = vecmat(vaxpy(traj.records[j]!.immediate, gamma, a), traj.jacobians[j]!);
  return a;
};

/**
 * The n-step target of s_t (t = k+1):
 *   G^{(n)}_t = Σ_{τ=t+1}^{min(t+n,T)} γ^{τ−t−1} l_τ Φ_{τ,t} + [t+n<T] γ^n ĝ_{t+n} Φ_{t+n,t}.
 */
export const nStepTarget = (
  traj: Trajectory,
  predictions: readonly Float64Array[],
  gamma: number,
  k: number,
  n: number,
): Float64Array => {
  const T = traj.records.length;
  const last = Math.min(k + n, T - 1); // 0-based index of step min(t+n, T)
  return windowTarget(traj, k, last, last < T - 1 ? predictions[last]! : null, gamma);
};

/** Predictions ĝ_1 … ĝ_{T−1} of a synthesiser on a trajectory's states. */
export const predictions = (synth: Synthesiser, theta: Params, traj: Trajectory): Float64Array[] =>
  traj.records.slice(0, -1).map((r, k) => synth.predict(theta, r.step.state, k + 1));

/**
 * Forward-view synthesiser update Σ_t (target_t − ĝ_t) ∇θ ĝ_t over t = 1..T−1 (the direction to add to θ),
 * flattened in the synthesiser's parameter order.
 */
export const forwardViewUpdate = (
  synth: Synthesiser,
  theta: Params,
  traj: Trajectory,
  targets: readonly Float64Array[],
): Float64Array => {
  const states = targets.map((_, k) => traj.records[k]!.step.state);
  const errors = targets.map((target, k) => vsub(target, synth.predict(theta, states[k]!, k + 1)));
  return regressionUpdate(synth, theta, states, errors);
};

/**
 * Σ_k errors[k] ∇θ ĝ(inputs[k]) with ĝ's input at step t = k+1: the semi-gradient regression update of a
 * synthesiser onto targets (errors = target − prediction), flattened in its parameter order.
 */
export const regressionUpdate = (
  synth: Synthesiser,
  theta: Params,
  inputs: readonly Float64Array[],
  errors: readonly Float64Array[],
): Float64Array => {
  let acc = vzeros(paramCount(synth.paramShapes));
  errors.forEach((err, k) => {
    acc = vadd(acc, vecmat(err, synth.paramJacobian(theta, inputs[k]!, k + 1)));
  });
  return acc;
};
