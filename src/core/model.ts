/**
 * A model is a cell plus a linear readout ŷ_t = W_out h_t + b_out and a per-step loss:
 *   mse:  L_t = ½‖ŷ_t − y_t‖²
 *   xent: L_t = −Σ_k y_t[k] log softmax(ŷ_t)[k]   (y_t a one-hot or probability vector)
 *   bce:  L_t = −Σ_k y_t[k] log σ(ŷ_t[k]) + (1 − y_t[k]) log(1 − σ(ŷ_t[k]))   (independent bits, logits ŷ)
 * Steps whose target is null have no loss (masks). A batch is a list of sequences (the leading batch axis);
 * batch losses and gradients are means over its examples.
 */
import { z } from 'zod';
import { type Cell, type CellStep, rollout } from './cell.js';
import { InvalidInputError } from './errors.js';
import { RULES, numberField, oneOfField, parseConfig, record } from './schema.js';
import { type ParamShapes, type Params, type Tensor, matvec, size, outer, tensor, vecmat, vsub, vzeros } from './tensor.js';

export const LOSSES = ['mse', 'xent', 'bce'] as const;
export type LossKind = (typeof LOSSES)[number];

export interface Model {
  readonly cell: Cell;
  readonly outputSize: number; // O
  readonly loss: LossKind;
}

/** One example: T inputs (size I) and T targets (size O, or null where there is no loss). */
export interface Sequence {
  readonly inputs: readonly Float64Array[];
  readonly targets: readonly (Float64Array | null)[];
}

export type Batch = readonly Sequence[];

/** A cell record as `rnnCell` and `lstmCell` make it (their configurations are checked there). */
const isCell = (c: unknown): c is Cell => {
  if (c === null || typeof c !== 'object') return false;
  const x = c as Partial<Record<keyof Cell, unknown>>;
  const sizes = [x.inputSize, x.hiddenSize, x.stateSize].every((n) => typeof n === 'number' && RULES.count.ok(n));
  return (x.type === 'rnn' || x.type === 'lstm') && sizes && typeof x.step === 'function' && typeof x.paramShapes === 'object';
};

export const modelSchema = record({
  cell: z.custom<Cell>(isCell, { error: 'a cell made by rnnCell or lstmCell' }),
  outputSize: numberField(RULES.count),
  loss: oneOfField(LOSSES),
});

/** Check a model record (the cell, the readout's size, the loss); typed errors name the field under `path`. */
export const checkModel = (model: Model, path = 'model'): Model => parseConfig(modelSchema, model, path);

/**
 * Check a parameter record against its shapes: the same names, each a tensor of that shape over a Float64Array
 * of finite numbers. Typed errors name the tensor under `path` (e.g. `params.W_rec`).
 */
export const checkParams = (params: Params, shapes: ParamShapes, path = 'params'): Params => {
  if (params === null || typeof params !== 'object') throw new InvalidInputError(path, `a parameter record (${Object.keys(shapes).join(', ')})`, `is ${String(params)}`);
  for (const k of Object.keys(params)) if (!(k in shapes)) throw new InvalidInputError(`${path}.${k}`, `no such parameter: the parameters are ${Object.keys(shapes).join(', ')}`, 'is not one');
  for (const [k, shape] of Object.entries(shapes)) {
    const t = params[k];
    const p = `${path}.${k}`;
    if (t === undefined) throw new InvalidInputError(p, `a tensor of shape ${shape.join('x')}`, 'is missing');
    if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i]))
      throw new InvalidInputError(p, `shape ${shape.join('x')}`, `has shape ${Array.isArray(t.shape) ? t.shape.join('x') : String(t.shape)}`);
    if (!(t.data instanceof Float64Array) || t.data.length !== size(shape)) throw new InvalidInputError(`${p}.data`, `a Float64Array of length ${size(shape)}`, `is ${String(t.data)}`);
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new InvalidInputError(`${p}.data[${bad}]`, 'a finite number', `is ${t.data[bad]}`);
  }
  return params;
};

export const readoutShapes = (model: Model): ParamShapes => ({
  W_out: [model.outputSize, model.cell.hiddenSize],
  b_out: [model.outputSize],
});

/** All parameter shapes of a model: the cell's, then the readout's. */
export const modelShapes = (model: Model): ParamShapes => ({ ...model.cell.paramShapes, ...readoutShapes(model) });

const get = (p: Params, k: string): Tensor => {
  const t = p[k];
  if (t === undefined) throw new RangeError(`parameter ${k} is missing`);
  return t;
};

export const hiddenOf = (model: Model, s: Float64Array): Float64Array => s.subarray(0, model.cell.hiddenSize);

export const readout = (model: Model, params: Params, s: Float64Array): Float64Array => {
  const y = matvec(get(params, 'W_out'), hiddenOf(model, s));
  const b = get(params, 'b_out').data;
  for (let k = 0; k < y.length; k++) y[k] += b[k]!;
  return y;
};

