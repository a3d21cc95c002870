/**
 * The forward-view targets of BP(λ) (spec §3, §5 T4/T5, §10 I3–I7): λ = 1 gives the exact future gradient,
 * λ = 0 one-step bootstrapping (step by step), the λ-recursion is the exponential mixture of n-step targets, and an
 * oracle synthesiser is a fixed point whose learning signal reproduces BPTT. Both cells, random sizes, masks, γ, λ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BpLambdaContext, bpLambdaInit, bpLambdaSequence, bpLambdaStep } from '../src/core/bplambda.js';
import {
  bptt,
  futureGradients,
  lambdaTargets,
  nStepTarget,
  predictions,
  trajectory,
  truncatedBptt,
} from '../src/core/bptt.js';
import { linearSynthesiser, tabularSynthesiser, zeroSynthParams } from '../src/core/synthesiser.js';
import { type Params, tensor } from '../src/core/tensor.js';
import {
  ALL_ACTIVATIONS,
  type SynthProblem,
  axpy,
  fcParams,
  maxAbs,
  paramsErr,
  problemArb,
  randomTheta,
  rowTimes,
  scaledErr,
  synthProblemArb,
  unitArb,
} from './arbitraries.js';

// Tolerance of the algebraic identities: both sides are O(T²) sums of products of ≤ T Jacobians with O(1) entries,
// evaluated in different orders in float64, so they differ by rounding only (~1e-13 relative to the largest entry;
// the spec observed ≤ 1e-15). 1e-10 relative to the vector's scale keeps a wide margin while any algorithmic slip
// (a missing γ, a wrong mixture weight, an off-by-one index) shows up at O(1e-3) or larger.
const TOL = 1e-10;

const CELLS = ['rnn', 'lstm'] as const;

const ctxOf = (p: SynthProblem, gamma: number, lambda: number, beta = 1, theta: Params = p.theta): BpLambdaContext => ({
  model: p.model,
  synth: p.synth,
  params: p.params,
  theta,
  options: { gamma, lambda, beta, synthClip: Infinity },
});

describe('λ = 1, γ = 1: the λ-target is the exact future gradient (I4)', () => {
  for (const cell of CELLS)
    it(`${cell}: lambdaTargets equal futureGradients exactly, whatever ĝ (θ of scale 1e3)`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell, activations: ALL_ACTIVATIONS }).chain((p) =>
            fc.tuple(fc.constant(p), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
          ),
          ([p, seed]) => {
            // Huge predictions: any leak of ĝ into the target would be visible at the 1e0 level.
            const theta = randomTheta(p.synth, seed, 1e3);
            const traj = trajectory(p.model, p.params, p.sequence);
            const G = futureGradients(traj, 1);
            const preds = predictions(p.synth, theta, traj);
            const Gl = lambdaTargets(traj, preds, 1, 1);
            expect(Gl.length).toBe(G.length);
            // The ĝ term enters as 0·ĝ = 0 exactly, and the rest is the same float operations: bit-for-bit equal
            // (up to the sign of zero, which maxAbs ignores).
            Gl.forEach((g, k) => expect(maxAbs(axpy(g, -1, G[k]!))).toBe(0));
          },
        ),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: the TD errors telescope, Σ_{k≥t} δ_k Φ_{k,t} = G_t − ĝ_t`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), (p) => {
          const T = p.sequence.inputs.length;
          const { steps } = bpLambdaSequence(ctxOf(p, 1, 1), [p.sequence]);
          const traj = trajectory(p.model, p.params, p.sequence);
          const G = futureGradients(traj, 1);
          const preds = predictions(p.synth, p.theta, traj);
          // δ for state s_{j+1} (0-based j) is reported at step j+2.
          const delta = Array.from({ length: T - 1 }, (_, j) => steps[j + 1]!.tdErrors![0]!);
          for (let j = 0; j < T - 1; j++) {
            let sum: Float64Array = new Float64Array(G[j]!.length);
            for (let m = j; m < T - 1; m++) {
              let v: Float64Array = delta[m]!;
              for (let q = m; q >= j + 1; q--) v = rowTimes(v, traj.jacobians[q]!); // δ_m Φ_{m,j} = δ_m J_m ⋯ J_{j+1}
              sum = axpy(sum, 1, v);
            }
            expect(scaledErr(sum, axpy(G[j]!, -1, preds[j]!))).toBeLessThan(TOL);
          }
        }),
        fcParams(40),
      );
    });
});

describe('λ = 0 is one-step bootstrapping (I5)', () => {
  for (const cell of CELLS)
    it(`${cell}: lambdaTargets = G^{(1)}, E_t = ∇θĝ_t and each step's δE = (G^{(1)}_t − ĝ_t)∇θĝ_t`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), (p) => {
          const T = p.sequence.inputs.length;
          const traj = trajectory(p.model, p.params, p.sequence);
          const preds = predictions(p.synth, p.theta, traj);
          const G1 = preds.map((_, k) => nStepTarget(traj, preds, p.gamma, k, 1));
          const Gl = lambdaTargets(traj, preds, p.gamma, 0);
          Gl.forEach((g, k) => expect(scaledErr(g, G1[k]!)).toBeLessThan(TOL));
          const ctx = ctxOf(p, p.gamma, 0);
          let state = bpLambdaInit(ctx, 1);
          for (let k = 0; k < T; k++) {
            const [result, next] = bpLambdaStep(ctx, state, {
              inputs: [p.sequence.inputs[k]!],
              targets: [p.sequence.targets[k] ?? null],
              final: k === T - 1,
            });
            if (k === 0) expect(result.synthUpdate).toBeNull();
            else {
              // Step k+1 carries the contribution of state s_k: with γλ = 0 the trace is ∇θĝ_k alone, so the update
              // is, per step and not just in sum, the one-step regression (G^{(1)}_k − ĝ_k)∇θĝ_k.
              const s = traj.records[k - 1]!.step.state;
              const expected = rowTimes(axpy(G1[k - 1]!, -1, preds[k - 1]!), p.synth.paramJacobian(p.theta, s, k));
              expect(scaledErr(result.synthUpdate!, expected)).toBeLessThan(TOL);
            }
            if (k < T - 1) {
              const jac = p.synth.paramJacobian(p.theta, traj.records[k]!.step.state, k + 1);
              expect(scaledErr(next.carry[0]!.trace!.data, jac.data)).toBe(0); // E_t = ∇θĝ_t, no J·E term at all
            }
            state = next;
          }
        }),
        fcParams(40),
      );
    });
});

describe('the λ-target is the λ-mixture of n-step targets (I3)', () => {
  for (const cell of CELLS)
    it(`${cell}: G^λ_t = (1−λ) Σ_{n=1}^{T−t−1} λ^{n−1} G^{(n)}_t + λ^{T−t−1} G_t`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), (p) => {
          const T = p.sequence.inputs.length;
          const { gamma, lambda } = p;
          const traj = trajectory(p.model, p.params, p.sequence);
          const preds = predictions(p.synth, p.theta, traj);
          const G = futureGradients(traj, gamma);
          const Gl = lambdaTargets(traj, preds, gamma, lambda);
          for (let k = 0; k < T - 1; k++) {
            const t = k + 1;
            // Math.pow(0, 0) = 1, so λ = 0 keeps weight 1 on G^{(1)} (and on G_t at t = T−1, where the sum is empty).
            let mix: Float64Array = G[k]!.map((v) => lambda ** (T - t - 1) * v);
            let wsum = lambda ** (T - t - 1);
            for (let n = 1; n <= T - t - 1; n++) {
              const w = (1 - lambda) * lambda ** (n - 1);
              mix = axpy(mix, w, nStepTarget(traj, preds, gamma, k, n));
              wsum += w;
            }
            expect(Math.abs(wsum - 1)).toBeLessThan(1e-12); // the weights sum to 1 (a sanity check of the test)
            expect(scaledErr(Gl[k]!, mix)).toBeLessThan(TOL);
          }
          // n ≥ T − t reaches the end of the sequence: no bootstrap, the n-step target is G_t itself.
          for (let k = 0; k < T - 1; k++) expect(scaledErr(nStepTarget(traj, preds, gamma, k, T), G[k]!)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });
});

describe('oracle synthesiser (I6, I7)', () => {
  for (const cell of CELLS)
    it(`${cell}: with ĝ_t = G_t (tabular), every TD error is 0 and G^λ = G, for every γ and λ`, () => {
      fc.assert(
        fc.property(problemArb({ cell, activations: ALL_ACTIVATIONS, hyper: unitArb }), (p) => {
          const T = p.sequence.inputs.length;
          const S = p.model.cell.stateSize;
          const traj = trajectory(p.model, p.params, p.sequence);
          const G = futureGradients(traj, p.gamma);
          const synth = tabularSynthesiser(T - 1, S, S);
          const theta: Params = { table: tensor([T - 1, S], G.flatMap((g) => Array.from(g))) };
          const scale = Math.max(1, ...G.map(maxAbs));
          const preds = predictions(synth, theta, traj);
          preds.forEach((g, k) => expect(scaledErr(g, G[k]!)).toBe(0));
          const Gl = lambdaTargets(traj, preds, p.gamma, p.lambda);
          Gl.forEach((g, k) => expect(scaledErr(g, G[k]!)).toBeLessThan(TOL));
          const { steps, state } = bpLambdaSequence(
            { model: p.model, synth, params: p.params, theta, options: { gamma: p.gamma, lambda: p.lambda, beta: 1, synthClip: Infinity } },
            [p.sequence],
          );
          for (let k = 1; k < T; k++) expect(maxAbs(steps[k]!.tdErrors![0]!) / scale).toBeLessThan(TOL);
          expect(maxAbs(state.totals.synthUpdate) / scale).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with γ = β = 1 and ĝ_t = G_t, the BP(λ) network gradient is the BPTT gradient (every parameter)`, () => {
      fc.assert(
        fc.property(problemArb({ cell, activations: ALL_ACTIVATIONS, hyper: unitArb }), (p) => {
          const T = p.sequence.inputs.length;
          const S = p.model.cell.stateSize;
          const traj = trajectory(p.model, p.params, p.sequence);
          const synth = tabularSynthesiser(T - 1, S, S);
          const theta: Params = { table: tensor([T - 1, S], futureGradients(traj, 1).flatMap((g) => Array.from(g))) };
          const { state } = bpLambdaSequence(
            { model: p.model, synth, params: p.params, theta, options: { gamma: 1, lambda: p.lambda, beta: 1, synthClip: Infinity } },
            [p.sequence],
          );
          const ref = bptt(p.model, p.params, p.sequence).grads;
          expect(Object.keys(state.totals.netGrad).sort()).toEqual(Object.keys(ref).sort());
          expect(paramsErr(state.totals.netGrad, ref)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });

  for (const cell of CELLS)
    it(`${cell}: with θ = 0 (ĝ ≡ 0) the BP(λ) network gradient is the truncation-1 gradient`, () => {
      fc.assert(
        fc.property(
          problemArb({ cell, activations: ALL_ACTIVATIONS, hyper: unitArb }),
          fc.double({ min: 0, max: 2, noNaN: true }),
          (p, beta) => {
            const S = p.model.cell.stateSize;
            const synth = linearSynthesiser(S, S);
            const { state } = bpLambdaSequence(
              {
                model: p.model,
                synth,
                params: p.params,
                theta: zeroSynthParams(synth),
                options: { gamma: p.gamma, lambda: p.lambda, beta, synthClip: Infinity },
              },
              [p.sequence],
            );
            expect(paramsErr(state.totals.netGrad, truncatedBptt(p.model, p.params, p.sequence, 1).grads)).toBeLessThan(TOL);
          },
        ),
        fcParams(40),
      );
    });
});
