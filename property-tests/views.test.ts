/**
 * Accumulate BP(λ), full-state mode: the backward view (TD errors × eligibility traces, accumulated online by
 * `bpLambdaStep`) against forward views computed from whole trajectories (spec §5 T1/T2, §10 I1, I2, I8, I13),
 * plus the purity of the step function. Both cells, random sizes, masks, γ, λ, linear and MLP synthesisers with
 * random nonzero θ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BpLambdaContext,
  type BpLambdaState,
  bpLambdaInit,
  bpLambdaSequence,
  bpLambdaStep,
} from '../src/core/bplambda.js';
import { forwardViewUpdate, lambdaTargets, predictions, trajectory } from '../src/core/bptt.js';
import type { Sequence } from '../src/core/model.js';
import { type Params, type Tensor, paramCount } from '../src/core/tensor.js';
import {
  ALL_ACTIVATIONS,
  type SynthProblem,
  axpy,
  extraSequencesArb,
  fcParams,
  matTimes,
  maxAbs,
  paramsErr,
  rowTimes,
  scaledErr,
  synthProblemArb,
} from './arbitraries.js';

// Tolerance of the algebraic identities. Both sides are finite sums of O(T²) = O(36) products of at most T = 6
// Jacobians (entries O(1), S ≤ 8, P ≤ ~100) evaluated in float64 in different orders, so they differ only by
// rounding: a few hundred operations × ε ≈ 2.2e-16 × the magnitude of the terms, i.e. ~1e-13 relative to the
// largest entry (the spec observed 9e-16). 1e-10 relative to the vector's scale leaves three orders of margin
// and is still ~10 orders below any algorithmic discrepancy (a wrong index or factor gives O(1) errors).
const TOL = 1e-10;

const CELLS = ['rnn', 'lstm'] as const;
const KINDS = ['linear', 'mlp', 'tabular'] as const;

const ctxOf = (p: SynthProblem, gamma = p.gamma, lambda = p.lambda, beta = 1): BpLambdaContext => ({
  model: p.model,
  synth: p.synth,
  params: p.params,
  theta: p.theta,
  options: { gamma, lambda, beta, synthClip: Infinity },
});

/** Run BP(λ) step by step over one sequence; returns the state after each step h = 1..T. */
const runSteps = (ctx: BpLambdaContext, seq: Sequence): BpLambdaState[] => {
  const T = seq.inputs.length;
  let state = bpLambdaInit(ctx, 1);
  const out: BpLambdaState[] = [];
  for (let k = 0; k < T; k++) {
    [, state] = bpLambdaStep(ctx, state, { inputs: [seq.inputs[k]!], targets: [seq.targets[k] ?? null], final: k === T - 1 });
    out.push(state);
  }
  return out;
};

describe('BP(λ) backward view equals forward view (I1)', () => {
  for (const cell of CELLS)
    for (const kind of KINDS)
      it(`${cell}, ${kind} synthesiser with random θ: Σ δ_t E_t = Σ (G^λ_t − ĝ_t) ∇θĝ_t`, () => {
        fc.assert(
          fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }, [kind]), (p) => {
            const { state } = bpLambdaSequence(ctxOf(p), [p.sequence]);
            const traj = trajectory(p.model, p.params, p.sequence);
            const preds = predictions(p.synth, p.theta, traj);
            const fwd = forwardViewUpdate(p.synth, p.theta, traj, lambdaTargets(traj, preds, p.gamma, p.lambda));
            expect(state.totals.synthUpdate.length).toBe(paramCount(p.synth.paramShapes));
            expect(scaledErr(state.totals.synthUpdate, fwd)).toBeLessThan(TOL);
          }),
          fcParams(40),
        );
      });
});

/**
 * Test-side interim λ-targets for horizon h (spec §3.4), 0-based entry k = state s_{k+1}, k = 0..h−2:
 *   G^{λ|h}_{h−1} = (l_h + γ ĝ_h) J_h,   G^{λ|h}_t = (l_{t+1} + γ[(1−λ) ĝ_{t+1} + λ G^{λ|h}_{t+1}]) J_{t+1}
 * with ĝ_T = 0 (so h = T gives the full λ-targets).
 */
