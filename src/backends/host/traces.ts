/**
 * The trace kernels as plain loops over host typed arrays, in the reference order (spec §4.1, §11): the
 * linear synthesiser's eligibility trace E [B, R, P] with P = R·n + R, E ← ∇θĝ + decay · J E, and the contraction
 * mean_b δ_bᵀ E_b. The core forms J E with its `matmul` (Σ_k from +0 ascending) and adds the immediate Jacobian
 * elementwise; these loops do the same operations in the same order.
 */
import { BackendArrayError } from '../errors.js';
import type { Storage } from './store.js';

/** The synthesiser input size n of a linear synthesiser's trace with R rows and P columns (P = R·n + R). */
export const linearInputSize = (kernel: string, R: number, P: number, inputCols: number): number => {
  if (P !== R * inputCols + R) throw new BackendArrayError(kernel, `trace has ${P} columns, a linear synthesiser ${R}×${inputCols} has ${R * inputCols + R}`);
  return inputCols;
};

/** E ← ∇θĝ (block diagonal: z on row i's own W block, 1 on its bias column). */
export const traceSet = (e: Storage, B: number, R: number, P: number, z: Storage, n: number): void => {
  e.fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < R; i++) {
      for (let k = 0; k < n; k++) e[(b * R + i) * P + i * n + k] = z[b * n + k]!;
      e[(b * R + i) * P + R * n + i] = 1;
    }
};

/** E ← ∇θĝ + decay · J E, per example (J [B, R, R]). */
export const traceUpdate = (e: Storage, j: Storage, decay: number, B: number, R: number, P: number, z: Storage, n: number): void => {
  const M = new Float64Array(R * P);
  for (let b = 0; b < B; b++) {
    const eb = b * R * P;
    M.fill(0);
    // M = J E (the core's matmul: i, p, q loops, Σ_p from +0)
    for (let i = 0; i < R; i++)
      for (let p = 0; p < R; p++) {
        const jip = j[(b * R + i) * R + p]!;
        for (let q = 0; q < P; q++) M[i * P + q] += jip * e[eb + p * P + q]!;
      }
    for (let i = 0; i < R; i++)
      for (let q = 0; q < P; q++) {
        const w = q < R * n ? (Math.floor(q / n) === i ? z[b * n + (q % n)]! : 0) : q - R * n === i ? 1 : 0;
        e[eb + i * P + q] = w + decay * M[i * P + q]!;
      }
  }
};

/** out [P] = mean_b Σ_i δ[b,i] E[b,i,·]. */
export const traceContract = (out: Storage, delta: Storage, e: Storage, B: number, R: number, P: number): void => {
  const acc = new Float64Array(P);
  const c = new Float64Array(P);
  for (let b = 0; b < B; b++) {
    c.fill(0);
    for (let i = 0; i < R; i++) {
      const di = delta[b * R + i]!;
      for (let q = 0; q < P; q++) c[q] += di * e[(b * R + i) * P + q]!;
    }
    for (let q = 0; q < P; q++) acc[q] = acc[q]! + c[q]!;
  }
  const inv = 1 / Math.max(1, B);
  for (let q = 0; q < P; q++) out[q] = acc[q]! * inv;
};
