/**
 * Saving and loading a learner state: JSON text round-trips bit for bit (Object.is on every number, -0, subnormals
 * and the extremes included), a loaded state trains on exactly as the original, and a state that does not fit the
 * config it is loaded for (a shape, the model, the method's synthesiser, the optimiser) is refused with a typed
 * error naming the field. The pure base64 agrees with Node's Buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, decodeValue, encodeValue } from '../src/core/encoding.js';
import { InvalidInputError } from '../src/core/errors.js';
import { type LearnerConfig, type LearnerState, learnerInit, trainBatch } from '../src/core/learner.js';
import { lstmCell } from '../src/core/lstm.js';
import type { Batch, Model } from '../src/core/model.js';
import { rngFromSeed, uniformRange } from '../src/core/random.js';
import { rnnCell } from '../src/core/rnn.js';
import { STATE_FORMAT, deserializeState, serializeState } from '../src/core/serialize.js';
import type { Params } from '../src/core/tensor.js';

const FC_SEED = process.env['FC_SEED'] === undefined ? 20261125 : Number(process.env['FC_SEED']);

const rnn = (H = 4): Model => ({ cell: rnnCell({ inputSize: 3, hiddenSize: H, activation: 'tanh' }), outputSize: 2, loss: 'mse' });
const bpLambda = (model: Model): LearnerConfig => ({
  model,
  method: { kind: 'bp-lambda', mode: 'full', schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 1, lambda: 0.5, beta: 1, synthClip: Infinity },
  network: { kind: 'adam', lr: 0.01 },
  synthesiser: { kind: 'adam', lr: 0.01 },
});

const batchOf = (seed: number): Batch => {
  let rng = rngFromSeed(seed);
  const draw = (n: number) => {
    const [u, next] = uniformRange(rng, n, -1, 1);
    rng = next;
    return u;
  };
  return Array.from({ length: 2 }, () => ({ inputs: Array.from({ length: 4 }, () => draw(3)), targets: Array.from({ length: 4 }, (_, t) => (t === 3 ? draw(2) : null)) }));
};

/** Every number of a value (typed-array entries included), with its path, in a fixed order. */
const numbers = (v: unknown, path = ''): [string, number][] => {
  if (typeof v === 'number') return [[path, v]];
  if (v instanceof Float64Array) return Array.from(v, (x, i) => [`${path}[${i}]`, x]);
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => numbers(x, `${path}.${k}`));
  return [];
};

const expectBitExact = (got: unknown, want: unknown) => {
  const a = numbers(got);
  const b = numbers(want);
  expect(a.map(([p]) => p)).toEqual(b.map(([p]) => p));
  const differ = a.filter(([, x], i) => !Object.is(x, b[i]![1])).map(([p, x], i) => `${p}: ${x} vs ${b[i]![1]}`);
  expect(differ).toEqual([]);
};

/** A trained state whose every tensor has been salted with the hard values of float64. */
const hardState = (config: LearnerConfig): LearnerState => {
  let [s] = learnerInit(config, rngFromSeed(1));
  for (let k = 0; k < 2; k++) s = trainBatch(config, s, batchOf(k))[1];
  const hard = [-0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2, -1 / 3];
  const salt = (p: Params): Params =>
    Object.fromEntries(Object.entries(p).map(([k, t]) => [k, { shape: t.shape, data: t.data.map((x, i) => hard[i] ?? x) }]));
  const opt = (o: unknown) => {
    const a = o as { count: number; mu: Params; nu: Params };
    return { count: a.count, mu: salt(a.mu), nu: salt(a.nu) };
  };
  return { ...s, params: salt(s.params), theta: salt(s.theta!), networkOpt: opt(s.networkOpt), synthOpt: opt(s.synthOpt) };
};

