/**
 * The gpu.js backend (subpath export `bplambda/gpu`; gpu.js is an optional peer dependency, loaded only here): a data
 * store of gpu.js values and every generic kernel as a gpu.js kernel, compiled from the sources of `sources.ts`
 * and `kernels.ts` once per geometry. In the GL modes arrays stay on the device as textures from one kernel to the
 * next (pipeline mode); traces larger than `maxTileElements` are split into tiles of whole examples (texture limits,
 * exact float32 indices), whose kernels read J, s and δ at the tile's offset. It registers no fused kernels: cells,
 * losses and optimisers are the composites of src/ops, as on any new backend.
 *
 * In the 'webgpu' mode (started by `startGpujsBackend`; WebGPU in Node from src/backends/gpu/dawn.ts) kernels return
 * Promises of device buffers (pipeline mode), which the store keeps and releases in order (src/backends/gpu/values.ts).
 *
 * The mode is explicit and checked: the backend builds a probe kernel and reads which kernel class gpu.js
 * actually chose; if that is not the mode asked for (gpu.js's 'gpu' silently runs on WebAssembly without a GPU
 * context) it throws BackendUnavailableError saying why and what to install. Nothing falls back silently.
 * gpu.js computes in float32 (the 'cpu' mode evaluates in JavaScript doubles and stores float32).
 */
import { z } from 'zod';
import { RULES, numberField, oneOfField, parseConfig, record } from '../../core/schema.js';
import {
  type Backend,
  type BinaryOp,
  type Block,
  type DeviceArray,
  type HostNdArray,
  type HostView,
  type ImmediateJacobian,
  type MatmulOptions,
  type BackendAdapter,
  type MemoryInfo,
  type Operand,
  type ReduceOp,
  type UnaryOp,
  sameShape,
  shapeSize,
  unitRoundoff,
} from '../backend.js';
import { BackendArrayError, BackendUnavailableError, checkShape } from '../errors.js';
import { broadcastStrides, checkBlock, matmulGeometry } from '../host/kernels.js';
import { copyView } from '../host/view.js';
import { gpujsAdapter } from './adapter.js';
import { acquireWebgpu, defaultWebgpuAdapter, probeWebgpu, releaseWebgpu, retainWebgpu } from './dawn.js';
import { claimGlx } from './glProcess.js';
import { Outstanding, type StoreValue as Val, argKinds, assemble, isPromise } from './values.js';
import { copyKernel, traceContractKernel, traceSetKernel, traceUpdateKernel } from './kernels.js';
import { type GpuInstance, type GpuKernel, type GpuModule, type GpuValue, type GpujsBackendOptions, type GpujsMode, GPUJS_MODES, fallbackError, glStatus, isNode, kernelMode, loadGpujs, remedyFor, startError } from './runtime.js';
import * as src from './sources.js';

export { GPUJS_MODES, type GpujsBackendOptions, type GpujsMode } from './runtime.js';

const optionsSchema = record({
  mode: oneOfField(GPUJS_MODES),
  gpujs: z.unknown().optional(),
  maxTileElements: numberField(RULES.count).optional(),
  webgpuAdapter: z.custom<string>((v) => typeof v === 'string' && v !== '', { error: "'opengles', 'vulkan' or an adapter's name" }).optional(),
});


/** Where an array's current value lives (shared by an array and its reshape aliases). */
interface Slot {
  value: Val;
  disposed: boolean;
}
interface GpuArray extends DeviceArray {
  readonly owner: GpujsBackend;
  readonly slot: Slot;
  readonly alias: boolean;
  /** Set for traces: tiles of whole examples [b0, b1). */
  readonly tiles: readonly { readonly b0: number; readonly b1: number; readonly slot: Slot }[] | null;
}
type A = GpuArray;

export class GpujsBackend implements Backend<A> {
  readonly name = 'gpujs';
  readonly mode: string;
  readonly precision = 32 as const;
  readonly epsilon = unitRoundoff(32);
  readonly threads = 1;
  /** The adapter actually running: gpu.js's emulation in the cpu and webasm modes, the GL context's renderer in the GL modes. */
  readonly adapter: BackendAdapter;
  private readonly gpujs: GpuModule;
  private readonly gpu: GpuInstance;
  private readonly gl: boolean;
  private readonly webgpu: boolean;
  private readonly outstanding = new Outstanding();
  private readonly maxTile: number;
  private readonly kernels = new Map<string, GpuKernel>();
  private live = 0;
  private bytes = 0;
  private peak = 0;

