/**
 * Eligibility-trace storage and kernels of the CPU backend.
 *
 * A trace [B, R, P] is split into tiles of whole examples. Each tile holds two buffers (the current trace and
 * the next one, swapped after every update), the step's Jacobians with the TD error as one more row, and the
 * per-row output scales. Each example occupies R + 1 rows of P: rows 0…R−1 are its trace, row R receives its
 * contraction δᵀE. In 'wasm-simd' mode a tile is a WebAssembly memory of its own with an instance of the SIMD
 * kernels bound to it (fixed size, so typed-array views on it stay valid); in 'js' mode it is plain typed arrays
 * and a register-blocked JavaScript kernel.
 *
 * Per example, one kernel pass computes [decay·J; δ] E (rows in blocks of 4, columns in SIMD blocks; the last
 * P mod width columns in JavaScript), so the contraction costs one extra row instead of a second pass over E;
 * then the linear synthesiser's immediate Jacobian is added (s on the row's own W block, 1 on its bias column).
 */
import type { DeviceArray } from '../backend.js';
import { checkShape } from '../errors.js';
import type { F } from './data.js';
import type { Job, Pool, TileLayout } from './pool.js';
import { MM_ROWS, type Micro, type TraceKernels, type WasmMemory, instantiate } from './wasm.js';

/** What the per-example kernel reads and writes of a tile (on any thread). */
export interface TileView {
  /** Row stride: P rounded up to the SIMD block width, so the kernel covers every column (the pad is never read back). */
  readonly ld: number;
  /** Current trace [nb, R + 1, ld] (row R: the last contraction) and the next buffer. */
  E: F;
  O: F;
  eOff: number;
  oOff: number;
  /** [nb, R + 1, R]: J_b, then δ_b. */
  readonly J: F;
  readonly jOff: number;
  /** Per-row output scales [R + 1]: decay for the J rows, 1 for the δ row. */
  readonly sc: F;
  readonly scOff: number;
  /** The synthesiser's input of the tile's examples [nb, n] (n = P/R − 1). */
  readonly S: F;
  readonly sOff: number;
  readonly mm: Micro | null;
}

export interface Tile extends TileView {
  readonly b0: number;
  readonly b1: number;
  readonly bytes: number;
  /** The tile's memory as the pool's workers know it (0: not shared). */
  readonly memId: number;
}

