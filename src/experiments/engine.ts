/**
 * From a run configuration to a model and a training function.
 *
 * The 'step' engine is `trainBatch` of the reference learner (core/learner.ts) for every method. The 'sequence'
 * engine computes BP(λ)'s update through its forward view: with θ and Ψ fixed over a sequence and no per-step
 * clip, accumulate BP(λ)'s summed synthesiser update Σ_t δ_t E_t equals Σ_t (G^λ_t − ĝ_t) ∇θĝ_t (spec §10, I1;
 * property-tested in core), and the network's gradient is the same sum of immediate gradients with the learning
 * signal l_t + (β/c) ĝ_t (or, in the LSTM cell mode, e-prop with ε_t + (β/c) u_{t+1} D_{t+1}), c the target scale
 * (1, or the authors' 1/B: `targetScaleFor`). It needs no eligibility
 * trace, so it costs O(S²) per step for a linear synthesiser instead of the trace's O(S²·P).
 */
import { targetScaleOf } from '../core/bplambda.js';
import { lambdaTargets, predictions, regressionUpdate, trajectory } from '../core/bptt.js';
import { cellModeTargets } from '../core/cellMode.js';
import { lstmCell } from '../core/lstm.js';
import {
  type BatchMetrics,
  type LearnerConfig,
  type LearnerState,
  type Method,
  type OptimiserSpec,
  applyLearnerUpdates,
  synthesiserFor,
  trainBatch,
} from '../core/learner.js';
import { type Batch, type Model, type Sequence, checkBatch, forward, modelShapes, readoutGrad, sequenceLoss } from '../core/model.js';
import { AUTHORS_ADAM } from '../core/optim.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { createTrainer } from '../engine/engine.js';
import { rnnCell } from '../core/rnn.js';
import type { Synthesiser } from '../core/synthesiser.js';
import {
  type Params,
  meanParams,
  paramCount,
  paramsNorm,
  unflattenParams,
  vadd,
  vaxpy,
  vecmat,
  vnorm,
  vscale,
  vsub,
  vzeros,
  zerosParams,
} from '../core/tensor.js';
import { copyRepeatInputSize, copyRepeatOutputSize } from '../tasks/copyRepeat.js';
import type { RunConfig } from './config.js';

/** The model of a task: the toy's linear RNN, or an LSTM for seq-MNIST (28 → 10, cross-entropy) and copy-repeat (BCE). */
export const modelFor = (c: RunConfig): Model => {
  switch (c.task) {
    case 'toy':
      return { cell: rnnCell({ inputSize: 10, hiddenSize: c.hidden, activation: 'identity' }), outputSize: 2, loss: 'mse' };
    case 'seq-mnist':
      return { cell: lstmCell({ inputSize: 28, hiddenSize: c.hidden }), outputSize: 10, loss: 'xent' };
    case 'copy-repeat': {
      const cr = { bits: c.bits, normRepeat: 10 };
      return { cell: lstmCell({ inputSize: copyRepeatInputSize(cr), hiddenSize: c.hidden }), outputSize: copyRepeatOutputSize(cr), loss: 'bce' };
    }
  }
};

/**
 * The synthesiser's target scale c for a run (core `BpLambdaOptions.targetScale`): 1 for 'example'; 1/B for
 * 'batch', or 1/(B·O) with the per-bit loss of copy-repeat (bce), whose authors' derivative is
 * (σ(y) − target)/(B·O) (spec §8.2). A configuration written before the option existed has none and ran with 1.
 */
export const targetScaleFor = (c: RunConfig): number => {
  if (c.targetScale !== 'batch') return 1;
  const model = modelFor(c);
  return 1 / (c.batchSize * (model.loss === 'bce' ? model.outputSize : 1));
};

export const methodFor = (c: RunConfig): Method => {
  const synthesiser = { hidden: c.synthHidden };
  switch (c.method) {
    case 'bp-lambda':
      return {
        kind: 'bp-lambda', mode: c.mode, schedule: c.schedule, synthesiser, gamma: c.gamma, lambda: c.lambda, beta: c.beta, synthClip: c.synthClip,
        targetScale: targetScaleFor(c),
      };
    case 'sg':
      return { kind: 'sg', n: c.n, gamma: c.gamma, beta: c.beta, align: c.align, target: c.sgTarget, targetScale: targetScaleFor(c), synthesiser };
    case 'tbptt':
      return { kind: 'tbptt', n: c.n, align: c.align };
    case 'bptt':
      return { kind: 'bptt' };
    case 'online':
      return { kind: 'online' };
  }
};

