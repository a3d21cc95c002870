/** How the CPU backend's kernels reach their data: typed arrays of checked arrays, and reusable scratch. */
import type { DeviceArray } from '../backend.js';

export type F = Float64Array | Float32Array;

export interface HostData {
  /** The typed array of a (non-trace) array of this backend, after checking its owner and (optionally) its shape. */
  d(op: string, a: DeviceArray, shape?: readonly number[]): F;
  /** A scratch array of at least n entries under `key` (reused; contents stale). */
  tmp(key: string, n: number): F;
}
