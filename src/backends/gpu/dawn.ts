/**
 * WebGPU for gpu.js's 'webgpu' mode. gpu.js reads `navigator.gpu`; a browser has it, Node does not. In Node this
 * module creates a Dawn instance from the optional peer dependency `webgpu` (Google's Dawn, prebuilt in the
 * package) and gives gpu.js a small `navigator.gpu` over it (docs/gpu.md, "WebGPU in Node").
 *
 * The adapter is a choice (`WebgpuAdapterChoice`): 'opengles' (Dawn's OpenGL ES backend at WebGPU's
 * 'compatibility' feature level: Mesa's llvmpipe on a machine without a GPU, no X server needed), 'vulkan' (a GPU
 * with a Vulkan driver) or the name of an adapter as Dawn lists it. For 'opengles' we set
 * `EGL_PLATFORM=surfaceless` when it is unset, so that Mesa's EGL needs no display. One Dawn instance serves the
 * process (gpu.js shares one WebGPU device too); it is released when the last backend using it is destroyed.
 * No static import of Node modules: the file bundles for a browser, where navigator.gpu is used as it is.
 */
import type { BackendAdapter } from '../backend.js';
import { BackendUnavailableError } from '../errors.js';
import { OPTIONAL_PACKAGES, isNotInstalled } from '../../io/optional.js';
import { webgpuAdapter } from './adapter.js';
import { claimEgl } from './glProcess.js';
import { copyKernel } from './kernels.js';
import { type GpuModule, type GpuValue, kernelMode } from './runtime.js';

/** 'opengles', 'vulkan', or an adapter's name as Dawn lists it (`webgpu`'s `adapter=` flag). */
export type WebgpuAdapterChoice = string;

/** The default adapter: `BPLAMBDA_WEBGPU_ADAPTER` where set, else 'opengles' (runs everywhere Mesa does). */
export const defaultWebgpuAdapter = (): WebgpuAdapterChoice => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.BPLAMBDA_WEBGPU_ADAPTER?.trim();
  return v === undefined || v === '' ? 'opengles' : v;
};

export const WEBGPU_APT = 'apt-get install libegl-dev libegl-mesa0 libgl1-mesa-dri';
export const webgpuRemedy = (choice: WebgpuAdapterChoice): string =>
  choice === 'vulkan'
    ? `Install the optional peer webgpu (npm install webgpu@${OPTIONAL_PACKAGES.webgpu}) and a Vulkan driver with its loader (libvulkan1; on NVIDIA, the driver's Vulkan ICD); or use the adapter 'opengles' (BPLAMBDA_WEBGPU_ADAPTER=opengles). See docs/gpu.md.`
    : `Install the optional peer webgpu (npm install webgpu@${OPTIONAL_PACKAGES.webgpu}); for the OpenGL ES adapter on Debian 12, ${WEBGPU_APT}. See docs/gpu.md.`;

interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<unknown>;
}
interface WebgpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

let installed: { choice: WebgpuAdapterChoice; users: number; ours: boolean; restore: (() => void) | null } | null = null;

const navigatorGpu = (): unknown => (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;

const flagsOf = (choice: WebgpuAdapterChoice): string[] =>
  choice === 'opengles' || choice === 'opengl' || choice === 'vulkan' ? [`backend=${choice}`] : [`adapter=${choice}`];

/**
 * Make navigator.gpu available for gpu.js with this adapter choice (or the browser's own WebGPU), counting one
 * user more; `releaseWebgpu` counts one fewer. Throws BackendUnavailableError saying why and what to install.
 */
export const acquireWebgpu = (choice: WebgpuAdapterChoice): Promise<void> => (queue = queue.catch(() => undefined).then(() => acquire(choice)));
let queue: Promise<void> = Promise.resolve();

const acquire = async (choice: WebgpuAdapterChoice): Promise<void> => {
  if (installed !== null) {
    if (installed.ours && installed.choice !== choice)
      throw new BackendUnavailableError('gpujs', 'webgpu', `this process already runs WebGPU on the adapter '${installed.choice}' (one Dawn instance per process)`, `Ask for '${installed.choice}', or start another process.`);
    installed.users++;
    return;
  }
  if (navigatorGpu() !== undefined) {
    installed = { choice, users: 1, ours: false, restore: null };
    return;
  }
  const proc = (globalThis as { process?: { env: Record<string, string | undefined>; versions?: { node?: string } } }).process;
  if (proc?.versions?.node === undefined) throw new BackendUnavailableError('gpujs', 'webgpu', 'this JavaScript engine has no WebGPU (navigator.gpu)', 'Use a browser with WebGPU, or Node with the optional peer webgpu.');
  const gl = choice === 'opengles' || choice === 'opengl';
  if (gl) {
    claimEgl(choice);
    proc.env.EGL_PLATFORM ??= 'surfaceless';
  }
  let mod: WebgpuModule;
  try {
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ name)) as WebgpuModule;
  } catch (e) {
    const why = isNotInstalled(e, ['webgpu']) ? 'the optional peer dependency webgpu (Dawn) is not installed' : `webgpu cannot be loaded (${(e as Error).message.split('\n')[0]})`;
    throw new BackendUnavailableError('gpujs', 'webgpu', why, webgpuRemedy(choice));
  }
  const g = globalThis as Record<string, unknown>;
  const added = Object.keys(mod.globals).filter((k) => !(k in g));
  for (const k of added) g[k] = mod.globals[k];
  let dawn: GpuLike | null;
  try {
    dawn = mod.create(flagsOf(choice));
  } catch (e) {
    for (const k of added) delete g[k];
    throw new BackendUnavailableError('gpujs', 'webgpu', `Dawn refused the adapter choice '${choice}' (${(e as Error).message.split('\n').join(' ')})`, webgpuRemedy(choice));
  }
  const gpu = {
    requestAdapter: (o?: Record<string, unknown>) => dawn!.requestAdapter(gl ? { ...o, featureLevel: 'compatibility' } : o),
    getPreferredCanvasFormat: () => 'rgba8unorm',
  };
  const nav = g.navigator as { gpu?: unknown } | undefined;
  if (nav === undefined) Object.defineProperty(g, 'navigator', { configurable: true, writable: true, value: { gpu } });
  else Object.defineProperty(nav, 'gpu', { configurable: true, writable: true, value: gpu });
  const restore = () => {
    if (nav === undefined) delete g.navigator;
    else delete (nav as { gpu?: unknown }).gpu;
    for (const k of added) delete g[k];
    dawn = null; // the instance lives while referenced (webgpu's README, "Lifetime")
  };
  installed = { choice, users: 1, ours: true, restore };
};

