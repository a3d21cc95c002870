/**
 * Batches as dense tensors, the way a PyTorch user holds them: inputs [B, T, I] and targets [B, T, O] (or class
 * labels [B, T], one-hot targets of size O), row-major in any numeric array (Float64Array, Float32Array, plain
 * arrays, integer arrays for labels), with an optional mask [B, T] or [T] of the steps that have a target (the
 * others get a null target, model.ts's mask). `batchFromTensors` makes the core's `Batch` (per-step lists, copied
 * to float64), `batchToTensors` is its inverse, and `outputsToTensor` packs `predict`'s outputs as [B, T, O].
 */
import { InvalidInputError } from './errors.js';
import { type Batch, type Model, type Sequence, checkBatch } from './model.js';
import { type Tensor, size } from './tensor.js';

/** A row-major view of a tensor: `data` has prod(shape) entries. */
export interface TensorView<A = ArrayLike<number>> {
  readonly data: A;
  readonly shape: readonly number[];
}

export interface BatchTensors {
  /** [B, T, I]. */
  readonly inputs: TensorView;
  /** [B, T, O] target vectors (for 'xent' one-hot or probability vectors). At most one of targets and labels. */
  readonly targets?: TensorView;
  /** [B, T] class indices in [0, O): one-hot targets of size O (the usual form for 'xent'). */
  readonly labels?: TensorView;
  /** [B, T], or [T] for every sequence: 1 or true where a step has a target, 0 or false where not (default: every step). */
  readonly mask?: TensorView<ArrayLike<number | boolean>>;
}

/** A batch as tensors; a step without a target has zeros in `targets` and 0 in `mask`. */
export interface BatchAsTensors {
  readonly inputs: Tensor; // [B, T, I]
  readonly targets: Tensor; // [B, T, O]
  readonly mask: { readonly shape: readonly [number, number]; readonly data: Uint8Array }; // [B, T]
}

const shapeText = (shape: readonly unknown[]): string => shape.map(String).join('x');

/** Check a view's shape (integers ≥ 1, `want` where given: null entries are free) and its data length; returns the shape. */
const checkView = (name: string, view: TensorView<ArrayLike<unknown>> | undefined, want: readonly (number | null)[], words: string): number[] => {
  if (view === null || typeof view !== 'object' || !Array.isArray(view.shape))
    throw new InvalidInputError(name, `{ data, shape } with shape ${words}`, view === undefined ? 'is missing' : 'has no shape list');
  const { shape } = view;
  const ok = shape.length === want.length && shape.every((n, i) => Number.isInteger(n) && n >= 1 && (want[i] === null || n === want[i]));
  if (!ok) throw new InvalidInputError(name, `shape ${words}`, `has shape ${shapeText(shape) || '[]'}`);
  const n = size(shape);
  const data = view.data as ArrayLike<unknown> | undefined;
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number')
    throw new InvalidInputError(`${name}.data`, `an array of ${n} numbers (${shapeText(shape)})`, 'is missing');
  if (data.length !== n) throw new InvalidInputError(`${name}.data`, `${n} entries (${shapeText(shape)})`, `has ${data.length}`);
  return [...shape];
};

/** The step mask as one flag per (b, t), from [B, T] or [T] (broadcast), or all true. */
const maskOf = (mask: BatchTensors['mask'], B: number, T: number): ((b: number, t: number) => boolean) => {
  if (mask === undefined) return () => true;
  const perBatch = Array.isArray(mask?.shape) && mask.shape.length === 2;
  checkView('mask', mask, perBatch ? [B, T] : [T], `${B}x${T} (B x T) or ${T} (T)`);
  const flags = Array.from(mask.data, (v, k) => {
    if (v === true || v === 1) return true;
    if (v === false || v === 0) return false;
    throw new InvalidInputError(`mask.data[${k}]`, '0, 1, true or false', `is ${String(v)}`);
  });
  return perBatch ? (b, t) => flags[b * T + t]! : (_b, t) => flags[t]!;
};

/**
 * A `Batch` from dense tensors (copied to float64; the arguments are not changed). Inputs must be finite; target
 * values and labels are read, and checked, only at steps the mask keeps. Typed errors name the tensor and say the
 * shape expected, e.g. `inputs has shape 2x5x3, expected shape B x T x 4 (I = 4)`.
 */
