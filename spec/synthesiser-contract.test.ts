/**
 * The synthesisers' contract beyond their Jacobians (property-tests/synthesiser.test.ts checks those against finite
 * differences): the refusals of their constructors and of the modes they are used in, each naming the field; the
 * tabular synthesiser's steps outside its table; relu′(0) = 0, as PyTorch's autograd has it, which the MLP meets at
 * its first step (s_0 = 0 with zero biases); and the step index the cell mode passes to a synthesiser. Each test was
 * written for a mutant that survived every other test (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { cellModeTargets, checkCellModeSynthesiser, memoryOf } from '../src/core/cellMode.js';
import { InvalidInputError } from '../src/core/errors.js';
import { initModel } from '../src/core/init.js';
import { forward } from '../src/core/model.js';
import { cellMode, fullMode, modeAdapter } from '../src/core/modes.js';
import { rngFromSeed } from '../src/core/random.js';
import { type Synthesiser, linearSynthesiser, mlpSynthesiser, tabularSynthesiser } from '../src/core/synthesiser.js';
import { type Params, paramCount } from '../src/core/tensor.js';
import { modelOf, smallBatch } from '../property-tests/config-fixtures.js';

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

/** Parameters with entries 1, 2, 3, … in key order, so every entry of a prediction is told apart. */
const countingTheta = (synth: Synthesiser): Params => {
  let next = 1;
  return Object.fromEntries(
    Object.entries(synth.paramShapes).map(([k, shape]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return [k, { shape, data: Float64Array.from({ length: n }, () => next++) }];
    }),
  );
};

describe('synthesiser constructors name the size they refuse', () => {
  it.each([
    ['linear, input', () => linearSynthesiser(0, 2), 'inputSize is 0, expected an integer ≥ 1'],
    ['linear, output', () => linearSynthesiser(2, 1.5), 'outputSize is 1.5, expected an integer ≥ 1'],
    ['mlp, input', () => mlpSynthesiser(-1, [3], 2), 'inputSize is -1, expected an integer ≥ 1'],
    ['mlp, output', () => mlpSynthesiser(2, [3], 0), 'outputSize is 0, expected an integer ≥ 1'],
    ['mlp, no hidden layer', () => mlpSynthesiser(2, [], 2), 'hidden is [], expected at least one hidden layer size (use linearSynthesiser for none)'],
    ['tabular, steps', () => tabularSynthesiser(0, 2, 2), 'steps is 0, expected an integer ≥ 1'],
    ['tabular, output', () => tabularSynthesiser(3, Number.NaN, 2), 'outputSize is NaN, expected an integer ≥ 1'],
    ['tabular, input', () => tabularSynthesiser(3, 2, 0), 'inputSize is 0, expected an integer ≥ 1'],
  ])('%s', (_, make, message) => {
    expect(refusal(make).message).toBe(message);
  });

  it('a parameter missing from θ is named (a RangeError, before any arithmetic on undefined)', () => {
    const synth = linearSynthesiser(2, 2);
    const theta = countingTheta(synth);
    expect(() => synth.predict({ W: theta['W']! }, new Float64Array(2), 1)).toThrow(new RangeError('synthesiser parameter b is missing'));
    const mlp = mlpSynthesiser(2, [2], 2);
    const { W_1: _, ...noW1 } = countingTheta(mlp);
    expect(() => mlp.paramJacobian(noW1, Float64Array.of(1, 1), 1)).toThrow(new RangeError('synthesiser parameter W_1 is missing'));
  });
});

describe('tabular synthesiser: steps outside 1..rows predict 0 and have a zero Jacobian', () => {
  const steps = 3;
  const out = 2;
  const synth = tabularSynthesiser(steps, out, 4);
  const theta = countingTheta(synth);
  const P = paramCount(synth.paramShapes);
  it.each([0, -1, steps + 1, steps + 5])('t = %i', (t) => {
    expect(Array.from(synth.predict(theta, new Float64Array(4), t))).toEqual([0, 0]);
    const J = synth.paramJacobian(theta, new Float64Array(4), t);
    expect(J.shape).toEqual([out, P]);
    expect(J.data.length).toBe(out * P);
    expect(J.data.every((v) => v === 0)).toBe(true);
  });

  it('steps inside the table read their row, and the Jacobian selects it', () => {
    for (let t = 1; t <= steps; t++) {
      expect(Array.from(synth.predict(theta, new Float64Array(4), t))).toEqual([2 * t - 1, 2 * t]);
      const J = synth.paramJacobian(theta, new Float64Array(4), t).data;
      const ones = [...J.keys()].filter((k) => J[k] !== 0);
      expect(ones).toEqual([(t - 1) * out, P + (t - 1) * out + 1]);
    }
  });
});

