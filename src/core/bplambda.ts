/**
 * Accumulate BP(λ) as one pure step function, for every synthesiser mode (spec §4.1, §4.3, §6.3).
 *
 * At step t (1-indexed) the learner receives x_t (and y_t) and, per example, with the mode's adapter (`modes.ts`)
 * saying what the synthesiser reads and predicts:
 *   s_t = cell(s_{t-1}, x_t),  l_t = ∂L_t/∂s_t,  p_t = g(z_t; θ) (the mode's input z_t; 0 where it has none)
 *   δ = target(p_t) − p_{t-1}      the TD error of the pending prediction (target: the mode's, at target scale c)
 *   Δθ += clip(mean_b δ E_{t-1})   (the per-step clip of each tensor, optional)
 *   E_t = γλ A_t E_{t-1} + ∇θ p_t  (A_t the mode's transition; E_0 = 0)
 *   at the last step, if the mode has a terminal target y: Δθ += clip(mean_b (y − p_T) E_T)
 *   network gradient += the mode's gradient for its learning signal (l_t + (β/c) ĝ_t in the full-state mode)
 * In the full-state mode this is the authors' order of operations (spec §4.3) with the trace advanced as soon as
 * J_t is known rather than one step late; the numbers are identical. Nothing inside a call changes θ or Ψ:
 * parameter updates are the caller's (`learner.ts`: once per sequence or after every step).
 *
 * The state separates what carries over within a sequence (`carry`: per example s_t, the pending prediction,
 * its trace and the mode's own carry) from the sums to apply (`totals`).
 */