const adamSpec = (lr: number): OptimiserSpec => (lr === 0 ? { kind: 'frozen' } : { kind: 'adam', lr, ...AUTHORS_ADAM });

/** The learner configuration of a run: the authors' Adam (β 0.9, 0.98; ε 1e-9) for network and synthesiser. */
export const learnerConfigOf = (c: RunConfig): LearnerConfig => ({
  model: modelFor(c),
  method: methodFor(c),
  network: adamSpec(c.lr),
  synthesiser: adamSpec(c.lrSynth),
});

export type TrainFn = (state: LearnerState, batch: Batch) => [BatchMetrics, LearnerState];

/** The training function of a run's engine. */
export const trainerFor = (c: RunConfig, config: LearnerConfig = learnerConfigOf(c)): TrainFn => {
  if (c.backend !== 'reference') {
    const [, bits, js] = /^cpu-f(32|64)(-js)?$/.exec(c.backend)!;
    const backend = cpuBackend({ precision: bits === '32' ? 32 : 64, kernels: js ? 'js' : 'auto' });
    const trainer = createTrainer(backend, config, { engine: c.method === 'bp-lambda' && c.engine === 'sequence' ? 'sequence' : 'online' });
    return (s, b) => trainer.trainBatch(s, b);
  }
  return c.method === 'bp-lambda' && c.engine === 'sequence' ? (s, b) => sequenceTrainBatch(config, s, b) : (s, b) => trainBatch(config, s, b);
};

// ---------------------------------------------------------------------------------------------------
// The sequence engine

/**
 * Σ_k (target_k − ĝ(input_k)) ∇θĝ(input_k) for a linear synthesiser ĝ(s) = W s + b, written out: Σ_k err_k input_kᵀ
 * for W and Σ_k err_k for b (flattened W then b, the synthesiser's parameter order). errs[k] = target_k − ĝ_k.
 */
export const linearSynthUpdate = (synth: Synthesiser, errs: readonly Float64Array[], inputs: readonly Float64Array[]): Float64Array => {
  const out = synth.outputSize;
  const inp = synth.inputSize;
  const u = new Float64Array(out * inp + out);
  errs.forEach((e, k) => {
    const x = inputs[k]!;
    for (let i = 0; i < out; i++) {
      const ei = e[i]!;
      if (ei === 0) continue;
      const row = i * inp;
      for (let j = 0; j < inp; j++) u[row + j] += ei * x[j]!;
      u[out * inp + i] += ei;
    }
  });
  return u;
};

export interface SequenceQuantities {
  readonly loss: number;
  /** Σ_t (G^λ_t − ĝ_t) ∇θĝ_t (flattened; the direction to add to θ). */
  readonly synthUpdate: Float64Array;
  /** The network gradient (null when not requested). */
  readonly grads: Params | null;
  /** The learning signal on h_t of every step (size H). */
  readonly signals: readonly Float64Array[];
}

/** Full-state BP(λ) on one sequence through the forward view. */
export const fullModeSequence = (
  model: Model,
  synth: Synthesiser,
  params: Params,
  theta: Params,
  seq: Sequence,
  o: { gamma: number; lambda: number; beta: number; targetScale?: number },
  withGrads: boolean,
): SequenceQuantities => {
  const traj = trajectory(model, params, seq);
  const T = traj.records.length;
  const H = model.cell.hiddenSize;
  const preds = predictions(synth, theta, traj); // ĝ_1 … ĝ_{T−1}
  const c = targetScaleOf(o);
  const targets = lambdaTargets(traj, preds, o.gamma, o.lambda, c);
  const errors = targets.map((g, k) => vsub(g, preds[k]!));
  const states = traj.records.slice(0, T - 1).map((r) => r.step.state);
  const synthUpdate = synth.type === 'linear' ? linearSynthUpdate(synth, errors, states) : regressionUpdate(synth, theta, states, errors);
  const full = traj.records.map((r, k) => (k < T - 1 ? vaxpy(r.immediate, o.beta / c, preds[k]!) : r.immediate));
  let grads: Params | null = null;
  if (withGrads) {
    const acc = zerosParams(modelShapes(model));
    traj.records.forEach((r, k) => {
      accumulate(acc, model.cell.vjpParams(params, r.step, full[k]!));
      accumulate(acc, readoutGrad(model, r));
    });
    grads = acc;
  }
  return { loss: sequenceLoss(traj.records), synthUpdate, grads, signals: full.map((s) => s.slice(0, H)) };
};

