/**
 * Backend conformance: one suite, run over every backend and every gpu.js mode that can start on this machine,
 * against the float64 reference backend — each op on random data, then whole training runs of every method.
 * Modes that cannot start are listed as skipped, with the reason in the test name; they never pass.
 *
 * Tolerances come from each backend's unit roundoff ε (`backend.epsilon`: 2⁻⁵³ or 2⁻²⁴) through the classic
 * bound for a sum of n rounded operations, |fl(Σ) − Σ| ≤ n·ε·Σ|summands| (`boundRatio`); each test states n.
 * The reference itself is held to the core exactly (===) in `engine-exact.test.ts`.
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import type { Backend, CellSpec, DeviceArray } from '../../src/backends/backend.js';
import { cellCacheNames, preactSize } from '../../src/backends/backend.js';
import { BackendArrayError, BackendUnavailableError } from '../../src/backends/errors.js';
import { gpujsBackend } from '../../src/backends/gpu/index.js';
import { referenceBackend } from '../../src/backends/reference.js';
import { createTrainer } from '../../src/engine/engine.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { METHOD_KINDS, SCHEDULES, type LearnerConfig, type Method, type MethodKind, learnerInit } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import { LOSSES, type Batch, type LossKind, type Model } from '../../src/core/model.js';
import { rngFromSeed } from '../../src/core/random.js';
import { ACTIVATIONS, rnnCell } from '../../src/core/rnn.js';
import { BP_LAMBDA_MODES } from '../../src/core/modes.js';
import type { Params } from '../../src/core/tensor.js';
import { boundRatio, down, maxAbs, randomData, startAll, up } from './support.js';

const { available, unavailable } = startAll();
const ref = referenceBackend() as unknown as Backend;

for (const u of unavailable)
  describe.skip(`${u.name}: cannot start on this machine — ${u.reason}`, () => {
    it('conformance suite', () => {});
  });

const B = 3;
const H = 4;
const I = 3;
const O = 2;

/** Run the same op on a backend and on the reference with the same host inputs; return both outputs. */
const both = (
  be: Backend,
  inputs: Record<string, readonly [Float64Array, readonly number[]]>,
  outputs: Record<string, readonly number[]>,
  op: (b: Backend, a: Record<string, DeviceArray>) => void,
  init: Record<string, Float64Array> = {},
): Record<string, [Float64Array, Float64Array]> => {
  const run = (b: Backend) => {
    const arrays: Record<string, DeviceArray> = {};
    for (const [k, [d, s]] of Object.entries(inputs)) arrays[k] = up(b, d, s);
    for (const [k, s] of Object.entries(outputs)) arrays[k] = init[k] === undefined ? b.alloc(s) : up(b, init[k]!, s);
    op(b, arrays);
    const res = Object.fromEntries(Object.keys(outputs).map((k) => [k, down(b, arrays[k]!)]));
    for (const a of Object.values(arrays)) b.dispose(a);
    return res;
  };
  const x = run(be);
  const r = run(ref);
  return Object.fromEntries(Object.keys(outputs).map((k) => [k, [x[k]!, r[k]!]]));
};

/** Expect every output within n·ε·scale of the reference (ε of the backend plus the reference's). */
const expectWithin = (res: Record<string, [Float64Array, Float64Array]>, be: Backend, terms: number, scale: number): void => {
  for (const [k, [x, r]] of Object.entries(res)) expect(boundRatio(x, r, be.epsilon + ref.epsilon, terms, scale), k).toBeLessThanOrEqual(1);
};

const cells: readonly CellSpec[] = [
  { type: 'rnn', activation: 'tanh' },
  { type: 'rnn', activation: 'sigmoid' },
  { type: 'rnn', activation: 'relu' },
  { type: 'rnn', activation: 'identity' },
  { type: 'lstm' },
];

const cellParams = (spec: CellSpec, seed: number): Record<string, readonly [Float64Array, readonly number[]]> =>
  spec.type === 'rnn'
    ? {
        W_in: [randomData(seed, H * I), [H, I]],
        W_rec: [randomData(seed + 1, H * H, -0.5, 0.5), [H, H]],
        b: [randomData(seed + 2, H), [H]],
      }
    : {
        W_ih: [randomData(seed, 4 * H * I), [4 * H, I]],
        W_hh: [randomData(seed + 1, 4 * H * H, -0.5, 0.5), [4 * H, H]],
        b: [randomData(seed + 2, 4 * H), [4 * H]],
      };

