/**
 * The three losses of the core (`lossAndGrad`, src/core/model.ts) against independent formulas: each loss value
 * against its textbook definition, and each gradient against central finite differences of that definition. The
 * cases come from LOSSES, so a new loss is a compile error here until it has a definition.
 *
 * Central differences with h = 1e-5 on logits in [−3, 3] have truncation error O(h²·f''') ≈ 1e-10 and rounding
 * error ≈ ε·|L|/h ≈ 1e-11; the gradients are O(1), so 1e-7 absolute leaves a wide margin and still rejects any
 * wrong term (a missing Σ y in the softmax gradient is O(1) off for targets that do not sum to 1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOSSES, type LossKind, lossAndGrad } from '../src/core/model.js';
import { fcParams } from './arbitraries.js';

/** The loss from its definition (no shared code with the core). */
const definition = (kind: LossKind, z: readonly number[], y: readonly number[]): number => {
  switch (kind) {
    case 'mse':
      return 0.5 * z.reduce((a, v, k) => a + (v - y[k]!) ** 2, 0);
    case 'xent': {
      // −Σ_k y_k log softmax(z)_k, with the softmax written out (|z| ≤ 3: no overflow).
      const e = z.map(Math.exp);
      const total = e.reduce((a, v) => a + v, 0);
      return -y.reduce((a, yk, k) => a + yk * Math.log(e[k]! / total), 0);
    }
    case 'bce':
      // −Σ_k [y_k log σ(z_k) + (1 − y_k) log(1 − σ(z_k))]
      return -z.reduce((a, v, k) => {
        const s = 1 / (1 + Math.exp(-v));
        return a + y[k]! * Math.log(s) + (1 - y[k]!) * Math.log(1 - s);
      }, 0);
  }
};

/** Targets of each kind: reals (mse); nonnegative weights of any sum (xent: one-hot and soft labels alike); bits or probabilities (bce). */
const targetArb = (kind: LossKind, O: number): fc.Arbitrary<number[]> => {
  switch (kind) {
    case 'mse':
      return fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: O, maxLength: O });
    case 'xent':
      return fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: O, maxLength: O });
    case 'bce':
      return fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: O, maxLength: O });
  }
};

const caseArb = (kind: LossKind) =>
  fc.integer({ min: 1, max: 6 }).chain((O) =>
    fc.record({ z: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: O, maxLength: O }), y: targetArb(kind, O) }),
  );

describe.each(LOSSES)('loss %s', (kind) => {
  it('equals its definition', () => {
    fc.assert(
      fc.property(caseArb(kind), ({ z, y }) => {
        const { loss } = lossAndGrad(kind, Float64Array.from(z), Float64Array.from(y));
        const want = definition(kind, z, y);
        expect(Math.abs(loss - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      }),
      fcParams(100),
    );
  });

  it('has the gradient of its definition (central finite differences)', () => {
    const h = 1e-5;
    fc.assert(
      fc.property(caseArb(kind), ({ z, y }) => {
        const { dy } = lossAndGrad(kind, Float64Array.from(z), Float64Array.from(y));
        z.forEach((_, k) => {
          const up = z.map((v, j) => (j === k ? v + h : v));
          const down = z.map((v, j) => (j === k ? v - h : v));
          const fd = (definition(kind, up, y) - definition(kind, down, y)) / (2 * h);
          expect(Math.abs(dy[k]! - fd)).toBeLessThanOrEqual(1e-7);
        });
      }),
      fcParams(100),
    );
  });
});
