/**
 * Parameter initialisers matching common practice (PyTorch's defaults, as the authors' code uses them):
 * recurrent and input weights U(±1/√H); the single bias is the sum of two U(±1/√H) draws (PyTorch's b_ih + b_hh);
 * readout W_out U(±1/√H) (kaiming_uniform with a = √5) and b_out U(±1/√H); synthesisers zero in their last layer.
 */
import type { Model } from './model.js';
import { modelShapes } from './model.js';
import type { Rng } from './random.js';
import { uniformRange } from './random.js';
import type { Synthesiser } from './synthesiser.js';
import { type Params, type Tensor, size, vadd } from './tensor.js';

const uniformTensor = (rng: Rng, shape: readonly number[], bound: number): [Tensor, Rng] => {
  const [d, next] = uniformRange(rng, size(shape), -bound, bound);
  return [{ shape: [...shape], data: d }, next];
};

export const initModel = (model: Model, rng: Rng): [Params, Rng] => {
  const bound = 1 / Math.sqrt(model.cell.hiddenSize);
  const out: Record<string, Tensor> = {};
  let r = rng;
  for (const [name, shape] of Object.entries(modelShapes(model))) {
    const [t, r1] = uniformTensor(r, shape, bound);
    r = r1;
    if (name === 'b') {
      const [t2, r2] = uniformTensor(r, shape, bound);
      r = r2;
      out[name] = { shape: t.shape, data: vadd(t.data, t2.data) };
    } else out[name] = t;
  }
  return [out, r];
};

/**
 * Synthesiser parameters: the last layer (W, b for the linear synthesiser; W_L, b_L for the MLP; the table of a
 * tabular one) is zero, so ĝ ≡ 0 at the start; hidden layers of an MLP get U(±1/√fan_in).
 */
export const initSynthesiser = (synth: Synthesiser, rng: Rng): [Params, Rng] => {
  const entries = Object.entries(synth.paramShapes);
  const lastLayer = new Set(entries.slice(-2).map(([k]) => k));
  const out: Record<string, Tensor> = {};
  let r = rng;
  for (const [name, shape] of entries) {
    if (synth.type !== 'mlp' || lastLayer.has(name)) {
      out[name] = { shape: [...shape], data: new Float64Array(size(shape)) };
      continue;
    }
    const layer = name.split('_')[1]!;
    const fanIn = synth.paramShapes[`W_${layer}`]![1]!;
    const [t, r1] = uniformTensor(r, shape, 1 / Math.sqrt(fanIn));
    out[name] = t;
    r = r1;
  }
  return [out, r];
};
