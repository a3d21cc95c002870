/**
 * Named, preallocated device buffers of one training engine: allocated on first use, reused across steps and
 * batches while the batch size and sequence length stay the same, released together.
 */
import type { Backend, DeviceArray } from '../backends/backend.js';

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export class Buffers<A extends DeviceArray> {
  private readonly arrays = new Map<string, A>();
  constructor(private readonly backend: Backend<A>) {}

  /** The buffer `key` with this shape (re-allocated, zeroed, if its shape changed). */
  get(key: string, shape: readonly number[]): A {
    const a = this.arrays.get(key);
    if (a !== undefined && sameShape(a.shape, shape)) return a;
    if (a !== undefined) this.backend.dispose(a);
    const fresh = this.backend.alloc(shape);
    this.arrays.set(key, fresh);
    return fresh;
  }

  /** A trace buffer (allocated with `allocTrace`). */
  trace(key: string, batch: number, rows: number, cols: number): A {
    const a = this.arrays.get(key);
    if (a !== undefined && sameShape(a.shape, [batch, rows, cols])) return a;
    if (a !== undefined) this.backend.dispose(a);
    const fresh = this.backend.allocTrace(batch, rows, cols);
    this.arrays.set(key, fresh);
    return fresh;
  }

  /** The same buffer, zeroed. */
  zeroed(key: string, shape: readonly number[]): A {
    const a = this.get(key, shape);
    this.backend.zero(a);
    return a;
  }

  disposeAll(): void {
    for (const a of this.arrays.values()) this.backend.dispose(a);
    this.arrays.clear();
  }
}
