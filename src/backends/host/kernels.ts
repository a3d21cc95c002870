/**
 * The generic kernels as plain loops over host typed arrays, in the reference order: every sum from +0 in
 * ascending index order, every map one rounding, the activations exactly the core's functions. The reference
 * backend is these loops on float64 storage; other host backends use them where they have nothing faster.
 *
 * Shapes are checked here (typed errors naming the kernel); storage ownership is the store's business.
 */
import { activationFns } from '../../core/rnn.js';
import type { BinaryOp, Block, MatmulOptions, ReduceOp, UnaryOp } from '../backend.js';
import { BackendArrayError } from '../errors.js';
import type { Storage } from './store.js';

/** A host array as the kernels see it. */
export interface View {
  readonly shape: readonly number[];
  readonly data: Storage;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const show = (s: readonly number[]) => `[${s.join(', ')}]`;

/** The scalar function of a unary op (the activations are the core's own). */
export const unaryFn = (op: UnaryOp): ((x: number) => number) => {
  switch (op) {
    case 'neg':
      return (x) => -x;
    case 'abs':
      return Math.abs;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'log1p':
      return Math.log1p;
    case 'sqrt':
      return Math.sqrt;
    case 'square':
      return (x) => x * x;
    case 'identity':
    case 'tanh':
    case 'sigmoid':
    case 'relu':
      return activationFns[op].f;
    case 'identityGrad':
      return activationFns.identity.df;
    case 'tanhGrad':
      return activationFns.tanh.df;
    case 'sigmoidGrad':
      return activationFns.sigmoid.df;
    case 'reluGrad':
      return activationFns.relu.df;
  }
  throw new BackendArrayError('unary', `unknown op ${String(op satisfies never)}`);
};

export const binaryFn = (op: BinaryOp): ((a: number, b: number) => number) => {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'max':
      return Math.max;
    case 'min':
      return Math.min;
  }
  throw new BackendArrayError('binary', `unknown op ${String(op satisfies never)}`);
};

export const unary = (out: View, x: View, op: UnaryOp): void => {
  if (x.data.length !== out.data.length) throw new BackendArrayError('unary', `x ${show(x.shape)} and out ${show(out.shape)} differ in size`);
  const f = unaryFn(op);
  const o = out.data;
  const xs = x.data;
  for (let i = 0; i < o.length; i++) o[i] = f(xs[i]!);
};

