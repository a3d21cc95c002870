/**
 * The experiment layer: presets, configuration errors, the trainer's forward-view computation against the core
 * learner, the alignment measure, determinism of runs, result tables.
 */
import { describe, expect, it } from 'vitest';
import { nStepSg } from '../src/core/baselines.js';
import { bptt, trajectory } from '../src/core/bptt.js';
import { type LearnerConfig, type LearnerState, learnerInit, synthesiserFor, trainBatch } from '../src/core/learner.js';
import type { Batch } from '../src/core/model.js';
import { lossAndGrad, readoutGrad } from '../src/core/model.js';
import { AUTHORS_ADAM } from '../src/core/optim.js';
import { rngFromSeed, uniformRange } from '../src/core/random.js';
import { type ParamShapes, type Params, addParams, flattenParams } from '../src/core/tensor.js';
import { alignment, learningSignals } from '../src/experiments/alignment.js';
import { buildConfig, checkConfig, methodLabel, parseMethodChoice } from '../src/experiments/config.js';
import { learnerConfigOf, modelFor, targetScaleFor } from '../src/experiments/setup.js';
import { referenceBackend } from '../src/backends/reference.js';
import { createTrainer } from '../src/engine/trainer.js';
import { parseCsv, toCsv, fromJson, toJson } from '../src/experiments/files.js';
import { runExperiment } from '../src/experiments/run.js';
import { DivergenceError } from '../src/core/errors.js';
import { jobName, sweepJobs } from '../src/experiments/sweep.js';
import { formatTable, resultTable } from '../src/experiments/table.js';
import { copyRepeatBatch, defaultCopyRepeat } from '../src/tasks/copyRepeat.js';
import { defaultToyTask, toyBatch } from '../src/tasks/toy.js';
import { lstmCell } from '../src/core/lstm.js';
import { rnnCell } from '../src/core/rnn.js';

const modelShapesOf = (p: Params): ParamShapes => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.shape]));

const maxDiff = (a: Params, b: Params): number => {
  const x = flattenParams(a, modelShapesOf(a));
  const y = flattenParams(b, modelShapesOf(a));
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
};

/** A state with random (non-zero) synthesiser parameters, so that ĝ ≠ 0 from the start. */
const withRandomTheta = (config: LearnerConfig, state: LearnerState, seed: number): LearnerState => {
  let rng = rngFromSeed(seed);
  const theta = Object.fromEntries(
    Object.entries(state.theta!).map(([k, t]) => {
      const [d, r] = uniformRange(rng, t.data.length, -0.3, 0.3);
      rng = r;
      return [k, { shape: t.shape, data: d }];
    }),
  );
  void config;
  return { ...state, theta };
};

