/**
 * Backend conformance, part 2: every fused kernel a backend registers, against the composite of the generic
 * kernels (src/ops) on the float64 reference backend, for every cell (the LSTM and the RNN with each activation)
 * and every loss. The cases come from FUSED_KERNELS, the cells and LOSSES, so a new fused kernel, cell or loss is
 * tested as soon as it exists; a kernel a backend does not register is reported as such (the composite runs).
 */
import { describe, expect, it } from 'vitest';
import { type Backend, type CellSpec, type DeviceArray, FUSED_KERNELS, cellCacheNames, preactSize } from '../../src/backends/backend.js';
import { referenceBackend } from '../../src/backends/reference.js';
import { LOSSES, type LossKind } from '../../src/core/model.js';
import { ACTIVATIONS } from '../../src/core/rnn.js';
import { Buffers } from '../../src/engine/buffers.js';
import { cellForward, cellJacobian, cellModeJacobians, cellModeVjp, cellPreactGrad, cellStateVjp, epropAdvance, epropGradient, epropSequence } from '../../src/ops/cells.js';
import { lossGrad } from '../../src/ops/loss.js';
import { boundRatio, down, randomData, startAll, up } from './support.js';

const { available } = await startAll();
const ref = referenceBackend() as unknown as Backend;
const O = 4;

/**
 * Two sizes: one whose products stay in JavaScript loops on the CPU backend, one whose products (B × 4H × I,
 * B × H × I ≥ GEMM_MIN_MACS, at least 4 rows and a SIMD block of columns) take its SIMD kernel.
 */
const SIZES = [
  { name: 'B 3, H 4, I 3', B: 3, H: 4, I: 3 },
  { name: 'B 8, H 16, I 16', B: 8, H: 16, I: 16 },
] as const;
type Size = (typeof SIZES)[number];

const CELLS: readonly CellSpec[] = [{ type: 'lstm' }, ...ACTIVATIONS.map((activation): CellSpec => ({ type: 'rnn', activation }))];
const label = (spec: CellSpec) => (spec.type === 'rnn' ? `rnn ${spec.activation}` : 'lstm');

/** The cases of one size. */
const casesAt = (z: Size) => {
const { B, H, I } = z;
const S = (spec: CellSpec) => (spec.type === 'rnn' ? H : 2 * H);

/** Host data of one case: parameters, state, input, gradients, traces, loss data. */
const data = (spec: CellSpec, seed: number) => ({
  params:
    spec.type === 'rnn'
      ? { W_in: [randomData(seed, H * I), [H, I]], W_rec: [randomData(seed + 1, H * H, -0.5, 0.5), [H, H]], b: [randomData(seed + 2, H), [H]] }
      : { W_ih: [randomData(seed, 4 * H * I), [4 * H, I]], W_hh: [randomData(seed + 1, 4 * H * H, -0.5, 0.5), [4 * H, H]], b: [randomData(seed + 2, 4 * H), [4 * H]] },
  prev: randomData(seed + 3, B * S(spec)),
  x: randomData(seed + 4, B * I),
  g: randomData(seed + 5, B * S(spec)),
  psiPrev: randomData(seed + 6, B * H),
  traces: randomData(seed + 7, B * 3 * H * (I + H + 1)),
  signal: randomData(seed + 8, B * H),
}) as const;

/**
 * Run one op on a backend: upload the case, run a forward step (fused or composite: the cache is its output), then
 * the op under test; returns the named outputs read back.
 */
const runCell = async (be: Backend, spec: CellSpec, seed: number, op: (ctx: Buffers<DeviceArray>, a: Record<string, DeviceArray>) => Record<string, DeviceArray>) => {
  const ctx = new Buffers(be);
  const d = data(spec, seed);
  const params = Object.fromEntries(Object.entries(d.params).map(([k, [v, s]]) => [k, up(be, v as Float64Array, s as number[])]));
  const a: Record<string, DeviceArray> = {
    ...params,
    prev: up(be, d.prev, [B, S(spec)]),
    x: up(be, d.x, [B, I]),
    g: up(be, d.g, [B, S(spec)]),
    psiPrev: up(be, d.psiPrev, [B, H]),
    traces: up(be, d.traces, [B, 3, H, I + H + 1]),
    signal: up(be, d.signal, [B, H]),
    state: be.alloc([B, S(spec)]),
  };
  const cache = Object.fromEntries(cellCacheNames(spec).map((n) => [n, be.alloc([B, H])]));
  for (const [n, c] of Object.entries(cache)) a[`cache.${n}`] = c;
  cellForward(ctx, spec, params, a['prev']!, a['x']!, a['state']!, cache);
  const outs = op(ctx, a);
  const res: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(outs)) res[k] = await down(be, v);
  return res;
};