const interimTargets = (
  immediate: readonly Float64Array[],
  jacobians: readonly Tensor[],
  preds: readonly Float64Array[], // ĝ_{k+1} for k = 0..T−1, ĝ_T = 0
  gamma: number,
  lambda: number,
  h: number,
): Float64Array[] => {
  const out = new Array<Float64Array>(h - 1);
  if (h < 2) return out;
  out[h - 2] = rowTimes(axpy(immediate[h - 1]!, gamma, preds[h - 1]!), jacobians[h - 1]!);
  for (let k = h - 3; k >= 0; k--) {
    const mix = axpy(
      preds[k + 1]!.map((g) => (1 - lambda) * g),
      lambda,
      out[k + 1]!,
    );
    out[k] = rowTimes(axpy(immediate[k + 1]!, gamma, mix), jacobians[k + 1]!);
  }
  return out;
};

describe('BP(λ) prefix / interim equivalence at every horizon (I2)', () => {
  for (const cell of CELLS)
    it(`${cell}: after h steps, Σ_{t<h} δ_t E_t = Σ_{t<h} (G^{λ|h}_t − ĝ_t) ∇θĝ_t, for h = 1..T`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }, ['linear', 'mlp', 'tabular']), (p) => {
          const T = p.sequence.inputs.length;
          const P = paramCount(p.synth.paramShapes);
          const traj = trajectory(p.model, p.params, p.sequence);
          const states = traj.records.map((r) => r.step.state);
          const immediate = traj.records.map((r) => r.immediate);
          const preds = states.map((s, k) => (k === T - 1 ? new Float64Array(s.length) : p.synth.predict(p.theta, s, k + 1)));
          const jac = states.map((s, k) => p.synth.paramJacobian(p.theta, s, k + 1));
          const after = runSteps(ctxOf(p), p.sequence);
          for (let h = 1; h <= T; h++) {
            // Horizon h < T bootstraps from the live prediction ĝ_h = g(s_h) = preds[h−1]; h = T uses ĝ_T = 0.
            const targets = interimTargets(immediate, traj.jacobians, preds, p.gamma, p.lambda, h);
            const expected = new Float64Array(P);
            targets.forEach((G, k) => expected.set(axpy(expected, 1, rowTimes(axpy(G, -1, preds[k]!), jac[k]!))));
            expect(scaledErr(after[h - 1]!.totals.synthUpdate, expected)).toBeLessThan(TOL);
          }
        }),
        fcParams(40),
      );
    });
});

describe('BP(λ) eligibility trace closed form (I8)', () => {
  for (const cell of CELLS)
    it(`${cell}: E_t = Σ_{k≤t} (γλ)^{t−k} Φ_{t,k} ∇θĝ_k after every non-final step`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), (p) => {
          const T = p.sequence.inputs.length;
          const S = p.model.cell.stateSize;
          const P = paramCount(p.synth.paramShapes);
          const gl = p.gamma * p.lambda;
          const traj = trajectory(p.model, p.params, p.sequence);
          const states = traj.records.map((r) => r.step.state);
          const grad = states.map((s, k) => p.synth.paramJacobian(p.theta, s, k + 1));
          const after = runSteps(ctxOf(p), p.sequence);
          for (let t = 0; t < T - 1; t++) {
            // Explicit Σ_k (γλ)^{t−k} Φ_{t,k} ∇θĝ_k, Φ_{t,k} = J_t ⋯ J_{k+1} (0-based jacobians[k+1..t]), Φ_{t,t} = I.
            let E: Tensor = { shape: [S, P], data: new Float64Array(S * P) };
            for (let k = 0; k <= t; k++) {
              let term: Tensor = grad[k]!;
              for (let m = k + 1; m <= t; m++) term = matTimes(traj.jacobians[m]!, term);
              // Math.pow(0, 0) = 1: the k = t term always has weight 1, also when γλ = 0.
              E = { shape: E.shape, data: axpy(E.data, gl ** (t - k), term.data) };
            }
            const trace = after[t]!.carry[0]!.trace;
            expect(trace).not.toBeNull();
            expect(trace!.shape).toEqual([S, P]);
            expect(scaledErr(trace!.data, E.data)).toBeLessThan(TOL);
          }
          // After the final step the learner has reset its per-example carry for the next sequence.
          expect(after[T - 1]!.carry[0]!.trace).toBeNull();
        }),
        fcParams(40),
      );
    });
});

