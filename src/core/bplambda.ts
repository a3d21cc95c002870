/**
 * Accumulate BP(λ), full-state mode, as a pure step function.
 *
 * At step t (1-indexed) the learner receives x_t (and y_t) and, per example:
 *   s_t = cell(s_{t-1}, x_t),  J_t = ∂s_t/∂s_{t-1},  l_t = ∂L_t/∂s_t
 *   ĝ_t = g(s_t; θ), or 0 at the final step (ĝ_T = 0)
 *   δ_{t-1} = (l_t + γ ĝ_t) J_t − ĝ_{t-1}                 (t ≥ 2; the TD error of the previous prediction)
 *   Δθ += mean_b δ_{t-1} E_{t-1}                           (optionally clipped per step and per tensor)
 *   E_t = γλ J_t E_{t-1} + ∇θ ĝ_t                         (E_0 = 0)
 *   network gradient += (l_t + β ĝ_t) ∂s_t/∂Ψ (immediate) + readout gradient
 * This is the authors' order of operations (spec §4.3) with the trace advanced as soon as J_t is known rather
 * than one step late; the numbers are identical. Nothing inside a call changes θ or Ψ: parameter updates are
 * the caller's (see `learner.ts` for the once-per-sequence and every-step schedules).
 */
import { InvalidInputError } from './errors.js';
import type { Batch, Model } from './model.js';
import { checkBatch, modelShapes, readoutGrad, stepRecord } from './model.js';
import type { Synthesiser } from './synthesiser.js';
import {
  type Mat,
  type ParamShapes,
  type Params,
  addParams,
  flattenParams,
  matmul,
  meanParams,
  paramCount,
  scaleParams,
  unflattenParams,
  vadd,
  vaxpy,
  vecmat,
  vnorm,
  vscale,
  vsub,
  vzeros,
  zerosParams,
  mapParams,
} from './tensor.js';

export interface BpLambdaOptions {
  /** Discount γ ∈ [0, 1]. */
  readonly gamma: number;
  /** Trace decay λ ∈ [0, 1]. λ = 1: unbiased (BPTT) targets; λ = 0: one-step bootstrapping. */
  readonly lambda: number;
  /** β: weight of the synthetic gradient in the network's learning signal l_t + β ĝ_t. */
  readonly beta: number;
  /**
   * Per-step clip of each synthesiser parameter tensor's batch-mean update to this L2 norm (the authors clip
   * to 1). Infinity (the default for the oracle) turns it off; any finite value breaks the exact forward/backward
   * equivalence.
   */
  readonly synthClip: number;
  /**
   * c > 0, the scale of what the synthesiser learns (default 1). It is trained on c × the future gradient of the
   * example's own loss, and the network's learning signal is l_t + (β/c) ĝ_t, so c = 1 is the spec's convention.
   * The authors' code has c = 1/B: its per-example output derivative carries the batch mean's 1/B (spec §8.2;
   * 1/(B·O) for the per-bit copy-repeat loss), so its synthesiser predicts gradients of the batch-mean loss. With a
   * linear synthesiser, no clip and SGD, c only rescales θ (θ_c = c θ_1, identical network updates); under Adam,
   * which ignores the gradient's scale, it multiplies the synthesiser's effective step size by 1/c.
   */
  readonly targetScale?: number;
}

/** The target scale c of BP(λ) options (1 when absent); a typed error names the field unless finite and > 0. */
export const targetScaleOf = (options: Pick<BpLambdaOptions, 'targetScale'>, path = 'method.targetScale'): number => {
  const c = options.targetScale ?? 1;
  if (!(typeof c === 'number' && Number.isFinite(c) && c > 0)) throw new InvalidInputError(path, 'a finite number > 0', `is ${String(c)}`);
  return c;
};

export const defaultBpLambdaOptions: BpLambdaOptions = { gamma: 1, lambda: 1, beta: 1, synthClip: Infinity };

export interface BpLambdaContext {
  readonly model: Model;
  readonly synth: Synthesiser;
  readonly params: Params; // Ψ (cell and readout)
  readonly theta: Params; // synthesiser parameters
  readonly options: BpLambdaOptions;
}