  constructor(options: GpujsBackendOptions) {
    parseConfig(optionsSchema, options, 'options');
    const mode = options.mode;
    this.gpujs = loadGpujs(mode, options.gpujs);
    this.maxTile = options.maxTileElements ?? 2 ** 24;
    this.webgpu = mode === 'webgpu';
    if (this.webgpu) {
      // Started by startGpujsBackend, which probes the device (its kernels return Promises).
      const started = retainWebgpu();
      if (started === null)
        throw new BackendUnavailableError('gpujs', mode, 'WebGPU starts asynchronously, and it has not been started in this process', "await startGpujsBackend({ mode: 'webgpu' }) from bplambda/gpu, or backendByName('gpujs-webgpu').");
      this.gpu = new this.gpujs.GPU({ mode });
      this.mode = mode;
      this.adapter = started;
      this.gl = false;
      return;
    }
    // In Node, 'headlessgl' and 'gpu' make a headless-gl (GLX) context, which cannot follow Dawn's EGL (glProcess.ts).
    if ((mode === 'headlessgl' || mode === 'gpu') && isNode()) claimGlx(mode);
    try {
      this.gpu = new this.gpujs.GPU({ mode });
    } catch (e) {
      throw startError(mode, e);
    }
    // Probe: which kernel class does gpu.js really use?
    const probe = this.gpu.createKernel(copyKernel, { output: [4], constants: { R: 1, P: 1, n: 1, NB: 1, B0: 0 } });
    probe(new Float32Array([1, 2, 3, 4]));
    const actual = kernelMode(this.gpujs, probe);
    const adapter = gpujsAdapter(actual, (probe.kernel as { context?: unknown }).context);
    probe.destroy?.();
    const accepted = mode === 'gpu' ? ['headlessgl', 'webgl', 'webgl2'] : [mode];
    if (!accepted.includes(actual)) {
      this.gpu.destroy();
      throw fallbackError(mode, actual);
    }
    this.mode = actual;
    this.adapter = adapter;
    this.gl = actual === 'headlessgl' || actual === 'webgl' || actual === 'webgl2';
  }

