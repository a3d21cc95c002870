/**
 * Golden tests from closed forms.
 *
 * 1. The toy task of spec §8.8 (linear RNN, H = 30, I = 10, O = 2, T = 10, x₁ = binary(833), target (0, 1) at T
 *    only), with the linear closed forms of spec §10 I9 computed here from matrix powers: states, future gradients,
 *    λ-targets (explicit λ-mixture), TD errors, both views of the synthesiser update (the backward view from the
 *    explicit trace sum of I8), BPTT gradients and SG gradients. Several γ, λ and synthesisers, including one fitted
 *    so that ĝ_t = G_t (spec I6/I7: δ = 0 and the SG gradient equals BPTT).
 * 2. A hand-worked scalar case (H = I = O = 1, T = 3) where every field is an exact dyadic literal.
 */
import { describe, expect, it } from 'vitest';
import { oracle } from '../src/core/oracle.js';
import { toyCase } from '../test-support/example-cases.js';
import type { IndependentCase } from '../test-support/independent-oracle.js';

type Vec = number[];
type Mat = number[][];

// ---- tiny linear algebra, local to this file
const eye = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const mm = (A: Mat, B: Mat): Mat => A.map((r) => B[0]!.map((_, j) => r.reduce((s, a, k) => s + a * B[k]![j]!, 0)));
const mv = (A: Mat, x: Vec): Vec => A.map((r) => r.reduce((s, a, k) => s + a * x[k]!, 0));
const vm = (v: Vec, A: Mat): Vec => A[0]!.map((_, j) => v.reduce((s, a, i) => s + a * A[i]![j]!, 0));
const add = (a: Vec, b: Vec): Vec => a.map((x, i) => x + b[i]!);
const sub = (a: Vec, b: Vec): Vec => a.map((x, i) => x - b[i]!);
const sc = (s: number, a: Vec): Vec => a.map((x) => s * x);
const outer = (a: Vec, b: Vec): Mat => a.map((x) => b.map((y) => x * y));
const addM = (A: Mat, B: Mat): Mat => A.map((r, i) => r.map((x, j) => x + B[i]![j]!));
const zerosV = (n: number): Vec => Array.from({ length: n }, () => 0);
const zerosM = (r: number, c: number): Mat => Array.from({ length: r }, () => zerosV(c));
/** powers[k] = A^k for k = 0..n. */
const powers = (A: Mat, n: number): Mat[] => {
  const out = [eye(A.length)];
  for (let k = 1; k <= n; k++) out.push(mm(out[k - 1]!, A));
  return out;
};

/** Max |a − b| / max(1, |b|) over every leaf, shapes required equal. */
const relErr = (a: unknown, b: unknown): number => {
  if (typeof b === 'number') return Math.abs((a as number) - b) / Math.max(1, Math.abs(b));
  if (typeof b !== 'object' || b === null) {
    expect(a).toBe(b);
    return 0;
  }
  if (Array.isArray(b)) {
    expect(Array.isArray(a) && a.length === b.length).toBe(true);
    return b.reduce((m: number, x, i) => Math.max(m, relErr((a as unknown[])[i], x)), 0);
  }
  const ob = b as Record<string, unknown>;
  expect(Object.keys(a as object).sort()).toEqual(Object.keys(ob).sort());
  return Object.keys(ob).reduce((m, k) => Math.max(m, relErr((a as Record<string, unknown>)[k], ob[k])), 0);
};

