/**
 * The baselines against independent computations: truncated BPTT (against finite differences of each chunk's loss
 * with the carried-in state held fixed), the online rule (truncation 1 for the RNN; e-prop with the true signal is
 * BPTT for both cells), and Jaderberg-style n-step synthetic gradients (n = 1 is BP(0); θ = 0 is truncated BPTT;
 * n ≥ T is BPTT). Both cells, random sizes, masks, γ, λ, β, chunk lengths and alignments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nStepSg, onlineRule } from '../src/core/baselines.js';
import { bpLambdaSequence } from '../src/core/bplambda.js';
import {
  type ChunkAlign,
  bptt,
  forwardViewUpdate,
  lambdaTargets,
  nStepTarget,
  predictions,
  trajectory,
  truncatedBptt,
} from '../src/core/bptt.js';
import { type Model, type Sequence, forward, modelShapes, sequenceLoss } from '../src/core/model.js';
import { linearSynthesiser, zeroSynthParams } from '../src/core/synthesiser.js';
import { type Params, paramCount } from '../src/core/tensor.js';
import {
  ALL_ACTIVATIONS,
  fcParams,
  maxAbs,
  paramsErr,
  problemArb,
  scaledErr,
  synthProblemArb,
  unitArb,
} from './arbitraries.js';

// Algebraic identities: the two sides are the same sums of the same products in different orders; float64 rounding
// gives ~1e-13 relative to the largest entry for these sizes (T ≤ 6, S ≤ 8). 1e-10 keeps a wide margin.
const TOL = 1e-10;
// Finite differences (as in bptt.test.ts): step 1e-6, truncation error O(h²) ≈ 1e-12, rounding O(ε|L|/h) ≈ 1e-10
// for losses of order 1; 1e-6 relative to the gradient's scale leaves room for both.
const h = 1e-6;
const FD_TOL = 1e-6;

const CELLS = ['rnn', 'lstm'] as const;
const ALIGNS: readonly ChunkAlign[] = ['start', 'end'];

/** Test-side chunk partition: [first, last] (0-based, inclusive) of each chunk of length n over T steps. */
const chunksOf = (T: number, n: number, align: ChunkAlign): [number, number][] => {
  const first = align === 'start' ? Math.min(n, T) : T % n === 0 ? Math.min(n, T) : T % n;
  const out: [number, number][] = [[0, first - 1]];
  for (let a = first; a < T; a += n) out.push([a, Math.min(a + n, T) - 1]);
  return out;
};

/**
 * Gradient, by central finite differences, of Σ_chunks [ L_chunk(Ψ; s_in fixed) + β ⟨ĝ_end, s_end(Ψ)⟩ ]: each chunk
 * is re-run from the (unperturbed) state carried into it, so nothing flows across chunk boundaries; `inject[e]`
 * is a constant vector (a stopped synthetic gradient) dotted with the state at the chunk's last step e.
 */
const chunkedFdGrad = (
  model: Model,
  params: Params,
  seq: Sequence,
  chunks: readonly [number, number][],
  inject: ReadonlyMap<number, Float64Array> = new Map(),
): Params => {
  const records = forward(model, params, seq);
  const objective = (ps: Params): number =>
    chunks.reduce((acc, [a, e]) => {
      const s0 = a === 0 ? undefined : records[a - 1]!.step.state;
      const sub = { inputs: seq.inputs.slice(a, e + 1), targets: seq.targets.slice(a, e + 1) };
      const recs = forward(model, ps, sub, s0);
      const g = inject.get(e);
      const end = recs[recs.length - 1]!.step.state;
      return acc + sequenceLoss(recs) + (g === undefined ? 0 : g.reduce((s, v, j) => s + v * end[j]!, 0));
    }, 0);
  const out: Record<string, { shape: readonly number[]; data: Float64Array }> = {};
  for (const [name, shape] of Object.entries(modelShapes(model))) {
    const t = params[name]!;
    const data = new Float64Array(t.data.length);
    for (let i = 0; i < data.length; i++) {
      const bump = (d: number) => {
        const x = t.data.slice();
        x[i] += d;
        return objective({ ...params, [name]: { shape, data: x } });
      };
      data[i] = (bump(h) - bump(-h)) / (2 * h);
    }
    out[name] = { shape, data };
  }
  return out;
};