export const batchFromTensors = (model: Model, tensors: BatchTensors): Batch => {
  const I = model.cell.inputSize;
  const O = model.outputSize;
  if (tensors === null || typeof tensors !== 'object') throw new InvalidInputError('', '{ inputs, targets?, labels?, mask? }', `is ${String(tensors)}`);
  const [B, T] = checkView('inputs', tensors.inputs, [null, null, I], `B x T x ${I} (I = ${I})`) as [number, number, number];
  const { targets, labels } = tensors;
  if (targets !== undefined && labels !== undefined) throw new InvalidInputError('labels', 'absent when targets are given (one of targets and labels)', 'is given too');
  if (targets === undefined && labels === undefined && tensors.mask !== undefined)
    throw new InvalidInputError('mask', 'absent without targets or labels (it marks the steps that have one)', 'is given');
  if (targets !== undefined) checkView('targets', targets, [B, T, O], `${B}x${T}x${O} (B x T x O, O = ${O})`);
  if (labels !== undefined) checkView('labels', labels, [B, T], `${B}x${T} (B x T)`);
  const keep = maskOf(tensors.mask, B, T);
  const x = tensors.inputs.data;
  const at = (name: string, b: number, t: number, k: number) => `${name}[${b}][${t}]${k < 0 ? '' : `[${k}]`}`;
  const targetAt = (b: number, t: number): Float64Array | null => {
    if (!keep(b, t)) return null;
    if (targets !== undefined) {
      const y = Float64Array.from({ length: O }, (_, k) => targets.data[(b * T + t) * O + k]!);
      const bad = y.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InvalidInputError(at('targets', b, t, bad), 'a finite number (or a masked step)', `is ${y[bad]}`);
      return y;
    }
    if (labels === undefined) return null;
    const c = labels.data[b * T + t]!;
    if (!Number.isInteger(c) || c < 0 || c >= O) throw new InvalidInputError(at('labels', b, t, -1), `a class index in [0, ${O}) (or a masked step)`, `is ${c}`);
    const y = new Float64Array(O);
    y[c] = 1;
    return y;
  };
  return Array.from({ length: B }, (_, b): Sequence => ({
    inputs: Array.from({ length: T }, (_, t) => {
      const v = Float64Array.from({ length: I }, (_, k) => x[(b * T + t) * I + k]!);
      const bad = v.findIndex((e) => !Number.isFinite(e));
      if (bad >= 0) throw new InvalidInputError(at('inputs', b, t, bad), 'a finite number', `is ${v[bad]}`);
      return v;
    }),
    targets: Array.from({ length: T }, (_, t) => targetAt(b, t)),
  }));
};

/** The inverse of `batchFromTensors`: a checked batch as [B, T, I] inputs, [B, T, O] targets and a [B, T] mask. */
export const batchToTensors = (model: Model, batch: Batch): BatchAsTensors => {
  const T = checkBatch(model, batch);
  const B = batch.length;
  const I = model.cell.inputSize;
  const O = model.outputSize;
  const inputs = new Float64Array(B * T * I);
  const targets = new Float64Array(B * T * O);
  const mask = new Uint8Array(B * T);
  batch.forEach((seq, b) =>
    seq.inputs.forEach((x, t) => {
      inputs.set(x, (b * T + t) * I);
      const y = seq.targets[t]!;
      if (y === null) return;
      targets.set(y, (b * T + t) * O);
      mask[b * T + t] = 1;
    }),
  );
  return { inputs: { shape: [B, T, I], data: inputs }, targets: { shape: [B, T, O], data: targets }, mask: { shape: [B, T], data: mask } };
};

/** `predict`'s batch outputs (outputs[b][t], all sequences of one length T ≥ 1) as one [B, T, O] tensor. */
export const outputsToTensor = (outputs: readonly (readonly Float64Array[])[]): Tensor => {
  if (!Array.isArray(outputs) || outputs.length === 0) throw new InvalidInputError('outputs', 'at least one sequence of outputs', 'is empty');
  const B = outputs.length;
  const T = outputs[0]!.length;
  const O = outputs[0]![0]?.length ?? 0;
  if (T < 1 || O < 1) throw new InvalidInputError('outputs[0]', 'at least one step of at least one output', 'is empty');
  const data = new Float64Array(B * T * O);
  outputs.forEach((seq: readonly Float64Array[], b) => {
    if (seq.length !== T) throw new InvalidInputError(`outputs[${b}]`, `${T} steps like the first sequence`, `has ${seq.length}`);
    seq.forEach((y: Float64Array, t) => {
      if (!(y instanceof Float64Array) || y.length !== O) throw new InvalidInputError(`outputs[${b}][${t}]`, `a Float64Array of ${O} entries`, `has ${y?.length}`);
      data.set(y, (b * T + t) * O);
    });
  });
  return { shape: [B, T, O], data };
};