describe('BP(λ) batch independence (I13)', () => {
  for (const cell of CELLS)
    it(`${cell}: a batch of 2–4 sequences gives the mean of the single-example runs`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell, activations: ALL_ACTIVATIONS }).chain((p) =>
            fc.tuple(fc.constant(p), extraSequencesArb(p, 1, 3), fc.double({ min: 0, max: 2, noNaN: true })),
          ),
          ([p, extra, beta]) => {
            const batch = [p.sequence, ...extra];
            const B = batch.length;
            const ctx = ctxOf(p, p.gamma, p.lambda, beta);
            const together = bpLambdaSequence(ctx, batch);
            const singles = batch.map((seq) => bpLambdaSequence(ctx, [seq]));
            const mean = (vs: Float64Array[]) => vs.reduce((a, v) => axpy(a, 1 / B, v), new Float64Array(vs[0]!.length));
            expect(scaledErr(together.state.totals.synthUpdate, mean(singles.map((r) => r.state.totals.synthUpdate)))).toBeLessThan(TOL);
            const meanGrad: Params = Object.fromEntries(
              Object.entries(together.state.totals.netGrad).map(([k, t]) => [
                k,
                { shape: t.shape, data: mean(singles.map((r) => r.state.totals.netGrad[k]!.data)) },
              ]),
            );
            expect(paramsErr(together.state.totals.netGrad, meanGrad)).toBeLessThan(TOL);
            expect(Math.abs(together.state.totals.loss - singles.reduce((a, r) => a + r.state.totals.loss, 0) / B)).toBeLessThan(
              TOL * Math.max(1, together.state.totals.loss),
            );
            // Per-example quantities are exactly those of the example's own run.
            together.steps.forEach((st, k) =>
              batch.forEach((_, b) => {
                const single = singles[b]!.steps[k]!;
                expect(scaledErr(st.states[b]!, single.states[0]!)).toBe(0);
                expect(scaledErr(st.predictions[b]!, single.predictions[0]!)).toBe(0);
                expect(scaledErr(st.learningSignals![b]!, single.learningSignals![0]!)).toBe(0);
                if (k === 0) expect(st.tdErrors).toBeNull();
                else expect(scaledErr(st.tdErrors![b]!, single.tdErrors![0]!)).toBe(0);
              }),
            );
          },
        ),
        fcParams(30),
      );
    });
});

/** A structural deep copy that keeps Float64Arrays (and the sign of zeros) intact. */
const snapshot = <X>(x: X): X => structuredClone(x);

describe('bpLambdaStep purity', () => {
  it('never mutates params, θ, the carried state or the step input (both cells, batch of 1–3)', () => {
    fc.assert(
      fc.property(
        synthProblemArb({ activations: ALL_ACTIVATIONS }).chain((p) => fc.tuple(fc.constant(p), extraSequencesArb(p, 0, 2))),
        ([p, extra]) => {
          const batch = [p.sequence, ...extra];
          const T = p.sequence.inputs.length;
          const ctx = ctxOf(p);
          const paramsBefore = snapshot(p.params);
          const thetaBefore = snapshot(p.theta);
          let state = bpLambdaInit(ctx, batch.length);
          for (let k = 0; k < T; k++) {
            const input = {
              inputs: batch.map((q) => q.inputs[k]!),
              targets: batch.map((q) => q.targets[k] ?? null),
              final: k === T - 1,
            };
            const stateBefore = snapshot(state);
            const inputBefore = snapshot(input);
            const [result, next] = bpLambdaStep(ctx, state, input);
            expect(state).toEqual(stateBefore);
            expect(input).toEqual(inputBefore);
            expect(p.params).toEqual(paramsBefore);
            expect(p.theta).toEqual(thetaBefore);
            expect(result.t).toBe(k + 1);
            state = next;
          }
          // The results are finite (a guard that the comparisons above are about real numbers).
          expect(Number.isFinite(maxAbs(state.totals.synthUpdate))).toBe(true);
        },
      ),
      fcParams(30),
    );
  });
});
