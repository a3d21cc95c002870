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
