/**
 * Values of the gpu.js backend's data store, which may be Promises: in the 'webgpu' mode every kernel call returns
 * one (gpu.js's WebGPU kernels read back asynchronously). A kernel whose arguments are still Promises runs when they
 * resolve, with the values they had when it was called, so work keeps the order in which it was asked for.
 */
import type { GpuValue } from './runtime.js';

/** A value of the data store: in the 'webgpu' mode a kernel's result is a Promise (src/backends/gpu/dawn.ts). */
export type StoreValue = GpuValue | Promise<GpuValue>;
export const isPromise = <T>(v: unknown): v is Promise<T> => typeof (v as { then?: unknown } | null)?.then === 'function';
/** The Promise, with its rejection marked handled (it is reported where the value is read). */
export const quiet = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};
/** f of the values, at once where none is a Promise, else once all have resolved. */
export const when = <T extends readonly unknown[], R>(vals: { readonly [K in keyof T]: T[K] | Promise<T[K]> }, f: (...v: T) => R | Promise<R>): R | Promise<R> =>
  vals.some((v) => isPromise(v)) ? quiet(Promise.all(vals).then((v) => f(...(v as unknown as T)))) : f(...(vals as unknown as T));