/** One user fewer; the last one destroys gpu.js's shared device and the Dawn instance (so that Node can exit). */
export const releaseWebgpu = async (gpujs: { WebGPUContext?: { destroy(): Promise<void> } }): Promise<void> => {
  if (installed === null || --installed.users > 0) return;
  const { restore } = installed;
  installed = null;
  started = null;
  if (restore === null) return;
  // Both at once, so that a backend started while the device is being destroyed finds neither.
  const destroyed = gpujs.WebGPUContext?.destroy();
  restore();
  await destroyed;
};

/** The adapter of the device probed by `probeWebgpu` while WebGPU is acquired (null otherwise). */
let started: BackendAdapter | null = null;

/** One user more of WebGPU already acquired and probed in this process: its adapter (null, and no user more, if none). */
export const retainWebgpu = (): BackendAdapter | null => {
  if (installed === null || started === null) return null;
  installed.users++;
  return started;
};

/** Whether the WebGPU acquired is the JavaScript engine's own navigator.gpu (a browser's), not a Dawn instance made here. */
export const ownWebgpu = (): boolean => installed !== null && !installed.ours;

/** What to do where the browser's own WebGPU gives no adapter or fails the probe (docs/demo.md, "WebGPU"). */
const BROWSER_WEBGPU_REMEDY =
  "Use a browser whose WebGPU gives an adapter: with a GPU and WebGPU enabled, or Chromium started with --enable-unsafe-webgpu for its software adapter (SwiftShader). Or use mode 'webgl2'. See docs/demo.md.";

/** The adapter choice WebGPU runs on in this process (null before `acquireWebgpu`). */
export const webgpuChoice = (): WebgpuAdapterChoice | null => installed?.choice ?? null;

const remedy = (choice: WebgpuAdapterChoice): string => (ownWebgpu() ? BROWSER_WEBGPU_REMEDY : webgpuRemedy(choice));

/**
 * Run a probe kernel in gpu.js's 'webgpu' mode (WebGPU acquired) and check its result: the adapter of gpu.js's
 * device, or BackendUnavailableError saying why and what to install.
 */
export const probeWebgpu = async (gpujs: GpuModule, choice: WebgpuAdapterChoice): Promise<BackendAdapter> => {
  const gpu = new gpujs.GPU({ mode: 'webgpu' });
  try {
    const probe = gpu.createKernel(copyKernel, { output: [4], constants: { R: 1, P: 1, n: 1, NB: 1, B0: 0 }, precision: 'single' });
    let got: GpuValue;
    try {
      got = await probe(new Float32Array([1, 2, 3, 4]));
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!;
      const own = ownWebgpu();
      const why = /no adapter/i.test(message)
        ? own ? "the browser's WebGPU (navigator.gpu) gives no adapter" : `WebGPU found no adapter for '${choice}'`
        : `the WebGPU probe kernel failed on ${own ? "the browser's WebGPU" : `'${choice}'`} (${message})`;
      throw new BackendUnavailableError('gpujs', 'webgpu', why, remedy(choice));
    }
    const actual = kernelMode(gpujs, probe);
    if (actual !== 'webgpu') throw new BackendUnavailableError('gpujs', 'webgpu', `gpu.js runs '${actual}' kernels where 'webgpu' was asked for`, remedy(choice));
    const values = got instanceof Float32Array ? [...got] : [];
    if (values.join() !== '1,2,3,4') throw new BackendUnavailableError('gpujs', 'webgpu', `the probe kernel returned [${values.join(', ')}], not [1, 2, 3, 4]`, remedy(choice));
    const context = (probe.kernel as { context?: { adapter?: { info?: object } } }).context;
    probe.destroy?.();
    return (started = webgpuAdapter(context?.adapter?.info));
  } finally {
    gpu.destroy();
  }
};
