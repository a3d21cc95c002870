/**
 * The CPU backend's WebAssembly SIMD micro-kernels (the trace update and every matrix product), generated from
 * this file (no toolchain, no binary blob).
 *
 * The module imports its memory (`e.m`) and exports `mm1` … `mm4` (MM_ROWS): for R = 1…4 rows,
 *   mmR(e, o, j, K, ld, ncols, sc):  o[i·ld + p] = sc[i] · Σ_{k<K} j[i·K + k] · e[k·ld + p]
 * for i < R and p < ncols (ncols a multiple of the block width, 2 vectors: 8 floats or 4 doubles); e, o, j and
 * the per-row scales sc are byte offsets. Each (row, column) sum runs over k ascending from +0 with separate
 * multiply and add, like the reference's loops, so in float64 the result is the reference's; the relaxed-SIMD
 * variant (`fma`) fuses them instead (one rounding per term). The micro-kernel keeps R × 2 vector accumulators
 * in registers, loads each E vector once per R rows and each j entry with one load-and-broadcast.
 */

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: readonly number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

const T_I32 = 0x7f;
const T_V128 = 0x7b;

const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  mul: [0x6c],
  shl: [0x74],
  gtU: [0x4b],
  geU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  simd: (code: number) => [0xfd, ...uleb(code)],
};

export type WasmPrecision = 32 | 64;

/**
 * Rows of the largest micro-kernel (mm1 … mm<MM_ROWS>), and the row step of its callers: MM_ROWS × 2 vector
 * accumulators, two vectors of E and one broadcast must stay in the 16 SIMD registers V8 uses on x86-64. Measured
 * here (256³, float32, one thread): 4 rows 46–50 GFLOP/s, 6 rows 25–27 (V8 spills).
 */
export const MM_ROWS = 4;
const ROW_COUNTS = Array.from({ length: MM_ROWS }, (_, i) => i + 1);

/** A module imports a shared memory (threads) or not; `fma` uses relaxed-SIMD fused multiply-add. */
export interface ModuleVariant {
  readonly shared: boolean;
  readonly fma: boolean;
}

/** Largest memory a module accepts: 4 GiB, WebAssembly's 32-bit limit. */
export const MAX_PAGES = 65536;

/** The module's bytes for one precision. */
export const traceKernelModule = (precision: WasmPrecision, variant: ModuleVariant = { shared: false, fma: false }): Uint8Array => {
  const f32 = precision === 32;
  // relaxed_madd (a·b + c, fused where the hardware has it): f32x4 0x105, f64x2 0x107.
  const vmadd = op.simd(f32 ? 0x105 : 0x107);
  const shift = f32 ? 2 : 3; // log2 bytes per element
  const lanes = f32 ? 4 : 2;
  const width = 2 * lanes; // columns per block
  const vadd = op.simd(f32 ? 0xe4 : 0xf0);
  const vmul = op.simd(f32 ? 0xe6 : 0xf2);
  const vload = (offset: number) => [...op.simd(0x00), 4, ...uleb(offset)];
  const vstore = (offset: number) => [...op.simd(0x0b), 4, ...uleb(offset)];
  const vzero = [...op.simd(0x0c), ...new Array<number>(16).fill(0)];

  // v128.load32_splat / load64_splat: one scalar from memory into every lane.
  const loadSplat = [...op.simd(f32 ? 0x09 : 0x0a), shift, 0];

  // params: 0 e, 1 o, 2 j, 3 K, 4 ld, 5 ncols, 6 sc (i32)
  // locals: 7 p, 8 k, 9 ep, 10 jp, 11 op, 12 K in bytes, 13 ja (i32); 14 scale of the row being stored (v128);
  // 15.. accumulators, then e0, e1, c
  const body = (R: number): number[] => {
    const acc = (r: number, h: number) => 15 + r * 2 + h;
    const e0 = 15 + 2 * R;
    const c = e0 + 2;
    const b: number[] = [];
    const toBytes = [...op.i32(shift), ...op.shl]; // element count on the stack → bytes
    b.push(...op.get(3), ...toBytes, ...op.set(12));
    b.push(...op.i32(0), ...op.set(7));
    b.push(...op.block, ...op.loop);
    {
      // while p + width <= ncols
      b.push(...op.get(7), ...op.i32(width), ...op.add, ...op.get(5), ...op.gtU, ...op.brIf(1));
      for (let r = 0; r < R; r++) for (let h = 0; h < 2; h++) b.push(...vzero, ...op.set(acc(r, h)));
      b.push(...op.get(0), ...op.get(7), ...toBytes, ...op.add, ...op.set(9)); // ep = e + p
      b.push(...op.get(2), ...op.set(10)); // jp = j
      b.push(...op.i32(0), ...op.set(8));
      b.push(...op.block, ...op.loop);
      {
        b.push(...op.get(8), ...op.get(3), ...op.geU, ...op.brIf(1));
        b.push(...op.get(9), ...vload(0), ...op.set(e0), ...op.get(9), ...vload(16), ...op.set(e0 + 1));
        b.push(...op.get(10), ...op.set(13)); // ja = jp (row 0's entry k)
        for (let r = 0; r < R; r++) {
          // c = splat(j[r·K + k]); ja steps one row (K elements) at a time
          b.push(...op.get(13), ...loadSplat, ...op.set(c));
          if (r < R - 1) b.push(...op.get(13), ...op.get(12), ...op.add, ...op.set(13));
          for (let h = 0; h < 2; h++)
            if (variant.fma) b.push(...op.get(c), ...op.get(e0 + h), ...op.get(acc(r, h)), ...vmadd, ...op.set(acc(r, h)));
            else b.push(...op.get(acc(r, h)), ...op.get(c), ...op.get(e0 + h), ...vmul, ...vadd, ...op.set(acc(r, h)));
        }
        b.push(...op.get(9), ...op.get(4), ...toBytes, ...op.add, ...op.set(9)); // ep += ld
        b.push(...op.get(10), ...op.i32(1 << shift), ...op.add, ...op.set(10)); // jp += 1 element
        b.push(...op.get(8), ...op.i32(1), ...op.add, ...op.set(8));
        b.push(...op.br(0), ...op.end, ...op.end);
      }
      // op = o + p ; store rows r at op + r·ld
      b.push(...op.get(1), ...op.get(7), ...toBytes, ...op.add, ...op.set(11));
      for (let r = 0; r < R; r++) {
        b.push(...op.get(6), ...op.i32(r << shift), ...op.add, ...loadSplat, ...op.set(14)); // sc[r]
        for (let h = 0; h < 2; h++) b.push(...op.get(11), ...op.get(14), ...op.get(acc(r, h)), ...vmul, ...vstore(16 * h));
        if (r < R - 1) b.push(...op.get(11), ...op.get(4), ...toBytes, ...op.add, ...op.set(11));
      }
      b.push(...op.get(7), ...op.i32(width), ...op.add, ...op.set(7));
      b.push(...op.br(0), ...op.end, ...op.end);
    }
    const locals = vec([
      [...uleb(7), T_I32],
      [...uleb(1 + 2 * R + 3), T_V128],
    ]);
    const code = [...locals, ...b, ...op.end];
    return [...uleb(code.length), ...code];
  };

  const fType = [0x60, ...vec([[T_I32], [T_I32], [T_I32], [T_I32], [T_I32], [T_I32], [T_I32]]), ...vec([])];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([fType])),
    // memory import: flags 0 (minimum only) or 3 (shared, with the maximum a shared memory must declare)
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, ...(variant.shared ? [0x03, ...uleb(1), ...uleb(MAX_PAGES)] : [0x00, ...uleb(1)])]])),
    ...section(3, vec(ROW_COUNTS.map(() => [0]))),
    ...section(7, vec(ROW_COUNTS.map((R, i) => [...name(`mm${R}`), 0x00, i]))),
    ...section(10, vec(ROW_COUNTS.map((R) => body(R)))),
  ]);
};

