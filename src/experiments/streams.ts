/** The independent random streams of a run: model initialisation, training data, the data split. */
import { type Rng, rngFromSeed, split } from '../core/random.js';

export const runStreams = (seed: number): { init: Rng; data: Rng; split: Rng } => {
  const [a, init] = split(rngFromSeed(seed));
  const [b, data] = split(a);
  const [, splitRng] = split(b);
  return { init, data, split: splitRng };
};
