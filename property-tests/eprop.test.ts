/**
 * I11 (spec §6.2, §10): the e-prop factorisation is exact when it is fed the true total learning signal.
 *
 * For the LSTM the eligibility traces follow c_t = f⊙c_{t-1} + i⊙g with h_{t-1} held fixed; multiplied by the
 * true total dL/dh_t (the h-part of BPTT's state gradient dL/ds_t, s_t = [h_t; c_t], i.e. the gradient that reaches
 * h_t from all its consumers with c_t held as a separate state variable) they give the BPTT gradient of every
 * parameter, the output gate's recurrent weights included. For the vanilla RNN the traces are the immediate
 * derivatives, so the same holds with S = H, and with the default (immediate-loss-only) signal the online rule
 * is truncated BPTT with chunks of length 1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { onlineRule } from '../src/core/baselines.js';
import { bptt, truncatedBptt } from '../src/core/bptt.js';
import { fcParams, problemArb, relErr } from './arbitraries.js';

// Both sides are exact closed forms of the same derivative (no finite differences, no iteration); they differ
// only in the order of float64 summation over T ≤ 6 steps of products of O(1) factors (gates, Jacobians with
// entries ≲ 2, states ≲ 1). Rounding is then ~1e-15 relative; 1e-10 (relative, or absolute below 1) leaves
// five orders of magnitude and still catches any missing term, which would be O(1e-3) or larger.
const EXACT_TOL = 1e-10;

const PARAM_NAMES = {
  lstm: ['W_ih', 'W_hh', 'b', 'W_out', 'b_out'],
  rnn: ['W_in', 'W_rec', 'b', 'W_out', 'b_out'],
} as const;

describe('e-prop with the true learning signal equals BPTT (I11)', () => {
  it('LSTM: onlineRule with signals = h-part of dL/ds_t gives the BPTT gradient of W_ih, W_hh, b and the readout', () => {
    fc.assert(
      fc.property(problemArb({ cell: 'lstm', maxT: 6, maxH: 3 }), (p) => {
        const H = p.model.cell.hiddenSize;
        const ref = bptt(p.model, p.params, p.sequence);
        const signals = ref.stateGrads.map((g) => g.subarray(0, H));
        const online = onlineRule(p.model, p.params, p.sequence, signals);
        for (const name of PARAM_NAMES.lstm) {
          expect(relErr(online.grads[name]!.data, ref.grads[name]!.data), name).toBeLessThan(EXACT_TOL);
        }
        expect(Math.abs(online.loss - ref.loss)).toBeLessThan(EXACT_TOL * Math.max(1, ref.loss));
      }),
      fcParams(40),
    );
  });

  it('LSTM: the traces matter: the immediate-only signal (default) differs from BPTT once a loss lies in the future', () => {
    // Sanity check that the property above is not vacuous: with the default signal ε_t (immediate loss only)
    // the recurrent part of the gradient is missing. Cases where every future gradient vanishes (the only
    // target at step 1) are excluded; then the two coincide exactly.
    fc.assert(
      fc.property(problemArb({ cell: 'lstm', maxT: 6, maxH: 3 }), (p) => {
        fc.pre(p.sequence.targets.some((y, k) => k > 0 && y !== null));
        const ref = bptt(p.model, p.params, p.sequence);
        const online = onlineRule(p.model, p.params, p.sequence);
        // Compare W_ih (not W_hh): with s_0 = 0 the step-1 contributions to W_hh vanish (pre-synaptic h_0 = 0), so
        // for T = 2 the W_hh gradients coincide; the missing term dL_{>1}/dh_1 shows in W_ih and b.
        const err = Math.max(
          relErr(online.grads['W_ih']!.data, ref.grads['W_ih']!.data),
          relErr(online.grads['b']!.data, ref.grads['b']!.data),
        );
        expect(err).toBeGreaterThan(1e-8);
        // The readout gradient is immediate in both.
        expect(relErr(online.grads['W_out']!.data, ref.grads['W_out']!.data)).toBeLessThan(EXACT_TOL);
      }),
      fcParams(30),
    );
  });

  it('RNN: onlineRule with signals = dL/dh_t equals BPTT for W_in, W_rec, b and the readout', () => {
    fc.assert(
      fc.property(problemArb({ cell: 'rnn', maxT: 6, maxH: 3 }), (p) => {
        const ref = bptt(p.model, p.params, p.sequence);
        const online = onlineRule(p.model, p.params, p.sequence, ref.stateGrads);
        for (const name of PARAM_NAMES.rnn) {
          expect(relErr(online.grads[name]!.data, ref.grads[name]!.data), name).toBeLessThan(EXACT_TOL);
        }
      }),
      fcParams(40),
    );
  });

  it('RNN: onlineRule with the default immediate signal equals truncatedBptt with n = 1', () => {
    fc.assert(
      fc.property(problemArb({ cell: 'rnn', maxT: 6, maxH: 3 }), (p) => {
        const ref = truncatedBptt(p.model, p.params, p.sequence, 1);
        const online = onlineRule(p.model, p.params, p.sequence);
        for (const name of PARAM_NAMES.rnn) {
          expect(relErr(online.grads[name]!.data, ref.grads[name]!.data), name).toBeLessThan(EXACT_TOL);
        }
        expect(Math.abs(online.loss - ref.loss)).toBeLessThan(EXACT_TOL * Math.max(1, ref.loss));
      }),
      fcParams(40),
    );
  });
});
