/**
 * Training with any of the methods on one pure interface: `learnerInit(config, rng) → [state, rng]` and
 * `trainBatch(config, state, batch) → [metrics, state]`. The state is a plain record (parameters, optimiser
 * states, batch counter), so it can be checkpointed and resumed exactly.
 *
 * Methods:
 * - `bp-lambda`: accumulate BP(λ), full-state synthesiser (exact) or, for the LSTM, the paper's cell mode;
 *   parameters updated once per sequence (the authors' schedule) or after every step.
 * - `sg`: Jaderberg-style n-step synthetic gradients (BPTT inside chunks of n, bootstrapped SG at the ends).
 * - `tbptt`: truncated BPTT with chunk length n.  `bptt`: full BPTT.
 * - `eprop`: no synthesiser; e-prop with the immediate loss (for the RNN, its immediate gradient).
 */
import { z } from 'zod';
import { DivergenceError, InvalidInputError } from './errors.js';
import { type BpLambdaOptions, bpLambdaOptionsOf, bpLambdaOptionsShape, batchStepInput, bpLambdaClearTotals, bpLambdaInit, bpLambdaStep } from './bplambda.js';
import { type ChunkAlign, batchMean, bptt, truncatedBptt } from './bptt.js';
import { nStepSg, onlineRule } from './baselines.js';
import { memoryOf } from './cellMode.js';
import { BP_LAMBDA_MODES, type BpLambdaMode } from './modes.js';
import { initModel, initSynthesiser } from './init.js';
import { type Batch, type Model, checkBatch, checkModel, checkParams, modelShapes } from './model.js';
import { RULES, numberField, oneOfField, parseConfig, record } from './schema.js';
import { type GradientTransformation, adam, applyUpdates, clipByGlobalNorm, sgd } from './optim.js';
import type { Rng } from './random.js';
import { type Synthesiser, linearSynthesiser, mlpSynthesiser } from './synthesiser.js';
import { type Params, meanParams, paramsNorm, scaleParams, unflattenParams, vadd, vscale, vzeros, paramCount, vnorm } from './tensor.js';

export type OptimiserSpec =
  | { readonly kind: 'adam'; readonly lr: number; readonly beta1?: number; readonly beta2?: number; readonly eps?: number }
  | { readonly kind: 'sgd'; readonly lr: number }
  /** Parameters held fixed (e.g. the frozen RNN of the toy alignment task). */
  | { readonly kind: 'frozen' };

export interface SynthesiserSpec {
  /** Hidden layer sizes of an MLP synthesiser; empty for the linear synthesiser (the paper's). */
  readonly hidden: readonly number[];
}

/** The training methods, one name each (the `kind` of a `Method`). */
export const METHOD_KINDS = ['bp-lambda', 'sg', 'tbptt', 'bptt', 'eprop'] as const;
export type MethodKind = (typeof METHOD_KINDS)[number];

