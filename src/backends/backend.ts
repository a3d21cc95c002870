/**
 * The Backend interface, in the manner of tfjs-core: a data store plus named kernels.
 *
 * - **Data store**: arrays live on the backend (host memory, WebAssembly memory, GPU textures or buffers) and are
 *   opaque handles with a shape. Uploads copy host data in; `read` brings data back asynchronously (`readSync`
 *   only where a backend can).
 * - **Generic kernels** (required, nine): elementwise `unary` and `binary` maps, batched `matmul` with
 *   transposes, `reduce` along an axis, `copyBlock`, `fill`, the per-segment `clipSegments`, and the two hot trace
 *   kernels `traceUpdate` and `traceContract`. Every computation of the trainer (cells, losses, optimisers, the
 *   synthesiser, BP(λ)) is built from them by the composite ops in `src/ops`.
 * - **Fused kernels** (optional): a backend may register faster versions of composite ops (`FusedKernels`); the
 *   conformance suite holds each one to its composite on the reference backend.
 *
 * Kernels enqueue work and return nothing: a backend may run them at once (the CPU backends), on another thread or
 * on a device; only `read` waits for the results.
 *
 * Conventions
 * - Arrays are row-major, the batch as the leading axis ([B, …]); every kernel writes into an `out` array allocated
 *   by the caller. Elementwise kernels may alias `out` with an input; other kernels may not.
 * - The reference backend fixes the order of every reduction: from +0, in ascending index order, as the float64
 *   core (`src/core`) sums. Other backends compute the same mathematics in their own order and precision; the
 *   conformance suite bounds the difference by tolerances derived from `epsilon`.
 */
import type { LossKind } from '../core/model.js';
import type { Activation } from '../core/rnn.js';

export type Precision = 32 | 64;
export type HostArray = Float64Array | Float32Array;

/**
 * A strided view of numbers in host memory, in ndarray's layout: element (i₀, i₁, …) is
 * `data[offset + i₀·stride[0] + i₁·stride[1] + …]`. A value of the `ndarray` package is one, so
 * `upload(ndarray(data, shape))` works as before; `hostView(data, shape)` (src/backends/host/view.ts) makes a
 * row-major one without it. No code of bplambda's compiles functions at run time (ndarray does, with
 * `new Function`, which a Content-Security-Policy without 'unsafe-eval' forbids).
 */
export interface HostView<D extends ArrayLike<number> = ArrayLike<number>> {
  readonly data: D;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
}
/** What `read` gives back: a fresh, dense, row-major view (offset 0) of float64 or float32 data. */
export type HostNdArray = HostView<HostArray>;

/** An array owned by a backend. Opaque apart from its shape. */
export interface DeviceArray {
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
}

// -- the generic kernels' enumerations ----------------------------------------------------------------------------

/**
 * Unary maps. `square` is x·x; the activation maps and their derivatives (`<activation>Grad`, as a function of the
 * pre-activation) are exactly the core's `activationFns` (src/core/rnn.ts), so that a new activation without a
 * kernel is a compile error in `ACTIVATION_OPS`.
 */
