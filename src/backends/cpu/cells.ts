/**
 * Fused cell kernels of the CPU backend (optional overrides of the composite ops of src/ops/cells.ts, held to
 * them by the conformance suite): one pass per example instead of a dozen elementwise kernels, and the LSTM's
 * state VJP without forming J (g J = dzᵀ W_hh on the h part, a diagonal on the c part).
 */
import { activationFns } from '../../core/rnn.js';
import type { CellCache, CellParams, CellSpec, DeviceArray } from '../backend.js';
import { type F, type HostData, type LstmCache, lstmCache } from './data.js';
import { gemm, type Strided } from './gemm.js';

const rows = (data: F, rs: number, off = 0): Strided => ({ data, off, rs, cs: 1 });
/** Wᵀ of a row-major [r, c] matrix, as a strided [c, r] operand. */
const transposed = (data: F, c: number): Strided => ({ data, off: 0, rs: 1, cs: c });

/**
 * z [B, G] = x Wxᵀ + h Whᵀ (each product Σ from +0 ascending, then their sum), h the first H entries of each row
 * of prev [B, S]: the pre-activations before the bias, through the SIMD product (or its JavaScript loop).
 */
const preacts = (h: HostData, z: F, B: number, G: number, xs: F, I: number, wx: F, pv: F, S: number, H: number, wh: F): void => {
  if (h.ws === null) {
    for (let b = 0; b < B; b++)
      for (let r = 0; r < G; r++) {
        let s1 = 0;
        for (let j = 0; j < I; j++) s1 += wx[r * I + j]! * xs[b * I + j]!;
        let s2 = 0;
        for (let j = 0; j < H; j++) s2 += wh[r * H + j]! * pv[b * S + j]!;
        z[b * G + r] = s1 + s2;
      }
    return;
  }
  gemm(h.ws, B, G, I, rows(xs, I), transposed(wx, I), z, 0, G, false);
  gemm(h.ws, B, G, H, rows(pv, S), transposed(wh, H), z, 0, G, true);
};

/** out[b, 0:H] = Σ_r dz[b, r] W[r, :] (dz [B, G], W [G, H]; out rows of stride S): a gradient through W. */
const backThrough = (h: HostData, out: F, S: number, dz: F, B: number, G: number, w: F, H: number): void => {
  if (h.ws !== null) return gemm(h.ws, B, H, G, rows(dz, G), rows(w, H), out, 0, S, false);
  for (let b = 0; b < B; b++) {
    out.fill(0, b * S, b * S + H);
    for (let r = 0; r < G; r++) {
      const z = dz[b * G + r]!;
      if (z === 0) continue;
      for (let j = 0; j < H; j++) out[b * S + j] += z * w[r * H + j]!;
    }
  }
};

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

/** D_b = ∂c_t/∂h_{t-1} (H×H) for example b into d at offset dOff. */
const lstmD = (w: F, H: number, b: number, pv: F, c: LstmCache, d: F, dOff: number): void => {
  const S = 2 * H;
  for (let k = 0; k < H; k++) {
    const q = b * H + k;
    const ik = c.i[q]!;
    const fk = c.f[q]!;
    const gk = c.g[q]!;
    const di = gk * ik * (1 - ik);
    const df = pv[b * S + H + k]! * fk * (1 - fk);
    const dg = ik * (1 - gk * gk);
    const wi = k * H;
    const wf = (H + k) * H;
    const wg = (2 * H + k) * H;
    const dr = dOff + k * H;
    for (let j = 0; j < H; j++) d[dr + j] = di * w[wi + j]! + df * w[wf + j]! + dg * w[wg + j]!;
  }
};

