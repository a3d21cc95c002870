/**
 * An independent float64 implementation of the oracle contract (docs/spec/oracle-contract.md, format 1),
 * written from the contract text alone, without reading src/core. It is deliberately built differently from a
 * reverse-mode implementation:
 *
 * - plain `number[][]` / `number[]` arrays, no typed arrays, no shared tensor helpers;
 * - every state Jacobian `J_t` is built as an explicit S×S matrix from analytic formulas;
 * - the immediate derivative `∂s_t/∂Ψ` (s_{t-1} held fixed) is built as an explicit S×P matrix, one column per
 *   recurrent parameter entry;
 * - BPTT gradients of the recurrent parameters are computed in **forward mode** (RTRL sensitivities
 *   `M_t = ds_t/dΨ = J_t M_{t-1} + ∂s_t/∂Ψ`, then `dL/dΨ = Σ_t l_t M_t`);
 * - future gradients `G_t` by the explicit sum `Σ_{k>t} γ^{k-t-1} l_k Φ_{k,t}` with `Φ_{k,t} = J_k ⋯ J_{t+1}`
 *   (not by the recursion);
 * - λ-targets by the recursion; the forward view by its formula; the backward view with explicit
 *   eligibility-trace matrices `E_t` of size S×(S·S + S).
 *
 * It checks nothing itself: it is only a second computation for the tests to compare with.
 */

export type Vec = number[];
export type Mat = number[][];

export type Activation = 'identity' | 'tanh' | 'sigmoid' | 'relu';

export interface IndependentCase {
  format?: string;
  cell: { type: 'rnn'; activation: Activation } | { type: 'lstm' };
  params: Record<string, Mat | Vec>;
  synthesiser: { W: Mat; b: Vec };
  inputs: Mat;
  targets: (Vec | null)[];
  gamma: number;
  lambda: number;
}

export interface IndependentResult {
  format: 'bplambda-oracle/1';
  loss: number;
  states: Mat;
  bpttGradients: Record<string, Mat | Vec>;
  futureGradients: Mat;
  syntheticGradients: Mat;
  lambdaTargets: Mat;
  tdErrors: Mat;
  synthesiserUpdate: { W: Mat; b: Vec };
  forwardViewUpdate: { W: Mat; b: Vec };
  sgGradients: Record<string, Mat | Vec>;
}

// ---------------------------------------------------------------------------------------------------------
// Small dense helpers on plain arrays.

const zerosV = (n: number): Vec => Array.from({ length: n }, () => 0);
const zerosM = (r: number, c: number): Mat => Array.from({ length: r }, () => zerosV(c));
const identityM = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const matVec = (A: Mat, x: Vec): Vec => A.map((row) => row.reduce((acc, a, j) => acc + a * x[j]!, 0));
/** Row vector times matrix: (v A)_j = Σ_i v_i A_ij. */
const vecMat = (v: Vec, A: Mat): Vec => {
  const cols = A[0]?.length ?? 0;
  const out = zerosV(cols);
  for (let i = 0; i < A.length; i++) for (let j = 0; j < cols; j++) out[j]! += v[i]! * A[i]![j]!;
  return out;
};
const matMat = (A: Mat, B: Mat): Mat => {
  const n = B[0]?.length ?? 0;
  return A.map((row) => {
    const out = zerosV(n);
    row.forEach((a, k) => {
      if (a !== 0) for (let j = 0; j < n; j++) out[j]! += a * B[k]![j]!;
    });
    return out;
  });
};
const addV = (a: Vec, b: Vec): Vec => a.map((x, i) => x + b[i]!);
const subV = (a: Vec, b: Vec): Vec => a.map((x, i) => x - b[i]!);
const scaleV = (s: number, a: Vec): Vec => a.map((x) => s * x);
const addM = (A: Mat, B: Mat): Mat => A.map((r, i) => r.map((x, j) => x + B[i]![j]!));
const scaleM = (s: number, A: Mat): Mat => A.map((r) => r.map((x) => s * x));
const dot = (a: Vec, b: Vec): number => a.reduce((acc, x, i) => acc + x * b[i]!, 0);

const sigma = (z: number): number => 1 / (1 + Math.exp(-z));

const act = (name: Activation, a: number): number => {
  switch (name) {
    case 'identity':
      return a;
    case 'tanh':
      return Math.tanh(a);
    case 'sigmoid':
      return sigma(a);
    case 'relu':
      return a > 0 ? a : 0;
  }
};
const actPrime = (name: Activation, a: number): number => {
  switch (name) {
    case 'identity':
      return 1;
    case 'tanh': {
      const th = Math.tanh(a);
      return 1 - th * th;
    }
    case 'sigmoid': {
      const s = sigma(a);
      return s * (1 - s);
    }
    case 'relu':
      return a > 0 ? 1 : 0;
  }
};