/** A forward step's inputs and outputs, for the cell-op tests. */
const forwardCase = (spec: CellSpec, seed: number) => {
  const S = spec.type === 'rnn' ? H : 2 * H;
  const inputs = { ...cellParams(spec, seed), prev: [randomData(seed + 3, B * S), [B, S]] as const, x: [randomData(seed + 4, B * I), [B, I]] as const };
  const outputs: Record<string, readonly number[]> = { state: [B, S], ...Object.fromEntries(cellCacheNames(spec).map((n) => [`c.${n}`, [B, H]])) };
  const forward = (b: Backend, a: Record<string, DeviceArray>) => {
    const params: Record<string, DeviceArray> =
      spec.type === 'rnn' ? { W_in: a['W_in']!, W_rec: a['W_rec']!, b: a['b']! } : { W_ih: a['W_ih']!, W_hh: a['W_hh']!, b: a['b']! };
    const cache = Object.fromEntries(cellCacheNames(spec).map((n) => [n, a[`c.${n}`]!]));
    b.cellForward(spec, params, a['prev']!, a['x']!, a['state']!, cache);
    return { params, cache };
  };
  return { S, inputs, outputs, forward };
};

// -- whole runs --------------------------------------------------------------------------------------------------

const bp = (mode: 'full' | 'cell', over: Partial<Extract<Method, { kind: 'bp-lambda' }>> = {}): Method => ({
  kind: 'bp-lambda',
  mode,
  schedule: 'sequence',
  synthesiser: { hidden: [] },
  gamma: 0.9,
  lambda: 0.7,
  beta: 0.5,
  synthClip: Infinity,
  ...over,
});

/** Cells the engine knows: the LSTM and the RNN with each activation. */
const CELL_KINDS = ['lstm', ...ACTIVATIONS] as const;
type CellKind = (typeof CELL_KINDS)[number];

const unreachable = (x: never): never => {
  throw new Error(`unhandled case ${String(x)}`);
};

/**
 * The method configurations run for one method kind on one cell: every mode and schedule of BP(λ) (the cell mode
 * only on the LSTM), both targets and alignments of n-step SG, and the per-step clip. The switch is exhaustive,
 * so a new method kind is a compile error here until it is given cases.
 */
const methodCases = (kind: MethodKind, cell: CellKind): readonly (readonly [string, Method])[] => {
  switch (kind) {
    case 'bptt':
      return [['bptt', { kind: 'bptt' }]];
    case 'tbptt':
      return [['tbptt n=2 end-aligned', { kind: 'tbptt', n: 2, align: 'end' }]];
    case 'online':
      return [['online (e-prop)', { kind: 'online' }]];
    case 'sg':
      return [
        ['n-step SG n=2', { kind: 'sg', n: 2, gamma: 0.9, beta: 0.7, align: 'start', target: 'discounted', synthesiser: { hidden: [] } }],
        ['n-step SG authors target, c = 1/3', { kind: 'sg', n: 2, gamma: 0.9, beta: 0.7, align: 'end', target: 'authors', targetScale: 1 / 3, synthesiser: { hidden: [] } }],
      ];
    case 'bp-lambda':
      return BP_LAMBDA_MODES.filter((mode) => mode === 'full' || cell === 'lstm').flatMap((mode) =>
        SCHEDULES.flatMap((schedule): (readonly [string, Method])[] => [
          [`BP(λ) ${mode}, ${schedule} schedule`, bp(mode, { schedule })],
          [`BP(λ) ${mode}, ${schedule} schedule, clip 0.05, λ = 1, β = 0.1, c = 1/3`, bp(mode, { schedule, synthClip: 0.05, lambda: 1, beta: 0.1, targetScale: 1 / 3 })],
        ]),
      );
  }
  return unreachable(kind);
};

