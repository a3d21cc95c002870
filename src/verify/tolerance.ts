/**
 * Default tolerances by declared precision (docs/verification.md, "Tolerances").
 *
 * Rule (compare.ts): an element passes when |actual − reference| ≤ atol·scale + rtol·|reference|, with
 * scale = max(1, largest |reference| of the quantity).
 *
 * The reference is float64. A correct implementation differs from it by rounding: every stored value carries a
 * relative error of up to the unit roundoff u of its format, sums that cancel leave errors proportional to the size
 * of their terms (hence atol in units of the quantity's scale), and the recursions of BP(λ) (states forward, future
 * gradients and λ-targets backward through the state Jacobians, traces forward) carry the errors along the
 * sequence. Independent rounding errors add up like a random walk, so the low-precision defaults grow like √T.
 *
 * - float64 (u = 2^-53 ≈ 1.1e-16): rtol 1e-9, atol 1e-12, not growing with T. A correct float64 implementation
 *   differs only in the order of operations. Measured (examples/pytorch against the golden set and RNN/LSTM cases
 *   up to T = 300 with quantities up to 3e3 in size): every error is below 1/1000 of this tolerance. Real errors (a
 *   wrong index, a missing γ or λ, ĝ_T ≠ 0, a wrong sign) show at 1e-3 relative or more, far above it.
 * - float32 (u = 2^-24 ≈ 6.0e-8): rtol = 2e-5·√T, atol = 2e-6·√T (T = 10: 6.3e-5 and 6.3e-6). Measured, same
 *   cases, PyTorch computing everything in float32: the largest error needs c ≈ 6e-7 in rtol = c·√T,
 *   atol = c/10·√T (about 10u), so the defaults leave a margin of about 30.
 * - bfloat16 (u = 2^-8 ≈ 3.9e-3): rtol = 0.2·√T, atol = 0.02·√T. Measured, PyTorch storing and computing everything
 *   in bfloat16: c ≈ 0.036 (about 9u), a margin of about 5. At this precision verification catches only errors of
 *   order one (a wrong sign, a transposed Jacobian, a missing term); run the implementation in float32 or float64
 *   to check it closely.
 * - float16 (u = 2^-11 ≈ 4.9e-4): rtol = 0.025·√T, atol = 0.0025·√T: the bfloat16 constants scaled by the ratio of
 *   the unit roundoffs (PyTorch's CPU kernels have no float16 matrix products, so this one is not measured).
 *   TF32 matrix products (NVIDIA GPUs) have the unit roundoff of float16: declare float16 for them.
 *
 * The low-precision defaults stop growing at rtol = RTOL_CAP (atol = RTOL_CAP/10): below 1, so a value whose sign
 * is wrong (|actual − reference| = 2|reference|) always fails unless the element is small against atol·scale.
 * Without the cap, bfloat16's 0.2·√T reached 2 at T = 100 and a sign-flipped value passed. The cap applies from
 * T = 7 in bfloat16, T = 400 in float16; a correct bfloat16 run grows like 0.036·√T (above) and may exceed it beyond
 * T ≈ 190: verify such runs with explicit --rtol/--atol, knowing that a wrong sign is then no longer caught.
 *
 * Both can be overridden (`--rtol`, `--atol`; the same rule applies); the report says which values were used.
 */
import type { Tolerance } from './compare.js';
import type { TracePrecision } from './schema.js';

/** Unit roundoff of each format. */
export const UNIT_ROUNDOFF: Readonly<Record<TracePrecision, number>> = {
  float64: 2 ** -53,
  float32: 2 ** -24,
  float16: 2 ** -11,
  bfloat16: 2 ** -8,
};

/** The constants c of the low-precision defaults: rtol = c·√T, atol = c/10·√T. */
export const GROWTH_CONSTANT: Readonly<Record<Exclude<TracePrecision, 'float64'>, number>> = {
  float32: 2e-5,
  float16: 0.025,
  bfloat16: 0.2,
};

/** The largest default rtol (see the module comment): a wrong sign must fail. */
export const RTOL_CAP = 0.5;

/** The default tolerance for a declared precision and sequence length T (see the module comment). */
export const defaultTolerance = (precision: TracePrecision, T: number): Tolerance => {
  if (precision === 'float64') return { rtol: 1e-9, atol: 1e-12 };
  const c = Math.min(RTOL_CAP, GROWTH_CONSTANT[precision] * Math.sqrt(Math.max(1, T)));
  return { rtol: c, atol: c / 10 };
};