/** What the learner carries per example. */
export interface ExampleCarry {
  readonly state: Float64Array; // s_t
  readonly prediction: Float64Array | null; // ĝ_t (null before the first step)
  readonly trace: Mat | null; // E_t (null before the first step and after the final one)
}

export interface BpLambdaState {
  readonly t: number; // steps consumed
  readonly examples: readonly ExampleCarry[];
  /** Σ over steps of the (clipped) batch-mean δE: the direction to add to θ, flattened. */
  readonly synthUpdate: Float64Array;
  /** Σ over steps of the batch-mean network gradient (cell and readout). */
  readonly netGrad: Params;
  /** Σ over steps of the batch-mean loss. */
  readonly loss: number;
}

export interface StepInput {
  readonly inputs: readonly Float64Array[]; // x_t per example
  readonly targets: readonly (Float64Array | null)[]; // y_t per example (null: no loss)
  readonly final: boolean; // t = T: no prediction, no bootstrap
}

export interface BpLambdaStepResult {
  readonly t: number;
  readonly states: readonly Float64Array[]; // s_t
  readonly syntheticGradients: readonly Float64Array[]; // ĝ_t, at the target scale c (zero at the final step)
  readonly tdErrors: readonly Float64Array[] | null; // δ_{t-1} (null at t = 1)
  readonly learningSignals: readonly Float64Array[]; // l_t + (β/c) ĝ_t
  readonly synthUpdate: Float64Array | null; // this step's batch-mean (clipped) δ_{t-1} E_{t-1}
  readonly loss: number; // batch-mean L_t
}

export const bpLambdaInit = (ctx: Pick<BpLambdaContext, 'model' | 'synth'>, batchSize: number): BpLambdaState => ({
  t: 0,
  examples: Array.from({ length: batchSize }, () => ({
    state: vzeros(ctx.model.cell.stateSize),
    prediction: null,
    trace: null,
  })),
  synthUpdate: vzeros(paramCount(ctx.synth.paramShapes)),
  netGrad: zerosParams(modelShapes(ctx.model)),
  loss: 0,
});

/** Rescale each parameter tensor of a flat update to L2 norm ≤ c (per tensor). */
export const clipPerTensor = (update: Float64Array, shapes: ParamShapes, c: number): Float64Array => {
  if (c === Infinity) return update;
  const parts = unflattenParams(update, shapes);
  const clipped = mapParams(parts, (t) => {
    const n = vnorm(t.data);
    return n > c ? { shape: t.shape, data: vscale(t.data, c / n) } : t;
  });
  return flattenParams(clipped, shapes);
};

/** Batch mean of a list of flat vectors. */
const meanVec = (vs: readonly Float64Array[], n: number): Float64Array =>
  vscale(
    vs.reduce((a, v) => vadd(a, v), vzeros(n)),
    1 / Math.max(1, vs.length),
  );