/** A target of each loss: real values (mse), a one-hot class (xent), independent bits (bce). */
const targetOf = (loss: LossKind, seed: number): Float64Array => {
  switch (loss) {
    case 'mse':
      return randomData(seed, O);
    case 'xent':
      return Float64Array.from({ length: O }, (_, k) => (k === seed % O ? 1 : 0));
    case 'bce':
      return randomData(seed, O, 0, 1).map((u) => (u < 0.5 ? 0 : 1));
  }
  return unreachable(loss);
};

const T = 5;
const cellOf = (kind: CellKind) => (kind === 'lstm' ? lstmCell({ inputSize: I, hiddenSize: H }) : rnnCell({ inputSize: I, hiddenSize: H, activation: kind }));
const modelOf = (cell: CellKind, loss: LossKind = 'mse'): Model => ({ cell: cellOf(cell), outputSize: O, loss });

/** A batch with targets of the loss's kind at odd steps and the last, inputs in [−1, 1). */
const batchOf = (seed: number, loss: LossKind = 'mse', b = B, t = T): Batch =>
  Array.from({ length: b }, (_, q) => ({
    inputs: Array.from({ length: t }, (_, k) => randomData(seed + 100 * q + k, I)),
    targets: Array.from({ length: t }, (_, k) => (k % 2 === 1 || k === t - 1 ? targetOf(loss, seed + 100 * q + 50 + k) : null)),
  }));

const configOf = (model: Model, method: Method): LearnerConfig => ({
  model,
  method,
  network: { kind: 'sgd', lr: 0.1 },
  synthesiser: { kind: 'sgd', lr: 0.1 },
});

/** A state with a nonzero synthesiser (the default zero init would hide the synthesiser's terms). */
const stateOf = (config: LearnerConfig) => {
  const [s] = learnerInit(config, rngFromSeed(7));
  if (s.theta === null) return s;
  const theta: Params = Object.fromEntries(Object.entries(s.theta).map(([k, t], i) => [k, { shape: t.shape, data: randomData(90 + i, t.data.length, -0.3, 0.3) }]));
  return { ...s, theta };
};

// Whole runs chain T steps of dot products of at most S + I + 1 ≤ 12 terms (forward), the same back (BPTT,
// targets) or through traces (sums of ≤ S terms per step, over T steps), and a batch mean: every output entry
// is a sum of at most ~T·(S + I + P_row + B) ≈ 100 rounded operations on terms bounded by the output's scale
// (weights ≤ 1, recurrent ≤ 0.5·√H, so Jacobian products do not grow). n = 2¹⁰·T leaves ≥ 10× headroom for
// cancellation and still rejects any algorithmic difference (a wrong term is O(1) relative).
const RUN_TERMS = 2 ** 10 * T;

const flatRecord = (p: Params): Float64Array => Float64Array.from(Object.values(p).flatMap((t) => [...t.data]));