/**
 * Closed forms for the linear toy (identity RNN, x_t = 0 for t ≥ 2, a target only at T), spec §10 I9:
 *   h_t = W^{t−1} W_in x₁ + Σ_{k=0}^{t−1} W^k b          (h_0 = 0; the bias enters at every step)
 *   e = ŷ_T − y_T = W_out h_T + b_out − y_T,  ε_T = eᵀ W_out,  L = ½‖e‖²,  J_t = W
 *   G_t = γ^{T−t−1} ε_T W^{T−t}
 *   ĝ_t = W_s h_t + b_s (t < T), ĝ_T = 0
 *   G^λ_t = (γλ)^{T−1−t} ε_T W^{T−t} + γ(1−λ) Σ_{k=t+1}^{T−1} (γλ)^{k−t−1} ĝ_k W^{k−t}
 *   δ_t = γ ĝ_{t+1} W − ĝ_t (t < T−1),  δ_{T−1} = ε_T W − ĝ_{T−1}
 *   backward view (I8): Σ_t δ_t E_t with E_t = Σ_{k≤t} (γλ)^{t−k} W^{t−k} ∇ĝ_k, i.e.
 *       ΔW_s = Σ_t Σ_{k≤t} (γλ)^{t−k} (δ_t W^{t−k})ᵀ h_kᵀ,  Δb_s = Σ_t Σ_{k≤t} (γλ)^{t−k} δ_t W^{t−k}
 *   forward view: Σ_t (G^λ_t − ĝ_t)ᵀ [h_tᵀ, 1]
 *   BPTT: dL/dh_t = ε_T W^{T−t}; dW_in = (dL/dh_1)ᵀ x₁ᵀ; dW_rec = Σ_{t≥2} (dL/dh_t)ᵀ h_{t−1}ᵀ; db = Σ_t dL/dh_t;
 *         dW_out = e h_Tᵀ; db_out = e
 *   SG:   u_t = ĝ_t (t < T), u_T = ε_T; same formulas with u_t in place of dL/dh_t.
 */
const toyClosedForm = (c: IndependentCase): Record<string, unknown> => {
  const W = c.params.W_rec as Mat;
  const Win = c.params.W_in as Mat;
  const b = c.params.b as Vec;
  const Wout = c.params.W_out as Mat;
  const bout = c.params.b_out as Vec;
  const Ws = c.synthesiser.W;
  const bs = c.synthesiser.b;
  const { gamma: g, lambda: l } = c;
  const T = c.inputs.length;
  const H = W.length;
  const x1 = c.inputs[0]!;
  const Wp = powers(W, T);
  // states, 1-indexed in h[t]
  const h: Vec[] = [zerosV(H)];
  for (let t = 1; t <= T; t++) {
    let v = mv(Wp[t - 1]!, mv(Win, x1));
    for (let k = 0; k <= t - 1; k++) v = add(v, mv(Wp[k]!, b));
    h.push(v);
  }
  const e = sub(add(mv(Wout, h[T]!), bout), c.targets[T - 1]!);
  const epsT = vm(e, Wout);
  const loss = 0.5 * e.reduce((s, x) => s + x * x, 0);
  const G = (t: number): Vec => sc(g ** (T - t - 1), vm(epsT, Wp[T - t]!));
  const ghat = (t: number): Vec => (t === T ? zerosV(H) : add(mv(Ws, h[t]!), bs));
  const Glam = (t: number): Vec => {
    let v = sc((g * l) ** (T - 1 - t), vm(epsT, Wp[T - t]!));
    for (let k = t + 1; k <= T - 1; k++) v = add(v, sc(g * (1 - l) * (g * l) ** (k - t - 1), vm(ghat(k), Wp[k - t]!)));
    return v;
  };
  const delta = (t: number): Vec => (t < T - 1 ? sub(sc(g, vm(ghat(t + 1), W)), ghat(t)) : sub(vm(epsT, W), ghat(t)));
  const ts = Array.from({ length: T - 1 }, (_, i) => i + 1);
  let bwW = zerosM(H, H);
  let bwB = zerosV(H);
  for (const t of ts) {
    for (let k = 1; k <= t; k++) {
      const r = sc((g * l) ** (t - k), vm(delta(t), Wp[t - k]!));
      bwW = addM(bwW, outer(r, h[k]!));
      bwB = add(bwB, r);
    }
  }
  let fwW = zerosM(H, H);
  let fwB = zerosV(H);
  for (const t of ts) {
    const d = sub(Glam(t), ghat(t));
    fwW = addM(fwW, outer(d, h[t]!));
    fwB = add(fwB, d);
  }
  const recurrentGrads = (u: (t: number) => Vec): Record<string, unknown> => {
    let dWrec = zerosM(H, H);
    let db = zerosV(H);
    for (let t = 1; t <= T; t++) {
      if (t >= 2) dWrec = addM(dWrec, outer(u(t), h[t - 1]!));
      db = add(db, u(t));
    }
    return { W_in: outer(u(1), x1), W_rec: dWrec, b: db, W_out: outer(e, h[T]!), b_out: e };
  };
  return {
    format: 'bplambda-oracle/1',
    loss,
    states: h.slice(1),
    bpttGradients: recurrentGrads((t) => vm(epsT, Wp[T - t]!)),
    futureGradients: ts.map(G),
    syntheticGradients: ts.map(ghat),
    lambdaTargets: ts.map(Glam),
    tdErrors: ts.map(delta),
    synthesiserUpdate: { W: bwW, b: bwB },
    forwardViewUpdate: { W: fwW, b: fwB },
    sgGradients: recurrentGrads((t) => (t === T ? epsT : ghat(t))),
  };
};

