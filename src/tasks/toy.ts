/**
 * The toy task of the paper (spec §8.8, the authors' `linedraw_continuous` dataset).
 *
 * A binary code of `inputDim` bits is shown at the first step only (later inputs are zero, plus optional Gaussian
 * noise at every step); the target is the point `mag·(sin φ_k, cos φ_k)`, φ_k = 2πk/npoints, at the last step
 * ("target reaching", the alignment experiment) or the straight line from the origin to it at every step ("line
 * drawing"). Each example draws its pattern k uniformly. The paper's alignment run uses one pattern: x₁ =
 * binary(833) = [1,1,0,1,0,0,0,0,0,1], y_T = (0, 1).
 */
import { InvalidInputError } from '../core/errors.js';
import type { Batch, Sequence } from '../core/model.js';
import { type Rng, normals, randomInt } from '../core/random.js';

/**
 * The codes of the authors' `np.random.RandomState(123).choice(2**10, npoints)`: a prefix of this list is the
 * code set for every npoints ≤ 6 (the draws are with replacement, so the first draws do not depend on npoints).
 */
export const TOY_CODES: readonly number[] = [833, 990, 789, 235, 945, 965];

export interface ToyTaskConfig {
  /** Sequence length T (the paper: 10; up to 60 in the learning-RNN variant). */
  readonly seqLen: number;
  /** Number of distinct patterns (1..6; the alignment run uses 1). */
  readonly npoints: number;
  /** Bits of the input code (the codes are < 1024, so 10 or more). */
  readonly inputDim: number;
  /** Radius of the target points. */
  readonly mag: number;
  /** true: target at the last step only (target reaching); false: the whole line (line drawing). */
  readonly endOnly: boolean;
  /** Standard deviation of Gaussian noise added to every input (0: none). */
  readonly noise: number;
}

export const defaultToyTask: ToyTaskConfig = { seqLen: 10, npoints: 1, inputDim: 10, mag: 1, endOnly: true, noise: 0 };

export const checkToyTask = (c: ToyTaskConfig, path = 'task'): void => {
  if (!Number.isInteger(c.seqLen) || c.seqLen < 2) throw new InvalidInputError(`${path}.seqLen`, 'an integer ≥ 2', `is ${c.seqLen}`);
  if (!Number.isInteger(c.npoints) || c.npoints < 1 || c.npoints > TOY_CODES.length)
    throw new InvalidInputError(`${path}.npoints`, `an integer from 1 to ${TOY_CODES.length}`, `is ${c.npoints}`);
  if (!Number.isInteger(c.inputDim) || c.inputDim < 10 || c.inputDim > 31)
    throw new InvalidInputError(`${path}.inputDim`, 'an integer from 10 to 31 (the codes need 10 bits)', `is ${c.inputDim}`);
  if (!(c.mag > 0 && Number.isFinite(c.mag))) throw new InvalidInputError(`${path}.mag`, 'a positive number', `is ${c.mag}`);
  if (!(c.noise >= 0 && Number.isFinite(c.noise))) throw new InvalidInputError(`${path}.noise`, 'a number ≥ 0', `is ${c.noise}`);
};

/** `value` in binary, most significant bit first, right-aligned in `bits` entries. */
export const binaryCode = (value: number, bits: number): Float64Array => {
  const out = new Float64Array(bits);
  for (let i = 0; i < bits; i++) out[bits - 1 - i] = (value >>> i) & 1;
  return out;
};

/** The target point of pattern k. */
export const toyPoint = (c: ToyTaskConfig, k: number): Float64Array => {
  const phi = (2 * Math.PI * k) / c.npoints;
  return Float64Array.from([c.mag * Math.sin(phi), c.mag * Math.cos(phi)]);
};

/** The noise-free sequence of pattern k. */
export const toySequence = (c: ToyTaskConfig, k: number): Sequence => {
  const T = c.seqLen;
  const code = binaryCode(TOY_CODES[k]!, c.inputDim);
  const point = toyPoint(c, k);
  const inputs = Array.from({ length: T }, (_, t) => (t === 0 ? code : new Float64Array(c.inputDim)));
  // Line drawing: linspace(0, point, T), as numpy's linspace (first sample at the origin).
  const targets = Array.from({ length: T }, (_, t) => {
    if (c.endOnly) return t === T - 1 ? point : null;
    const a = T === 1 ? 1 : t / (T - 1);
    return Float64Array.from([a * point[0]!, a * point[1]!]);
  });
  return { inputs, targets };
};

/** A batch: each example draws its pattern uniformly, then noise is added to its inputs. */
export const toyBatch = (c: ToyTaskConfig, batchSize: number, rng: Rng): [Batch, Rng] => {
  let r = rng;
  const batch: Sequence[] = [];
  for (let b = 0; b < batchSize; b++) {
    const [k, r1] = c.npoints === 1 ? [0, r] : randomInt(r, c.npoints);
    r = r1;
    const seq = toySequence(c, k);
    if (c.noise === 0) {
      batch.push(seq);
      continue;
    }
    const inputs = seq.inputs.map((x) => {
      const [n, r2] = normals(r, x.length);
      r = r2;
      return x.map((v, i) => v + c.noise * n[i]!);
    });
    batch.push({ inputs, targets: seq.targets });
  }
  return [batch, r];
};
