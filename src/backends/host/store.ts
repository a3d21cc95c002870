/**
 * The data store of backends whose arrays live in host memory (the reference and CPU backends, and the
 * test-only asynchronous backend): plain typed arrays with a shape, owned by one store. Ownership and liveness are
 * checked on every access, so that mixing backends or using a disposed array fails loudly.
 */
import { type DeviceArray, type HostNdArray, type HostView, type MemoryInfo, sameShape, shapeSize } from '../backend.js';
import { BackendArrayError, checkShape } from '../errors.js';
import { copyView, hostView } from './view.js';

export type Storage = Float64Array | Float32Array;

/** The allocation behind an array and its aliases. */
interface Allocation {
  disposed: boolean;
  /** A trace (only the trace kernels, read, write, fill and dispose may use it). */
  readonly trace: boolean;
}

export interface HostDeviceArray<S extends Storage = Storage> extends DeviceArray {
  readonly data: S;
  readonly owner: HostStore<S>;
  readonly allocation: Allocation;
  /** An alias made by `reshape` (it does not own its data). */
  readonly alias: boolean;
}

/** Allocation, ownership and memory accounting for host arrays of one storage type. */
export class HostStore<S extends Storage> {
  private live = 0;
  private bytes = 0;
  private peak = 0;
  constructor(
    readonly backendName: string,
    private readonly make: (n: number) => S,
  ) {}

  alloc(shape: readonly number[], trace = false): HostDeviceArray<S> {
    checkShape('alloc', shape);
    const size = shapeSize(shape);
    const data = this.make(size);
    this.track(1, data.byteLength);
    return { shape: [...shape], size, data, owner: this, allocation: { disposed: false, trace }, alias: false };
  }

  /**
   * Count an array held outside `alloc` (arrays 1, a trace in tiles) or its release (−1), or bytes alone (arrays
   * 0: scratch buffers, which are not arrays of the caller's). Bytes are positive; the sign comes from `arrays`,
   * or for scratch from `bytes`.
   */
  track(arrays: 1 | 0 | -1, bytes: number): void {
    this.live += arrays;
    this.bytes += arrays === 0 ? bytes : arrays * bytes;
    this.peak = Math.max(this.peak, this.bytes);
  }

  reshape(a: DeviceArray, shape: readonly number[]): HostDeviceArray<S> {
    const h = this.own('reshape', a);
    checkShape('reshape', shape);
    if (shapeSize(shape) !== h.size) throw new BackendArrayError('reshape', `[${h.shape.join(', ')}] cannot be seen as [${shape.join(', ')}]`);
    return { shape: [...shape], size: h.size, data: h.data, owner: this, allocation: h.allocation, alias: true };
  }

  dispose(a: DeviceArray): void {
    const h = this.own('dispose', a);
    if (h.alias) throw new BackendArrayError('dispose', 'an alias made by reshape is not disposed itself (dispose the array it aliases)');
    h.allocation.disposed = true;
    this.track(-1, h.data.byteLength);
  }

  memory(): MemoryInfo {
    return { arrays: this.live, bytes: this.bytes, peakBytes: this.peak };
  }

  /** The array as this store's, or a typed error. */
  own(op: string, a: DeviceArray): HostDeviceArray<S> {
    const h = a as HostDeviceArray<S>;
    if (h.owner !== this) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] belongs to another backend (this is ${this.backendName})`);
    if (h.allocation.disposed) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] was disposed`);
    return h;
  }

  /** Data of a non-trace array after checking ownership and (optionally) its exact shape. */
  data(op: string, a: DeviceArray, shape?: readonly number[]): S {
    const h = this.own(op, a);
    if (h.allocation.trace) throw new BackendArrayError(op, 'a trace can only be used by the trace kernels, read, write, fill and dispose');
    if (shape !== undefined && !sameShape(h.shape, shape)) throw new BackendArrayError(op, `expected shape [${shape.join(', ')}], got [${h.shape.join(', ')}]`);
    return h.data;
  }

  /** Data of a trace array. */
  traceData(op: string, a: DeviceArray): S {
    const h = this.own(op, a);
    if (!h.allocation.trace) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] is not a trace (use allocTrace)`);
    return h.data;
  }

  upload(x: HostView): HostDeviceArray<S> {
    const a = this.alloc(x.shape);
    try {
      copyView('upload', a.data, x);
    } catch (e) {
      this.dispose(a);
      throw e;
    }
    return a;
  }

  write(dst: DeviceArray, x: HostView): void {
    const h = this.own('write', dst);
    if (!sameShape(h.shape, x.shape)) throw new BackendArrayError('write', `view has shape [${x.shape.join(', ')}], array [${h.shape.join(', ')}]`);
    copyView('write', h.data, x);
  }

  readSync(a: DeviceArray): HostNdArray {
    const h = this.own('read', a);
    return hostView(h.data.slice() as Storage, h.shape);
  }
}
