/**
 * The toy alignment experiment at the paper's settings (frozen linear RNN H 30, T 10, batch 10, 1000 synthesiser
 * updates with Adam lr 1e-4, γ = β = 1, the authors' target scale 1/B), against the acceptance criterion of the
 * experiments issue: after training, BP(1)'s alignment with BPTT is at least 0.9 at the first time step and at
 * least 0.8 averaged over the steps with a future gradient (t = 1..T−1), and BP(1) ≥ BP(0.5) ≥ BP(0) at t = 1,
 * for every seed 0..4.
 *
 * The thresholds are the issue's, not numbers read off our runs. The runs use the `reduced` preset: the paper's
 * settings without the authors' per-step clip of the synthesiser update, through the forward-view engine, so that
 * 15 runs take seconds instead of the step engine's minutes. The clip never binds here (step-engine runs with and
 * without it give identical numbers), and docs/results.md reports the criterion measured with it (`--preset
 * paper`), also met in every seed.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../src/experiments/config.js';
import { runExperiment } from '../src/experiments/run.js';

const finalAlignment = async (lambda: number, seed: number): Promise<number[]> => {
  const c = buildConfig('toy', 'reduced', { method: 'bp-lambda', lambda, seed, logEvery: 1000 });
  expect({ steps: c.steps, lrSynth: c.lrSynth, batch: c.batchSize, T: c.seqLen, hidden: c.hidden, lr: c.lr, scale: c.targetScale }).toEqual({
    steps: 1000, lrSynth: 1e-4, batch: 10, T: 10, hidden: 30, lr: 0, scale: 'batch',
  });
  return (await runExperiment(c)).summary.finalAlignment as number[];
};

describe('toy alignment at the paper settings (the issue criterion)', () => {
  for (const seed of [0, 1, 2, 3, 4])
    it(`seed ${seed}: BP(1) ≥ 0.9 at t = 1, ≥ 0.8 on average over t < T, and BP(1) ≥ BP(0.5) ≥ BP(0) at t = 1`, async () => {
      const [a0, a05, a1] = await Promise.all([0, 0.5, 1].map((l) => finalAlignment(l, seed)));
      const withFuture = a1!.slice(0, 9);
      const mean = withFuture.reduce((s, v) => s + v, 0) / withFuture.length;
      expect(a1![0]).toBeGreaterThanOrEqual(0.9);
      expect(mean).toBeGreaterThanOrEqual(0.8);
      expect(a1![0]).toBeGreaterThanOrEqual(a05![0]!);
      expect(a05![0]).toBeGreaterThanOrEqual(a0![0]!);
    }, 60_000);
});