describe('presets and configuration', () => {
  it('the toy paper preset is the authors config (spec §8.9)', () => {
    const c = buildConfig('toy', 'paper');
    expect({ hidden: c.hidden, T: c.seqLen, batch: c.batchSize, steps: c.steps, lr: c.lr, lrSynth: c.lrSynth, clip: c.synthClip, gamma: c.gamma, beta: c.beta, computation: c.computation }).toEqual({
      hidden: 30, T: 10, batch: 10, steps: 1000, lr: 0, lrSynth: 1e-4, clip: 1, gamma: 1, beta: 1, computation: 'traces',
    });
    const l = learnerConfigOf(c);
    expect(l.network).toEqual({ kind: 'frozen' });
    expect(l.synthesiser).toEqual({ kind: 'adam', lr: 1e-4, ...AUTHORS_ADAM });
  });

  it("BP(λ)'s synthesiser predicts gradients of the batch-mean loss in the paper presets, as the authors' code", () => {
    // The authors' output derivatives are (y − target)/B, (softmax(y) − onehot)/B and, for copy-repeat's per-bit
    // loss, (σ(y) − target)/(B·O) (spec §8.2), so their synthesiser targets carry the same factor.
    const toy = buildConfig('toy', 'paper');
    expect(toy.targetScale).toBe('batch');
    expect(learnerConfigOf(toy).method).toMatchObject({ kind: 'bp-lambda', targetScale: 1 / 10 });
    expect(targetScaleFor(buildConfig('seq-mnist', 'paper'))).toBe(1 / 50);
    expect(targetScaleFor(buildConfig('copy-repeat', 'paper'))).toBe(1 / (100 * 9));
    expect(targetScaleFor(buildConfig('toy', 'paper', { batchSize: 4 }))).toBe(1 / 4);
    expect(targetScaleFor(buildConfig('toy', 'paper', { targetScale: 'example' }))).toBe(1);
    // The reduced toy preset is the paper's without the clip; a configuration stored before the option: scale 1.
    expect(buildConfig('toy', 'reduced').targetScale).toBe('batch');
    const { targetScale: _, ...old } = buildConfig('toy', 'paper');
    expect(targetScaleFor(old as never)).toBe(1);
    expect(() => buildConfig('toy', 'paper', { targetScale: 'mean' as never })).toThrow(/--target-scale .*batch, example/);
  });

  it('the seq-MNIST and copy-repeat paper presets follow the authors configs', () => {
    const m = buildConfig('seq-mnist', 'paper');
    expect([m.hidden, m.batchSize, m.epochs, m.lr, m.gamma, m.beta, m.mode]).toEqual([30, 50, 50, 3e-4, 0.9, 0.1, 'cell']);
    const r = buildConfig('copy-repeat', 'paper');
    expect([r.hidden, r.batchSize, r.steps, r.lr, r.lrSynth, r.gamma, r.beta, r.threshold]).toEqual([100, 100, 150_000, 1e-3, 1e-5, 0.9, 1, 0.15]);
    expect(modelFor(r).loss).toBe('bce');
  });

  it('refuses the forward view with a per-step clip or the step schedule, naming --computation', () => {
    expect(() => buildConfig('toy', 'paper', { computation: 'forward-view' })).toThrow(/--computation .*synth-clip/);
    expect(() => buildConfig('toy', 'reduced', { synthClip: 1 })).toThrow(/--computation/);
    expect(() => buildConfig('toy', 'reduced', { schedule: 'step' })).toThrow(/--computation/);
    // Other methods have one computation: the option does not matter for them.
    expect(buildConfig('toy', 'reduced', { method: 'sg', synthClip: 1 }).method).toBe('sg');
  });

  it('refuses the old spellings with the current word: --engine, --method online, an unknown field', () => {
    expect(() => buildConfig('toy', 'reduced', { engine: 'sequence' } as never)).toThrow(/--engine .*did you mean --computation/);
    expect(() => buildConfig('toy', 'reduced', { method: 'online' as never })).toThrow(/--method .*did you mean 'eprop'/);
    expect(() => buildConfig('toy', 'reduced', { computation: 'step' as never })).toThrow(/--computation .*did you mean 'traces'/);
    expect(() => buildConfig('toy', 'reduced', { lambdaa: 1 } as never)).toThrow(/--lambdaa .*not one/);
  });

  it('names the option of every invalid value', () => {
    expect(() => buildConfig('toy', 'reduced', { lambda: 1.5 })).toThrow(/--lambda .*\[0, 1\]/);
    expect(() => buildConfig('toy', 'reduced', { n: 0 })).toThrow(/--n /);
    expect(() => buildConfig('toy', 'reduced', { batchSize: 2.5 })).toThrow(/--batch-size/);
    expect(() => buildConfig('toy', 'reduced', { method: 'magic' as never })).toThrow(/--method .*bp-lambda, sg, tbptt, bptt, eprop/);
    expect(() => buildConfig('toy', 'reduced', { mode: 'cell' })).toThrow(/--mode/);
    expect(() => buildConfig('seq-mnist', 'reduced', { trainSize: 50_000 })).toThrow(/--train-size/);
    expect(() => checkConfig({ ...buildConfig('toy', 'reduced'), lrSynth: -1 })).toThrow(/--lr-synth/);
  });

  it('parses method choices of the sweep', () => {
    expect(parseMethodChoice('bp-lambda:0.5')).toEqual({ method: 'bp-lambda', lambda: 0.5 });
    expect(parseMethodChoice('sg:3')).toEqual({ method: 'sg', n: 3 });
    expect(parseMethodChoice('bptt')).toEqual({ method: 'bptt' });
    expect(() => parseMethodChoice('sg:0')).toThrow(/--methods/);
    expect(() => parseMethodChoice('bp-lambda:2')).toThrow(/--methods/);
    expect(() => parseMethodChoice('bptt:2')).toThrow(/--methods/);
    expect(() => parseMethodChoice('nope')).toThrow(/--methods/);
    expect(methodLabel({ method: 'bp-lambda', lambda: 0.5, n: 3 })).toBe('BP(0.5)');
    const jobs = sweepJobs('toy', 'smoke', {}, [{ method: 'bp-lambda', lambda: 0 }, { method: 'sg', n: 2 }], [0, 1], '/tmp/x');
    expect(jobs.map((j) => jobName(j.config))).toEqual(['bp-lambda-0-seed0', 'bp-lambda-0-seed1', 'sg-2-seed0', 'sg-2-seed1']);
  });

  it('writes Infinity through JSON and reads CSV back', () => {
    expect(fromJson(toJson({ clip: Infinity, x: 1 }))).toEqual({ clip: Infinity, x: 1 });
    const csv = toCsv(['a', 'b'], [{ a: 1, b: null }, { a: 0.5, b: 'x' }]);
    expect(parseCsv(csv).rows).toEqual([{ a: 1, b: null }, { a: 0.5, b: 'x' }]);
  });
});

