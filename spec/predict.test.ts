/**
 * Using a trained model: `predict` gives the readout of the states of an independent forward computation (a
 * linear RNN written out with loops over plain numbers), continues a sequence exactly from a returned state, and
 * runs any cell; `evaluate` gives the loss that training reports at the same parameters (the core's trainBatch
 * and the trainer on the reference backend) and the masked loss and accuracy computed by hand.
 */
import { describe, expect, it } from 'vitest';
import { referenceBackend } from '../src/backends/reference.js';
import { InvalidInputError } from '../src/core/errors.js';
import { type LearnerConfig, learnerInit, trainBatch } from '../src/core/learner.js';
import { lstmCell } from '../src/core/lstm.js';
import type { Batch, LossKind, Model } from '../src/core/model.js';
import { evaluate, predict } from '../src/core/predict.js';
import { type Rng, rngFromSeed, uniformRange } from '../src/core/random.js';
import { rnnCell } from '../src/core/rnn.js';
import type { Params } from '../src/core/tensor.js';
import { createTrainer } from '../src/engine/trainer.js';
import { trainerEvaluate, trainerPredict } from '../src/engine/predict.js';
import { initModel } from '../src/core/init.js';

const I = 3;
const H = 4;
const O = 2;
const linear = (loss: LossKind = 'mse'): Model => ({ cell: rnnCell({ inputSize: I, hiddenSize: H, activation: 'identity' }), outputSize: O, loss });

let rng: Rng = rngFromSeed(7);
const draw = (n: number, scale = 1): Float64Array => {
  const [u, next] = uniformRange(rng, n, -scale, scale);
  rng = next;
  return u;
};

const randomBatch = (B: number, T: number, target: (b: number, t: number) => Float64Array | null): Batch =>
  Array.from({ length: B }, (_, b) => ({
    inputs: Array.from({ length: T }, () => draw(I)),
    targets: Array.from({ length: T }, (_, t) => target(b, t)),
  }));

/** Row i of a row-major matrix with `cols` columns, as plain numbers. */
const row = (m: Float64Array, i: number, cols: number): number[] => Array.from(m.subarray(i * cols, (i + 1) * cols));

/** The linear RNN by hand: h_t = W_in x_t + W_rec h_{t-1} + b, y_t = W_out h_t + b_out; returns [h_t], [y_t]. */
const byHand = (p: Params, inputs: readonly Float64Array[]): { hs: number[][]; ys: number[][] } => {
  let h = new Array<number>(H).fill(0);
  const hs: number[][] = [];
  const ys: number[][] = [];
  for (const x of inputs) {
    const next: number[] = [];
    for (let i = 0; i < H; i++) {
      let a = p['b']!.data[i]!;
      const wi = row(p['W_in']!.data, i, I);
      const wr = row(p['W_rec']!.data, i, H);
      for (let j = 0; j < I; j++) a += wi[j]! * x[j]!;
      for (let j = 0; j < H; j++) a += wr[j]! * h[j]!;
      next.push(a);
    }
    h = next;
    const y: number[] = [];
    for (let k = 0; k < O; k++) {
      let v = p['b_out']!.data[k]!;
      const w = row(p['W_out']!.data, k, H);
      for (let j = 0; j < H; j++) v += w[j]! * h[j]!;
      y.push(v);
    }
    hs.push(h);
    ys.push(y);
  }
  return { hs, ys };
};

const expectClose = (got: ArrayLike<number>, want: readonly number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(w))));
};

const paramsOf = (model: Model): Params => initModel(model, rngFromSeed(3))[0];

