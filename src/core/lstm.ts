/**
 * LSTM cell with one bias vector and gate order input, forget, candidate, output (PyTorch's order):
 *   z = W_ih x_t + W_hh h_{t-1} + b,  i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
 *   c_t = f⊙c_{t-1} + i⊙g,  h_t = o⊙tanh(c_t),  s_t = [h_t; c_t]  (S = 2H)
 * Parameters: W_ih (4H×I), W_hh (4H×H), b (4H), row blocks in gate order.
 */
import type { Cell, CellStep } from './cell.js';
import { RULES, numberField, parseConfig, record } from './schema.js';
import { type Mat, type Params, type Tensor, matvec, outer, vadd, tensor } from './tensor.js';

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

const get = (p: Params, k: string): Tensor => {
  const t = p[k];
  if (t === undefined) throw new RangeError(`LSTM parameter ${k} is missing`);
  return t;
};

export interface LstmConfig {
  readonly inputSize: number;
  readonly hiddenSize: number;
}

/** Gate values and derived quantities of one step, read back from the step's cache. */
interface LstmParts {
  readonly i: Float64Array;
  readonly f: Float64Array;
  readonly g: Float64Array;
  readonly o: Float64Array;
  readonly cPrev: Float64Array;
  readonly hPrev: Float64Array;
  readonly tanhC: Float64Array;
  /** ψ_t = o⊙(1 − tanh² c_t) = diag ∂h_t/∂c_t */
  readonly psi: Float64Array;
}

const lstmParts = (H: number, step: CellStep): LstmParts => {
  const c = step.cache;
  return {
    i: c['i']!,
    f: c['f']!,
    g: c['g']!,
    o: c['o']!,
    cPrev: step.prev.subarray(H, 2 * H),
    hPrev: step.prev.subarray(0, H),
    tanhC: c['tanhC']!,
    psi: c['psi']!,
  };
};

/** Local derivatives of c_t with respect to each gate's pre-activation (the "post" factors of e-prop). */
const cellPosts = (p: LstmParts, H: number) => {
  const di = new Float64Array(H);
  const df = new Float64Array(H);
  const dg = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    di[k] = p.g[k]! * p.i[k]! * (1 - p.i[k]!);
    df[k] = p.cPrev[k]! * p.f[k]! * (1 - p.f[k]!);
    dg[k] = p.i[k]! * (1 - p.g[k]! * p.g[k]!);
  }
  return { di, df, dg };
};

/** D_t = ∂c_t/∂h_{t-1} (H×H). */
const lstmCellInputJacobian = (params: Params, H: number, step: CellStep): Mat => {
  const w = get(params, 'W_hh').data;
  const { di, df, dg } = cellPosts(lstmParts(H, step), H);
  const o = new Float64Array(H * H);
  for (let k = 0; k < H; k++)
    for (let j = 0; j < H; j++)
      o[k * H + j] = di[k]! * w[k * H + j]! + df[k]! * w[(H + k) * H + j]! + dg[k]! * w[(2 * H + k) * H + j]!;
  return { shape: [H, H], data: o };
};

/** Gradient on the gate pre-activations z (4H) from gradients on h_t and on c_t (immediate, s_{t-1} fixed). */
const preactivationGrad = (p: LstmParts, H: number, gh: Float64Array, gc: Float64Array): Float64Array => {
  const { di, df, dg } = cellPosts(p, H);
  const dz = new Float64Array(4 * H);
  for (let k = 0; k < H; k++) {
    const gck = gc[k]! + gh[k]! * p.psi[k]!;
    dz[k] = gck * di[k]!;
    dz[H + k] = gck * df[k]!;
    dz[2 * H + k] = gck * dg[k]!;
    dz[3 * H + k] = gh[k]! * p.tanhC[k]! * p.o[k]! * (1 - p.o[k]!);
  }
  return dz;
};

const GATES = ['i', 'f', 'g'] as const;

const lstmConfigSchema = record({ inputSize: numberField(RULES.count), hiddenSize: numberField(RULES.count) });

