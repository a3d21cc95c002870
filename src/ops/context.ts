/**
 * What the composite ops work with: a backend and a source of scratch arrays. The ops (src/ops) build every model
 * computation from the backend's generic kernels, or call the backend's fused kernel of the same name when it
 * registers one.
 */
import type { Backend, DeviceArray } from '../backends/backend.js';
import type { OuterSums } from './outerSums.js';

export interface OpContext<A extends DeviceArray = DeviceArray> {
  readonly be: Backend<A>;
  /**
   * Where per-example outer products go while a method sums them over a sequence (`Buffers.sumOuterProducts`):
   * stacked and added as one product at the end. Null: each is added at once.
   */
  readonly outer?: OuterSums<A> | null;
  /** The scratch array `key` with this shape: allocated on first use, then reused (its contents are stale). */
  tmp(key: string, shape: readonly number[]): A;
  /** A constant array (an identity matrix, a column of ones), made once from host data and cached. */
  constant(key: string, shape: readonly number[], make: () => Float64Array): A;
}

/** Columns [from, from + width) of x [B, n] into the scratch array `key` [B, width]. */
export const columns = <A extends DeviceArray>(ctx: OpContext<A>, key: string, x: A, from: number, width: number): A => {
  const B = x.shape[0]!;
  const out = ctx.tmp(key, [B, width]);
  ctx.be.copyBlock(out, x, { outBegin: [0, 0], xBegin: [0, from], size: [B, width] });
  return out;
};

/** h_t [B, H]: the state itself (S = H) or its first H columns (the scratch `key`). */
export const hidden = <A extends DeviceArray>(ctx: OpContext<A>, key: string, state: A, H: number): A =>
  state.shape[1] === H ? state : columns(ctx, key, state, 0, H);

/** x [B, width] into columns [from, from + width) of out [B, n]. */
export const putColumns = <A extends DeviceArray>(ctx: OpContext<A>, out: A, x: A, from: number): void => {
  const [B, width] = x.shape as [number, number];
  ctx.be.copyBlock(out, x, { outBegin: [0, from], xBegin: [0, 0], size: [B, width] });
};

/** Rows [from, from + rows) of a matrix W [r, c] into the scratch array `key` [rows, c]. */
export const rows = <A extends DeviceArray>(ctx: OpContext<A>, key: string, W: A, from: number, count: number): A => {
  const c = W.shape[1]!;
  const out = ctx.tmp(key, [count, c]);
  ctx.be.copyBlock(out, W, { outBegin: [0, 0], xBegin: [from, 0], size: [count, c] });
  return out;
};

/** How a gradient op adds into its accumulator: per example ('each', acc [B, …]) or as the batch mean ('mean', acc […]). */
export type Reduce = 'each' | 'mean';

/**
 * acc ← acc + (Σ_b x_b)·(1/B), with sum [B, …] reduced in the scratch `key`: the core's meanParams (a sum from +0
 * in ascending b, then × 1/B) added to its accumulator.
 */
export const addBatchMean = <A extends DeviceArray>(ctx: OpContext<A>, key: string, acc: A, x: A): void => {
  const B = x.shape[0]!;
  const s = ctx.tmp(key, x.shape.slice(1));
  ctx.be.reduce(s, x, 'sum', 0);
  ctx.be.binary(s, s, 1 / Math.max(1, B), 'mul');
  ctx.be.binary(acc, acc, s, 'add');
};

/** acc ← acc + s·(1/B) for a batch sum s already formed (B the batch size). */
export const addScaled = <A extends DeviceArray>(ctx: OpContext<A>, acc: A, s: A, B: number): void => {
  ctx.be.binary(s, s, 1 / Math.max(1, B), 'mul');
  ctx.be.binary(acc, acc, s, 'add');
};

/** The identity matrix n×n (a cached constant). */
export const eye = <A extends DeviceArray>(ctx: OpContext<A>, n: number): A =>
  ctx.constant(`eye${n}`, [n, n], () => {
    const d = new Float64Array(n * n);
    for (let i = 0; i < n; i++) d[i * n + i] = 1;
    return d;
  });

/** A [B, 1] column of ones (a cached constant). */
export const ones = <A extends DeviceArray>(ctx: OpContext<A>, B: number): A => ctx.constant(`ones${B}`, [B, 1], () => new Float64Array(B).fill(1));

/**
 * The outer products u_b v_bᵀ (u [B, m], v [B, n]) added into acc: per example (acc [B, m, n]) or as the batch mean
 * (acc [m, n], through the scratch `key`).
 */
export const addOuter = <A extends DeviceArray>(ctx: OpContext<A>, key: string, acc: A, u: A, v: A, reduce: Reduce): void => {
  const be = ctx.be;
  const [B, m] = u.shape as [number, number];
  const n = v.shape[1]!;
  if (reduce === 'each') {
    if (ctx.outer) return ctx.outer.add(acc, u, v);
    be.matmul(acc, be.reshape(u, [B, m, 1]), be.reshape(v, [B, 1, n]), { accumulate: true });
    return;
  }
  const s = ctx.tmp(key, [m, n]);
  be.matmul(s, u, v, { transposeA: true });
  addScaled(ctx, acc, s, B);
};

/** The rows u_b (u [B, m]) added into acc: per example (acc [B, m]) or as the batch mean (acc [m]). */
export const addRows = <A extends DeviceArray>(ctx: OpContext<A>, key: string, acc: A, u: A, reduce: Reduce): void => {
  if (reduce === 'each') ctx.be.binary(acc, acc, u, 'add');
  else addBatchMean(ctx, key, acc, u);
};
