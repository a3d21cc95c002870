/**
 * The CPU backend's fused `cellModeVjp`: products with the cell mode's Jacobians (spec §6.3) without forming them.
 * D_t = Σ_gate diag(d_gate) W_gate over the input, forget and candidate blocks of W_hh (d_i = g·i(1−i),
 * d_f = c_{t−1}·f(1−f), d_g = i(1−g²), as `cellModeJacobians` forms it), so for every example at once
 *
 *   v D_t = [v ⊙ d_i | v ⊙ d_f | v ⊙ d_g] · W_hh[0 : 3H]     (one SIMD product [B, 3H] × [3H, H])
 *   v C_t = (v D_t) ⊙ ψ_{t−1} + v ⊙ f_t                       (C_t = ∂c_t/∂c_{t−1} + D_t diag(ψ_{t−1}))
 *
 * O(B·3H·H) in the product instead of forming B matrices of H × H and multiplying each by a vector.
 */
import type { CellCache, CellParams, DeviceArray } from '../backend.js';
import { type HostData, lstmCache, lstmSlopes } from './data.js';
import { gemm } from './gemm.js';

/** The operands of one product: the step (s_{t−1}, cache, ψ_{t−1}) and the vector v. */
export interface CellModeStep {
  readonly prev: DeviceArray;
  readonly cache: CellCache<DeviceArray>;
  readonly psiPrev: DeviceArray;
}

export const cellModeVjp = (h: HostData, params: CellParams<DeviceArray>, step: CellModeStep, v: DeviceArray, vD: DeviceArray | null, vC: DeviceArray | null): void => {
  const { prev, cache, psiPrev } = step;
  const op = 'cellModeVjp';
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const w = h.d(op, params['W_hh']!, [4 * H, H]);
  const pv = h.d(op, prev, [B, S]);
  const c = lstmCache(h, op, cache, B, H);
  const vs = h.d(op, v, [B, H]);
  // [v ⊙ d_i | v ⊙ d_f | v ⊙ d_g] per example, in place of the slopes.
  const scaled = lstmSlopes(h, 'cellModeVjp.v', pv, c, B, H);
  for (let b = 0; b < B; b++)
    for (let g = 0; g < 3; g++) for (let k = 0; k < H; k++) scaled[(b * 3 + g) * H + k] = vs[b * H + k]! * scaled[(b * 3 + g) * H + k]!;
  const d = vD === null ? h.tmp('cellModeVjp.vD', B * H) : h.d(op, vD, [B, H]);
  const W = { data: w, off: 0, rs: H, cs: 1 };
  const A = { data: scaled, off: 0, rs: 3 * H, cs: 1 };
  if (h.ws !== null) gemm(h.ws, B, H, 3 * H, A, W, d, 0, H, false);
  else
    for (let b = 0; b < B; b++)
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let r = 0; r < 3 * H; r++) s += scaled[b * 3 * H + r]! * w[r * H + j]!;
        d[b * H + j] = s;
      }
  if (vC === null) return;
  const o = h.d(op, vC, [B, H]);
  const pp = h.d(op, psiPrev, [B, H]);
  for (let q = 0; q < B * H; q++) o[q] = d[q]! * pp[q]! + vs[q]! * c.f[q]!;
};
