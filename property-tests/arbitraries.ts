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
import { type Synthesiser, linearSynthesiser, mlpSynthesiser, tabularSynthesiser } from '../src/core/synthesiser.js';

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
  /** Arbitrary for γ and λ (default `unitArb`: an endpoint one time in five, else uniform in [0, 1]). */
  readonly hyper?: fc.Arbitrary<number>;
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
      gamma: opts.hyper ?? unitArb,
      lambda: opts.hyper ?? unitArb,
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

// ---------------------------------------------------------------------------------------------------
// Synthesisers, batches and test-side reference arithmetic for the BP(λ) suites (added; the exports above are
// unchanged).

/** Every RNN activation, for the purely algebraic identities (no finite differences, so ReLU kinks are harmless). */
export const ALL_ACTIVATIONS = ['identity', 'tanh', 'sigmoid', 'relu'] as const;

/**
 * Random synthesiser parameters: weights U(±scale/√fan_in), biases U(±0.5·scale). Nonzero everywhere (unlike the
 * zero-initialised default), so every prediction ĝ_t and every Jacobian ∇θĝ_t is generic.
 */
export const randomTheta = (synth: Synthesiser, seed: number, scale = 1.5): Params => {
  let rng = rngFromSeed(seed);
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(synth.paramShapes)) {
    const fanIn = shape.length === 2 ? shape[1]! : 1;
    const [t, r] = draw(rng, shape, shape.length === 2 ? scale / Math.sqrt(fanIn) : 0.5 * scale);
    out[name] = t;
    rng = r;
  }
  return out;
};

/**
 * A value in [0, 1] for γ or λ: an endpoint (0 or 1) one time in five, otherwise uniform on a 2⁻²⁰ grid. fc.double
 * samples uniformly over float representations, so most of its draws are tiny (γ ≈ 0 hides every γ- and
 * λ-dependent term); this one exercises the interior.
 */
export const unitArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1), weight: 1 },
  { arbitrary: fc.noBias(fc.integer({ min: 0, max: 2 ** 20 })).map((i) => i / 2 ** 20), weight: 4 },
);

export interface SynthProblem extends Problem {
  readonly synth: Synthesiser;
  readonly theta: Params;
}

/**
 * A problem plus a full-state synthesiser S → S (S = H for the RNN, 2H for the LSTM) with random nonzero θ:
 * linear, a ReLU MLP with 1–2 hidden layers of 1–4 units, or (only when asked for) a tabular one with T−1 rows
 * (it reads the time index, so it catches off-by-one errors in t). γ and λ are drawn with `unitArb`.
 */
export const synthProblemArb = (
  opts: ProblemOptions = {},
  kinds: readonly ('linear' | 'mlp' | 'tabular')[] = ['linear', 'mlp'],
): fc.Arbitrary<SynthProblem> =>
  problemArb({ hyper: unitArb, ...opts }).chain((p) =>
    fc
      .record({
        kind: fc.constantFrom(...kinds),
        hidden: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      })
      .map(({ kind, hidden, seed }) => {
        const S = p.model.cell.stateSize;
        const T = p.sequence.inputs.length;
        const synth =
          kind === 'linear'
            ? linearSynthesiser(S, S)
            : kind === 'mlp'
              ? mlpSynthesiser(S, hidden, S)
              : tabularSynthesiser(T - 1, S, S);
        return { ...p, synth, theta: randomTheta(synth, seed) };
      }),
  );

/** Random extra sequences for a problem's model, of the same length T, with random masks (≥ 1 target each). */
export const extraSequencesArb = (p: Problem, minCount: number, maxCount: number): fc.Arbitrary<Sequence[]> => {
  const T = p.sequence.inputs.length;
  const I = p.model.cell.inputSize;
  const O = p.model.outputSize;
  return fc.array(
    fc.record({ seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), mask: fc.array(fc.boolean(), { minLength: T, maxLength: T }) }),
    { minLength: minCount, maxLength: maxCount },
  ).map((list) =>
    list.map(({ seed, mask }) => {
      const m = mask.some((x) => x) ? mask : mask.map((_, t) => t === T - 1);
      const ys = randomVectors(seed + 2, T, O);
      return { inputs: randomVectors(seed + 1, T, I), targets: ys.map((y, t) => (m[t] ? y : null)) };
    }),
  );
};

/**
 * max_i |a_i − b_i| / max(1, max_i |b_i|): the error relative to the scale of the whole reference vector. Rounding
 * errors of sums and products are proportional to the magnitude of the terms, not of each (possibly cancelling)
 * entry, so this is the natural measure for the algebraic identities.
 */
export const scaledErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return Number.isNaN(m) ? Infinity : m / scale;
};

/** scaledErr over two parameter records, key by key (the keys must agree). */
export const paramsErr = (a: Params, b: Params): number => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join(',') !== kb.join(',')) return Infinity;
  return Math.max(0, ...kb.map((k) => scaledErr(a[k]!.data, b[k]!.data)));
};

/** Naive row vector times matrix, vᵀM (a test-side reimplementation, independent of tensor.ts). */
export const rowTimes = (v: ArrayLike<number>, m: Tensor): Float64Array => {
  const [r, c] = m.shape as [number, number];
  const o = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += v[i]! * m.data[i * c + j]!;
    o[j] = s;
  }
  return o;
};

/** Naive matrix product (test-side). */
export const matTimes = (a: Tensor, b: Tensor): Tensor => {
  const [r, k] = a.shape as [number, number];
  const [k2, c] = b.shape as [number, number];
  if (k !== k2) throw new RangeError('matTimes: inner sizes differ');
  const o = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p]! * b.data[p * c + j]!;
      o[i * c + j] = s;
    }
  return { shape: [r, c], data: o };
};

/** a + s·b, elementwise (test-side). */
export const axpy = (a: ArrayLike<number>, s: number, b: ArrayLike<number>): Float64Array =>
  Float64Array.from({ length: a.length }, (_, i) => a[i]! + s * b[i]!);

/** Max |x| of an array (0 for an empty one). */
export const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
