/**
 * The gpu.js backend (subpath export `bplambda/gpu`; gpu.js is an optional dependency, loaded only here).
 *
 * The trace update E ← ∇θĝ + γλ J E and the δᵀE contraction — where BP(λ) spends ≥ 95% of its arithmetic —
 * run as gpu.js kernels; in the GL modes the trace stays on the device across time steps as a texture
 * (pipeline mode) and only J, δ, s go up and the contraction (one row) comes back each step. Traces larger
 * than `maxTileElements` are split into tiles of whole examples (texture limits, and exact float32 indices).
 * All other ops run on the host in float32, with the CPU backend's JavaScript kernels.
 *
 * The mode is explicit and checked: the backend builds a probe kernel and reads which kernel class gpu.js
 * actually chose; if that is not the mode asked for (gpu.js's 'gpu' silently runs on WebAssembly without a GPU
 * context) it throws BackendUnavailableError saying why and what to install. Nothing falls back silently.
 * gpu.js computes in float32 (the 'cpu' mode evaluates in JavaScript doubles and stores float32).
 */
import type { NdArray } from 'ndarray';
import ndarray from 'ndarray';
import type { LossKind } from '../../core/model.js';
import {
  type Backend,
  type CellCache,
  type CellParams,
  type CellSpec,
  type DeviceArray,
  type HostNdArray,
  type ImmediateJacobian,
  type MemoryInfo,
  type Reduce,
  unitRoundoff,
} from '../backend.js';
import { CpuBackend } from '../cpu/index.js';
import { BackendArrayError, BackendUnavailableError } from '../errors.js';
import { copyKernel, traceContractKernel, traceUpdateKernel } from './kernels.js';

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
}

// The parts of gpu.js used here, typed locally (gpu.js's own .d.ts is loose about typed arrays).
interface GpuTexture {
  toArray(): Float32Array;
  delete(): void;
}
type GpuValue = Float32Array | GpuTexture;
interface GpuKernel {
  (...args: unknown[]): GpuValue;
  readonly kernel: object;
  destroy?(removeCanvasReferences?: boolean): void;
}
interface GpuInstance {
  readonly mode: string;
  createKernel(fn: unknown, settings: Record<string, unknown>): GpuKernel;
  destroy(): unknown;
}
interface GpuModule {
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

const remedyFor = (mode: GpujsMode, gl: 'missing' | 'no-context' | 'ok'): string => {
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
      return "Use mode 'headlessgl' (Node) or 'webgl2' (browser).";
    default:
      return 'Reinstall the optional dependency: npm install gpu.js@2.24.1.';
  }
};

/** Node's require, relative to this module (null outside Node): no static import of node: modules, so the file bundles for a browser. */
const nodeRequire = (): ((id: string) => unknown) | null => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as { createRequire(url: string): (id: string) => unknown } | undefined;
  return mod === undefined ? null : mod.createRequire(import.meta.url);
};

const loadGpujs = (mode: GpujsMode, given: unknown): GpuModule => {
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
      `the optional dependency gpu.js cannot be loaded (${(e as Error).message.split('\n')[0]})`,
      'Install it: npm install gpu.js@2.24.1 (it is an optionalDependency of bplambda).',
    );
  }
};

/** Whether headless-gl is installed and can create a context (for the reason in an error message). */
const glStatus = (): 'missing' | 'no-context' | 'ok' => {
  try {
    const gl = nodeRequire()?.('gl') as ((w: number, h: number) => unknown) | undefined;
    if (gl === undefined) return 'missing';
    return gl(1, 1) === null ? 'no-context' : 'ok';
  } catch {
    return 'missing';
  }
};

const kernelMode = (gpujs: GpuModule, k: GpuKernel): string => {
  for (const [cls, mode] of KERNEL_CLASSES) {
    const C = gpujs[cls] as (abstract new (...a: never[]) => unknown) | undefined;
    if (C !== undefined && k.kernel instanceof C) return mode;
  }
  return 'unknown';
};

interface GpuTile {
  readonly b0: number;
  readonly b1: number;
  E: GpuValue;
}

interface GpuTrace extends DeviceArray {
  readonly gpuTrace: true;
  readonly owner: GpujsBackend;
  disposed: boolean;
  readonly B: number;
  readonly R: number;
  readonly P: number;
  readonly tiles: GpuTile[];
}

type A = DeviceArray;

