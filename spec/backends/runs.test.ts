/**
 * Backend conformance, part 3: whole training runs of every loss × cell × method (every mode and schedule of
 * BP(λ)) on every backend and gpu.js mode that can start here, against the trainer on the float64 reference
 * backend, plus the forward view against the traces and the trainer's typed errors. Modes that cannot start are
 * listed as skipped, with the reason in the test name; they never pass.
 *
 * Tolerances come from each backend's unit roundoff ε (`backend.epsilon`: 2⁻⁵³ or 2⁻²⁴) through the classic
 * bound for a sum of n rounded operations, |fl(Σ) − Σ| ≤ n·ε·Σ|summands| (`boundRatio`); each test states n.
 * The reference itself is held to the core exactly (===) in `engine-exact.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { BackendUnavailableError } from '../../src/backends/errors.js';
import { gpujsBackend } from '../../src/backends/gpu/index.js';
import { referenceBackend } from '../../src/backends/reference.js';
import { backendByName } from '../../src/backends/registry.js';
import { type Computation, type Trainer, createTrainer } from '../../src/engine/trainer.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { METHOD_KINDS, type LearnerConfig, type LearnerState, type Method, learnerInit } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import { LOSSES, type Batch, type LossKind, type Model } from '../../src/core/model.js';
import { rngFromSeed } from '../../src/core/random.js';
import { rnnCell } from '../../src/core/rnn.js';
import type { Params } from '../../src/core/tensor.js';
import { CELL_KINDS, type CellKind, bp, methodCases, unreachable } from './cases.js';
import { type Candidate, boundRatio, conformanceGroup, maxAbs, randomData, startAll, unstarted } from './support.js';

const { available, unavailable } = await startAll();
const ref = referenceBackend() as unknown as Backend;


const B = 3;
const H = 4;
const I = 3;
const O = 2;

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

/** A trainer on a backend with a state loaded. */
const trainerOf = (be: Backend, config: LearnerConfig, state: LearnerState, computation: Computation = 'traces'): Trainer => {
  const t = createTrainer(be, config, { computation });
  t.load(state);
  return t;
};