const cacheOf = (spec: CellSpec, a: Record<string, DeviceArray>) => Object.fromEntries(cellCacheNames(spec).map((n) => [n, a[`cache.${n}`]!]));
const paramsOf = (spec: CellSpec, a: Record<string, DeviceArray>): Record<string, DeviceArray> =>
  Object.fromEntries((spec.type === 'rnn' ? ['W_in', 'W_rec', 'b'] : ['W_ih', 'W_hh', 'b']).map((k) => [k, a[k]!]));

/** The op of each fused kernel, run through src/ops (so the backend's fused kernel, or the composite on the reference). */
const cellCase = (kernel: (typeof FUSED_KERNELS)[number], spec: CellSpec) => (ctx: Buffers<DeviceArray>, a: Record<string, DeviceArray>): Record<string, DeviceArray> => {
  const be = ctx.be;
  const cache = cacheOf(spec, a);
  const p = paramsOf(spec, a);
  switch (kernel) {
    case 'cellForward':
      return { state: a['state']!, ...cache };
    case 'cellJacobian': {
      const J = be.alloc([B, S(spec), S(spec)]);
      cellJacobian(ctx, spec, p, a['prev']!, cache, J);
      return { J };
    }
    case 'cellStateVjp': {
      const out = be.alloc([B, S(spec)]);
      cellStateVjp(ctx, spec, p, a['prev']!, cache, a['g']!, out);
      return { out };
    }
    case 'cellPreactGrad': {
      const dz = be.alloc([B, preactSize(spec, H)]);
      cellPreactGrad(ctx, spec, a['prev']!, cache, a['g']!, dz);
      return { dz };
    }
    case 'cellModeJacobians': {
      const C = be.alloc([B, H, H]);
      const D = be.alloc([B, H, H]);
      cellModeJacobians(ctx, spec, p, a['prev']!, cache, a['psiPrev']!, C, D);
      return { C, D };
    }
    case 'cellModeVjp': {
      const vD = be.alloc([B, H]);
      const vC = be.alloc([B, H]);
      cellModeVjp(ctx, spec, p, a['prev']!, cache, a['psiPrev']!, a['signal']!, vD, vC);
      return { vD, vC };
    }
    case 'epropAdvance':
      epropAdvance(ctx, spec, a['prev']!, a['x']!, cache, a['traces']!);
      return { traces: a['traces']! };
    case 'epropGradient': {
      const each = { W_ih: be.alloc([B, 4 * H, I]), W_hh: be.alloc([B, 4 * H, H]), b: be.alloc([B, 4 * H]) };
      const mean = { W_ih: be.alloc([4 * H, I]), W_hh: be.alloc([4 * H, H]), b: be.alloc([4 * H]) };
      epropGradient(ctx, spec, a['prev']!, a['x']!, cache, a['traces']!, a['signal']!, each, 'each');
      epropGradient(ctx, spec, a['prev']!, a['x']!, cache, a['traces']!, a['signal']!, each, 'each');
      epropGradient(ctx, spec, a['prev']!, a['x']!, cache, a['traces']!, a['signal']!, mean, 'mean');
      return Object.fromEntries([...Object.entries(each).map(([k, v]) => [`each.${k}`, v]), ...Object.entries(mean).map(([k, v]) => [`mean.${k}`, v])]);
    }
    case 'epropSequence': {
      // Three chained steps with distinct inputs and signals, added onto nonzero accumulators.
      const steps: { prev: DeviceArray; x: DeviceArray; cache: Record<string, DeviceArray> }[] = [];
      const signals: DeviceArray[] = [];
      let prev = a['prev']!;
      for (let t = 0; t < 3; t++) {
        const x = be.alloc([B, I]);
        be.binary(x, a['x']!, 1 - 0.4 * t, 'mul');
        const state = be.alloc([B, S(spec)]);
        const c = Object.fromEntries(cellCacheNames(spec).map((n) => [n, be.alloc([B, H])]));
        cellForward(ctx, spec, p, prev, x, state, c);
        steps.push({ prev, x, cache: c });
        const sig = be.alloc([B, H]);
        be.binary(sig, a['signal']!, 1 + t, 'mul');
        signals.push(sig);
        prev = state;
      }
      const out = { W_ih: be.alloc([B, 4 * H, I]), W_hh: be.alloc([B, 4 * H, H]), b: be.alloc([B, 4 * H]) };
      for (const o of Object.values(out)) be.fill(o, 0.25);
      epropSequence(ctx, spec, steps, signals, out);
      return out;
    }
    case 'loss':
      return {};
  }
};

