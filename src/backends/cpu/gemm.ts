/**
 * The CPU backend's matrix product in WebAssembly SIMD: C (+)= A·B for strided A [m, k] and B [k, n].
 *
 * A is packed row-major [m, k] and B row-major [k, ldb] (n rounded up to the SIMD block width) into a workspace
 * memory; the register-blocked micro-kernels of `wasm.ts` (4 rows × 2 vectors, column panels that stay in cache)
 * form every C entry as Σ_k from +0 in ascending k with one rounding per multiply and per add, exactly as the
 * reference's `matmul` sums; `accumulate` then adds the product onto C (out + Σ, as the reference). So at
 * precision 64 the product is the reference's bit for bit, whatever the blocking or the thread split (at 32,
 * the same operations rounded to float32). With relaxed-SIMD fused multiply-add (`mode` 'wasm-relaxed-simd')
 * each multiply-add rounds once instead: still independent of the threads, no longer the reference's bits.
 *
 * A large product is split among the threads of a `Pool` (`pool.ts`), by rows of C or, for a batched product, by
 * entries; each C entry is still formed by one thread in the same order, so the thread count never changes a bit.
 */
import type { F } from './data.js';
import type { Workspace } from './workspace.js';
import { MM_ROWS, type Micro } from './wasm.js';

/** A strided matrix: entry (i, p) at data[off + i·rs + p·cs]. */
export interface Strided {
  readonly data: F;
  readonly off: number;
  readonly rs: number;
  readonly cs: number;
}

/** Byte offset, in every workspace, of the MM_ROWS ones the micro-kernels read as their row scales. */
export const ROW_SCALES = 0;

/** Products smaller than this many multiply-adds stay in JavaScript (packing would cost more than it saves). */
export const GEMM_MIN_MACS = 2048;

/** Bytes of B per column panel: a slice every row block reuses while it is in cache. */
const PANEL_BYTES = 2 ** 17;

const pack = (dst: F, dOff: number, ld: number, src: Strided, rows: number, cols: number): void => {
  const { data, off, rs, cs } = src;
  if (cs === 1) {
    for (let i = 0; i < rows; i++) dst.set(data.subarray(off + i * rs, off + i * rs + cols), dOff + i * ld);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const d = dOff + i * ld;
    const s = off + i * rs;
    for (let p = 0; p < cols; p++) dst[d + p] = data[s + p * cs]!;
  }
};

/**
 * C[i, j] (+)= Σ_p A[i, p] B[p, j] for i < m, j < n, p < k, into c (row stride ldc). Falls back to a JavaScript
 * loop in the same order for small products.
 */
export const gemm = (ws: Workspace, m: number, n: number, k: number, a: Strided, b: Strided, c: F, cOff: number, ldc: number, accumulate: boolean): void =>
  gemmBatch(ws, 1, m, n, k, () => a, () => b, c, () => cOff, ldc, accumulate);

/**
 * `count` products of the same shape (entry e: A = a(e), B = b(e), C at c[cOff(e)…]): packed together, run as one
 * job (split among the threads by entries, or by rows when there is one), and copied out together, so a batched
 * product costs one hand-off, not one per entry.
 */
