/**
 * The library checks its configurations as the command line does (issue 14): each malformed configuration the
 * package audit found gets an InvalidInputError naming the field and the expected value, from every public entry
 * point that takes it (core, learner, trainer, backends), before anything is computed. A training run whose
 * numbers become non-finite stops with a DivergenceError naming the batch.
 */
import { describe, expect, it } from 'vitest';
import { type BpLambdaContext, bpLambdaSequence } from '../src/core/bplambda.js';
import { bptt } from '../src/core/bptt.js';
import { DivergenceError, InvalidInputError } from '../src/core/errors.js';
import { lossAndGrad } from '../src/core/model.js';
import { describe as describeValue } from '../src/core/schema.js';
import { initModel, initSynthesiser } from '../src/core/init.js';
import { type LearnerConfig, learnerInit, trainBatch } from '../src/core/learner.js';
import { lstmCell } from '../src/core/lstm.js';
import { rngFromSeed } from '../src/core/random.js';
import { rnnCell } from '../src/core/rnn.js';
import { linearSynthesiser, mlpSynthesiser } from '../src/core/synthesiser.js';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { referenceBackend } from '../src/backends/reference.js';
import { backendByName } from '../src/backends/registry.js';
import { createTrainer } from '../src/engine/trainer.js';
import { buildConfig } from '../src/experiments/config.js';
import { configOf, corrupt, modelOf, smallBatch } from '../property-tests/config-fixtures.js';

/** The InvalidInputError `f` throws (fails the test if it throws anything else or nothing). */
const refusal = (f: () => unknown): InvalidInputError => {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw new Error(`expected an InvalidInputError, got ${String(e)}`);
  }
  throw new Error('expected an InvalidInputError, nothing was thrown');
};

const bpContext = (): BpLambdaContext => {
  const model = modelOf('rnn');
  const synth = linearSynthesiser(3, 3);
  const [params, rng] = initModel(model, rngFromSeed(0));
  const [theta] = initSynthesiser(synth, rng);
  return { model, synth, params, theta, options: { gamma: 0.9, lambda: 0.5, beta: 1, synthClip: Infinity } };
};

describe('bpLambdaSequence refuses malformed options, naming the field', () => {
  const cases: [string, unknown, string, string][] = [
    ['lambda', 1.5, 'options.lambda is 1.5', 'a number in [0, 1]'],
    ['gamma', -1, 'options.gamma is -1', 'a number in [0, 1]'],
    ['beta', Number.NaN, 'options.beta is NaN', 'a finite number ≥ 0'],
    ['synthClip', -1, 'options.synthClip is -1', 'a number > 0 (Infinity: no clip)'],
    ['lambda', undefined, 'options.lambda is missing', 'a number in [0, 1]'],
    ['targetScale', 0, 'options.targetScale is 0', 'a finite number > 0'],
  ];
  it.each(cases)('%s = %s', (field, value, found, expected) => {
    const ctx = bpContext();
    const e = refusal(() => bpLambdaSequence(corrupt(ctx, { path: ['options', field], value }), smallBatch));
    expect(e.message).toBe(`${found}, expected ${expected}`);
  });

  it('an unknown option is refused with the known ones listed', () => {
    const e = refusal(() => bpLambdaSequence(corrupt(bpContext(), { path: ['options', 'lamda'], value: 1 }), smallBatch));
    expect(e.path).toBe('options.lamda');
    expect(e.expected).toContain('gamma, lambda, beta, synthClip, targetScale');
  });

  it('parameters of the wrong shape or not finite are named', () => {
    const ctx = bpContext();
    const W = ctx.params['W_rec']!;
    expect(refusal(() => bpLambdaSequence({ ...ctx, params: { ...ctx.params, W_rec: { shape: [3, 2], data: new Float64Array(6) } } }, smallBatch)).message).toBe(
      'params.W_rec has shape 3x2, expected shape 3x3',
    );
    const nan = Float64Array.from(W.data);
    nan[4] = Number.NaN;
    expect(refusal(() => bpLambdaSequence({ ...ctx, params: { ...ctx.params, W_rec: { shape: W.shape, data: nan } } }, smallBatch)).path).toBe('params.W_rec.data[4]');
    expect(refusal(() => bpLambdaSequence({ ...ctx, theta: { W: ctx.theta['W']! } }, smallBatch)).path).toBe('theta.b');
  });

  it('a synthesiser that does not fit the mode is named', () => {
    expect(refusal(() => bpLambdaSequence({ ...bpContext(), synth: linearSynthesiser(3, 2) }, smallBatch)).path).toBe('synth');
  });
});