import { z } from 'zod';
import { InvalidInputError } from './errors.js';
import type { Batch, Model, Sequence } from './model.js';
import { checkBatch, checkModel, checkParams, modelShapes, stepRecord } from './model.js';
import { BP_LAMBDA_MODES, type BpLambdaMode, type ModeCarry, modeAdapter } from './modes.js';
import { RULES, numberField, oneOfField, parseConfig, record } from './schema.js';
import type { Synthesiser } from './synthesiser.js';
import {
  type Mat,
  type ParamShapes,
  type Params,
  addParams,
  flattenParams,
  mapParams,
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

/**
 * The fields of BP(λ)'s options and their rules (shared by the learner's method, src/core/learner.ts): γ and λ in
 * [0, 1] (spec §3), β ≥ 0, a clip > 0 or Infinity, a target scale > 0. Every one is required but the target scale.
 */
export const bpLambdaOptionsShape = {
  gamma: numberField(RULES.unit),
  lambda: numberField(RULES.unit),
  beta: numberField(RULES.nonNegative),
  synthClip: numberField(RULES.clip),
  targetScale: numberField(RULES.positive).optional(),
};

const isSynthesiser = (s: unknown): s is Synthesiser =>
  s !== null && typeof s === 'object' && typeof (s as Synthesiser).predict === 'function' && typeof (s as Synthesiser).paramJacobian === 'function' &&
  RULES.count.ok((s as Synthesiser).inputSize) && RULES.count.ok((s as Synthesiser).outputSize);

const contextSchema = record({
  // The model record is checked by its own schema (checkModel), which names its fields under 'model'.
  model: z.custom<Model>((m) => m !== null && typeof m === 'object', { error: 'a model record { cell, outputSize, loss }' }),
  synth: z.custom<Synthesiser>(isSynthesiser, { error: 'a synthesiser made by linearSynthesiser, mlpSynthesiser or tabularSynthesiser' }),
  params: z.custom<Params>((p) => p !== null && typeof p === 'object', { error: 'a parameter record' }),
  theta: z.custom<Params>((p) => p !== null && typeof p === 'object', { error: 'a parameter record' }),
  options: record(bpLambdaOptionsShape),
  mode: oneOfField(BP_LAMBDA_MODES).optional(),
});

/**
 * Check a BP(λ) context: its fields, the options' ranges, the model, the parameters' and the synthesiser's shapes,
 * and that the synthesiser fits the mode. Typed errors name the field (`options.lambda`, `params.W_rec`, …).
 */
export const checkBpLambdaContext = (ctx: BpLambdaContext): void => checkContext(contextSchema, ctx);

/** What `bpLambdaInit` reads of a context (the parameters and options may come with each step). */
const initContextSchema = contextSchema.partial({ params: true, theta: true, options: true });

const checkContext = (schema: z.ZodType, ctx: Pick<BpLambdaContext, 'model' | 'synth' | 'mode'> & Partial<BpLambdaContext>): void => {
  parseConfig(schema, ctx);
  checkModel(ctx.model);
  modeAdapter(modeOf(ctx)).check(ctx.model, ctx.synth);
  if (ctx.params !== undefined) checkParams(ctx.params, modelShapes(ctx.model), 'params');
  if (ctx.theta !== undefined) checkParams(ctx.theta, ctx.synth.paramShapes, 'theta');
};

/** The target scale c of BP(λ) options (1 when absent); a typed error names the field unless finite and > 0. */
export const targetScaleOf = (options: Pick<BpLambdaOptions, 'targetScale'>, path = 'method.targetScale'): number => {
  const c = options.targetScale ?? 1;
  if (!(typeof c === 'number' && Number.isFinite(c) && c > 0)) throw new InvalidInputError(path, 'a finite number > 0', `is ${String(c)}`);
  return c;
};

/** BP(λ)'s options out of a record holding more (a learner's method): the options alone, as a context takes them. */
export const bpLambdaOptionsOf = (x: BpLambdaOptions): BpLambdaOptions => ({
  gamma: x.gamma,
  lambda: x.lambda,
  beta: x.beta,
  synthClip: x.synthClip,
  ...(x.targetScale === undefined ? {} : { targetScale: x.targetScale }),
});

export const defaultBpLambdaOptions: BpLambdaOptions = { gamma: 1, lambda: 1, beta: 1, synthClip: Infinity };

export interface BpLambdaContext {
  readonly model: Model;
  readonly synth: Synthesiser;
  readonly params: Params; // Ψ (cell and readout)
  readonly theta: Params; // synthesiser parameters
  readonly options: BpLambdaOptions;
  /** What the synthesiser predicts: 'full' (the default, exact) or 'cell' (the LSTM's dL/dc mode). */
  readonly mode?: BpLambdaMode;
}

/** What carries over from step to step of a sequence, per example. */
export interface ExampleCarry {
  readonly state: Float64Array; // s_t
  readonly prediction: Float64Array | null; // the pending prediction (null before the first one)
  readonly trace: Mat | null; // its eligibility trace E
  readonly mode: ModeCarry; // the mode's own carry
}

/** The sums of a BP(λ) run since they were last cleared (applied). */
export interface BpLambdaTotals {
  /** Σ over steps of the (clipped) batch-mean δE: the direction to add to θ, flattened. */
  readonly synthUpdate: Float64Array;
  /** Σ over steps of the batch-mean network gradient (cell and readout). */
  readonly netGrad: Params;
  /** Σ over steps of the batch-mean loss. */
  readonly loss: number;
}

export interface BpLambdaState {
  /** Steps consumed in the current sequence and the per-example carry. */
  readonly t: number;
  readonly carry: readonly ExampleCarry[];
  readonly totals: BpLambdaTotals;
}

export interface StepInput {
  readonly inputs: readonly Float64Array[]; // x_t per example
  readonly targets: readonly (Float64Array | null)[]; // y_t per example (null: no loss)
  readonly final: boolean; // t = T: the sequence ends here
}

export interface BpLambdaStepResult {
  readonly t: number;
  readonly states: readonly Float64Array[]; // s_t
  /** This step's predictions at the target scale c: ĝ_t (zero at the final step) or, in the cell mode, u_t. */
  readonly predictions: readonly Float64Array[];
  /** TD errors of the pending predictions (δ_{t-1}; null when none was pending). */
  readonly tdErrors: readonly Float64Array[] | null;
  /** At the final step of the cell mode, δ_T = c m_T − u_T; null otherwise. */
  readonly terminalTdErrors: readonly Float64Array[] | null;
  /**
   * The network's learning signal formed at this step: l_t + (β/c) ĝ_t on s_t (full state), or
   * L_{t-1} = ε_{t-1} + (β/c) u_t D_t on h_{t-1} (cell mode; null at t = 1).
   */
  readonly learningSignals: readonly Float64Array[] | null;
  /** At the final step of the cell mode, its second learning signal ε_T on h_T (spec §6.3); null otherwise. */
  readonly terminalLearningSignals: readonly Float64Array[] | null;
  /** This step's addition to the synthesiser update (null if none): the pending prediction's and the terminal one's. */
  readonly synthUpdate: Float64Array | null;
  /** The part of `synthUpdate` from the pending prediction's TD error: clip(mean_b δ_{t-1} E_{t-1}); null if none. */
  readonly pendingSynthUpdate: Float64Array | null;
  /** The part from the terminal target (cell mode, last step: clip(mean_b δ_T E_T)); null otherwise. Each part is clipped on its own. */
  readonly terminalSynthUpdate: Float64Array | null;
  readonly loss: number; // batch-mean L_t
}

const modeOf = (ctx: Pick<BpLambdaContext, 'mode'>): BpLambdaMode => ctx.mode ?? 'full';

const freshCarry = (ctx: Pick<BpLambdaContext, 'model' | 'mode'>, batchSize: number): ExampleCarry[] =>
  Array.from({ length: batchSize }, () => ({
    state: vzeros(ctx.model.cell.stateSize),
    prediction: null,
    trace: null,
    mode: modeAdapter(modeOf(ctx)).init(ctx.model),
  }));

export const bpLambdaInit = (ctx: Pick<BpLambdaContext, 'model' | 'synth' | 'mode'>, batchSize: number): BpLambdaState => {
  checkContext(initContextSchema, ctx);
  if (!RULES.count.ok(batchSize)) throw new InvalidInputError('batchSize', RULES.count.expected, `is ${String(batchSize)}`);
  return {
    t: 0,
    carry: freshCarry(ctx, batchSize),
    totals: { synthUpdate: vzeros(paramCount(ctx.synth.paramShapes)), netGrad: zerosParams(modelShapes(ctx.model)), loss: 0 },
  };
};

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

/** Batch mean of the non-null flat vectors, clipped per tensor; null if there are none. */
const clippedMean = (vs: readonly (Float64Array | null)[], synth: Synthesiser, clip: number): Float64Array | null => {
  const xs = vs.filter((v): v is Float64Array => v !== null);
  if (xs.length === 0) return null;
  const mean = vscale(
    xs.reduce((a, v) => vadd(a, v), vzeros(paramCount(synth.paramShapes))),
    1 / xs.length,
  );
  return clipPerTensor(mean, synth.paramShapes, clip);
};

/** E = ∇θp + γλ A E_prev (or ∇θp alone when nothing decays into it). */
const advanceTrace = (immediate: Mat, transition: Mat | null, previous: Mat | null, decay: number): Mat =>
  previous === null || transition === null || decay === 0
    ? immediate
    : { shape: immediate.shape, data: vaxpy(immediate.data, decay, matmul(transition, previous).data) };

/** One step of accumulate BP(λ) for a batch. Pure: returns the step's quantities and the next state. */
export const bpLambdaStep = (ctx: BpLambdaContext, state: BpLambdaState, input: StepInput): [BpLambdaStepResult, BpLambdaState] => {
  checkBpLambdaContext(ctx);
  const { model, synth, params, theta, options } = ctx;
  const adapter = modeAdapter(modeOf(ctx));
  const c = targetScaleOf(options);
  const t = state.t + 1;
  const B = state.carry.length;
  if (input.inputs.length !== B) throw new InvalidInputError('input.inputs', `${B} inputs (one per example of the batch)`, `has ${input.inputs.length}`);
  if (input.targets.length !== B) throw new InvalidInputError('input.targets', `${B} targets (one per example of the batch; null: no loss)`, `has ${input.targets.length}`);
  const modeCtx = { model, params, gamma: options.gamma, signalWeight: options.beta / c, scale: c };
  const decay = options.gamma * options.lambda;

  const perExample = state.carry.map((ex, b) => {
    const step = model.cell.step(params, ex.state, input.inputs[b]!);
    const rec = stepRecord(model, params, step, input.targets[b] ?? null);
    const m = adapter.step(modeCtx, ex.mode, ex.state, rec, t, input.final);
    const prediction = m.synthInput === null ? vzeros(synth.outputSize) : synth.predict(theta, m.synthInput, t);
    let td: Float64Array | null = null;
    let contribution: Float64Array | null = null;
    if (ex.prediction !== null && ex.trace !== null && m.transition !== null) {
      td = vsub(m.target(prediction), ex.prediction);
      contribution = vecmat(td, ex.trace);
    }
    const trace = m.synthInput === null ? null : advanceTrace(synth.paramJacobian(theta, m.synthInput, t), m.transition, ex.trace, decay);
    let terminalTd: Float64Array | null = null;
    let terminalContribution: Float64Array | null = null;
    if (m.terminalTarget !== null && trace !== null) {
      terminalTd = vsub(m.terminalTarget, prediction);
      terminalContribution = vecmat(terminalTd, trace);
    }
    const { signals, grad } = m.learn(prediction);
    const signal = signals[0]?.[1] ?? null;
    const terminalSignal = signals.length > 1 ? signals[1]![1] : null;
    const carry: ExampleCarry = { state: step.state, prediction: m.synthInput === null ? null : prediction, trace, mode: m.next };
    return { carry, rec, prediction, td, contribution, terminalTd, terminalContribution, signal, terminalSignal, grad };
  });

  const pending = clippedMean(perExample.map((e) => e.contribution), synth, options.synthClip);
  const terminal = clippedMean(perExample.map((e) => e.terminalContribution), synth, options.synthClip);
  const stepUpdate = pending === null ? terminal : terminal === null ? pending : vadd(pending, terminal);
  const stepGrad = meanParams(
    perExample.map((e) => e.grad),
    modelShapes(model),
  );
  const stepLoss = perExample.reduce((a, e) => a + e.rec.loss, 0) / Math.max(1, B);
  const all = <T>(xs: readonly (T | null)[]): T[] | null => (xs.every((x) => x !== null) && xs.length > 0 ? (xs as T[]) : null);

  const result: BpLambdaStepResult = {
    t,
    states: perExample.map((e) => e.rec.step.state),
    predictions: perExample.map((e) => e.prediction),
    tdErrors: all(perExample.map((e) => e.td)),
    terminalTdErrors: all(perExample.map((e) => e.terminalTd)),
    learningSignals: all(perExample.map((e) => e.signal)),
    terminalLearningSignals: all(perExample.map((e) => e.terminalSignal)),
    synthUpdate: stepUpdate,
    pendingSynthUpdate: pending,
    terminalSynthUpdate: terminal,
    loss: stepLoss,
  };
  const totals = state.totals;
  const next: BpLambdaState = {
    t: input.final ? 0 : t,
    carry: input.final ? freshCarry(ctx, B) : perExample.map((e) => e.carry),
    totals: {
      synthUpdate: stepUpdate === null ? totals.synthUpdate : vadd(totals.synthUpdate, stepUpdate),
      netGrad: addParams(totals.netGrad, stepGrad),
      loss: totals.loss + stepLoss,
    },
  };
  return [result, next];
};

/** Zero the totals (after they were applied), keeping the carry of the sequence. */
export const bpLambdaClearTotals = (state: BpLambdaState): BpLambdaState => ({
  ...state,
  totals: { synthUpdate: vzeros(state.totals.synthUpdate.length), netGrad: scaleParams(state.totals.netGrad, 0), loss: 0 },
});

/** The input of step k+1 of a batch (per example), with the final flag at the last step. */
export const batchStepInput = (batch: Batch, k: number): StepInput => ({
  inputs: batch.map((q) => q.inputs[k]!),
  targets: batch.map((q) => q.targets[k] ?? null),
  final: k === (batch[0]?.inputs.length ?? 0) - 1,
});

/**
 * The learning signal BP(λ) delivers to the network's h_t at every step t = 1..T of one sequence (size H), θ and Ψ
 * fixed: what the network learns from, without the synthesiser's own update (no traces; each step still
 * computes the mode's gradients, as the learner's step does): l_t + (β/c) ĝ_t in the full-state mode, ε_t + (β/c) u_{t+1} D_{t+1} (ε_T at the end) in the cell mode.
 */
export const bpLambdaLearningSignals = (ctx: BpLambdaContext, seq: Sequence): Float64Array[] => {
  checkBpLambdaContext(ctx);
  const { model, synth, params, theta, options } = ctx;
  const adapter = modeAdapter(modeOf(ctx));
  const c = targetScaleOf(options);
  const modeCtx = { model, params, gamma: options.gamma, signalWeight: options.beta / c, scale: c };
  const T = seq.inputs.length;
  const H = model.cell.hiddenSize;
  const out = new Array<Float64Array>(T);
  let state = vzeros(model.cell.stateSize);
  let carry = adapter.init(model);
  for (let k = 0; k < T; k++) {
    const step = model.cell.step(params, state, seq.inputs[k]!);
    const rec = stepRecord(model, params, step, seq.targets[k] ?? null);
    const m = adapter.step(modeCtx, carry, state, rec, k + 1, k === T - 1);
    const prediction = m.synthInput === null ? vzeros(synth.outputSize) : synth.predict(theta, m.synthInput, k + 1);
    for (const [t, signal] of m.learn(prediction).signals) out[t - 1] = signal.slice(0, H);
    carry = m.next;
    state = step.state;
  }
  return out;
};

/** Run BP(λ) over a whole batch of equal-length sequences with θ and Ψ fixed (the offline regime). */
export const bpLambdaSequence = (ctx: BpLambdaContext, batch: Batch): { readonly steps: BpLambdaStepResult[]; readonly state: BpLambdaState } => {
  const T = checkBatch(ctx.model, batch);
  let state = bpLambdaInit(ctx, batch.length);
  const steps: BpLambdaStepResult[] = [];
  for (let k = 0; k < T; k++) {
    const [r, s] = bpLambdaStep(ctx, state, batchStepInput(batch, k));
    steps.push(r);
    state = s;
  }
  return { steps, state };
};

/** The synthesiser update as a parameter record (direction to add), from a flat update. */
export const synthUpdateParams = (synth: Synthesiser, update: Float64Array): Params =>
  unflattenParams(update, synth.paramShapes);
