/**
 * Backends by name: the one registry of the command line, the experiments, the benchmarks and the browser demo.
 * The gpu.js backends are imported (and gpu.js loaded) only when one of them is asked for.
 */
import type { Backend, BackendAdapter, Precision } from './backend.js';
import { cpuBackend } from './cpu/index.js';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { parseConfig, record } from '../core/schema.js';
import { referenceBackend } from './reference.js';

export const GPUJS_BACKEND_NAMES = ['gpujs-cpu', 'gpujs-webasm', 'gpujs-gpu', 'gpujs-headlessgl', 'gpujs-webgl', 'gpujs-webgl2', 'gpujs-webgpu'] as const;

export const BACKEND_NAMES = ['reference', 'cpu-f64', 'cpu-f32', 'cpu-f64-js', 'cpu-f32-js', ...GPUJS_BACKEND_NAMES] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const isBackendName = (s: string): s is BackendName => (BACKEND_NAMES as readonly string[]).includes(s);

export interface BackendByNameOptions {
  /** The gpu.js module, where this code cannot load it itself (a browser bundle): `await import('gpu.js')`. */
  readonly gpujs?: unknown;
  /**
   * Threads of the CPU backends 'cpu-f64' and 'cpu-f32' (default: every core where threads can run). Results do
   * not depend on it. Refused for the backends that run on one thread (reference, the 'js' kernels) when > 1,
   * and for gpu.js.
   */
  readonly threads?: number;
}

/** The backends that run on more than one thread (the others, reference, the 'js' kernels and gpu.js, take 1). */
export const THREADED_BACKENDS = ['cpu-f64', 'cpu-f32'] as const satisfies readonly BackendName[];
export const takesThreads = (name: BackendName): boolean => (THREADED_BACKENDS as readonly string[]).includes(name);

/** A thread count for a backend: an integer from 1 to 256, and 1 for the backends that run on one thread (`field` names it in errors). */
export const checkThreads = (name: BackendName, threads: number | undefined, field = 'threads'): void => {
  if (threads === undefined) return;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 256) throw new InvalidInputError(field, 'an integer from 1 to 256', `is ${String(threads)}`);
  if (threads > 1 && !takesThreads(name))
    throw new InvalidInputError(field, `1 for the ${name} backend, which runs on one thread (threads are for cpu-f64 and cpu-f32)`, `is ${threads}`);
};

/** The fastest float64 backend: the default of `run`, `sweep` and the convenience entry points. */
export const DEFAULT_BACKEND = 'cpu-f64' satisfies BackendName;

/**
 * Start a backend by name: 'reference' (float64, exact: the oracle path), 'cpu-f64' / 'cpu-f32' (WebAssembly SIMD
 * products and trace kernels on every core), 'cpu-f64-js' / 'cpu-f32-js' (JavaScript kernels, one thread),
 * 'gpujs-<mode>'. Throws BackendUnavailableError when it cannot start here, saying why; nothing falls back to
 * another backend.
 */
export const backendByName = async (name: BackendName, options: BackendByNameOptions = {}): Promise<Backend> => {
  if (!isBackendName(name)) throw new InvalidInputError('backend', `one of ${BACKEND_NAMES.join(', ')}`, `is '${String(name)}'`);
  parseConfig(record({ gpujs: z.unknown().optional(), threads: z.unknown().optional() }), options, 'options');
  const { threads } = options;
  checkThreads(name, threads, 'options.threads');
  const t = threads === undefined ? {} : { threads };
  switch (name) {
    case 'reference':
      return referenceBackend() as unknown as Backend;
    case 'cpu-f64':
      return cpuBackend({ precision: 64, kernels: 'wasm', ...t }) as unknown as Backend;
    case 'cpu-f32':
      return cpuBackend({ precision: 32, kernels: 'wasm', ...t }) as unknown as Backend;
    case 'cpu-f64-js':
      return cpuBackend({ precision: 64, kernels: 'js' }) as unknown as Backend;
    case 'cpu-f32-js':
      return cpuBackend({ precision: 32, kernels: 'js' }) as unknown as Backend;
    default: {
      const mode = name.slice('gpujs-'.length);
      const gpu = await import('./gpu/index.js');
      const m = mode as (typeof gpu.GPUJS_MODES)[number];
      return (await gpu.startGpujsBackend(options.gpujs === undefined ? { mode: m } : { mode: m, gpujs: options.gpujs })) as unknown as Backend;
    }
  }
};

/**
 * What a started backend runs on, as it reports it (recorded in a run's config.json and summary.json, and by
 * bench): its registry name, the mode actually running, the precision, the threads and the adapter (null for the
 * CPU backends, whose kernels are this process's JavaScript and WebAssembly).
 */
export interface BackendInfo {
  readonly name: BackendName;
  readonly mode: string;
  readonly precision: Precision;
  readonly threads: number;
  readonly adapter: BackendAdapter | null;
}

export const backendInfo = (name: BackendName, backend: Backend): BackendInfo => ({
  name,
  mode: backend.mode,
  precision: backend.precision,
  threads: backend.threads ?? 1,
  adapter: backend.adapter ?? null,
});

/**
 * Start the backend and stop it again: its info if it can start here, else the BackendUnavailableError saying why
 * and what to install (for a caller that must know before it writes anything, such as a sweep whose runs start
 * their backends on worker threads).
 */
export const probeBackend = async (name: BackendName, options: BackendByNameOptions = {}): Promise<BackendInfo> => {
  const backend = await backendByName(name, options);
  try {
    return backendInfo(name, backend);
  } finally {
    backend.destroy();
  }
};