export const gemmBatch = (
  shared: Workspace,
  count: number,
  m: number,
  n: number,
  k: number,
  a: (e: number) => Strided,
  b: (e: number) => Strided,
  c: F,
  cOff: (e: number) => number,
  ldc: number,
  accumulate: boolean,
): void => {
  if (m === 0 || n === 0 || count === 0) return;
  if (k === 0 || m * n * k < GEMM_MIN_MACS || n < shared.width) {
    for (let e = 0; e < count; e++) jsGemm(m, n, k, a(e), b(e), c, cOff(e), ldc, accumulate);
    return;
  }
  const ws = shared.pick(count * m * n * k);
  const ldb = Math.ceil(n / ws.width) * ws.width;
  const eb = ws.bytesPerElement;
  const sa = m * k;
  const sb = k * ldb;
  const sc = m * ldb;
  const [aw, bw, cw] = ws.reserve([count * sa, count * sb, count * sc]).offsets as [number, number, number];
  const view = ws.view();
  for (let e = 0; e < count; e++) {
    pack(view, aw / eb + e * sa, k, a(e), m, k);
    pack(view, bw / eb + e * sb, ldb, b(e), k, n);
  }
  const pw = Math.max(ws.width, Math.floor(PANEL_BYTES / (k * eb) / ws.width) * ws.width);
  ws.run({ m, k, ldb, aw, bw, cw, pw, count, sa: sa * eb, sb: sb * eb, sc: sc * eb }, count * m * n * k);
  const out = ws.view();
  for (let e = 0; e < count; e++) {
    const cw0 = cw / eb + e * sc;
    const base = cOff(e);
    for (let i = 0; i < m; i++) {
      const src = cw0 + i * ldb;
      const dst = base + i * ldc;
      if (!accumulate) c.set(out.subarray(src, src + n), dst);
      else for (let j = 0; j < n; j++) c[dst + j] = c[dst + j]! + out[src + j]!;
    }
  }
};

/** A packed product (entry 0 at aw, bw, cw; entry e at byte strides sa, sb, sc from there), as a thread runs it. */
export interface PackedProduct {
  readonly m: number;
  readonly k: number;
  readonly ldb: number;
  readonly aw: number;
  readonly bw: number;
  readonly cw: number;
  readonly pw: number;
  readonly count: number;
  readonly sa: number;
  readonly sb: number;
  readonly sc: number;
}

/**
 * Items from…to−1 of a packed product (the unit of work of one thread): rows of its one entry, or whole entries
 * when there are several.
 */
export const gemmItems = (mm: Micro, eb: number, job: PackedProduct, from: number, to: number): void => {
  if (job.count === 1) return gemmRows(mm, eb, job, 0, from, to);
  for (let e = from; e < to; e++) gemmRows(mm, eb, job, e, 0, job.m);
};

/** Rows i0…i1−1 of entry e of a packed product. */
const gemmRows = (mm: Micro, eb: number, job: PackedProduct, e: number, i0: number, i1: number): void => {
  const { k, ldb, pw } = job;
  const aw = job.aw + e * job.sa;
  const bw = job.bw + e * job.sb;
  const cw = job.cw + e * job.sc;
  for (let p0 = 0; p0 < ldb; p0 += pw) {
    const nc = Math.min(pw, ldb - p0);
    for (let i = i0; i < i1; i += MM_ROWS) {
      const r = Math.min(MM_ROWS, i1 - i);
      mm[r - 1]!(bw + p0 * eb, cw + (i * ldb + p0) * eb, aw + i * k * eb, k, ldb, nc, ROW_SCALES);
    }
  }
};

/**
 * The same product in JavaScript: Σ_p from +0 ascending, then (accumulate) C + Σ, every operation rounded to the
 * storage precision (Math.fround in float32) as the SIMD kernel rounds, so a product's value does not depend on
 * which path its shape takes.
 */
const jsGemm = (m: number, n: number, k: number, a: Strided, b: Strided, c: F, cOff: number, ldc: number, accumulate: boolean): void => {
  const f32 = c instanceof Float32Array;
  for (let i = 0; i < m; i++) {
    const ar = a.off + i * a.rs;
    for (let j = 0; j < n; j++) {
      const bc = b.off + j * b.cs;
      let s = 0;
      if (f32) for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(a.data[ar + p * a.cs]! * b.data[bc + p * b.rs]!));
      else for (let p = 0; p < k; p++) s += a.data[ar + p * a.cs]! * b.data[bc + p * b.rs]!;
      const at = cOff + i * ldc + j;
      c[at] = accumulate ? c[at]! + s : s;
    }
  }
};
