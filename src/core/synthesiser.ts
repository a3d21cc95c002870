/**
 * Synthesisers: differentiable maps ĝ(s; θ) from a state to a predicted future gradient.
 *
 * Each gives its prediction and the Jacobian ∂ĝ/∂θ as an out×P matrix, P the number of parameters, columns in
 * the key order of `paramShapes` (the order `flattenParams` uses). The Jacobians are written by hand.
 */
import { z } from 'zod';
import { RULES, checkNumber, numberField, parseConfig } from './schema.js';
import { type Mat, type ParamShapes, type Params, type Tensor, matvec, paramCount, tensor } from './tensor.js';

export interface Synthesiser {
  readonly type: 'linear' | 'mlp' | 'tabular';
  readonly inputSize: number;
  readonly outputSize: number;
  readonly paramShapes: ParamShapes;
  /** ĝ for the state `input` at time step t (1-indexed; only the tabular synthesiser reads t). */
  predict(theta: Params, input: Float64Array, t: number): Float64Array;
  /** ∂ĝ/∂θ (out × P). */
  paramJacobian(theta: Params, input: Float64Array, t: number): Mat;
}

const get = (p: Params, k: string): Tensor => {
  const t = p[k];
  if (t === undefined) throw new RangeError(`synthesiser parameter ${k} is missing`);
  return t;
};

/** Linear synthesiser ĝ(s) = W s + b, W: out×in, b: out (zero-initialised by default, as in the paper). */
export const linearSynthesiser = (inputSize: number, outputSize: number): Synthesiser => {
  checkNumber('inputSize', inputSize, RULES.count);
  checkNumber('outputSize', outputSize, RULES.count);
  const shapes = { W: [outputSize, inputSize], b: [outputSize] };
  const P = paramCount(shapes);
  return {
    type: 'linear',
    inputSize,
    outputSize,
    paramShapes: shapes,
    predict(theta, input) {
      const y = matvec(get(theta, 'W'), input);
      const b = get(theta, 'b').data;
      // Stryker disable next-line EqualityOperator: with <= the extra index lies past the Float64Array's end, where writes are ignored (equivalent).
      for (let i = 0; i < outputSize; i++) y[i] += b[i]!;
      return y;
    },
    paramJacobian(_theta, input) {
      // ∂ĝ_i/∂W[i',k] = 1[i=i'] s_k ;  ∂ĝ_i/∂b[i'] = 1[i=i']  (block diagonal)
      const o = new Float64Array(outputSize * P);
      for (let i = 0; i < outputSize; i++) {
        o.set(input, i * P + i * inputSize);
        o[i * P + outputSize * inputSize + i] = 1;
      }
      return { shape: [outputSize, P], data: o };
    },
  };
};

/**
 * MLP synthesiser with ReLU hidden layers: a_0 = s, a_l = relu(W_{l-1} a_{l-1} + b_{l-1}) for hidden layers,
 * ĝ = W_L a_L + b_L. Parameters W_0, b_0, …, W_L, b_L. The last layer is zero-initialised (so ĝ ≡ 0 at start).
 */