// ---------------------------------------------------------------------------------------------------------
// Parameter layout: the recurrent parameters are flattened (row-major, in contract order) into one index space.

interface Slot {
  name: string;
  rows: number;
  cols: number | null; // null for a vector
  offset: number;
}

const layout = (entries: [string, number, number | null][]): { slots: Slot[]; size: number } => {
  let offset = 0;
  const slots = entries.map(([name, rows, cols]) => {
    const s: Slot = { name, rows, cols, offset };
    offset += rows * (cols ?? 1);
    return s;
  });
  return { slots, size: offset };
};

const unflatten = (slots: Slot[], flat: Vec): Record<string, Mat | Vec> => {
  const out: Record<string, Mat | Vec> = {};
  for (const s of slots) {
    if (s.cols === null) out[s.name] = flat.slice(s.offset, s.offset + s.rows);
    else out[s.name] = Array.from({ length: s.rows }, (_, r) => flat.slice(s.offset + r * s.cols!, s.offset + (r + 1) * s.cols!));
  }
  return out;
};

// ---------------------------------------------------------------------------------------------------------
// One step of a cell: the new state, its Jacobian wrt the previous state, and the immediate parameter derivative.

interface StepOut {
  s: Vec; // S
  J: Mat; // S×S, ∂s_t/∂s_{t-1}
  D: Mat; // S×P, ∂s_t/∂Ψ with s_{t-1} held fixed
}

const rnnStep = (act_: Activation, Win: Mat, Wrec: Mat, b: Vec, P: number, x: Vec, hPrev: Vec): StepOut => {
  const H = Wrec.length;
  const I = x.length;
  const a = addV(addV(matVec(Win, x), matVec(Wrec, hPrev)), b);
  const s = a.map((ai) => act(act_, ai));
  const fp = a.map((ai) => actPrime(act_, ai));
  const J = Wrec.map((row, i) => row.map((w) => fp[i]! * w));
  const D = zerosM(H, P);
  // Layout: W_in (H×I), W_rec (H×H), b (H).
  const offIn = 0;
  const offRec = H * I;
  const offB = H * I + H * H;
  for (let i = 0; i < H; i++) {
    for (let k = 0; k < I; k++) D[i]![offIn + i * I + k] = fp[i]! * x[k]!;
    for (let k = 0; k < H; k++) D[i]![offRec + i * H + k] = fp[i]! * hPrev[k]!;
    D[i]![offB + i] = fp[i]!;
  }
  return { s, J, D };
};

const lstmStep = (Wih: Mat, Whh: Mat, b: Vec, P: number, x: Vec, sPrev: Vec): StepOut => {
  const H = Whh[0]!.length;
  const I = x.length;
  const hPrev = sPrev.slice(0, H);
  const cPrev = sPrev.slice(H);
  const z = addV(addV(matVec(Wih, x), matVec(Whh, hPrev)), b); // 4H, blocks i, f, g, o
  const zi = z.slice(0, H);
  const zf = z.slice(H, 2 * H);
  const zg = z.slice(2 * H, 3 * H);
  const zo = z.slice(3 * H, 4 * H);
  const ig = zi.map(sigma);
  const fg = zf.map(sigma);
  const gg = zg.map(Math.tanh);
  const og = zo.map(sigma);
  const c = cPrev.map((cp, k) => fg[k]! * cp + ig[k]! * gg[k]!);
  const tc = c.map(Math.tanh);
  const h = og.map((o, k) => o * tc[k]!);
  // dc_k/dz_r and dh_k/dz_r: nonzero only for r in {i_k, f_k, g_k, o_k}. Build them as H×4H matrices.
  const dcdz = zerosM(H, 4 * H);
  const dhdz = zerosM(H, 4 * H);
  for (let k = 0; k < H; k++) {
    const dc_i = gg[k]! * ig[k]! * (1 - ig[k]!);
    const dc_f = cPrev[k]! * fg[k]! * (1 - fg[k]!);
    const dc_g = ig[k]! * (1 - gg[k]! * gg[k]!);
    dcdz[k]![k] = dc_i;
    dcdz[k]![H + k] = dc_f;
    dcdz[k]![2 * H + k] = dc_g;
    const dhdc = og[k]! * (1 - tc[k]! * tc[k]!);
    dhdz[k]![k] = dhdc * dc_i;
    dhdz[k]![H + k] = dhdc * dc_f;
    dhdz[k]![2 * H + k] = dhdc * dc_g;
    dhdz[k]![3 * H + k] = tc[k]! * og[k]! * (1 - og[k]!);
  }
  // dz/ds_prev = [W_hh, 0] (4H × 2H).
  const dzds = Whh.map((row) => [...row, ...zerosV(H)]);
  const dhds = matMat(dhdz, dzds); // H×2H, plus the direct c_prev path below
  const dcds = matMat(dcdz, dzds);
  for (let k = 0; k < H; k++) {
    const dhdc = og[k]! * (1 - tc[k]! * tc[k]!);
    dcds[k]![H + k]! += fg[k]!;
    dhds[k]![H + k]! += dhdc * fg[k]!;
  }
  const J = [...dhds, ...dcds];
  // dz_r/dΨ: W_ih (4H×I), W_hh (4H×H), b (4H), row-major.
  const dzdP = zerosM(4 * H, P);
  const offHh = 4 * H * I;
  const offB = 4 * H * I + 4 * H * H;
  for (let r = 0; r < 4 * H; r++) {
    for (let k = 0; k < I; k++) dzdP[r]![r * I + k] = x[k]!;
    for (let k = 0; k < H; k++) dzdP[r]![offHh + r * H + k] = hPrev[k]!;
    dzdP[r]![offB + r] = 1;
  }
  const D = [...matMat(dhdz, dzdP), ...matMat(dcdz, dzdP)];
  return { s: [...h, ...c], J, D };
};

