/**
 * The CPU backend's fused `epropSequence`: the LSTM e-prop gradient summed over a sequence, per example, without
 * the traces. The trace of row (gate, k) is ε_t = f_t ε_{t−1} + post_t pre_t (pre_t = [x_t | h_{t−1} | 1]), so
 *
 *   Σ_t s_t ε_t = Σ_τ a_τ post_τ pre_τ,   a_τ = s_τ + f_{τ+1} a_{τ+1},  a_{T−1} = s_{T−1},
 *
 * with s_t = σ_t ψ_t the signal's weight on unit k at step t. The recursion runs backwards over [B, H] vectors,
 * and the sum over τ is one product per example, U_bᵀ P_b with U_b [T, 4H] (the i, f, g rows a ⊙ post, the o rows
 * the immediate σ ⊙ tanh c ⊙ o(1 − o)) and P_b [T, I + H + 1]: O(T·4H·(I + H)) multiply-adds in the SIMD product
 * instead of T passes over traces of B·3H·(I + H + 1) numbers. Another order of summation than the composite's
 * (the conformance suite bounds the difference).
 */
import type { CellCache, CellParams, DeviceArray } from '../backend.js';
import { type F, type HostData, lstmCache, lstmSlopes } from './data.js';
import { gemm } from './gemm.js';

export const epropSequence = (
  h: HostData,
  prevs: readonly DeviceArray[],
  xs: readonly DeviceArray[],
  caches: readonly CellCache<DeviceArray>[],
  signals: readonly DeviceArray[],
  out: CellParams<DeviceArray>,
): void => {
  const op = 'epropSequence';
  const T = prevs.length;
  if (T === 0) return;
  const [B, S] = prevs[0]!.shape as [number, number];
  const H = S / 2;
  const I = xs[0]!.shape[1]!;
  const n = I + H + 1;
  const G = 4 * H;
  // U [B, T, 4H] and P [B, T, n]: example b's rows are contiguous, one product per example.
  const U = h.tmp('epropSeq.U', B * T * G);
  const P = h.tmp('epropSeq.P', B * T * n);
  const a = h.tmp('epropSeq.a', B * H);
  for (let t = T - 1; t >= 0; t--) {
    const pv = h.d(op, prevs[t]!, [B, S]);
    const x = h.d(op, xs[t]!, [B, I]);
    const c = lstmCache(h, op, caches[t]!, B, H);
    const sig = h.d(op, signals[t]!, [B, H]);
    const fNext = t === T - 1 ? null : lstmCache(h, op, caches[t + 1]!, B, H).f;
    const slopes = lstmSlopes(h, 'epropSeq.slopes', pv, c, B, H);
    for (let b = 0; b < B; b++) {
      const u = (b * T + t) * G;
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const s = sig[q]! * c.psi[q]!;
        const ak = fNext === null ? s : s + fNext[q]! * a[q]!;
        a[q] = ak;
        const ok = c.o[q]!;
        for (let g = 0; g < 3; g++) U[u + g * H + k] = ak * slopes[(b * 3 + g) * H + k]!;
        U[u + 3 * H + k] = sig[q]! * c.tanhC[q]! * ok * (1 - ok);
      }
      const p = (b * T + t) * n;
      P.set(x.subarray(b * I, (b + 1) * I), p);
      P.set(pv.subarray(b * S, b * S + H), p + I);
      P[p + I + H] = 1;
    }
  }
  const gih = h.d(op, out['W_ih']!, [B, G, I]);
  const ghh = h.d(op, out['W_hh']!, [B, G, H]);
  const gb = h.d(op, out['b']!, [B, G]);
  const sum = h.tmp('epropSeq.sum', G * n);
  for (let b = 0; b < B; b++) {
    // sum [4H, n] = U_bᵀ P_b (U_b read transposed: entry (i, τ) at U[(b·T + τ)·4H + i]).
    const A = { data: U, off: b * T * G, rs: 1, cs: G };
    const Pb = { data: P, off: b * T * n, rs: n, cs: 1 };
    if (h.ws !== null) gemm(h.ws, G, n, T, A, Pb, sum, 0, n, false);
    else outerSum(sum, G, n, T, A, Pb);
    for (let r = 0; r < G; r++) {
      const src = r * n;
      const wi = (b * G + r) * I;
      const wh = (b * G + r) * H;
      for (let j = 0; j < I; j++) gih[wi + j] = gih[wi + j]! + sum[src + j]!;
      for (let j = 0; j < H; j++) ghh[wh + j] = ghh[wh + j]! + sum[src + I + j]!;
      gb[b * G + r] = gb[b * G + r]! + sum[src + I + H]!;
    }
  }
};

/** sum[i, j] = Σ_τ A(i, τ) B(τ, j) in JavaScript (the 'js' kernels' path). */
const outerSum = (sum: F, m: number, n: number, k: number, A: { data: F; off: number; rs: number; cs: number }, Bm: { data: F; off: number; rs: number; cs: number }): void => {
  sum.fill(0, 0, m * n);
  for (let p = 0; p < k; p++)
    for (let i = 0; i < m; i++) {
      const v = A.data[A.off + i * A.rs + p * A.cs]!;
      if (v === 0) continue;
      const br = Bm.off + p * Bm.rs;
      for (let j = 0; j < n; j++) sum[i * n + j] += v * Bm.data[br + j]!;
    }
};