describe('predict', () => {
  it('gives the readout of the hand-computed states of a linear RNN, for a sequence and for a batch', () => {
    const model = linear();
    const params = paramsOf(model);
    const batch = randomBatch(3, 6, () => null);
    const one = predict(model, params, batch[1]!);
    const all = predict(model, params, batch);
    batch.forEach((seq, b) => {
      const { hs, ys } = byHand(params, seq.inputs);
      ys.forEach((y, t) => expectClose(all.outputs[b]![t]!, y));
      expectClose(all.states[b]!, hs[hs.length - 1]!);
    });
    expect(one.outputs).toEqual(all.outputs[1]);
    expect(one.state).toEqual(all.states[1]);
  });

  it('continues a sequence exactly from the state it returns (RNN tanh and LSTM), and T = 0 returns the start state', () => {
    const models: Model[] = [
      { cell: rnnCell({ inputSize: I, hiddenSize: H, activation: 'tanh' }), outputSize: O, loss: 'mse' },
      { cell: lstmCell({ inputSize: I, hiddenSize: H }), outputSize: O, loss: 'xent' },
    ];
    for (const model of models) {
      const params = paramsOf(model);
      const inputs = Array.from({ length: 7 }, () => draw(I));
      const whole = predict(model, params, { inputs });
      const first = predict(model, params, { inputs: inputs.slice(0, 3) });
      const rest = predict(model, params, { inputs: inputs.slice(3) }, { state: first.state });
      expect([...first.outputs, ...rest.outputs]).toEqual(whole.outputs);
      expect(rest.state).toEqual(whole.state);
      expect(whole.state.length).toBe(model.cell.stateSize);
      expect(predict(model, params, { inputs: [] }, { state: first.state }).state).toEqual(first.state);
      // A different start state changes the outputs (the option is used).
      expect(predict(model, params, { inputs: inputs.slice(3) }).outputs).not.toEqual(rest.outputs);
    }
  });

  it('does not change its arguments', () => {
    const model = linear();
    const params = paramsOf(model);
    const seq = randomBatch(1, 4, () => null)[0]!;
    const before = JSON.stringify([Array.from(seq.inputs, (x) => [...x]), Object.entries(params).map(([k, t]) => [k, [...t.data]])]);
    const s0 = draw(H);
    const s0copy = Float64Array.from(s0);
    predict(model, params, seq, { state: s0 });
    expect(JSON.stringify([Array.from(seq.inputs, (x) => [...x]), Object.entries(params).map(([k, t]) => [k, [...t.data]])])).toBe(before);
    expect(s0).toEqual(s0copy);
  });

  it('refuses bad inputs, states and parameters with typed errors naming the field', () => {
    const model = linear();
    const params = paramsOf(model);
    const batch = randomBatch(2, 3, () => null);
    const wrongSize = [batch[0]!, { inputs: [draw(I), draw(I + 1)] }];
    expect(() => predict(model, params, wrongSize)).toThrow(InvalidInputError);
    expect(() => predict(model, params, wrongSize)).toThrow(/^batch\[1\]\.inputs\[1\] has 4, expected 3 entries/);
    const nan = Float64Array.from([0, NaN, 0]);
    expect(() => predict(model, params, { inputs: [nan] })).toThrow(/^inputs\[0\]\[1\] is NaN, expected a finite number/);
    expect(() => predict(model, params, { inputs: [[1, 2, 3] as unknown as Float64Array] })).toThrow(/^inputs\[0\] is object, expected a Float64Array of 3 entries/);
    expect(() => predict(model, params, { inputs: [[1, 2, 3] as unknown as Float64Array] })).toThrow(/^inputs\[0\] is object, expected a Float64Array of 3 entries/);
    expect(() => predict(model, params, batch[0]!, { state: new Float64Array(H + 1) })).toThrow(/^options\.state has 5/);
    expect(() => predict(model, params, batch, { states: [new Float64Array(H)] })).toThrow(/^options\.states has 1, expected 2 states/);
    const bad = { ...params, W_rec: { shape: [H, H + 1], data: new Float64Array(H * (H + 1)) } };
    expect(() => predict(model, bad, batch)).toThrow(/^params\.W_rec has shape 4x5/);
  });
});

/** ½‖y − ŷ‖² summed over the steps with a target, averaged over the batch, from the hand outputs. */
const mseByHand = (params: Params, batch: Batch): number =>
  batch.reduce((acc, seq) => {
    const { ys } = byHand(params, seq.inputs);
    return acc + seq.targets.reduce((a, y, t) => (y === null ? a : a + 0.5 * ys[t]!.reduce((s, v, k) => s + (v - y[k]!) ** 2, 0)), 0);
  }, 0) / batch.length;

