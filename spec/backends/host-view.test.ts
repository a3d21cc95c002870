/**
 * Host views without ndarray (src/backends/host/view.ts): `copyView` gathers any strided view exactly as ndarray
 * indexes it (ndarray is a test-only dependency here, the independent definition of the layout), `hostView` is
 * row-major, and a view that names elements outside its data, or has the wrong number of strides, is refused
 * before anything is written.
 */
import { fc, test } from '@fast-check/vitest';
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { BackendArrayError } from '../../src/backends/errors.js';
import { copyView, hostView, rowMajorStrides } from '../../src/backends/host/view.js';
import { referenceBackend } from '../../src/backends/reference.js';

/** Every element of an ndarray view in row-major order, through its own get(). */
const elements = (x: ndarray.NdArray<Float64Array>): number[] => {
  const out: number[] = [];
  const walk = (index: number[]) => {
    if (index.length === x.shape.length) out.push(x.get(...index));
    else for (let i = 0; i < x.shape[index.length]!; i++) walk([...index, i]);
  };
  walk([]);
  return out;
};

/** A random view of a random array: transposed, sliced (hi/lo), stepped (negative steps too) and picked. */
const viewArb = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      perm: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }),
      lo: fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }))),
      step: fc.tuple(...shape.map(() => fc.constantFrom(1, 2, -1, -2))),
      pick: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    }),
  )
  .map(({ shape, perm, lo, step, pick }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    let x = ndarray(Float64Array.from({ length: size }, (_, i) => i + 0.25), shape);
    x = x.transpose(...perm);
    x = x.lo(...lo.map((l, d) => Math.min(l, x.shape[d]! - 1)));
    x = x.step(...step);
    if (pick !== undefined && x.shape.length > 1) x = x.pick(Math.min(pick, x.shape[0]! - 1)) as typeof x;
    return x;
  });

describe('host views', () => {
  test.prop([viewArb], { numRuns: 300 })('copyView gathers every strided view in ndarray’s row-major order', (x) => {
    const want = elements(x);
    const dst64 = new Float64Array(want.length);
    copyView('test', dst64, x);
    expect([...dst64]).toEqual(want);
    const dst32 = new Float32Array(want.length);
    copyView('test', dst32, x);
    expect([...dst32]).toEqual(want.map(Math.fround));
  });

  it('hostView is row-major at offset 0; plain arrays and zero-dimensional views copy too', () => {
    const v = hostView([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(v).toEqual({ data: [1, 2, 3, 4, 5, 6], shape: [2, 3], stride: [3, 1], offset: 0 });
    expect(rowMajorStrides([2, 3, 4])).toEqual([12, 4, 1]);
    const out = new Float64Array(6);
    copyView('test', out, v);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6]);
    const scalar = new Float64Array(1);
    copyView('test', scalar, { data: [7, 8], shape: [], stride: [], offset: 1 });
    expect(scalar[0]).toBe(8);
  });

  it('refuses views that reach outside their data or have the wrong strides, and data too short for a shape', () => {
    const dst = new Float64Array(8);
    expect(() => copyView('write', dst, { data: new Float64Array(6), shape: [2, 3], stride: [3, 1], offset: 1 })).toThrow(/reaches elements 1\.\.6 of data of length 6/);
    expect(() => copyView('write', dst, { data: new Float64Array(6), shape: [2, 3], stride: [-3, 1], offset: 0 })).toThrow(BackendArrayError);
    expect(() => copyView('write', dst, { data: new Float64Array(6), shape: [2, 3], stride: [3], offset: 0 })).toThrow(/one stride per axis/);
    expect(() => hostView(new Float64Array(5), [2, 3])).toThrow(/needs 6 numbers, the data has 5/);
    expect([...dst]).toEqual(new Array(8).fill(0));
  });

  it('a backend refuses a bad view on upload without keeping the array, and on write without changing it', async () => {
    const be = referenceBackend();
    const a = be.upload(hostView(new Float64Array([1, 2, 3, 4]), [2, 2]));
    const before = be.memory().arrays;
    expect(() => be.upload({ data: new Float64Array(4), shape: [2, 2], stride: [2, 1], offset: 1 })).toThrow(BackendArrayError);
    expect(be.memory().arrays).toBe(before);
    expect(() => be.write(a, { data: new Float64Array(4), shape: [2, 2], stride: [4, 1], offset: 0 })).toThrow(BackendArrayError);
    expect([...(await be.read(a)).data]).toEqual([1, 2, 3, 4]);
  });
});
