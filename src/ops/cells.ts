/**
 * Cell ops: each calls the backend's fused kernel when it registers one and otherwise the composite of the generic
 * kernels (`rnn.ts`, `lstm.ts`). The switches over the cell type are exhaustive: a new cell without composites is
 * a compile error.
 */
import { type CellCache, type CellParams, type CellSpec, type DeviceArray, preactSize } from '../backends/backend.js';
import { type OpContext, type Reduce, addOuter, addRows, eye, hidden } from './context.js';
import { lstmCellInputJacobian, lstmEpropAdvance, lstmEpropGradient, lstmForward, lstmJacobian, lstmPreactGrad } from './lstm.js';
import { rnnForward, rnnJacobian, rnnPreactGrad } from './rnn.js';

const unknownCell = (spec: never): never => {
  throw new RangeError(`unknown cell ${JSON.stringify(spec)}`);
};

/** The parameter names of a cell: input weights, recurrent weights, bias. */
export const cellParamNames = (spec: CellSpec): readonly [string, string, string] => {
  switch (spec.type) {
    case 'rnn':
      return ['W_in', 'W_rec', 'b'];
    case 'lstm':
      return ['W_ih', 'W_hh', 'b'];
  }
  return unknownCell(spec);
};

/** s_t and the step's cache from s_{t-1} and x_t. */
export const cellForward = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void => {
  const fused = ctx.be.fused?.cellForward;
  if (fused !== undefined) return fused(spec, params, prev, x, state, cache);
  switch (spec.type) {
    case 'rnn':
      return rnnForward(ctx, spec.activation, params, prev, x, state, cache);
    case 'lstm':
      return lstmForward(ctx, params, prev, x, state, cache);
  }
  return unknownCell(spec);
};

/** J_t = ∂s_t/∂s_{t-1} [B, S, S]. */
export const cellJacobian = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void => {
  const fused = ctx.be.fused?.cellJacobian;
  if (fused !== undefined) return fused(spec, params, prev, cache, out);
  switch (spec.type) {
    case 'rnn':
      return rnnJacobian(ctx, params, cache, out);
    case 'lstm':
      return lstmJacobian(ctx, params, prev, cache, out);
  }
  return unknownCell(spec);
};

/** out = g J_t [B, S]: a gradient on s_t carried back to s_{t-1} (composite: J_t formed, then a product). */
export const cellStateVjp = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, g: A, out: A): void => {
  const fused = ctx.be.fused?.cellStateVjp;
  if (fused !== undefined) return fused(spec, params, prev, cache, g, out);
  const [B, S] = prev.shape as [number, number];
  const J = ctx.tmp('cell.vjp.J', [B, S, S]);
  cellJacobian(ctx, spec, params, prev, cache, J);
  ctx.be.matmul(ctx.be.reshape(out, [B, 1, S]), ctx.be.reshape(g, [B, 1, S]), J);
};

/** The gradient on the pre-activations from a gradient g [B, S] on s_t, s_{t-1} held fixed: dz [B, G]. */
export const cellPreactGrad = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, prev: A, cache: CellCache<A>, g: A, dz: A): void => {
  const fused = ctx.be.fused?.cellPreactGrad;
  if (fused !== undefined) return fused(spec, prev, cache, g, dz);
  switch (spec.type) {
    case 'rnn':
      return rnnPreactGrad(ctx, cache, g, dz);
    case 'lstm':
      return lstmPreactGrad(ctx, prev, cache, g, dz);
  }
  return unknownCell(spec);
};

/**
 * The immediate parameter gradient of step t (s_{t-1} fixed) for a gradient g [B, S] on s_t, added into the
 * cell's accumulators: dz ⊗ x_t, dz ⊗ h_{t-1} and dz, per example or as the batch mean.
 */