describe('the bce loss of copy-repeat (added to core/model.ts)', () => {
  it('is the summed binary cross-entropy of sigmoid outputs, with gradient σ(z) − y (central differences)', () => {
    const z = Float64Array.from([-3, -0.2, 0, 0.7, 40, -40]);
    const y = Float64Array.from([0, 1, 1, 0, 1, 0]);
    const { loss, dy } = lossAndGrad('bce', z, y);
    const direct = Array.from(z).reduce((a, zk, k) => {
      const p = 1 / (1 + Math.exp(-zk));
      return a - (y[k]! * Math.log(Math.max(p, 1e-300)) + (1 - y[k]!) * Math.log(Math.max(1 - p, 1e-300)));
    }, 0);
    expect(loss).toBeCloseTo(direct, 10);
    const h = 1e-6;
    z.forEach((_, k) => {
      const up = Float64Array.from(z);
      const dn = Float64Array.from(z);
      up[k]! += h;
      dn[k]! -= h;
      expect(dy[k]).toBeCloseTo((lossAndGrad('bce', up, y).loss - lossAndGrad('bce', dn, y).loss) / (2 * h), 7);
    });
    // A chance prediction costs ln 2 per bit.
    expect(lossAndGrad('bce', new Float64Array(9), new Float64Array(9)).loss).toBeCloseTo(9 * Math.LN2, 14);
  });
});

