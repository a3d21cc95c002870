/**
 * gpu.js kernel bodies for the trace hot path, as plain functions (gpu.js compiles their source text to GLSL,
 * WebAssembly or JavaScript). They only use what gpu.js translates: `this.thread.x`, `this.constants`, loops
 * bounded by constants, Math.floor, if/else. Flat 1-D arrays throughout; one call covers a tile of `NB` examples,
 * the batch's examples B0 … B0 + NB − 1: the trace E is the tile's own, J, s and δ are the whole batch's.
 */

/** What gpu.js binds to `this` inside a kernel (the parts used here). */
export interface KernelThis {
  readonly thread: { readonly x: number };
  readonly constants: { readonly R: number; readonly P: number; readonly n: number; readonly NB: number; readonly B0: number };
}

/**
 * E_new[b, i, p] = ∇θĝ[b, i, p] + decay · Σ_k J[B0 + b, i, k] E[b, k, p]   (E [NB, R, P], J [B, R, R], s [B, n];
 * ∇θĝ: s on row i's own W block p ∈ [i·n, (i+1)·n), 1 on its bias column R·n + i).
 */
export function traceUpdateKernel(this: KernelThis, E: Float32Array, J: Float32Array, s: Float32Array, decay: number): number {
  const idx = this.thread.x;
  const R = this.constants.R;
  const P = this.constants.P;
  const n = this.constants.n;
  const b = Math.floor(idx / (R * P));
  const rem = idx - b * R * P;
  const i = Math.floor(rem / P);
  const p = rem - i * P;
  let acc = 0;
  for (let k = 0; k < this.constants.R; k++) {
    acc += J[(this.constants.B0 + b) * R * R + i * R + k]! * E[b * R * P + k * P + p]!;
  }
  let w = 0;
  if (p < R * n) {
    const blk = Math.floor(p / n);
    if (blk === i) {
      w = s[(this.constants.B0 + b) * n + (p - blk * n)]!;
    }
  } else {
    if (p - R * n === i) {
      w = 1;
    }
  }
  return w + decay * acc;
}

/** c[p] = Σ_b Σ_i δ[B0 + b, i] E[b, i, p] over the tile's examples (their sum over tiles and the batch mean follow). */
export function traceContractKernel(this: KernelThis, E: Float32Array, D: Float32Array): number {
  const p = this.thread.x;
  const R = this.constants.R;
  const P = this.constants.P;
  let acc = 0;
  for (let b = 0; b < this.constants.NB; b++) {
    let c = 0;
    for (let i = 0; i < this.constants.R; i++) {
      c += D[(this.constants.B0 + b) * R + i]! * E[b * R * P + i * P + p]!;
    }
    acc += c;
  }
  return acc;
}

/** Identity (uploads a host array into a texture in pipeline mode). */
export function copyKernel(this: KernelThis, X: Float32Array): number {
  return X[this.thread.x]!;
}

/** E[b, i, p] = ∇θĝ[b, i, p] alone (the trace's first step): s on row i's own W block, 1 on its bias column. */
export function traceSetKernel(this: KernelThis, s: Float32Array): number {
  const idx = this.thread.x;
  const R = this.constants.R;
  const P = this.constants.P;
  const n = this.constants.n;
  const b = Math.floor(idx / (R * P));
  const rem = idx - b * R * P;
  const i = Math.floor(rem / P);
  const p = rem - i * P;
  let w = 0;
  if (p < R * n) {
    const blk = Math.floor(p / n);
    if (blk === i) {
      w = s[(this.constants.B0 + b) * n + (p - blk * n)]!;
    }
  } else {
    if (p - R * n === i) {
      w = 1;
    }
  }
  return w;
}
