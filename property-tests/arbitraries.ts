/**
 * Shared fast-check arbitraries for the property suites.
 *
 * A random problem is drawn as sizes + a seed (+ masks, γ, λ); the numbers themselves come from the library's
 * seeded generator, so a failing case is replayable from the printed fast-check seed and shrinks on sizes,
 * masks and hyper-parameters. All arithmetic is float64.
 */
import fc from 'fast-check';
import { lstmCell } from '../src/core/lstm.js';
import type { Model, Sequence } from '../src/core/model.js';
import { type Rng, rngFromSeed, uniformRange } from '../src/core/random.js';
import { type Activation, rnnCell } from '../src/core/rnn.js';
import { type Params, type Tensor, size } from '../src/core/tensor.js';
import { modelShapes } from '../src/core/model.js';

export interface Problem {
  readonly model: Model;
  readonly params: Params;
  readonly sequence: Sequence;
  readonly gamma: number;
  readonly lambda: number;
  readonly seed: number;
}

export interface ProblemOptions {
  readonly cell?: 'rnn' | 'lstm' | 'any';
  readonly activations?: readonly Activation[];
  readonly maxT?: number;
  readonly maxH?: number;
  /** Scale of the recurrent weights (keeps the Jacobians away from explosion for long products). */
  readonly recurrentScale?: number;
}

const draw = (rng: Rng, shape: readonly number[], scale: number): [Tensor, Rng] => {
  const [d, next] = uniformRange(rng, size(shape), -scale, scale);
  return [{ shape: [...shape], data: d }, next];
};

/** Random parameters for a model, weights U(±scale/√fan_in) with recurrent ones scaled by `recurrentScale`. */
export const randomParams = (model: Model, seed: number, recurrentScale = 1): Params => {
  let rng = rngFromSeed(seed);
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(modelShapes(model))) {
    const fanIn = shape.length === 2 ? shape[1]! : 1;
    const scale = (name === 'W_rec' || name === 'W_hh' ? recurrentScale * 1.5 : 1.5) / Math.sqrt(fanIn);
    const [t, r] = draw(rng, shape, name.startsWith('b') ? 0.5 : scale);
    out[name] = t;
    rng = r;
  }
  return out;
};

export const randomVectors = (seed: number, count: number, n: number, scale = 1): Float64Array[] => {
  let rng = rngFromSeed(seed);
  return Array.from({ length: count }, () => {
    const [v, r] = uniformRange(rng, n, -scale, scale);
    rng = r;
    return v;
  });
};

/** Arbitrary problem: cell, sizes, parameters, inputs, masked targets (at least one step with a target), γ, λ. */
export const problemArb = (opts: ProblemOptions = {}): fc.Arbitrary<Problem> => {
  const maxT = opts.maxT ?? 6;
  const maxH = opts.maxH ?? 4;
  const cellKind =
    opts.cell === 'rnn' || opts.cell === 'lstm' ? fc.constant(opts.cell) : fc.constantFrom<'rnn' | 'lstm'>('rnn', 'lstm');
  const activations = opts.activations ?? (['identity', 'tanh', 'sigmoid'] as const);
  return fc
    .record({
      cell: cellKind,
      activation: fc.constantFrom(...activations),
      T: fc.integer({ min: 2, max: maxT }),
      H: fc.integer({ min: 1, max: maxH }),
      I: fc.integer({ min: 1, max: 3 }),
      O: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      gamma: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
      lambda: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    })
    .chain((r) =>
      fc.array(fc.boolean(), { minLength: r.T, maxLength: r.T }).map((mask) => {
        const m = mask.some((x) => x) ? mask : mask.map((_, t) => t === r.T - 1);
        const cell =
          r.cell === 'rnn'
            ? rnnCell({ inputSize: r.I, hiddenSize: r.H, activation: r.activation })
            : lstmCell({ inputSize: r.I, hiddenSize: r.H });
        const model: Model = { cell, outputSize: r.O, loss: 'mse' };
        const inputs = randomVectors(r.seed + 1, r.T, r.I);
        const ys = randomVectors(r.seed + 2, r.T, r.O);
        return {
          model,
          params: randomParams(model, r.seed, opts.recurrentScale ?? 1),
          sequence: { inputs, targets: ys.map((y, t) => (m[t] ? y : null)) },
          gamma: r.gamma,
          lambda: r.lambda,
          seed: r.seed,
        };
      }),
    );
};

/** Max |a − b| / max(1, |b|) over two equally long arrays: the relative-or-absolute error the suites bound. */
export const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return a.length === b.length ? m : Infinity;
};

/** Flatten a parameter record (all entries, key order of the record) for comparisons. */
export const flat = (p: Params): Float64Array => {
  const parts = Object.values(p).map((t) => t.data);
  const out = new Float64Array(parts.reduce((n, d) => n + d.length, 0));
  let off = 0;
  for (const d of parts) {
    out.set(d, off);
    off += d.length;
  }
  return out;
};

/** fast-check settings: a fixed seed by default (override with FC_SEED), printed on failure by fast-check. */
export const fcParams = (numRuns = 60): fc.Parameters<unknown> => ({
  numRuns,
  seed: process.env['FC_SEED'] === undefined ? 20261125 : Number(process.env['FC_SEED']),
  verbose: 1,
});
