/**
 * Backends by name: the one registry of the command line, the experiments, the benchmarks and the browser demo.
 * The gpu.js backends are imported (and gpu.js loaded) only when one of them is asked for.
 */
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu/index.js';
import { InvalidInputError } from '../core/errors.js';
import { referenceBackend } from './reference.js';

export const GPUJS_BACKEND_NAMES = ['gpujs-cpu', 'gpujs-webasm', 'gpujs-gpu', 'gpujs-headlessgl', 'gpujs-webgl', 'gpujs-webgl2', 'gpujs-webgpu'] as const;

export const BACKEND_NAMES = ['reference', 'cpu-f64', 'cpu-f32', 'cpu-f64-js', 'cpu-f32-js', ...GPUJS_BACKEND_NAMES] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const isBackendName = (s: string): s is BackendName => (BACKEND_NAMES as readonly string[]).includes(s);

export interface BackendByNameOptions {
  /** The gpu.js module, where this code cannot load it itself (a browser bundle): `await import('gpu.js')`. */
  readonly gpujs?: unknown;
}

/**
 * Start a backend by name: 'reference' (float64, exact), 'cpu-f64' / 'cpu-f32' (WebAssembly SIMD trace kernels),
 * 'cpu-f64-js' / 'cpu-f32-js' (JavaScript trace kernels), 'gpujs-<mode>'. Throws BackendUnavailableError when
 * it cannot start here, saying why; nothing falls back to another backend.
 */
export const backendByName = async (name: BackendName, options: BackendByNameOptions = {}): Promise<Backend> => {
  if (!isBackendName(name)) throw new InvalidInputError('backend', `one of ${BACKEND_NAMES.join(', ')}`, `is '${String(name)}'`);
  switch (name) {
    case 'reference':
      return referenceBackend() as unknown as Backend;
    case 'cpu-f64':
      return cpuBackend({ precision: 64, kernels: 'wasm' }) as unknown as Backend;
    case 'cpu-f32':
      return cpuBackend({ precision: 32, kernels: 'wasm' }) as unknown as Backend;
    case 'cpu-f64-js':
      return cpuBackend({ precision: 64, kernels: 'js' }) as unknown as Backend;
    case 'cpu-f32-js':
      return cpuBackend({ precision: 32, kernels: 'js' }) as unknown as Backend;
    default: {
      const mode = name.slice('gpujs-'.length);
      const gpu = await import('./gpu/index.js');
      const m = mode as (typeof gpu.GPUJS_MODES)[number];
      return gpu.gpujsBackend(options.gpujs === undefined ? { mode: m } : { mode: m, gpujs: options.gpujs }) as unknown as Backend;
    }
  }
};