describe.each(available)('$name', ({ backend: be }) => {
  it('reports its mode and precision', () => {
    expect(typeof be.mode).toBe('string');
    expect([32, 64]).toContain(be.precision);
    expect(be.epsilon).toBe(be.precision === 64 ? 2 ** -53 : 2 ** -24);
  });

  describe('data', () => {
    it('upload and read back round to the storage precision; strided views upload transposed', () => {
      const d = randomData(1, 12);
      const a = up(be, d, [3, 4]);
      expect(boundRatio(down(be, a), d, be.epsilon, 1, 1)).toBeLessThanOrEqual(1);
      const t = be.upload(ndarray(d, [3, 4]).transpose(1, 0));
      expect(t.shape).toEqual([4, 3]);
      const back = down(be, t);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expect(Math.abs(back[i * 3 + j]! - d[j * 4 + i]!)).toBeLessThanOrEqual(be.epsilon);
      be.write(a, ndarray(new Float64Array(12).fill(0.5), [3, 4]));
      expect([...down(be, a)]).toEqual(new Array(12).fill(0.5));
      be.zero(a);
      expect([...down(be, a)]).toEqual(new Array(12).fill(0));
      be.copy(a, up(be, d.map((v) => v * 0 + 2), [3, 4]));
      expect([...down(be, a)]).toEqual(new Array(12).fill(2));
      be.dispose(t);
      expect(() => be.read(t)).toThrow(BackendArrayError);
    });
    it("rejects another backend's arrays and wrong shapes with a typed error", () => {
      const mine = be.alloc([B, H]);
      const foreign = referenceBackend().alloc([B, H]);
      expect(() => be.axpy(mine, mine, 1, foreign as DeviceArray)).toThrow(BackendArrayError);
      expect(() => be.write(mine, ndarray(new Float64Array(5), [5]))).toThrow(BackendArrayError);
      expect(() => be.axpy(mine, mine, 1, be.alloc([2]))).toThrow(BackendArrayError);
    });
    it('accounts memory of live arrays', () => {
      const before = be.memory().bytes;
      const a = be.alloc([64, 64]);
      expect(be.memory().bytes - before).toBeGreaterThanOrEqual(64 * 64 * (be.precision / 8));
      expect(be.memory().peakBytes).toBeGreaterThanOrEqual(be.memory().bytes);
      be.dispose(a);
      expect(be.memory().bytes).toBe(before);
    });
  });

  describe('ops', () => {
    const n = B * H;
    const a = randomData(11, n);
    const b = randomData(12, n);
    it('elementwise: axpy, sub, mul, scale (one rounding each, two for axpy)', () => {
      const res = both(be, { a: [a, [B, H]], b: [b, [B, H]] }, { o1: [B, H], o2: [B, H], o3: [B, H], o4: [B, H] }, (x, v) => {
        x.axpy(v['o1']!, v['a']!, 0.7, v['b']!);
        x.sub(v['o2']!, v['a']!, v['b']!);
        x.mul(v['o3']!, v['a']!, v['b']!);
        x.scale(v['o4']!, v['a']!, -1.3);
      });
      expectWithin(res, be, 4, 2);
    });
    it('batchMean (B terms) and clipSegments (norm of ≤ 8 terms, one scaling)', () => {
      const res = both(
        be,
        { x: [a, [B, H]] },
        { m: [H], acc: [H], c: [B * H] },
        (x, v) => {
          x.batchMean(v['m']!, v['x']!, false);
          x.batchMean(v['acc']!, v['x']!, true);
          x.copy(v['c']!, up(x, a, [B * H]));
          x.clipSegments(v['c']!, [8, B * H - 8], 0.5);
        },
        { acc: randomData(13, H) },
      );
      expectWithin(res, be, B + 16, 2);
      expect(Math.hypot(...res['c']![0].subarray(0, 8))).toBeLessThanOrEqual(0.5 * (1 + 8 * be.epsilon));
    });
    it('linear with accumulate, bias and extra columns of x (k + 3 terms)', () => {
      const k = 5;
      const res = both(
        be,
        { x: [randomData(14, B * (k + 2)), [B, k + 2]], W: [randomData(15, H * k), [H, k]], bias: [randomData(16, H), [H]] },
        { o: [B, H], p: [B, H] },
        (x, v) => {
          x.linear(v['o']!, v['x']!, v['W']!, v['bias']!, false);
          x.linear(v['p']!, v['x']!, v['W']!, null, true);
        },
        { p: randomData(17, B * H) },
      );
      expectWithin(res, be, k + 3, k + 2);
    });
    it('vecmat with shared and per-example matrices, extra out columns zeroed (k terms)', () => {
      const k = 4;
      const res = both(
        be,
        { v: [randomData(18, B * k), [B, k]], M: [randomData(19, B * k * H), [B, k, H]], W: [randomData(20, k * H), [k, H]] },
        { o: [B, H + 2], p: [B, H] },
        (x, v) => {
          x.vecmat(v['o']!, v['v']!, v['M']!);
          x.vecmat(v['p']!, v['v']!, v['W']!);
        },
        { o: randomData(21, B * (H + 2)) },
      );
      expectWithin(res, be, k + 1, k);
      for (let q = 0; q < B; q++) expect([...res['o']![0].subarray(q * (H + 2) + H, (q + 1) * (H + 2))]).toEqual([0, 0]);
    });
    it("outerAccumulate and rowAccumulate, 'each' and 'mean' (B + 3 terms)", () => {
      const m = 3;
      const res = both(
        be,
        { u: [randomData(22, B * m), [B, m]], v: [randomData(23, B * (H + 1)), [B, H + 1]] },
        { e: [B, m, H], mm: [m, H], re: [B, m], rm: [m] },
        (x, v) => {
          x.outerAccumulate(v['e']!, v['u']!, v['v']!, 'each');
          x.outerAccumulate(v['mm']!, v['u']!, v['v']!, 'mean');
          x.rowAccumulate(v['re']!, v['u']!, 'each');
          x.rowAccumulate(v['rm']!, v['u']!, 'mean');
        },
        { e: randomData(24, B * m * H), mm: randomData(25, m * H), re: randomData(26, B * m), rm: randomData(27, m) },
      );
      expectWithin(res, be, B + 3, 2);
    });
    it.each(LOSSES)('lossGrad %s with masks (≤ 2·O + 8 roundings through exp/log)', (kind) => {
      {
        const y = Float64Array.from({ length: B * O }, (_, i) => targetOf(kind, 28 + Math.floor(i / O))[i % O]!);
        const res = both(
          be,
          { yHat: [randomData(29, B * O, -2, 2), [B, O]], y: [y, [B, O]], mask: [Float64Array.from([1, 0, 1]), [B]] },
          { loss: [B], dy: [B, O] },
          (x, v) => x.lossGrad(kind, v['yHat']!, v['y']!, v['mask']!, v['loss']!, v['dy']!),
        );
        expectWithin(res, be, 2 * O + 8, 8);
        expect(res['loss']![0][1]).toBe(0);
        expect([...res['dy']![0].subarray(O, 2 * O)]).toEqual([0, 0]);
      }
    });
  });

  describe.each(cells.map((spec) => ({ spec, label: spec.type === 'rnn' ? `rnn ${spec.activation}` : 'lstm' })))('cell ops: $label', ({ spec }) => {
    // Forward: pre-activations are sums of I + H + 2 terms (inputs, weights ≤ 1), then one or two transcendental
    // functions and products (the LSTM's c, tanh c, h: ≤ 8 more roundings, derivatives ≤ 1).
    const terms = I + H + 12;
    const scale = I + H + 2;
    it('cellForward', () => {
      const c = forwardCase(spec, 31);
      expectWithin(both(be, c.inputs, c.outputs, (x, v) => void c.forward(x, v)), be, terms, scale);
    });
    it('cellJacobian, cellStateVjp, cellPreactGrad (one more sum of ≤ 4H terms)', () => {
      const c = forwardCase(spec, 41);
      const G = preactSize(spec, H);
      const res = both(
        be,
        { ...c.inputs, g: [randomData(45, B * c.S), [B, c.S]] },
        { ...c.outputs, J: [B, c.S, c.S], vjp: [B, c.S], dz: [B, G] },
        (x, v) => {
          const { params, cache } = c.forward(x, v);
          x.cellJacobian(spec, params, v['prev']!, cache, v['J']!);
          x.cellStateVjp(spec, params, v['prev']!, cache, v['g']!, v['vjp']!);
          x.cellPreactGrad(spec, v['prev']!, cache, v['g']!, v['dz']!);
        },
      );
      expectWithin(res, be, terms + 4 * H + 4, scale * (4 * H + 2));
    });
    if (spec.type === 'lstm') {
      it('lstmCellJacobians, epropAdvance, epropGradient', () => {
        const c = forwardCase(spec, 51);
        const n = I + H + 1;
        const res = both(
          be,
          { ...c.inputs, psiPrev: [randomData(52, B * H), [B, H]], signal: [randomData(53, B * (H + 1)), [B, H + 1]] },
          { ...c.outputs, C: [B, H, H], D: [B, H, H], tr: [B, 3, H, n], gih: [B, 4 * H, I], ghh: [B, 4 * H, H], gb: [B, 4 * H], mih: [4 * H, I], mhh: [4 * H, H], mb: [4 * H] },
          (x, v) => {
            const { params, cache } = c.forward(x, v);
            x.lstmCellJacobians(params, v['prev']!, cache, v['psiPrev']!, v['C']!, v['D']!);
            x.epropAdvance(v['prev']!, v['x']!, cache, v['tr']!);
            x.epropAdvance(v['prev']!, v['x']!, cache, v['tr']!);
            const out = { W_ih: v['gih']!, W_hh: v['ghh']!, b: v['gb']! };
            x.epropGradient(v['prev']!, v['x']!, cache, v['tr']!, v['signal']!, out, false);
            x.epropGradient(v['prev']!, v['x']!, cache, v['tr']!, v['signal']!, out, true);
            x.epropGradientMean(v['prev']!, v['x']!, cache, v['tr']!, v['signal']!, { W_ih: v['mih']!, W_hh: v['mhh']!, b: v['mb']! });
          },
          { tr: randomData(54, B * 3 * H * n), mih: randomData(55, 4 * H * I), mhh: randomData(56, 4 * H * H), mb: randomData(57, 4 * H) },
        );
        expectWithin(res, be, terms + B + 16, scale * 4);
      });
    }
  });

  describe('traces', () => {
    const R = 3;
    const nIn = 4;
    const P = R * nIn + R;
    // J entries ≤ 1/R keep ‖J‖∞ ≤ 1, so three updates do not grow E; each update is a sum of R + 2 roundings per
    // entry, each contraction R + B + 2, and errors from earlier steps add (3 steps: 3·(R + 2) + R + B + 2).
    const J = (seed: number) => [randomData(seed, B * R * R, -1 / R, 1 / R), [B, R, R]] as const;
    it('traceSet, traceUpdate (three steps, with the fused contraction) and traceContract', () => {
      const res = both(
        be,
        { s1: [randomData(61, B * nIn), [B, nIn]], s2: [randomData(62, B * nIn), [B, nIn]], J1: J(63), J2: J(64), d: [randomData(65, B * R), [B, R]] },
        { c1: [P], c2: [P], c3: [P] },
        (x, v) => {
          const E = x.allocTrace(B, R, P);
          x.traceSet(E, { kind: 'linear', input: v['s1']! });
          x.traceUpdate(E, v['J1']!, 0.9, { kind: 'linear', input: v['s2']! }, { delta: v['d']!, out: v['c1']! });
          x.traceUpdate(E, v['J2']!, 0.7, { kind: 'linear', input: v['s1']! });
          x.traceContract(v['c2']!, v['d']!, E);
          x.traceUpdate(E, v['J1']!, 1, { kind: 'linear', input: v['s2']! }, { delta: v['d']!, out: v['c3']! });
          const e = down(x, E);
          x.dispose(E);
          expect(e.length).toBe(B * R * P);
        },
      );
      expectWithin(res, be, 4 * (R + 2) + R + B + 2, 4 * R);
    });
    it('read and write a trace', () => {
      const E = be.allocTrace(B, R, P);
      const d = randomData(66, B * R * P);
      be.write(E, ndarray(d, [B, R, P]));
      expect(boundRatio(down(be, E), d, be.epsilon, 1, 1)).toBeLessThanOrEqual(1);
      be.zero(E);
      expect(maxAbs(down(be, E))).toBe(0);
      expect(() => be.axpy(E, E, 1, E)).toThrow(BackendArrayError);
      be.dispose(E);
    });
  });

  describe('whole training runs against the reference engine', () => {
    // Every loss × cell × method configuration (generated from the enumerations above).
    const runs = LOSSES.flatMap((loss) => CELL_KINDS.flatMap((cell) => METHOD_KINDS.flatMap((kind) => methodCases(kind, cell).map(([label, method]) => ({ loss, cell, label, method })))));
    it.each(runs)('$loss, $cell, $label: gradients of a batch, then two SGD batches', ({ loss, cell, method }) => {
      const config = configOf(modelOf(cell, loss), method);
      const s0 = stateOf(config);
      const batch = batchOf(300, loss);
      const mine = createTrainer(be, config);
      const theirs = createTrainer(ref, config);
      const eps = be.epsilon + ref.epsilon;
      // The 'step' schedule changes the parameters inside the batch: there are no gradients of the batch.
      if (method.kind !== 'bp-lambda' || method.schedule === 'sequence') {
        const g = mine.gradients(s0, batch);
        const gr = theirs.gradients(s0, batch);
        expect(boundRatio([g.loss], [gr.loss], eps, RUN_TERMS, Math.abs(gr.loss))).toBeLessThanOrEqual(1);
        const net = flatRecord(g.netGrad);
        const netRef = flatRecord(gr.netGrad);
        expect(boundRatio(net, netRef, eps, RUN_TERMS, maxAbs(netRef))).toBeLessThanOrEqual(1);
        if (gr.synthUpdate !== null) expect(boundRatio(g.synthUpdate!, gr.synthUpdate, eps, RUN_TERMS, maxAbs(gr.synthUpdate))).toBeLessThanOrEqual(1);
      }
      let s = s0;
      let sr = s0;
      const steps = method.kind === 'bp-lambda' && method.schedule === 'step' ? T : 1;
      for (let i = 0; i < 2; i++) {
        const [m, next] = mine.trainBatch(s, batchOf(400 + i, loss));
        const [mr, nextRef] = theirs.trainBatch(sr, batchOf(400 + i, loss));
        expect(boundRatio([m.loss], [mr.loss], eps, steps * RUN_TERMS, Math.abs(mr.loss)), `${m.loss} vs ${mr.loss}`).toBeLessThanOrEqual(1);
        s = next;
        sr = nextRef;
      }
      // SGD, lr 0.1: parameters differ by lr × the gradient differences of both batches (of every step).
      for (const [p, pr] of [[s.params, sr.params], ...(sr.theta === null ? [] : [[s.theta!, sr.theta]])] as const)
        expect(boundRatio(flatRecord(p), flatRecord(pr), eps, 2 * steps * RUN_TERMS, maxAbs(flatRecord(pr)))).toBeLessThanOrEqual(1);
      mine.dispose();
      theirs.dispose();
    });
    it("the 'sequence' engine gives the online traces' synthesiser update (spec §5 T1), full-state and cell mode", () => {
      for (const [mode, cell] of [['full', 'tanh'], ['full', 'lstm'], ['cell', 'lstm']] as const) {
        const config = configOf(modelOf(cell), bp(mode));
        const s0 = stateOf(config);
        const online = createTrainer(be, config).gradients(s0, batchOf(600));
        const seq = createTrainer(be, config, { engine: 'sequence' }).gradients(s0, batchOf(600));
        expect(boundRatio(seq.synthUpdate!, online.synthUpdate!, be.epsilon, RUN_TERMS, maxAbs(online.synthUpdate!))).toBeLessThanOrEqual(1);
        expect(seq.netGrad).toEqual(online.netGrad);
        expect(seq.loss).toBe(online.loss);
      }
    });
  });
});

