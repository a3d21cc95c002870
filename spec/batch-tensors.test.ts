/**
 * Batches as dense [B, T, I] / [B, T, O] tensors: entries land where row-major indexing puts them (checked entry by
 * entry by hand), class labels become one-hot targets, masks of shape [B, T] or [T] null the right steps,
 * batchFromTensors and batchToTensors are inverse both ways (fast-check), predictions pack as [B, T, O], and every
 * malformed tensor is refused with a typed error naming it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchFromTensors, batchToTensors, outputsToTensor } from '../src/core/batchTensors.js';
import { InvalidInputError } from '../src/core/errors.js';
import { initModel } from '../src/core/init.js';
import type { Batch, Model } from '../src/core/model.js';
import { predict } from '../src/core/predict.js';
import { rngFromSeed } from '../src/core/random.js';
import { rnnCell } from '../src/core/rnn.js';

const FC_SEED = process.env['FC_SEED'] === undefined ? 20261125 : Number(process.env['FC_SEED']);

const model = (I: number, O: number): Model => ({ cell: rnnCell({ inputSize: I, hiddenSize: 3, activation: 'tanh' }), outputSize: O, loss: 'xent' });

/** Entry (b, t, k) of a [B, T, K] tensor holds 100b + 10t + k: where each entry came from is readable. */
const coded = (B: number, T: number, K: number, offset = 0): Float64Array => {
  const d = new Float64Array(B * T * K);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) d[(b * T + t) * K + k] = 100 * b + 10 * t + k + offset;
  return d;
};

