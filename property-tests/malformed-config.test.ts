/**
 * Random malformed configurations fed to the library's entry points (issue 14): for every method on both cells,
 * one field broken in one of the ways a user breaks it (out of range, NaN, Infinity, the wrong type, a misspelt
 * word, missing, an unknown key). Every entry point that takes the configuration must throw an InvalidInputError
 * whose path is exactly the broken field, before training; and the unbroken configuration must be accepted (so the
 * check is not refusing everything).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bpLambdaSequence } from '../src/core/bplambda.js';
import { InvalidInputError } from '../src/core/errors.js';
import { type LearnerConfig, METHOD_KINDS, learnerInit, synthesiserFor, trainBatch } from '../src/core/learner.js';
import { rngFromSeed } from '../src/core/random.js';
import { referenceBackend } from '../src/backends/reference.js';
import { createTrainer } from '../src/engine/trainer.js';
import { configOf, corrupt, corruptionsOf, smallBatch } from './config-fixtures.js';

const pathOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.path;
    return `(threw ${String(e)})`;
  }
  return '(accepted)';
};

const cases = METHOD_KINDS.flatMap((kind) => (['rnn', 'lstm'] as const).flatMap((cell) => corruptionsOf(kind, cell).map((c) => ({ kind, cell, corruption: c }))));

describe('every entry point names the broken field of a learner configuration', () => {
  it('the unbroken configurations are accepted', () => {
    for (const kind of METHOD_KINDS)
      for (const cell of ['rnn', 'lstm'] as const) {
        const config = configOf(kind, cell);
        const [state] = learnerInit(config, rngFromSeed(0));
        expect(trainBatch(config, state, smallBatch)[0].loss).toBeGreaterThan(0);
        expect(() => createTrainer(referenceBackend(), config)).not.toThrow();
      }
  });

  it(`learnerInit, trainBatch and createTrainer (${cases.length} corruptions, drawn at random)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), ({ kind, cell, corruption }) => {
        const good = configOf(kind, cell);
        const [state] = learnerInit(good, rngFromSeed(0));
        const bad = corrupt(good, corruption) as LearnerConfig;
        const path = corruption.path.join('.');
        expect(pathOf(() => learnerInit(bad, rngFromSeed(0)))).toBe(path);
        expect(pathOf(() => trainBatch(bad, state, smallBatch))).toBe(path);
        expect(pathOf(() => createTrainer(referenceBackend(), bad))).toBe(path);
      }),
      { numRuns: 300 },
    );
  });

  it('bpLambdaSequence names the broken option', () => {
    const options = cases.filter((c) => c.kind === 'bp-lambda' && c.corruption.path[0] === 'method' && ['gamma', 'lambda', 'beta', 'synthClip', 'targetScale'].includes(c.corruption.path[1]!));
    fc.assert(
      fc.property(fc.constantFrom(...options), ({ cell, corruption }) => {
        const config = configOf('bp-lambda', cell);
        const [state] = learnerInit(config, rngFromSeed(0));
        const m = config.method as Extract<LearnerConfig['method'], { kind: 'bp-lambda' }>;
        const ctx = { model: config.model, synth: synthesiserFor(config.model, m)!, params: state.params, theta: state.theta!, mode: m.mode, options: { gamma: m.gamma, lambda: m.lambda, beta: m.beta, synthClip: m.synthClip } };
        expect(() => bpLambdaSequence(ctx, smallBatch)).not.toThrow();
        expect(pathOf(() => bpLambdaSequence(corrupt(ctx, { path: ['options', corruption.path[1]!], value: corruption.value }), smallBatch))).toBe(`options.${corruption.path[1]}`);
      }),
      { numRuns: 100 },
    );
  });
});