export const cellParamGrad = <A extends DeviceArray>(
  ctx: OpContext<A>,
  spec: CellSpec,
  prev: A,
  x: A,
  cache: CellCache<A>,
  g: A,
  acc: CellParams<A>,
  reduce: Reduce,
): void => {
  const B = prev.shape[0]!;
  const H = cache[spec.type === 'rnn' ? 'a' : 'i']!.shape[1]!;
  const dz = ctx.tmp('cell.dz', [B, preactSize(spec, H)]);
  cellPreactGrad(ctx, spec, prev, cache, g, dz);
  const [wIn, wRec, bias] = cellParamNames(spec);
  addOuter(ctx, 'cell.grad.in', acc[wIn]!, dz, x, reduce);
  addOuter(ctx, 'cell.grad.rec', acc[wRec]!, dz, hidden(ctx, 'cell.grad.h', prev, H), reduce);
  addRows(ctx, 'cell.grad.b', acc[bias]!, dz, reduce);
};

/** The cell's e-prop traces, advanced in place (nothing to carry for the RNN, whose traces are immediate). */
export const epropAdvance = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, prev: A, x: A, cache: CellCache<A>, traces: A | null): void => {
  switch (spec.type) {
    case 'rnn':
      return;
    case 'lstm': {
      const fused = ctx.be.fused?.epropAdvance;
      if (fused !== undefined) return fused(prev, x, cache, traces!);
      return lstmEpropAdvance(ctx, prev, x, cache, traces!);
    }
  }
  return unknownCell(spec);
};

/** The e-prop traces of a cell [B, 3, H, I + H + 1] (LSTM), or null (RNN). */
export const epropTraceShape = (spec: CellSpec, B: number, H: number, I: number): number[] | null => {
  switch (spec.type) {
    case 'rnn':
      return null;
    case 'lstm':
      return [B, 3, H, I + H + 1];
  }
  return unknownCell(spec);
};

/**
 * The e-prop gradient of step t for a learning signal L [B, H] on h_t, added into the cell's accumulators per
 * example or as the batch mean (for the RNN, e-prop is the immediate gradient with g = [L]).
 */
export const epropGradient = <A extends DeviceArray>(
  ctx: OpContext<A>,
  spec: CellSpec,
  prev: A,
  x: A,
  cache: CellCache<A>,
  traces: A | null,
  signal: A,
  acc: CellParams<A>,
  reduce: Reduce,
): void => {
  switch (spec.type) {
    case 'rnn':
      return cellParamGrad(ctx, spec, prev, x, cache, signal, acc, reduce);
    case 'lstm':
      return lstmEpropInto(ctx, prev, x, cache, traces!, signal, acc, reduce);
  }
  return unknownCell(spec);
};

const lstmEpropInto = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, acc: CellParams<A>, reduce: Reduce): void => {
  const be = ctx.be;
  const [B, , H, n] = traces.shape as [number, number, number, number];
  const I = n - H - 1;
  const names = ['W_ih', 'W_hh', 'b'] as const;
  const widths = [I, H, 1];
  const starts = [0, I, I + H];
  const fused = be.fused?.epropGradient;
  if (fused !== undefined) {
    if (reduce === 'each') return fused(prev, x, cache, traces, signal, acc, 'each', true);
    const sum = Object.fromEntries(names.map((k) => [k, ctx.tmp(`eprop.sum.${k}`, acc[k]!.shape)]));
    fused(prev, x, cache, traces, signal, sum, 'sum', false);
    for (const k of names) {
      be.binary(sum[k]!, sum[k]!, 1 / Math.max(1, B), 'mul');
      be.binary(acc[k]!, acc[k]!, sum[k]!, 'add');
    }
    return;
  }
  const G = lstmEpropGradient(ctx, prev, x, cache, traces, signal, 'eprop.G');
  names.forEach((k, q) => {
    const part = ctx.tmp(`eprop.part.${k}`, [B, 4 * H, widths[q]!]);
    be.copyBlock(part, G, { outBegin: [0, 0, 0], xBegin: [0, 0, starts[q]!], size: [B, 4 * H, widths[q]!] });
    const target = acc[k]!;
    if (reduce === 'each') be.binary(target, target, be.reshape(part, target.shape), 'add');
    else {
      const s = ctx.tmp(`eprop.mean.${k}`, target.shape);
      be.reduce(be.reshape(s, [4 * H * widths[q]!]), be.reshape(part, [B, 4 * H * widths[q]!]), 'sum', 0);
      be.binary(s, s, 1 / Math.max(1, B), 'mul');
      be.binary(target, target, s, 'add');
    }
  });
};