export interface CpuTrace extends DeviceArray {
  readonly trace: true;
  readonly owner: object;
  disposed: boolean;
  readonly B: number;
  readonly R: number;
  readonly P: number;
  readonly tiles: readonly Tile[];
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Bytes of E per column panel of the SIMD kernel (a cache-sized slice that every row block reuses). */
export const PANEL_BYTES = 2 ** 17;

/** Largest tile (both trace buffers) in bytes: keeps each WebAssembly memory well under the 4 GiB limit. */
export const MAX_TILE_BYTES = 2 ** 30;

export const allocTrace = (
  owner: object,
  B: number,
  R: number,
  P: number,
  precision: 32 | 64,
  kernels: TraceKernels | null,
  make: (buf: ArrayBuffer, off: number, n: number) => F,
  pool: Pool | null,
): CpuTrace => {
  checkShape('allocTrace', [B, R, P]);
  const eb = precision === 32 ? 4 : 8;
  const ld = kernels === null ? P : Math.ceil(P / kernels.width) * kernels.width;
  const perExample = 2 * (R + 1) * ld * eb;
  const nbMax = Math.max(1, Math.floor(MAX_TILE_BYTES / perExample));
  const tiles: Tile[] = [];
  for (let b0 = 0; b0 < B; b0 += nbMax) {
    const b1 = Math.min(B, b0 + nbMax);
    const nb = b1 - b0;
    let off = 0;
    const region = (n: number) => {
      const o = off;
      off = align16(off + n * eb);
      return o;
    };
    const eOff = region(nb * (R + 1) * ld);
    const oOff = region(nb * (R + 1) * ld);
    const jOff = region(nb * (R + 1) * R);
    const scOff = region(R + 1);
    const n = Math.max(0, Math.round(P / Math.max(1, R)) - 1);
    const sOff = region(nb * n);
    const bytes = off;
    let buffer: ArrayBuffer;
    let mm: Tile['mm'] = null;
    let memId = 0;
    if (kernels !== null) {
      const inst = instantiate(kernels, bytes, pool !== null);
      buffer = inst.memory.buffer;
      mm = inst.mm;
      if (pool !== null) memId = pool.share(inst.memory satisfies WasmMemory, kernels.precision, kernels.sharedModule!);
    } else buffer = new ArrayBuffer(bytes);
    tiles.push({
      b0,
      b1,
      ld,
      E: make(buffer, eOff, nb * (R + 1) * ld),
      O: make(buffer, oOff, nb * (R + 1) * ld),
      eOff,
      oOff,
      J: make(buffer, jOff, nb * (R + 1) * R),
      jOff,
      sc: make(buffer, scOff, R + 1),
      scOff,
      S: make(buffer, sOff, nb * n),
      sOff,
      mm,
      bytes,
      memId,
    });
  }
  return { trace: true, owner, disposed: false, shape: [B, R, P], size: B * R * P, B, R, P, tiles };
};

/** Copy the trace rows of a tile out to (or in from) a dense [nb, R, P] array. */
export const tileRows = (t: Tile, R: number, P: number, dense: F, denseOff: number, direction: 'out' | 'in'): void => {
  for (let q = 0; q < t.b1 - t.b0; q++)
    for (let i = 0; i < R; i++) {
      const src = (q * (R + 1) + i) * t.ld;
      const dst = denseOff + (q * R + i) * P;
      if (direction === 'out') dense.set(t.E.subarray(src, src + P), dst);
      else t.E.set(dense.subarray(dst, dst + P), src);
    }
};

/**
 * JavaScript micro-kernel: O[i·ld + p] = decay · Σ_k J[i·K + k] E[k·ld + p] for i < rows, p < ncols, with
 * 4 × 4 register blocks (element offsets eo, oo, jo).
 */
export const jsMm = (E: F, eo: number, O: F, oo: number, J: F, jo: number, rows: number, K: number, ld: number, ncols: number, decay: number): void => {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const j0 = jo + i * K;
    const j1 = j0 + K;
    const j2 = j1 + K;
    const j3 = j2 + K;
    const o0 = oo + i * ld;
    const o1 = o0 + ld;
    const o2 = o1 + ld;
    const o3 = o2 + ld;
    let p = 0;
    for (; p + 4 <= ncols; p += 4) {
      let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0; // prettier-ignore
      let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0; // prettier-ignore
      let e = eo + p;
      for (let k = 0; k < K; k++, e += ld) {
        const e0 = E[e]!;
        const e1 = E[e + 1]!;
        const e2 = E[e + 2]!;
        const e3 = E[e + 3]!;
        const c0 = J[j0 + k]!;
        const c1 = J[j1 + k]!;
        const c2 = J[j2 + k]!;
        const c3 = J[j3 + k]!;
        a00 += c0 * e0; a01 += c0 * e1; a02 += c0 * e2; a03 += c0 * e3; // prettier-ignore
        a10 += c1 * e0; a11 += c1 * e1; a12 += c1 * e2; a13 += c1 * e3; // prettier-ignore
        a20 += c2 * e0; a21 += c2 * e1; a22 += c2 * e2; a23 += c2 * e3; // prettier-ignore
        a30 += c3 * e0; a31 += c3 * e1; a32 += c3 * e2; a33 += c3 * e3; // prettier-ignore
      }
      O[o0 + p] = decay * a00; O[o0 + p + 1] = decay * a01; O[o0 + p + 2] = decay * a02; O[o0 + p + 3] = decay * a03; // prettier-ignore
      O[o1 + p] = decay * a10; O[o1 + p + 1] = decay * a11; O[o1 + p + 2] = decay * a12; O[o1 + p + 3] = decay * a13; // prettier-ignore
      O[o2 + p] = decay * a20; O[o2 + p + 1] = decay * a21; O[o2 + p + 2] = decay * a22; O[o2 + p + 3] = decay * a23; // prettier-ignore
      O[o3 + p] = decay * a30; O[o3 + p + 1] = decay * a31; O[o3 + p + 2] = decay * a32; O[o3 + p + 3] = decay * a33; // prettier-ignore
    }
    for (; p < ncols; p++) for (let r = 0; r < 4; r++) O[oo + (i + r) * ld + p] = decay * dot(E, eo + p, ld, J, jo + (i + r) * K, K);
  }
  for (; i < rows; i++) rowMm(E, eo, O, oo + i * ld, J, jo + i * K, K, ld, ncols, decay);
};

/** One output row, streaming E's rows: O[orow + p] = decay · Σ_k J[jr + k] E[eo + k·ld + p] (Σ from +0, ascending k). */
const rowMm = (E: F, eo: number, O: F, orow: number, J: F, jr: number, K: number, ld: number, ncols: number, decay: number): void => {
  O.fill(0, orow, orow + ncols);
  for (let k = 0; k < K; k++) {
    const c = J[jr + k]!;
    const er = eo + k * ld;
    for (let p = 0; p < ncols; p++) O[orow + p] += c * E[er + p]!;
  }
  if (decay !== 1) for (let p = 0; p < ncols; p++) O[orow + p] = decay * O[orow + p]!;
};

/** Σ_k J[jr + k] E[e + k·ld], from +0 ascending k. */
const dot = (E: F, e: number, ld: number, J: F, jr: number, K: number): number => {
  let s = 0;
  for (let k = 0; k < K; k++) s += J[jr + k]! * E[e + k * ld]!;
  return s;
};