describe("the trainer's forward view equals the core learner (no clip, once-per-sequence schedule)", () => {
  const compare = async (config: LearnerConfig, batches: Batch[], seed: number) => {
    let [a] = learnerInit(config, rngFromSeed(seed));
    a = withRandomTheta(config, a, seed + 1);
    const trainer = createTrainer(referenceBackend(), config, { computation: 'forward-view' });
    trainer.load(a);
    for (const batch of batches) {
      const [ma, na] = trainBatch(config, a, batch);
      const mb = await trainer.trainBatch(batch);
      expect(mb.loss).toBeCloseTo(ma.loss, 12);
      expect(mb.synthUpdateNorm!).toBeCloseTo(ma.synthUpdateNorm!, 10);
      a = na;
    }
    const b = await trainer.state();
    expect(maxDiff(b.theta!, a.theta!)).toBeLessThan(1e-10);
    expect(maxDiff(b.params, a.params)).toBeLessThan(1e-10);
    expect(b.batches).toBe(a.batches);
  };
  const bp = (mode: 'full' | 'cell', lambda: number) =>
    ({ kind: 'bp-lambda', mode, schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 0.9, lambda, beta: 0.7, synthClip: Infinity }) as const;
  const adam = { kind: 'adam', lr: 1e-2, ...AUTHORS_ADAM } as const;

  it.each([0, 0.5, 1])('toy RNN, network learning, λ = %s', async (lambda) => {
    const model = { cell: rnnCell({ inputSize: 10, hiddenSize: 6, activation: 'tanh' }), outputSize: 2, loss: 'mse' } as const;
    const task = { ...defaultToyTask, npoints: 3, noise: 0.1, seqLen: 6, endOnly: false };
    const [b1, r] = toyBatch(task, 3, rngFromSeed(5));
    const [b2] = toyBatch(task, 3, r);
    await compare({ model, method: bp('full', lambda), network: adam, synthesiser: adam }, [b1, b2], 11);
  });

  it.each([0, 1])('LSTM cell mode on copy-repeat batches, λ = %s', async (lambda) => {
    const model = { cell: lstmCell({ inputSize: 10, hiddenSize: 4 }), outputSize: 9, loss: 'bce' } as const;
    const [b1, r] = copyRepeatBatch(defaultCopyRepeat, 2, 1, 2, rngFromSeed(4));
    const [b2] = copyRepeatBatch(defaultCopyRepeat, 2, 2, 2, r);
    await compare({ model, method: bp('cell', lambda), network: adam, synthesiser: adam }, [b1, b2], 21);
  });

  it.each(['full', 'cell'] as const)('%s mode with the authors\' target scale 1/B', async (mode) => {
    const lstm = mode === 'cell';
    const model = lstm
      ? ({ cell: lstmCell({ inputSize: 10, hiddenSize: 4 }), outputSize: 9, loss: 'bce' } as const)
      : ({ cell: rnnCell({ inputSize: 10, hiddenSize: 6, activation: 'tanh' }), outputSize: 2, loss: 'mse' } as const);
    const [b1] = lstm ? copyRepeatBatch(defaultCopyRepeat, 3, 1, 2, rngFromSeed(4)) : toyBatch({ ...defaultToyTask, npoints: 3, noise: 0.1, seqLen: 6 }, 3, rngFromSeed(5));
    await compare({ model, method: { ...bp(mode, 0.5), targetScale: 1 / 3 }, network: adam, synthesiser: adam }, [b1, b1], 13);
  });

  it('frozen network: the forward view leaves the network unchanged and updates θ like the learner', async () => {
    const c = buildConfig('toy', 'reduced', { hidden: 8, seqLen: 5 });
    const config = learnerConfigOf(c);
    const [batch] = toyBatch({ ...defaultToyTask, seqLen: 5 }, 2, rngFromSeed(0));
    await compare(config, [batch, batch, batch], 7);
  });

  it('run and sweep refuse MLP synthesisers (the trainer has the linear synthesiser), naming --synth-hidden', () => {
    expect(() => buildConfig('toy', 'reduced', { synthHidden: [4] })).toThrow(/--synth-hidden .*core library/);
  });
});

