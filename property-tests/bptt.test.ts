import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bptt, futureGradients, trajectory } from '../src/core/bptt.js';
import { forward, sequenceLoss } from '../src/core/model.js';
import { fcParams, flat, problemArb, relErr } from './arbitraries.js';

// Central finite differences with step 1e-6 have truncation error O(h²·f''') ≈ 1e-12 and rounding error
// O(ε·|L|/h) ≈ 1e-10 for losses of order 1; 1e-6 relative (or absolute below 1) leaves room for both.
const FD_TOL = 1e-6;
const h = 1e-6;

describe('BPTT', () => {
  it('equals central finite differences of the loss, for RNN and LSTM', () => {
    fc.assert(
      fc.property(problemArb(), (p) => {
        const { grads } = bptt(p.model, p.params, p.sequence);
        for (const [name, t] of Object.entries(p.params)) {
          for (let i = 0; i < t.data.length; i++) {
            const bump = (d: number) => {
              const data = t.data.slice();
              data[i] += d;
              return sequenceLoss(forward(p.model, { ...p.params, [name]: { shape: t.shape, data } }, p.sequence));
            };
            const fd = (bump(h) - bump(-h)) / (2 * h);
            expect(Math.abs(grads[name]!.data[i]! - fd)).toBeLessThan(FD_TOL * Math.max(1, Math.abs(fd)));
          }
        }
      }),
      fcParams(40),
    );
  });

  it('future gradients with γ = 1 equal finite differences of the future loss in the state', () => {
    fc.assert(
      fc.property(problemArb(), (p) => {
        const traj = trajectory(p.model, p.params, p.sequence);
        const G = futureGradients(traj, 1);
        const T = p.sequence.inputs.length;
        for (let k = 0; k < T - 1; k++) {
          const s = traj.records[k]!.step.state;
          const future = (d: number, j: number) => {
            const s2 = s.slice();
            s2[j] += d;
            const rest = { inputs: p.sequence.inputs.slice(k + 1), targets: p.sequence.targets.slice(k + 1) };
            return sequenceLoss(forward(p.model, p.params, rest, s2));
          };
          const fd = Float64Array.from(s, (_, j) => (future(h, j) - future(-h, j)) / (2 * h));
          expect(relErr(G[k]!, fd)).toBeLessThan(FD_TOL);
        }
      }),
      fcParams(40),
    );
  });

  it('is pure: the arguments are left unchanged', () => {
    fc.assert(
      fc.property(problemArb(), (p) => {
        const before = flat(p.params).slice();
        const inputs = p.sequence.inputs.map((x) => x.slice());
        bptt(p.model, p.params, p.sequence);
        expect(flat(p.params)).toEqual(before);
        expect(p.sequence.inputs).toEqual(inputs);
      }),
      fcParams(20),
    );
  });
});