/** When parameters change: 'sequence' (once per batch, the authors') or 'step' (after every time step). */
export const SCHEDULES = ['sequence', 'step'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export type Method =
  | ({
      readonly kind: 'bp-lambda';
      /** 'full': ĝ predicts the gradient on the whole state (exact); 'cell': the paper's LSTM dL/dc mode. */
      readonly mode: BpLambdaMode;
      /** 'sequence': one optimiser step per batch (the authors' default); 'step': one per time step. */
      readonly schedule: Schedule;
      readonly synthesiser: SynthesiserSpec;
    } & BpLambdaOptions)
  | {
      readonly kind: 'sg';
      readonly n: number;
      readonly gamma: number;
      readonly beta: number;
      readonly align: ChunkAlign;
      readonly target: 'discounted' | 'authors';
      /** Scale c of the synthesiser's targets (as BP(λ)'s; default 1, the authors' 1/B). */
      readonly targetScale?: number;
      readonly synthesiser: SynthesiserSpec;
    }
  | { readonly kind: 'tbptt'; readonly n: number; readonly align: ChunkAlign }
  | { readonly kind: 'bptt' }
  | { readonly kind: 'eprop' };

// Every Method kind is listed in METHOD_KINDS and nothing else is (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const methodKindsComplete: Same<Method['kind'], MethodKind> = true;
void methodKindsComplete;

export interface LearnerConfig {
  readonly model: Model;
  readonly method: Method;
  /** Optimiser of the network (cell and readout). */
  readonly network: OptimiserSpec;
  /** Optimiser of the synthesiser (methods with one). */
  readonly synthesiser: OptimiserSpec;
  /** Optional global-norm clip of the network gradient before its optimiser (off when undefined). */
  readonly gradClip?: number;
}

export interface LearnerState {
  readonly params: Params;
  readonly theta: Params | null;
  readonly networkOpt: unknown;
  readonly synthOpt: unknown;
  /** Batches trained so far. */
  readonly batches: number;
}

export interface BatchMetrics {
  readonly loss: number;
  readonly gradNorm: number;
  /** Norm of the synthesiser update applied (methods with a synthesiser). */
  readonly synthUpdateNorm?: number;
}

/** The words for a union of records given something else than an object (its own issues keep theirs). */
const notAnObject = { error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'an object' : undefined) };

const optimiserSchema = z.discriminatedUnion('kind', [
  record({
    kind: z.literal('adam'),
    lr: numberField(RULES.nonNegative),
    beta1: numberField(RULES.decay).optional(),
    beta2: numberField(RULES.decay).optional(),
    eps: numberField(RULES.positive).optional(),
  }),
  record({ kind: z.literal('sgd'), lr: numberField(RULES.nonNegative) }),
  record({ kind: z.literal('frozen') }),
], notAnObject);

const synthesiserSpecSchema = record({ hidden: z.array(numberField(RULES.count), { error: 'a list of layer sizes (integers ≥ 1; empty: linear)' }) });
const ALIGNS = ['start', 'end'] as const;

const methodSchema = z.discriminatedUnion('kind', [
  record({ kind: z.literal('bp-lambda'), mode: oneOfField(BP_LAMBDA_MODES), schedule: oneOfField(SCHEDULES), synthesiser: synthesiserSpecSchema, ...bpLambdaOptionsShape }),
  record({
    kind: z.literal('sg'),
    n: numberField(RULES.count),
    gamma: bpLambdaOptionsShape.gamma,
    beta: bpLambdaOptionsShape.beta,
    align: oneOfField(ALIGNS),
    target: oneOfField(['discounted', 'authors'] as const),
    targetScale: bpLambdaOptionsShape.targetScale,
    synthesiser: synthesiserSpecSchema,
  }),
  record({ kind: z.literal('tbptt'), n: numberField(RULES.count), align: oneOfField(ALIGNS) }),
  record({ kind: z.literal('bptt') }),
  record({ kind: z.literal('eprop') }),
], notAnObject);

const learnerConfigSchema = record({
  // Checked by its own schema (checkModel), which names its fields under 'model'.
  model: z.custom<Model>((m) => m !== null && typeof m === 'object', { error: 'a model record { cell, outputSize, loss }' }),
  method: methodSchema,
  network: optimiserSchema,
  synthesiser: optimiserSchema,
  gradClip: numberField(RULES.clip).optional(),
});

/**
 * Check a learner configuration: every field in its range, no unknown field, the model, and the method fitting
 * the model (the cell mode needs an LSTM). Typed errors name the field (`method.lambda`, `network.kind`, …).
 */
export const checkLearnerConfig = (config: LearnerConfig): LearnerConfig => {
  parseConfig(learnerConfigSchema, config);
  checkModel(config.model);
  synthesiserFor(config.model, config.method);
  return config;
};

