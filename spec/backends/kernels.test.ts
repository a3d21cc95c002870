/**
 * Backend conformance, part 1: the data store and the generic kernels of every backend (and every gpu.js mode)
 * that can start here, against the float64 reference backend on random data. The cases come from the
 * enumerations (UNARY_OPS, BINARY_OPS, REDUCE_OPS, the product's transposes and accumulation), so a new op is
 * tested as soon as it exists. Modes that cannot start are listed as skipped with the reason.
 *
 * Tolerances come from each backend's unit roundoff ε through the classic bound for a sum of n rounded
 * operations, |fl(Σ) − Σ| ≤ n·ε·Σ|summands| (`boundRatio`); each test states n.
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { BINARY_OPS, type Backend, type BinaryOp, type DeviceArray, type MatmulOptions, REDUCE_OPS, UNARY_OPS, type UnaryOp } from '../../src/backends/backend.js';
import { BackendArrayError } from '../../src/backends/errors.js';
import { referenceBackend } from '../../src/backends/reference.js';
import { type Candidate, boundRatio, down, maxAbs, randomData, startAll, unstarted, up } from './support.js';

const { available, unavailable } = await startAll();
const ref = referenceBackend() as unknown as Backend;


type Inputs = Record<string, readonly [Float64Array, readonly number[]]>;

/** Run the same kernels on a backend and on the reference with the same host inputs; both outputs, read back. */
const both = async (
  be: Backend,
  inputs: Inputs,
  outputs: Record<string, readonly number[]>,
  op: (b: Backend, a: Record<string, DeviceArray>) => void,
  init: Record<string, Float64Array> = {},
): Promise<Record<string, [Float64Array, Float64Array]>> => {
  const run = async (b: Backend) => {
    const arrays: Record<string, DeviceArray> = {};
    for (const [k, [d, s]] of Object.entries(inputs)) arrays[k] = up(b, d, s);
    for (const [k, s] of Object.entries(outputs)) arrays[k] = init[k] === undefined ? b.alloc(s) : up(b, init[k]!, s);
    op(b, arrays);
    const res: Record<string, Float64Array> = {};
    for (const k of Object.keys(outputs)) res[k] = await down(b, arrays[k]!);
    for (const a of Object.values(arrays)) b.dispose(a);
    return res;
  };
  const x = await run(be);
  const r = await run(ref);
  return Object.fromEntries(Object.keys(outputs).map((k) => [k, [x[k]!, r[k]!]]));
};

/** Every output within n·ε·scale of the reference (ε of the backend plus the reference's). */
const expectWithin = (res: Record<string, [Float64Array, Float64Array]>, be: Backend, terms: number, scale: number): void => {
  for (const [k, [x, r]] of Object.entries(res)) expect(boundRatio(x, r, be.epsilon + ref.epsilon, terms, scale), k).toBeLessThanOrEqual(1);
};

/** A domain where the op is defined and well conditioned, and the largest |f| there (for the bound's scale). */
const domainOf = (op: UnaryOp): readonly [number, number, number] => {
  switch (op) {
    case 'log':
    case 'sqrt':
      return [0.1, 3, 2];
    case 'exp':
      return [-2, 2, 8];
    case 'log1p':
      return [-0.5, 2, 2];
    default:
      return [-2, 2, 4];
  }
};

const B = 3;
const N = 5;

/** Broadcast patterns of `binary`: [a's shape, b's shape] against out [B, N] (numbers are scalars). */
const BROADCASTS: readonly (readonly [string, readonly number[] | number, readonly number[] | number])[] = [
  ['same shape', [B, N], [B, N]],
  ['row vector', [B, N], [N]],
  ['column', [B, N], [B, 1]],
  ['scalar right', [B, N], 0.75],
  ['scalar left', 1.5, [B, N]],
  ['[1, 1] scalar array', [B, N], [1, 1]],
];

