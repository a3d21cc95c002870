/**
 * Host-resident device arrays: the storage of the reference and CPU backends (and of the gpu.js backend's
 * non-trace arrays). A `HostArray` is a plain typed array with a shape, owned by one backend instance; the
 * owner and liveness are checked on every op so that mixing backends or using a disposed array fails loudly.
 */
import ndarray, { type NdArray } from 'ndarray';
import ops from 'ndarray-ops';
import { type DeviceArray, type HostNdArray, type MemoryInfo, shapeSize } from './backend.js';
import { BackendArrayError } from './errors.js';

export type Storage = Float64Array | Float32Array;

export interface HostDeviceArray<S extends Storage = Storage> extends DeviceArray {
  readonly data: S;
  readonly owner: HostPool<S>;
  disposed: boolean;
}

/** Allocation, ownership and memory accounting for host-resident arrays of one storage type. */
export class HostPool<S extends Storage> {
  private live = 0;
  private bytes = 0;
  private peak = 0;
  constructor(
    readonly backendName: string,
    private readonly make: (n: number) => S,
  ) {}

  alloc(shape: readonly number[]): HostDeviceArray<S> {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new BackendArrayError('alloc', `shape [${shape.join(', ')}] must be non-negative integers`);
    const size = shapeSize(shape);
    const data = this.make(size);
    this.track(data.byteLength);
    return { shape: [...shape], size, data, owner: this, disposed: false };
  }

  /** Count bytes held outside `alloc` (scratch buffers, WebAssembly memories). */
  track(bytes: number): void {
    if (bytes === 0) return;
    this.live += bytes > 0 ? 1 : -1;
    this.bytes += bytes;
    this.peak = Math.max(this.peak, this.bytes);
  }

  dispose(a: DeviceArray): void {
    const h = this.own('dispose', a);
    h.disposed = true;
    this.track(-h.data.byteLength);
  }

  memory(): MemoryInfo {
    return { arrays: this.live, bytes: this.bytes, peakBytes: this.peak };
  }

  /** The array as this pool's, or a typed error. */
  own(op: string, a: DeviceArray): HostDeviceArray<S> {
    const h = a as HostDeviceArray<S>;
    if (h.owner !== this) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] belongs to another backend (this is ${this.backendName})`);
    if (h.disposed) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] was disposed`);
    return h;
  }

  /** Data of an array after checking ownership and (optionally) its exact shape. */
  data(op: string, a: DeviceArray, shape?: readonly number[]): S {
    const h = this.own(op, a);
    if (shape !== undefined && !sameShape(h.shape, shape))
      throw new BackendArrayError(op, `expected shape [${shape.join(', ')}], got [${h.shape.join(', ')}]`);
    return h.data;
  }

  upload(x: NdArray): HostDeviceArray<S> {
    const a = this.alloc(x.shape);
    copyIn(a, x);
    return a;
  }

  write(dst: DeviceArray, x: NdArray): void {
    const h = this.own('write', dst);
    if (!sameShape(h.shape, x.shape)) throw new BackendArrayError('write', `view has shape [${x.shape.join(', ')}], array [${h.shape.join(', ')}]`);
    copyIn(h, x);
  }

  read(a: DeviceArray): HostNdArray {
    const h = this.own('read', a);
    return ndarray(h.data.slice() as Storage, [...h.shape]);
  }
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Copy an ndarray view (any strides, any numeric storage) into a host array (not a hot path: ndarray-ops). */
const copyIn = (dst: HostDeviceArray, x: NdArray): void => {
  if (dst.size === 0) return;
  ops.assign(ndarray(dst.data, [...dst.shape]), x);
};

// ---------------------------------------------------------------------------------------------------
// Kernels on host typed arrays, shared by the reference and CPU backends (same loops, same order).

/** Every operand has the size of `out`. */
export const checkSameSize = (op: string, out: DeviceArray, ...xs: readonly DeviceArray[]): void => {
  for (const x of xs) if (x.size !== out.size) throw new BackendArrayError(op, `operand of size ${x.size} does not match out of size ${out.size}`);
};

export const axpyInto = (o: Storage, x: Storage, alpha: number, y: Storage): void => {
  for (let i = 0; i < o.length; i++) o[i] = x[i]! + alpha * y[i]!;
};
export const subInto = (o: Storage, x: Storage, y: Storage): void => {
  for (let i = 0; i < o.length; i++) o[i] = x[i]! - y[i]!;
};
export const mulInto = (o: Storage, x: Storage, y: Storage): void => {
  for (let i = 0; i < o.length; i++) o[i] = x[i]! * y[i]!;
};
export const scaleInto = (o: Storage, x: Storage, alpha: number): void => {
  for (let i = 0; i < o.length; i++) o[i] = x[i]! * alpha;
};

/** Rescale each consecutive segment of `v` to L2 norm ≤ maxNorm, in place (Infinity: nothing to do). */
export const clipSegmentsInPlace = (op: string, v: Storage, segments: readonly number[], maxNorm: number): void => {
  const total = segments.reduce((x, y) => x + y, 0);
  if (total !== v.length) throw new BackendArrayError(op, `segments sum to ${total}, array has ${v.length}`);
  if (maxNorm === Infinity) return;
  let off = 0;
  for (const len of segments) {
    let s = 0;
    for (let i = off; i < off + len; i++) s += v[i]! * v[i]!;
    const n = Math.sqrt(s);
    if (n > maxNorm) {
      const c = maxNorm / n;
      for (let i = off; i < off + len; i++) v[i] = v[i]! * c;
    }
    off += len;
  }
};
