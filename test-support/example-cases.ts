/**
 * Generator of the committed example cases examples/toy-rnn.json and examples/lstm.json.
 *
 * spec/examples.test.ts checks that the committed files equal this generator's output byte for byte. To
 * regenerate them after changing this file: `BPLAMBDA_WRITE_EXAMPLES=1 npx vitest run spec/examples.test.ts`.
 * The weights come from a self-contained seeded generator (mulberry32), so the files do not depend on the
 * library's random module.
 */
import { type IndependentCase, type Mat, mulberry32, randomMatrix, randomVector } from './independent-oracle.js';

/** Frobenius norm. */
const frob = (A: Mat): number => Math.sqrt(A.reduce((s, r) => s + r.reduce((t, x) => t + x * x, 0), 0));
const square = (A: Mat): Mat => A.map((row) => A[0]!.map((_, j) => row.reduce((s, a, k) => s + a * A[k]![j]!, 0)));

/**
 * A guaranteed upper bound on the spectral radius: ρ(A) ≤ ‖A^k‖_F^{1/k} for any k (Gelfand; the Frobenius norm is
 * submultiplicative). k = 2^6 = 64 makes the bound close to ρ.
 */
export const spectralRadiusBound = (A: Mat): number => {
  let P = A;
  for (let i = 0; i < 6; i++) P = square(P);
  return frob(P) ** (1 / 64);
};

/** The binary code of 833 on 10 bits, most significant first: [1,1,0,1,0,0,0,0,0,1]. */
export const toyCode = (): number[] => Array.from({ length: 10 }, (_, i) => (833 >> (9 - i)) & 1);

/**
 * The toy task of spec §8.8: linear RNN, H = 30, I = 10, O = 2, T = 10; x₁ = binary(833), x₂..x₁₀ = 0; the only
 * target is y_T = (0, 1). Weights follow the reference init (U(±1/√H), bias = sum of two such draws); W_rec is then
 * scaled so that the bound above on its spectral radius is 0.9. The synthesiser is small and random (U(±0.05)).
 */
export const toyCase = (seed = 20240833): IndependentCase => {
  const H = 30;
  const I = 10;
  const O = 2;
  const T = 10;
  const rand = mulberry32(seed);
  const k = 1 / Math.sqrt(H);
  const W_in = randomMatrix(rand, H, I, k);
  const W_rec0 = randomMatrix(rand, H, H, k);
  const b = randomVector(rand, H, k);
  const b2 = randomVector(rand, H, k);
  const W_out = randomMatrix(rand, O, H, k);
  const b_out = randomVector(rand, O, k);
  const scale = 0.9 / spectralRadiusBound(W_rec0);
  const W_rec = W_rec0.map((r) => r.map((x) => x * scale));
  const synW = randomMatrix(rand, H, H, 0.05);
  const synB = randomVector(rand, H, 0.05);
  const inputs = [toyCode(), ...Array.from({ length: T - 1 }, () => Array.from({ length: I }, () => 0))];
  const targets = [...Array.from({ length: T - 1 }, () => null), [0, 1]];
  return {
    format: 'bplambda-case/1',
    cell: { type: 'rnn', activation: 'identity' },
    params: { W_in, W_rec, b: b.map((x, i) => x + b2[i]!), W_out, b_out },
    synthesiser: { W: synW, b: synB },
    inputs,
    targets,
    gamma: 1,
    lambda: 1,
  };
};

/** A small LSTM case: H = 3, I = 2, O = 2, T = 6, targets at t = 2, 5, 6 only, γ = 0.9, λ = 0.5. */
export const lstmCase = (seed = 31415): IndependentCase => {
  const H = 3;
  const I = 2;
  const O = 2;
  const T = 6;
  const S = 2 * H;
  const rand = mulberry32(seed);
  const k = 1 / Math.sqrt(H);
  const W_ih = randomMatrix(rand, 4 * H, I, k);
  const W_hh = randomMatrix(rand, 4 * H, H, k);
  const b1 = randomVector(rand, 4 * H, k);
  const b2 = randomVector(rand, 4 * H, k);
  const W_out = randomMatrix(rand, O, H, k);
  const b_out = randomVector(rand, O, k);
  const synW = randomMatrix(rand, S, S, 0.2);
  const synB = randomVector(rand, S, 0.1);
  const inputs = randomMatrix(rand, T, I, 1);
  const mask = [false, true, false, false, true, true];
  const targets = mask.map((m) => (m ? randomVector(rand, O, 1) : null));
  return {
    format: 'bplambda-case/1',
    cell: { type: 'lstm' },
    params: { W_ih, W_hh, b: b1.map((x, i) => x + b2[i]!), W_out, b_out },
    synthesiser: { W: synW, b: synB },
    inputs,
    targets,
    gamma: 0.9,
    lambda: 0.5,
  };
};

/** The exact text of each generated example file. */
export const exampleFiles = (): Record<string, string> => ({
  'examples/toy-rnn.json': `${JSON.stringify(toyCase())}\n`,
  'examples/lstm.json': `${JSON.stringify(lstmCase())}\n`,
});