// ---------------------------------------------------------------------------------------------------------

/** The whole result of the contract for one (already valid) case. */
export const independentOracle = (cs: IndependentCase): IndependentResult => {
  const T = cs.inputs.length;
  const gamma = cs.gamma;
  const lambda = cs.lambda;
  const Wout = cs.params.W_out as Mat;
  const bout = cs.params.b_out as Vec;
  const O = Wout.length;
  const H = Wout[0]!.length;
  const I = cs.inputs[0]!.length;
  const isLstm = cs.cell.type === 'lstm';
  const S = isLstm ? 2 * H : H;
  const { slots, size: P } = isLstm
    ? layout([
        ['W_ih', 4 * H, I],
        ['W_hh', 4 * H, H],
        ['b', 4 * H, null],
      ])
    : layout([
        ['W_in', H, I],
        ['W_rec', H, H],
        ['b', H, null],
      ]);

  // ---- forward pass, Jacobians, immediate derivatives, immediate loss gradients
  const states: Mat = [];
  const Js: Mat[] = []; // Js[t-1] = J_t
  const Ds: Mat[] = [];
  const ls: Vec[] = []; // l_t (S), zero where no target
  const errs: (Vec | null)[] = []; // ŷ_t − y_t (O) or null
  let loss = 0;
  let prev = zerosV(S);
  for (let t = 0; t < T; t++) {
    const x = cs.inputs[t]!;
    const step = isLstm
      ? lstmStep(cs.params.W_ih as Mat, cs.params.W_hh as Mat, cs.params.b as Vec, P, x, prev)
      : rnnStep(cs.cell.type === 'rnn' ? cs.cell.activation : 'identity', cs.params.W_in as Mat, cs.params.W_rec as Mat, cs.params.b as Vec, P, x, prev);
    states.push(step.s);
    Js.push(step.J);
    Ds.push(step.D);
    const h = step.s.slice(0, H);
    const y = cs.targets[t];
    if (y === null || y === undefined) {
      errs.push(null);
      ls.push(zerosV(S));
    } else {
      const e = subV(addV(matVec(Wout, h), bout), y);
      loss += 0.5 * dot(e, e);
      errs.push(e);
      ls.push([...vecMat(e, Wout), ...zerosV(S - H)]);
    }
    prev = step.s;
  }

  // ---- readout gradients (the same for BPTT and SG): Σ_t e_t h_tᵀ and Σ_t e_t
  const gWout = zerosM(O, H);
  const gbout = zerosV(O);
  errs.forEach((e, t) => {
    if (e === null) return;
    for (let o = 0; o < O; o++) {
      gbout[o]! += e[o]!;
      for (let k = 0; k < H; k++) gWout[o]![k]! += e[o]! * states[t]![k]!;
    }
  });

  // ---- BPTT for the recurrent parameters in forward mode (RTRL)
  let M = zerosM(S, P);
  let gRec = zerosV(P);
  for (let t = 0; t < T; t++) {
    M = addM(matMat(Js[t]!, M), Ds[t]!);
    gRec = addV(gRec, vecMat(ls[t]!, M));
  }
  const bpttGradients = { ...unflatten(slots, gRec), W_out: gWout.map((r) => [...r]), b_out: [...gbout] };

  // ---- future gradients by explicit products: G_t = Σ_{k=t+1}^{T} γ^{k-t-1} l_k Φ_{k,t}
  const futureGradients: Mat = [];
  for (let t = 1; t <= T - 1; t++) {
    let G = zerosV(S);
    let Phi = identityM(S); // Φ_{t,t}
    for (let k = t + 1; k <= T; k++) {
      Phi = matMat(Js[k - 1]!, Phi); // Φ_{k,t} = J_k Φ_{k-1,t}
      G = addV(G, scaleV(gamma ** (k - t - 1), vecMat(ls[k - 1]!, Phi)));
    }
    futureGradients.push(G);
  }

  // ---- synthetic gradients ĝ_t = W s_t + b (t < T), ĝ_T = 0
  const Wsyn = cs.synthesiser.W;
  const bsyn = cs.synthesiser.b;
  const ghat: Vec[] = states.map((s, t) => (t === T - 1 ? zerosV(S) : addV(matVec(Wsyn, s), bsyn)));

  // ---- λ-targets by the recursion (index t-1 holds G^λ_t; G^λ_T = 0)
  const lambdaAll: Vec[] = Array.from({ length: T }, () => zerosV(S));
  for (let t = T - 1; t >= 1; t--) {
    const inner = addV(ls[t]!, scaleV(gamma, addV(scaleV(1 - lambda, ghat[t]!), scaleV(lambda, lambdaAll[t]!))));
    lambdaAll[t - 1] = vecMat(inner, Js[t]!);
  }
  const lambdaTargets = lambdaAll.slice(0, T - 1);

  // ---- TD errors δ_t = (l_{t+1} + γ ĝ_{t+1}) J_{t+1} − ĝ_t
  const tdErrors: Mat = [];
  for (let t = 1; t <= T - 1; t++) tdErrors.push(subV(vecMat(addV(ls[t]!, scaleV(gamma, ghat[t]!)), Js[t]!), ghat[t - 1]!));

  // ---- ∇_θ ĝ_t as an explicit S×(S·S+S) matrix: column j*S+k is W[j][k], column S*S+j is b[j]
  const Q = S * S + S;
  const gradG = (s: Vec): Mat => {
    const G = zerosM(S, Q);
    for (let i = 0; i < S; i++) {
      for (let k = 0; k < S; k++) G[i]![i * S + k] = s[k]!;
      G[i]![S * S + i] = 1;
    }
    return G;
  };
  const splitTheta = (v: Vec): { W: Mat; b: Vec } => ({
    W: Array.from({ length: S }, (_, j) => v.slice(j * S, (j + 1) * S)),
    b: v.slice(S * S),
  });

  // backward view with explicit traces
  let E = zerosM(S, Q);
  let back = zerosV(Q);
  for (let t = 1; t <= T - 1; t++) {
    E = addM(scaleM(gamma * lambda, matMat(Js[t - 1]!, E)), gradG(states[t - 1]!));
    back = addV(back, vecMat(tdErrors[t - 1]!, E));
  }
  // forward view: Σ (G^λ_t − ĝ_t) ∇_θ ĝ_t, written out as outer products
  const fwdW = zerosM(S, S);
  const fwdB = zerosV(S);
  for (let t = 1; t <= T - 1; t++) {
    const d = subV(lambdaTargets[t - 1]!, ghat[t - 1]!);
    for (let j = 0; j < S; j++) {
      fwdB[j]! += d[j]!;
      for (let k = 0; k < S; k++) fwdW[j]![k]! += d[j]! * states[t - 1]![k]!;
    }
  }

  // ---- SG gradient: Σ_t (l_t + ĝ_t) ∂s_t/∂Ψ (immediate), readout as in BPTT
  let gSg = zerosV(P);
  for (let t = 0; t < T; t++) gSg = addV(gSg, vecMat(addV(ls[t]!, ghat[t]!), Ds[t]!));
  const sgGradients = { ...unflatten(slots, gSg), W_out: gWout.map((r) => [...r]), b_out: [...gbout] };

  return {
    format: 'bplambda-oracle/1',
    loss,
    states,
    bpttGradients,
    futureGradients,
    syntheticGradients: ghat.slice(0, T - 1),
    lambdaTargets,
    tdErrors,
    synthesiserUpdate: splitTheta(back),
    forwardViewUpdate: { W: fwdW, b: fwdB },
    sgGradients,
  };
};