/** Where a tile's buffers lie, for a worker to see them in the shared memory. */
export const tileLayout = (t: Tile, R: number, P: number): TileLayout => ({
  nb: t.b1 - t.b0,
  ld: t.ld,
  eOff: t.eOff,
  oOff: t.oOff,
  jOff: t.jOff,
  scOff: t.scOff,
  sOff: t.sOff,
  n: Math.max(0, Math.round(P / Math.max(1, R)) - 1),
});

/**
 * One tile, every example: with `contract`, row R of the result holds δ_bᵀ E_b (δ in row R of J); with
 * `update`, rows 0…R−1 become decay · J_b E_b + ∇θĝ_b and the buffers are swapped, so the contraction ends in
 * row R of the current buffer E either way. J, δ and the synthesiser's input must already be in the tile. With a
 * pool, the examples are split among its threads (each example is one thread's work, so nothing depends on the
 * split).
 */
export const tileKernel = (t: Tile, w: TileWork, pool: Pool | null): void => {
  const nb = t.b1 - t.b0;
  const { R, P, update } = w;
  t.sc.fill(update?.decay ?? 1, 0, R);
  t.sc[R] = 1;
  const local = (q0: number, q1: number) => tileExamples(t, w, q0, q1);
  if (pool === null || pool.threads === 1 || nb < 2 || t.memId === 0) local(0, nb);
  else {
    const job: Job = { kind: 'trace', mem: t.memId, precision: w.eb === 8 ? 64 : 32, layout: tileLayout(t, R, P), work: w };
    pool.parallel(job, nb, 1, local);
  }
  if (update !== null) {
    const E = t.E;
    t.E = t.O;
    t.O = E;
    const off = t.eOff;
    t.eOff = t.oOff;
    t.oOff = off;
  }
};

/**
 * What one trace-kernel call does: the trace's sizes R and P, bytes per element, the SIMD block width, whether to
 * contract δᵀE, and the update (decay, synthesiser input size n) or null (contraction only).
 */
export interface TileWork {
  readonly R: number;
  readonly P: number;
  readonly eb: number;
  readonly width: number;
  readonly contract: boolean;
  readonly update: { readonly decay: number; readonly n: number } | null;
}

/** Examples q0…q1−1 of a tile (the row scales `sc` already set); the result goes to O (update) or E's row R. */
export const tileExamples = (t: TileView, w: TileWork, q0: number, q1: number): void => {
  const { R, P, eb, width, contract, update } = w;
  const wasm = t.mm !== null;
  const ld = t.ld;
  const nVec = wasm ? Math.floor(ld / width) * width : P; // = ld: the padded rows have no tail in wasm mode
  const es = (R + 1) * ld; // per-example stride
  const decay = update?.decay ?? 1;
  // Rows to compute, and where: [decay·J; δ] E into O (update) or only the δ row into E's row R (contraction).
  const out = update === null ? t.E : t.O;
  const outOff = update === null ? t.eOff : t.oOff;
  const row0 = update === null ? R : 0;
  const row1 = contract ? R + 1 : R;
  for (let q = q0; q < q1; q++) {
    const eo = q * es;
    const jo = q * (R + 1) * R;
    if (wasm) {
      // Column panels of ~128 KiB of E (R rows × pw columns) stay in cache while every row block passes over them.
      const mm = t.mm!;
      const pw = Math.max(width, Math.floor(PANEL_BYTES / (R * eb) / width) * width);
      for (let p0 = 0; p0 < nVec; p0 += pw) {
        const nc = Math.min(pw, nVec - p0);
        for (let i = row0; i < row1; i += MM_ROWS) {
          const r = Math.min(MM_ROWS, row1 - i);
          mm[r - 1]!(t.eOff + (eo + p0) * eb, outOff + (eo + i * ld + p0) * eb, t.jOff + (jo + i * R) * eb, R, ld, nc, t.scOff + i * eb);
        }
      }
    } else {
      if (update !== null) jsMm(t.E, eo, out, eo, t.J, jo, R, R, ld, P, decay);
      if (contract) rowMm(t.E, eo, out, eo + R * ld, t.J, jo + R * R, R, ld, P, 1);
    }
    for (let p = nVec; p < P; p++) for (let i = row0; i < row1; i++) out[eo + i * ld + p] = t.sc[i]! * dot(t.E, eo + p, ld, t.J, jo + i * R, R);
    if (update === null) continue;
    // ∇θĝ: s on row i's own W block, 1 on its bias column.
    const { n } = update;
    const sb = q * n;
    const s = t.S;
    const O = t.O;
    for (let i = 0; i < R; i++) {
      const row = eo + i * ld;
      for (let k = 0; k < n; k++) O[row + i * n + k] = s[sb + k]! + O[row + i * n + k]!;
      O[row + R * n + i] = 1 + O[row + R * n + i]!;
    }
  }
};