/** acc += p, key by key, in place (acc is a fresh local accumulator, never an argument of the caller). */
const accumulate = (acc: Params, p: Params): void => {
  for (const [k, t] of Object.entries(p)) {
    const a = acc[k]!.data;
    const d = t.data;
    for (let i = 0; i < d.length; i++) a[i]! += d[i]!;
  }
};

/**
 * The LSTM cell mode on one sequence through its forward view (core `cellModeTargets`, with the linear
 * synthesiser's update written out) and e-prop with the learning signal ε_t + (β/c) u_{t+1} D_{t+1} (ε_T at the end).
 */
export const cellModeSequence = (
  model: Model,
  synth: Synthesiser,
  params: Params,
  theta: Params,
  seq: Sequence,
  o: { gamma: number; lambda: number; beta: number; targetScale?: number },
  withGrads: boolean,
): SequenceQuantities => {
  const records = forward(model, params, seq);
  const H = model.cell.hiddenSize;
  const T = records.length;
  const c = targetScaleOf(o);
  // Targets, predictions and D_{k+1} = ∂c_{k+1}/∂h_k (0-based k), the last also needed by the learning signals.
  const { inputs, predictions: u, targets, D } = cellModeTargets({ model, synth, params, theta }, records, o.gamma, o.lambda, c);
  const errors = targets.map((g, k) => vsub(g, u[k]!));
  const synthUpdate = synth.type === 'linear' ? linearSynthUpdate(synth, errors, inputs) : regressionUpdate(synth, theta, inputs, errors);
  const signals = records.map((r, k) => {
    const eps = r.immediate.slice(0, H);
    if (k === T - 1) return eps;
    return vaxpy(eps, o.beta / c, vecmat(u[k + 1]!, D[k + 1]!));
  });
  let grads: Params | null = null;
  if (withGrads) {
    const eprop = model.cell.eprop;
    let traces = eprop.init();
    const acc = zerosParams(modelShapes(model));
    records.forEach((r, k) => {
      traces = eprop.advance(params, traces, r.step);
      accumulate(acc, eprop.gradient(params, traces, r.step, signals[k]!));
      accumulate(acc, readoutGrad(model, r));
    });
    grads = acc;
  }
  return { loss: sequenceLoss(records), synthUpdate, grads, signals };
};

/**
 * One batch of BP(λ) through the forward view: the same update as `trainBatch` with `schedule: 'sequence'` and
 * `synthClip: Infinity` (up to rounding), without eligibility traces.
 */
export const sequenceTrainBatch = (config: LearnerConfig, state: LearnerState, batch: Batch): [BatchMetrics, LearnerState] => {
  const { model, method } = config;
  if (method.kind !== 'bp-lambda') throw new RangeError(`the sequence engine runs BP(λ) only, not ${method.kind}`);
  if (method.synthClip !== Infinity || method.schedule !== 'sequence')
    throw new RangeError('the sequence engine is exact only with synthClip Infinity and the once-per-sequence schedule');
  checkBatch(model, batch);
  const synth = synthesiserFor(model, method)!;
  const withGrads = config.network.kind !== 'frozen';
  const f = method.mode === 'cell' ? cellModeSequence : fullModeSequence;
  const rs = batch.map((q) => f(model, synth, state.params, state.theta!, q, method, withGrads));
  const B = rs.length;
  const P = paramCount(synth.paramShapes);
  const synthAdd = vscale(
    rs.reduce((a, r) => vadd(a, r.synthUpdate), vzeros(P)),
    1 / B,
  );
  const netGrad = withGrads
    ? meanParams(
        rs.map((r) => r.grads!),
        modelShapes(model),
      )
    : null;
  const loss = rs.reduce((a, r) => a + r.loss, 0) / B;
  const next = applyLearnerUpdates(config, state, netGrad, unflattenParams(synthAdd, synth.paramShapes));
  return [
    { loss, gradNorm: netGrad === null ? 0 : paramsNorm(netGrad), synthUpdateNorm: vnorm(synthAdd) },
    { ...next, batches: state.batches + 1 },
  ];
};
