/**
 * The vanilla RNN cell as composites of the generic kernels (the core's `rnnCell`, operation by operation):
 *   a_t = (x_t W_inᵀ + h_{t-1} W_recᵀ) + b,  h_t = f(a_t),  J_t = diag(f'(a_t)) W_rec.
 */
import { ACTIVATION_OPS, type CellCache, type CellParams, type DeviceArray } from '../backends/backend.js';
import type { Activation } from '../core/rnn.js';
import type { OpContext } from './context.js';

export const rnnForward = <A extends DeviceArray>(ctx: OpContext<A>, activation: Activation, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void => {
  const be = ctx.be;
  const a = cache['a']!;
  be.matmul(a, x, params['W_in']!, { transposeB: true });
  be.matmul(a, prev, params['W_rec']!, { transposeB: true, accumulate: true });
  be.binary(a, a, params['b']!, 'add');
  be.unary(state, a, ACTIVATION_OPS[activation].f);
  be.unary(cache['fp']!, a, ACTIVATION_OPS[activation].df);
};

/** J[b, i, j] = f'(a_b,i) W_rec[i, j]. */
export const rnnJacobian = <A extends DeviceArray>(ctx: OpContext<A>, params: CellParams<A>, cache: CellCache<A>, out: A): void => {
  const fp = cache['fp']!;
  const [B, H] = fp.shape as [number, number];
  ctx.be.binary(out, ctx.be.reshape(fp, [B, H, 1]), params['W_rec']!, 'mul');
};

/** dz = g ⊙ f'(a): the gradient on the pre-activation. */
export const rnnPreactGrad = <A extends DeviceArray>(ctx: OpContext<A>, cache: CellCache<A>, g: A, dz: A): void => {
  ctx.be.binary(dz, g, cache['fp']!, 'mul');
};