describe('explicit modes, typed errors', () => {
  it("gpu.js mode 'gpu' either runs a GL kernel or refuses: it never silently runs on WebAssembly", () => {
    try {
      const be = gpujsBackend({ mode: 'gpu' });
      expect(['headlessgl', 'webgl', 'webgl2']).toContain(be.mode);
      be.destroy();
    } catch (e) {
      expect(e).toBeInstanceOf(BackendUnavailableError);
      expect((e as Error).message).toMatch(/install|xvfb|browser/i);
    }
  });
  it("gpu.js mode 'headlessgl' runs headless-gl or says what to install", () => {
    try {
      const be = gpujsBackend({ mode: 'headlessgl' });
      expect(be.mode).toBe('headlessgl');
      be.destroy();
    } catch (e) {
      expect(e).toBeInstanceOf(BackendUnavailableError);
      expect((e as Error).message).toMatch(/gl/);
      expect((e as Error).message).toMatch(/libxi-dev|xvfb-run/);
    }
  });
  it('the sequence engine refuses configurations where it is not exact', () => {
    const model = modelOf('lstm');
    expect(() => createTrainer(ref, configOf(model, bp('cell', { synthClip: 1 })), { engine: 'sequence' })).toThrow(InvalidInputError);
    expect(() => createTrainer(ref, configOf(model, bp('full', { schedule: 'step' })), { engine: 'sequence' })).toThrow(InvalidInputError);
    expect(() => createTrainer(ref, configOf(model, { kind: 'bptt' }), { engine: 'sequence' })).toThrow(InvalidInputError);
  });
  it('the engine refuses MLP synthesisers and the cell mode on an RNN, naming the field', () => {
    expect(() => createTrainer(ref, configOf(modelOf('lstm'), bp('full', { synthesiser: { hidden: [3] } })))).toThrow(/method\.synthesiser\.hidden/);
    expect(() => createTrainer(ref, configOf(modelOf('tanh'), bp('cell')))).toThrow(InvalidInputError);
  });
});