/** Solve A x = y (n×n, Gaussian elimination with partial pivoting). */
const solve = (A0: Mat, y0: Vec): Vec => {
  const n = A0.length;
  const A = A0.map((r, i) => [...r, y0[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= n; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const x = zerosV(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = A[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= A[r]![k]! * x[k]!;
    x[r] = s / A[r]![r]!;
  }
  return x;
};

describe('toy task (spec §8.8) against the linear closed forms (spec §10 I9)', () => {
  const base = toyCase();
  const H = 30;
  const zeroSynth = { W: zerosM(H, H), b: zerosV(H) };
  const variants: [string, IndependentCase][] = [
    ['γ = 1, λ = 1, random synthesiser (examples/toy-rnn.json)', base],
    ['γ = 0.7, λ = 0, random synthesiser', { ...base, gamma: 0.7, lambda: 0 }],
    ['γ = 0.8, λ = 0.6, random synthesiser', { ...base, gamma: 0.8, lambda: 0.6 }],
    ['γ = 0, λ = 0.5, random synthesiser', { ...base, gamma: 0, lambda: 0.5 }],
    ['γ = 1, λ = 0.3, zero synthesiser', { ...base, lambda: 0.3, synthesiser: zeroSynth }],
  ];

  it.each(variants)('%s: every field equals its closed form', (_name, c) => {
    const got = JSON.parse(JSON.stringify(oracle(c))) as Record<string, unknown>;
    const want = toyClosedForm(c);
    for (const k of Object.keys(want)) expect(relErr(got[k], want[k]), k).toBeLessThan(1e-9);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  });

  it('the closed-form states include the bias at every step (h_2 = W h_1 + b, not W h_1)', () => {
    const r = oracle(base);
    const W = base.params.W_rec as Mat;
    const h1 = r.states[0]!;
    const h2 = r.states[1]!;
    expect(relErr(h2, add(mv(W, h1), base.params.b as Vec))).toBeLessThan(1e-12);
    expect(relErr(h1, add(mv(base.params.W_in as Mat, base.inputs[0]!), base.params.b as Vec))).toBeLessThan(1e-12);
  });

  it('with λ = 1 the λ-targets equal the future gradients for any γ and synthesiser; with γ = 1 G_t = ε_T W^{T−t}', () => {
    for (const g of [1, 0.5]) {
      const r = oracle({ ...base, gamma: g, lambda: 1 });
      expect(relErr(r.lambdaTargets, r.futureGradients)).toBeLessThan(1e-12);
    }
  });

  it('zero synthesiser: SG gradients are the truncation-1 gradients (only t = T contributes), spec I7', () => {
    const c = { ...base, synthesiser: zeroSynth };
    const r = oracle(c);
    const sg = r.sgGradients as Record<string, unknown>;
    expect((sg.W_in as Mat).flat().every((x) => x === 0)).toBe(true); // x_T = 0
    const hT1 = r.states[8]!;
    const e = sub(add(mv(c.params.W_out as Mat, r.states[9]!), c.params.b_out as Vec), [0, 1]);
    const epsT = vm(e, c.params.W_out as Mat);
    expect(relErr(sg.W_rec, outer(epsT, hT1))).toBeLessThan(1e-12);
    expect(relErr(sg.b, epsT)).toBeLessThan(1e-12);
  });

  it('a synthesiser fitted so that ĝ_t = G_t (γ = 1): δ_t = 0, G^λ = G for every λ, SG gradient = BPTT gradient (I6, I7)', () => {
    // θ = [W_s | b_s] (30×31) with θ [h_t; 1] = G_tᵀ for t = 1..9: the minimum-norm solution θ = Gm (Xᵀ X)^{-1} Xᵀ,
    // X = [[h_t; 1]]_t (31×9), Gm = [G_tᵀ]_t (30×9).
    const r0 = oracle(base);
    const X = r0.states.slice(0, 9).map((h) => [...h, 1]); // 9×31 (rows are [h_t; 1]ᵀ)
    const Gs = r0.futureGradients; // 9×30
    const gram = X.map((a) => X.map((b) => a.reduce((s, x, k) => s + x * b[k]!, 0)));
    // coefficients C (9×30): gram C = Gs, then θ = Cᵀ X
    const C = Array.from({ length: 9 }, () => zerosV(H));
    for (let j = 0; j < H; j++) {
      const col = solve(
        gram,
        Gs.map((g) => g[j]!),
      );
      col.forEach((v, i) => (C[i]![j] = v));
    }
    const theta = Array.from({ length: H }, (_, j) => Array.from({ length: H + 1 }, (_, k) => C.reduce((s, row, i) => s + row[j]! * X[i]![k]!, 0)));
    const fitted: IndependentCase = { ...base, synthesiser: { W: theta.map((r) => r.slice(0, H)), b: theta.map((r) => r[H]!) } };
    const fit = oracle(fitted);
    const scale = Math.max(...Gs.flat().map(Math.abs));
    const resid = Math.max(...fit.syntheticGradients.flatMap((g, t) => g.map((x, j) => Math.abs(x - Gs[t]![j]!))));
    expect(resid / scale).toBeLessThan(1e-8); // the fit itself is good
    const tol = 1e-6;
    for (const lam of [0, 0.5, 1]) {
      const r = oracle({ ...fitted, lambda: lam });
      expect(Math.max(...r.tdErrors.flat().map(Math.abs)) / scale).toBeLessThan(tol);
      expect(relErr(r.lambdaTargets, r.futureGradients)).toBeLessThan(tol);
      expect(relErr(r.sgGradients, r.bpttGradients)).toBeLessThan(tol);
      expect(Math.max(...r.synthesiserUpdate.b.map(Math.abs))).toBeLessThan(tol);
    }
  });
});

describe('hand-worked scalar case (every value an exact dyadic literal)', () => {
  /*
   * H = I = O = 1, identity, T = 3.  W_in = 1, W_rec = ½, b = 0, W_out = 2, b_out = 0; synthesiser W = ½, b = ¼;
   * x = (1, 1, 0); targets (null, 2, 1); γ = ½, λ = ½.
   *
   * states:  h₁ = 1·1 = 1;  h₂ = 1 + ½·1 = 3/2;  h₃ = 0 + ½·3/2 = 3/4
   * outputs: ŷ = 2h = (2, 3, 3/2); errors e₂ = 3 − 2 = 1, e₃ = 3/2 − 1 = ½
   * loss:    L = ½·1² + ½·(½)² = ½ + ⅛ = 5/8
   * l_t = e_t·W_out: l₁ = 0, l₂ = 2, l₃ = 1;  J_t = ½
   * future:  G₂ = (l₃ + γ·0)·J = ½;  G₁ = (l₂ + γG₂)·J = (2 + ¼)·½ = 9/8
   * synth:   ĝ₁ = ½·1 + ¼ = ¾;  ĝ₂ = ½·3/2 + ¼ = 1;  ĝ₃ = 0
   * λ-targ:  G^λ₂ = (l₃ + γ[½·0 + ½·0])·J = ½
   *          G^λ₁ = (l₂ + γ[½·ĝ₂ + ½·G^λ₂])·J = (2 + ½·(½ + ¼))·½ = (2 + 3/8)·½ = 19/16
   * TD:      δ₁ = (l₂ + γĝ₂)·J − ĝ₁ = (2 + ½)·½ − ¾ = ½;  δ₂ = (l₃ + 0)·J − ĝ₂ = ½ − 1 = −½
   * traces (θ = (W, b), ∇ĝ_t = [h_t, 1]): E₁ = [1, 1];  E₂ = γλ·J·E₁ + [3/2, 1] = ⅛·[1, 1] + [3/2, 1] = [13/8, 9/8]
   * backward: δ₁E₁ + δ₂E₂ = [½, ½] − [13/16, 9/16] = [−5/16, −1/16]
   * forward:  (G^λ₁ − ĝ₁)[h₁, 1] + (G^λ₂ − ĝ₂)[h₂, 1] = 7/16·[1, 1] − ½·[3/2, 1] = [7/16 − 12/16, 7/16 − 8/16]
   *         = [−5/16, −1/16]  ✓ equal
   * BPTT (γ = 1 inside dL/dh): dL/dh₃ = l₃ = 1; dL/dh₂ = l₂ + dL/dh₃·J = 2 + ½ = 5/2; dL/dh₁ = 0 + 5/2·½ = 5/4
   *   dW_in = Σ dL/dh_t·x_t = 5/4 + 5/2 + 0 = 15/4;  dW_rec = Σ dL/dh_t·h_{t−1} = 0 + 5/2·1 + 1·3/2 = 4
   *   db = 5/4 + 5/2 + 1 = 19/4;  dW_out = Σ e_t h_t = 1·3/2 + ½·¾ = 15/8;  db_out = 1 + ½ = 3/2
   *   (check dW_rec by hand: with W_rec = w, L(w) = 2w² + ½(2w + 2w² − 1)², L'(½) = 2 + ½·4 = 4 ✓)
   * SG: u_t = l_t + ĝ_t = (¾, 3, 1)
   *   W_in = Σ u_t x_t = ¾ + 3 + 0 = 15/4;  W_rec = Σ u_t h_{t−1} = 0 + 3·1 + 1·3/2 = 9/2;  b = ¾ + 3 + 1 = 19/4
   *   W_out, b_out as in BPTT: 15/8, 3/2
   */
  const hand = {
    format: 'bplambda-case/1',
    cell: { type: 'rnn', activation: 'identity' },
    params: { W_in: [[1]], W_rec: [[0.5]], b: [0], W_out: [[2]], b_out: [0] },
    synthesiser: { W: [[0.5]], b: [0.25] },
    inputs: [[1], [1], [0]],
    targets: [null, [2], [1]],
    gamma: 0.5,
    lambda: 0.5,
  };
  const expected = {
    format: 'bplambda-oracle/1',
    loss: 5 / 8,
    states: [[1], [3 / 2], [3 / 4]],
    bpttGradients: { W_in: [[15 / 4]], W_rec: [[4]], b: [19 / 4], W_out: [[15 / 8]], b_out: [3 / 2] },
    futureGradients: [[9 / 8], [1 / 2]],
    syntheticGradients: [[3 / 4], [1]],
    lambdaTargets: [[19 / 16], [1 / 2]],
    tdErrors: [[1 / 2], [-1 / 2]],
    synthesiserUpdate: { W: [[-5 / 16]], b: [-1 / 16] },
    forwardViewUpdate: { W: [[-5 / 16]], b: [-1 / 16] },
    sgGradients: { W_in: [[15 / 4]], W_rec: [[9 / 2]], b: [19 / 4], W_out: [[15 / 8]], b_out: [3 / 2] },
  };

  it('every field is exactly the hand-derived value', () => {
    expect(JSON.parse(JSON.stringify(oracle(hand)))).toStrictEqual(expected);
  });
});
