/**
 * gpu.js as this backend sees it: the module (loaded lazily, never by importing the core), its modes, the kernel
 * class each mode must produce (so that a silent fallback is caught), and what to install where a mode cannot
 * start. The gpu.js API used here is typed locally (its own .d.ts is loose about typed arrays).
 */
import { BackendUnavailableError } from '../errors.js';
import { OPTIONAL_PACKAGES, isNotInstalled } from '../../io/optional.js';

export const GPUJS_MODES = ['cpu', 'webasm', 'gpu', 'headlessgl', 'webgl', 'webgl2', 'webgpu'] as const;
export type GpujsMode = (typeof GPUJS_MODES)[number];

export interface GpujsBackendOptions {
  /** The gpu.js mode to run; required, so that the choice is always explicit. */
  readonly mode: GpujsMode;
  /**
   * The gpu.js module itself (`await import('gpu.js')`). Optional in Node, where it is loaded here; needed in a
   * browser bundle, where this module does not load packages itself.
   */
  readonly gpujs?: unknown;
  /** Largest tile of a trace, in elements (default 2²⁴: exact float32 indices, a 4096² texture). */
  readonly maxTileElements?: number;
  /**
   * The WebGPU adapter in Node (mode 'webgpu'): 'opengles' (Mesa's llvmpipe on a machine without a GPU),
   * 'vulkan', or an adapter's name as Dawn lists it; default `BPLAMBDA_WEBGPU_ADAPTER`, else 'opengles'
   * (src/backends/gpu/dawn.ts). A browser uses its own WebGPU.
   */
  readonly webgpuAdapter?: string;
}

// The parts of gpu.js used here, typed locally (gpu.js's own .d.ts is loose about typed arrays).
export interface GpuTexture {
  /** A Promise in the 'webgpu' mode (a pipeline buffer is read back asynchronously). */
  toArray(): Float32Array | Promise<Float32Array>;
  delete(): void;
}
export type GpuValue = Float32Array | GpuTexture;
export interface GpuKernel {
  /** A value, or in the 'webgpu' mode a Promise of one. */
  (...args: unknown[]): GpuValue | Promise<GpuValue>;
  readonly kernel: object;
  destroy?(removeCanvasReferences?: boolean): void;
}
export interface GpuInstance {
  readonly mode: string;
  createKernel(fn: unknown, settings: Record<string, unknown>): GpuKernel;
  destroy(): unknown;
}
export interface GpuModule {
  readonly GPU: new (settings: { mode: string }) => GpuInstance;
  readonly [kernelClass: string]: unknown;
}

const KERNEL_CLASSES: readonly (readonly [string, string])[] = [
  ['HeadlessGLKernel', 'headlessgl'],
  ['WebGL2Kernel', 'webgl2'],
  ['WebGLKernel', 'webgl'],
  ['WebGPUKernel', 'webgpu'],
  ['WebAssemblyKernel', 'webasm'],
  ['CPUKernel', 'cpu'],
];

const APT =
  'apt-get install build-essential python3 python-is-python3 pkg-config libx11-dev libxi-dev libxext-dev libgl-dev libgl1-mesa-dri libglx-mesa0 xvfb xauth';

export const remedyFor = (mode: GpujsMode, gl: 'missing' | 'no-context' | 'ok'): string => {
  switch (mode) {
    case 'headlessgl':
    case 'gpu':
      return gl === 'missing'
        ? `Build gpu.js's optional native dependency gl (headless-gl): on Debian 12, ${APT}; then JOBS=max npm rebuild gl; run under an X server (xvfb-run -a …). See docs/gpu.md. Or run in a browser.`
        : 'Run under an X server with GLX: xvfb-run -a … (or Xvfb :99 & export DISPLAY=:99); on an NVIDIA machine, with the NVIDIA GLX libraries. See docs/gpu.md.';
    case 'webgl':
    case 'webgl2':
      return "Bundle bplambda/gpu for a browser and run it there (see docs/gpu.md); in Node use mode 'headlessgl'.";
    case 'webgpu':
      return `Install the optional peer webgpu (npm install webgpu@${OPTIONAL_PACKAGES.webgpu}); for its OpenGL ES adapter on Debian 12, apt-get install libegl-dev libegl-mesa0 libgl1-mesa-dri. See docs/gpu.md.`;
    default:
      return `Reinstall the optional peer dependency: npm install gpu.js@${OPTIONAL_PACKAGES['gpu.js']}.`;
  }
};