/**
 * The parts of the WebAssembly JS API used here, typed locally (the project's `lib` has no DOM types, and
 * @types/node does not declare the WebAssembly namespace).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The compiled kernels of one precision: unshared, and (where threads can run) for shared memories. */
export interface TraceKernels {
  readonly precision: WasmPrecision;
  /** Columns per SIMD block. */
  readonly width: number;
  /** Relaxed-SIMD fused multiply-add in the micro-kernels. */
  readonly fma: boolean;
  readonly module: object;
  readonly sharedModule: object | null;
}

const cache = new Map<string, TraceKernels | null>();

/**
 * The compiled kernels, or null where WebAssembly SIMD is not available. `fma: 'auto'` takes relaxed SIMD when
 * the engine validates it (Chromium ≥ 114; Node 20 only with --experimental-wasm-relaxed-simd), 'off' never.
 */
export const traceKernels = (precision: WasmPrecision, fma: 'auto' | 'off' = 'auto'): TraceKernels | null => {
  const key = `${precision}-${fma}`;
  if (!cache.has(key)) {
    const api = wasmApi();
    const compile = (variant: ModuleVariant): object | null => {
      const bytes = traceKernelModule(precision, variant);
      return api !== undefined && api.validate(bytes) ? new api.Module(bytes) : null;
    };
    const useFma = fma === 'auto' && compile({ shared: false, fma: true }) !== null;
    const module = compile({ shared: false, fma: useFma });
    const sharedModule = typeof SharedArrayBuffer === 'function' ? compile({ shared: true, fma: useFma }) : null;
    cache.set(key, module === null ? null : { precision, width: precision === 32 ? 8 : 4, fma: useFma, module, sharedModule });
  }
  return cache.get(key)!;
};

export type MmFn = (e: number, o: number, j: number, K: number, ld: number, ncols: number, sc: number) => void;
/** The micro-kernels by row count − 1 (mm1 … mm6). */
export type Micro = readonly MmFn[];

/** The micro-kernels of an instance, by row count − 1. */
export const kernelsOf = (exports: Record<string, unknown>): Micro => {
  const ex = exports as Record<string, MmFn>;
  return ROW_COUNTS.map((R) => ex[`mm${R}`]!);
};

/** Bind a module to a memory (any thread: a worker binds the same module bytes to the shared memory it is sent). */
export const bind = (module: object, memory: WasmMemory): Micro => kernelsOf(new (wasmApi()!.Instance)(module, { e: { m: memory } }).exports);

/**
 * A new memory of at least `bytes` bytes with the kernels bound to it. Unshared memories have a fixed size (views
 * on them stay valid); shared ones may grow (to 4 GiB) and are what the pool's workers can see.
 */
export const instantiate = (k: TraceKernels, bytes: number, shared: boolean): { memory: WasmMemory; mm: Micro } => {
  const api = wasmApi()!;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (shared && k.sharedModule === null) throw new Error('shared WebAssembly memory is not available here');
  const memory = new api.Memory(shared ? { initial: pages, maximum: MAX_PAGES, shared: true } : { initial: pages, maximum: pages });
  return { memory, mm: bind(shared ? k.sharedModule! : k.module, memory) };
};
