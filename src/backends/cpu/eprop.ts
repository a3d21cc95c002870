/**
 * Fused e-prop and loss kernels of the CPU backend (optional overrides of the composites in src/ops/cells.ts and
 * src/ops/loss.ts): the LSTM's e-prop traces advanced and turned into gradients in one pass per example, and the
 * three losses with their masks.
 */
import type { LossKind } from '../../core/model.js';
import type { CellCache, CellParams, DeviceArray } from '../backend.js';
import { BackendArrayError } from '../errors.js';
import { type HostData, lstmCache, lstmSlopes } from './data.js';

/** The LSTM's sizes, its e-prop traces [B, 3, H, I + H + 1], s_{t-1}, x_t and the step's cache, checked. */
const epropOperands = (h: HostData, op: string, prev: DeviceArray, x: DeviceArray, cache: CellCache<DeviceArray>, traces: DeviceArray) => {
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const I = x.shape[1]!;
  const n = I + H + 1;
  return { B, S, H, I, n, E: h.d(op, traces, [B, 3, H, n]), pv: h.d(op, prev), xs: h.d(op, x), c: lstmCache(h, op, cache, B, H) };
};

/** ε ← f_t ⊙ ε + post_t ⊗ [x | h_{t-1} | 1] for gates i, f, g (traces [B, 3, H, I + H + 1]). */
export const epropAdvance = (h: HostData, prev: DeviceArray, x: DeviceArray, cache: CellCache<DeviceArray>, traces: DeviceArray): void => {
  const { B, S, H, I, n, E, pv, xs, c } = epropOperands(h, 'epropAdvance', prev, x, cache, traces);
  const slopes = lstmSlopes(h, 'eprop.slopes', pv, c, B, H);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < H; k++) {
      const fk = c.f[b * H + k]!;
      for (let gate = 0; gate < 3; gate++) {
        const post = slopes[(b * 3 + gate) * H + k]!;
        const row = ((b * 3 + gate) * H + k) * n;
        for (let j = 0; j < I; j++) E[row + j] = fk * E[row + j]! + post * xs[b * I + j]!;
        for (let j = 0; j < H; j++) E[row + I + j] = fk * E[row + I + j]! + post * pv[b * S + j]!;
        E[row + I + H] = fk * E[row + I + H]! + post;
      }
    }
};

/**
 * The e-prop gradient for a learning signal L [B, H] on h_t: per example into out [B, …] ('each') or summed over
 * the batch into out […] ('sum'); `accumulate` adds to out.
 */
export const epropGradient = (
  h: HostData,
  prev: DeviceArray,
  x: DeviceArray,
  cache: CellCache<DeviceArray>,
  traces: DeviceArray,
  signal: DeviceArray,
  out: CellParams<DeviceArray>,
  reduce: 'each' | 'sum',
  accumulate: boolean,
): void => {
  const { B, S, H, I, n, E, pv, xs, c } = epropOperands(h, 'epropGradient', prev, x, cache, traces);
  const L = h.d('epropGradient', signal, [B, H]);
  const each = reduce === 'each';
  const gih = h.d('epropGradient', out['W_ih']!, each ? [B, 4 * H, I] : [4 * H, I]);
  const ghh = h.d('epropGradient', out['W_hh']!, each ? [B, 4 * H, H] : [4 * H, H]);
  const gb = h.d('epropGradient', out['b']!, each ? [B, 4 * H] : [4 * H]);
  if (each) {
    // Per example straight into its rows of the three outputs.
    for (let b = 0; b < B; b++) {
      if (!accumulate) {
        gih.fill(0, b * 4 * H * I, (b + 1) * 4 * H * I);
        ghh.fill(0, b * 4 * H * H, (b + 1) * 4 * H * H);
        gb.fill(0, b * 4 * H, (b + 1) * 4 * H);
      }
      for (let gate = 0; gate < 3; gate++)
        for (let k = 0; k < H; k++) {
          const s = L[b * H + k]! * c.psi[b * H + k]!;
          if (s === 0) continue;
          const tr = ((b * 3 + gate) * H + k) * n;
          const row = b * 4 * H + gate * H + k;
          for (let j = 0; j < I; j++) gih[row * I + j] += s * E[tr + j]!;
          for (let j = 0; j < H; j++) ghh[row * H + j] += s * E[tr + I + j]!;
          gb[row] += s * E[tr + I + H]!;
        }
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const ok = c.o[q]!;
        const s = L[q]! * c.tanhC[q]! * ok * (1 - ok);
        if (s === 0) continue;
        const row = b * 4 * H + 3 * H + k;
        for (let j = 0; j < I; j++) gih[row * I + j] += s * xs[b * I + j]!;
        for (let j = 0; j < H; j++) ghh[row * H + j] += s * pv[b * S + j]!;
        gb[row] += s;
      }
    }
    return;
  }
  // Summed over the batch into rows [4H, n] (columns [x | h | 1]), then split into the three.
  const acc = h.tmp('eprop.acc', 4 * H * n);
  acc.fill(0, 0, 4 * H * n);
  for (let b = 0; b < B; b++) {
    for (let gate = 0; gate < 3; gate++)
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const s = L[b * H + k]! * c.psi[q]!;
        if (s === 0) continue;
        const tr = ((b * 3 + gate) * H + k) * n;
        const ao = (gate * H + k) * n;
        for (let j = 0; j < n; j++) acc[ao + j] += s * E[tr + j]!;
      }
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ok = c.o[q]!;
      const s = L[b * H + k]! * c.tanhC[q]! * ok * (1 - ok);
      if (s === 0) continue;
      const ao = (3 * H + k) * n;
      for (let j = 0; j < I; j++) acc[ao + j] += s * xs[b * I + j]!;
      for (let j = 0; j < H; j++) acc[ao + I + j] += s * pv[b * S + j]!;
      acc[ao + I + H] += s;
    }
  }
  split(acc, gih, ghh, gb, 0, H, I, accumulate);
};

