/**
 * Stacked sums of outer products (src/ops/outerSums.ts): on the reference backend a flush adds exactly the
 * sequential sum ((0 + u₁⊗v₁) + u₂⊗v₂) + … of the core's order, also when more terms come than expected (the stack
 * grows) and when a second round of sums of other widths follows in the same batch.
 */
import { describe, expect, it } from 'vitest';
import ndarray from 'ndarray';
import { referenceBackend } from '../src/backends/reference.js';
import type { Backend, DeviceArray } from '../src/backends/backend.js';
import { Buffers } from '../src/engine/buffers.js';
import { addOuter } from '../src/ops/context.js';
import { randomData } from './backends/support.js';

const B = 2;

/** Σ_t u_t ⊗ v_t per example, added term by term from +0 (the core's order). */
const sequential = (us: Float64Array[], vs: Float64Array[], m: number, n: number): Float64Array => {
  const acc = new Float64Array(B * m * n);
  us.forEach((u, t) => {
    for (let b = 0; b < B; b++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) acc[(b * m + i) * n + j]! += u[b * m + i]! * vs[t]![b * n + j]!;
  });
  return acc;
};

const sumsOf = async (be: Backend, buf: Buffers<DeviceArray>, expected: number, terms: number, m: number, n: number, seed: number) => {
  const us = Array.from({ length: terms }, (_, t) => randomData(seed + t, B * m));
  const vs = Array.from({ length: terms }, (_, t) => randomData(seed + 50 + t, B * n));
  const acc = buf.zeroed(`acc.${m}x${n}`, [B, m, n]);
  buf.sumOuterProducts(expected, () => {
    for (let t = 0; t < terms; t++) addOuter(buf, `tmp.${m}x${n}`, acc, be.upload(ndarray(us[t]!, [B, m])), be.upload(ndarray(vs[t]!, [B, n])), 'each');
  });
  return { got: Float64Array.from((await be.read(acc)).data), want: sequential(us, vs, m, n) };
};

describe('OuterSums', () => {
  it.each([
    ['as many terms as expected', 4, 4],
    ['fewer terms than expected', 4, 3],
    ['more terms than expected (the stack grows twice)', 1, 5],
  ])('%s: the sequential sum, exactly', async (_label, expected, terms) => {
    const be = referenceBackend() as unknown as Backend;
    const buf = new Buffers(be);
    const { got, want } = await sumsOf(be, buf, expected, terms, 3, 4, 10);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('a second round of other widths in the same batch, then the first again: each exact, and no new arrays once both ran', async () => {
    const be = referenceBackend() as unknown as Backend;
    const buf = new Buffers(be);
    for (const [m, n, seed] of [[3, 4, 10], [2, 5, 20]] as const) {
      const { got, want } = await sumsOf(be, buf, 3, 3, m, n, seed);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    const alloc = be.alloc.bind(be);
    const allocated: number[][] = [];
    be.alloc = (shape) => (allocated.push([...shape]), alloc(shape));
    for (const [m, n, seed] of [[3, 4, 30], [2, 5, 40]] as const) {
      const { got, want } = await sumsOf(be, buf, 3, 3, m, n, seed);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    // The stacks of both widths were kept: nothing was allocated the second time (inputs are uploads).
    expect(allocated).toEqual([]);
  });
});
