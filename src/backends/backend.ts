/**
 * The Backend interface: one small data interface plus a short list of batched primitive ops, enough for the
 * training engine (`src/engine`) to run BP(λ) (full-state and LSTM cell mode), BPTT, truncated BPTT, n-step
 * synthetic gradients and e-prop, for the RNN and the LSTM. The engine is written once against it.
 *
 * Conventions
 * - Arrays cross the boundary as ndarray views (the `ndarray` package) on the host side; on the device side a
 *   backend keeps its own opaque `DeviceArray`s, row-major, with the batch as the leading axis ([B, …]).
 * - Every op writes into an `out` array allocated by the caller (nothing is allocated per step). Elementwise
 *   ops may alias `out` with an input; other ops may not unless stated.
 * - "Σ_k (from +0, ascending k)" fixes the reduction order of the float64 reference backend, which follows the
 *   reference core (`src/core`) operation by operation so that the engine reproduces `trainBatch` exactly. Other
 *   backends compute the same mathematics in their own order and precision; the conformance suite bounds the
 *   difference by tolerances derived from `epsilon`.
 * - "mean over the batch" is always (Σ_b from +0, ascending b) · (1/B), the core's `meanParams` and `meanVec`.
 */
import type { NdArray } from 'ndarray';
import type { Activation } from '../core/rnn.js';
import type { LossKind } from '../core/model.js';

export type Precision = 32 | 64;
export type HostArray = Float64Array | Float32Array;
export type HostNdArray = NdArray<HostArray>;

/** An array owned by a backend. Opaque apart from its shape. */
export interface DeviceArray {
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
}

/** The recurrent cell, as the backend sees it. */
export type CellSpec = { readonly type: 'rnn'; readonly activation: Activation } | { readonly type: 'lstm' };

/**
 * Device parameters of a cell, named as in the core (`rnnCell`: W_in [H,I], W_rec [H,H], b [H];
 * `lstmCell`: W_ih [4H,I], W_hh [4H,H], b [4H], gate blocks in the order input, forget, candidate, output).
 */
export type CellParams<A> = Readonly<Record<string, A>>;

/**
 * What a forward step keeps for differentiating it later, every entry [B, H]:
 * RNN: `a` (pre-activation), `fp` (f'(a)); LSTM: `i`, `f`, `g`, `o` (gate values), `tanhC`, `psi` (o⊙(1−tanh²c)).
 */
export type CellCache<A> = Readonly<Record<string, A>>;

export const cellCacheNames = (spec: CellSpec): readonly string[] =>
  spec.type === 'rnn' ? ['a', 'fp'] : ['i', 'f', 'g', 'o', 'tanhC', 'psi'];

/** Size of the cell's pre-activation vector (H for the RNN, 4H for the LSTM). */
export const preactSize = (spec: CellSpec, hidden: number): number => (spec.type === 'rnn' ? hidden : 4 * hidden);

/**
 * The immediate parameter Jacobian ∇θĝ of a synthesiser, per example (rows = synthesiser outputs, P columns).
 * `linear`: the linear synthesiser ĝ = W s + b, whose Jacobian is block diagonal,
 * ∂ĝ_i/∂W[i',k] = 1[i=i'] s_k and ∂ĝ_i/∂b[i'] = 1[i=i'], with columns [W row-major | b]; `input` is s [B, S_in].
 */
export type ImmediateJacobian<A> = { readonly kind: 'linear'; readonly input: A };

/** Gradient reduction of the parameter-gradient ops. */
export type Reduce =
  /** out [B, …]: out[b] = out[b] + X_b (per-example accumulation, as BPTT and e-prop accumulate over time). */
  | 'each'
  /** out […]: out = out + mean_b X_b (as BP(λ) averages every step's gradient over the batch). */
  | 'mean';

export interface MemoryInfo {
  /** Live arrays. */
  readonly arrays: number;
  /** Bytes held by live arrays (device or host, as the backend stores them). */
  readonly bytes: number;
  /** Largest `bytes` seen since the backend was created. */
  readonly peakBytes: number;
}

export interface Backend<A extends DeviceArray = DeviceArray> {
  /** 'reference', 'cpu', 'gpujs'. */
  readonly name: string;
  /** The mode actually running (e.g. 'js', 'wasm-simd', gpu.js's 'cpu' or 'webasm'), never a guess. */
  readonly mode: string;
  readonly precision: Precision;
  /** Unit roundoff of the storage precision: 2⁻⁵³ (64) or 2⁻²⁴ (32). Tolerances derive from it. */
  readonly epsilon: number;

  // -- data -------------------------------------------------------------------------------------------------

  /** A new zero array. */
  alloc(shape: readonly number[]): A;
  /** A new array holding a copy of the view `x` (any strides; converted to the backend's precision). */
  upload(x: NdArray): A;
  /** Overwrite `dst` with the view `x` (same shape). */
  write(dst: A, x: NdArray): void;
  /** A fresh host copy (Float64Array at precision 64, Float32Array at 32), row-major. */
  read(a: A): HostNdArray;
  zero(a: A): void;
  /** dst ← src (same shape). */
  copy(dst: A, src: A): void;
  dispose(a: A): void;
  memory(): MemoryInfo;
  /** Release everything (GPU contexts, WebAssembly memories). The backend is unusable afterwards. */
  destroy(): void;

  // -- elementwise (out may alias a or b) ------------------------------------------------------------------

  /** out = a + α·b. */
  axpy(out: A, a: A, alpha: number, b: A): void;
  /** out = a − b. */
  sub(out: A, a: A, b: A): void;
  /** out = a ⊙ b. */
  mul(out: A, a: A, b: A): void;
  /** out = α·a. */
  scale(out: A, a: A, alpha: number): void;