describe('the learner and the trainer refuse the malformed configurations of the audit', () => {
  const base = configOf('bp-lambda', 'rnn');
  const cases: [string, LearnerConfig, string, string][] = [
    ['λ = 1.5', corrupt(base, { path: ['method', 'lambda'], value: 1.5 }), 'method.lambda', 'a number in [0, 1]'],
    ['γ = −1', corrupt(base, { path: ['method', 'gamma'], value: -1 }), 'method.gamma', 'a number in [0, 1]'],
    ['β = NaN', corrupt(base, { path: ['method', 'beta'], value: Number.NaN }), 'method.beta', 'a finite number ≥ 0'],
    ['synthClip −1', corrupt(base, { path: ['method', 'synthClip'], value: -1 }), 'method.synthClip', 'a number > 0 (Infinity: no clip)'],
    ['no λ', corrupt(base, { path: ['method', 'lambda'], value: undefined }), 'method.lambda', 'a number in [0, 1]'],
    ['lr NaN', corrupt(base, { path: ['network', 'lr'], value: Number.NaN }), 'network.lr', 'a finite number ≥ 0'],
    ["loss 'mae'", corrupt(base, { path: ['model', 'loss'], value: 'mae' }), 'model.loss', "one of 'mse', 'xent', 'bce'"],
    ["schedule 'stepp'", corrupt(base, { path: ['method', 'schedule'], value: 'stepp' }), 'method.schedule', "one of 'sequence', 'step'"],
    ["network.kind 'adamw'", corrupt(base, { path: ['network', 'kind'], value: 'adamw' }), 'network.kind', "one of 'adam', 'sgd', 'frozen'"],
    ["method.kind 'bplambda'", corrupt(base, { path: ['method', 'kind'], value: 'bplambda' }), 'method.kind', "one of 'bp-lambda', 'sg', 'tbptt', 'bptt', 'eprop'"],
    ['an unknown field', corrupt(base, { path: ['method', 'lamda'], value: 0.5 }), 'method.lamda', 'one of the fields kind, mode, schedule, synthesiser, gamma, lambda'],
  ];
  const [state] = learnerInit(base, rngFromSeed(1));
  it.each(cases)('%s: learnerInit, trainBatch and createTrainer name the field', (_, config, path, expected) => {
    for (const f of [() => learnerInit(config, rngFromSeed(1)), () => trainBatch(config, state, smallBatch), () => createTrainer(referenceBackend(), config)]) {
      const e = refusal(f);
      expect(e.path).toBe(path);
      expect(e.expected).toContain(expected);
    }
  });

  it('the command line says the same about the same value', () => {
    const lib = refusal(() => learnerInit(corrupt(base, { path: ['method', 'lambda'], value: 1.5 }), rngFromSeed(1)));
    const cli = refusal(() => buildConfig('toy', 'smoke', { lambda: 1.5 }));
    expect([cli.path, cli.found, cli.expected]).toEqual(['--lambda', lib.found, lib.expected]);
  });

  it('a state of the wrong shapes is refused by trainBatch and trainer.load', () => {
    const [other] = learnerInit({ ...base, model: { ...base.model, outputSize: 3 } }, rngFromSeed(1));
    expect(refusal(() => trainBatch(base, other, smallBatch)).message).toBe('state.params.W_out has shape 3x3, expected shape 2x3');
    const trainer = createTrainer(referenceBackend(), base);
    expect(refusal(() => trainer.load(other)).path).toBe('state.params.W_out');
  });

  it('trainer options are checked', () => {
    expect(refusal(() => createTrainer(referenceBackend(), base, { computation: 'online' as never })).message).toBe("options.computation is 'online', expected one of 'traces', 'forward-view'");
    expect(refusal(() => createTrainer(referenceBackend(), base, { computaton: 'traces' } as never)).path).toBe('options.computaton');
  });
});

describe('what the errors say', () => {
  it('describe: each kind of value in a few words', () => {
    const cases: [unknown, string][] = [
      ['x', "'x'"], [1.5, '1.5'], [Number.NaN, 'NaN'], [true, 'true'], [null, 'null'], [10n, '10'], [() => 1, 'a function'],
      [new Float64Array(3), 'a Float64Array of length 3'], [[1, 'a', null], "[1, 'a', null]"], [Array.from({ length: 9 }, () => 0), 'an array of length 9'],
      [Array.from({ length: 8 }, () => 0), '[0, 0, 0, 0, 0, 0, 0, 0]'], [[[1]], 'an array of length 1'], [[{}], 'an array of length 1'], [{}, 'an object'], [undefined, 'undefined'], [Symbol('s'), 'symbol'],
    ];
    for (const [v, words] of cases) expect(describeValue(v)).toBe(words);
  });
  it('a value that is not an object where an object is expected', () => {
    const ctx = bpContext();
    expect(refusal(() => bpLambdaSequence({ ...ctx, options: 3 as never }, smallBatch)).message).toBe('options is 3, expected an object');
    expect(refusal(() => cpuBackend('fast' as never)).message).toBe("options is 'fast', expected an object");
    expect(refusal(() => learnerInit({ ...configOf('bptt', 'rnn'), method: [1] as never }, rngFromSeed(0))).message).toBe('method is [1], expected an object');
  });
  it('an array of the wrong kind', () => {
    expect(refusal(() => mlpSynthesiser(3, 4 as never, 3)).message).toBe('hidden is 4, expected a list of integers ≥ 1');
    const base = configOf('bp-lambda', 'rnn');
    expect(refusal(() => learnerInit(corrupt(base, { path: ['method', 'synthesiser', 'hidden'], value: 'x' }), rngFromSeed(0))).message).toBe(
      "method.synthesiser.hidden is 'x', expected a list of layer sizes (integers ≥ 1; empty: linear)",
    );
  });
});

