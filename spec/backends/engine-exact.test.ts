/**
 * The trainer on the float64 reference backend reproduces the core learner exactly: for random configurations
 * of every method (both cells, every RNN activation, every loss, masks, γ, λ, β, clips, modes, schedules, Adam or
 * SGD, global-norm clip), `createTrainer(referenceBackend(), config).trainBatch` returns the same metrics and,
 * read back with `state()`, the same parameters and optimiser states as the core's `trainBatch`, number for
 * number (===), over several batches with the state kept on the backend between them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceBackend } from '../../src/backends/reference.js';
import { createTrainer } from '../../src/engine/trainer.js';
import { type LearnerConfig, type Method, learnerInit, trainBatch } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import { type Batch, type LossKind, LOSSES } from '../../src/core/model.js';
import { AUTHORS_ADAM } from '../../src/core/optim.js';
import { rngFromSeed, uniformRange } from '../../src/core/random.js';
import { ACTIVATIONS, rnnCell } from '../../src/core/rnn.js';
import { unitArb } from '../../property-tests/arbitraries.js';
import type { Params } from '../../src/core/tensor.js';

const FC_SEED = process.env['FC_SEED'] === undefined ? 20261125 : Number(process.env['FC_SEED']);

/** Index of the first entry where two values differ (=== on numbers, so ±0 are equal), or null. */
const firstDifference = (a: unknown, b: unknown, path = ''): string | null => {
  if (typeof a === 'number' || typeof b === 'number') return a === b ? null : `${path}: ${String(a)} vs ${String(b)}`;
  if (a instanceof Float64Array && b instanceof Float64Array) {
    if (a.length !== b.length) return `${path}: lengths ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${path}[${i}]: ${a[i]} vs ${b[i]}`;
    return null;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b ? null : `${path}: ${String(a)} vs ${String(b)}`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join() !== kb.join()) return `${path}: keys ${ka.join()} vs ${kb.join()}`;
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
};

const methodArb: fc.Arbitrary<Method> = fc.oneof(
  fc.constant<Method>({ kind: 'bptt' }),
  fc.constant<Method>({ kind: 'eprop' }),
  fc.record({ n: fc.integer({ min: 1, max: 4 }), align: fc.constantFrom('start' as const, 'end' as const) }).map((r): Method => ({ kind: 'tbptt', ...r })),
  fc
    .record({
      n: fc.integer({ min: 1, max: 4 }),
      gamma: unitArb,
      beta: unitArb,
      align: fc.constantFrom('start' as const, 'end' as const),
      target: fc.constantFrom('discounted' as const, 'authors' as const),
      targetScale: fc.constantFrom(undefined, 1, 0.1, 1 / 3, 7),
    })
    .map((r): Method => ({ kind: 'sg', ...r, synthesiser: { hidden: [] } })),
  fc
    .record({
      mode: fc.constantFrom('full' as const, 'cell' as const),
      schedule: fc.constantFrom('sequence' as const, 'step' as const),
      // γ and λ uniform in [0, 1] (and the endpoints): fc.double's draws are mostly tiny, which hides every
      // γ- and λ-dependent term (γλ was in [0.05, 0.95] in about 0.1% of its draws).
      gamma: unitArb,
      lambda: unitArb,
      beta: fc.constantFrom(0.1, 0.5, 1),
      synthClip: fc.constantFrom(Infinity, 1, 0.01),
      // The target scale c: the spec's 1 (absent or explicit), the authors' 1/B for batches of 10, and others.
      targetScale: fc.constantFrom(undefined, 1, 0.1, 1 / 3, 7),
    })
    .map((r): Method => ({ kind: 'bp-lambda', ...r, synthesiser: { hidden: [] } })),
);