const MATMULS: readonly (readonly [string, readonly number[], readonly number[], readonly number[], MatmulOptions])[] = [];
for (const transposeA of [false, true])
  for (const transposeB of [false, true])
    for (const accumulate of [false, true]) {
      const o = { transposeA, transposeB, accumulate };
      const [m, k, n] = [3, 4, 2];
      const aS = (batch: number[]) => [...batch, ...(transposeA ? [k, m] : [m, k])];
      const bS = (batch: number[]) => [...batch, ...(transposeB ? [n, k] : [k, n])];
      const tag = `${transposeA ? 'aᵀ' : 'a'}·${transposeB ? 'bᵀ' : 'b'}${accumulate ? ' +=' : ''}`;
      (MATMULS as unknown[]).push([`${tag} 2-D`, aS([]), bS([]), [m, n], o]);
      (MATMULS as unknown[]).push([`${tag} batched`, aS([B]), bS([B]), [B, m, n], o]);
      (MATMULS as unknown[]).push([`${tag} batched × shared`, aS([B]), bS([]), [B, m, n], o]);
      (MATMULS as unknown[]).push([`${tag} [B, 1, …] broadcast`, aS([B, 1]), bS([1, 2]), [B, 2, m, n], o]);
    }

const suite = ({ backend: be, make }: Candidate) => {
  it('reports its mode and precision', () => {
    expect(typeof be.mode).toBe('string');
    expect([32, 64]).toContain(be.precision);
    expect(be.epsilon).toBe(be.precision === 64 ? 2 ** -53 : 2 ** -24);
  });

  describe('data store', () => {
    it('upload and read back round to the storage precision; strided views upload transposed; write, fill, reshape', async () => {
      const d = randomData(1, 12);
      const a = up(be, d, [3, 4]);
      expect(boundRatio(await down(be, a), d, be.epsilon, 1, 1)).toBeLessThanOrEqual(1);
      const t = be.upload(ndarray(d, [3, 4]).transpose(1, 0));
      expect(t.shape).toEqual([4, 3]);
      const back = await down(be, t);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expect(Math.abs(back[i * 3 + j]! - d[j * 4 + i]!)).toBeLessThanOrEqual(be.epsilon);
      be.write(a, ndarray(new Float64Array(12).fill(0.5), [3, 4]));
      expect([...(await down(be, a))]).toEqual(new Array(12).fill(0.5));
      be.fill(a, 2);
      const r = be.reshape(a, [2, 6]);
      expect(r.shape).toEqual([2, 6]);
      expect([...(await down(be, r))]).toEqual(new Array(12).fill(2));
      // The alias sees later writes to the array it aliases.
      be.fill(a, -1);
      expect([...(await down(be, r))]).toEqual(new Array(12).fill(-1));
      be.dispose(t);
      be.dispose(a);
    });
    it('reading a disposed array, disposing an alias, or using another backend’s array fails with a typed error', async () => {
      const fresh = make();
      const mine = fresh.alloc([B, N]);
      const gone = fresh.alloc([2]);
      fresh.dispose(gone);
      await expect(fresh.read(gone)).rejects.toThrow(BackendArrayError);
      const fresh2 = make();
      const alias = fresh2.reshape(fresh2.alloc([4]), [2, 2]);
      // A synchronous backend throws at the call; an asynchronous one rejects the next read.
      const surfaces = async (b: Backend, f: () => void, probe: DeviceArray) => {
        try {
          f();
          await b.read(probe);
        } catch (e) {
          return e;
        }
        return null;
      };
      expect(await surfaces(fresh2, () => fresh2.dispose(alias), fresh2.alloc([1]))).toBeInstanceOf(BackendArrayError);
      const foreign = referenceBackend().alloc([B, N]);
      const fresh3 = make();
      const m3 = fresh3.alloc([B, N]);
      expect(await surfaces(fresh3, () => fresh3.binary(m3, m3, foreign as DeviceArray, 'add'), m3)).toBeInstanceOf(BackendArrayError);
      const fresh4 = make();
      const m4 = fresh4.alloc([B, N]);
      expect(await surfaces(fresh4, () => fresh4.binary(m4, m4, fresh4.alloc([2]), 'add'), m4)).toBeInstanceOf(BackendArrayError);
      expect(() => be.write(mine, ndarray(new Float64Array(5), [5]))).toThrow(BackendArrayError);
    });
    it('counts every live array, empty ones too, and refuses shapes that are not non-negative integers', async () => {
      const fresh = make();
      const probe = fresh.alloc([1]);
      const before = fresh.memory().arrays;
      const empty = fresh.alloc([0, 3]);
      expect(fresh.memory().arrays).toBe(before + 1);
      fresh.dispose(empty);
      await fresh.read(probe);
      expect(fresh.memory().arrays).toBe(before);
      for (const shape of [[-1], [2.5, 2], [Number.NaN]]) expect(() => fresh.alloc(shape), `[${shape}]`).toThrow(BackendArrayError);
      expect(() => fresh.allocTrace(2, -1, 3)).toThrow(BackendArrayError);
    });
    it('accounts memory of live arrays (released once the queued work before the dispose is done)', async () => {
      const probe = be.alloc([1]);
      const before = be.memory().bytes;
      const a = be.alloc([64, 64]);
      expect(be.memory().bytes - before).toBeGreaterThanOrEqual(64 * 64 * (be.precision / 8));
      expect(be.memory().peakBytes).toBeGreaterThanOrEqual(be.memory().bytes);
      be.dispose(a);
      await be.read(probe);
      expect(be.memory().bytes).toBe(before);
      be.dispose(probe);
    });
  });

  describe('generic kernels', () => {
    // One rounding of a function value; the GPU's and the C library's transcendental functions are accurate to a
    // few ulps, so 8 roundings of the result's scale.
    it.each(UNARY_OPS)('unary %s (≤ 8 roundings of the result)', async (op) => {
      const [lo, hi, scale] = domainOf(op);
      const res = await both(be, { x: [randomData(3, B * N, lo, hi), [B, N]] }, { o: [B, N] }, (b, v) => b.unary(v['o']!, v['x']!, op));
      expectWithin(res, be, 8, scale);
    });
    for (const op of BINARY_OPS)
      for (const [label, sa, sb] of BROADCASTS)
        it(`binary ${op}, ${label} (one rounding)`, async () => {
          const inputs: Inputs = {};
          if (typeof sa !== 'number') inputs['a'] = [randomData(4, sa.reduce((x, y) => x * y, 1), 0.5, 2), sa];
          if (typeof sb !== 'number') inputs['b'] = [randomData(5, sb.reduce((x, y) => x * y, 1), 0.5, 2), sb];
          const res = await both(be, inputs, { o: [B, N] }, (b, v) => b.binary(v['o']!, typeof sa === 'number' ? sa : v['a']!, typeof sb === 'number' ? sb : v['b']!, op as BinaryOp));
          expectWithin(res, be, 2, 4);
        });
    it('binary in place (out aliases an operand)', async () => {
      const res = await both(be, { b: [randomData(6, B * N), [B, N]] }, { o: [B, N] }, (b, v) => b.binary(v['o']!, v['o']!, v['b']!, 'sub'), { o: randomData(7, B * N) });
      expectWithin(res, be, 2, 2);
    });
    it.each(MATMULS)('matmul %s (k + 2 terms)', async (_label, aShape, bShape, outShape, o) => {
      const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
      const res = await both(
        be,
        { a: [randomData(8, size(aShape)), aShape], b: [randomData(9, size(bShape)), bShape] },
        { o: outShape },
        (b, v) => b.matmul(v['o']!, v['a']!, v['b']!, o),
        { o: randomData(10, size(outShape)) },
      );
      expectWithin(res, be, 6, 6);
    });
    for (const op of REDUCE_OPS)
      for (const [shape, axis] of [[[7], 0], [[B, N], 0], [[B, N], 1], [[2, B, N], 1]] as const)
        it(`reduce ${op} over axis ${axis} of [${shape.join(', ')}] (≤ 8 terms)`, async () => {
          const out = shape.filter((_, i) => i !== axis);
          const res = await both(be, { x: [randomData(11, shape.reduce((x: number, y: number) => x * y, 1)), shape] }, { o: out }, (b, v) => b.reduce(v['o']!, v['x']!, op, axis));
          expectWithin(res, be, 8, 8);
        });
    it('copyBlock: 2-D and 3-D blocks, the rest of out kept (exact)', async () => {
      const res = await both(
        be,
        { x: [randomData(12, 4 * 5), [4, 5]], y: [randomData(13, 2 * 3 * 4), [2, 3, 4]] },
        { o: [B, N], p: [2, 4, 4] },
        (b, v) => {
          b.copyBlock(v['o']!, v['x']!, { outBegin: [1, 2], xBegin: [0, 1], size: [2, 3] });
          b.copyBlock(v['p']!, v['y']!, { outBegin: [0, 1, 0], xBegin: [0, 0, 1], size: [2, 3, 3] });
        },
        { o: randomData(14, B * N), p: randomData(15, 2 * 4 * 4) },
      );
      expectWithin(res, be, 1, 1);
    });
    it('fill and clipSegments (norms of ≤ 8 terms, one scaling)', async () => {
      const a = randomData(16, B * N);
      const res = await both(be, {}, { f: [B, N], c: [B * N] }, (b, v) => {
        b.fill(v['f']!, -0.25);
        b.clipSegments(v['c']!, [8, B * N - 8], 0.5);
      }, { c: a });
      expectWithin(res, be, 16, 2);
      expect(Math.hypot(...res['c']![0].subarray(0, 8))).toBeLessThanOrEqual(0.5 * (1 + 8 * be.epsilon));
    });
  });

  describe('traces', () => {
    const R = 3;
    const nIn = 4;
    const P = R * nIn + R;
    // J entries ≤ 1/R keep ‖J‖∞ ≤ 1, so three updates do not grow E; each update is a sum of R + 2 roundings per
    // entry, each contraction R + B + 2, and errors from earlier steps add (3 steps: 3·(R + 2) + R + B + 2).
    const J = (seed: number) => [randomData(seed, B * R * R, -1 / R, 1 / R), [B, R, R]] as const;
    it('traceUpdate without J (the first step), with decay and the fused contraction, and traceContract', async () => {
      const res = await both(
        be,
        { s1: [randomData(61, B * nIn), [B, nIn]], s2: [randomData(62, B * nIn), [B, nIn]], J1: J(63), J2: J(64), d: [randomData(65, B * R), [B, R]] },
        { c1: [P], c2: [P], c3: [P] },
        (x, v) => {
          const E = x.allocTrace(B, R, P);
          x.traceUpdate(E, null, 0, { kind: 'linear', input: v['s1']! });
          x.traceUpdate(E, v['J1']!, 0.9, { kind: 'linear', input: v['s2']! }, { delta: v['d']!, out: v['c1']! });
          x.traceUpdate(E, v['J2']!, 0.7, { kind: 'linear', input: v['s1']! });
          x.traceContract(v['c2']!, v['d']!, E);
          x.traceUpdate(E, v['J1']!, 1, { kind: 'linear', input: v['s2']! }, { delta: v['d']!, out: v['c3']! });
          x.dispose(E);
        },
      );
      expectWithin(res, be, 4 * (R + 2) + R + B + 2, 4 * R);
    });
    it('trace kernels refuse a J, δ, input or output of the wrong shape with a typed error', async () => {
      const cases: readonly (readonly [string, (x: Backend, E: DeviceArray) => void])[] = [
        ['J [B, R, R + 1]', (x, E) => x.traceUpdate(E, x.alloc([B, R, R + 1]), 0.5, { kind: 'linear', input: x.alloc([B, nIn]) })],
        ['input [B + 1, n]', (x, E) => x.traceUpdate(E, null, 0, { kind: 'linear', input: x.alloc([B + 1, nIn]) })],
        ['input [B, n + 1]', (x, E) => x.traceUpdate(E, null, 0, { kind: 'linear', input: x.alloc([B, nIn + 1]) })],
        ['δ [B, R + 1]', (x, E) => x.traceContract(x.alloc([P]), x.alloc([B, R + 1]), E)],
        ['out [P + 1]', (x, E) => x.traceContract(x.alloc([P + 1]), x.alloc([B, R]), E)],
        ['fused out [P + 1]', (x, E) => x.traceUpdate(E, x.alloc([B, R, R]), 0.5, { kind: 'linear', input: x.alloc([B, nIn]) }, { delta: x.alloc([B, R]), out: x.alloc([P + 1]) })],
      ];
      for (const [label, f] of cases) {
        const fresh = make();
        const E = fresh.allocTrace(B, R, P);
        let error: unknown = null;
        try {
          f(fresh, E);
          await fresh.read(E);
        } catch (e) {
          error = e;
        }
        expect(error, label).toBeInstanceOf(BackendArrayError);
      }
    });
    it('read, write and fill a trace; other kernels refuse it', async () => {
      const fresh = make();
      const E = fresh.allocTrace(B, R, P);
      const d = randomData(66, B * R * P);
      fresh.write(E, ndarray(d, [B, R, P]));
      expect(boundRatio(await down(fresh, E), d, fresh.epsilon, 1, 1)).toBeLessThanOrEqual(1);
      fresh.fill(E, 0);
      expect(maxAbs(await down(fresh, E))).toBe(0);
      let error: unknown = null;
      try {
        fresh.binary(E, E, 1, 'add');
        await fresh.read(E);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BackendArrayError);
    });
  });
};

describe.each(available)('$name', suite);
// Backends that cannot start here: every case listed, skipped, with the reason in the suite's name.
for (const u of unavailable) describe.skip(`${u.name}: cannot start on this machine — ${u.reason}`, () => suite(unstarted(u.name)));