/**
 * The e-prop gradient summed over a sequence, per example into acc [B, …] (the forward view's network gradient in
 * the cell mode): traces from zero, advanced through each step τ and contracted with signals[τ], in step order —
 * or the backend's fused `epropSequence`, which may sum in another order.
 */
export const epropSequence = <A extends DeviceArray>(
  ctx: OpContext<A>,
  spec: CellSpec,
  steps: readonly { readonly prev: A; readonly x: A; readonly cache: CellCache<A> }[],
  signals: readonly A[],
  acc: CellParams<A>,
): void => {
  const fused = ctx.be.fused?.epropSequence;
  if (fused !== undefined && spec.type === 'lstm')
    return fused(
      steps.map((s) => s.prev),
      steps.map((s) => s.x),
      steps.map((s) => s.cache),
      signals,
      acc,
    );
  const [B, S] = steps[0]!.prev.shape as [number, number];
  const shape = epropTraceShape(spec, B, spec.type === 'rnn' ? S : S / 2, steps[0]!.x.shape[1]!);
  const traces = shape === null ? null : ctx.tmp('eprop.sequence.traces', shape);
  if (traces !== null) ctx.be.fill(traces, 0);
  steps.forEach((s, t) => {
    epropAdvance(ctx, spec, s.prev, s.x, s.cache, traces);
    epropGradient(ctx, spec, s.prev, s.x, s.cache, traces, signals[t]!, acc, 'each');
  });
};

/**
 * vD = v D_t and vC = v C_t (v [B, H]; either output may be null): through the backend's fused `cellModeVjp`, or
 * D_t and C_t formed (into the scratch C, D) and multiplied.
 */
export const cellModeVjp = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, v: A, vD: A | null, vC: A | null): void => {
  const fused = ctx.be.fused?.cellModeVjp;
  if (fused !== undefined) return fused(spec, params, prev, cache, psiPrev, v, vD, vC);
  const be = ctx.be;
  const [B, H] = v.shape as [number, number];
  const C = ctx.tmp('cellModeVjp.C', [B, H, H]);
  const D = ctx.tmp('cellModeVjp.D', [B, H, H]);
  cellModeJacobians(ctx, spec, params, prev, cache, psiPrev, C, D);
  if (vD !== null) be.matmul(be.reshape(vD, [B, 1, H]), be.reshape(v, [B, 1, H]), D);
  if (vC !== null) be.matmul(be.reshape(vC, [B, 1, H]), be.reshape(v, [B, 1, H]), C);
};

/**
 * The cell mode's Jacobians (spec §6.3) D_t = ∂c_t/∂h_{t-1} and C_t = ∂c_t/∂c_{t-1} + D_t diag(ψ_{t-1}), both
 * [B, H, H], read off the state Jacobian as the core's `cellToCellJacobian` does (ψ_{t-1} [B, H]).
 */
export const cellModeJacobians = <A extends DeviceArray>(ctx: OpContext<A>, spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, C: A, D: A): void => {
  const fused = ctx.be.fused?.cellModeJacobians;
  if (fused !== undefined) return fused(spec, params, prev, cache, psiPrev, C, D);
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  switch (spec.type) {
    case 'rnn':
      throw new RangeError('the cell mode needs a cell with a memory part (the LSTM)');
    case 'lstm': {
      // The blocks of J_t the core reads: D = ∂c/∂h_{t-1}, and ∂c/∂c_{t-1} = diag(f_t) (zero off the diagonal).
      const d = lstmCellInputJacobian(ctx, params, prev, cache, 'cellMode.D');
      be.copyBlock(D, d, { outBegin: [0, 0, 0], xBegin: [0, 0, 0], size: [B, H, H] });
      const diag = ctx.tmp('cellMode.diag', [B, H, H]);
      be.binary(diag, be.reshape(cache['f']!, [B, H, 1]), eye(ctx, H), 'mul');
      be.binary(C, D, be.reshape(psiPrev, [B, 1, H]), 'mul');
      be.binary(C, C, diag, 'add');
      return;
    }
  }
  return unknownCell(spec);
};
