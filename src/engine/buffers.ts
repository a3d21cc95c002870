/**
 * Named backend arrays of one trainer: scratch and per-step buffers allocated on first use and reused across
 * steps and batches while their shape stays the same, constants made once, traces; all released together.
 * It is the `OpContext` the composite ops work with.
 */
import { hostView } from '../backends/host/view.js';
import { type Backend, type DeviceArray, sameShape } from '../backends/backend.js';
import type { OpContext } from '../ops/context.js';
import { OuterSums } from '../ops/outerSums.js';

export class Buffers<A extends DeviceArray> implements OpContext<A> {
  private readonly arrays = new Map<string, A>();
  outer: OuterSums<A> | null = null;
  constructor(readonly be: Backend<A>) {}

  /**
   * Run `f` with per-example outer products (`addOuter` with 'each') stacked and added to their accumulators as
   * one product each when `f` returns (src/ops/outerSums.ts; `steps`: the terms an accumulator is expected to
   * get). Inside `f` those accumulators must not be read, nor written otherwise.
   */
  sumOuterProducts<T>(steps: number, f: () => T): T {
    if (this.outer !== null) throw new Error('sumOuterProducts does not nest');
    this.outer = new OuterSums(this, steps);
    try {
      const r = f();
      this.outer.flush();
      return r;
    } finally {
      this.outer = null;
    }
  }

  /** The buffer `key` with this shape (re-allocated, zeroed, if its shape changed; otherwise as last written). */
  tmp(key: string, shape: readonly number[]): A {
    const a = this.arrays.get(key);
    if (a !== undefined && sameShape(a.shape, shape)) return a;
    if (a !== undefined) this.be.dispose(a);
    const fresh = this.be.alloc(shape);
    this.arrays.set(key, fresh);
    return fresh;
  }

  /** The buffer `key`, zero-filled. */
  zeroed(key: string, shape: readonly number[]): A {
    const a = this.tmp(key, shape);
    this.be.fill(a, 0);
    return a;
  }

  constant(key: string, shape: readonly number[], make: () => Float64Array): A {
    const k = `const:${key}`;
    const a = this.arrays.get(k);
    if (a !== undefined && sameShape(a.shape, shape)) return a;
    if (a !== undefined) this.be.dispose(a);
    const fresh = this.be.upload(hostView(make(), shape));
    this.arrays.set(k, fresh);
    return fresh;
  }

  /** A trace buffer (allocated with `allocTrace`). */
  trace(key: string, batch: number, rows: number, cols: number): A {
    const k = `trace:${key}`;
    const a = this.arrays.get(k);
    if (a !== undefined && sameShape(a.shape, [batch, rows, cols])) return a;
    if (a !== undefined) this.be.dispose(a);
    const fresh = this.be.allocTrace(batch, rows, cols);
    this.arrays.set(k, fresh);
    return fresh;
  }

  disposeAll(): void {
    for (const a of this.arrays.values()) this.be.dispose(a);
    this.arrays.clear();
  }
}