export const mlpSynthesiser = (inputSize: number, hidden: readonly number[], outputSize: number): Synthesiser => {
  checkNumber('inputSize', inputSize, RULES.count);
  parseConfig(z.array(numberField(RULES.count), { error: 'a list of integers ≥ 1' }).min(1, { error: 'at least one hidden layer size (use linearSynthesiser for none)' }), hidden, 'hidden');
  checkNumber('outputSize', outputSize, RULES.count);
  const sizes = [inputSize, ...hidden, outputSize];
  const L = hidden.length; // index of the last layer
  const shapes: Record<string, readonly number[]> = {};
  for (let l = 0; l <= L; l++) {
    shapes[`W_${l}`] = [sizes[l + 1]!, sizes[l]!];
    shapes[`b_${l}`] = [sizes[l + 1]!];
  }
  const P = paramCount(shapes);
  const offsets: number[] = [];
  {
    let off = 0;
    for (let l = 0; l <= L; l++) {
      offsets.push(off);
      off += sizes[l + 1]! * sizes[l]! + sizes[l + 1]!;
    }
  }
  /** Layer inputs a_0..a_L and pre-activations z_0..z_{L-1} of the hidden layers. */
  const activations = (theta: Params, input: Float64Array) => {
    const as: Float64Array[] = [input];
    const zs: Float64Array[] = [];
    // Stryker disable next-line EqualityOperator: with <= a layer past the hidden ones is computed and never read (equivalent).
    for (let l = 0; l < L; l++) {
      const z = matvec(get(theta, `W_${l}`), as[l]!);
      const b = get(theta, `b_${l}`).data;
      // Stryker disable next-line EqualityOperator: with <= the extra index lies past the Float64Array's end, where writes are ignored (equivalent).
      for (let k = 0; k < z.length; k++) z[k] += b[k]!;
      zs.push(z);
      // Stryker disable next-line EqualityOperator: v >= 0 differs only at v = ±0, where it returns v, equal to 0 as a number (equivalent).
      as.push(z.map((v) => (v > 0 ? v : 0)));
    }
    return { as, zs };
  };
  return {
    type: 'mlp',
    inputSize,
    outputSize,
    paramShapes: shapes,
    predict(theta, input) {
      const { as } = activations(theta, input);
      const y = matvec(get(theta, `W_${L}`), as[L]!);
      const b = get(theta, `b_${L}`).data;
      // Stryker disable next-line EqualityOperator: with <= the extra index lies past the Float64Array's end, where writes are ignored (equivalent).
      for (let i = 0; i < outputSize; i++) y[i] += b[i]!;
      return y;
    },
    paramJacobian(theta, input) {
      const { as, zs } = activations(theta, input);
      const o = new Float64Array(outputSize * P);
      for (let i = 0; i < outputSize; i++) {
        const row = i * P;
        // Last layer: ∂ĝ_i/∂W_L[i,k] = a_L[k], ∂ĝ_i/∂b_L[i] = 1.
        const aL = as[L]!;
        const nL = sizes[L]!;
        o.set(aL, row + offsets[L]! + i * nL);
        o[row + offsets[L]! + outputSize * nL + i] = 1;
        // Back through the hidden layers: v = ∂ĝ_i/∂a_l, then ∂ĝ_i/∂z_{l-1} = v ⊙ relu'(z_{l-1}).
        let v: Float64Array = get(theta, `W_${L}`).data.slice(i * nL, (i + 1) * nL);
        for (let l = L - 1; l >= 0; l--) {
          const z = zs[l]!;
          const u = v.map((vk, k) => (z[k]! > 0 ? vk : 0)); // gradient on z_l
          const nIn = sizes[l]!;
          const nOut = sizes[l + 1]!;
          const a = as[l]!;
          for (let k = 0; k < nOut; k++) {
            const uk = u[k]!;
            // Stryker disable next-line ConditionalExpression: skipping u_k = 0 saves work only; writing 0·a gives ±0, equal to the 0 there (equivalent).
            if (uk === 0) continue;
            for (let j = 0; j < nIn; j++) o[row + offsets[l]! + k * nIn + j] = uk * a[j]!;
            o[row + offsets[l]! + nOut * nIn + k] = uk;
          }
          // Stryker disable next-line ConditionalExpression,EqualityOperator: at l = 0 the vector this computes is never read (the loop ends), so running it is equivalent.
          if (l > 0) {
            const W = get(theta, `W_${l}`).data;
            const nv = new Float64Array(nIn);
            for (let k = 0; k < nOut; k++) {
              const uk = u[k]!;
              // Stryker disable next-line ConditionalExpression: skipping u_k = 0 saves work only; adding 0·W changes no entry (equivalent).
              if (uk === 0) continue;
              // Stryker disable next-line EqualityOperator: with <= the extra index lies past the Float64Array's end, where writes are ignored (equivalent).
              for (let j = 0; j < nIn; j++) nv[j] += uk * W[k * nIn + j]!;
            }
            v = nv;
          }
        }
      }
      return { shape: [outputSize, P], data: o };
    },
  };
};

/**
 * Time-indexed (tabular) synthesiser: ĝ_t = table[t-1], ignoring the state. Its Jacobian selects row t-1.
 * It can represent any sequence of predictions exactly, e.g. the true future gradients (an "oracle" synthesiser
 * for the identities of the spec). Steps outside 1..rows predict 0.
 */
export const tabularSynthesiser = (steps: number, outputSize: number, inputSize: number): Synthesiser => {
  checkNumber('steps', steps, RULES.count);
  checkNumber('outputSize', outputSize, RULES.count);
  checkNumber('inputSize', inputSize, RULES.count);
  const shapes = { table: [steps, outputSize] };
  const P = steps * outputSize;
  return {
    type: 'tabular',
    inputSize,
    outputSize,
    paramShapes: shapes,
    predict(theta, _input, t) {
      if (t < 1 || t > steps) return new Float64Array(outputSize);
      return get(theta, 'table').data.slice((t - 1) * outputSize, t * outputSize);
    },
    paramJacobian(_theta, _input, t) {
      const o = new Float64Array(outputSize * P);
      if (t >= 1 && t <= steps)
        // Stryker disable next-line EqualityOperator: with <= the extra index lies past the Float64Array's end, where writes are ignored (equivalent).
        for (let i = 0; i < outputSize; i++) o[i * P + (t - 1) * outputSize + i] = 1;
      return { shape: [outputSize, P], data: o };
    },
  };
};

export const zeroSynthParams = (synth: Synthesiser): Params =>
  Object.fromEntries(Object.entries(synth.paramShapes).map(([k, s]) => [k, tensor(s)]));