// ---------------------------------------------------------------------------------------------------------
// Helpers for tests: a third method (central finite differences) and comparison.

/** The total loss of a case, recomputed by a plain forward pass (for finite differences). */
export const caseLoss = (cs: IndependentCase): number => {
  const Wout = cs.params.W_out as Mat;
  const bout = cs.params.b_out as Vec;
  const H = Wout[0]!.length;
  const isLstm = cs.cell.type === 'lstm';
  let h = zerosV(H);
  let c = zerosV(H);
  let L = 0;
  cs.inputs.forEach((x, t) => {
    if (isLstm) {
      const z = addV(addV(matVec(cs.params.W_ih as Mat, x), matVec(cs.params.W_hh as Mat, h)), cs.params.b as Vec);
      c = c.map((cp, k) => sigma(z[H + k]!) * cp + sigma(z[k]!) * Math.tanh(z[2 * H + k]!));
      h = c.map((ck, k) => sigma(z[3 * H + k]!) * Math.tanh(ck));
    } else {
      const a = addV(addV(matVec(cs.params.W_in as Mat, x), matVec(cs.params.W_rec as Mat, h)), cs.params.b as Vec);
      h = a.map((ai) => act((cs.cell as { activation: Activation }).activation, ai));
    }
    const y = cs.targets[t];
    if (y) {
      const e = subV(addV(matVec(Wout, h), bout), y);
      L += 0.5 * dot(e, e);
    }
  });
  return L;
};