  // -- reductions --------------------------------------------------------------------------------------------

  /** x [B, n]: out [n] = mean_b x[b] (accumulate: out = out + mean). */
  batchMean(out: A, x: A, accumulate: boolean): void;
  /**
   * In place, for each consecutive segment of `a` (lengths `segments`, summing to a.size): if its L2 norm
   * n = √(Σ v², from +0 in order) exceeds `maxNorm`, multiply it by maxNorm/n. (The per-tensor clip of the
   * synthesiser's per-step update; `maxNorm` = Infinity is the identity.)
   */
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void;

  // -- linear algebra --------------------------------------------------------------------------------------

  /**
   * x [B, k'] (k' ≥ k; its first k columns are read), W [n, k], bias [n] or null: out [B, n] with
   * out[b,i] = ((accumulate ? out[b,i] + : ) Σ_j W[i,j] x[b,j]) + bias[i]   (Σ from +0, ascending j).
   */
  linear(out: A, x: A, W: A, bias: A | null, accumulate: boolean): void;
  /**
   * Row vectors times matrices: v [B, k], M [B, k, n] (one matrix per example) or [k, n] (shared):
   * out[b,j] = Σ_i v[b,i] M[b,i,j] (from +0, ascending i). out [B, n'] with n' ≥ n: columns n… are set to 0.
   */
  vecmat(out: A, v: A, M: A): void;
  /**
   * u [B, m], v [B, n'] (n' ≥ n; first n columns): the outer products u_b v_bᵀ reduced into out
   * ([B, m, n] for 'each', [m, n] for 'mean').
   */
  outerAccumulate(out: A, u: A, v: A, reduce: Reduce): void;
  /** u [B, m'] (m' ≥ m; first m columns) reduced into out ([B, m] for 'each', [m] for 'mean'). */
  rowAccumulate(out: A, u: A, reduce: Reduce): void;

  // -- cells -----------------------------------------------------------------------------------------------

  /** s_t and the cache from s_{t-1} (prev [B, S]) and x_t [B, I]. */
  cellForward(spec: CellSpec, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void;
  /** The full state Jacobian J_t = ∂s_t/∂s_{t-1}: out [B, S, S]. */
  cellJacobian(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void;
  /**
   * out = g J_t (g [B, S], out [B, S]): the gradient carried back one step. The reference backend forms J_t
   * and multiplies (as the core does); others may fuse.
   */
  cellStateVjp(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, g: A, out: A): void;
  /** Gradient on the pre-activations of step t from a gradient g [B, S] on s_t, s_{t-1} held fixed: dz [B, H or 4H]. */
  cellPreactGrad(spec: CellSpec, prev: A, cache: CellCache<A>, g: A, dz: A): void;
  /**
   * The LSTM cell-mode Jacobians (spec §6.3): D_t = ∂c_t/∂h_{t-1} and C_t = diag(f_t) + D_t diag(ψ_{t-1}),
   * both [B, H, H]; psiPrev [B, H] is ψ_{t-1}.
   */
  lstmCellJacobians(params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, C: A, D: A): void;
  /**
   * LSTM e-prop traces [B, 3, H, I+H+1] (gates i, f, g; columns [x | h_{t-1} | 1]), advanced in place:
   * ε ← f_t ⊙ ε + post_t ⊗ pre_t.
   */
  epropAdvance(prev: A, x: A, cache: CellCache<A>, traces: A): void;
  /**
   * The e-prop gradient of step t for a learning signal L [B, H'] on h_t (first H columns), per example:
   * out.W_ih [B, 4H, I], out.W_hh [B, 4H, H], out.b [B, 4H]; `accumulate` adds to out instead of overwriting.
   */
  epropGradient(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>, accumulate: boolean): void;
  /**
   * The same gradient averaged over the batch and added: out.W_ih [4H, I], out.W_hh [4H, H], out.b [4H],
   * out = out + mean_b X_b (no per-example array is formed).
   */
  epropGradientMean(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>): void;

  // -- loss ----------------------------------------------------------------------------------------------------

  /**
   * Per-example loss and ∂L/∂ŷ of the core's `lossAndGrad` (mse ½‖ŷ−y‖², or softmax cross-entropy) where
   * mask[b] ≠ 0; loss[b] = 0 and dy[b] = 0 where mask[b] = 0. yHat, y, dy [B, O]; mask, loss [B].
   */
  lossGrad(kind: LossKind, yHat: A, y: A, mask: A, loss: A, dy: A): void;

  // -- eligibility traces of the synthesiser (the hot path) --------------------------------------------------

  /** A trace array [B, rows, cols] (a backend may pad, tile or keep it on a device; `read` gives it back). */
  allocTrace(batch: number, rows: number, cols: number): A;
  /** E ← ∇θĝ. */
  traceSet(E: A, imm: ImmediateJacobian<A>): void;
  /**
   * The fused trace update E ← ∇θĝ + decay · J E (per example; J [B, rows, rows]; the reference forms
   * M = J E with Σ_k from +0 ascending, then ∇θĝ + decay·M elementwise).
   * With `contract`, first contribution ← mean_b δ_bᵀ E_b on the old trace (exactly `traceContract`).
   */
  traceUpdate(E: A, J: A, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void;
  /** out [cols] = mean_b Σ_i δ[b,i] E[b,i,·] (δ [B, rows]; per example Σ_i from +0 ascending, then the batch mean). */
  traceContract(out: A, delta: A, E: A): void;
}

/** Unit roundoff of a precision. */
export const unitRoundoff = (p: Precision): number => (p === 64 ? 2 ** -53 : 2 ** -24);

export const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