const split = (acc: Float64Array | Float32Array, gih: Float64Array | Float32Array, ghh: Float64Array | Float32Array, gb: Float64Array | Float32Array, row0: number, H: number, I: number, accumulate: boolean): void => {
  const n = I + H + 1;
  for (let r = 0; r < 4 * H; r++) {
    const ao = r * n;
    const R = row0 + r;
    for (let j = 0; j < I; j++) gih[R * I + j] = (accumulate ? gih[R * I + j]! : 0) + acc[ao + j]!;
    for (let j = 0; j < H; j++) ghh[R * H + j] = (accumulate ? ghh[R * H + j]! : 0) + acc[ao + I + j]!;
    gb[R] = (accumulate ? gb[R]! : 0) + acc[ao + I + H]!;
  }
};

/** Per-example loss and ∂L/∂ŷ of the core's `lossAndGrad`, zero where the mask is 0. */
export const loss = (h: HostData, kind: LossKind, yHat: DeviceArray, y: DeviceArray, mask: DeviceArray, lossOut: DeviceArray, dy: DeviceArray): void => {
  const [B, O] = yHat.shape as [number, number];
  const yh = h.d('loss', yHat);
  const ys = h.d('loss', y, [B, O]);
  const ms = h.d('loss', mask, [B]);
  const ls = h.d('loss', lossOut, [B]);
  const ds = h.d('loss', dy, [B, O]);
  for (let b = 0; b < B; b++) {
    const o = b * O;
    if (ms[b] === 0) {
      ls[b] = 0;
      ds.fill(0, o, o + O);
      continue;
    }
    switch (kind) {
      case 'mse': {
        let l = 0;
        for (let k = 0; k < O; k++) {
          const d = yh[o + k]! - ys[o + k]!;
          ds[o + k] = d;
          l += d * d;
        }
        ls[b] = 0.5 * l;
        break;
      }
      case 'bce': {
        // Stable form max(z, 0) − z y + log(1 + e^{−|z|}); gradient σ(z) − y.
        let l = 0;
        for (let k = 0; k < O; k++) {
          const z = yh[o + k]!;
          const t = ys[o + k]!;
          l += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
          ds[o + k] = 1 / (1 + Math.exp(-z)) - t;
        }
        ls[b] = l;
        break;
      }
      case 'xent': {
        let m = -Infinity;
        for (let k = 0; k < O; k++) m = Math.max(m, yh[o + k]!);
        let se = 0;
        for (let k = 0; k < O; k++) se += Math.exp(yh[o + k]! - m);
        const lse = m + Math.log(se);
        let l = 0;
        let ysum = 0;
        for (let k = 0; k < O; k++) {
          l -= ys[o + k]! * (yh[o + k]! - lse);
          ysum += ys[o + k]!;
        }
        ls[b] = l;
        for (let k = 0; k < O; k++) ds[o + k] = ysum * (Math.exp(yh[o + k]! - m) / se) - ys[o + k]!;
        break;
      }
      default:
        throw new BackendArrayError('loss', `unknown loss ${String(kind satisfies never)}`);
    }
  }
};
