/**
 * The CPU backend's generic kernels: the reference loops of `host/kernels.ts` with fast paths for the shapes the
 * trainer uses (same-shape and row/column-broadcast maps, batched products in i-k-j order with contiguous inner
 * loops, reductions over rows, contiguous block copies). Sums may run in another order than the reference's;
 * the conformance suite bounds the difference.
 */
import type { BinaryOp, MatmulOptions, ReduceOp, UnaryOp } from '../backend.js';
import * as ref from '../host/kernels.js';
import { GEMM_MIN_MACS, gemmBatch } from './gemm.js';
import type { Workspace } from './workspace.js';

type View = ref.View;

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

export const unary = (out: View, x: View, op: UnaryOp): void => {
  if (x.data.length !== out.data.length) return ref.unary(out, x, op);
  const o = out.data;
  const xs = x.data;
  const n = o.length;
  switch (op) {
    case 'tanh':
      for (let i = 0; i < n; i++) o[i] = Math.tanh(xs[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) o[i] = sigmoid(xs[i]!);
      return;
    case 'tanhGrad':
      for (let i = 0; i < n; i++) {
        const t = Math.tanh(xs[i]!);
        o[i] = 1 - t * t;
      }
      return;
    case 'identity':
      o.set(xs);
      return;
    case 'identityGrad':
      o.fill(1);
      return;
    default:
      return ref.unary(out, x, op);
  }
};

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The fast binary paths; everything else goes to the reference loop. */
export const binary = (out: View, a: View | number, b: View | number, op: BinaryOp): void => {
  const o = out.data;
  const n = o.length;
  if (typeof a !== 'number' && typeof b !== 'number' && same(a.shape, out.shape) && same(b.shape, out.shape)) {
    const x = a.data;
    const y = b.data;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) o[i] = x[i]! + y[i]!;
        return;
      case 'sub':
        for (let i = 0; i < n; i++) o[i] = x[i]! - y[i]!;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) o[i] = x[i]! * y[i]!;
        return;
      default:
        return ref.binary(out, a, b, op);
    }
  }
  if (typeof a !== 'number' && typeof b === 'number' && same(a.shape, out.shape)) {
    const x = a.data;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) o[i] = x[i]! + b;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) o[i] = x[i]! * b;
        return;
      default:
        return ref.binary(out, a, b, op);
    }
  }
  // Rows times a trailing vector ([…, n] op [n]) and columns times a per-row scalar ([R, n] op [R, 1]).
  if (typeof a !== 'number' && typeof b !== 'number' && same(a.shape, out.shape) && (op === 'add' || op === 'mul')) {
    const last = out.shape[out.shape.length - 1]!;
    const x = a.data;
    const y = b.data;
    if (y.length === last && b.shape[b.shape.length - 1] === last && b.shape.slice(0, -1).every((d) => d === 1)) {
      for (let r = 0; r < n; r += last)
        if (op === 'add') for (let j = 0; j < last; j++) o[r + j] = x[r + j]! + y[j]!;
        else for (let j = 0; j < last; j++) o[r + j] = x[r + j]! * y[j]!;
      return;
    }
    if (b.shape[b.shape.length - 1] === 1 && y.length * last === n && same(b.shape.slice(0, -1), out.shape.slice(0, -1))) {
      for (let r = 0; r < y.length; r++) {
        const v = y[r]!;
        const o0 = r * last;
        if (op === 'add') for (let j = 0; j < last; j++) o[o0 + j] = x[o0 + j]! + v;
        else for (let j = 0; j < last; j++) o[o0 + j] = x[o0 + j]! * v;
      }
      return;
    }
  }
  ref.binary(out, a, b, op);
};

/**
 * Batched product: through the SIMD kernel (`gemm.ts`, the reference's order) where it pays (at least 4 rows and 4 terms,
 * a SIMD block of columns, GEMM_MIN_MACS), else loops over contiguous memory (k-j order, or dot products for bᵀ).
 */
