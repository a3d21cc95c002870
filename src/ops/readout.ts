/**
 * The linear readout ŷ_t = W_out h_t + b_out (h_t the first H entries of s_t) and the linear synthesiser
 * ĝ = W z + b, their gradients and the immediate state gradient l_t = ∂L_t/∂s_t = dy W_out (zero on the memory
 * part of the state), as composites of the generic kernels (the core's `readout`, `stepRecord`, `readoutGrad`).
 */
import type { DeviceArray } from '../backends/backend.js';
import { type OpContext, type Reduce, addOuter, addRows, putColumns } from './context.js';

/** out [B, n] = z Wᵀ + b (W [n, k], z [B, k]): the readout and the linear synthesiser. */
export const affine = <A extends DeviceArray>(ctx: OpContext<A>, out: A, z: A, W: A, b: A): void => {
  ctx.be.matmul(out, z, W, { transposeB: true });
  ctx.be.binary(out, out, b, 'add');
};

/** l_t = dy W_out on the first H columns of out [B, S], zero elsewhere. */
export const immediateGrad = <A extends DeviceArray>(ctx: OpContext<A>, out: A, dy: A, Wout: A): void => {
  const [B, S] = out.shape as [number, number];
  const H = Wout.shape[1]!;
  if (S === H) return ctx.be.matmul(out, dy, Wout);
  const l = ctx.tmp('readout.l', [B, H]);
  ctx.be.matmul(l, dy, Wout);
  ctx.be.fill(out, 0);
  putColumns(ctx, out, l, 0);
};

/** The readout's gradient dy ⊗ h_t and dy into its accumulators (per example or batch mean). */
export const readoutGrad = <A extends DeviceArray>(ctx: OpContext<A>, dy: A, h: A, accW: A, accB: A, reduce: Reduce): void => {
  addOuter(ctx, 'readout.gW', accW, dy, h, reduce);
  addRows(ctx, 'readout.gb', accB, dy, reduce);
};