describe('MLP synthesiser at a ReLU kink: relu′(0) = 0, as PyTorch autograd', () => {
  // The first step's synthesiser input is s_0 = 0; with zero hidden biases every hidden pre-activation is exactly 0
  // there. PyTorch's relu gives 0 as its gradient at 0, so the hidden layers get no gradient from that step.
  it('the columns of W_0 and b_0 are 0 where z_0 = 0 (and W_1 has a_1 = 0); the later layers get theirs', () => {
    const synth = mlpSynthesiser(3, [4, 2], 2);
    const theta: Params = { ...countingTheta(synth), b_0: { shape: [4], data: new Float64Array(4) } };
    const J = synth.paramJacobian(theta, new Float64Array(3), 1);
    const P = paramCount(synth.paramShapes);
    const b1 = Array.from(theta['b_1']!.data); // z_1 = W_1 a_1 + b_1 = b_1 > 0: a_2 = b_1, relu′ = 1
    const W2 = theta['W_2']!.data;
    for (let i = 0; i < 2; i++) {
      const row = Array.from(J.data.subarray(i * P, (i + 1) * P));
      expect(row.slice(0, 4 * 3 + 4 + 2 * 4)).toEqual(new Array(4 * 3 + 4 + 2 * 4).fill(0)); // W_0, b_0, W_1
      expect(row.slice(24, 26)).toEqual([W2[2 * i]!, W2[2 * i + 1]!]); // b_1: ∂ĝ_i/∂z_1 = W_2[i, :]
      expect(row.slice(26 + 2 * i, 26 + 2 * i + 2)).toEqual(b1); // W_2[i, :]: a_2
      expect(row[26 + 4 + i]).toBe(1); // b_2[i]
    }
  });
});

describe('the modes refuse a synthesiser that does not fit them, naming it', () => {
  const lstm = modelOf('lstm'); // H = 3: the state has 6 entries, the memory 3
  const rnn = modelOf('rnn'); // state 3
  it.each([
    ['cell mode, wrong output', () => checkCellModeSynthesiser(lstm, linearSynthesiser(6, 6)), 'synth maps size 6 to 6, expected a synthesiser from the state (size 6) to the memory (size 3) in the cell mode'],
    ['cell mode, wrong input', () => checkCellModeSynthesiser(lstm, linearSynthesiser(3, 3)), 'synth maps size 3 to 3, expected a synthesiser from the state (size 6) to the memory (size 3) in the cell mode'],
    ['cell mode adapter', () => cellMode.check(lstm, linearSynthesiser(5, 3)), 'synth maps size 5 to 3, expected a synthesiser from the state (size 6) to the memory (size 3) in the cell mode'],
    ['full mode, wrong input', () => fullMode.check(rnn, linearSynthesiser(2, 3)), 'synth maps size 2 to 3, expected a synthesiser from the state (size 3) to the state (size 3) in the full-state mode'],
    ['full mode, wrong output', () => fullMode.check(rnn, linearSynthesiser(3, 4)), 'synth maps size 3 to 4, expected a synthesiser from the state (size 3) to the state (size 3) in the full-state mode'],
    ['cell mode without a memory', () => memoryOf(rnn.cell), "method.mode is 'cell', expected 'full' for a cell without a memory part ('cell' is the LSTM's dL/dc mode)"],
  ])('%s', (_, check, message) => {
    expect(refusal(check).message).toBe(message);
  });

  it('fitting synthesisers pass', () => {
    expect(() => checkCellModeSynthesiser(lstm, mlpSynthesiser(6, [4], 3))).not.toThrow();
    expect(() => fullMode.check(rnn, linearSynthesiser(3, 3))).not.toThrow();
  });

  it("the cell mode's step refuses another mode's carry; an unknown mode is refused", () => {
    const [params] = initModel(lstm, rngFromSeed(1));
    const [rec] = forward(lstm, params, smallBatch[0]!);
    const ctx = { model: lstm, params, gamma: 0.9, signalWeight: 1, scale: 1 };
    expect(() => cellMode.step(ctx, fullMode.init(lstm), new Float64Array(6), rec!, 1, false)).toThrow(new RangeError("the cell mode got another mode's carry"));
    expect(() => modeAdapter('both' as never)).toThrow(new RangeError('unknown BP(λ) mode both'));
  });
});

describe('the cell mode asks the synthesiser for step t when it predicts u_t', () => {
  it('with a tabular synthesiser, the predictions are the table rows 1..T in order', () => {
    const model = modelOf('lstm');
    const [params] = initModel(model, rngFromSeed(3));
    const records = forward(model, params, smallBatch[1]!);
    const T = records.length;
    const synth = tabularSynthesiser(T, 3, 6);
    const theta = countingTheta(synth);
    const { predictions } = cellModeTargets({ model, synth, params, theta }, records, 0.9, 0.5);
    expect(predictions.map((u) => Array.from(u))).toEqual(Array.from({ length: T }, (_, k) => [3 * k + 1, 3 * k + 2, 3 * k + 3]));
  });
});
