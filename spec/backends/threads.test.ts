/**
 * The CPU backend's SIMD matrix product and its threads.
 *
 * - The product (src/backends/cpu/gemm.ts) against an independent loop that rounds as the reference does (each
 *   entry Σ_p from +0 in ascending p, one rounding per multiply and per add; float32 simulated with Math.fround):
 *   equal bit for bit, for every transpose, accumulate, shape and thread count.
 * - Whole training runs at sizes that take the SIMD product and split work among threads (products above
 *   PARALLEL_MIN_MACS, trace updates of several examples): 1 and 2 threads give identical numbers for every
 *   method, in both precisions, and the 2-thread backend did hand work to its worker.
 * - The `threads` option's typed errors.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { type CpuBackend, cpuBackend } from '../../src/backends/cpu/index.js';
import { GEMM_MIN_MACS, type Strided, gemm } from '../../src/backends/cpu/gemm.js';
import { Pool } from '../../src/backends/cpu/pool.js';
import { traceKernels } from '../../src/backends/cpu/wasm.js';
import { PARALLEL_MIN_MACS, Workspace } from '../../src/backends/cpu/workspace.js';
import { createTrainer } from '../../src/engine/trainer.js';
import { type LearnerConfig, type Method, learnerInit } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import type { Batch } from '../../src/core/model.js';
import { rngFromSeed } from '../../src/core/random.js';
import { allMethodCases } from './cases.js';
import { randomData } from './support.js';

/** The reference's rounding: Σ_p from +0 ascending, one rounding per operation (fround at precision 32). */
const loopProduct = (precision: 32 | 64, m: number, n: number, k: number, a: Strided, b: Strided, c: Float64Array, accumulate: boolean): Float64Array => {
  const r = precision === 32 ? Math.fround : (x: number) => x;
  const out = Float64Array.from(c);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s = r(s + r(a.data[a.off + i * a.rs + p * a.cs]! * b.data[b.off + p * b.rs + j * b.cs]!));
      out[i * n + j] = accumulate ? r(out[i * n + j]! + s) : s;
    }
  return out;
};

const pools: Pool[] = [];
afterAll(() => pools.forEach((p) => p.destroy()));

