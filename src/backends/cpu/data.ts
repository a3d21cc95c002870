/** How the CPU backend's kernels reach their data: typed arrays of checked arrays, and reusable scratch. */
import type { CellCache, DeviceArray } from '../backend.js';
import type { Workspace } from './workspace.js';

export type F = Float64Array | Float32Array;

export interface HostData {
  /** The typed array of a (non-trace) array of this backend, after checking its owner and (optionally) its shape. */
  d(op: string, a: DeviceArray, shape?: readonly number[]): F;
  /** A scratch array of at least n entries under `key` (reused; contents stale). */
  tmp(key: string, n: number): F;
  /** The SIMD matrix-product workspace (null in 'js' mode: products run in JavaScript). */
  readonly ws: Workspace | null;
}

/** The LSTM's cached gates and by-products of one step (the cache of src/ops/cells.ts), each [B, H]. */
export const lstmCache = (h: HostData, op: string, cache: CellCache<DeviceArray>, B: number, H: number) => {
  const g = (k: string) => h.d(op, cache[k]!, [B, H]);
  return { i: g('i'), f: g('f'), g: g('g'), o: g('o'), tanhC: g('tanhC'), psi: g('psi') };
};
export type LstmCache = ReturnType<typeof lstmCache>;

/**
 * The slopes of c_t in the input, forget and candidate pre-activations, per example [B, 3H] in that gate order:
 * d_i = g·i(1−i), d_f = c_{t−1}·f(1−f), d_g = i(1−g²) (the post-synaptic factors of e-prop, the row scales of
 * the cell mode's D_t), into the scratch `key`.
 */
export const lstmSlopes = (h: HostData, key: string, pv: F, c: LstmCache, B: number, H: number): F => {
  const out = h.tmp(key, B * 3 * H);
  const S = 2 * H;
  for (let b = 0; b < B; b++)
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ik = c.i[q]!;
      const fk = c.f[q]!;
      const gk = c.g[q]!;
      const r = b * 3 * H;
      out[r + k] = gk * ik * (1 - ik);
      out[r + H + k] = pv[b * S + H + k]! * fk * (1 - fk);
      out[r + 2 * H + k] = ik * (1 - gk * gk);
    }
  return out;
};