/** Central finite-difference gradient of the loss with respect to every parameter entry (same names and shapes). */
export const finiteDifferenceGradients = (cs: IndependentCase, eps = 1e-6): Record<string, Mat | Vec> => {
  const out: Record<string, Mat | Vec> = {};
  const clone = (): IndependentCase => JSON.parse(JSON.stringify(cs)) as IndependentCase;
  for (const [name, value] of Object.entries(cs.params)) {
    const fd = (mutate: (p: IndependentCase, d: number) => void): number => {
      const plus = clone();
      mutate(plus, eps);
      const minus = clone();
      mutate(minus, -eps);
      return (caseLoss(plus) - caseLoss(minus)) / (2 * eps);
    };
    if (Array.isArray(value[0])) {
      out[name] = (value as Mat).map((row, i) => row.map((_, j) => fd((p, d) => ((p.params[name] as Mat)[i]![j]! += d))));
    } else {
      out[name] = (value as Vec).map((_, i) => fd((p, d) => ((p.params[name] as Vec)[i]! += d)));
    }
  }
  return out;
};

/** Max over all leaves of |a − b| / max(1, |b|); throws if the two structures differ in shape or keys. */
export const maxRelativeDifference = (a: unknown, b: unknown, path = '$'): number => {
  if (typeof b === 'number') {
    if (typeof a !== 'number') throw new Error(`${path}: expected a number, got ${JSON.stringify(a)?.slice(0, 80)}`);
    if (!Number.isFinite(a)) throw new Error(`${path}: non-finite ${a}`);
    return Math.abs(a - b) / Math.max(1, Math.abs(b));
  }
  if (Array.isArray(b)) {
    if (!Array.isArray(a)) throw new Error(`${path}: expected an array`);
    if (a.length !== b.length) throw new Error(`${path}: length ${a.length}, expected ${b.length}`);
    return b.reduce((m: number, bi, i) => Math.max(m, maxRelativeDifference(a[i], bi, `${path}[${i}]`)), 0);
  }
  if (b !== null && typeof b === 'object') {
    if (a === null || typeof a !== 'object' || Array.isArray(a)) throw new Error(`${path}: expected an object`);
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join(',') !== kb.join(',')) throw new Error(`${path}: keys ${ka.join(',')}, expected ${kb.join(',')}`);
    return kb.reduce((m, k) => Math.max(m, maxRelativeDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)), 0);
  }
  if (a !== b) throw new Error(`${path}: ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
  return 0;
};

/** Per-field maximum relative difference (top-level keys of the result). */
export const fieldDifferences = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const k of Object.keys(b)) out[k] = maxRelativeDifference(a[k], b[k], k);
  return out;
};

// ---------------------------------------------------------------------------------------------------------
// A small seeded generator (mulberry32), independent of the library's.

export const mulberry32 = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const randomMatrix = (rand: () => number, rows: number, cols: number, scale: number): Mat =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * (2 * rand() - 1)));
export const randomVector = (rand: () => number, n: number, scale: number): Vec => Array.from({ length: n }, () => scale * (2 * rand() - 1));