/** Check a learner state against its configuration: the parameters' and the synthesiser's shapes, finite numbers. */
export const checkLearnerState = (config: LearnerConfig, state: LearnerState, path = 'state'): LearnerState => {
  if (state === null || typeof state !== 'object') throw new InvalidInputError(path, 'a learner state (from learnerInit)', `is ${String(state)}`);
  checkParams(state.params, modelShapes(config.model), `${path}.params`);
  const synth = synthesiserFor(config.model, config.method);
  if (synth === null) {
    if (state.theta !== null) throw new InvalidInputError(`${path}.theta`, `null (method '${config.method.kind}' has no synthesiser)`, 'is not null');
  } else checkParams(state.theta!, synth.paramShapes, `${path}.theta`);
  if (!RULES.natural.ok(state.batches)) throw new InvalidInputError(`${path}.batches`, RULES.natural.expected, `is ${String(state.batches)}`);
  return state;
};

/**
 * A typed error when a batch's metrics are not finite (the training diverged: a learning rate too large, for
 * example); `batch` is the 1-indexed batch that produced them. The state that produced them is not returned.
 */
export const checkMetrics = (m: BatchMetrics, batch: number): BatchMetrics => {
  if (!Number.isFinite(m.loss)) throw new DivergenceError('the training loss', batch, 'batch');
  if (!Number.isFinite(m.gradNorm)) throw new DivergenceError('the network gradient', batch, 'batch');
  if (m.synthUpdateNorm !== undefined && !Number.isFinite(m.synthUpdateNorm)) throw new DivergenceError('the synthesiser update', batch, 'batch');
  return m;
};

export const usesSynthesiser = (m: Method): m is Extract<Method, { synthesiser: SynthesiserSpec }> =>
  m.kind === 'bp-lambda' || m.kind === 'sg';

/** The synthesiser a method uses on a model: S → S (full state), or 2H → H for the LSTM cell mode. */
export const synthesiserFor = (model: Model, method: Method): Synthesiser | null => {
  if (!usesSynthesiser(method)) return null;
  const S = model.cell.stateSize;
  // The cell mode predicts the gradient on the memory part of the state (spec §6.3).
  const out = method.kind === 'bp-lambda' && method.mode === 'cell' ? memoryOf(model.cell).size : S;
  const inp = S;
  return method.synthesiser.hidden.length === 0 ? linearSynthesiser(inp, out) : mlpSynthesiser(inp, method.synthesiser.hidden, out);
};

/** The optimiser of a spec (null: parameters frozen). */
export const transformation = (spec: OptimiserSpec): GradientTransformation<unknown> | null => {
  switch (spec.kind) {
    case 'adam':
      return adam(spec) as GradientTransformation<unknown>;
    case 'sgd':
      return sgd(spec.lr) as GradientTransformation<unknown>;
    case 'frozen':
      return null;
  }
};

export const learnerInit = (config: LearnerConfig, rng: Rng): [LearnerState, Rng] => {
  checkLearnerConfig(config);
  const [params, r1] = initModel(config.model, rng);
  const synth = synthesiserFor(config.model, config.method);
  const [theta, r2] = synth === null ? [null, r1] : initSynthesiser(synth, r1);
  const netTx = transformation(config.network);
  const synTx = transformation(config.synthesiser);
  return [
    {
      params,
      theta,
      networkOpt: netTx?.init(params) ?? null,
      synthOpt: theta === null ? null : (synTx?.init(theta) ?? null),
      batches: 0,
    },
    r2,
  ];
};

/**
 * Apply a network gradient and a synthesiser update direction (to add) through the configured optimisers: the one
 * place where parameters change in the core learner (the trainer does the same on backend arrays, src/engine/deviceState.ts).
 */