describe('alignment', () => {
  const toyConfig = (method: Parameters<typeof buildConfig>[2]) => learnerConfigOf(buildConfig('toy', 'reduced', { hidden: 8, seqLen: 6, ...method }));
  const [batch] = toyBatch({ ...defaultToyTask, seqLen: 6, npoints: 3, noise: 0.1 }, 3, rngFromSeed(1));

  it('BPTT is aligned with itself at every step; the online rule only at the loss step', () => {
    const c = toyConfig({ method: 'bptt' });
    const [s] = learnerInit(c, rngFromSeed(0));
    alignment(c, s, batch).perStep.forEach((v) => expect(v).toBeCloseTo(1, 12));
    const o = toyConfig({ method: 'eprop' });
    const a = alignment(o, s, batch);
    expect(a.perStep.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(a.perStep[5]).toBeCloseTo(1, 12);
    expect(a.meanWithFuture).toBe(0);
  });

  it('is the batch mean of the signed cosine at every step, interior and negative values included (issue 15)', () => {
    // A random synthesiser gives signals pointing anywhere: the cosines are computed here from their definition.
    const c = toyConfig({ method: 'bp-lambda', lambda: 0.5 });
    const s = withRandomTheta(c, learnerInit(c, rngFromSeed(0))[0], 11);
    const H = c.model.cell.hiddenSize;
    const cos = (u: ArrayLike<number>, v: ArrayLike<number>) => {
      let uv = 0;
      let uu = 0;
      let vv = 0;
      for (let i = 0; i < u.length; i++) {
        uv += u[i]! * v[i]!;
        uu += u[i]! * u[i]!;
        vv += v[i]! * v[i]!;
      }
      return uu === 0 || vv === 0 ? 0 : uv / Math.sqrt(uu * vv);
    };
    const want = new Array<number>(6).fill(0);
    for (const seq of batch) {
      const exact = bptt(c.model, s.params, seq).stateGrads;
      learningSignals(c, s, seq).forEach((g, k) => (want[k]! += cos(g, exact[k]!.subarray(0, H)) / batch.length));
    }
    const got = alignment(c, s, batch).perStep;
    got.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 12));
    // The case exercises what endpoint-only checks miss: a negative mean and an interior one (|cos| would fail).
    expect(got.some((v) => v < -0.05)).toBe(true);
    expect(got.some((v) => v > 0.05 && v < 0.95)).toBe(true);
    expect(alignment(c, s, batch).meanWithFuture).toBeCloseTo(want.slice(0, 5).reduce((x, y) => x + y, 0) / 5, 12);
  });

  it('BP(λ): the signal is (β/c) ĝ_t before the last step and l_T at it; zero-initialised ĝ has alignment 0', () => {
    // The reduced toy preset has the authors' target scale c = 1/B (B = 10) and β = 1: ĝ predicts dL/dh_t / 10.
    const c = toyConfig({ method: 'bp-lambda', lambda: 1 });
    expect(c.method).toMatchObject({ beta: 1, targetScale: 1 / 10 });
    const [s0] = learnerInit(c, rngFromSeed(0));
    expect(alignment(c, s0, batch).perStep.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    const s = withRandomTheta(c, s0, 4);
    const synth = synthesiserFor(c.model, c.method)!;
    const seq = batch[0]!;
    const traj = trajectory(c.model, s.params, seq);
    const sig = learningSignals(c, s, seq);
    for (let k = 0; k < 5; k++) expect(Array.from(sig[k]!)).toEqual(Array.from(synth.predict(s.theta!, traj.records[k]!.step.state, k + 1), (g) => g * 10));
    expect(Array.from(sig[5]!)).toEqual(Array.from(traj.records[5]!.immediate));
  });

  it('n-step SG: the state gradients it reports give exactly the network gradient of core nStepSg', () => {
    for (const n of [1, 2, 4]) {
      const c = toyConfig({ method: 'sg', n, beta: 0.8, gamma: 1 });
      const s = withRandomTheta(c, learnerInit(c, rngFromSeed(0))[0], 9);
      const seq = batch[1]!;
      const synth = synthesiserFor(c.model, c.method)!;
      // The reduced toy preset has the authors' target scale 1/B (B = 10) for every synthesiser.
      expect(c.method).toMatchObject({ targetScale: 1 / 10 });
      const ref = nStepSg(c.model, synth, s.params, s.theta!, seq, { n, gamma: 1, beta: 0.8, align: 'end', targetScale: 1 / 10 });
      const traj = trajectory(c.model, s.params, seq);
      const sig = learningSignals(c, s, seq);
      const grads = traj.records.reduce<Params>(
        (acc, r, k) => addParams(acc, { ...c.model.cell.vjpParams(s.params, r.step, sig[k]!), ...readoutGrad(c.model, r) }),
        Object.fromEntries(Object.entries(ref.grads).map(([k, t]) => [k, { shape: t.shape, data: new Float64Array(t.data.length) }])),
      );
      expect(maxDiff(grads, ref.grads)).toBeLessThan(1e-12);
      // Inside the last chunk there is no synthetic gradient: the signal is BPTT's.
      const exact = bptt(c.model, s.params, seq).stateGrads;
      expect(Array.from(sig[5]!)).toEqual(Array.from(exact[5]!));
    }
  });
});