describe('batchFromTensors', () => {
  it('puts entry (b, t, k) of [B, T, I] inputs and [B, T, O] targets at batch[b].inputs[t][k] and .targets[t][k]', () => {
    const m = model(4, 2);
    const batch = batchFromTensors(m, { inputs: { data: coded(2, 3, 4), shape: [2, 3, 4] }, targets: { data: coded(2, 3, 2, 0.5), shape: [2, 3, 2] } });
    expect(batch).toHaveLength(2);
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 3; t++) {
        expect([...batch[b]!.inputs[t]!]).toEqual([0, 1, 2, 3].map((k) => 100 * b + 10 * t + k));
        expect([...batch[b]!.targets[t]!]).toEqual([0.5, 1.5].map((v) => 100 * b + 10 * t + v));
      }
  });

  it('reads Float32Array and plain arrays, copying: changing the source afterwards changes nothing', () => {
    const m = model(2, 1);
    const x32 = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const batch = batchFromTensors(m, { inputs: { data: x32, shape: [1, 2, 2] }, targets: { data: [1, 2], shape: [1, 2, 1] } });
    expect(batch[0]!.inputs[0]).toBeInstanceOf(Float64Array);
    expect([...batch[0]!.inputs[0]!, ...batch[0]!.inputs[1]!]).toEqual([...x32]); // float32 values, exactly
    x32[0] = 9;
    expect(batch[0]!.inputs[0]![0]).toBe(Math.fround(0.1));
    expect(batch[0]!.targets.map((y) => y![0])).toEqual([1, 2]);
  });

  it('class labels become one-hot targets; a [T] mask applies to every sequence, a [B, T] mask per sequence', () => {
    const m = model(1, 3);
    const inputs = { data: new Float64Array(2 * 3), shape: [2, 3, 1] };
    const labels = { data: Int32Array.from([2, 0, 1, 1, 99, 0]), shape: [2, 3] };
    const oneHot = (c: number) => [0, 1, 2].map((k) => (k === c ? 1 : 0));
    const perStep = batchFromTensors(m, { inputs, labels: { ...labels, data: Int32Array.from([2, 0, 1, 1, 2, 0]) } });
    expect(perStep.map((s) => s.targets.map((y) => [...y!]))).toEqual([[oneHot(2), oneHot(0), oneHot(1)], [oneHot(1), oneHot(2), oneHot(0)]]);
    // The 99 sits at a masked step: never read.
    const broadcast = batchFromTensors(m, { inputs, labels, mask: { data: Uint8Array.from([1, 0, 1]), shape: [3] } });
    expect(broadcast.map((s) => s.targets.map((y) => (y === null ? null : [...y])))).toEqual([[oneHot(2), null, oneHot(1)], [oneHot(1), null, oneHot(0)]]);
    const each = batchFromTensors(m, { inputs, labels, mask: { data: [true, true, false, false, false, true], shape: [2, 3] } });
    expect(each.map((s) => s.targets.map((y) => (y === null ? null : y.indexOf(1))))).toEqual([[2, 0, null], [null, null, 0]]);
  });

  it('without targets or labels every step has a null target (inputs for predict)', () => {
    const batch = batchFromTensors(model(2, 2), { inputs: { data: coded(2, 2, 2), shape: [2, 2, 2] } });
    expect(batch.flatMap((s) => s.targets)).toEqual([null, null, null, null]);
  });

  it('refuses malformed tensors with typed errors naming the tensor and the expected shape', () => {
    const m = model(4, 2);
    const x = { data: new Float64Array(2 * 5 * 4), shape: [2, 5, 4] };
    const refuse = (t: Parameters<typeof batchFromTensors>[1], message: RegExp) => {
      expect(() => batchFromTensors(m, t)).toThrow(InvalidInputError);
      expect(() => batchFromTensors(m, t)).toThrow(message);
    };
    refuse({ inputs: { data: new Float64Array(30), shape: [2, 5, 3] } }, /^inputs has shape 2x5x3, expected shape B x T x 4 \(I = 4\)$/);
    refuse({ inputs: { data: new Float64Array(40), shape: [10, 4] } }, /^inputs has shape 10x4, expected shape B x T x 4/);
    refuse({ inputs: { data: new Float64Array(39), shape: [2, 5, 4] } }, /^inputs\.data has 39, expected 40 entries \(2x5x4\)$/);
    refuse({ inputs: { data: new Float64Array(0), shape: [0, 5, 4] } }, /^inputs has shape 0x5x4/);
    const nan = Float64Array.from(x.data);
    nan[(1 * 5 + 2) * 4 + 3] = NaN;
    refuse({ inputs: { data: nan, shape: [2, 5, 4] } }, /^inputs\[1\]\[2\]\[3\] is NaN, expected a finite number$/);
    const inf = Float64Array.from(x.data);
    inf[5] = -Infinity;
    refuse({ inputs: { data: inf, shape: [2, 5, 4] } }, /^inputs\[0\]\[1\]\[1\] is -Infinity/);
    refuse({ inputs: x, targets: { data: new Float64Array(30), shape: [2, 5, 3] } }, /^targets has shape 2x5x3, expected shape 2x5x2 \(B x T x O, O = 2\)$/);
    refuse({ inputs: x, targets: { data: new Float64Array(20), shape: [2, 5, 2] }, labels: { data: new Int32Array(10), shape: [2, 5] } }, /^labels is given too/);
    refuse({ inputs: x, labels: { data: Int32Array.from({ length: 10 }, (_, k) => (k === 7 ? 2 : 0)), shape: [2, 5] } }, /^labels\[1\]\[2\] is 2, expected a class index in \[0, 2\)/);
    refuse({ inputs: x, labels: { data: new Float64Array(10).fill(0.5), shape: [2, 5] } }, /^labels\[0\]\[0\] is 0.5/);
    refuse({ inputs: x, labels: { data: new Int32Array(10), shape: [2, 5] }, mask: { data: [1, 0, 2, 1, 1], shape: [5] } }, /^mask\.data\[2\] is 2, expected 0, 1, true or false$/);
    refuse({ inputs: x, labels: { data: new Int32Array(10), shape: [2, 5] }, mask: { data: [1, 0, 1, 1], shape: [4] } }, /^mask has shape 4, expected shape 2x5 \(B x T\) or 5 \(T\)$/);
    refuse({ inputs: x, mask: { data: [1, 0, 1, 1, 1], shape: [5] } }, /^mask is given, expected absent without targets or labels/);
    const y = new Float64Array(20);
    y[3] = NaN; // step (0, 1)
    refuse({ inputs: x, targets: { data: y, shape: [2, 5, 2] } }, /^targets\[0\]\[1\]\[1\] is NaN/);
    // …but a NaN at a masked step is never read.
    expect(batchFromTensors(m, { inputs: x, targets: { data: y, shape: [2, 5, 2] }, mask: { data: [1, 0, 1, 1, 1], shape: [5] } })[0]!.targets[1]).toBeNull();
  });
});