export class GpujsBackend implements Backend<A> {
  readonly name = 'gpujs';
  readonly mode: string;
  readonly precision = 32 as const;
  readonly epsilon = unitRoundoff(32);
  private readonly gpujs: GpuModule;
  private readonly gpu: GpuInstance;
  /** The host side: float32 arrays and the CPU backend's JavaScript kernels for every op but the traces. */
  private readonly host = new CpuBackend({ precision: 32, kernels: 'js' }) as unknown as Backend<A> & Pick<CpuBackend, 'hostData'>;
  private readonly gl: boolean;
  private readonly maxTile: number;
  private readonly kernels = new Map<string, GpuKernel>();
  private traceBytes = 0;
  private peak = 0;

  constructor(options: GpujsBackendOptions) {
    const mode = options.mode;
    if (!(GPUJS_MODES as readonly string[]).includes(mode))
      throw new BackendUnavailableError('gpujs', String(mode), `unknown mode (one of ${GPUJS_MODES.join(', ')})`, '');
    if (mode === 'webgpu')
      throw new BackendUnavailableError('gpujs', mode, "gpu.js's WebGPU kernels are asynchronous and the Backend interface is synchronous", remedyFor(mode, 'ok'));
    this.gpujs = loadGpujs(mode, options.gpujs);
    try {
      this.gpu = new this.gpujs.GPU({ mode });
    } catch (e) {
      const gl = mode === 'headlessgl' || mode === 'gpu' ? glStatus() : 'ok';
      const why =
        mode === 'headlessgl'
          ? gl === 'missing'
            ? 'the optional native package gl (headless-gl) is not installed or not built'
            : 'gl is built but cannot create a WebGL context (no X display with GLX)'
          : mode === 'webgl' || mode === 'webgl2'
            ? 'WebGL exists only in a browser'
            : (e as Error).message;
      throw new BackendUnavailableError('gpujs', mode, `${why} (gpu.js: ${(e as Error).message})`, remedyFor(mode, gl));
    }
    // Probe: which kernel class does gpu.js really use?
    const probe = this.gpu.createKernel(copyKernel, { output: [4], constants: { R: 1, P: 1, n: 1, NB: 1 } });
    probe(new Float32Array([1, 2, 3, 4]));
    const actual = kernelMode(this.gpujs, probe);
    probe.destroy?.();
    const accepted = mode === 'gpu' ? ['headlessgl', 'webgl', 'webgl2'] : [mode];
    if (!accepted.includes(actual)) {
      this.gpu.destroy();
      const gl = glStatus();
      throw new BackendUnavailableError(
        'gpujs',
        mode,
        mode === 'gpu'
          ? `no GPU context is available: gpu.js would run on its ${actual} kernels (${gl === 'missing' ? 'headless-gl is not built' : gl === 'no-context' ? 'headless-gl has no X display' : 'no WebGL'})`
          : `gpu.js runs '${actual}' kernels where '${mode}' was asked for`,
        remedyFor(mode, gl),
      );
    }
    this.mode = actual;
    this.gl = actual === 'headlessgl' || actual === 'webgl' || actual === 'webgl2';
    this.maxTile = options.maxTileElements ?? 2 ** 24;
  }

  private kernel(key: string, fn: unknown, output: number, constants: Record<string, number>, pipeline: boolean): GpuKernel {
    const k = this.kernels.get(key);
    if (k !== undefined) return k;
    const fresh = this.gpu.createKernel(fn, { output: [output], constants, pipeline, immutable: pipeline, precision: 'single' });
    this.kernels.set(key, fresh);
    return fresh;
  }
  /** Run a kernel and check that gpu.js did not switch it to another kernel class on the way. */
  private call(k: GpuKernel, ...args: unknown[]): GpuValue {
    const r = k(...args);
    const actual = kernelMode(this.gpujs, k);
    if (actual !== this.mode)
      throw new BackendUnavailableError('gpujs', this.mode, `gpu.js switched a kernel to '${actual}' (a fallback) while running`, remedyFor(this.mode as GpujsMode, glStatus()));
    return r;
  }
  private hostArray(v: GpuValue): Float32Array {
    return v instanceof Float32Array ? v : v.toArray();
  }
  private release(v: GpuValue): void {
    if (!(v instanceof Float32Array)) v.delete();
  }