/** Strides of `shape` broadcast to `target` (numpy rules: right-aligned, size-1 or missing axes repeat). */
export const broadcastStrides = (kernel: string, shape: readonly number[], target: readonly number[]): number[] => {
  if (shape.length > target.length) throw new BackendArrayError(kernel, `${show(shape)} does not broadcast to ${show(target)}`);
  const strides = new Array<number>(target.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    const t = target[target.length - shape.length + i]!;
    if (d !== t && d !== 1) throw new BackendArrayError(kernel, `${show(shape)} does not broadcast to ${show(target)}`);
    strides[target.length - shape.length + i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  return strides;
};

/** Visit every index of `shape` in row-major order with the offsets of several strided operands. */
const forEachOffset = (shape: readonly number[], strides: readonly (readonly number[])[], visit: (flat: number, offsets: readonly number[]) => void): void => {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const offs = strides.map(() => 0);
  for (let flat = 0; flat < n; flat++) {
    visit(flat, offs);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < strides.length; k++) offs[k]! += strides[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < strides.length; k++) offs[k]! -= strides[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
};

export const binary = (out: View, a: View | number, b: View | number, op: BinaryOp): void => {
  const f = binaryFn(op);
  const o = out.data;
  if (typeof a !== 'number' && typeof b !== 'number' && same(a.shape, out.shape) && same(b.shape, out.shape)) {
    const x = a.data;
    const y = b.data;
    // The frequent ops written out (a call through `f` per element costs more than the arithmetic).
    if (op === 'add') for (let i = 0; i < o.length; i++) o[i] = x[i]! + y[i]!;
    else if (op === 'sub') for (let i = 0; i < o.length; i++) o[i] = x[i]! - y[i]!;
    else if (op === 'mul') for (let i = 0; i < o.length; i++) o[i] = x[i]! * y[i]!;
    else for (let i = 0; i < o.length; i++) o[i] = f(x[i]!, y[i]!);
    return;
  }
  if (typeof a !== 'number' && typeof b === 'number' && a.data.length === o.length && same(a.shape, out.shape)) {
    const x = a.data;
    if (op === 'mul') for (let i = 0; i < o.length; i++) o[i] = x[i]! * b;
    else if (op === 'add') for (let i = 0; i < o.length; i++) o[i] = x[i]! + b;
    else for (let i = 0; i < o.length; i++) o[i] = f(x[i]!, b);
    return;
  }
  if (typeof a === 'number' && typeof b !== 'number' && same(b.shape, out.shape)) {
    const y = b.data;
    for (let i = 0; i < o.length; i++) o[i] = f(a, y[i]!);
    return;
  }
  const sa = typeof a === 'number' ? null : broadcastStrides('binary', a.shape, out.shape);
  const sb = typeof b === 'number' ? null : broadcastStrides('binary', b.shape, out.shape);
  // Up to rank 4 without a per-element callback (the same operations in the same order as the general loop).
  if (out.shape.length <= 4) {
    const pad = 4 - out.shape.length;
    const dims = [...new Array<number>(pad).fill(1), ...out.shape];
    const stA = sa === null ? [0, 0, 0, 0] : [...new Array<number>(pad).fill(0), ...sa];
    const stB = sb === null ? [0, 0, 0, 0] : [...new Array<number>(pad).fill(0), ...sb];
    const xa = typeof a === 'number' ? null : a.data;
    const xb = typeof b === 'number' ? null : b.data;
    const ca = typeof a === 'number' ? a : 0;
    const cb = typeof b === 'number' ? b : 0;
    const [d0, d1, d2, d3] = dims as [number, number, number, number];
    const [a0, a1, a2, a3] = stA as [number, number, number, number];
    const [b0, b1, b2, b3] = stB as [number, number, number, number];
    let flat = 0;
    for (let i0 = 0; i0 < d0; i0++)
      for (let i1 = 0; i1 < d1; i1++)
        for (let i2 = 0; i2 < d2; i2++) {
          binaryRow(op, f, o, flat, d3, xa, ca, i0 * a0 + i1 * a1 + i2 * a2, a3, xb, cb, i0 * b0 + i1 * b1 + i2 * b2, b3);
          flat += d3;
        }
    return;
  }
  const zero = out.shape.map(() => 0);
  forEachOffset(out.shape, [sa ?? zero, sb ?? zero], (flat, [oa, ob]) => {
    const x = typeof a === 'number' ? a : a.data[oa!]!;
    const y = typeof b === 'number' ? b : b.data[ob!]!;
    o[flat] = f(x, y);
  });
};

/** Anything with a shape. */
type Shaped = { readonly shape: readonly number[] };

/**
 * One row of a broadcast binary map: o[at + i] = x_i op y_i, x_i = xa[oa + i·sa] (or the number ca), likewise y.
 * The frequent cases run without a call per element (the same operations as `f`).
 */
const binaryRow = (
  op: BinaryOp,
  f: (a: number, b: number) => number,
  o: Storage,
  at: number,
  n: number,
  xa: Storage | null,
  ca: number,
  oa: number,
  sa: number,
  xb: Storage | null,
  cb: number,
  ob: number,
  sb: number,
): void => {
  const aConst = xa === null || sa === 0;
  const bConst = xb === null || sb === 0;
  const x0 = xa === null ? ca : xa[oa]!;
  const y0 = xb === null ? cb : xb[ob]!;
  if (op === 'mul' || op === 'add' || op === 'sub') {
    if (!aConst && bConst) {
      if (op === 'mul') for (let i = 0; i < n; i++, oa += sa) o[at + i] = xa![oa]! * y0;
      else if (op === 'add') for (let i = 0; i < n; i++, oa += sa) o[at + i] = xa![oa]! + y0;
      else for (let i = 0; i < n; i++, oa += sa) o[at + i] = xa![oa]! - y0;
      return;
    }
    if (aConst && !bConst) {
      if (op === 'mul') for (let i = 0; i < n; i++, ob += sb) o[at + i] = x0 * xb![ob]!;
      else if (op === 'add') for (let i = 0; i < n; i++, ob += sb) o[at + i] = x0 + xb![ob]!;
      else for (let i = 0; i < n; i++, ob += sb) o[at + i] = x0 - xb![ob]!;
      return;
    }
    if (!aConst && !bConst) {
      if (op === 'mul') for (let i = 0; i < n; i++, oa += sa, ob += sb) o[at + i] = xa![oa]! * xb![ob]!;
      else if (op === 'add') for (let i = 0; i < n; i++, oa += sa, ob += sb) o[at + i] = xa![oa]! + xb![ob]!;
      else for (let i = 0; i < n; i++, oa += sa, ob += sb) o[at + i] = xa![oa]! - xb![ob]!;
      return;
    }
  }
  for (let i = 0; i < n; i++, oa += sa, ob += sb) o[at + i] = f(xa === null ? ca : xa[oa]!, xb === null ? cb : xb[ob]!);
};

/** The geometry of a batched product: batch strides of a, b (broadcast to out's batch axes), and m, k, n. */
export interface MatmulGeometry {
  readonly batch: readonly number[];
  readonly strideA: readonly number[];
  readonly strideB: readonly number[];
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

export const matmulGeometry = (out: Shaped, a: Shaped, b: Shaped, o: MatmulOptions = {}): MatmulGeometry => {
  if (a.shape.length < 2 || b.shape.length < 2 || out.shape.length < 2)
    throw new BackendArrayError('matmul', `operands need rank ≥ 2: a ${show(a.shape)}, b ${show(b.shape)}, out ${show(out.shape)}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = o.transposeA ? [ac, ar] : [ar, ac];
  const [kb, n] = o.transposeB ? [bc, br] : [br, bc];
  const batch = out.shape.slice(0, -2);
  if (kb !== k || out.shape[out.shape.length - 2] !== m || out.shape[out.shape.length - 1] !== n)
    throw new BackendArrayError('matmul', `a ${show(a.shape)}${o.transposeA ? 'ᵀ' : ''} · b ${show(b.shape)}${o.transposeB ? 'ᵀ' : ''} does not give out ${show(out.shape)}`);
  const mat = (s: readonly number[]) => broadcastStrides('matmul', s.slice(0, -2), batch).map((x) => x * s[s.length - 2]! * s[s.length - 1]!);
  return { batch, strideA: mat(a.shape), strideB: mat(b.shape), m, k, n };
};

export const matmul = (out: View, a: View, b: View, o: MatmulOptions = {}): void => {
  const g = matmulGeometry(out, a, b, o);
  const { m, k, n } = g;
  const [ai, ap] = o.transposeA ? [1, m] : [k, 1]; // strides of a along i (rows of the product) and p (the sum)
  const [bp, bj] = o.transposeB ? [1, k] : [n, 1];
  const od = out.data;
  const ad = a.data;
  const bd = b.data;
  const acc = o.accumulate === true;
  forEachOffset(g.batch, [g.strideA, g.strideB], (q, [oa, ob]) => {
    const base = q * m * n;
    for (let i = 0; i < m; i++) {
      const a0 = oa! + i * ai;
      for (let j = 0; j < n; j++) {
        let s = 0;
        let pa = a0;
        let pb = ob! + j * bj;
        for (let p = 0; p < k; p++, pa += ap, pb += bp) s += ad[pa]! * bd[pb]!;
        const at = base + i * n + j;
        od[at] = acc ? od[at]! + s : s;
      }
    }
  });
};

export const reduce = (out: View, x: View, op: ReduceOp, axis: number): void => {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) throw new BackendArrayError('reduce', `axis ${axis} is not an axis of ${show(x.shape)}`);
  const expect = x.shape.filter((_, i) => i !== axis);
  if (out.data.length !== expect.reduce((a, b) => a * b, 1)) throw new BackendArrayError('reduce', `out ${show(out.shape)} is not ${show(expect)}`);
  const pre = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const len = x.shape[axis]!;
  const post = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const xs = x.data;
  const o = out.data;
  for (let p = 0; p < pre; p++)
    for (let q = 0; q < post; q++) {
      let s = op === 'sum' ? 0 : -Infinity;
      for (let i = 0; i < len; i++) {
        const v = xs[(p * len + i) * post + q]!;
        s = op === 'sum' ? s + v : Math.max(s, v);
      }
      o[p * post + q] = s;
    }
};

/** A typed error unless the block has the rank of out and x and lies inside both. */
export const checkBlock = (outShape: readonly number[], xShape: readonly number[], block: Block): void => {
  const r = outShape.length;
  const { outBegin, xBegin, size } = block;
  if (xShape.length !== r || outBegin.length !== r || xBegin.length !== r || size.length !== r)
    throw new BackendArrayError('copyBlock', `out ${show(outShape)}, x ${show(xShape)} and the block need one rank`);
  for (let d = 0; d < r; d++)
    if (size[d]! < 0 || outBegin[d]! < 0 || xBegin[d]! < 0 || outBegin[d]! + size[d]! > outShape[d]! || xBegin[d]! + size[d]! > xShape[d]!)
      throw new BackendArrayError('copyBlock', `block ${show(size)} at ${show(outBegin)} / ${show(xBegin)} exceeds out ${show(outShape)} or x ${show(xShape)}`);
};

export const copyBlock = (out: View, x: View, block: Block): void => {
  checkBlock(out.shape, x.shape, block);
  const r = out.shape.length;
  const { outBegin, xBegin, size } = block;
  const strides = (s: readonly number[]) => s.map((_, d) => s.slice(d + 1).reduce((a, b) => a * b, 1));
  const so = strides(out.shape);
  const sx = strides(x.shape);
  const od = out.data;
  const xd = x.data;
  if (r === 0) {
    od[0] = xd[0]!;
    return;
  }
  // Whole runs of the last axis at a time.
  const run = size[r - 1]!;
  const rowsShape = size.slice(0, -1);
  const rows = rowsShape.reduce((a, b) => a * b, 1);
  if (run === 0 || rows === 0) return;
  const idx = new Array<number>(Math.max(0, r - 1)).fill(0);
  for (let q = 0; q < rows; q++) {
    let oo = outBegin[r - 1]!;
    let xo = xBegin[r - 1]!;
    for (let d = 0; d < r - 1; d++) {
      oo += (outBegin[d]! + idx[d]!) * so[d]!;
      xo += (xBegin[d]! + idx[d]!) * sx[d]!;
    }
    od.set(xd.subarray(xo, xo + run), oo);
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < rowsShape[d]!) break;
      idx[d] = 0;
    }
  }
};

/** Rescale each consecutive segment of `v` to L2 norm ≤ maxNorm, in place (Infinity: nothing to do). */
export const clipSegments = (v: Storage, segments: readonly number[], maxNorm: number): void => {
  const total = segments.reduce((x, y) => x + y, 0);
  if (total !== v.length) throw new BackendArrayError('clipSegments', `segments sum to ${total}, array has ${v.length}`);
  if (maxNorm === Infinity) return;
  let off = 0;
  for (const len of segments) {
    let s = 0;
    for (let i = off; i < off + len; i++) s += v[i]! * v[i]!;
    const n = Math.sqrt(s);
    if (n > maxNorm) {
      const c = maxNorm / n;
      for (let i = off; i < off + len; i++) v[i] = v[i]! * c;
    }
    off += len;
  }
};
