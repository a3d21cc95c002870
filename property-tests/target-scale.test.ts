/**
 * BP(λ)'s target scale c (`BpLambdaOptions.targetScale`): the synthesiser learns c × the future gradient and the
 * learning signal is l_t + (β/c) ĝ_t. The authors' code has c = 1/B (its output derivatives carry the batch
 * mean's 1/B, spec §8.2), the spec's convention is c = 1.
 *
 * n-step synthetic gradients take the same option (regressed on c × their target, injecting (β/c) ĝ).
 *
 * Properties, for the full-state mode (RNN and LSTM), the LSTM cell mode and n-step SG:
 * - the backward view still equals the forward view, now with the c-scaled λ-targets (I1 for any c);
 * - with a linear synthesiser, c only rescales θ: running with (cθ, c) gives c × the synthesiser update, c × the
 *   TD errors and c × the predictions of the run with (θ, 1), and the same learning signals and network gradient.
 *   (The second run is derived from the first by algebra, not by reading the implementation: ĝ is linear in θ,
 *   every target term is linear in (c ε, ĝ), and ∇θĝ does not depend on θ.)
 * - a target scale that is not a finite positive number is refused, naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nStepSg } from '../src/core/baselines.js';
import { type BpLambdaContext, bpLambdaSequence } from '../src/core/bplambda.js';
import { forwardViewUpdate, lambdaTargets, predictions, trajectory } from '../src/core/bptt.js';
import { InvalidInputError } from '../src/core/errors.js';
import { cellModeForwardView } from '../src/core/cellMode.js';
import { forward } from '../src/core/model.js';
import { linearSynthesiser } from '../src/core/synthesiser.js';
import type { Batch } from '../src/core/model.js';
import { type Params, scaleParams, vscale } from '../src/core/tensor.js';
import { ALL_ACTIVATIONS, type SynthProblem, fcParams, paramsErr, problemArb, randomTheta, scaledErr, synthProblemArb, unitArb } from './arbitraries.js';

// Both sides of every comparison are the same finite sums of O(T²) products (T ≤ 6, entries O(1)) in float64,
// evaluated with the factor c applied at different places, so they differ by rounding only: ~1e-15 relative to
// the scale of the vector. 1e-10 leaves five orders of margin and is still far below any missing or misplaced
// factor c (an error of order |1 − c| ≥ 1e-3 of the vector's scale for the c drawn here).
const TOL = 1e-10;

/** c log-uniform in [1e-3, 1e3] but at least 1e-3 away from 1 in ratio (so a dropped c is an O(1e-3) error). */
const scaleArb = fc
  .double({ min: -3, max: 3, noNaN: true })
  .filter((e) => Math.abs(e) > 5e-4)
  .map((e) => 10 ** e);

/** BP(λ) in the cell mode (the one BP(λ) step with the cell mode's adapter). */
const cellModeSequence = (ctx: BpLambdaContext, batch: Batch) => bpLambdaSequence({ ...ctx, mode: 'cell' }, batch);

const betaArb = fc.double({ min: 0.05, max: 2, noNaN: true });

/**
 * Run a whole-sequence BP(λ) function with (θ, c = 1) and with (cθ, c); check that the second gives c × the first's
 * synthesiser update and the same network gradient, and return both runs for per-step checks.
 */
const scaledPair = <R extends { readonly state: { readonly totals: { readonly synthUpdate: Float64Array; readonly netGrad: Params } } }>(
  run: (ctx: BpLambdaContext, batch: Batch) => R,
  p: SynthProblem,
  c: number,
  beta: number,
): [R, R] => {
  const base = { gamma: p.gamma, lambda: p.lambda, beta, synthClip: Infinity };
  const one = run({ model: p.model, synth: p.synth, params: p.params, theta: p.theta, options: base }, [p.sequence]);
  const scaled = run({ model: p.model, synth: p.synth, params: p.params, theta: scaleParams(p.theta, c), options: { ...base, targetScale: c } }, [p.sequence]);
  expect(scaledErr(scaled.state.totals.synthUpdate, vscale(one.state.totals.synthUpdate, c))).toBeLessThan(TOL);
  expect(paramsErr(scaled.state.totals.netGrad, one.state.totals.netGrad)).toBeLessThan(TOL);
  return [one, scaled];
};

describe('target scale c, full-state mode', () => {
  for (const cell of ['rnn', 'lstm'] as const) {
    it(`${cell}: backward view = forward view with c-scaled λ-targets (linear and MLP synthesisers)`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), scaleArb, (p, c) => {
          const ctx: BpLambdaContext = {
            model: p.model, synth: p.synth, params: p.params, theta: p.theta,
            options: { gamma: p.gamma, lambda: p.lambda, beta: 1, synthClip: Infinity, targetScale: c },
          };
          const { state } = bpLambdaSequence(ctx, [p.sequence]);
          const traj = trajectory(p.model, p.params, p.sequence);
          const preds = predictions(p.synth, p.theta, traj);
          const fwd = forwardViewUpdate(p.synth, p.theta, traj, lambdaTargets(traj, preds, p.gamma, p.lambda, c));
          expect(scaledErr(state.totals.synthUpdate, fwd)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });

    it(`${cell}: with a linear synthesiser, (cθ, c) gives c × the update and the same network gradient as (θ, 1)`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }, ['linear']), scaleArb, betaArb, (p, c, beta) => {
          const [one, scaled] = scaledPair(bpLambdaSequence, p, c, beta);
          one.steps.forEach((s, k) => {
            const t = scaled.steps[k]!;
            expect(scaledErr(t.learningSignals![0]!, s.learningSignals![0]!)).toBeLessThan(TOL);
            expect(scaledErr(t.predictions[0]!, vscale(s.predictions[0]!, c))).toBeLessThan(TOL);
            if (s.tdErrors !== null) expect(scaledErr(t.tdErrors![0]!, vscale(s.tdErrors[0]!, c))).toBeLessThan(TOL);
          });
        }),
        fcParams(40),
      );
    });
  }
});

