/**
 * Saving and loading a learner state (parameters, synthesiser, optimiser states, batch count) as JSON, exactly:
 * every float64 survives bit for bit through the shared encoding of src/core/encoding.ts (the one the run
 * checkpoints use). Pure: the caller writes the text where it likes (in Node, `fs.writeFileSync(path,
 * JSON.stringify(saved))`; in a browser, localStorage or a download).
 *
 * Format `bplambda-state/1`: `{ format, model: { cell: { type, activation?, inputSize, hiddenSize }, outputSize,
 * loss }, state }`, `state` the encoded `LearnerState`. Loading checks everything against the configuration it is
 * loaded for: the model description, every parameter's shape, the synthesiser and the optimisers' states.
 */
import { z } from 'zod';
import { decodeValue, encodeValue } from './encoding.js';
import { InvalidInputError } from './errors.js';
import { type LearnerConfig, type LearnerState, checkLearnerState, transformation } from './learner.js';
import { lstmCell } from './lstm.js';
import { LOSSES, type LossKind, type Model, checkParams, modelShapes } from './model.js';
import { ACTIVATIONS, type Activation, rnnCell } from './rnn.js';
import { RULES, numberField, oneOfField, parseConfig, record } from './schema.js';
import { type Params, shapesOf } from './tensor.js';

export const STATE_FORMAT = 'bplambda-state/1';

/** What a saved state says about its model: enough to rebuild it and check shapes. */
export interface ModelDescription {
  readonly cell: { readonly type: 'rnn' | 'lstm'; readonly activation?: Activation; readonly inputSize: number; readonly hiddenSize: number };
  readonly outputSize: number;
  readonly loss: LossKind;
}

/** A saved learner state: a JSON-safe object (`JSON.stringify` it to write it). */
export interface SerializedState {
  readonly format: typeof STATE_FORMAT;
  readonly model: ModelDescription;
  readonly state: unknown;
}

const count = numberField(RULES.count);
const descriptionSchema = record({
  cell: z.union([
    record({ type: z.literal('rnn'), activation: oneOfField(ACTIVATIONS), inputSize: count, hiddenSize: count }),
    record({ type: z.literal('lstm'), inputSize: count, hiddenSize: count }),
  ]),
  outputSize: count,
  loss: oneOfField(LOSSES),
});
const fileSchema = record({ format: z.literal(STATE_FORMAT, { error: `'${STATE_FORMAT}'` }), model: z.unknown(), state: z.unknown() });

export const describeModel = (model: Model): ModelDescription => {
  const { type, activation, inputSize, hiddenSize } = model.cell;
  return {
    cell: type === 'rnn' ? { type, activation: activation!, inputSize, hiddenSize } : { type, inputSize, hiddenSize },
    outputSize: model.outputSize,
    loss: model.loss,
  };
};

const modelOf = (d: ModelDescription): Model => ({
  cell: d.cell.type === 'rnn' ? rnnCell({ inputSize: d.cell.inputSize, hiddenSize: d.cell.hiddenSize, activation: d.cell.activation! }) : lstmCell(d.cell),
  outputSize: d.outputSize,
  loss: d.loss,
});

const isTensor = (v: unknown): v is { shape: unknown; data: unknown } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 2 && 'shape' in v && 'data' in v;

/**
 * Check `value` against a template of the same structure (what an optimiser's `init` returns): records with the
 * same keys, tensors of the same shape, arrays of the same length, numbers, strings and null where the template has them.
 */
const checkLike = (path: string, value: unknown, template: unknown): void => {
  if (template === null || typeof template !== 'object') {
    if (template === null ? value !== null : typeof value !== typeof template)
      throw new InvalidInputError(path, template === null ? 'null' : `a ${typeof template}`, value === undefined ? 'is missing' : `is ${JSON.stringify(encodeValue(value))}`);
    return;
  }
  if (template instanceof Float64Array) {
    if (!(value instanceof Float64Array) || value.length !== template.length) throw new InvalidInputError(path, `a Float64Array of ${template.length} entries`, 'is not one');
    return;
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(value) || value.length !== template.length) throw new InvalidInputError(path, `a list of ${template.length} entries`, 'is not one');
    template.forEach((t, i) => checkLike(`${path}[${i}]`, value[i], t));
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(path, 'a record', value === undefined ? 'is missing' : 'is not one');
  const keys = Object.keys(template);
  const entries = Object.values(template);
  // A record of tensors (an optimiser's moments of each parameter) is a parameter record: check it as one.
  if (entries.length > 0 && entries.every(isTensor)) {
    checkParams(value as Params, shapesOf(template as Params), path);
    return;
  }
  for (const k of Object.keys(value)) if (!keys.includes(k)) throw new InvalidInputError(`${path}.${k}`, `no such field: the fields are ${keys.join(', ') || 'none'}`, 'is not a field');
  for (const k of keys) checkLike(`${path}.${k}`, (value as Record<string, unknown>)[k], (template as Record<string, unknown>)[k]);
};

