/**
 * Backends for the page, from the one registry (src/backends/registry.ts): the float64 reference, the CPU backend
 * ('cpu-f32': float32, WebAssembly SIMD; 'cpu-f32-js' where the browser does not validate it), gpu.js on WebGL
 * ('gpujs-webgl2', then 'gpujs-webgl') and gpu.js on the browser's WebGPU ('gpujs-webgpu', started by
 * startGpujsBackend). gpu.js is imported only when a gpu.js backend is chosen (a separate chunk), and the page shows
 * the mode and adapter that actually run: the gpu.js backend reads which kernel class gpu.js chose and refuses
 * anything else, so when WebGL or WebGPU is missing the page says why and runs on the reference backend.
 */
import type { Backend, BackendAdapter } from '../../src/backends/backend.js';
import { type WebgpuAdapterInfoLike, webgpuAdapter } from '../../src/backends/gpu/adapter.js';
import { type CpuBackend, threadsUnavailable } from '../../src/backends/cpu/index.js';
import { BackendUnavailableError } from '../../src/backends/errors.js';
import { backendByName } from '../../src/backends/registry.js';

export const BACKEND_CHOICES = ['reference', 'gpujs', 'gpujs-webgpu', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const isBackendChoice = (s: string): s is BackendChoice => (BACKEND_CHOICES as readonly string[]).includes(s);

export interface StartedBackend {
  readonly backend: Backend;
  /** What was asked for. */
  readonly requested: BackendChoice;
  /** The backend that runs: 'reference', 'gpujs' or 'cpu'. */
  readonly name: string;
  /** The mode that runs, as the backend reports it: 'js-f64', 'webgl2', 'webgl', 'webgpu', 'wasm-simd', 'js'. */
  readonly mode: string;
  /** The device it runs on, as the backend reports it (null: this page's JavaScript and WebAssembly). */
  readonly adapter: BackendAdapter | null;
  /** In words, for the page. */
  readonly label: string;
  /** Why the requested backend is not the one running (null when it is). */
  readonly fallback: string | null;
  /** Threads the backend runs on (the CPU backend: every core when the page is cross-origin isolated). */
  readonly threads: number;
  /** Why the CPU backend runs on one thread where the machine has more (null otherwise). */
  readonly threadsNote: string | null;
  /** The CPU backend's workers: started, and chunks of work they were given (null for other backends). */
  readonly workers: () => { readonly started: number; readonly dispatched: number } | null;
}

export interface WebGlInfo {
  readonly webgl2: boolean;
  readonly webgl: boolean;
  /** The unmasked renderer string, when the browser gives it (e.g. "ANGLE (… SwiftShader …)"). */
  readonly renderer: string | null;
  /** True for the known software rasterisers (SwiftShader, llvmpipe). */
  readonly software: boolean;
}

/** Which WebGL versions this browser gives, and the renderer behind them. */
export const webGlInfo = (): WebGlInfo => {
  let webgl2 = false;
  let webgl = false;
  let renderer: string | null = null;
  for (const kind of ['webgl2', 'webgl'] as const) {
    const gl = document.createElement('canvas').getContext(kind) as WebGLRenderingContext | WebGL2RenderingContext | null;
    if (gl === null) continue;
    if (kind === 'webgl2') webgl2 = true;
    else webgl = true;
    if (renderer === null) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const r = ext === null ? gl.getParameter(gl.RENDERER) : gl.getParameter(ext.UNMASKED_RENDERER_WEBGL);
      renderer = typeof r === 'string' ? r : null;
    }
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
  const software = renderer !== null && /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  return { webgl2, webgl, renderer, software };
};

export interface WebGpuInfo {
  /** True when navigator.gpu exists and gives an adapter (asked as gpu.js asks: requestAdapter() without options). */
  readonly available: boolean;
  /** Why it is not available (null when it is). */
  readonly reason: string | null;
  /** The adapter it gives, as the gpu.js backend reports it (`kind` 'software' for a fallback adapter). */
  readonly adapter: BackendAdapter | null;
}

/** Whether this browser gives WebGPU an adapter, and which; never throws. */
export const webGpuInfo = async (): Promise<WebGpuInfo> => {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: WebgpuAdapterInfoLike } | null> } }).gpu;
  if (gpu === undefined)
    return { available: false, reason: `this browser has no WebGPU (no navigator.gpu${window.isSecureContext ? '' : '; the page is not a secure context'})`, adapter: null };
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null)
      return { available: false, reason: 'navigator.gpu gives no adapter (no GPU for WebGPU, or WebGPU blocked; headless Chromium gives its SwiftShader software adapter only with --enable-unsafe-webgpu)', adapter: null };
    return { available: true, reason: null, adapter: webgpuAdapter(adapter.info) };
  } catch (e) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed (${e instanceof Error ? e.message : String(e)})`, adapter: null };
  }
};

/** An adapter in words: vendor and device, and "software" when it is one. */
export const adapterLabel = (a: BackendAdapter): string => `${[a.vendor, a.device].filter((x) => x !== '' && x !== 'unknown').join(' ') || 'an unnamed adapter'}${a.kind === 'software' ? ' (software adapter)' : a.kind === 'hardware' ? ' (GPU)' : ''}`;

const reference = async (requested: BackendChoice, fallback: string | null): Promise<StartedBackend> => ({
  backend: await backendByName('reference'),
  requested,
  name: 'reference',
  mode: 'js-f64',
  adapter: null,
  label: 'reference (float64, JavaScript)',
  fallback,
  threads: 1,
  threadsNote: null,
  workers: () => null,
});

const reasonOf = (e: unknown): string => (e instanceof BackendUnavailableError ? e.reason : e instanceof Error ? e.message : String(e));

/** gpu.js, loaded on demand: its browser build is a UMD module whose default export carries the classes. */
const loadGpujs = async (): Promise<unknown> => {
  const ns = (await import('gpu.js')) as unknown as { default?: unknown; GPU?: unknown };
  return typeof ns.GPU === 'function' ? ns : ns.default;
};

/** Start the backend asked for; gpu.js tries WebGL2, then WebGL, then says why and starts the reference. */
export const startBackend = async (requested: BackendChoice): Promise<StartedBackend> => {
  switch (requested) {
    case 'reference':
      return reference(requested, null);
    case 'cpu': {
      try {
        let backend: Backend;
        try {
          backend = await backendByName('cpu-f32');
        } catch (e) {
          if (!(e instanceof BackendUnavailableError)) throw e;
          backend = await backendByName('cpu-f32-js');
        }
        const cpu = backend as unknown as CpuBackend;
        const why = threadsUnavailable();
        const threadsNote = cpu.threads === 1 && (navigator.hardwareConcurrency ?? 1) > 1 && why !== null ? `threads unavailable: ${why}; running on one` : null;
        const kernels = backend.mode === 'js' ? 'JavaScript kernels (no WebAssembly SIMD here)' : backend.mode === 'wasm-relaxed-simd' ? 'WebAssembly relaxed SIMD' : 'WebAssembly SIMD';
        const label = `CPU float32, ${kernels}, ${cpu.threads} thread${cpu.threads === 1 ? '' : 's'}`;
        return { backend, requested, name: 'cpu', mode: backend.mode, adapter: null, label, fallback: null, threads: cpu.threads, threadsNote, workers: () => cpu.threadStats() };
      } catch (e) {
        return reference(requested, `the CPU backend cannot start (${reasonOf(e)}); running on the reference backend`);
      }
    }
    case 'gpujs': {
      let gpujs: unknown;
      try {
        gpujs = await loadGpujs();
      } catch (e) {
        return reference(requested, `gpu.js could not be loaded (${reasonOf(e)}); running on the reference backend`);
      }
      const reasons: string[] = [];
      for (const mode of ['webgl2', 'webgl'] as const) {
        try {
          const backend = await backendByName(`gpujs-${mode}`, { gpujs });
          const info = webGlInfo();
          const where = info.renderer === null ? '' : ` on ${info.renderer}${info.software ? ' (software rendering)' : ''}`;
          return { backend, requested, name: 'gpujs', mode: backend.mode, adapter: backend.adapter ?? null, label: `gpu.js ${backend.mode === 'webgl2' ? 'WebGL2' : 'WebGL'}, float32${where}`, fallback: null, threads: 1, threadsNote: null, workers: () => null };
        } catch (e) {
          reasons.push(`${mode}: ${reasonOf(e)}`);
        }
      }
      return reference(requested, `WebGL is unavailable in this browser (${reasons.join('; ')}); running on the reference backend`);
    }
    case 'gpujs-webgpu': {
      // The same start as in Node: backendByName goes through startGpujsBackend, which uses the browser's own
      // navigator.gpu here (src/backends/gpu/dawn.ts loads Dawn only in Node), probes a kernel and reports the adapter.
      try {
        const backend = await backendByName('gpujs-webgpu', { gpujs: await loadGpujs() });
        const adapter = backend.adapter ?? null;
        const label = `gpu.js WebGPU, float32 on ${adapter === null ? 'an adapter it does not name' : adapterLabel(adapter)}`;
        return { backend, requested, name: 'gpujs', mode: backend.mode, adapter, label, fallback: null, threads: 1, threadsNote: null, workers: () => null };
      } catch (e) {
        return reference(requested, `WebGPU is unavailable in this browser (${reasonOf(e)}); running on the reference backend`);
      }
    }
  }
};

/** The page's WebGPU line: the adapter it gives, or why there is none. */
export const webGpuStatus = (w: WebGpuInfo): string =>
  w.available && w.adapter !== null
    ? `This browser gives WebGPU on ${adapterLabel(w.adapter)}${w.adapter.kind === 'software' ? ': expect gpu.js WebGPU to be slower than the CPU here' : ''}.`
    : `WebGPU is unavailable in this browser: ${w.reason ?? 'no adapter'}. The gpu.js WebGPU choice is disabled.`;

/** Enable the WebGPU choice of a backend menu where WebGPU gives an adapter; else disable it, saying why. */
export const offerWebGpu = (select: HTMLSelectElement, w: WebGpuInfo): void => {
  const option = select.querySelector<HTMLOptionElement>('option[value="gpujs-webgpu"]');
  if (option === null) return;
  option.disabled = !w.available;
  option.textContent = w.available ? 'gpu.js WebGPU' : 'gpu.js WebGPU (unavailable here)';
  option.title = w.reason ?? (w.adapter === null ? '' : adapterLabel(w.adapter));
  option.dataset.reason = w.reason ?? '';
};