export const UNARY_OPS = [
  'neg',
  'abs',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'square',
  'identity',
  'tanh',
  'sigmoid',
  'relu',
  'identityGrad',
  'tanhGrad',
  'sigmoidGrad',
  'reluGrad',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** The unary maps of an activation f: f itself and f' (of the pre-activation). */
export const ACTIVATION_OPS: Readonly<Record<Activation, { readonly f: UnaryOp; readonly df: UnaryOp }>> = {
  identity: { f: 'identity', df: 'identityGrad' },
  tanh: { f: 'tanh', df: 'tanhGrad' },
  sigmoid: { f: 'sigmoid', df: 'sigmoidGrad' },
  relu: { f: 'relu', df: 'reluGrad' },
};

/** Binary maps (one rounding each); `max` and `min` are Math.max and Math.min. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Reductions along one axis: `sum` from +0 in ascending order, `max` from −Infinity (Math.max). */
export const REDUCE_OPS = ['sum', 'max'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** An operand of `binary`: an array (broadcast to `out`'s shape) or a number. */
export type Operand<A> = A | number;

export interface MatmulOptions {
  /** Use aᵀ: a is [..., k, m] (default false). */
  readonly transposeA?: boolean;
  /** Use bᵀ: b is [..., n, k] (default false). */
  readonly transposeB?: boolean;
  /** out ← out + a·b instead of out ← a·b (default false). */
  readonly accumulate?: boolean;
}

/** A block of an n-dimensional array: where it starts in `out` and in `x`, and its extent. */
export interface Block {
  readonly outBegin: readonly number[];
  readonly xBegin: readonly number[];
  readonly size: readonly number[];
}

/**
 * The immediate parameter Jacobian ∇θĝ of a synthesiser, per example (rows = synthesiser outputs, P columns).
 * `linear`: the linear synthesiser ĝ = W z + b, whose Jacobian is block diagonal, ∂ĝ_i/∂W[i',k] = 1[i=i'] z_k and
 * ∂ĝ_i/∂b[i'] = 1[i=i'], columns [W row-major | b]; `input` is z [B, n].
 */
export type ImmediateJacobian<A> = { readonly kind: 'linear'; readonly input: A };

export interface MemoryInfo {
  /** Live arrays (allocated, uploaded or traces, not yet disposed; empty ones too). */
  readonly arrays: number;
  /** Bytes the backend holds (device or host, as it stores them): live arrays and its own scratch buffers. */
  readonly bytes: number;
  /** Largest `bytes` seen since the backend was created. */
  readonly peakBytes: number;
}

/** The data store: allocation, transfers, lifetime. */
export interface DataStore<A extends DeviceArray = DeviceArray> {
  /** A new zero array. */
  alloc(shape: readonly number[]): A;
  /** A new array holding a copy of the view `x` (any strides; converted to the backend's precision). */
  upload(x: HostView): A;
  /** Overwrite `dst` with the view `x` (same shape). */
  write(dst: A, x: HostView): void;
  /**
   * A fresh host copy (Float64Array at precision 64, Float32Array at 32), row-major, of the array as the work
   * queued before this call leaves it (later work does not change what comes back). An asynchronous backend
   * reports a queued kernel that failed here: the read rejects with its error.
   */
  read(a: A): Promise<HostNdArray>;
  /** The same, synchronously: only backends whose arrays live in host memory and run their kernels at once. */
  readSync?(a: A): HostNdArray;
  /** The same data seen with another shape of the same size (no copy). The alias lives as long as `a`; it is not disposed itself. */
  reshape(a: A, shape: readonly number[]): A;
  /** A trace array [batch, rows, cols] for the trace kernels (a backend may pad or tile it; `read` gives it back). */
  allocTrace(batch: number, rows: number, cols: number): A;
  dispose(a: A): void;
  memory(): MemoryInfo;
  /** Release everything (GPU contexts, WebAssembly memories, workers). The backend is unusable afterwards. */
  destroy(): void;
}

/** The generic kernels every backend implements. */
export interface Kernels<A extends DeviceArray = DeviceArray> {
  /** out = op(x) elementwise (same size). */
  unary(out: A, x: A, op: UnaryOp): void;
  /** out = a op b elementwise; array operands broadcast to out's shape (numpy rules), numbers are scalars. */
  binary(out: A, a: Operand<A>, b: Operand<A>, op: BinaryOp): void;
  /**
   * Batched matrix product: a [..., m, k], b [..., k, n] (transposed as asked), leading axes broadcast to out's
   * [..., m, n]. out = (accumulate ? out + : ) Σ_k a·b (from +0, ascending k, on the reference backend).
   */
  matmul(out: A, a: A, b: A, options?: MatmulOptions): void;
  /** out = x reduced along `axis` (out's shape is x's without that axis). */
  reduce(out: A, x: A, op: ReduceOp, axis: number): void;
  /** out[outBegin + i] = x[xBegin + i] for every index i of the block (same rank). */
  copyBlock(out: A, x: A, block: Block): void;
  /** Every entry of out ← value. */
  fill(out: A, value: number): void;
  /**
   * In place, for each consecutive segment of `a` (lengths `segments`, summing to a.size): if its L2 norm
   * n = √(Σ v², from +0 in order) exceeds `maxNorm`, multiply it by maxNorm/n (Infinity: nothing changes).
   */
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void;
  /**
   * The fused trace update E ← ∇θĝ + decay · J E per example (J [B, rows, rows]; J null: E ← ∇θĝ). The reference
   * forms M = J E with Σ_k from +0 ascending, then ∇θĝ + decay·M elementwise. With `contract`, first
   * contract.out ← mean_b δ_bᵀ E_b on the old trace (exactly `traceContract`).
   */
  traceUpdate(E: A, J: A | null, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void;
  /** out [cols] = mean_b Σ_i δ[b,i] E[b,i,·] (δ [B, rows]; per example Σ_i from +0 ascending, then Σ_b, then × 1/B). */
  traceContract(out: A, delta: A, E: A): void;
}

/** The recurrent cell, as a backend sees it. */
export type CellSpec = { readonly type: 'rnn'; readonly activation: Activation } | { readonly type: 'lstm' };

/**
 * Parameters of a cell, named as in the core (`rnnCell`: W_in [H,I], W_rec [H,H], b [H]; `lstmCell`: W_ih [4H,I],
 * W_hh [4H,H], b [4H], gate blocks in the order input, forget, candidate, output).
 */
export type CellParams<A> = Readonly<Record<string, A>>;

/**
 * What a forward step keeps for differentiating it later, every entry [B, H]:
 * RNN: `a` (pre-activation), `fp` (f'(a)); LSTM: `i`, `f`, `g`, `o` (gate values), `tanhC`, `psi` (o⊙(1−tanh²c)).
 */
export type CellCache<A> = Readonly<Record<string, A>>;

export const cellCacheNames = (spec: CellSpec): readonly string[] => (spec.type === 'rnn' ? ['a', 'fp'] : ['i', 'f', 'g', 'o', 'tanhC', 'psi']);

/** Size of the cell's pre-activation vector (H for the RNN, 4H for the LSTM). */
export const preactSize = (spec: CellSpec, hidden: number): number => (spec.type === 'rnn' ? hidden : 4 * hidden);

/**
 * Optional fused kernels: faster versions of composite ops of `src/ops`, with the same signature and meaning. A
 * backend registers any subset; the conformance suite checks each against the composite on the reference backend.
 */
export interface FusedKernels<A extends DeviceArray = DeviceArray> {
  /** s_t and the cache from s_{t-1} (prev [B, S]) and x_t [B, I]. */
  cellForward(spec: CellSpec, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void;
  /** The full state Jacobian J_t = ∂s_t/∂s_{t-1}: out [B, S, S]. */
  cellJacobian(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void;
  /** out = g J_t (g, out [B, S]): a gradient carried back one step. */
  cellStateVjp(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, g: A, out: A): void;
  /** Gradient on the pre-activations of step t from a gradient g [B, S] on s_t, s_{t-1} fixed: dz [B, H or 4H]. */
  cellPreactGrad(spec: CellSpec, prev: A, cache: CellCache<A>, g: A, dz: A): void;
  /**
   * The cell mode's Jacobians (spec §6.3) D_t = ∂c_t/∂h_{t-1} and C_t = ∂c_t/∂c_{t-1} + D_t diag(ψ_{t-1}), both
   * [B, H, H], for cells with a memory part (the LSTM); psiPrev [B, H] is ψ_{t-1}.
   */
  cellModeJacobians(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, C: A, D: A): void;
  /**
   * Products with the cell mode's Jacobians without forming them: vD = v D_t and vC = v C_t (v, vD, vC [B, H];
   * either output may be null), with D_t, C_t as `cellModeJacobians` defines them.
   */
  cellModeVjp(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, v: A, vD: A | null, vC: A | null): void;
  /** LSTM e-prop traces [B, 3, H, I+H+1] (gates i, f, g; columns [x | h_{t-1} | 1]), in place: ε ← f_t ⊙ ε + post_t ⊗ pre_t. */
  epropAdvance(prev: A, x: A, cache: CellCache<A>, traces: A): void;
  /**
   * The LSTM e-prop gradient for a learning signal L [B, H] on h_t: out.W_ih, out.W_hh, out.b, per example
   * ([B, …], reduce 'each') or their batch sum (reduce 'sum'); accumulate adds to out.
   */
  epropGradient(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>, reduce: 'each' | 'sum', accumulate: boolean): void;
  /** Per-example loss [B] and ∂L/∂ŷ [B, O] of the core's `lossAndGrad` where mask[b] ≠ 0; 0 where mask[b] = 0. */
  loss(kind: LossKind, yHat: A, y: A, mask: A, loss: A, dy: A): void;
  /**
   * The LSTM e-prop gradient summed over a sequence, per example, added into out.W_ih, out.W_hh, out.b ([B, …]):
   * traces from zero, then for τ = 0 … T−1 advanced through step τ (s_{τ−1} = prevs[τ], x_τ, caches[τ]) and
   * contracted with the learning signal signals[τ] [B, H] — what T `epropAdvance` + `epropGradient` ('each') calls
   * give, in any order of summation (a backend may run the traces' recursion backwards and sum by products).
   */
  epropSequence(prevs: readonly A[], xs: readonly A[], caches: readonly CellCache<A>[], signals: readonly A[], out: CellParams<A>): void;
}

/** The names of the fused kernels (checked against `FusedKernels` at compile time). */
export const FUSED_KERNELS = ['cellForward', 'cellJacobian', 'cellStateVjp', 'cellPreactGrad', 'cellModeJacobians', 'cellModeVjp', 'epropAdvance', 'epropGradient', 'loss', 'epropSequence'] as const;
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const fusedKernelsListed: SameKeys<(typeof FUSED_KERNELS)[number], keyof FusedKernels> = true;
void fusedKernelsListed;

/**
 * The device a backend's kernels run on, as its runtime reports it (`kind` 'software' for an emulation on the CPU,
 * such as gpu.js's cpu and webasm modes or Mesa's llvmpipe; 'unknown' where the runtime does not say).
 */
export interface BackendAdapter {
  readonly vendor: string;
  readonly device: string;
  readonly kind: 'software' | 'hardware' | 'unknown';
}

export interface Backend<A extends DeviceArray = DeviceArray> extends DataStore<A>, Kernels<A> {
  /** 'reference', 'cpu', 'gpujs', … */
  readonly name: string;
  /** The mode actually running (e.g. 'js-f64', 'wasm-simd', gpu.js's 'cpu'), never a guess. */
  readonly mode: string;
  readonly precision: Precision;
  /** Unit roundoff of the storage precision: 2⁻⁵³ (64) or 2⁻²⁴ (32). Tolerances derive from it. */
  readonly epsilon: number;
  /** Threads the backend runs on (absent: 1). */
  readonly threads?: number;
  /** The device its kernels run on (absent or null: this process's own JavaScript and WebAssembly on the host CPU). */
  readonly adapter?: BackendAdapter | null;
  /** Fused kernels this backend registers (none: every op is built from the generic kernels). */
  readonly fused?: Partial<FusedKernels<A>>;
}

/** Unit roundoff of a precision. */
export const unitRoundoff = (p: Precision): number => (p === 64 ? 2 ** -53 : 2 ** -24);

export const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