export const cellForward = (h: HostData, spec: CellSpec, params: CellParams<DeviceArray>, prev: DeviceArray, x: DeviceArray, state: DeviceArray, cache: CellCache<DeviceArray>): void => {
  const B = prev.shape[0]!;
  const S = prev.shape[1]!;
  const I = x.shape[1]!;
  const xs = h.d('cellForward', x, [B, I]);
  const pv = h.d('cellForward', prev, [B, S]);
  const st = h.d('cellForward', state, [B, S]);
  if (spec.type === 'rnn') {
    const H = S;
    const win = h.d('cellForward', params['W_in']!, [H, I]);
    const wrec = h.d('cellForward', params['W_rec']!, [H, H]);
    const bias = h.d('cellForward', params['b']!, [H]);
    const as = h.d('cellForward', cache['a']!, [B, H]);
    const fp = h.d('cellForward', cache['fp']!, [B, H]);
    const act = activationFns[spec.activation];
    preacts(h, as, B, H, xs, I, win, pv, H, H, wrec);
    for (let b = 0; b < B; b++)
      for (let r = 0; r < H; r++) {
        const a = as[b * H + r]! + bias[r]!;
        as[b * H + r] = a;
        if (spec.activation === 'tanh') {
          const t = Math.tanh(a);
          st[b * H + r] = t;
          fp[b * H + r] = 1 - t * t;
        } else {
          st[b * H + r] = act.f(a);
          fp[b * H + r] = act.df(a);
        }
      }
    return;
  }
  const H = S / 2;
  const G = 4 * H;
  const z = h.tmp('cells.z', B * G);
  const wih = h.d('cellForward', params['W_ih']!, [G, I]);
  const whh = h.d('cellForward', params['W_hh']!, [G, H]);
  const bias = h.d('cellForward', params['b']!, [G]);
  const c = lstmCache(h, 'cellForward', cache, B, H);
  preacts(h, z, B, G, xs, I, wih, pv, S, H, whh);
  for (let b = 0; b < B; b++) {
    const po = b * S;
    const zo = b * G;
    for (let r = 0; r < G; r++) z[zo + r] = z[zo + r]! + bias[r]!;
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ig = sigmoid(z[zo + k]!);
      const fg = sigmoid(z[zo + H + k]!);
      const gg = Math.tanh(z[zo + 2 * H + k]!);
      const og = sigmoid(z[zo + 3 * H + k]!);
      const cc = fg * pv[po + H + k]! + ig * gg;
      const tc = Math.tanh(cc);
      c.i[q] = ig;
      c.f[q] = fg;
      c.g[q] = gg;
      c.o[q] = og;
      c.tanhC[q] = tc;
      c.psi[q] = og * (1 - tc * tc);
      st[po + k] = og * tc;
      st[po + H + k] = cc;
    }
  }
};

export const cellJacobian = (h: HostData, spec: CellSpec, params: CellParams<DeviceArray>, prev: DeviceArray, cache: CellCache<DeviceArray>, out: DeviceArray): void => {
  const [B, S] = prev.shape as [number, number];
  const J = h.d('cellJacobian', out, [B, S, S]);
  if (spec.type === 'rnn') {
    const w = h.d('cellJacobian', params['W_rec']!, [S, S]);
    const fp = h.d('cellJacobian', cache['fp']!, [B, S]);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < S; i++) {
        const f = fp[b * S + i]!;
        const jo = (b * S + i) * S;
        for (let j = 0; j < S; j++) J[jo + j] = f * w[i * S + j]!;
      }
    return;
  }
  const H = S / 2;
  const w = h.d('cellJacobian', params['W_hh']!, [4 * H, H]);
  const pv = h.d('cellJacobian', prev);
  const c = lstmCache(h, 'cellJacobian', cache, B, H);
  const D = h.tmp('cells.D', H * H);
  J.fill(0);
  for (let b = 0; b < B; b++) {
    lstmD(w, H, b, pv, c, D, 0);
    const base = b * S * S;
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ok = c.o[q]!;
      const oPost = c.tanhC[q]! * ok * (1 - ok);
      const psi = c.psi[q]!;
      const wo = (3 * H + k) * H;
      const hr = base + k * S;
      const cr = base + (H + k) * S;
      for (let j = 0; j < H; j++) {
        const dcdh = D[k * H + j]!;
        J[hr + j] = oPost * w[wo + j]! + psi * dcdh;
        J[cr + j] = dcdh;
      }
      J[hr + H + k] = psi * c.f[q]!;
      J[cr + H + k] = c.f[q]!;
    }
  }
};