const caseArb = fc.record({
  method: methodArb,
  cell: fc.constantFrom('lstm', ...ACTIVATIONS),
  loss: fc.constantFrom(...LOSSES),
  B: fc.integer({ min: 1, max: 3 }),
  T: fc.integer({ min: 1, max: 5 }),
  H: fc.integer({ min: 1, max: 4 }),
  I: fc.integer({ min: 1, max: 3 }),
  O: fc.integer({ min: 1, max: 3 }),
  adam: fc.boolean(),
  gradClip: fc.option(fc.constantFrom(0.1, 1), { nil: undefined }),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

const batchOf = (seed: number, B: number, T: number, I: number, O: number, loss: LossKind): Batch => {
  const [u] = uniformRange(rngFromSeed(seed), B * T * (I + O + 1), -1, 1);
  let q = 0;
  const next = (n: number) => u.slice(q, (q += n));
  return Array.from({ length: B }, () => {
    const inputs: Float64Array[] = [];
    const targets: (Float64Array | null)[] = [];
    for (let t = 0; t < T; t++) {
      inputs.push(next(I));
      let y = next(O);
      if (loss === 'xent') y = Float64Array.from(y, (_, k) => (k === Math.floor(((y[0]! + 1) / 2) * O) % O ? 1 : 0));
      if (loss === 'bce') y = y.map((v) => (v < 0 ? 0 : 1));
      targets.push(next(1)[0]! > 0 || t === T - 1 ? y : null);
    }
    return { inputs, targets };
  });
};

describe('engine on the reference backend', () => {
  it('reproduces the core learner exactly, for every method (fast-check)', async () => {
    const be = referenceBackend();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const cellKind = c.method.kind === 'bp-lambda' && c.method.mode === 'cell' ? 'lstm' : c.cell;
        const cell =
          cellKind === 'lstm'
            ? lstmCell({ inputSize: c.I, hiddenSize: c.H })
            : rnnCell({ inputSize: c.I, hiddenSize: c.H, activation: cellKind as (typeof ACTIVATIONS)[number] });
        const opt = c.adam ? ({ kind: 'adam', lr: 0.05, ...AUTHORS_ADAM } as const) : ({ kind: 'sgd', lr: 0.2 } as const);
        const config: LearnerConfig = { model: { cell, outputSize: c.O, loss: c.loss }, method: c.method, network: opt, synthesiser: opt, gradClip: c.gradClip };
        const [s0] = learnerInit(config, rngFromSeed(c.seed));
        // A nonzero synthesiser, so that its terms are exercised from the first batch.
        const theta: Params | null =
          s0.theta === null
            ? null
            : Object.fromEntries(Object.entries(s0.theta).map(([k, t], i) => [k, { shape: t.shape, data: uniformRange(rngFromSeed(c.seed + i + 1), t.data.length, -0.5, 0.5)[0] }]));
        let core = { ...s0, theta };
        const trainer = createTrainer(be, config);
        trainer.load(core);
        for (let i = 0; i < 2; i++) {
          const batch = batchOf(c.seed + 10 * i, c.B, c.T, c.I, c.O, c.loss);
          const [m1, n1] = trainBatch(config, core, batch);
          const m2 = await trainer.trainBatch(batch);
          const n2 = await trainer.state();
          expect(firstDifference(m2, m1, 'metrics')).toBeNull();
          expect(firstDifference(n2.params, n1.params, 'params')).toBeNull();
          expect(firstDifference(n2.theta, n1.theta, 'theta')).toBeNull();
          expect(firstDifference(n2.networkOpt, n1.networkOpt, 'networkOpt')).toBeNull();
          expect(firstDifference(n2.synthOpt, n1.synthOpt, 'synthOpt')).toBeNull();
          expect(n2.batches).toBe(n1.batches);
          core = n1;
        }
        trainer.dispose();
      }),
      { numRuns: 150, seed: FC_SEED, verbose: 1 },
    );
  });

  it("the 'forward-view' computation equals the traces for random problems (fast-check, spec §5 T1)", async () => {
    const be = referenceBackend();
    // Both sides sum the same O(T²) products of ≤ T Jacobians (entries O(1), S ≤ 8) in float64, in different
    // orders: they differ by rounding only, a few hundred operations × ε relative to the largest entry. 2¹²·T²·ε
    // (≈ 2e-11 at T = 5) leaves margin and is ~10 orders below any algorithmic difference.
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom('full' as const, 'cell' as const), async (c, mode) => {
        const cell = mode === 'cell' || c.cell === 'lstm' ? lstmCell({ inputSize: c.I, hiddenSize: c.H }) : rnnCell({ inputSize: c.I, hiddenSize: c.H, activation: c.cell as (typeof ACTIVATIONS)[number] });
        const method: Method = { kind: 'bp-lambda', mode, schedule: 'sequence', synthesiser: { hidden: [] }, gamma: (c.seed % 11) / 10, lambda: (c.seed % 7) / 6, beta: 0.5, synthClip: Infinity, targetScale: [1, 0.1, 1 / 3][c.seed % 3] };
        const config: LearnerConfig = { model: { cell, outputSize: c.O, loss: c.loss }, method, network: { kind: 'sgd', lr: 0.1 }, synthesiser: { kind: 'sgd', lr: 0.1 } };
        const [s0] = learnerInit(config, rngFromSeed(c.seed));
        const theta = Object.fromEntries(Object.entries(s0.theta!).map(([k, t], i) => [k, { shape: t.shape, data: uniformRange(rngFromSeed(c.seed + i + 1), t.data.length, -0.5, 0.5)[0] }]));
        const s = { ...s0, theta };
        const batch = batchOf(c.seed, c.B, c.T, c.I, c.O, c.loss);
        const gradients = async (computation: 'traces' | 'forward-view') => {
          const t = createTrainer(be, config, { computation });
          t.load(s);
          const g = await t.gradients(batch);
          t.dispose();
          return g.synthUpdate!;
        };
        const online = await gradients('traces');
        const seq = await gradients('forward-view');
        const scale = Math.max(1, ...online.map(Math.abs));
        const tol = 2 ** 12 * c.T * c.T * 2 ** -53 * scale;
        online.forEach((v, i) => expect(Math.abs(seq[i]! - v)).toBeLessThanOrEqual(tol));
      }),
      { numRuns: 80, seed: FC_SEED, verbose: 1 },
    );
  });

  it('the comparison is strict: a one-ulp change in a parameter is reported', () => {
    const diff = firstDifference({ p: Float64Array.of(1, 2) }, { p: Float64Array.of(1, 2 + 2 ** -51) });
    expect(diff).toMatch(/p\[1\]/);
  });
});