  // -- data (host arrays via the CPU backend; traces here) ----------------------------------------------------
  private isTrace(a: DeviceArray): a is GpuTrace {
    return (a as GpuTrace).gpuTrace === true;
  }
  private tr(op: string, a: DeviceArray): GpuTrace {
    if (!this.isTrace(a)) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] is not a trace (use allocTrace)`);
    if (a.owner !== this) throw new BackendArrayError(op, 'trace belongs to another backend');
    if (a.disposed) throw new BackendArrayError(op, 'trace was disposed');
    return a;
  }
  private notTrace(op: string, ...xs: A[]): void {
    for (const x of xs) if (this.isTrace(x)) throw new BackendArrayError(op, 'a trace can only be used by the trace ops, read, write, zero and dispose');
  }
  alloc(shape: readonly number[]): A {
    return this.host.alloc(shape);
  }
  upload(x: NdArray): A {
    return this.host.upload(x);
  }
  write(dst: A, x: NdArray): void {
    if (!this.isTrace(dst)) return this.host.write(dst, x);
    const t = this.tr('write', dst);
    const tmp = this.host.upload(x);
    const data = this.host.hostData('write', tmp, t.shape) as Float32Array;
    for (const tile of t.tiles) this.setTile(tile, data.slice(tile.b0 * t.R * t.P, tile.b1 * t.R * t.P), t);
    this.host.dispose(tmp);
  }
  read(a: A): HostNdArray {
    if (!this.isTrace(a)) return this.host.read(a);
    const t = this.tr('read', a);
    const out = new Float32Array(t.size);
    for (const tile of t.tiles) out.set(this.hostArray(tile.E), tile.b0 * t.R * t.P);
    return ndarray(out, [...t.shape]);
  }
  zero(a: A): void {
    if (!this.isTrace(a)) return this.host.zero(a);
    const t = this.tr('zero', a);
    for (const tile of t.tiles) this.setTile(tile, new Float32Array((tile.b1 - tile.b0) * t.R * t.P), t);
  }
  copy(dst: A, src: A): void {
    this.notTrace('copy', dst, src);
    this.host.copy(dst, src);
  }
  dispose(a: A): void {
    if (!this.isTrace(a)) return this.host.dispose(a);
    const t = this.tr('dispose', a);
    for (const tile of t.tiles) this.release(tile.E);
    t.disposed = true;
    this.traceBytes -= 4 * t.size;
  }
  memory(): MemoryInfo {
    const m = this.host.memory();
    return { arrays: m.arrays, bytes: m.bytes + this.traceBytes, peakBytes: Math.max(this.peak, m.peakBytes + this.traceBytes) };
  }
  destroy(): void {
    for (const k of this.kernels.values()) k.destroy?.();
    this.kernels.clear();
    this.gpu.destroy();
    this.host.destroy();
  }

  // -- everything but the traces: the host's float32 kernels ----------------------------------------------------
  axpy(out: A, a: A, alpha: number, b: A): void {
    this.host.axpy(out, a, alpha, b);
  }
  sub(out: A, a: A, b: A): void {
    this.host.sub(out, a, b);
  }
  mul(out: A, a: A, b: A): void {
    this.host.mul(out, a, b);
  }
  scale(out: A, a: A, alpha: number): void {
    this.host.scale(out, a, alpha);
  }
  batchMean(out: A, x: A, accumulate: boolean): void {
    this.host.batchMean(out, x, accumulate);
  }
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void {
    this.host.clipSegments(a, segments, maxNorm);
  }
  linear(out: A, x: A, W: A, bias: A | null, accumulate: boolean): void {
    this.host.linear(out, x, W, bias, accumulate);
  }
  vecmat(out: A, v: A, M: A): void {
    this.host.vecmat(out, v, M);
  }
  outerAccumulate(out: A, u: A, v: A, reduce: Reduce): void {
    this.host.outerAccumulate(out, u, v, reduce);
  }
  rowAccumulate(out: A, u: A, reduce: Reduce): void {
    this.host.rowAccumulate(out, u, reduce);
  }
  cellForward(spec: CellSpec, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void {
    this.host.cellForward(spec, params, prev, x, state, cache);
  }
  cellJacobian(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void {
    this.host.cellJacobian(spec, params, prev, cache, out);
  }
  cellStateVjp(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, g: A, out: A): void {
    this.host.cellStateVjp(spec, params, prev, cache, g, out);
  }
  cellPreactGrad(spec: CellSpec, prev: A, cache: CellCache<A>, g: A, dz: A): void {
    this.host.cellPreactGrad(spec, prev, cache, g, dz);
  }
  lstmCellJacobians(params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, C: A, D: A): void {
    this.host.lstmCellJacobians(params, prev, cache, psiPrev, C, D);
  }
  epropAdvance(prev: A, x: A, cache: CellCache<A>, traces: A): void {
    this.host.epropAdvance(prev, x, cache, traces);
  }
  epropGradient(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>, accumulate: boolean): void {
    this.host.epropGradient(prev, x, cache, traces, signal, out, accumulate);
  }
  epropGradientMean(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>): void {
    this.host.epropGradientMean(prev, x, cache, traces, signal, out);
  }
  lossGrad(kind: LossKind, yHat: A, y: A, mask: A, loss: A, dy: A): void {
    this.host.lossGrad(kind, yHat, y, mask, loss, dy);
  }

  // -- traces: gpu.js kernels ---------------------------------------------------------------------------------
  allocTrace(batch: number, rows: number, cols: number): A {
    const per = rows * cols;
    if (per > this.maxTile)
      throw new BackendArrayError('allocTrace', `one example's trace has ${per} elements, more than maxTileElements = ${this.maxTile}`);
    const nb = Math.max(1, Math.floor(this.maxTile / per));
    const t: GpuTrace = { gpuTrace: true, owner: this, disposed: false, shape: [batch, rows, cols], size: batch * per, B: batch, R: rows, P: cols, tiles: [] };
    for (let b0 = 0; b0 < batch; b0 += nb) {
      const b1 = Math.min(batch, b0 + nb);
      const tile: GpuTile = { b0, b1, E: new Float32Array(0) };
      this.setTile(tile, new Float32Array((b1 - b0) * per), t);
      t.tiles.push(tile);
    }
    this.traceBytes += 4 * t.size;
    this.peak = Math.max(this.peak, this.host.memory().bytes + this.traceBytes);
    return t;
  }
  /** Put host values into a tile (uploaded as a texture in the GL modes). */
  private setTile(tile: GpuTile, values: Float32Array, t: GpuTrace): void {
    this.release(tile.E);
    if (!this.gl) {
      tile.E = values;
      return;
    }
    const n = (tile.b1 - tile.b0) * t.R * t.P;
    tile.E = this.call(this.kernel(`copy:${n}`, copyKernel, n, { R: t.R, P: t.P, n: 1, NB: tile.b1 - tile.b0 }, true), values);
  }
  private linearInput(op: string, t: GpuTrace, imm: ImmediateJacobian<A>): { s: Float32Array; n: number } {
    const n = imm.input.shape[1]!;
    if (t.P !== t.R * n + t.R) throw new BackendArrayError(op, `trace has ${t.P} columns, a linear synthesiser ${t.R}×${n} has ${t.R * n + t.R}`);
    return { s: this.host.hostData(op, imm.input, [t.B, n]) as Float32Array, n };
  }
  traceSet(E: A, imm: ImmediateJacobian<A>): void {
    const t = this.tr('traceSet', E);
    const { s, n } = this.linearInput('traceSet', t, imm);
    const { R, P } = t;
    for (const tile of t.tiles) {
      const v = new Float32Array((tile.b1 - tile.b0) * R * P);
      for (let b = tile.b0; b < tile.b1; b++) {
        const eo = (b - tile.b0) * R * P;
        for (let i = 0; i < R; i++) {
          v.set(s.subarray(b * n, (b + 1) * n), eo + i * P + i * n);
          v[eo + i * P + R * n + i] = 1;
        }
      }
      this.setTile(tile, v, t);
    }
  }
  traceUpdate(E: A, J: A, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void {
    const t = this.tr('traceUpdate', E);
    if (contract !== undefined) this.traceContract(contract.out, contract.delta, E);
    const { s, n } = this.linearInput('traceUpdate', t, imm);
    const js = this.host.hostData('traceUpdate', J, [t.B, t.R, t.R]) as Float32Array;
    const { R, P } = t;
    for (const tile of t.tiles) {
      const nb = tile.b1 - tile.b0;
      const k = this.kernel(`update:${nb}:${R}:${P}:${n}`, traceUpdateKernel, nb * R * P, { R, P, n, NB: nb }, this.gl);
      const next = this.call(k, tile.E, js.subarray(tile.b0 * R * R, tile.b1 * R * R), s.subarray(tile.b0 * n, tile.b1 * n), decay);
      this.release(tile.E);
      tile.E = next;
    }
  }
  traceContract(out: A, delta: A, E: A): void {
    const t = this.tr('traceContract', E);
    const { R, P } = t;
    const dl = this.host.hostData('traceContract', delta, [t.B, R]) as Float32Array;
    const o = this.host.hostData('traceContract', out, [P]);
    const acc = new Float64Array(P);
    for (const tile of t.tiles) {
      const nb = tile.b1 - tile.b0;
      const k = this.kernel(`contract:${nb}:${R}:${P}`, traceContractKernel, P, { R, P, n: 1, NB: nb }, false);
      const c = this.hostArray(this.call(k, tile.E, dl.subarray(tile.b0 * R, tile.b1 * R)));
      for (let p = 0; p < P; p++) acc[p] += c[p]!;
    }
    const inv = 1 / Math.max(1, t.B);
    for (let p = 0; p < P; p++) o[p] = acc[p]! * inv;
  }
}

/** A gpu.js backend in the given mode, or BackendUnavailableError saying why it cannot start and what to install. */
export const gpujsBackend = (options: GpujsBackendOptions): GpujsBackend => new GpujsBackend(options);