const lstmPreact = (h: HostData, prev: DeviceArray, cache: CellCache<DeviceArray>, gs: F, B: number, H: number, out: F): void => {
  const S = 2 * H;
  const pv = h.d('cellPreactGrad', prev);
  const c = lstmCache(h, 'cellPreactGrad', cache, B, H);
  for (let b = 0; b < B; b++) {
    const zb = b * 4 * H;
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ik = c.i[q]!;
      const fk = c.f[q]!;
      const gk = c.g[q]!;
      const ok = c.o[q]!;
      const gh = gs[b * S + k]!;
      const gck = gs[b * S + H + k]! + gh * c.psi[q]!;
      out[zb + k] = gck * (gk * ik * (1 - ik));
      out[zb + H + k] = gck * (pv[b * S + H + k]! * fk * (1 - fk));
      out[zb + 2 * H + k] = gck * (ik * (1 - gk * gk));
      out[zb + 3 * H + k] = gh * c.tanhC[q]! * ok * (1 - ok);
    }
  }
};

export const cellPreactGrad = (h: HostData, spec: CellSpec, prev: DeviceArray, cache: CellCache<DeviceArray>, g: DeviceArray, dz: DeviceArray): void => {
  const [B, S] = prev.shape as [number, number];
  const gs = h.d('cellPreactGrad', g, [B, S]);
  if (spec.type === 'rnn') {
    const out = h.d('cellPreactGrad', dz, [B, S]);
    const fp = h.d('cellPreactGrad', cache['fp']!, [B, S]);
    for (let i = 0; i < out.length; i++) out[i] = gs[i]! * fp[i]!;
    return;
  }
  lstmPreact(h, prev, cache, gs, B, S / 2, h.d('cellPreactGrad', dz, [B, 2 * S]));
};

export const cellStateVjp = (h: HostData, spec: CellSpec, params: CellParams<DeviceArray>, prev: DeviceArray, cache: CellCache<DeviceArray>, g: DeviceArray, out: DeviceArray): void => {
  const [B, S] = prev.shape as [number, number];
  const gs = h.d('cellStateVjp', g, [B, S]);
  const o = h.d('cellStateVjp', out, [B, S]);
  if (spec.type === 'rnn') {
    // (g J)_j = Σ_i g_i f'(a_i) W[i,j]
    const w = h.d('cellStateVjp', params['W_rec']!, [S, S]);
    const fp = h.d('cellStateVjp', cache['fp']!, [B, S]);
    const gi = h.tmp('cells.vjpDz', B * S);
    for (let i = 0; i < B * S; i++) gi[i] = gs[i]! * fp[i]!;
    return backThrough(h, o, S, gi, B, S, w, S);
  }
  // LSTM: (g J)_{h part} = dzᵀ W_hh (dz the pre-activation gradient), (g J)_{c part} = (g_h ψ + g_c) ⊙ f.
  const H = S / 2;
  const dz = h.tmp('cells.vjpDz', B * 4 * H);
  lstmPreact(h, prev, cache, gs, B, H, dz);
  const w = h.d('cellStateVjp', params['W_hh']!, [4 * H, H]);
  const c = lstmCache(h, 'cellStateVjp', cache, B, H);
  backThrough(h, o, S, dz, B, 4 * H, w, H);
  for (let b = 0; b < B; b++) {
    const oo = b * S;
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      o[oo + H + k] = (gs[oo + k]! * c.psi[q]! + gs[oo + H + k]!) * c.f[q]!;
    }
  }
};

export const cellModeJacobians = (
  h: HostData,
  _spec: CellSpec,
  params: CellParams<DeviceArray>,
  prev: DeviceArray,
  cache: CellCache<DeviceArray>,
  psiPrev: DeviceArray,
  C: DeviceArray,
  D: DeviceArray,
): void => {
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const w = h.d('cellModeJacobians', params['W_hh']!, [4 * H, H]);
  const pv = h.d('cellModeJacobians', prev);
  const c = lstmCache(h, 'cellModeJacobians', cache, B, H);
  const pp = h.d('cellModeJacobians', psiPrev, [B, H]);
  const Cs = h.d('cellModeJacobians', C, [B, H, H]);
  const Ds = h.d('cellModeJacobians', D, [B, H, H]);
  for (let b = 0; b < B; b++) {
    const base = b * H * H;
    lstmD(w, H, b, pv, c, Ds, base);
    for (let i = 0; i < H; i++) {
      const r = base + i * H;
      for (let j = 0; j < H; j++) Cs[r + j] = Ds[r + j]! * pp[b * H + j]!;
      Cs[r + i] = Cs[r + i]! + c.f[b * H + i]!;
    }
  }
};