/** A random model and batch with some null targets. */
const batchArb = fc
  .record({ B: fc.integer({ min: 1, max: 3 }), T: fc.integer({ min: 1, max: 4 }), I: fc.integer({ min: 1, max: 3 }), O: fc.integer({ min: 1, max: 3 }) })
  .chain(({ B, T, I, O }) =>
    fc.record({
      I: fc.constant(I),
      O: fc.constant(O),
      batch: fc.array(
        fc.record({
          inputs: fc.array(fc.float64Array({ minLength: I, maxLength: I, noNaN: true, noDefaultInfinity: true }), { minLength: T, maxLength: T }),
          targets: fc.array(fc.option(fc.float64Array({ minLength: O, maxLength: O, noNaN: true, noDefaultInfinity: true })), { minLength: T, maxLength: T }),
        }),
        { minLength: B, maxLength: B },
      ),
    }),
  );

describe('batchToTensors and batchFromTensors', () => {
  it('batch → tensors → batch gives the same batch, bit for bit', () => {
    fc.assert(
      fc.property(batchArb, ({ I, O, batch }) => {
        const m = model(I, O);
        const t = batchToTensors(m, batch as Batch);
        const back = batchFromTensors(m, t);
        expect(back).toEqual(batch); // toEqual on Float64Arrays compares with Object.is: -0 stays -0
      }),
      { numRuns: 100, seed: FC_SEED },
    );
  });

  it('tensors → batch → tensors gives the same tensors, with zeros at masked steps', () => {
    fc.assert(
      fc.property(
        fc.record({ B: fc.integer({ min: 1, max: 3 }), T: fc.integer({ min: 1, max: 4 }), I: fc.integer({ min: 1, max: 3 }), O: fc.integer({ min: 1, max: 3 }) }).chain(({ B, T, I, O }) =>
          fc.record({
            shape: fc.constant([B, T, I, O] as const),
            x: fc.float64Array({ minLength: B * T * I, maxLength: B * T * I, noNaN: true, noDefaultInfinity: true }),
            y: fc.float64Array({ minLength: B * T * O, maxLength: B * T * O, noNaN: true, noDefaultInfinity: true }),
            mask: fc.uint8Array({ minLength: B * T, maxLength: B * T, max: 1 }),
          }),
        ),
        ({ shape: [B, T, I, O], x, y, mask }) => {
          const m = model(I, O);
          const t = batchToTensors(m, batchFromTensors(m, { inputs: { data: x, shape: [B, T, I] }, targets: { data: y, shape: [B, T, O] }, mask: { data: mask, shape: [B, T] } }));
          expect(t.inputs).toEqual({ shape: [B, T, I], data: x });
          expect(t.mask).toEqual({ shape: [B, T], data: mask });
          expect(t.targets.shape).toEqual([B, T, O]);
          for (let i = 0; i < B * T * O; i++) expect(t.targets.data[i]).toBe(mask[Math.floor(i / O)] === 1 ? y[i] : 0);
        },
      ),
      { numRuns: 100, seed: FC_SEED },
    );
  });

  it('outputsToTensor packs predict outputs[b][t][k] at (b, t, k) and refuses ragged outputs', () => {
    const m = model(2, 3);
    const [params] = initModel(m, rngFromSeed(0));
    const batch = batchFromTensors(m, { inputs: { data: coded(2, 4, 2).map((v) => v / 100), shape: [2, 4, 2] } });
    const { outputs } = predict(m, params, batch);
    const y = outputsToTensor(outputs);
    expect(y.shape).toEqual([2, 4, 3]);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) for (let k = 0; k < 3; k++) expect(y.data[(b * 4 + t) * 3 + k]).toBe(outputs[b]![t]![k]);
    expect(() => outputsToTensor([outputs[0]!, outputs[1]!.slice(1)])).toThrow(/^outputs\[1\] has 3, expected 4 steps/);
    expect(() => outputsToTensor([])).toThrow(InvalidInputError);
  });
});