describe('evaluate', () => {
  const config = (model: Model, method: LearnerConfig['method']): LearnerConfig => ({
    model,
    method,
    network: { kind: 'adam', lr: 0.05 },
    synthesiser: { kind: 'adam', lr: 0.05 },
  });
  const maskedMse = () => randomBatch(4, 5, (_b, t) => (t % 2 === 0 ? draw(O) : null));

  it('gives the masked MSE computed by hand, and no accuracy for MSE', () => {
    const model = linear();
    const params = paramsOf(model);
    const batch = maskedMse();
    const e = evaluate(model, params, batch);
    expect(Math.abs(e.loss - mseByHand(params, batch))).toBeLessThanOrEqual(1e-12 * mseByHand(params, batch));
    expect(e.targetSteps).toBe(4 * 3);
    expect(e.correct).toBeNull();
    expect(e.accuracy).toBeNull();
  });

  it("equals the loss trainBatch reports at the same parameters, along a training run (bptt: ===; BP(λ): to rounding)", () => {
    const model = linear();
    for (const method of [{ kind: 'bptt' } as const, { kind: 'bp-lambda', mode: 'full', schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 1, lambda: 0.5, beta: 1, synthClip: Infinity } as const]) {
      const c = config(model, method);
      let [state] = learnerInit(c, rngFromSeed(1));
      for (let k = 0; k < 4; k++) {
        const batch = maskedMse();
        const e = evaluate(model, state.params, batch);
        const [metrics, next] = trainBatch(c, state, batch);
        if (method.kind === 'bptt') expect(e.loss).toBe(metrics.loss);
        else expect(Math.abs(e.loss - metrics.loss)).toBeLessThanOrEqual(1e-12 * metrics.loss);
        expect(next.params).not.toEqual(state.params); // the parameters did move: each batch checks new ones
        state = next;
      }
    }
  });

  it('softmax cross-entropy: the loss −log softmax(ŷ)[c] and the accuracy of arg-max outputs, by hand', () => {
    const model = linear('xent');
    const params = paramsOf(model);
    const labels: (number | null)[][] = [[0, null, 1, 1], [1, 0, null, 0], [null, null, null, 1]];
    const batch: Batch = labels.map((ls) => ({
      inputs: ls.map(() => draw(I, 3)),
      targets: ls.map((c) => (c === null ? null : Float64Array.from({ length: O }, (_, k) => (k === c ? 1 : 0)))),
    }));
    let loss = 0;
    let correct = 0;
    batch.forEach((seq, b) => {
      const { ys } = byHand(params, seq.inputs);
      labels[b]!.forEach((c, t) => {
        if (c === null) return;
        const y = ys[t]!;
        loss -= y[c]! - Math.log(y.reduce((s, v) => s + Math.exp(v), 0));
        if (y[c]! > y[1 - c]!) correct++;
      });
    });
    const e = evaluate(model, params, batch);
    expect(Math.abs(e.loss - loss / 3)).toBeLessThanOrEqual(1e-12 * (loss / 3));
    expect(e.targetSteps).toBe(7);
    expect(e.correct).toBe(correct);
    expect(e.accuracy).toBe(correct / 7);
    expect(correct).toBeGreaterThan(0); // the test sees both outcomes
    expect(correct).toBeLessThan(7);
  });

  it('refuses a batch that training would refuse', () => {
    const model = linear();
    expect(() => evaluate(model, paramsOf(model), [])).toThrow(InvalidInputError);
    const ragged = [...maskedMse().slice(0, 1), { inputs: [draw(I)], targets: [null] }];
    expect(() => evaluate(model, paramsOf(model), ragged)).toThrow(/^batch\[1\]\.inputs/);
  });
});

describe('after training on a backend', () => {
  it('trainerPredict and trainerEvaluate use the trained parameters read back from the trainer', async () => {
    const model = linear();
    const c: LearnerConfig = { model, method: { kind: 'bptt' }, network: { kind: 'adam', lr: 0.05 }, synthesiser: { kind: 'frozen' } };
    let [state] = learnerInit(c, rngFromSeed(2));
    const trainer = createTrainer(referenceBackend(), c);
    trainer.load(state);
    for (let k = 0; k < 3; k++) {
      const batch = randomBatch(2, 4, () => draw(O));
      await trainer.trainBatch(batch);
      state = trainBatch(c, state, batch)[1]; // the reference backend equals the core exactly
    }
    const batch = randomBatch(2, 4, () => draw(O));
    const p = await trainerPredict(trainer, batch);
    expect(p).toEqual(predict(model, state.params, batch));
    expect(await trainerPredict(trainer, batch[0]!)).toEqual(predict(model, state.params, batch[0]!));
    expect(await trainerEvaluate(trainer, batch)).toEqual(evaluate(model, state.params, batch));
    // Trained, not initial, parameters.
    expect(p.outputs).not.toEqual(predict(model, learnerInit(c, rngFromSeed(2))[0].params, batch).outputs);
    trainer.dispose();
  });
});