export const applyLearnerUpdates = (
  config: LearnerConfig,
  state: LearnerState,
  netGrad: Params | null,
  synthAdd: Params | null,
): LearnerState => {
  let { params, theta, networkOpt, synthOpt } = state;
  const netTx = transformation(config.network);
  if (netTx !== null && netGrad !== null) {
    const g = config.gradClip === undefined ? netGrad : clipByGlobalNorm(config.gradClip).update(netGrad, {})[0];
    const [u, s] = netTx.update(g, networkOpt, params);
    params = applyUpdates(params, u);
    networkOpt = s;
  }
  const synTx = transformation(config.synthesiser);
  if (synTx !== null && theta !== null && synthAdd !== null) {
    // The synthesiser update is a direction to add; optimisers minimise, so pass its negative as the gradient.
    const [u, s] = synTx.update(scaleParams(synthAdd, -1), synthOpt, theta);
    theta = applyUpdates(theta, u);
    synthOpt = s;
  }
  return { ...state, params, theta, networkOpt, synthOpt };
};

/** Train on one batch (equal-length sequences); returns the batch metrics and the next state. */
export const trainBatch = (config: LearnerConfig, state: LearnerState, batch: Batch): [BatchMetrics, LearnerState] => {
  checkLearnerConfig(config);
  checkLearnerState(config, state);
  const T = checkBatch(config.model, batch);
  const { model, method } = config;
  const next = (m: BatchMetrics, s: LearnerState): [BatchMetrics, LearnerState] => [checkMetrics(m, state.batches + 1), { ...s, batches: state.batches + 1 }];
  switch (method.kind) {
    case 'bptt':
    case 'tbptt':
    case 'eprop': {
      const f =
        method.kind === 'bptt'
          ? (q: Batch[number]) => bptt(model, state.params, q)
          : method.kind === 'tbptt'
            ? (q: Batch[number]) => truncatedBptt(model, state.params, q, method.n, method.align)
            : (q: Batch[number]) => onlineRule(model, state.params, q);
      const r = batchMean(model, batch, f);
      return next({ loss: r.loss, gradNorm: paramsNorm(r.grads) }, applyLearnerUpdates(config, state, r.grads, null));
    }
    case 'sg': {
      const synth = synthesiserFor(model, method)!;
      const rs = batch.map((q) => nStepSg(model, synth, state.params, state.theta!, q, method));
      const P = paramCount(synth.paramShapes);
      const synthAdd = vscale(
        rs.reduce((a, r) => vadd(a, r.synthUpdate), vzeros(P)),
        1 / rs.length,
      );
      const grads = meanParams(
        rs.map((r) => r.grads),
        modelShapes(model),
      );
      const loss = rs.reduce((a, r) => a + r.loss, 0) / rs.length;
      return next(
        { loss, gradNorm: paramsNorm(grads), synthUpdateNorm: vnorm(synthAdd) },
        applyLearnerUpdates(config, state, grads, unflattenParams(synthAdd, synth.paramShapes)),
      );
    }
    case 'bp-lambda': {
      const synth = synthesiserFor(model, method)!;
      const options = bpLambdaOptionsOf(method);
      const ctxOf = (s: LearnerState) => ({ model, synth, params: s.params, theta: s.theta!, options, mode: method.mode });
      let s = state;
      let learner = bpLambdaInit(ctxOf(s), batch.length);
      let loss = 0;
      let gradNorm = 0;
      let synthNorm = 0;
      for (let k = 0; k < T; k++) {
        learner = bpLambdaStep(ctxOf(s), learner, batchStepInput(batch, k))[1];
        if (method.schedule === 'step' || k === T - 1) {
          const { totals } = learner;
          loss += totals.loss;
          gradNorm = Math.max(gradNorm, paramsNorm(totals.netGrad));
          synthNorm = Math.max(synthNorm, vnorm(totals.synthUpdate));
          // A step schedule must stop at the step that diverged: the next step would refuse non-finite parameters.
          if (k < T - 1) checkMetrics({ loss, gradNorm, synthUpdateNorm: synthNorm }, state.batches + 1);
          s = applyLearnerUpdates(config, s, totals.netGrad, unflattenParams(totals.synthUpdate, synth.paramShapes));
          learner = bpLambdaClearTotals(learner);
        }
      }
      return next({ loss, gradNorm, synthUpdateNorm: synthNorm }, s);
    }
  }
};