return { runCell, cellCase };
};

/** Which cells a fused kernel applies to (the LSTM's cell mode and e-prop kernels need its memory part). */
const appliesTo = (kernel: (typeof FUSED_KERNELS)[number], spec: CellSpec): boolean =>
  kernel === 'loss' ? false : ['cellModeJacobians', 'cellModeVjp', 'epropAdvance', 'epropGradient', 'epropSequence'].includes(kernel) ? spec.type === 'lstm' : true;

// Every output is a short chain of products and sums of ≤ I + H + 4 terms of size ≤ (I + H + 2) (forward) or a
// Jacobian entry (≤ 4H terms) times such values; with I + H ≤ 32 and 4H ≤ 64, 2⁶ roundings of scale 2⁶ leave
// headroom and reject any wrong term (an O(1) relative difference).
const TERMS = 64;
const SCALE = 64;

const backendsWithFused = available.filter((c) => c.backend.fused !== undefined && Object.keys(c.backend.fused).length > 0);

describe.each(backendsWithFused)('$name: fused kernels against the composites on the reference', ({ backend: be }) => {
  for (const kernel of FUSED_KERNELS) {
    const registered = be.fused?.[kernel] !== undefined;
    if (!registered) {
      it.skip(`${kernel}: not registered by this backend (the composite runs)`, () => {});
      continue;
    }
    for (const z of SIZES) {
      const { runCell, cellCase } = casesAt(z);
      for (const spec of CELLS.filter((s) => appliesTo(kernel, s)))
        it(`${kernel}, ${label(spec)}, ${z.name}`, async () => {
          const mine = await runCell(be, spec, 31, cellCase(kernel, spec));
          const theirs = await runCell(ref, spec, 31, cellCase(kernel, spec));
          for (const k of Object.keys(theirs)) expect(boundRatio(mine[k]!, theirs[k]!, be.epsilon + ref.epsilon, TERMS, SCALE), k).toBeLessThanOrEqual(1);
        });
    }
    if (kernel === 'loss')
      it.each(LOSSES)('loss %s with masks', async (kind: LossKind) => {
        const B = 3;
        const run = async (b: Backend) => {
          const ctx = new Buffers(b);
          const y = Float64Array.from({ length: B * O }, (_, i) => (kind === 'mse' ? randomData(28, B * O)[i]! : i % O === 1 ? 1 : 0));
          const loss = b.alloc([B]);
          const dy = b.alloc([B, O]);
          lossGrad(ctx, kind, up(b, randomData(29, B * O, -2, 2), [B, O]), up(b, y, [B, O]), up(b, Float64Array.from([1, 0, 1]), [B]), loss, dy);
          return [await down(b, loss), await down(b, dy)] as const;
        };
        const [l, d] = await run(be);
        const [lr, dr] = await run(ref);
        expect(boundRatio(l, lr, be.epsilon + ref.epsilon, 2 * O + 8, 8)).toBeLessThanOrEqual(1);
        expect(boundRatio(d, dr, be.epsilon + ref.epsilon, 2 * O + 8, 8)).toBeLessThanOrEqual(1);
        expect(l[1]).toBe(0);
        expect([...d.subarray(O, 2 * O)].every((v) => v === 0)).toBe(true);
      });
  }
});
