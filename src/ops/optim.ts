/**
 * The core's optimisers and gradient rules (src/core/optim.ts) on backend arrays, operation by operation, so that
 * parameters and optimiser states stay on the backend across steps and batches.
 */
import type { DeviceArray } from '../backends/backend.js';
import type { OpContext } from './context.js';

/** A scratch key per shape (one per size would re-allocate when two shapes share a size). */
const scratchKey = (name: string, a: DeviceArray): string => `${name}[${a.shape.join(',')}]`;

/** out (one entry) = Σ x² (from +0, in order): the core's vdot(x, x). */
export const sumOfSquares = <A extends DeviceArray>(ctx: OpContext<A>, out: A, x: A): void => {
  const be = ctx.be;
  const sq = ctx.tmp(`optim.sq${x.size}`, [x.size]); // keyed by size: its shape is [size]
  be.binary(sq, be.reshape(x, [x.size]), be.reshape(x, [x.size]), 'mul');
  be.reduce(be.reshape(out, []), sq, 'sum', 0);
};

/**
 * The global-norm clip (core `clipByGlobalNorm`): n = √(Σ_tensors Σ v²); when n > maxNorm every tensor is scaled by
 * maxNorm/n. Here the factor min(maxNorm/n, 1) multiplies every tensor: 1 (an exact no-op) unless n > maxNorm.
 * maxNorm > 0 (the trainer checks it), so n = 0 gives maxNorm/0 = ∞ and the factor 1, not 0/0.
 */
export const clipByGlobalNorm = <A extends DeviceArray>(ctx: OpContext<A>, grads: readonly A[], maxNorm: number): void => {
  const be = ctx.be;
  const total = ctx.tmp('optim.total', [1]);
  const part = ctx.tmp('optim.part', [1]);
  be.fill(total, 0);
  for (const g of grads) {
    sumOfSquares(ctx, part, g);
    be.binary(total, total, part, 'add');
  }
  be.unary(total, total, 'sqrt');
  be.binary(total, maxNorm, total, 'div');
  be.binary(total, total, 1, 'min');
  for (const g of grads) be.binary(g, g, be.reshape(total, g.shape.map(() => 1)), 'mul');
};

/** params ← params + (−lr) · grad (core `sgd` then `applyUpdates`). */
export const sgdStep = <A extends DeviceArray>(ctx: OpContext<A>, params: readonly A[], grads: readonly A[], lr: number): void => {
  params.forEach((p, i) => {
    const u = ctx.tmp(scratchKey('optim.u', p), p.shape);
    ctx.be.binary(u, grads[i]!, -lr, 'mul');
    ctx.be.binary(p, p, u, 'add');
  });
};

export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/**
 * One Adam step (core `adam`, count the step number ≥ 1): μ ← β1 μ + (1−β1) g, ν ← β2 ν + (1−β2) g², and
 * params ← params + (−lr (μ / c1)) / (√(ν / c2) + ε), c_i = 1 − β_i^count.
 */
export const adamStep = <A extends DeviceArray>(
  ctx: OpContext<A>,
  params: readonly A[],
  grads: readonly A[],
  mu: readonly A[],
  nu: readonly A[],
  h: AdamHyper,
  count: number,
): void => {
  const be = ctx.be;
  const c1 = 1 - h.beta1 ** count;
  const c2 = 1 - h.beta2 ** count;
  params.forEach((p, i) => {
    const g = grads[i]!;
    const t = ctx.tmp(scratchKey('optim.t', p), p.shape);
    const u = ctx.tmp(scratchKey('optim.u', p), p.shape);
    be.binary(mu[i]!, mu[i]!, h.beta1, 'mul');
    be.binary(t, g, 1 - h.beta1, 'mul');
    be.binary(mu[i]!, mu[i]!, t, 'add');
    be.binary(t, g, g, 'mul');
    be.binary(t, t, 1 - h.beta2, 'mul');
    be.binary(nu[i]!, nu[i]!, h.beta2, 'mul');
    be.binary(nu[i]!, nu[i]!, t, 'add');
    be.binary(t, mu[i]!, c1, 'div');
    be.binary(t, t, -h.lr, 'mul');
    be.binary(u, nu[i]!, c2, 'div');
    be.unary(u, u, 'sqrt');
    be.binary(u, u, h.eps, 'add');
    be.binary(t, t, u, 'div');
    be.binary(p, p, t, 'add');
  });
};
