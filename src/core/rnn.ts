/**
 * Vanilla RNN cell: h_t = f(W_in x_t + W_rec h_{t-1} + b), s_t = h_t.
 * Parameters: W_in (H×I), W_rec (H×H), b (H). Activations: identity, tanh, sigmoid, relu.
 */
import type { Cell, CellStep } from './cell.js';
import { RULES, numberField, oneOfField, parseConfig, record } from './schema.js';
import { type Mat, type Params, matvec, outer, vadd, vmul, tensor } from './tensor.js';

export const ACTIVATIONS = ['identity', 'tanh', 'sigmoid', 'relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

interface ActivationFns {
  readonly f: (a: number) => number;
  /** f'(a), as a function of the pre-activation a. */
  readonly df: (a: number) => number;
}

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

export const activationFns: Readonly<Record<Activation, ActivationFns>> = {
  identity: { f: (a) => a, df: () => 1 },
  tanh: { f: Math.tanh, df: (a) => { const t = Math.tanh(a); return 1 - t * t; } },
  sigmoid: { f: sigmoid, df: (a) => sigmoid(a) * (1 - sigmoid(a)) },
  // relu'(0) is taken as 0 (the subgradient PyTorch uses).
  relu: { f: (a) => (a > 0 ? a : 0), df: (a) => (a > 0 ? 1 : 0) },
};

const get = (p: Params, k: string) => {
  const t = p[k];
  if (t === undefined) throw new RangeError(`RNN parameter ${k} is missing`);
  return t;
};

export interface RnnConfig {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly activation: Activation;
}

const rnnConfigSchema = record({ inputSize: numberField(RULES.count), hiddenSize: numberField(RULES.count), activation: oneOfField(ACTIVATIONS) });

export const rnnCell = (config: RnnConfig): Cell => {
  const { inputSize: I, hiddenSize: H, activation } = parseConfig(rnnConfigSchema, config, 'cell');
  const act = activationFns[activation];
  const fprime = (step: CellStep): Float64Array => step.cache['a']!.map(act.df);
  const immediate = (step: CellStep, g: Float64Array): Params => {
    const delta = vmul(g, fprime(step)); // gradient on the pre-activation a_t
    return { W_in: outer(delta, step.input), W_rec: outer(delta, step.prev), b: tensor([H], delta) };
  };
  return {
    type: 'rnn',
    activation,
    inputSize: I,
    hiddenSize: H,
    stateSize: H,
    paramShapes: { W_in: [H, I], W_rec: [H, H], b: [H] },
    step(params, prev, input) {
      const a = vadd(vadd(matvec(get(params, 'W_in'), input), matvec(get(params, 'W_rec'), prev)), get(params, 'b').data);
      return { prev, input, state: a.map(act.f), cache: { a } };
    },
    jacobian(params, step): Mat {
      // J[i,j] = f'(a_i) W_rec[i,j]
      const w = get(params, 'W_rec').data;
      const d = fprime(step);
      const o = new Float64Array(H * H);
      for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) o[i * H + j] = d[i]! * w[i * H + j]!;
      return { shape: [H, H], data: o };
    },
    vjpParams: (_params, step, g) => immediate(step, g),
    eprop: {
      // Without a leak, the RNN's eligibility traces are its immediate derivatives: nothing to carry.
      init: () => ({}),
      advance: (_params, traces) => traces,
      gradient: (_params, _traces, step, signal) => immediate(step, signal),
    },
  };
};
