/**
 * Support for the backend conformance suite: every backend (and every gpu.js mode) that can start on this
 * machine, the ones that cannot (with the reason), the test-only asynchronous backend, random host data, and
 * tolerances derived from precision.
 */
import ndarray from 'ndarray';
import type { Backend, DeviceArray } from '../../src/backends/backend.js';
import { cpuBackend } from '../../src/backends/cpu/index.js';
import { BackendUnavailableError } from '../../src/backends/errors.js';
import { GPUJS_MODES, gpujsBackend, startGpujsBackend } from '../../src/backends/gpu/index.js';
import { referenceBackend } from '../../src/backends/reference.js';
import { rngFromSeed, uniformRange } from '../../src/core/random.js';
import { asyncTestBackend } from '../../test-support/async-backend.js';

export interface Candidate {
  readonly name: string;
  readonly backend: Backend;
  /** A fresh instance (for tests that leave a backend unusable, such as a failed asynchronous kernel). */
  readonly make: () => Backend;
}
export interface Unavailable {
  readonly name: string;
  readonly reason: string;
}

/**
 * The conformance suite runs in two groups of processes (vitest.config.ts, projects 'main' and 'headless-gl'):
 * gpu.js's headless-gl modes cannot share a process with Dawn's OpenGL ES adapter (src/backends/gpu/glProcess.ts),
 * so 'gl' has the modes that make a headless-gl context in Node ('headlessgl', 'gpu') and 'main' every other one.
 */
export const conformanceGroup: 'main' | 'gl' = process.env['BPLAMBDA_CONFORMANCE'] === 'gl' ? 'gl' : 'main';
const GL_MODES: readonly string[] = ['headlessgl', 'gpu'];
/**
 * BPLAMBDA_CONFORMANCE_GPUJS=0 leaves gpu.js out of 'main' (mutation testing, vitest.mutation.config.ts: it does
 * not mutate gpu.js's backend, and its slow cases would only repeat what the other backends check of the engine).
 */
const withGpujs = process.env['BPLAMBDA_CONFORMANCE_GPUJS'] !== '0';

const allMakers: readonly (readonly [string, () => Backend])[] = [
  ['reference', () => referenceBackend() as Backend],
  // The SIMD backends on one thread and on two (the suite holds every thread count it tries to the same bounds).
  ['cpu f64 wasm-simd 1 thread', () => cpuBackend({ precision: 64, kernels: 'wasm', threads: 1 }) as Backend],
  ['cpu f64 wasm-simd 2 threads', () => cpuBackend({ precision: 64, kernels: 'wasm', threads: 2 }) as Backend],
  ['cpu f64 js', () => cpuBackend({ precision: 64, kernels: 'js' }) as Backend],
  ['cpu f32 wasm-simd 1 thread', () => cpuBackend({ precision: 32, kernels: 'wasm', threads: 1 }) as Backend],
  ['cpu f32 wasm-simd 2 threads', () => cpuBackend({ precision: 32, kernels: 'wasm', threads: 2 }) as Backend],
  ['cpu f32 js', () => cpuBackend({ precision: 32, kernels: 'js' }) as Backend],
  ['async test backend', () => asyncTestBackend() as Backend],
  ...GPUJS_MODES.map((mode) => [`gpujs ${mode}`, () => gpujsBackend({ mode }) as Backend] as const),
];
const isGl = (name: string) => GL_MODES.some((mode) => name === `gpujs ${mode}`);
const makers = allMakers.filter(([name]) => isGl(name) === (conformanceGroup === 'gl') && (withGpujs || !name.startsWith('gpujs')));

/** Backends that start asynchronously (gpu.js's 'webgpu'): started once here, after which `make` gives more synchronously. */
const asyncStarts: Readonly<Record<string, () => Promise<Backend>>> = {
  'gpujs webgpu': async () => (await startGpujsBackend({ mode: 'webgpu' })) as Backend,
};

/**
 * A backend that could not start, standing in for it while a skipped suite is collected: each of its cases is
 * listed as skipped (so the report counts them), and any use of it throws (a skipped case never runs).
 */
export const unstarted = (name: string): Candidate => {
  const backend = new Proxy({} as Backend, {
    get: (_t, key) => {
      throw new Error(`${name} did not start: its cases are skipped (read ${String(key)})`);
    },
  });
  return { name, backend, make: () => backend };
};

/** Start every backend; a BackendUnavailableError puts it in `unavailable` with its reason, anything else throws. */
export const startAll = async (): Promise<{ available: Candidate[]; unavailable: Unavailable[] }> => {
  const available: Candidate[] = [];
  const unavailable: Unavailable[] = [];
  for (const [name, make] of makers) {
    try {
      const start = asyncStarts[name];
      available.push({ name, backend: start === undefined ? make() : await start(), make });
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      unavailable.push({ name, reason: e.reason });
    }
  }
  return { available, unavailable };
};

/** n uniform numbers in [lo, hi) from a seed. */
export const randomData = (seed: number, n: number, lo = -1, hi = 1): Float64Array => uniformRange(rngFromSeed(seed), n, lo, hi)[0];

/** Upload host data of a shape. */
export const up = <A extends DeviceArray>(be: Backend<A>, data: Float64Array, shape: readonly number[]): A => be.upload(ndarray(data, [...shape]));

/** Read back as float64. */
export const down = async <A extends DeviceArray>(be: Backend<A>, a: A): Promise<Float64Array> => Float64Array.from((await be.read(a)).data);

/**
 * Max over entries of |x − ref| / bound, where bound = eps · terms · scale: the classic error bound of a sum
 * of `terms` rounded operations, |fl(Σ) − Σ| ≤ terms · ε · Σ|summands| (Higham, Accuracy and Stability of
 * Numerical Algorithms, section 3.1), with `scale` the magnitude of Σ|summands|. ≤ 1 passes.
 */
export const boundRatio = (x: ArrayLike<number>, ref: ArrayLike<number>, eps: number, terms: number, scale: number): number => {
  if (x.length !== ref.length) return Infinity;
  const bound = eps * terms * Math.max(scale, 1e-300);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - ref[i]!) / bound);
  return m;
};

export const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