/** An LSTM problem with the cell mode's linear synthesiser [h; c] (2H) → H and random nonzero θ. */
const cellProblemArb = problemArb({ cell: 'lstm', hyper: unitArb, maxH: 3 }).chain((p) =>
  fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => {
    const H = p.model.cell.hiddenSize;
    const synth = linearSynthesiser(2 * H, H);
    return { ...p, synth, theta: randomTheta(synth, seed) };
  }),
);

describe('target scale c, LSTM cell mode', () => {
  it('backward view = forward view with the c-scaled c-space targets', () => {
    fc.assert(
      fc.property(cellProblemArb, scaleArb, (p, c) => {
        const ctx: BpLambdaContext = {
          model: p.model, synth: p.synth, params: p.params, theta: p.theta,
          options: { gamma: p.gamma, lambda: p.lambda, beta: 1, synthClip: Infinity, targetScale: c },
        };
        const { state } = cellModeSequence(ctx, [p.sequence]);
        const fwd = cellModeForwardView(ctx, forward(p.model, p.params, p.sequence), p.gamma, p.lambda, c);
        expect(scaledErr(state.totals.synthUpdate, fwd.update)).toBeLessThan(TOL);
      }),
      fcParams(40),
    );
  });

  it('(cθ, c) gives c × the update, the same synthetic signals and the same network gradient as (θ, 1)', () => {
    fc.assert(
      fc.property(cellProblemArb, scaleArb, betaArb, (p, c, beta) => {
        const [one, scaled] = scaledPair(cellModeSequence, p, c, beta);
        one.steps.forEach((s, k) => {
          const t = scaled.steps[k]!;
          if (s.learningSignals !== null) expect(scaledErr(t.learningSignals![0]!, s.learningSignals![0]!)).toBeLessThan(TOL);
          if (s.tdErrors !== null) expect(scaledErr(t.tdErrors![0]!, vscale(s.tdErrors[0]!, c))).toBeLessThan(TOL);
        });
      }),
      fcParams(40),
    );
  });
});

describe('target scale c, n-step synthetic gradients', () => {
  for (const cell of ['rnn', 'lstm'] as const) {
    it(`${cell}: n = 1 with the discounted target is BP(0) at the same c (synthesiser update and network gradient)`, () => {
      fc.assert(
        fc.property(synthProblemArb({ cell, activations: ALL_ACTIVATIONS }), scaleArb, betaArb, (p, c, beta) => {
          const sg = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, { n: 1, gamma: p.gamma, beta, target: 'discounted', targetScale: c });
          const { state } = bpLambdaSequence(
            { model: p.model, synth: p.synth, params: p.params, theta: p.theta, options: { gamma: p.gamma, lambda: 0, beta, synthClip: Infinity, targetScale: c } },
            [p.sequence],
          );
          expect(scaledErr(sg.synthUpdate, state.totals.synthUpdate)).toBeLessThan(TOL);
          expect(paramsErr(sg.grads, state.totals.netGrad)).toBeLessThan(TOL);
        }),
        fcParams(40),
      );
    });

    it(`${cell}: with a linear synthesiser, (cθ, c) gives c × the update and targets and the same network gradient, any n and target`, () => {
      fc.assert(
        fc.property(
          synthProblemArb({ cell, activations: ALL_ACTIVATIONS }, ['linear']),
          scaleArb,
          betaArb,
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom('discounted' as const, 'authors' as const),
          fc.constantFrom('start' as const, 'end' as const),
          (p, c, beta, n, target, align) => {
            const o = { n, gamma: p.gamma, beta, target, align };
            const one = nStepSg(p.model, p.synth, p.params, p.theta, p.sequence, o);
            const scaled = nStepSg(p.model, p.synth, p.params, scaleParams(p.theta, c), p.sequence, { ...o, targetScale: c });
            expect(scaledErr(scaled.synthUpdate, vscale(one.synthUpdate, c))).toBeLessThan(TOL);
            expect(paramsErr(scaled.grads, one.grads)).toBeLessThan(TOL);
            one.targets.forEach((t, i) => expect(scaledErr(scaled.targets[i]!, vscale(t, c))).toBeLessThan(TOL));
          },
        ),
        fcParams(40),
      );
    });
  }
});

describe('target scale validation', () => {
  it('refuses a target scale that is not a finite number > 0, naming options.targetScale', () => {
    fc.assert(
      fc.property(
        synthProblemArb({ cell: 'rnn' }, ['linear']),
        fc.constantFrom(0, -1, -1e-9, Number.NaN, Infinity, -Infinity),
        (p, c) => {
          const ctx: BpLambdaContext = {
            model: p.model, synth: p.synth, params: p.params, theta: p.theta,
            options: { gamma: p.gamma, lambda: p.lambda, beta: 1, synthClip: Infinity, targetScale: c },
          };
          const run = () => bpLambdaSequence(ctx, [p.sequence]);
          expect(run).toThrow(InvalidInputError);
          expect(run).toThrow(/options\.targetScale is/);
        },
      ),
      fcParams(12),
    );
  });
});