const suite = ({ backend: be }: Candidate) => {
  describe('whole training runs against the reference backend', () => {
    // Every loss × cell × method configuration (generated from the enumerations above).
    const runs = LOSSES.flatMap((loss) => CELL_KINDS.flatMap((cell) => METHOD_KINDS.flatMap((kind) => methodCases(kind, cell).map(([label, method]) => ({ loss, cell, label, method })))));
    it.each(runs)('$loss, $cell, $label: gradients of a batch, then two SGD batches', async ({ loss, cell, method }) => {
      const config = configOf(modelOf(cell, loss), method);
      const s0 = stateOf(config);
      const batch = batchOf(300, loss);
      const eps = be.epsilon + ref.epsilon;
      // The 'step' schedule changes the parameters inside the batch: there are no gradients of the batch.
      if (method.kind !== 'bp-lambda' || method.schedule === 'sequence') {
        const g = await trainerOf(be, config, s0).gradients(batch);
        const gr = await trainerOf(ref, config, s0).gradients(batch);
        expect(boundRatio([g.loss], [gr.loss], eps, RUN_TERMS, Math.abs(gr.loss))).toBeLessThanOrEqual(1);
        const net = flatRecord(g.netGrad);
        const netRef = flatRecord(gr.netGrad);
        expect(boundRatio(net, netRef, eps, RUN_TERMS, maxAbs(netRef))).toBeLessThanOrEqual(1);
        if (gr.synthUpdate !== null) expect(boundRatio(g.synthUpdate!, gr.synthUpdate, eps, RUN_TERMS, maxAbs(gr.synthUpdate))).toBeLessThanOrEqual(1);
      }
      const mine = trainerOf(be, config, s0);
      const theirs = trainerOf(ref, config, s0);
      const steps = method.kind === 'bp-lambda' && method.schedule === 'step' ? T : 1;
      for (let i = 0; i < 2; i++) {
        const m = await mine.trainBatch(batchOf(400 + i, loss));
        const mr = await theirs.trainBatch(batchOf(400 + i, loss));
        expect(boundRatio([m.loss], [mr.loss], eps, steps * RUN_TERMS, Math.abs(mr.loss)), `${m.loss} vs ${mr.loss}`).toBeLessThanOrEqual(1);
      }
      // SGD, lr 0.1: parameters differ by lr × the gradient differences of both batches (of every step).
      const s = await mine.state();
      const sr = await theirs.state();
      expect(s.batches).toBe(2);
      for (const [p, pr] of [[s.params, sr.params], ...(sr.theta === null ? [] : [[s.theta!, sr.theta]])] as const)
        expect(boundRatio(flatRecord(p), flatRecord(pr), eps, 2 * steps * RUN_TERMS, maxAbs(flatRecord(pr)))).toBeLessThanOrEqual(1);
      mine.dispose();
      theirs.dispose();
    });
    it("the 'forward-view' computation gives the traces' synthesiser update (spec §5 T1), full-state and cell mode", async () => {
      for (const [mode, cell] of [['full', 'tanh'], ['full', 'lstm'], ['cell', 'lstm']] as const) {
        const config = configOf(modelOf(cell), bp(mode));
        const s0 = stateOf(config);
        const traces = await trainerOf(be, config, s0).gradients(batchOf(600));
        const view = await trainerOf(be, config, s0, 'forward-view').gradients(batchOf(600));
        expect(boundRatio(view.synthUpdate!, traces.synthUpdate!, be.epsilon, RUN_TERMS, maxAbs(traces.synthUpdate!))).toBeLessThanOrEqual(1);
        // The same network gradient and loss, summed per sequence instead of per step (rounding only).
        const net = flatRecord(traces.netGrad);
        expect(boundRatio(flatRecord(view.netGrad), net, be.epsilon, RUN_TERMS, maxAbs(net))).toBeLessThanOrEqual(1);
        expect(boundRatio([view.loss], [traces.loss], be.epsilon, RUN_TERMS, Math.abs(traces.loss))).toBeLessThanOrEqual(1);
      }
    });
  });
};

describe.each(available)('$name', suite);
// Backends that cannot start here: every case listed, skipped, with the reason in the suite's name.
for (const u of unavailable) describe.skip(`${u.name}: cannot start on this machine — ${u.reason}`, () => suite(unstarted(u.name)));

// In the 'headless-gl' project (spec/backends/support.ts, `conformanceGroup`): the modes that make a headless-gl
// context, in a process of their own; everything else in 'main'.
if (conformanceGroup === 'gl')
  describe('gpu.js GL modes in Node: explicit, never a silent fallback', () => {
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
  });

