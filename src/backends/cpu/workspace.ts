/**
 * The WebAssembly memory the CPU backend packs matrix products into, with the SIMD kernels bound to it on the
 * calling thread and (shared) on the pool's workers. It grows by doubling; a shared memory grows in place and its
 * workers see the growth, an unshared one (one thread) is replaced with its instance.
 */
import type { F } from './data.js';
import { type PackedProduct, ROW_SCALES, gemmItems } from './gemm.js';
import type { Pool } from './pool.js';
import { MM_ROWS, type Micro, type TraceKernels, type WasmPrecision, instantiate } from './wasm.js';

/** Products with fewer multiply-adds than this run on the calling thread alone (the hand-off costs ~20 µs). */
export const PARALLEL_MIN_MACS = 1 << 19;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export class Workspace {
  readonly width: number;
  readonly bytesPerElement: number;
  private memory: { readonly buffer: ArrayBuffer; grow(pages: number): number } | null = null;
  private mm: Micro = [];
  private id = 0;
  private bytes = 0;
  private cached: F | null = null;
  /** With a pool: an unshared workspace for the products that stay on the calling thread (see `pick`). */
  private local: Workspace | null = null;

  constructor(
    private readonly kernels: TraceKernels,
    private readonly precision: WasmPrecision,
    private readonly pool: Pool | null,
  ) {
    this.width = kernels.width;
    this.bytesPerElement = precision === 64 ? 8 : 4;
  }

  /**
   * Byte offsets of regions of the given element counts, growing as needed. They follow the MM_ROWS ones at
   * ROW_SCALES that the micro-kernels read as their row scales.
   */
  reserve(counts: readonly number[]): { readonly offsets: readonly number[] } {
    const eb = this.bytesPerElement;
    let off = align16(ROW_SCALES + MM_ROWS * eb);
    const offsets = counts.map((n) => {
      const o = off;
      off = align16(off + n * eb);
      return o;
    });
    if (off > this.bytes) this.grow(off);
    return { offsets };
  }

  private grow(need: number): void {
    const bytes = Math.max(need, 2 * this.bytes, 1 << 20);
    if (this.memory !== null && this.pool !== null) {
      this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / 65536));
    } else {
      if (this.pool !== null) throw new Error('unreachable');
      const inst = instantiate(this.kernels, bytes, false);
      this.memory = inst.memory;
      this.mm = inst.mm;
    }
    this.bytes = this.memory!.buffer.byteLength;
    this.cached = null;
    this.writeRowScales();
  }

  /** The ones the micro-kernels read as row scales, at ROW_SCALES. */
  private writeRowScales(): void {
    const at = ROW_SCALES / this.bytesPerElement;
    this.view().fill(1, at, at + MM_ROWS);
  }

  /** A typed view of the whole memory (valid until the next `reserve`). */
  view(): F {
    const buf = this.memory!.buffer;
    // An explicit length: a view of a shared (growable) buffer without one tracks its length, which V8 runs slower.
    if (this.cached === null || this.cached.buffer !== buf || this.cached.byteLength !== buf.byteLength)
      this.cached = this.precision === 64 ? new Float64Array(buf, 0, buf.byteLength / 8) : new Float32Array(buf, 0, buf.byteLength / 4);
    return this.cached;
  }

  /**
   * The workspace a product of `macs` multiply-adds is packed into: the shared one when it will be split among
   * threads, else an unshared one (JavaScript and WebAssembly run measurably slower on shared memory: the same
   * small product took up to twice as long here).
   */
  pick(macs: number): Workspace {
    return this.local !== null && macs < PARALLEL_MIN_MACS ? this.local : this;
  }

  /** Run a packed product, split among the pool's threads (by entries, or by rows of one entry) when it is large. */
  run(job: PackedProduct, macs: number): void {
    const full = { kind: 'gemm' as const, mem: this.id, precision: this.precision, ...job };
    const items = job.count === 1 ? job.m : job.count;
    const local = (from: number, to: number) => gemmItems(this.mm, this.bytesPerElement, full, from, to);
    if (this.pool === null || this.pool.threads === 1 || macs < PARALLEL_MIN_MACS || (job.count === 1 && job.m < 2 * MM_ROWS)) return local(0, items);
    this.pool.parallel(full, items, job.count === 1 ? MM_ROWS : 1, local);
  }

  /** Create the shared memory for a pool up front (its size is fixed by the largest product seen, doubling). */
  static shared(kernels: TraceKernels, precision: WasmPrecision, pool: Pool): Workspace {
    const ws = new Workspace(kernels, precision, pool);
    const inst = instantiate(kernels, 1 << 20, true);
    ws.memory = inst.memory;
    ws.mm = inst.mm;
    ws.id = pool.share(inst.memory, precision, kernels.sharedModule!);
    ws.bytes = inst.memory.buffer.byteLength;
    ws.writeRowScales();
    ws.local = new Workspace(kernels, precision, null);
    return ws;
  }
}