describe.each([32, 64] as const)('the SIMD product at precision %i', (precision) => {
  const kernels = traceKernels(precision, 'off')!;
  const make = (n: number, seed: number) => {
    const d = randomData(seed, n);
    return precision === 32 ? Float32Array.from(d) : d;
  };
  const pool = new Pool(2);
  pools.push(pool);
  const workspaces = [
    ['1 thread', new Workspace(kernels, precision, null)],
    ['2 threads', Workspace.shared(kernels, precision, pool)],
  ] as const;

  it.each(workspaces)('equals the reference loop bit for bit, every transpose and accumulate (%s)', async (_, ws) => {
    await pool.whenStarted();
    fc.assert(
      fc.property(
        fc.record({ m: fc.integer({ min: 1, max: 70 }), n: fc.integer({ min: 1, max: 70 }), k: fc.integer({ min: 1, max: 90 }), ta: fc.boolean(), tb: fc.boolean(), acc: fc.boolean(), seed: fc.nat(1000), pad: fc.nat(3) }),
        ({ m, n, k, ta, tb, acc, seed, pad }) => {
          // Operands inside larger buffers (an offset, a padded row stride) as the backend's views can be.
          const aRows = ta ? k : m;
          const aCols = (ta ? m : k) + pad;
          const bRows = tb ? n : k;
          const bCols = (tb ? k : n) + pad;
          const ad = make(pad + aRows * aCols, seed);
          const bd = make(pad + bRows * bCols, seed + 1);
          const a: Strided = { data: ad, off: pad, rs: ta ? 1 : aCols, cs: ta ? aCols : 1 };
          const b: Strided = { data: bd, off: pad, rs: tb ? 1 : bCols, cs: tb ? bCols : 1 };
          const c0 = make(m * n, seed + 2);
          const c = Float64Array.from(c0);
          const cT = precision === 32 ? Float32Array.from(c) : c;
          gemm(ws, m, n, k, a, b, cT, 0, n, acc);
          const want = loopProduct(precision, m, n, k, a, b, Float64Array.from(c0), acc);
          expect(Float64Array.from(cT)).toEqual(want);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('splits a large product among the threads and still equals the loop', async () => {
    await pool.whenStarted();
    const ws = workspaces[1][1];
    const m = 96;
    const n = 80;
    const k = Math.ceil(PARALLEL_MIN_MACS / (m * n)) + 3;
    const a: Strided = { data: make(m * k, 5), off: 0, rs: k, cs: 1 };
    const b: Strided = { data: make(k * n, 6), off: 0, rs: 1, cs: k };
    const c = precision === 32 ? new Float32Array(m * n) : new Float64Array(m * n);
    const before = pool.dispatched;
    gemm(ws, m, n, k, a, b, c, 0, n, false);
    expect(pool.dispatched).toBeGreaterThan(before);
    expect(Float64Array.from(c)).toEqual(loopProduct(precision, m, n, k, a, b, new Float64Array(m * n), false));
  });

  it('keeps small products in JavaScript with the same rounding', () => {
    const ws = workspaces[0][1];
    const m = 3;
    const n = 5;
    const k = 7;
    expect(m * n * k).toBeLessThan(GEMM_MIN_MACS);
    const a: Strided = { data: make(m * k, 8), off: 0, rs: k, cs: 1 };
    const b: Strided = { data: make(k * n, 9), off: 0, rs: n, cs: 1 };
    const c = precision === 32 ? new Float32Array(m * n) : new Float64Array(m * n);
    gemm(ws, m, n, k, a, b, c, 0, n, false);
    expect(Float64Array.from(c)).toEqual(loopProduct(precision, m, n, k, a, b, new Float64Array(m * n), false));
  });
});

// Sizes where every product of the cell (B × 4H × (I or H) ≥ PARALLEL_MIN_MACS) and the trace update's examples
// are split between the threads.
const H = 64;
const I = 16;
const B = 32;
const T = 3;
const O = 4;

const batchOf = (seed: number, b: number): Batch =>
  Array.from({ length: b }, (_, q) => ({
    inputs: Array.from({ length: T }, (_, k) => randomData(seed + 100 * q + k, I)),
    targets: Array.from({ length: T }, (_, k) => (k === T - 1 || k === 1 ? randomData(seed + 100 * q + 50 + k, O) : null)),
  }));

describe.each([32, 64] as const)('1 and 2 threads at precision %i', (precision) => {
  const one = cpuBackend({ precision, threads: 1 });
  const two = cpuBackend({ precision, threads: 2 });
  afterAll(() => {
    one.destroy();
    two.destroy();
  });

  it('the sizes used here take the parallel paths', () => {
    expect(B * 4 * H * H).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
  });

  // The cell-mode traces are [B, H, 2H² + H]: a smaller batch keeps them to a few MB.
  const cases = allMethodCases('lstm').filter(([label]) => !label.includes('step schedule'));
  it.each(cases.map(([label, method]) => ({ label, method })))('$label: identical parameters and losses after two batches', async ({ method }) => {
    await two.ready();
    const b = method.kind === 'bp-lambda' ? 6 : B;
    const config: LearnerConfig = { model: { cell: lstmCell({ inputSize: I, hiddenSize: H }), outputSize: O, loss: 'mse' }, method: method as Method, network: { kind: 'sgd', lr: 0.05 }, synthesiser: { kind: 'sgd', lr: 0.05 } };
    const [s0] = learnerInit(config, rngFromSeed(3));
    const run = async (be: CpuBackend) => {
      const t = createTrainer(be as unknown as Backend, config, { computation: 'traces' });
      t.load(s0);
      const losses = [(await t.trainBatch(batchOf(10, b))).loss, (await t.trainBatch(batchOf(20, b))).loss];
      const s = await t.state();
      t.dispose();
      return { losses, params: Object.values(s.params).flatMap((p) => [...p.data]), theta: s.theta === null ? [] : Object.values(s.theta).flatMap((p) => [...p.data]) };
    };
    const before = two.threadStats().dispatched;
    const r1 = await run(one);
    const r2 = await run(two);
    expect(two.threadStats().dispatched).toBeGreaterThan(before);
    expect(r2.losses).toEqual(r1.losses);
    expect(r2.params).toEqual(r1.params);
    expect(r2.theta).toEqual(r1.theta);
    expect(r1.params.every(Number.isFinite)).toBe(true);
  });
});

describe('the threads option', () => {
  it.each([0, -1, 2.5, 257, Number.NaN, '2' as unknown as number])('refuses threads = %s, naming it', (threads) => {
    // A malformed value is bad input (the option named), not a backend that cannot start here.
    expect(() => cpuBackend({ threads })).toThrow(InvalidInputError);
    expect(() => cpuBackend({ threads })).toThrow(/^options\.threads is .*, expected an integer from 1 to 256$/);
  });
  it("refuses threads > 1 with the 'js' kernels (they run on one thread)", () => {
    expect(() => cpuBackend({ kernels: 'js', threads: 2 })).toThrow(/one thread/);
  });
  it('defaults to every available core where threads can run, and reports it', () => {
    const be = cpuBackend();
    expect(be.threads).toBeGreaterThanOrEqual(1);
    be.destroy();
    const js = cpuBackend({ kernels: 'js' });
    expect(js.threads).toBe(1);
    js.destroy();
  });
});