if (conformanceGroup === 'main')
describe('explicit modes, typed errors', () => {
  it('the forward view refuses configurations where it is not exact, naming options.computation', () => {
    const model = modelOf('lstm');
    for (const method of [bp('cell', { synthClip: 1 }), bp('full', { schedule: 'step' }), { kind: 'bptt' } as const])
      expect(() => createTrainer(ref, configOf(model, method), { computation: 'forward-view' })).toThrow(/options\.computation/);
  });
  it('the trainer refuses MLP synthesisers, the cell mode on an RNN, unknown options and computations, naming the field', () => {
    expect(() => createTrainer(ref, configOf(modelOf('lstm'), bp('full', { synthesiser: { hidden: [3] } })))).toThrow(/method\.synthesiser\.hidden/);
    expect(() => createTrainer(ref, configOf(modelOf('tanh'), bp('cell')))).toThrow(/method\.mode/);
    expect(() => createTrainer(ref, configOf(modelOf('tanh'), bp('full')), { engine: 'sequence' } as never)).toThrow(/options\.engine/);
    expect(() => createTrainer(ref, configOf(modelOf('tanh'), bp('full')), { computation: 'sequence' as never })).toThrow("options.computation is 'sequence', expected one of 'traces', 'forward-view'");
  });
  it("the trainer refuses λ, γ outside [0, 1], a step count n that is not an integer ≥ 1, a clip ≤ 0 or NaN, naming the field", () => {
    const model = modelOf('tanh');
    const bad: readonly (readonly [Method, RegExp, number?])[] = [
      [bp('full', { lambda: 1.5 }), /method\.lambda.*\[0, 1\]/],
      [bp('full', { lambda: Number.NaN }), /method\.lambda/],
      [bp('full', { gamma: -0.1 }), /method\.gamma.*\[0, 1\]/],
      [bp('full', { beta: Infinity }), /method\.beta/],
      [bp('full', { synthClip: 0 }), /method\.synthClip/],
      [{ kind: 'tbptt', n: 0, align: 'start' }, /method\.n.*integer ≥ 1/],
      [{ kind: 'tbptt', n: 2.5, align: 'start' }, /method\.n/],
      [{ kind: 'sg', n: 0, gamma: 0.9, beta: 1, align: 'start', target: 'discounted', synthesiser: { hidden: [] } }, /method\.n/],
      [{ kind: 'bptt' }, /gradClip/, 0],
      [{ kind: 'bptt' }, /gradClip/, Number.NaN],
    ];
    for (const [method, message, gradClip] of bad) {
      const config = { ...configOf(model, method), ...(gradClip === undefined ? {} : { gradClip }) };
      expect(() => createTrainer(ref, config), message.source).toThrow(InvalidInputError);
      expect(() => createTrainer(ref, config), message.source).toThrow(message);
    }
  });
  it('the backend registry refuses an unknown name with a typed error listing the names', async () => {
    await expect(backendByName('gpujs-vulkan' as never)).rejects.toThrow(InvalidInputError);
    await expect(backendByName('cpu' as never)).rejects.toThrow(/backend.*reference, cpu-f64/);
  });
  it('training before a state is loaded, or two batches at once, is a typed error', async () => {
    const t = createTrainer(ref, configOf(modelOf('tanh'), bp('full')));
    await expect(t.trainBatch(batchOf(1))).rejects.toThrow(InvalidInputError);
    t.load(stateOf(t.config));
    const first = t.trainBatch(batchOf(1));
    await expect(t.trainBatch(batchOf(2))).rejects.toThrow(/one batch at a time/);
    await first;
  });
  it('a state that does not fit the configuration is refused naming the field', () => {
    const config = configOf(modelOf('tanh'), bp('full'));
    const t = createTrainer(ref, config);
    const s = stateOf(config);
    expect(() => t.load({ ...s, theta: null })).toThrow(/state\.theta/);
    expect(() => t.load({ ...s, params: { ...s.params, W_rec: { shape: [1], data: new Float64Array(1) } } })).toThrow(/state\.params\.W_rec/);
    expect(() => t.load({ ...s, params: { ...s.params, b: { shape: [H], data: new Float64Array(H).fill(NaN) } } })).toThrow(/^state\.params\.b\.data\[0\] is NaN, expected a finite number$/);
    expect(() => t.load(null as never)).toThrow(/state/);
  });
  it('a state that fails to load leaves the one loaded before, and no arrays behind', async () => {
    const config = configOf(modelOf('tanh'), bp('full'));
    const be = referenceBackend() as unknown as Backend;
    const t = createTrainer(be, { ...config, synthesiser: { kind: 'adam', lr: 0.01 } });
    const s = stateOf(t.config);
    t.load(s);
    const arrays = be.memory().arrays;
    // params and theta upload before the Adam state is found malformed
    expect(() => t.load({ ...s, synthOpt: { count: 0, mu: s.theta, nu: null } })).toThrow(/state\.synthOpt\.nu/);
    expect(be.memory().arrays).toBe(arrays);
    const back = await t.state();
    expect(flatRecord(back.params)).toEqual(flatRecord(s.params));
    expect(flatRecord(back.theta!)).toEqual(flatRecord(s.theta!));
    await t.trainBatch(batchOf(3));
    t.dispose();
  });
});