/** Node's require, relative to this module (null outside Node): no static import of node: modules, so the file bundles for a browser. */
const nodeRequire = (): ((id: string) => unknown) | null => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as { createRequire(url: string): (id: string) => unknown } | undefined;
  return mod === undefined ? null : mod.createRequire(import.meta.url);
};

/** Whether this is Node (where gpu.js's GL modes mean headless-gl), not a browser. */
export const isNode = (): boolean => (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;

export const loadGpujs = (mode: GpujsMode, given: unknown): GpuModule => {
  if (given !== undefined) {
    if (typeof (given as Partial<GpuModule>).GPU !== 'function')
      throw new BackendUnavailableError('gpujs', mode, 'the gpujs option is not the gpu.js module (it has no GPU class)', "Pass the module: gpujsBackend({ mode, gpujs: await import('gpu.js') }).");
    return given as GpuModule;
  }
  const req = nodeRequire();
  if (req === null)
    throw new BackendUnavailableError('gpujs', mode, 'outside Node this backend does not load gpu.js itself', "Pass the module: gpujsBackend({ mode, gpujs: await import('gpu.js') }).");
  try {
    return req('gpu.js') as GpuModule;
  } catch (e) {
    throw new BackendUnavailableError(
      'gpujs',
      mode,
      isNotInstalled(e, ['gpu.js']) ? 'gpu.js, an optional peer dependency, is not installed' : `gpu.js cannot be loaded (${(e as Error).message.split('\n')[0]})`,
      `Install it where bplambda is installed: npm install gpu.js@${OPTIONAL_PACKAGES['gpu.js']}.`,
    );
  }
};

/** Whether headless-gl is installed and can create a context (for the reason in an error message). */
export const glStatus = (): 'missing' | 'no-context' | 'ok' => {
  try {
    const gl = nodeRequire()?.('gl') as ((w: number, h: number) => unknown) | undefined;
    if (gl === undefined) return 'missing';
    return gl(1, 1) === null ? 'no-context' : 'ok';
  } catch {
    return 'missing';
  }
};

/** The mode of the kernel class gpu.js actually built for a kernel. */
export const kernelMode = (gpujs: GpuModule, k: GpuKernel): string => {
  for (const [cls, mode] of KERNEL_CLASSES) {
    const C = gpujs[cls] as (abstract new (...a: never[]) => unknown) | undefined;
    if (C !== undefined && k.kernel instanceof C) return mode;
  }
  return 'unknown';
};

/** The error for a mode whose gpu.js instance cannot be created (`e`: gpu.js's error). */
export const startError = (mode: GpujsMode, e: unknown): BackendUnavailableError => {
  const gl = mode === 'headlessgl' || mode === 'gpu' ? glStatus() : 'ok';
  const why =
    mode === 'headlessgl'
      ? gl === 'missing'
        ? 'the optional native package gl (headless-gl) is not installed or not built'
        : 'gl is built but cannot create a WebGL context (no X display with GLX)'
      : mode === 'webgl' || mode === 'webgl2'
        ? 'WebGL exists only in a browser'
        : (e as Error).message;
  return new BackendUnavailableError('gpujs', mode, `${why} (gpu.js: ${(e as Error).message})`, remedyFor(mode, gl));
};

/** The error for a mode where gpu.js built another kind of kernel (`actual`): a silent fallback, refused. */
export const fallbackError = (mode: GpujsMode, actual: string): BackendUnavailableError => {
  const gl = glStatus();
  return new BackendUnavailableError(
    'gpujs',
    mode,
    mode === 'gpu'
      ? `no GPU context is available: gpu.js would run on its ${actual} kernels (${gl === 'missing' ? 'headless-gl is not built' : gl === 'no-context' ? 'headless-gl has no X display' : 'no WebGL'})`
      : `gpu.js runs '${actual}' kernels where '${mode}' was asked for`,
    remedyFor(mode, gl),
  );
};
