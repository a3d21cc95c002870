/**
 * The float64 reference backend: a host data store and the generic kernels as plain loops in the reference order
 * (`host/kernels.ts`, `host/traces.ts`), with no fused kernels. Every op of the trainer is then the composite of
 * `src/ops`, whose arithmetic follows the core's operation by operation, so the trainer on this backend
 * reproduces the core's `trainBatch` exactly (spec/backends/engine-exact.test.ts); every other backend is held to
 * it by the conformance suite.
 */
import type { Backend, BinaryOp, Block, DeviceArray, HostNdArray, HostView, ImmediateJacobian, MatmulOptions, MemoryInfo, Operand, ReduceOp, UnaryOp } from './backend.js';
import { unitRoundoff } from './backend.js';
import { BackendArrayError } from './errors.js';
import * as k from './host/kernels.js';
import { HostStore, type HostDeviceArray } from './host/store.js';
import * as tr from './host/traces.js';

type A = HostDeviceArray<Float64Array>;

/**
 * The generic kernels of a host store, as the reference loops. Shared by the reference backend and by backends
 * built for tests (they differ only in their data store's behaviour).
 */
export class HostKernels<S extends Float64Array | Float32Array> {
  constructor(protected readonly store: HostStore<S>) {}

  protected v(kernel: string, a: DeviceArray): k.View {
    return { shape: a.shape, data: this.store.data(kernel, a) };
  }
  protected operand(kernel: string, a: Operand<DeviceArray>): k.View | number {
    return typeof a === 'number' ? a : this.v(kernel, a);
  }

  unary(out: DeviceArray, x: DeviceArray, op: UnaryOp): void {
    k.unary(this.v('unary', out), this.v('unary', x), op);
  }
  binary(out: DeviceArray, a: Operand<DeviceArray>, b: Operand<DeviceArray>, op: BinaryOp): void {
    k.binary(this.v('binary', out), this.operand('binary', a), this.operand('binary', b), op);
  }
  matmul(out: DeviceArray, a: DeviceArray, b: DeviceArray, options?: MatmulOptions): void {
    k.matmul(this.v('matmul', out), this.v('matmul', a), this.v('matmul', b), options);
  }
  reduce(out: DeviceArray, x: DeviceArray, op: ReduceOp, axis: number): void {
    k.reduce(this.v('reduce', out), this.v('reduce', x), op, axis);
  }
  copyBlock(out: DeviceArray, x: DeviceArray, block: Block): void {
    k.copyBlock(this.v('copyBlock', out), this.v('copyBlock', x), block);
  }
  fill(out: DeviceArray, value: number): void {
    const h = this.store.own('fill', out);
    h.data.fill(value);
  }
  clipSegments(a: DeviceArray, segments: readonly number[], maxNorm: number): void {
    k.clipSegments(this.store.data('clipSegments', a), segments, maxNorm);
  }

  traceUpdate(E: DeviceArray, J: DeviceArray | null, decay: number, imm: ImmediateJacobian<DeviceArray>, contract?: { readonly delta: DeviceArray; readonly out: DeviceArray }): void {
    if (contract !== undefined) this.traceContract(contract.out, contract.delta, E);
    const [B, R, P] = E.shape as [number, number, number];
    const e = this.store.traceData('traceUpdate', E);
    const z = this.store.data('traceUpdate', imm.input);
    if (imm.input.shape[0] !== B) throw new BackendArrayError('traceUpdate', `input [${imm.input.shape.join(', ')}] is not [${B}, n]`);
    const n = tr.linearInputSize('traceUpdate', R, P, imm.input.shape[1]!);
    if (J === null) return tr.traceSet(e, B, R, P, z, n);
    tr.traceUpdate(e, this.store.data('traceUpdate', J, [B, R, R]), decay, B, R, P, z, n);
  }
  traceContract(out: DeviceArray, delta: DeviceArray, E: DeviceArray): void {
    const [B, R, P] = E.shape as [number, number, number];
    tr.traceContract(this.store.data('traceContract', out, [P]), this.store.data('traceContract', delta, [B, R]), this.store.traceData('traceContract', E), B, R, P);
  }
}

export class ReferenceBackend extends HostKernels<Float64Array> implements Backend<A> {
  readonly name = 'reference';
  readonly mode = 'js-f64';
  readonly precision = 64 as const;
  readonly epsilon = unitRoundoff(64);

  constructor() {
    super(new HostStore<Float64Array>('reference', (n) => new Float64Array(n)));
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
    this.store.write(dst, x);
  }
  readSync(a: A): HostNdArray {
    return this.store.readSync(a);
  }
  async read(a: A): Promise<HostNdArray> {
    return this.store.readSync(a);
  }
  reshape(a: A, shape: readonly number[]): A {
    return this.store.reshape(a, shape);
  }
  dispose(a: A): void {
    this.store.dispose(a);
  }
  memory(): MemoryInfo {
    return this.store.memory();
  }
  destroy(): void {}
}

export const referenceBackend = (): ReferenceBackend => new ReferenceBackend();