/** One step of accumulate BP(λ) for a batch. Pure: returns the step's quantities and the next state. */
export const bpLambdaStep = (
  ctx: BpLambdaContext,
  state: BpLambdaState,
  input: StepInput,
): [BpLambdaStepResult, BpLambdaState] => {
  const { model, synth, params, theta, options } = ctx;
  const { gamma, lambda, beta } = options;
  const c = targetScaleOf(options);
  const t = state.t + 1;
  const S = model.cell.stateSize;
  const P = paramCount(synth.paramShapes);
  const shapes = modelShapes(model);
  if (input.inputs.length !== state.examples.length || input.targets.length !== state.examples.length)
    throw new RangeError(`step ${t}: expected ${state.examples.length} inputs and targets (one per example)`);

  const perExample = state.examples.map((ex, b) => {
    const step = model.cell.step(params, ex.state, input.inputs[b]!);
    const rec = stepRecord(model, params, step, input.targets[b] ?? null);
    const J = model.cell.jacobian(params, step);
    const prediction = input.final ? vzeros(S) : synth.predict(theta, step.state, t);
    // TD error of the previous prediction, and its contribution δ_{t-1} E_{t-1}.
    let td: Float64Array | null = null;
    let contribution: Float64Array | null = null;
    if (ex.prediction !== null && ex.trace !== null) {
      td = vsub(vecmat(vaxpy(vscale(rec.immediate, c), gamma, prediction), J), ex.prediction);
      contribution = vecmat(td, ex.trace);
    }
    // E_t = γλ J_t E_{t-1} + ∇θ ĝ_t  (not needed after the final step)
    let trace: Mat | null = null;
    if (!input.final) {
      const immediateJac = synth.paramJacobian(theta, step.state, t);
      trace =
        ex.trace === null || gamma * lambda === 0
          ? immediateJac
          : { shape: immediateJac.shape, data: vaxpy(immediateJac.data, gamma * lambda, matmul(J, ex.trace).data) };
    }
    const signal = vaxpy(rec.immediate, beta / c, prediction);
    const grad = { ...model.cell.vjpParams(params, step, signal), ...readoutGrad(model, rec) };
    return { carry: { state: step.state, prediction: input.final ? null : prediction, trace }, rec, td, contribution, prediction, signal, grad };
  });

  const B = perExample.length;
  const contributions = perExample.map((e) => e.contribution).filter((c): c is Float64Array => c !== null);
  const stepUpdate = contributions.length > 0 ? clipPerTensor(meanVec(contributions, P), synth.paramShapes, options.synthClip) : null;
  const stepGrad = meanParams(
    perExample.map((e) => e.grad),
    shapes,
  );
  const stepLoss = perExample.reduce((a, e) => a + e.rec.loss, 0) / Math.max(1, B);

  const result: BpLambdaStepResult = {
    t,
    states: perExample.map((e) => e.rec.step.state),
    syntheticGradients: perExample.map((e) => e.prediction),
    tdErrors: perExample[0]?.td === null ? null : perExample.map((e) => e.td!),
    learningSignals: perExample.map((e) => e.signal),
    synthUpdate: stepUpdate,
    loss: stepLoss,
  };
  const next: BpLambdaState = {
    t: input.final ? 0 : t,
    examples: input.final
      ? state.examples.map(() => ({ state: vzeros(S), prediction: null, trace: null }))
      : perExample.map((e) => e.carry),
    synthUpdate: stepUpdate === null ? state.synthUpdate : vadd(state.synthUpdate, stepUpdate),
    netGrad: addParams(state.netGrad, stepGrad),
    loss: state.loss + stepLoss,
  };
  return [result, next];
};

/** Zero the accumulated updates (after they were applied), keeping the carried per-example state. */
export const bpLambdaClearAccumulators = <St extends Pick<BpLambdaState, 'synthUpdate' | 'netGrad' | 'loss'>>(state: St): St => ({
  ...state,
  synthUpdate: vzeros(state.synthUpdate.length),
  netGrad: scaleParams(state.netGrad, 0),
  loss: 0,
});

/** The input of step k+1 of a batch (per example), with the final flag at the last step. */
export const batchStepInput = (batch: Batch, k: number): StepInput => ({
  inputs: batch.map((q) => q.inputs[k]!),
  targets: batch.map((q) => q.targets[k] ?? null),
  final: k === (batch[0]?.inputs.length ?? 0) - 1,
});

/**
 * Run a step function over a whole batch of equal-length sequences with the parameters fixed (the offline regime),
 * collecting every step's result: the loop shared by the full-state and the cell-mode learners.
 */
export const runSequence = <Ctx extends { readonly model: Model }, St, R>(
  ctx: Ctx,
  batch: Batch,
  init: (ctx: Ctx, batchSize: number) => St,
  step: (ctx: Ctx, state: St, input: StepInput) => [R, St],
): { readonly steps: R[]; readonly state: St } => {
  const T = checkBatch(ctx.model, batch);
  let state = init(ctx, batch.length);
  const steps: R[] = [];
  for (let k = 0; k < T; k++) {
    const [r, s] = step(ctx, state, batchStepInput(batch, k));
    steps.push(r);
    state = s;
  }
  return { steps, state };
};

/** Run BP(λ) over a whole batch of equal-length sequences with θ and Ψ fixed (the offline regime). */
export const bpLambdaSequence = (ctx: BpLambdaContext, batch: Batch): { readonly steps: BpLambdaStepResult[]; readonly state: BpLambdaState } =>
  runSequence(ctx, batch, bpLambdaInit, bpLambdaStep);

/** The synthesiser update as a parameter record (direction to add), from a flat update. */
export const synthUpdateParams = (synth: Synthesiser, update: Float64Array): Params =>
  unflattenParams(update, synth.paramShapes);
