/**
 * The per-step losses of the core's `lossAndGrad` (src/core/model.ts) as composites of the generic kernels, with
 * masks: loss [B] and dy = ∂L/∂ŷ [B, O] where mask[b] = 1, zero where mask[b] = 0.
 *   mse:  ½ Σ (ŷ − y)²,                         dy = ŷ − y
 *   xent: −Σ y (ŷ − lse(ŷ)),                    dy = (Σ y) softmax(ŷ) − y
 *   bce:  Σ max(ŷ, 0) − ŷ y + log1p(e^{−|ŷ|}),   dy = σ(ŷ) − y
 * The switch over the loss is exhaustive: a loss without composites is a compile error.
 */
import type { DeviceArray } from '../backends/backend.js';
import type { LossKind } from '../core/model.js';
import type { OpContext } from './context.js';

export const lossGrad = <A extends DeviceArray>(ctx: OpContext<A>, kind: LossKind, yHat: A, y: A, mask: A, loss: A, dy: A): void => {
  const fused = ctx.be.fused?.loss;
  if (fused !== undefined) return fused(kind, yHat, y, mask, loss, dy);
  const be = ctx.be;
  const [B, O] = yHat.shape as [number, number];
  const t = ctx.tmp('loss.t', [B, O]);
  const col = (a: A) => be.reshape(a, [B, 1]);
  switch (kind) {
    case 'mse':
      be.binary(dy, yHat, y, 'sub');
      be.binary(dy, dy, col(mask), 'mul');
      be.binary(t, dy, dy, 'mul');
      be.reduce(loss, t, 'sum', 1);
      be.binary(loss, loss, 0.5, 'mul');
      return;
    case 'bce': {
      const u = ctx.tmp('loss.u', [B, O]);
      be.binary(t, yHat, 0, 'max');
      be.binary(u, yHat, y, 'mul');
      be.binary(t, t, u, 'sub');
      be.unary(u, yHat, 'abs');
      be.unary(u, u, 'neg');
      be.unary(u, u, 'exp');
      be.unary(u, u, 'log1p');
      be.binary(t, t, u, 'add');
      be.reduce(loss, t, 'sum', 1);
      be.binary(loss, loss, mask, 'mul');
      be.unary(dy, yHat, 'sigmoid');
      be.binary(dy, dy, y, 'sub');
      be.binary(dy, dy, col(mask), 'mul');
      return;
    }
    case 'xent': {
      const m = ctx.tmp('loss.m', [B]);
      const s = ctx.tmp('loss.s', [B]);
      be.reduce(m, yHat, 'max', 1);
      be.binary(t, yHat, col(m), 'sub');
      be.unary(t, t, 'exp'); // e_k = exp(ŷ_k − m)
      be.reduce(s, t, 'sum', 1); // Σ e
      const lse = ctx.tmp('loss.lse', [B]);
      be.unary(lse, s, 'log');
      be.binary(lse, m, lse, 'add');
      const u = ctx.tmp('loss.u', [B, O]);
      be.binary(u, yHat, col(lse), 'sub');
      be.binary(u, y, u, 'mul');
      be.reduce(loss, u, 'sum', 1);
      be.unary(loss, loss, 'neg');
      be.binary(loss, loss, mask, 'mul');
      const ysum = ctx.tmp('loss.ysum', [B]);
      be.reduce(ysum, y, 'sum', 1);
      be.binary(t, t, col(s), 'div'); // softmax
      be.binary(dy, col(ysum), t, 'mul');
      be.binary(dy, dy, y, 'sub');
      be.binary(dy, dy, col(mask), 'mul');
      return;
    }
  }
  throw new RangeError(`unknown loss ${String(kind satisfies never)}`);
};