describe('truncated BPTT', () => {
  for (const cell of CELLS)
    it(`${cell}: with n ≥ T it is full BPTT, for both alignments`, () => {
      fc.assert(
        fc.property(problemArb({ cell, activations: ALL_ACTIVATIONS }), fc.integer({ min: 0, max: 3 }), (p, extra) => {
          const T = p.sequence.inputs.length;
          const ref = bptt(p.model, p.params, p.sequence);
          for (const align of ALIGNS) {
            const tr = truncatedBptt(p.model, p.params, p.sequence, T + extra, align);
            expect(paramsErr(tr.grads, ref.grads)).toBeLessThan(TOL);
            expect(tr.loss).toBe(ref.loss);
          }
        }),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with n < T it is the sum over chunks of each chunk's gradient with the carried-in state fixed (FD)`, () => {
      fc.assert(
        fc.property(
          problemArb({ cell }).chain((p) =>
            fc.tuple(fc.constant(p), fc.integer({ min: 1, max: Math.max(1, p.sequence.inputs.length - 1) }), fc.constantFrom(...ALIGNS)),
          ),
          ([p, n, align]) => {
            const T = p.sequence.inputs.length;
            const chunks = chunksOf(T, n, align);
            expect(chunks.reduce((a, [s, e]) => a + e - s + 1, 0)).toBe(T); // the test's partition covers 1..T once
            const tr = truncatedBptt(p.model, p.params, p.sequence, n, align);
            expect(paramsErr(tr.grads, chunkedFdGrad(p.model, p.params, p.sequence, chunks))).toBeLessThan(FD_TOL);
          },
        ),
        fcParams(30),
      );
    });

  it('rnn: truncation n = 1 equals the online rule (both use only immediate derivatives)', () => {
    fc.assert(
      fc.property(problemArb({ cell: 'rnn', activations: ALL_ACTIVATIONS }), fc.constantFrom(...ALIGNS), (p, align) => {
        const online = onlineRule(p.model, p.params, p.sequence);
        const tr = truncatedBptt(p.model, p.params, p.sequence, 1, align);
        expect(paramsErr(online.grads, tr.grads)).toBeLessThan(TOL);
        expect(Math.abs(online.loss - tr.loss)).toBeLessThan(TOL * Math.max(1, tr.loss));
      }),
      fcParams(40),
    );
  });

  for (const cell of CELLS)
    it(`${cell}: the online rule with BPTT's total dL/dh_t as learning signal is BPTT (e-prop factorisation, I11)`, () => {
      fc.assert(
        fc.property(problemArb({ cell, activations: ALL_ACTIVATIONS }), (p) => {
          const H = p.model.cell.hiddenSize;
          const ref = bptt(p.model, p.params, p.sequence);
          const online = onlineRule(
            p.model,
            p.params,
            p.sequence,
            ref.stateGrads.map((g) => g.subarray(0, H)),
          );
          expect(paramsErr(online.grads, ref.grads)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });
});

describe('BP(λ) network gradient with a live synthesiser', () => {
  for (const cell of CELLS)
    it(`${cell}: any θ, β: netGrad = Σ_t (l_t + β ĝ_t) ∂s_t/∂Ψ (s_{t−1} fixed) + readout gradient (FD per step)`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell }), fc.double({ min: 0, max: 2, noNaN: true }), (p, beta) => {
          const T = p.sequence.inputs.length;
          const { state } = bpLambdaSequence(
            { model: p.model, synth: p.synth, params: p.params, theta: p.theta, options: { gamma: p.gamma, lambda: p.lambda, beta, synthClip: Infinity } },
            [p.sequence],
          );
          // One-step chunks: each step's loss plus β⟨ĝ_t, s_t⟩ (ĝ_t held constant, ĝ_T = 0), from s_{t−1} held fixed.
          const records = forward(p.model, p.params, p.sequence);
          const chunks = Array.from({ length: T }, (_, k): [number, number] => [k, k]);
          const inject = new Map(
            chunks.slice(0, -1).map(([k]) => [k, p.synth.predict(p.theta, records[k]!.step.state, k + 1).map((v) => beta * v)] as const),
          );
          expect(paramsErr(state.totals.netGrad, chunkedFdGrad(p.model, p.params, p.sequence, chunks, inject))).toBeLessThan(FD_TOL);
        }),
        fcParams(30),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: any θ, β: netGrad equals the network gradient of n = 1 synthetic gradients`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), fc.double({ min: 0, max: 2, noNaN: true }), (p, beta) => {
          const { state } = bpLambdaSequence(
            { model: p.model, synth: p.synth, params: p.params, theta: p.theta, options: { gamma: p.gamma, lambda: p.lambda, beta, synthClip: Infinity } },
            [p.sequence],
          );
          const sg = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n: 1, gamma: p.gamma, beta });
          expect(paramsErr(state.totals.netGrad, sg.grads)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });
});

describe('n-step synthetic gradients (BPTT + SG)', () => {
  for (const cell of CELLS)
    it(`${cell}: n = 1, 'discounted' target: the synthesiser update is the BP(0) offline update`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), fc.double({ min: 0, max: 2, noNaN: true }), (p, beta) => {
          const T = p.sequence.inputs.length;
          const r = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n: 1, gamma: p.gamma, beta, target: 'discounted' });
          // With n = 1 every state s_1..s_{T−1} is a chunk boundary.
          expect(r.boundaries).toEqual(Array.from({ length: T - 1 }, (_, k) => k));
          const traj = trajectory(p.model, p.params, p.sequence);
          const preds = predictions(p.synth, p.theta, traj);
          const bp0 = forwardViewUpdate(p.synth, p.theta, traj, lambdaTargets(traj, preds, p.gamma, 0));
          expect(scaledErr(r.synthUpdate, bp0)).toBeLessThan(TOL);
          // … and so the online BP(0) learner's accumulated update.
          const { state } = bpLambdaSequence(
            { model: p.model, synth: p.synth, params: p.params, theta: p.theta, options: { gamma: p.gamma, lambda: 0, beta, synthClip: Infinity } },
            [p.sequence],
          );
          expect(scaledErr(state.totals.synthUpdate, bp0)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: any n, either alignment: boundary targets are the n-step targets G^{(n)} and ĝ is g(s_b)`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell, activations: ALL_ACTIVATIONS }).chain((p) =>
            fc.tuple(fc.constant(p), fc.integer({ min: 1, max: p.sequence.inputs.length + 1 }), fc.constantFrom(...ALIGNS)),
          ),
          ([p, n, align]) => {
            const T = p.sequence.inputs.length;
            const r = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n, gamma: p.gamma, beta: 1, align });
            const expectedBoundaries = chunksOf(T, n, align)
              .slice(0, -1)
              .map(([, e]) => e);
            expect(r.boundaries).toEqual(expectedBoundaries);
            const traj = trajectory(p.model, p.params, p.sequence);
            const preds = predictions(p.synth, p.theta, traj);
            r.boundaries.forEach((b, i) => {
              expect(scaledErr(r.predictions[i]!, preds[b]!)).toBe(0);
              expect(scaledErr(r.targets[i]!, nStepTarget(traj, preds, p.gamma, b, n))).toBeLessThan(TOL);
            });
            // The authors' DNI target with β = 1 is the undiscounted (γ = 1) n-step target.
            const authors = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n, gamma: p.gamma, beta: 1, align, target: 'authors' });
            r.boundaries.forEach((b, i) =>
              expect(scaledErr(authors.targets[i]!, nStepTarget(traj, preds, 1, b, n))).toBeLessThan(TOL),
            );
          },
        ),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with θ = 0 the network gradient is truncated BPTT with the same n and alignment`, () => {
      fc.assert(
        fc.property(
          problemArb({ cell, activations: ALL_ACTIVATIONS, hyper: unitArb }).chain((p) =>
            fc.tuple(
              fc.constant(p),
              fc.integer({ min: 1, max: p.sequence.inputs.length + 1 }),
              fc.constantFrom(...ALIGNS),
              fc.double({ min: 0, max: 2, noNaN: true }),
            ),
          ),
          ([p, n, align, beta]) => {
            const S = p.model.cell.stateSize;
            const synth = linearSynthesiser(S, S);
            const r = nStepSg(p.model, synth, p.params, zeroSynthParams(synth), p.sequence, { n, gamma: p.gamma, beta, align });
            const tr = truncatedBptt(p.model, p.params, p.sequence, n, align);
            expect(paramsErr(r.grads, tr.grads)).toBeLessThan(TOL);
          },
        ),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with θ ≠ 0 the network gradient is each chunk's gradient plus β ĝ injected at its end (FD)`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell }).chain((p) =>
            fc.tuple(
              fc.constant(p),
              fc.integer({ min: 1, max: Math.max(1, p.sequence.inputs.length - 1) }),
              fc.constantFrom(...ALIGNS),
              fc.double({ min: 0, max: 2, noNaN: true }),
            ),
          ),
          ([p, n, align, beta]) => {
            const T = p.sequence.inputs.length;
            const r = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n, gamma: p.gamma, beta, align });
            const records = forward(p.model, p.params, p.sequence);
            const chunks = chunksOf(T, n, align);
            const inject = new Map(
              chunks
                .slice(0, -1)
                .map(([, e]) => [e, p.synth.predict(p.theta, records[e]!.step.state, e + 1).map((v) => beta * v)] as const),
            );
            expect(paramsErr(r.grads, chunkedFdGrad(p.model, p.params, p.sequence, chunks, inject))).toBeLessThan(FD_TOL);
          },
        ),
        fcParams(30),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with n ≥ T there are no boundaries, no update, and the gradient is BPTT (θ ≠ 0)`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell, activations: ALL_ACTIVATIONS }),
          fc.integer({ min: 0, max: 3 }),
          fc.constantFrom(...ALIGNS),
          (p, extra, align) => {
            const T = p.sequence.inputs.length;
            const r = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n: T + extra, gamma: p.gamma, beta: 1, align });
            expect(r.boundaries).toEqual([]);
            expect(r.synthUpdate.length).toBe(paramCount(p.synth.paramShapes));
            expect(maxAbs(r.synthUpdate)).toBe(0);
            expect(paramsErr(r.grads, bptt(p.model, p.params, p.sequence).grads)).toBeLessThan(TOL);
          },
        ),
        fcParams(40),
      );
    });
});
