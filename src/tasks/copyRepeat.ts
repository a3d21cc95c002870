/**
 * The copy-repeat task (NTM-style, as Jaderberg et al. and the authors use it; spec §8.8) and its curriculum.
 *
 * With bit width d: inputs have d + 2 channels, targets d + 1; a pattern of N random d-bit vectors is shown,
 * followed by the repeat count R (normalised by 10) and the network must output the pattern R times, then an
 * end delimiter. Sequence length T = (R + 1)·N + 3. Step layout (0-based):
 *
 *   0            start delimiter (input channel d = 1)                      no target
 *   1 … N        pattern bits (input channels 0..d−1)                        no target
 *   N+1          repeat count R/10 in input channel d+1                      no target
 *   N+2 … T−2    zero input                                                  the pattern tiled R times
 *   T−1          zero input                                                  end delimiter (target channel d = 1)
 *
 * The loss is binary cross-entropy on every target step. Curriculum: start at N = 1, R = 1; after every batch
 * whose loss per target bit is below the threshold (0.15 bits), advance: R += 1 if R < N, else N += 1, giving
 * (1,1) → (2,1) → (2,2) → (3,2) → (3,3) → …
 */
import { InvalidInputError } from '../core/errors.js';
import type { Batch, Sequence } from '../core/model.js';
import { type Rng, uniforms } from '../core/random.js';

export interface CopyRepeatConfig {
  /** Bit width d of the pattern vectors (the paper: 8). */
  readonly bits: number;
  /** Normalisation of the repeat count input (the authors: 10). */
  readonly normRepeat: number;
}

export const defaultCopyRepeat: CopyRepeatConfig = { bits: 8, normRepeat: 10 };

export const copyRepeatInputSize = (c: CopyRepeatConfig): number => c.bits + 2;
export const copyRepeatOutputSize = (c: CopyRepeatConfig): number => c.bits + 1;

/** T = (R + 1)·N + 3. */
export const copyRepeatLength = (n: number, r: number): number => (r + 1) * n + 3;

/** Number of steps with a target: R·N + 1. */
export const copyRepeatTargetSteps = (n: number, r: number): number => r * n + 1;

const checkLevel = (n: number, r: number): void => {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError('N', 'an integer ≥ 1', `is ${n}`);
  if (!Number.isInteger(r) || r < 1) throw new InvalidInputError('R', 'an integer ≥ 1', `is ${r}`);
};

/** One sequence for a given pattern (N rows of d bits, 0/1). */
export const copyRepeatSequence = (c: CopyRepeatConfig, pattern: readonly Float64Array[], r: number): Sequence => {
  const n = pattern.length;
  checkLevel(n, r);
  const d = c.bits;
  const T = copyRepeatLength(n, r);
  const inputs: Float64Array[] = [];
  const targets: (Float64Array | null)[] = [];
  for (let t = 0; t < T; t++) {
    const x = new Float64Array(d + 2);
    let y: Float64Array | null = null;
    if (t === 0) x[d] = 1;
    else if (t <= n) x.set(pattern[t - 1]!, 0);
    else if (t === n + 1) x[d + 1] = r / c.normRepeat;
    else if (t < T - 1) {
      y = new Float64Array(d + 1);
      y.set(pattern[(t - n - 2) % n]!, 0);
    } else {
      y = new Float64Array(d + 1);
      y[d] = 1;
    }
    inputs.push(x);
    targets.push(y);
  }
  return { inputs, targets };
};

/** A random pattern of N vectors of d fair bits. */
export const randomPattern = (c: CopyRepeatConfig, n: number, rng: Rng): [Float64Array[], Rng] => {
  const [u, next] = uniforms(rng, n * c.bits);
  return [Array.from({ length: n }, (_, i) => u.slice(i * c.bits, (i + 1) * c.bits).map((v) => (v < 0.5 ? 1 : 0))), next];
};

export const copyRepeatBatch = (c: CopyRepeatConfig, n: number, r: number, batchSize: number, rng: Rng): [Batch, Rng] => {
  checkLevel(n, r);
  let g = rng;
  const batch: Sequence[] = [];
  for (let b = 0; b < batchSize; b++) {
    const [p, g1] = randomPattern(c, n, g);
    g = g1;
    batch.push(copyRepeatSequence(c, p, r));
  }
  return [batch, g];
};

// ---------------------------------------------------------------------------------------------------
// Curriculum

export interface Curriculum {
  readonly n: number;
  readonly r: number;
  /** Levels passed so far. */
  readonly advances: number;
  /** Longest sequence length of a level passed (0 before the first). */
  readonly solvedLength: number;
}

export const curriculumStart: Curriculum = { n: 1, r: 1, advances: 0, solvedLength: 0 };

/** The level after (N, R): R + 1 if R < N, else N + 1 (R unchanged). */
export const nextLevel = (n: number, r: number): { n: number; r: number } => (r < n ? { n, r: r + 1 } : { n: n + 1, r });

/**
 * The curriculum after a batch with the given loss in bits per target bit: advance when it is below the
 * threshold (strictly, as the authors' `<`).
 */
export const curriculumUpdate = (c: Curriculum, bitsPerBit: number, threshold = 0.15): Curriculum => {
  if (!(bitsPerBit < threshold)) return c;
  const { n, r } = nextLevel(c.n, c.r);
  return { n, r, advances: c.advances + 1, solvedLength: Math.max(c.solvedLength, copyRepeatLength(c.n, c.r)) };
};

/**
 * Loss per target bit in bits, from the batch-mean sequence loss (BCE summed over target steps and channels, in
 * nats): the authors' mean over batch, steps and the d + 1 channels, divided by ln 2.
 */
export const bitsPerBit = (c: CopyRepeatConfig, n: number, r: number, meanSequenceLoss: number): number =>
  meanSequenceLoss / (copyRepeatTargetSteps(n, r) * copyRepeatOutputSize(c)) / Math.LN2;