export const lstmCell = (config: LstmConfig): Cell => {
  const { inputSize: I, hiddenSize: H } = parseConfig(lstmConfigSchema, config, 'cell');
  const fromPreGrad = (dz: Float64Array, step: CellStep): Params => ({
    W_ih: outer(dz, step.input),
    W_hh: outer(dz, step.prev.subarray(0, H)),
    b: tensor([4 * H], dz),
  });
  return {
    type: 'lstm',
    inputSize: I,
    hiddenSize: H,
    stateSize: 2 * H,
    paramShapes: { W_ih: [4 * H, I], W_hh: [4 * H, H], b: [4 * H] },
    memory: { offset: H, size: H, outputGain: (_params, step) => lstmParts(H, step).psi },
    step(params, prev, input) {
      const hPrev = prev.subarray(0, H);
      const cPrev = prev.subarray(H, 2 * H);
      const z = vadd(vadd(matvec(get(params, 'W_ih'), input), matvec(get(params, 'W_hh'), hPrev)), get(params, 'b').data);
      const i = new Float64Array(H);
      const f = new Float64Array(H);
      const g = new Float64Array(H);
      const o = new Float64Array(H);
      const tanhC = new Float64Array(H);
      const psi = new Float64Array(H);
      const state = new Float64Array(2 * H);
      for (let k = 0; k < H; k++) {
        i[k] = sigmoid(z[k]!);
        f[k] = sigmoid(z[H + k]!);
        g[k] = Math.tanh(z[2 * H + k]!);
        o[k] = sigmoid(z[3 * H + k]!);
        const c = f[k]! * cPrev[k]! + i[k]! * g[k]!;
        tanhC[k] = Math.tanh(c);
        psi[k] = o[k]! * (1 - tanhC[k]! * tanhC[k]!);
        state[k] = o[k]! * tanhC[k]!;
        state[H + k] = c;
      }
      return { prev, input, state, cache: { i, f, g, o, tanhC, psi } };
    },
    jacobian(params, step): Mat {
      // Rows [h_t; c_t], columns [h_{t-1}; c_{t-1}].
      const p = lstmParts(H, step);
      const D = lstmCellInputJacobian(params, H, step).data;
      const w = get(params, 'W_hh').data;
      const S = 2 * H;
      const J = new Float64Array(S * S);
      for (let k = 0; k < H; k++) {
        const oPost = p.tanhC[k]! * p.o[k]! * (1 - p.o[k]!);
        for (let j = 0; j < H; j++) {
          const dcdh = D[k * H + j]!;
          J[k * S + j] = oPost * w[(3 * H + k) * H + j]! + p.psi[k]! * dcdh; // ∂h/∂h_prev
          J[(H + k) * S + j] = dcdh; // ∂c/∂h_prev
        }
        J[k * S + H + k] = p.psi[k]! * p.f[k]!; // ∂h/∂c_prev (diagonal)
        J[(H + k) * S + H + k] = p.f[k]!; // ∂c/∂c_prev (diagonal)
      }
      return { shape: [S, S], data: J };
    },
    vjpParams(_params, step, g) {
      const dz = preactivationGrad(lstmParts(H, step), H, g.subarray(0, H), g.subarray(H, 2 * H));
      return fromPreGrad(dz, step);
    },
    eprop: {
      // ε^{gate} for gates i, f, g and each presynaptic source (x_t, h_{t-1}, 1):
      //   ε_t = f_t ⊙ ε_{t-1} + post_t ⊗ pre_t  (∂c_t/∂W following c's self-recurrence, h_{t-1} fixed).
      init: () =>
        Object.fromEntries(
          GATES.flatMap((gate) => [
            [`${gate}_ih`, tensor([H, I])],
            [`${gate}_hh`, tensor([H, H])],
            [`${gate}_b`, tensor([H])],
          ]),
        ),
      advance(_params, traces, step) {
        const p = lstmParts(H, step);
        const posts = cellPosts(p, H);
        const post = { i: posts.di, f: posts.df, g: posts.dg };
        const out: Record<string, Tensor> = {};
        for (const gate of GATES) {
          for (const [suffix, pre] of [
            ['ih', step.input],
            ['hh', p.hPrev],
            ['b', new Float64Array([1])],
          ] as const) {
            const key = `${gate}_${suffix}`;
            const prevTrace = traces[key]!;
            const n = pre.length;
            const d = new Float64Array(H * n);
            for (let k = 0; k < H; k++) {
              const fk = p.f[k]!;
              const pk = post[gate][k]!;
              for (let j = 0; j < n; j++) d[k * n + j] = fk * prevTrace.data[k * n + j]! + pk * pre[j]!;
            }
            out[key] = { shape: prevTrace.shape, data: d };
          }
        }
        return out;
      },
      gradient(_params, traces, step, signal) {
        const p = lstmParts(H, step);
        const gih = new Float64Array(4 * H * I);
        const ghh = new Float64Array(4 * H * H);
        const gb = new Float64Array(4 * H);
        GATES.forEach((gate, gi) => {
          const tih = traces[`${gate}_ih`]!.data;
          const thh = traces[`${gate}_hh`]!.data;
          const tb = traces[`${gate}_b`]!.data;
          for (let k = 0; k < H; k++) {
            const s = signal[k]! * p.psi[k]!;
            const row = gi * H + k;
            for (let j = 0; j < I; j++) gih[row * I + j] = s * tih[k * I + j]!;
            for (let j = 0; j < H; j++) ghh[row * H + j] = s * thh[k * H + j]!;
            gb[row] = s * tb[k]!;
          }
        });
        // Output gate: e^o_t = (tanh c_t ⊙ o(1−o)) ⊗ pre_t, no recursion.
        for (let k = 0; k < H; k++) {
          const s = signal[k]! * p.tanhC[k]! * p.o[k]! * (1 - p.o[k]!);
          const row = 3 * H + k;
          for (let j = 0; j < I; j++) gih[row * I + j] = s * step.input[j]!;
          for (let j = 0; j < H; j++) ghh[row * H + j] = s * p.hPrev[j]!;
          gb[row] = s;
        }
        return { W_ih: tensor([4 * H, I], gih), W_hh: tensor([4 * H, H], ghh), b: tensor([4 * H], gb) };
      },
    },
  };
};