export const matmul = (out: View, a: View, b: View, o: MatmulOptions, ws: Workspace | null): void => {
  const g = ref.matmulGeometry(out, a, b, o);
  const { m, k, n } = g;
  if (ws !== null && m >= 4 && k >= 4 && n >= ws.width && m * n * k >= GEMM_MIN_MACS) {
    const offsets = batchOffsets(g.batch, g.strideA, g.strideB);
    const ta = o.transposeA === true;
    const tb = o.transposeB === true;
    const A = (q: number) => ({ data: a.data, off: offsets[2 * q]!, rs: ta ? 1 : k, cs: ta ? m : 1 });
    const B = (q: number) => ({ data: b.data, off: offsets[2 * q + 1]!, rs: tb ? 1 : n, cs: tb ? k : 1 });
    gemmBatch(ws, offsets.length / 2, m, n, k, A, B, out.data, (q) => q * m * n, n, o.accumulate === true);
    return;
  }
  if (o.transposeA && o.transposeB) return ref.matmul(out, a, b, o);
  const od = out.data;
  const ad = a.data;
  const bd = b.data;
  const acc = o.accumulate === true;
  const batches = g.batch.reduce((x, y) => x * y, 1);
  const offsets = batchOffsets(g.batch, g.strideA, g.strideB);
  for (let q = 0; q < batches; q++) {
    const oa = offsets[2 * q]!;
    const ob = offsets[2 * q + 1]!;
    const base = q * m * n;
    if (o.transposeB) dotRows(od, base, ad, oa, bd, ob, m, k, n, acc);
    else if (k === 1) outerRows(od, base, ad, oa, bd, ob, m, n, acc);
    else axpyRows(od, base, ad, oa, o.transposeA ? 1 : k, o.transposeA ? m : 1, bd, ob, m, k, n, acc);
  }
};

type S = Float64Array | Float32Array;

/** out[i, j] = (out +) Σ_p a[i, p] b[j, p]: dot products of contiguous rows. */
const dotRows = (od: S, base: number, ad: S, oa: number, bd: S, ob: number, m: number, k: number, n: number, acc: boolean): void => {
  for (let i = 0; i < m; i++) {
    const ar = oa + i * k;
    for (let j = 0; j < n; j++) {
      const br = ob + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += ad[ar + p]! * bd[br + p]!;
      const at = base + i * n + j;
      od[at] = acc ? od[at]! + s : s;
    }
  }
};

/** out[i, j] = (out +) a[i] b[j]: an outer product (k = 1). */
const outerRows = (od: S, base: number, ad: S, oa: number, bd: S, ob: number, m: number, n: number, acc: boolean): void => {
  for (let i = 0; i < m; i++) {
    // With k = 1, a's column (or row, transposed) is contiguous either way.
    const v = ad[oa + i]!;
    const orow = base + i * n;
    if (!acc) for (let j = 0; j < n; j++) od[orow + j] = v * bd[ob + j]!;
    else if (v !== 0) for (let j = 0; j < n; j++) od[orow + j] += v * bd[ob + j]!;
  }
};

/**
 * Rows of out accumulate rows of b (i-k-j order), added onto out directly: the sum runs in another order than the
 * reference's out + Σ, within the same rounding bound.
 */
const axpyRows = (od: S, base: number, ad: S, oa: number, ai: number, ap: number, bd: S, ob: number, m: number, k: number, n: number, acc: boolean): void => {
  if (!acc) od.fill(0, base, base + m * n);
  for (let i = 0; i < m; i++) {
    const orow = base + i * n;
    for (let p = 0; p < k; p++) {
      const v = ad[oa + i * ai + p * ap]!;
      if (v === 0) continue;
      const br = ob + p * n;
      for (let j = 0; j < n; j++) od[orow + j] += v * bd[br + j]!;
    }
  }
};

/** Offsets of a and b for each batch index of a product (their broadcast strides over the batch axes). */
const batchOffsets = (batch: readonly number[], sa: readonly number[], sb: readonly number[]): Int32Array => {
  const n = batch.reduce((x, y) => x * y, 1);
  const out = new Int32Array(2 * n);
  const idx = new Array<number>(batch.length).fill(0);
  for (let q = 0; q < n; q++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < batch.length; d++) {
      oa += idx[d]! * sa[d]!;
      ob += idx[d]! * sb[d]!;
    }
    out[2 * q] = oa;
    out[2 * q + 1] = ob;
    for (let d = batch.length - 1; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
};

/** Sums over an axis add whole rows (the inner `post` block is contiguous); max goes to the reference loop. */
export const reduce = (out: View, x: View, op: ReduceOp, axis: number): void => {
  if (op !== 'sum' || axis < 0 || axis >= x.shape.length) return ref.reduce(out, x, op, axis);
  const pre = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const len = x.shape[axis]!;
  const post = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (out.data.length !== pre * post) return ref.reduce(out, x, op, axis);
  const o = out.data;
  const xs = x.data;
  if (post === 1) {
    for (let p = 0; p < pre; p++) {
      let s = 0;
      for (let i = 0; i < len; i++) s += xs[p * len + i]!;
      o[p] = s;
    }
    return;
  }
  for (let p = 0; p < pre; p++) {
    const o0 = p * post;
    o.fill(0, o0, o0 + post);
    for (let i = 0; i < len; i++) {
      const x0 = (p * len + i) * post;
      for (let q = 0; q < post; q++) o[o0 + q] += xs[x0 + q]!;
    }
  }
};