describe('runs', () => {
  const strip = (rows: readonly Record<string, unknown>[]) => rows.map(({ seconds: _s, ...rest }) => rest);

  it('toy: the same seed gives the same numbers, another seed other numbers', async () => {
    const c = buildConfig('toy', 'smoke');
    const a = await runExperiment(c);
    const b = await runExperiment(c);
    const d = await runExperiment({ ...c, seed: 1 });
    expect(strip(a.rows)).toEqual(strip(b.rows));
    expect(a.summary.finalAlignment).toEqual(b.summary.finalAlignment);
    expect(a.summary.finalAlignment).not.toEqual(d.summary.finalAlignment);
    expect(a.rows).toHaveLength(c.steps / c.logEvery + 1);
    expect(a.columns).toContain('align_t10');
    expect((a.summary.finalAlignment as number[]).length).toBe(10);
    expect(a.summary).toMatchObject({ task: 'toy', method: 'bp-lambda', lambda: 1, seed: 0, batches: 20 });
  });

  it('toy: every method runs and BPTT stays aligned', async () => {
    for (const method of ['sg', 'tbptt', 'bptt', 'eprop'] as const) {
      const r = await runExperiment(buildConfig('toy', 'smoke', { method, steps: 4, logEvery: 2, n: 2 }));
      expect(r.summary.lambda).toBeNull();
      if (method === 'bptt') (r.summary.finalAlignment as number[]).forEach((v) => expect(v).toBeCloseTo(1, 12));
    }
  });

  it('copy-repeat: deterministic, curriculum columns and summary', async () => {
    const c = buildConfig('copy-repeat', 'smoke', { threshold: 10 }); // every batch passes: the curriculum advances each batch
    const a = await runExperiment(c);
    const b = await runExperiment(c);
    expect(strip(a.rows)).toEqual(strip(b.rows));
    // 12 levels from (1, 1): (2,1) (2,2) (3,2) … (7,6) (7,7); T = 8·7 + 3.
    expect(a.summary).toMatchObject({ N: 7, R: 7, levelsPassed: 12, maxSequenceLength: 59, solvedSequenceLength: 52 });
    const lens = a.rows.map((r) => r['seq_len'] as number);
    expect(lens).toEqual([...lens].sort((x, y) => x - y));
    const strict = await runExperiment(buildConfig('copy-repeat', 'smoke', { threshold: 1e-9, steps: 3 }));
    expect(strict.summary).toMatchObject({ N: 1, R: 1, levelsPassed: 0, maxSequenceLength: 5, solvedSequenceLength: 0 });
  });

  it('seq-MNIST: deterministic on a small subset, with test and validation accuracy', async () => {
    const c = buildConfig('seq-mnist', 'smoke');
    const a = await runExperiment(c);
    const b = await runExperiment(c);
    expect(strip(a.rows)).toEqual(strip(b.rows));
    expect(a.summary).toMatchObject({ trainExamples: 40, validationExamples: 20, testExamples: 20, batches: 4 });
    expect(a.summary['testAccuracy']).toEqual(b.summary['testAccuracy']);
    for (const k of ['testAccuracy', 'validationAccuracy']) {
      expect(a.summary[k]).toBeGreaterThanOrEqual(0);
      expect(a.summary[k]).toBeLessThanOrEqual(1);
    }
    expect(a.rows.filter((r) => r['val_accuracy'] !== null)).toHaveLength(2);
  });

  it('tables: one row per method, mean ± sd over seeds', async () => {
    const runs = await Promise.all(
      [0, 1].map(async (seed) => {
        const r = await runExperiment(buildConfig('toy', 'smoke', { seed, steps: 2, logEvery: 1 }));
        return { dir: '', config: r.config, summary: r.summary, columns: r.columns, rows: r.rows };
      }),
    );
    const t = resultTable(runs);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]![0]).toBe('BP(1)');
    expect(t.rows[0]![1]).toBe('0,1');
    expect(t.rows[0]![2]).toMatch(/±/);
    expect(formatTable(t).split('\n')).toHaveLength(3);
  });
});