  // -- kernels --------------------------------------------------------------------------------------------------
  /** Run the kernel of `source` over `size` outputs (compiled once per source, size and constants). */
  private run(source: string | ((...args: never[]) => number), size: number, args: readonly unknown[], constants: Record<string, unknown> = {}): Val {
    if (args.some((a) => isPromise(a))) return this.outstanding.track(Promise.all(args).then((a) => this.run(source, size, a, constants)));
    const key = `${typeof source === 'string' ? source : source.name}|${size}|${JSON.stringify(constants)}|${argKinds(args)}`;
    let k = this.kernels.get(key);
    if (k === undefined) {
      const device = this.gl || this.webgpu; // results stay on the device (pipeline), each in its own buffer (immutable)
      k = this.gpu.createKernel(source, { output: [size], constants, pipeline: device, immutable: device, precision: 'single', tactic: 'precision' });
      this.kernels.set(key, k);
    }
    const r = k(...args);
    const actual = kernelMode(this.gpujs, k);
    if (actual !== this.mode)
      throw new BackendUnavailableError('gpujs', this.mode, `gpu.js switched a kernel to '${actual}' (a fallback) while running`, remedyFor(this.mode as GpujsMode, glStatus()));
    return isPromise<GpuValue>(r) ? this.outstanding.track(r) : r;
  }
  private release(v: Val): void {
    if (this.webgpu) this.outstanding.release(v);
    else if (!(v instanceof Float32Array) && !isPromise(v)) v.delete();
  }
  /** The array's new value (the previous one is released). */
  private put(out: A, v: Val): void {
    const old = out.slot.value;
    out.slot.value = v;
    if (old !== v) this.release(old);
  }
  private own(op: string, a: DeviceArray, trace = false): A {
    const g = a as A;
    if (g.owner !== this) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] belongs to another backend (this is gpujs ${this.mode})`);
    if (g.slot.disposed) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] was disposed`);
    if (trace && g.tiles === null) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] is not a trace (use allocTrace)`);
    if (!trace && g.tiles !== null) throw new BackendArrayError(op, 'a trace can only be used by the trace kernels, read, write, fill and dispose');
    return g;
  }
  private val(op: string, a: DeviceArray): Val {
    return this.own(op, a).slot.value;
  }

  unary(out: A, x: A, op: UnaryOp): void {
    if (out.size !== this.own('unary', x).size) throw new BackendArrayError('unary', `x [${x.shape.join(', ')}] and out [${out.shape.join(', ')}] differ in size`);
    if (out.size > 0) this.put(this.own('unary', out), this.run(src.unarySource(op), out.size, [x.slot.value]));
  }
  binary(out: A, a: Operand<A>, b: Operand<A>, op: BinaryOp): void {
    this.own('binary', out);
    const strides = (x: Operand<A>) => (typeof x === 'number' ? null : broadcastStrides('binary', this.own('binary', x).shape, out.shape));
    const [sa, sb] = [strides(a), strides(b)];
    const arg = (x: Operand<A>) => (typeof x === 'number' ? x : x.slot.value);
    if (out.size > 0) this.put(out, this.run(src.binarySource(op, out.shape, sa, sb), out.size, [arg(a), arg(b)]));
  }
  matmul(out: A, a: A, b: A, options: MatmulOptions = {}): void {
    const g = matmulGeometry(this.own('matmul', out), this.own('matmul', a), this.own('matmul', b), options);
    if (out.size === 0) return;
    const source = src.matmulSource({ ...g, transposeA: options.transposeA === true, transposeB: options.transposeB === true, accumulate: options.accumulate === true });
    const args = options.accumulate === true ? [a.slot.value, b.slot.value, out.slot.value] : [a.slot.value, b.slot.value];
    this.put(out, this.run(source, out.size, args));
  }
  reduce(out: A, x: A, op: ReduceOp, axis: number): void {
    this.own('reduce', out);
    this.own('reduce', x);
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) throw new BackendArrayError('reduce', `axis ${axis} is not an axis of [${x.shape.join(', ')}]`);
    const len = x.shape[axis]!;
    const post = shapeSize(x.shape.slice(axis + 1));
    if (out.size !== shapeSize(x.shape.filter((_, i) => i !== axis)))
      throw new BackendArrayError('reduce', `out [${out.shape.join(', ')}] is not x [${x.shape.join(', ')}] without axis ${axis}`);
    if (out.size === 0) return;
    if (len === 0) return this.fill(out, op === 'sum' ? 0 : -Infinity);
    this.put(out, this.run(src.reduceSource(op, len, Math.max(1, post)), out.size, [x.slot.value]));
  }
  copyBlock(out: A, x: A, block: Block): void {
    this.own('copyBlock', out);
    this.own('copyBlock', x);
    checkBlock(out.shape, x.shape, block);
    if (out.size === 0 || shapeSize(block.size) === 0) return;
    this.put(out, this.run(src.copyBlockSource(out.shape, x.shape, block.outBegin, block.xBegin, block.size), out.size, [out.slot.value, x.slot.value]));
  }
  fill(out: A, value: number): void {
    const o = out as A;
    if (o.owner !== this || o.slot.disposed) this.own('fill', out);
    if (o.tiles !== null) {
      for (const t of o.tiles) this.setSlot(t.slot, new Float32Array((t.b1 - t.b0) * o.shape[1]! * o.shape[2]!).fill(value));
      return;
    }
    if (out.size > 0) this.put(o, this.run(src.fillSource, out.size, [value]));
  }
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void {
    this.own('clipSegments', a);
    const total = segments.reduce((x, y) => x + y, 0);
    if (total !== a.size) throw new BackendArrayError('clipSegments', `segments sum to ${total}, array has ${a.size}`);
    if (maxNorm === Infinity || a.size === 0) return;
    const starts = segments.map((_, i) => segments.slice(0, i).reduce((x, y) => x + y, 0));
    const norms = this.run(src.segmentNormsSource(Math.max(...segments)), segments.length, [a.slot.value], { starts, lengths: [...segments] });
    this.put(a, this.run(src.segmentScaleSource(segments.length), a.size, [a.slot.value, norms, maxNorm], { starts }));
    this.release(norms);
  }

  // -- traces ---------------------------------------------------------------------------------------------------
  private linearInput(op: string, t: A, imm: ImmediateJacobian<A>): { s: Val; n: number } {
    const [B, R, P] = t.shape as [number, number, number];
    const n = imm.input.shape[1]!;
    if (imm.input.shape[0] !== B || P !== R * n + R) throw new BackendArrayError(op, `trace [${t.shape.join(', ')}] does not fit a linear synthesiser ${R}×${n} on [${imm.input.shape.join(', ')}]`);
    return { s: this.val(op, imm.input), n };
  }
  /** The array's value, after checking that it has this shape. */
  private shaped(op: string, a: DeviceArray, shape: readonly number[]): Val {
    const v = this.val(op, a);
    if (!sameShape(a.shape, shape)) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] is not [${shape.join(', ')}]`);
    return v;
  }
  private hostOf(v: Val): Float32Array | Promise<Float32Array> {
    if (isPromise<GpuValue>(v)) return this.outstanding.track(v.then((x) => this.hostOf(x)));
    const h = v instanceof Float32Array ? v : v.toArray();
    return isPromise<Float32Array>(h) ? this.outstanding.track(h) : h;
  }
  // J, s and δ stay where they are: the kernels read a tile's examples at the offset B0.
  traceUpdate(E: A, J: A | null, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void {
    const t = this.own('traceUpdate', E, true);
    if (contract !== undefined) this.traceContract(contract.out, contract.delta, E);
    const { s, n } = this.linearInput('traceUpdate', t, imm);
    const [, R, P] = t.shape as [number, number, number];
    const jv = J === null ? null : this.shaped('traceUpdate', J, [t.shape[0]!, R, R]);
    for (const tile of t.tiles!) {
      const nb = tile.b1 - tile.b0;
      const c = { R, P, n, NB: nb, B0: tile.b0 };
      const next = jv === null ? this.run(traceSetKernel, nb * R * P, [s], c) : this.run(traceUpdateKernel, nb * R * P, [tile.slot.value, jv, s, decay], c);
      this.setSlot(tile.slot, next);
    }
  }
  /** Per tile the contraction, then their sum and the batch mean, on the device. */
  traceContract(out: A, delta: A, E: A): void {
    const t = this.own('traceContract', E, true);
    const [B, R, P] = t.shape as [number, number, number];
    const dv = this.shaped('traceContract', delta, [B, R]);
    this.shaped('traceContract', out, [P]);
    if (t.tiles!.length === 0 || P === 0) return this.fill(out, 0);
    let acc: Val | null = null;
    for (const tile of t.tiles!) {
      const c = this.run(traceContractKernel, P, [tile.slot.value, dv], { R, P, n: 1, NB: tile.b1 - tile.b0, B0: tile.b0 });
      if (acc === null) acc = c;
      else {
        const sum = this.run(src.binarySource('add', [P], [1], [1]), P, [acc, c]);
        this.release(acc);
        this.release(c);
        acc = sum;
      }
    }
    this.put(out, this.run(src.binarySource('mul', [P], [1], null), P, [acc, 1 / Math.max(1, B)]));
    this.release(acc!);
  }
  private setSlot(slot: Slot, v: Val): void {
    const old = slot.value;
    slot.value = v;
    if (old !== v) this.release(old);
  }

  // -- data store -----------------------------------------------------------------------------------------------
  /** One array more (arrays 1) or fewer (−1), of this many bytes. */
  private track(arrays: 1 | -1, bytes: number): void {
    this.live += arrays;
    this.bytes += arrays * bytes;
    this.peak = Math.max(this.peak, this.bytes);
  }
  alloc(shape: readonly number[]): A {
    checkShape('alloc', shape);
    const value = new Float32Array(shapeSize(shape));
    this.track(1, 4 * value.length);
    return { shape: [...shape], size: value.length, owner: this, slot: { value, disposed: false }, alias: false, tiles: null };
  }
  upload(x: HostView): A {
    const a = this.alloc(x.shape);
    try {
      copyView('upload', a.slot.value as Float32Array, x);
    } catch (e) {
      this.dispose(a);
      throw e;
    }
    return a;
  }
  write(dst: A, x: HostView): void {
    const g = dst as A;
    if (g.owner !== this || g.slot.disposed) this.own('write', dst);
    if (!sameShape(g.shape, x.shape)) throw new BackendArrayError('write', `view has shape [${x.shape.join(', ')}], array [${g.shape.join(', ')}]`);
    const v = new Float32Array(g.size);
    copyView('write', v, x);
    if (g.tiles === null) return this.put(g, v);
    const per = g.shape[1]! * g.shape[2]!;
    for (const t of g.tiles) this.setSlot(t.slot, v.slice(t.b0 * per, t.b1 * per));
  }
  /** The array's values (its tiles' for a trace), as the work queued so far leaves them. */
  private values(op: string, a: A): Val[] {
    if (a.owner !== this || a.slot.disposed) this.own(op, a, a.tiles !== null);
    return a.tiles === null ? [a.slot.value] : a.tiles.map((t) => t.slot.value);
  }
  readSync(a: A): HostNdArray {
    const hs = this.values('read', a).map((v) => this.hostOf(v));
    if (hs.some((h) => isPromise(h))) throw new BackendArrayError('readSync', `the ${this.mode} mode computes asynchronously: use read`);
    return assemble(a, hs as Float32Array[]);
  }
  async read(a: A): Promise<HostNdArray> {
    const vals = this.values('read', a);
    return assemble(a, await Promise.all(vals.map((v) => this.hostOf(v))));
  }
  reshape(a: A, shape: readonly number[]): A {
    const g = this.own('reshape', a);
    checkShape('reshape', shape);
    if (shapeSize(shape) !== g.size) throw new BackendArrayError('reshape', `[${g.shape.join(', ')}] cannot be seen as [${shape.join(', ')}]`);
    return { shape: [...shape], size: g.size, owner: this, slot: g.slot, alias: true, tiles: null };
  }
  allocTrace(batch: number, rows: number, cols: number): A {
    checkShape('allocTrace', [batch, rows, cols]);
    const per = rows * cols;
    if (per > this.maxTile) throw new BackendArrayError('allocTrace', `one example's trace has ${per} elements, more than maxTileElements = ${this.maxTile}`);
    const nb = Math.max(1, Math.floor(this.maxTile / Math.max(1, per)));
    const tiles: { b0: number; b1: number; slot: Slot }[] = [];
    for (let b0 = 0; b0 < batch; b0 += nb) {
      const b1 = Math.min(batch, b0 + nb);
      tiles.push({ b0, b1, slot: { value: new Float32Array((b1 - b0) * per), disposed: false } });
    }
    this.track(1, 4 * batch * per);
    return { shape: [batch, rows, cols], size: batch * per, owner: this, slot: { value: new Float32Array(0), disposed: false }, alias: false, tiles };
  }
  dispose(a: A): void {
    const g = a as A;
    if (g.owner !== this || g.slot.disposed) this.own('dispose', a, g.tiles !== null);
    if (g.alias) throw new BackendArrayError('dispose', 'an alias made by reshape is not disposed itself (dispose the array it aliases)');
    for (const t of g.tiles ?? []) this.release(t.slot.value);
    this.release(g.slot.value);
    g.slot.disposed = true;
    this.track(-1, 4 * g.size);
  }
  memory(): MemoryInfo {
    return { arrays: this.live, bytes: this.bytes, peakBytes: this.peak };
  }
  destroy(): void {
    for (const k of this.kernels.values()) k.destroy?.();
    this.kernels.clear();
    this.gpu.destroy();
    if (this.webgpu) void releaseWebgpu(this.gpujs as { WebGPUContext?: { destroy(): Promise<void> } });
  }
}

/**
 * A gpu.js backend in the given mode, or BackendUnavailableError saying why it cannot start and what to install.
 * The 'webgpu' mode starts asynchronously (`startGpujsBackend`); here it is refused until started in this process.
 */
export const gpujsBackend = (options: GpujsBackendOptions): GpujsBackend => new GpujsBackend(options);

/**
 * A gpu.js backend in any mode, 'webgpu' included: there WebGPU is made available (src/backends/gpu/dawn.ts) and a
 * probe kernel checked first. Rejects with BackendUnavailableError saying why and what to install.
 */
export const startGpujsBackend = async (options: GpujsBackendOptions): Promise<GpujsBackend> => {
  if (options?.mode !== 'webgpu') return new GpujsBackend(options);
  parseConfig(optionsSchema, options, 'options');
  const gpujs = loadGpujs('webgpu', options.gpujs);
  const choice = options.webgpuAdapter ?? defaultWebgpuAdapter();
  await acquireWebgpu(choice);
  try {
    await probeWebgpu(gpujs, choice);
    return new GpujsBackend(options);
  } finally {
    await releaseWebgpu(gpujs as { WebGPUContext?: { destroy(): Promise<void> } });
  }
};