/**
 * The learner's own check (`checkLearnerState`: parameters, synthesiser, batch count), then the fields it leaves
 * open: no unknown field, and optimiser states of the structure the config's optimisers make.
 */
const checkSavedState = (config: LearnerConfig, state: LearnerState, path = 'state'): LearnerState => {
  checkLearnerState(config, state, path);
  const fields = ['params', 'theta', 'networkOpt', 'synthOpt', 'batches'];
  for (const k of Object.keys(state)) if (!fields.includes(k)) throw new InvalidInputError(`${path}.${k}`, `no such field: the fields are ${fields.join(', ')}`, 'is not a field');
  const optTemplate = (spec: LearnerConfig['network'], p: Params | null) => (p === null ? null : (transformation(spec)?.init(p) ?? null));
  checkLike(`${path}.networkOpt`, state.networkOpt, optTemplate(config.network, state.params));
  checkLike(`${path}.synthOpt`, state.synthOpt, optTemplate(config.synthesiser, state.theta));
  return state;
};

/** A learner state as a JSON-safe object, after checking it against its configuration. */
export const serializeState = (config: LearnerConfig, state: LearnerState): SerializedState => ({
  format: STATE_FORMAT,
  model: describeModel(config.model),
  state: encodeValue(checkSavedState(config, state)),
});

/** The first place where two JSON-like values differ, as [path, expected, found], or null. */
const firstDifference = (path: string, want: unknown, got: unknown): [string, unknown, unknown] | null => {
  if (want !== null && typeof want === 'object' && got !== null && typeof got === 'object') {
    for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const d = firstDifference(`${path}.${k}`, (want as Record<string, unknown>)[k], (got as Record<string, unknown>)[k]);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(want, got) ? null : [path, want, got];
};

/**
 * Load a saved state (the object of `serializeState` or its JSON text). With `config`, the saved model must be
 * the config's and the state must fit the config (its method's synthesiser, its optimisers); without, the
 * parameters are checked against the saved model description. Typed errors name the field, e.g.
 * `state.params.W_rec has shape 3x4, expected shape 4x4` or `model.cell.hiddenSize is 8, expected 16 (the config's)`.
 */
export const deserializeState = (saved: SerializedState | string | unknown, config?: LearnerConfig): LearnerState => {
  let value = saved;
  if (typeof saved === 'string') {
    try {
      value = JSON.parse(saved);
    } catch (e) {
      throw new InvalidInputError('', `JSON text of a ${STATE_FORMAT} state`, `is malformed JSON (${(e as Error).message})`);
    }
  }
  const file = parseConfig(fileSchema, value) as SerializedState;
  const description = parseConfig(descriptionSchema, file.model, 'model') as ModelDescription;
  if (config !== undefined) {
    const d = firstDifference('model', describeModel(config.model), description);
    if (d !== null) throw new InvalidInputError(d[0], `${JSON.stringify(d[1]) ?? 'absent'} (the config's)`, `is ${JSON.stringify(d[2]) ?? 'absent'}`);
  }
  const state = decodeValue(file.state, 'state') as LearnerState;
  if (config !== undefined) return checkSavedState(config, state);
  if (state === null || typeof state !== 'object') throw new InvalidInputError('state', 'a learner state', `is ${String(state)}`);
  checkParams(state.params, modelShapes(modelOf(description)), 'state.params');
  if (state.theta !== null) {
    // Without the config the synthesiser's shapes are unknown: each tensor must at least match its own shape.
    if (typeof state.theta !== 'object') throw new InvalidInputError('state.theta', 'a parameter record or null', `is ${String(state.theta)}`);
    for (const [k, t] of Object.entries(state.theta))
      if (!isTensor(t) || !Array.isArray(t.shape) || !t.shape.every((n) => Number.isInteger(n) && n >= 0))
        throw new InvalidInputError(`state.theta.${k}`, 'a tensor { shape, data }', 'is not one');
    checkParams(state.theta, shapesOf(state.theta), 'state.theta');
  }
  if (typeof state.batches !== 'number' || !RULES.natural.ok(state.batches)) throw new InvalidInputError('state.batches', RULES.natural.expected, `is ${String(state.batches)}`);
  return state;
};
