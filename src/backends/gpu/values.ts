/**
 * Values of the gpu.js backend's data store, which may be Promises: in the 'webgpu' mode every kernel call returns
 * one, of a device buffer (gpu.js's pipeline handle), and reading a buffer back is asynchronous. A kernel whose
 * arguments are still Promises runs when they resolve, with the values they had when it was called, so work keeps
 * the order in which it was asked for; a buffer is deleted only after the work issued before its release.
 */
import type { HostNdArray } from '../backend.js';
import { hostView } from '../host/view.js';
import type { GpuValue } from './runtime.js';

/** A value of the data store: in the 'webgpu' mode a kernel's result is a Promise (src/backends/gpu/dawn.ts). */
export type StoreValue = GpuValue | Promise<GpuValue>;
export const isPromise = <T>(v: unknown): v is Promise<T> => typeof (v as { then?: unknown } | null)?.then === 'function';
/** The Promise, with its rejection marked handled (it is reported where the value is read). */
export const quiet = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};
const noop = (): void => undefined;

/**
 * Work issued and not yet done (the 'webgpu' mode, where values are device buffers): a replaced or disposed value
 * is deleted only after all of it, so that no kernel or read issued before finds its buffer gone.
 */
export class Outstanding {
  private all: Promise<void> = Promise.resolve();
  track<T>(p: Promise<T>): Promise<T> {
    this.all = Promise.all([this.all, p.then(noop, noop)]).then(noop);
    return quiet(p);
  }
  release(v: StoreValue): void {
    void this.all.then(() => v).then((x) => (x instanceof Float32Array ? undefined : x.delete()), noop);
  }
}

/** The kinds of a kernel's arguments (host array, device value, number): gpu.js fixes them when it builds a kernel. */
export const argKinds = (args: readonly unknown[]): string => args.map((a) => (a instanceof Float32Array ? 'h' : typeof a === 'number' ? 'n' : 'd')).join('');

/** An array read back: its host values (one per tile of a trace, tiles of whole examples [b0, b1)) as one dense view. */
export const assemble = (a: { readonly shape: readonly number[]; readonly size: number; readonly tiles: readonly { readonly b0: number; readonly b1: number }[] | null }, hs: readonly Float32Array[]): HostNdArray => {
  if (a.tiles === null) return hostView(Float32Array.from(hs[0]!.subarray(0, a.size)), a.shape);
  const out = new Float32Array(a.size);
  const per = a.shape[1]! * a.shape[2]!;
  a.tiles.forEach((t, i) => out.set(hs[i]!.subarray(0, (t.b1 - t.b0) * per), t.b0 * per));
  return hostView(out, a.shape);
};