describe('serializeState / deserializeState', () => {
  it('round-trip through JSON text bit for bit (-0, subnormals, the largest double), with and without the config', () => {
    const config = bpLambda(rnn());
    const state = hardState(config);
    expect(Object.is(state.params['W_in']!.data[0], -0)).toBe(true); // the salt is there
    const text = JSON.stringify(serializeState(config, state));
    expect(JSON.parse(text).format).toBe(STATE_FORMAT);
    expectBitExact(deserializeState(text, config), state);
    expectBitExact(deserializeState(JSON.parse(text)), state);
  });

  it('round-trips LSTM states and states without a synthesiser or optimiser', () => {
    const lstm: Model = { cell: lstmCell({ inputSize: 3, hiddenSize: 2 }), outputSize: 2, loss: 'xent' };
    const configs: LearnerConfig[] = [
      bpLambda(lstm),
      { model: rnn(), method: { kind: 'bptt' }, network: { kind: 'sgd', lr: 0.1 }, synthesiser: { kind: 'frozen' } },
      { ...bpLambda(rnn()), network: { kind: 'frozen' } },
    ];
    for (const config of configs) {
      const [state] = learnerInit(config, rngFromSeed(4));
      expectBitExact(deserializeState(JSON.stringify(serializeState(config, state)), config), state);
    }
  });

  it('a loaded state trains on exactly as the original', () => {
    const config = bpLambda(rnn());
    let [state] = learnerInit(config, rngFromSeed(2));
    for (let k = 0; k < 3; k++) state = trainBatch(config, state, batchOf(k))[1];
    let loaded = deserializeState(JSON.stringify(serializeState(config, state)), config);
    for (let k = 3; k < 6; k++) {
      const [m1, s1] = trainBatch(config, state, batchOf(k));
      const [m2, s2] = trainBatch(config, loaded, batchOf(k));
      expect(m2).toEqual(m1);
      state = s1;
      loaded = s2;
    }
    expectBitExact(loaded, state);
  });

  it('refuses a state that does not fit the config, naming the field', () => {
    const config = bpLambda(rnn());
    const [state] = learnerInit(config, rngFromSeed(3));
    const saved = serializeState(config, state);
    /** `c` null: loaded without a config. */
    const refuse = (s: unknown, message: RegExp, c: LearnerConfig | null = config) => {
      expect(() => deserializeState(s, c ?? undefined)).toThrow(InvalidInputError);
      expect(() => deserializeState(s, c ?? undefined)).toThrow(message);
    };
    // A tensor's shape changed in the file: with the config, and without it (against the saved model).
    const edited = JSON.parse(JSON.stringify(saved));
    edited.state.params.W_rec.shape = [2, 8];
    refuse(edited, /^state\.params\.W_rec has shape 2x8, expected shape 4x4$/);
    refuse(edited, /^state\.params\.W_rec has shape 2x8, expected shape 4x4$/, null);
    // Another model.
    refuse(saved, /^model\.cell\.hiddenSize is 4, expected 5 \(the config's\)$/, bpLambda(rnn(5)));
    refuse(saved, /^model\.cell\.activation is "tanh", expected "relu"/, bpLambda({ ...rnn(), cell: rnnCell({ inputSize: 3, hiddenSize: 4, activation: 'relu' }) }));
    // Another method (no synthesiser) or another optimiser.
    refuse(saved, /^state\.theta is not null, expected null/, { ...config, method: { kind: 'bptt' } });
    refuse(saved, /^state\.networkOpt\.count is not a field/, { ...config, network: { kind: 'sgd', lr: 0.1 } });
    refuse(saved, /^state\.synthOpt is .*, expected null/, { ...config, synthesiser: { kind: 'frozen' } });
    // A moment of the wrong shape, a tensor missing, an unknown field, a bad batch count.
    const moment = JSON.parse(JSON.stringify(saved));
    moment.state.networkOpt.mu.b.shape = [3];
    refuse(moment, /^state\.networkOpt\.mu\.b has shape 3, expected shape 4$/);
    const missing = JSON.parse(JSON.stringify(saved));
    delete missing.state.theta.b;
    refuse(missing, /^state\.theta\.b is missing/);
    const extra = JSON.parse(JSON.stringify(saved));
    extra.state.rng = 1;
    refuse(extra, /^state\.rng is not a field/);
    refuse({ ...saved, state: { ...(saved.state as object), batches: -1 } }, /^state\.batches is -1, expected an integer ≥ 0/);
    // Not a saved state at all.
    refuse('{"format":', /malformed JSON/);
    refuse({ ...saved, format: 'bplambda-checkpoint/1' }, /^format /);
    const b64 = JSON.parse(JSON.stringify(saved));
    b64.state.params.b.data.$f64 = 'AAAA*AAA';
    refuse(b64, /^state\.params\.b\.data\.\$f64 has '\*' at 4/);
    // Without a config: a saved model that cannot exist, a synthesiser tensor at odds with its own shape.
    refuse({ ...saved, model: { ...saved.model, outputSize: 0 } }, /^model\.outputSize is 0, expected an integer ≥ 1/, null);
    const theta = JSON.parse(JSON.stringify(saved));
    theta.state.theta.W.shape = [4, 5];
    refuse(theta, /^state\.theta\.W\.data /, null);
  });

  it('refuses to save a state that does not fit its config', () => {
    const config = bpLambda(rnn());
    const [state] = learnerInit(config, rngFromSeed(3));
    expect(() => serializeState(bpLambda(rnn(5)), state)).toThrow(/^state\.params\.W_in has shape 4x3, expected shape 5x3$/);
  });
});

describe('the shared encoding', () => {
  it('base64 agrees with Node’s Buffer both ways', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const text = bytesToBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64ToBytes(text)).toEqual(bytes);
      }),
      { numRuns: 300, seed: FC_SEED },
    );
    expect(() => base64ToBytes('QUJD-A==')).toThrow(/has '-' at 4/);
    expect(() => base64ToBytes('QUJ')).toThrow(/multiple of 4/);
    expect(() => base64ToBytes('QU=D')).toThrow(InvalidInputError);
  });

  it('plain numbers JSON cannot write (-0, NaN, ±Infinity) survive encodeValue → JSON → decodeValue', () => {
    const v = { a: [-0, 0, NaN, Infinity, -Infinity, 5e-324] };
    const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(v)))) as typeof v;
    v.a.forEach((x, i) => expect(Object.is(back.a[i], x)).toBe(true));
  });
});