const softmax = (z: Float64Array): Float64Array => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Loss of one step and its gradient with respect to the output ŷ. */
export const lossAndGrad = (kind: LossKind, yHat: Float64Array, y: Float64Array): { loss: number; dy: Float64Array } => {
  if (kind === 'mse') {
    const dy = vsub(yHat, y);
    return { loss: 0.5 * dy.reduce((a, v) => a + v * v, 0), dy };
  }
  if (kind === 'bce') {
    // Stable form: max(z, 0) − z y + log(1 + e^{−|z|}); gradient σ(z) − y.
    let loss = 0;
    const dy = new Float64Array(yHat.length);
    for (let k = 0; k < yHat.length; k++) {
      const z = yHat[k]!;
      loss += Math.max(z, 0) - z * y[k]! + Math.log1p(Math.exp(-Math.abs(z)));
      dy[k] = 1 / (1 + Math.exp(-z)) - y[k]!;
    }
    return { loss, dy };
  }
  // Every loss is named: an unknown word must not train softmax cross-entropy in its place.
  if (kind !== 'xent') throw new InvalidInputError('model.loss', `one of ${LOSSES.map((l) => `'${l}'`).join(', ')}`, `is ${String(kind)}`);
  const m = Math.max(...yHat);
  const lse = m + Math.log(yHat.reduce((a, v) => a + Math.exp(v - m), 0));
  let loss = 0;
  let ysum = 0;
  for (let k = 0; k < y.length; k++) {
    loss -= y[k]! * (yHat[k]! - lse);
    ysum += y[k]!;
  }
  const p = softmax(yHat);
  return { loss, dy: p.map((pk, k) => ysum * pk - y[k]!) };
};

/** Everything known about one step of a sequence once the forward pass has run. */
export interface StepRecord {
  readonly step: CellStep;
  readonly output: Float64Array; // ŷ_t
  readonly loss: number; // L_t (0 without a target)
  readonly dy: Float64Array | null; // ∂L_t/∂ŷ_t
  /** l_t = ∂L_t/∂s_t (size S; zero without a target). */
  readonly immediate: Float64Array;
}

/** Loss, output gradient and immediate state gradient l_t of one step. */
export const stepRecord = (model: Model, params: Params, step: CellStep, target: Float64Array | null): StepRecord => {
  const output = readout(model, params, step.state);
  const immediate = vzeros(model.cell.stateSize);
  if (target === null) return { step, output, loss: 0, dy: null, immediate };
  const { loss, dy } = lossAndGrad(model.loss, output, target);
  immediate.set(vecmat(dy, get(params, 'W_out')), 0);
  return { step, output, loss, dy, immediate };
};

/** Forward pass over one sequence from s_0 = 0. */
export const forward = (model: Model, params: Params, seq: Sequence, s0?: Float64Array): StepRecord[] => {
  checkModel(model);
  checkParams(params, modelShapes(model));
  return rollout(model.cell, params, seq.inputs, s0).map((st, t) => stepRecord(model, params, st, seq.targets[t] ?? null));
};

export const sequenceLoss = (records: readonly StepRecord[]): number => records.reduce((a, r) => a + r.loss, 0);

/** The readout's (immediate) gradient at one step: dy ⊗ h_t and dy. */
export const readoutGrad = (model: Model, record: StepRecord): Params => {
  const O = model.outputSize;
  if (record.dy === null) return { W_out: tensor([O, model.cell.hiddenSize]), b_out: tensor([O]) };
  return { W_out: outer(record.dy, hiddenOf(model, record.step.state)), b_out: tensor([O], record.dy) };
};

/** Check one vector: n entries, all finite (typed errors name `path`, or the entry). */
export const checkVec = (path: string, v: Float64Array, n: number): void => {
  if (v.length !== n) throw new InvalidInputError(path, `${n} entries`, `has ${v.length}`);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new InvalidInputError(`${path}[${bad}]`, 'a finite number', `is ${v[bad]}`);
};

/**
 * Check a batch against a model: at least one sequence, all of the same length T ≥ 1, inputs of size I,
 * targets null or of size O, all numbers finite. Returns T. Throws InvalidInputError naming the field.
 */
export const checkBatch = (model: Model, batch: Batch, path = 'batch'): number => {
  if (batch.length === 0) throw new InvalidInputError(path, 'at least one sequence', 'is empty');
  const T = batch[0]!.inputs.length;
  if (T < 1) throw new InvalidInputError(`${path}[0].inputs`, 'at least one step', 'is empty');
  batch.forEach((s, b) => {
    if (s.inputs.length !== T) throw new InvalidInputError(`${path}[${b}].inputs`, `${T} steps like the first sequence`, `has ${s.inputs.length}`);
    if (s.targets.length !== T) throw new InvalidInputError(`${path}[${b}].targets`, `${T} entries (one per step)`, `has ${s.targets.length}`);
    s.inputs.forEach((x, t) => checkVec(`${path}[${b}].inputs[${t}]`, x, model.cell.inputSize));
    s.targets.forEach((y, t) => {
      if (y !== null) checkVec(`${path}[${b}].targets[${t}]`, y, model.outputSize);
    });
  });
  return T;
};