describe('the core functions below the learner check the model they are given', () => {
  it("an unknown loss is refused, not trained as softmax cross-entropy (loss: 'mae')", () => {
    const model = { ...modelOf('rnn'), loss: 'mae' } as never;
    const [params] = initModel(modelOf('rnn'), rngFromSeed(0));
    expect(refusal(() => bptt(model, params, smallBatch[0]!)).message).toBe("model.loss is 'mae', expected one of 'mse', 'xent', 'bce'");
    expect(refusal(() => lossAndGrad('mae' as never, Float64Array.of(0.3, 0.1), Float64Array.of(1, 0))).path).toBe('model.loss');
  });
  it('parameters that do not fit the model are named', () => {
    const [params] = initModel(modelOf('rnn'), rngFromSeed(0));
    expect(refusal(() => bptt(modelOf('lstm'), params, smallBatch[0]!)).path).toBe('params.W_in');
  });
});

describe('cells, synthesisers and backends refuse malformed configurations', () => {
  it.each([
    [{ inputSize: 2, hiddenSize: 0, activation: 'tanh' }, 'cell.hiddenSize is 0, expected an integer ≥ 1'],
    [{ inputSize: 2, hiddenSize: -1, activation: 'tanh' }, 'cell.hiddenSize is -1, expected an integer ≥ 1'],
    [{ inputSize: 2, hiddenSize: 2.5, activation: 'tanh' }, 'cell.hiddenSize is 2.5, expected an integer ≥ 1'],
    [{ inputSize: 2, hiddenSize: 3, activation: 'tanhh' }, "cell.activation is 'tanhh', expected one of 'identity', 'tanh', 'sigmoid', 'relu'"],
    [{ inputSize: 2, hiddenSize: 3 }, "cell.activation is missing, expected one of 'identity', 'tanh', 'sigmoid', 'relu'"],
  ])('rnnCell(%o)', (config, message) => {
    expect(refusal(() => rnnCell(config as never)).message).toBe(message);
  });

  it('lstmCell, linearSynthesiser and mlpSynthesiser', () => {
    expect(refusal(() => lstmCell({ inputSize: Number.NaN, hiddenSize: 3 })).path).toBe('cell.inputSize');
    expect(refusal(() => lstmCell({ inputSize: 2, hiddenSize: 3, activation: 'tanh' } as never)).path).toBe('cell.activation');
    expect(refusal(() => linearSynthesiser(3, 0)).path).toBe('outputSize');
    expect(refusal(() => mlpSynthesiser(3, [], 3)).path).toBe('hidden');
    expect(refusal(() => mlpSynthesiser(3, [4, 0], 3)).path).toBe('hidden[1]');
  });

  it('cpuBackend: a misspelt option is refused, not ignored (precison: 32 gave float64)', () => {
    expect(refusal(() => cpuBackend({ precison: 32 } as never)).message).toBe('options.precison is not a field, expected one of the fields precision, kernels, threads, fma');
    expect(refusal(() => cpuBackend({ precision: 16 as never })).message).toBe('options.precision is 16, expected 32 or 64');
    expect(refusal(() => cpuBackend({ threads: 0 })).path).toBe('options.threads');
    expect(refusal(() => cpuBackend({ kernels: 'simd' as never })).path).toBe('options.kernels');
  });

  it('backendByName: an unknown option is refused', async () => {
    await expect(backendByName('reference', { thread: 2 } as never)).rejects.toThrow(/options\.thread is not a field/);
  });
});

describe('divergence is a typed error, from the core learner and the trainer', () => {
  // SGD with a learning rate of 1e200 on the readout: the first update overflows, the second batch's loss is not finite.
  const config: LearnerConfig = { ...configOf('bptt', 'rnn'), network: { kind: 'sgd', lr: 1e200 } };
  it('trainBatch', () => {
    const [s0] = learnerInit(config, rngFromSeed(2));
    const [, s1] = trainBatch(config, s0, smallBatch);
    expect(() => trainBatch(config, s1, smallBatch)).toThrow(DivergenceError);
    expect(() => trainBatch(config, s1, smallBatch)).toThrow(/at batch 2/);
  });
  it('trainer.trainBatch', async () => {
    const [s0] = learnerInit(config, rngFromSeed(2));
    const trainer = createTrainer(referenceBackend(), config);
    trainer.load(s0);
    await trainer.trainBatch(smallBatch);
    await expect(trainer.trainBatch(smallBatch)).rejects.toThrow(DivergenceError);
  });
});
