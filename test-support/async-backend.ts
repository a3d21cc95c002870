/**
 * A test-only backend that completes every kernel asynchronously: a host data store plus the generic kernels (the
 * reference loops), each call queued and run later on the event loop, and `read` the only way to get data back
 * (no `readSync`, no fused kernels). Whatever assumes that work is done when a kernel call returns, or that data
 * can be read synchronously, fails on it; whatever only queues work and awaits reads gets the reference's numbers.
 * It also shows what a new backend is: a data store plus the nine generic kernels.
 */
import type {
  Backend,
  BinaryOp,
  Block,
  HostNdArray,
  HostView,
  ImmediateJacobian,
  MatmulOptions,
  MemoryInfo,
  Operand,
  ReduceOp,
  UnaryOp,
} from '../src/backends/backend.js';
import { sameShape, shapeSize, unitRoundoff } from '../src/backends/backend.js';
import { BackendArrayError } from '../src/backends/errors.js';
import { HostStore, type HostDeviceArray } from '../src/backends/host/store.js';
import { copyView, hostView } from '../src/backends/host/view.js';
import { HostKernels } from '../src/backends/reference.js';

type A = HostDeviceArray<Float64Array>;

export class AsyncTestBackend implements Backend<A> {
  readonly name = 'async-test';
  readonly mode = 'queued';
  readonly precision = 64 as const;
  readonly epsilon = unitRoundoff(64);
  private readonly store = new HostStore<Float64Array>('async-test', (n) => new Float64Array(n));
  private readonly kernels = new HostKernels(this.store);
  private queue: Promise<void> = Promise.resolve();
  /** The first error of a queued call: every later read rejects with it (as a device reports a failed kernel). */
  private failure: unknown = null;
  /** Calls queued and not yet run (for tests of the queue itself). */
  pending = 0;

  /** Run `f` after everything queued so far, on a later turn of the event loop. */
  private enqueue(f: () => void): Promise<void> {
    this.pending++;
    this.queue = this.queue.then(
      () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            this.pending--;
            if (this.failure === null)
              try {
                f();
              } catch (e) {
                this.failure = e;
              }
            resolve();
          }),
        ),
    );
    return this.queue;
  }

  alloc(shape: readonly number[]): A {
    return this.store.alloc(shape);
  }
  allocTrace(batch: number, rows: number, cols: number): A {
    return this.store.alloc([batch, rows, cols], true);
  }
  upload(x: HostView): A {
    return this.store.upload(x);
  }
  write(dst: A, x: HostView): void {
    if (!sameShape(dst.shape, x.shape))
      throw new BackendArrayError('write', `view has shape [${x.shape.join(', ')}], array [${dst.shape.join(', ')}]`);
    // The data is taken now; the write happens in queue order.
    const data = new Float64Array(shapeSize(x.shape));
    copyView('write', data, x);
    const copy = hostView(data, x.shape);
    void this.enqueue(() => this.store.write(dst, copy));
  }
  read(a: A): Promise<HostNdArray> {
    let out: HostNdArray | null = null;
    return this.enqueue(() => {
      out = this.store.readSync(a);
    }).then(() => {
      if (this.failure !== null) throw this.failure;
      return out!;
    });
  }
  reshape(a: A, shape: readonly number[]): A {
    return this.store.reshape(a, shape);
  }
  dispose(a: A): void {
    void this.enqueue(() => this.store.dispose(a));
  }
  memory(): MemoryInfo {
    return this.store.memory();
  }
  destroy(): void {}

  unary(out: A, x: A, op: UnaryOp): void {
    void this.enqueue(() => this.kernels.unary(out, x, op));
  }
  binary(out: A, a: Operand<A>, b: Operand<A>, op: BinaryOp): void {
    void this.enqueue(() => this.kernels.binary(out, a, b, op));
  }
  matmul(out: A, a: A, b: A, options?: MatmulOptions): void {
    void this.enqueue(() => this.kernels.matmul(out, a, b, options));
  }
  reduce(out: A, x: A, op: ReduceOp, axis: number): void {
    void this.enqueue(() => this.kernels.reduce(out, x, op, axis));
  }
  copyBlock(out: A, x: A, block: Block): void {
    void this.enqueue(() => this.kernels.copyBlock(out, x, block));
  }
  fill(out: A, value: number): void {
    void this.enqueue(() => this.kernels.fill(out, value));
  }
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void {
    void this.enqueue(() => this.kernels.clipSegments(a, segments, maxNorm));
  }
  traceUpdate(E: A, J: A | null, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void {
    void this.enqueue(() => this.kernels.traceUpdate(E, J, decay, imm, contract));
  }
  traceContract(out: A, delta: A, E: A): void {
    void this.enqueue(() => this.kernels.traceContract(out, delta, E));
  }
}

export const asyncTestBackend = (): AsyncTestBackend => new AsyncTestBackend();
