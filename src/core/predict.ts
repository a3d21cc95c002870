/**
 * Using a trained model: `predict` runs the model forward (the cell's `rollout` and the `readout` of model.ts, the
 * code every training method runs) and returns the outputs ŷ_t of every step with the final state; `evaluate` gives
 * the loss of a batch exactly as training defines and reports it (the mean over the batch of Σ_t L_t, model.ts's
 * `forward` and `sequenceLoss`) and, for softmax cross-entropy, the accuracy over the steps with a target.
 */
import { rollout } from './cell.js';
import { InvalidInputError } from './errors.js';
import { type Batch, type Model, checkBatch, checkParams, checkVec, forward, modelShapes, readout, sequenceLoss } from './model.js';
import type { Params } from './tensor.js';

/** The inputs of one sequence (a `Sequence` is one; its targets are not needed). */
export interface SequenceInputs {
  readonly inputs: readonly Float64Array[];
}

export interface SequencePrediction {
  /** ŷ_t for t = 1..T (size O each). */
  readonly outputs: Float64Array[];
  /** The state s_T after the last step (size S; s_0 when T = 0): pass it as `state` to continue the sequence. */
  readonly state: Float64Array;
}

export interface BatchPrediction {
  /** outputs[b][t] = ŷ_t of sequence b (`outputsToTensor` makes a [B, T, O] tensor of them). */
  readonly outputs: Float64Array[][];
  /** The final state of every sequence. */
  readonly states: Float64Array[];
}

/** A Float64Array of n finite numbers (model.ts's check, after the type a list of steps cannot promise). */
const checkVector = (path: string, v: unknown, n: number): void => {
  if (!(v instanceof Float64Array)) throw new InvalidInputError(path, `a Float64Array of ${n} entries`, `is ${v === null ? 'null' : typeof v}`);
  checkVec(path, v, n);
};

const predictOne = (model: Model, params: Params, seq: SequenceInputs, path: string, s0?: Float64Array): SequencePrediction => {
  if (seq === null || typeof seq !== 'object' || !Array.isArray(seq.inputs)) throw new InvalidInputError(`${path}inputs`, 'a list of input vectors', 'is missing');
  seq.inputs.forEach((x, t) => checkVector(`${path}inputs[${t}]`, x, model.cell.inputSize));
  const steps = rollout(model.cell, params, seq.inputs, s0);
  return {
    outputs: steps.map((st) => readout(model, params, st.state)),
    state: steps.length === 0 ? Float64Array.from(s0 ?? new Float64Array(model.cell.stateSize)) : steps[steps.length - 1]!.state,
  };
};

/**
 * The outputs of a model at `params` on one sequence (from s_0 = 0, or `options.state`) or on a batch (a list of
 * sequences, of any lengths; `options.states` one initial state per sequence). Inputs need no targets. Typed
 * errors name the field (`inputs[3]`, `batch[1].inputs[0]`, `params.W_rec`).
 */
export function predict(model: Model, params: Params, sequence: SequenceInputs, options?: { readonly state?: Float64Array }): SequencePrediction;
export function predict(model: Model, params: Params, batch: readonly SequenceInputs[], options?: { readonly states?: readonly Float64Array[] }): BatchPrediction;
export function predict(
  model: Model,
  params: Params,
  input: SequenceInputs | readonly SequenceInputs[],
  options: { readonly state?: Float64Array; readonly states?: readonly Float64Array[] } = {},
): SequencePrediction | BatchPrediction {
  checkParams(params, modelShapes(model));
  const S = model.cell.stateSize;
  if (!Array.isArray(input)) {
    if (options.state !== undefined) checkVector('options.state', options.state, S);
    return predictOne(model, params, input as SequenceInputs, '', options.state);
  }
  const batch = input as readonly SequenceInputs[];
  const { states } = options;
  if (states !== undefined && (!Array.isArray(states) || states.length !== batch.length))
    throw new InvalidInputError('options.states', `${batch.length} states (one per sequence)`, `has ${Array.isArray(states) ? states.length : 'none'}`);
  states?.forEach((s, b) => checkVector(`options.states[${b}]`, s, S));
  const each = batch.map((seq, b) => predictOne(model, params, seq, `batch[${b}].`, states?.[b]));
  return { outputs: each.map((p) => p.outputs), states: each.map((p) => p.state) };
}

export interface Evaluation {
  /** Mean over the batch of the summed loss Σ_t L_t: what `trainBatch` reports as `loss` at these parameters. */
  readonly loss: number;
  /** Steps with a target, over the whole batch. */
  readonly targetSteps: number;
  /** Softmax cross-entropy ('xent'): steps with a target whose arg-max output is the target's arg-max class; null otherwise. */
  readonly correct: number | null;
  /** correct / targetSteps ('xent' with at least one target step); null otherwise. */
  readonly accuracy: number | null;
}

/** The first index of a largest entry. */
const argmax = (v: Float64Array): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

/**
 * Loss (and, for 'xent', accuracy) of a model at `params` on a batch of equal-length sequences, checked as training
 * checks it (`checkBatch`). Nothing is trained.
 */
export const evaluate = (model: Model, params: Params, batch: Batch): Evaluation => {
  checkParams(params, modelShapes(model));
  checkBatch(model, batch);
  let loss = 0;
  let targetSteps = 0;
  let correct = 0;
  for (const seq of batch) {
    const records = forward(model, params, seq);
    loss += sequenceLoss(records);
    records.forEach((r, t) => {
      const y = seq.targets[t]!;
      if (y === null) return;
      targetSteps++;
      if (argmax(r.output) === argmax(y)) correct++;
    });
  }
  const xent = model.loss === 'xent';
  return {
    loss: loss / batch.length,
    targetSteps,
    correct: xent ? correct : null,
    accuracy: xent && targetSteps > 0 ? correct / targetSteps : null,
  };
};
