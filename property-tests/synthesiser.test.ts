/**
 * Synthesiser Jacobians ∂ĝ/∂θ (written by hand in synthesiser.ts) against central finite differences of `predict`,
 * and `predict` against a test-side forward pass. Random sizes, depths and weights.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Synthesiser, linearSynthesiser, mlpSynthesiser, tabularSynthesiser } from '../src/core/synthesiser.js';
import { type Params, paramCount } from '../src/core/tensor.js';
import { fcParams, randomTheta, randomVectors, scaledErr } from './arbitraries.js';

// Finite-difference step and tolerance. Inside one ReLU region the MLP is affine in any single parameter (each
// weight enters one layer, and every later layer is linear there), and the linear and tabular synthesisers are
// affine everywhere, so central differences have no truncation error: only the rounding error of the difference,
// ~ε·|ĝ|/h ≈ 2.2e-16 · O(10) / 1e-6 ≈ 1e-9. 1e-7 relative to the Jacobian's scale leaves two orders of margin and
// is far below the O(1) error of a wrong or misplaced entry.
const h = 1e-6;
const FD_TOL = 1e-7;
// Cases where a hidden pre-activation lies within KINK of 0 are skipped: a bump of size h moves a pre-activation
// by at most h·Σ|w||a| ≈ 1e-6 · O(10) ≪ 1e-4, so no bump crosses a ReLU kink in the cases kept.
const KINK = 1e-4;

/** Test-side forward pass of the MLP: hidden pre-activations and the output. */
const mlpForward = (theta: Params, L: number, input: Float64Array): { zs: Float64Array[]; out: Float64Array } => {
  let a = input;
  const zs: Float64Array[] = [];
  const layer = (l: number, x: Float64Array) => {
    const W = theta[`W_${l}`]!;
    const b = theta[`b_${l}`]!.data;
    const [r, c] = W.shape as [number, number];
    return Float64Array.from({ length: r }, (_, i) => {
      let s = b[i]!;
      for (let j = 0; j < c; j++) s += W.data[i * c + j]! * x[j]!;
      return s;
    });
  };
  for (let l = 0; l < L; l++) {
    const z = layer(l, a);
    zs.push(z);
    a = z.map((v) => Math.max(0, v));
  }
  return { zs, out: layer(L, a) };
};

/** Central finite differences of predict with respect to every parameter, as an out × P matrix (row-major). */
const fdJacobian = (synth: Synthesiser, theta: Params, input: Float64Array, t: number): Float64Array => {
  const P = paramCount(synth.paramShapes);
  const out = new Float64Array(synth.outputSize * P);
  let col = 0;
  for (const name of Object.keys(synth.paramShapes)) {
    const tt = theta[name]!;
    for (let i = 0; i < tt.data.length; i++, col++) {
      const bump = (d: number) => {
        const data = tt.data.slice();
        data[i] += d;
        return synth.predict({ ...theta, [name]: { shape: tt.shape, data } }, input, t);
      };
      const up = bump(h);
      const down = bump(-h);
      for (let r = 0; r < synth.outputSize; r++) out[r * P + col] = (up[r]! - down[r]!) / (2 * h);
    }
  }
  return out;
};

const sizesArb = fc.record({
  inSize: fc.integer({ min: 1, max: 5 }),
  outSize: fc.integer({ min: 1, max: 5 }),
  hidden: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  t: fc.integer({ min: 1, max: 6 }),
});

describe('synthesiser Jacobians', () => {
  it('MLP (1–2 ReLU hidden layers): paramJacobian equals central finite differences of predict', () => {
    let kept = 0;
    fc.assert(
      fc.property(sizesArb, ({ inSize, outSize, hidden, seed }) => {
        const synth = mlpSynthesiser(inSize, hidden, outSize);
        const theta = randomTheta(synth, seed);
        const [input] = randomVectors(seed + 7, 1, inSize);
        const { zs, out } = mlpForward(theta, hidden.length, input!);
        fc.pre(zs.every((z) => z.every((v) => Math.abs(v) > KINK)));
        kept++;
        expect(scaledErr(synth.predict(theta, input!, 1), out)).toBeLessThan(1e-14);
        const J = synth.paramJacobian(theta, input!, 1);
        expect(J.shape).toEqual([outSize, paramCount(synth.paramShapes)]);
        expect(scaledErr(J.data, fdJacobian(synth, theta, input!, 1))).toBeLessThan(FD_TOL);
      }),
      fcParams(60),
    );
    expect(kept).toBeGreaterThan(30); // the precondition rarely rejects (pre-activations are continuous draws)
  });

  it('linear: paramJacobian equals central finite differences of predict', () => {
    fc.assert(
      fc.property(sizesArb, ({ inSize, outSize, seed }) => {
        const synth = linearSynthesiser(inSize, outSize);
        const theta = randomTheta(synth, seed);
        const [input] = randomVectors(seed + 7, 1, inSize);
        expect(scaledErr(synth.paramJacobian(theta, input!, 1).data, fdJacobian(synth, theta, input!, 1))).toBeLessThan(FD_TOL);
      }),
      fcParams(40),
    );
  });

  it('tabular: paramJacobian equals central finite differences of predict, for steps inside and outside the table', () => {
    fc.assert(
      fc.property(sizesArb, fc.integer({ min: 1, max: 5 }), ({ inSize, outSize, seed, t }, steps) => {
        const synth = tabularSynthesiser(steps, outSize, inSize);
        const theta = randomTheta(synth, seed);
        const [input] = randomVectors(seed + 7, 1, inSize);
        const J = synth.paramJacobian(theta, input!, t);
        expect(scaledErr(J.data, fdJacobian(synth, theta, input!, t))).toBeLessThan(FD_TOL);
        if (t > steps) expect(J.data.every((v) => v === 0)).toBe(true);
      }),
      fcParams(40),
    );
  });
});