describe('backends in runs', () => {
  // The trainer on cpu-f64 does the core's arithmetic in float64 (its sums in another order), so a short run agrees
  // with the reference backend to rounding (1e-9 leaves room for reordered sums over 20 Adam steps); cpu-f32 agrees
  // to float32 precision (unit roundoff 6e-8, amplified by Adam's normalisation: 1e-3 on alignments that are cosines
  // in [-1, 1]).
  for (const [backend, tol] of [
    ['cpu-f64', 1e-9],
    ['cpu-f32', 1e-3],
  ] as const) {
    it(`a toy run on ${backend} gives the reference's alignments`, async () => {
      const ref = await runExperiment(buildConfig('toy', 'smoke', { method: 'bp-lambda', lambda: 1, computation: 'traces', synthClip: 1 }));
      const other = await runExperiment(buildConfig('toy', 'smoke', { method: 'bp-lambda', lambda: 1, computation: 'traces', synthClip: 1, backend }));
      const a = ref.summary['finalAlignment'] as number[];
      const b = other.summary['finalAlignment'] as number[];
      expect(b.length).toBe(a.length);
      b.forEach((x, i) => expect(Math.abs(x - a[i]!)).toBeLessThan(tol));
    });
  }
  // Copy-repeat trains the per-bit binary cross-entropy (bce): every backend must train that loss, not another.
  // float64 reorders sums only (1e-9 relative); float32 rounds every op to 2⁻²⁴ and Adam normalises away the
  // scale of the gradients, so 12 batches keep the loss within 2¹⁰ unit roundoffs, ≈ 6e-5 relative.
  for (const [backend, tol] of [
    ['cpu-f64', 1e-9],
    ['cpu-f32', 2 ** 10 * 2 ** -24],
  ] as const) {
    it(`a copy-repeat (bce) run on ${backend} gives the reference's losses`, async () => {
      const losses = async (b: 'reference' | typeof backend) => (await runExperiment(buildConfig('copy-repeat', 'smoke', { backend: b }))).rows.map((r) => r['loss'] as number);
      const ref = await losses('reference');
      const other = await losses(backend);
      expect(other.length).toBe(ref.length);
      other.forEach((x, i) => expect(Math.abs(x - ref[i]!) / ref[i]!).toBeLessThan(tol));
    });
  }
});

describe('divergence', () => {
  it('a run whose loss overflows stops with a DivergenceError naming the batch and the quantity', async () => {
    const c = buildConfig('toy', 'smoke', { method: 'bptt', lr: 1e300 });
    await expect(runExperiment(c)).rejects.toThrow(DivergenceError);
    await expect(runExperiment(c)).rejects.toThrow(/non-finite value \(NaN or Infinity\) in the training loss at batch \d+/);
  });

  it('a run with a sane learning rate does not (control)', async () => {
    await expect(runExperiment(buildConfig('toy', 'smoke', { method: 'bptt', lr: 1e-3 }))).resolves.toBeDefined();
  });
});
