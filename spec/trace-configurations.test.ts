/**
 * Every configuration `bplambda run` can train (method × task × synthesiser mode × clip × target scale × schedule,
 * and for the n-step methods chunk alignment and synthesiser target; the task fixes the cell and the loss), written
 * as a format 1.1 trace from the reference itself and verified. The trace's configuration is derived from the run's
 * own learner configuration (learnerConfigOf), and the trace is tied back to the learner: one `trainBatch` with
 * SGD at learning rate 1 moves the parameters by exactly the network gradient (and θ by the synthesiser update)
 * of that method, and those differences must be the trace's numbers.
 *
 * The 'step' schedule changes the parameters after every step: its trace states `method.schedule: "step"` and the
 * parameters in effect at steps 2..T (`stepParameters`), captured from a real step-schedule run (the learner's loop
 * through the exported functions, whose end state must be `trainBatch`'s bit for bit). Its per-step network
 * gradients and synthesiser updates must be the parameter changes the optimiser made at each step, and a perturbed
 * parameter of step 3 or a perturbed per-step quantity is reported at its step (docs/verification.md).
 */
import { describe, expect, it } from 'vitest';
import { initModel, initSynthesiser } from '../src/core/init.js';
import { learnerConfigOf } from '../src/experiments/setup.js';
import { type RunConfig, METHODS, TASKS, buildConfig } from '../src/experiments/config.js';
import { batchStepInput, bpLambdaClearTotals, bpLambdaInit, bpLambdaOptionsOf, bpLambdaStep } from '../src/core/bplambda.js';
import { type LearnerConfig, type LearnerState, applyLearnerUpdates, synthesiserFor, trainBatch, transformation } from '../src/core/learner.js';
import type { Batch } from '../src/core/model.js';
import { linearSynthesiser } from '../src/core/synthesiser.js';
import { rngFromSeed, uniformRange } from '../src/core/random.js';
import { type Params, toRows, unflattenParams } from '../src/core/tensor.js';
import { referenceQuantities } from '../src/verify/reference.js';
import { parseTrace } from '../src/verify/trace.js';
import { verifyTrace } from '../src/verify/verify.js';

type Rows = number[] | number[][];
const json = (p: Params) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.shape.length === 2 ? toRows(t) : Array.from(t.data)]));
/** Element-wise a − b of two parameter records. */
const diff = (a: Params, b: Params): Record<string, number[]> => Object.fromEntries(Object.keys(a).map((k) => [k, Array.from(a[k]!.data, (x, i) => x - b[k]!.data[i]!)]));
/** Every tensor of the trace's record equals `expected` (flat) to 1e-12. */
const expectRecord = (trace: unknown, expected: Record<string, number[]>, what: string): void => {
  for (const [k, v] of Object.entries(expected)) {
    const got = ((trace as Record<string, Rows>)[k] ?? []).flat();
    expect(got.length, `${what}.${k}`).toBe(v.length);
    v.forEach((x, i) => expect(got[i], `${what}.${k}[${i}]`).toBeCloseTo(x, 12));
  }
};

const SMOKE = { computation: 'traces', hidden: 2, bits: 2, batchSize: 3, seqLen: 4, lambda: 0.7, gamma: 0.9, beta: 0.3, n: 3 } as const;

/** Every valid run configuration of the enumerated options (smoke sizes, a small network). */
const configurations = (): RunConfig[] => {
  const out: RunConfig[] = [];
  const add = (task: RunConfig['task'], o: Partial<RunConfig>) => {
    try {
      out.push(buildConfig(task, 'smoke', { ...SMOKE, ...o }));
    } catch {
      // an invalid combination (the cell mode on the toy's RNN): bplambda run refuses it too
    }
  };
  for (const task of TASKS)
    for (const method of METHODS)
      for (const targetScale of ['example', 'batch'] as const) {
        if (method === 'bp-lambda' || method === 'bptt' || method === 'eprop')
          for (const mode of ['full', 'cell'] as const)
            for (const synthClip of [Infinity, 0.05])
              for (const schedule of method === 'bp-lambda' ? (['sequence', 'step'] as const) : (['sequence'] as const)) add(task, { method, mode, synthClip, targetScale, schedule });
        // The n-step methods have no mode, clip or schedule; they have an alignment and (sg) a target.
        if (method === 'sg') for (const align of ['start', 'end'] as const) for (const sgTarget of ['discounted', 'authors'] as const) add(task, { method, align, sgTarget, targetScale });
        if (method === 'tbptt' && targetScale === 'example') for (const align of ['start', 'end'] as const) add(task, { method, align });
      }
  return out;
};

/** A random batch of B sequences of T steps for the run's model, with targets of its loss. */
const batchFor = (c: RunConfig, seed: number, T: number) => {
  const model = learnerConfigOf(c).model;
  let rng = rngFromSeed(seed);
  const draw = (n: number, s = 1): number[] => {
    const [x, next] = uniformRange(rng, n, -s, s);
    rng = next;
    return Array.from(x, (v) => Math.round(v * 1e4) / 1e4);
  };
  const O = model.outputSize;
  const examples = Array.from({ length: c.batchSize }, () => ({
    inputs: Array.from({ length: T }, () => draw(model.cell.inputSize)),
    targets: Array.from({ length: T }, (_, t) => {
      const y = draw(O);
      if (model.loss === 'xent') return t === T - 1 ? y.indexOf(Math.max(...y)) : null;
      if (model.loss === 'bce') return t >= 1 ? y.map((v) => (v > 0 ? 1 : 0)) : null;
      return t === T - 1 ? y : null;
    }),
  }));
  return { model, examples, rng };
};

/**
 * The trace's method of a learner method, its γ, λ, target scale and the synthesiser it reads (S → S, or S → H
 * in the cell mode). e-prop is BP(λ) with β = 0 (the RNN's immediate gradient; the LSTM's e-prop through the cell
 * mode); BPTT is any configuration (its gradient is bpttGradients).
 */
const traceMethodOf = (lc: LearnerConfig) => {
  const m = lc.method;
  const { model } = lc;
  const S = model.cell.stateSize;
  switch (m.kind) {
    case 'bp-lambda':
      return { method: { kind: 'bp-lambda', mode: m.mode, beta: m.beta, synthClip: m.synthClip === Infinity ? 'Infinity' : m.synthClip }, gamma: m.gamma, lambda: m.lambda, targetScale: m.targetScale ?? 1, synth: synthesiserFor(model, m)! };
    case 'sg':
      return { method: { kind: 'sg', n: m.n, align: m.align, target: m.target, beta: m.beta }, gamma: m.gamma, lambda: 1, targetScale: m.targetScale ?? 1, synth: synthesiserFor(model, m)! };
    case 'tbptt':
      return { method: { kind: 'tbptt', n: m.n, align: m.align }, gamma: 1, lambda: 1, targetScale: 1, synth: linearSynthesiser(S, S) };
    case 'eprop': {
      const mode = model.cell.type === 'lstm' ? ('cell' as const) : ('full' as const);
      const synth = synthesiserFor(model, { kind: 'bp-lambda', mode, schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 1, lambda: 1, beta: 0, synthClip: Infinity })!;
      return { method: { kind: 'bp-lambda', mode, beta: 0, synthClip: 'Infinity' }, gamma: 1, lambda: 1, targetScale: 1, synth };
    }
    case 'bptt':
      return { method: { kind: 'bp-lambda' }, gamma: 1, lambda: 1, targetScale: 1, synth: linearSynthesiser(S, S) };
  }
};

/**
 * A step-schedule run as the learner's trainBatch makes it (src/core/learner.ts), through the exported functions, with
 * the learner states after every step: states[k] holds the parameters in effect at step k+1 (states[T] the end).
 */
const stepScheduleRun = (config: LearnerConfig, s0: LearnerState, batch: Batch): LearnerState[] => {
  const method = config.method;
  if (method.kind !== 'bp-lambda') throw new Error('a BP(λ) configuration');
  const synth = synthesiserFor(config.model, method)!;
  const ctxOf = (s: LearnerState) => ({ model: config.model, synth, params: s.params, theta: s.theta!, options: bpLambdaOptionsOf(method), mode: method.mode });
  const states = [s0];
  let learner = bpLambdaInit(ctxOf(s0), batch.length);
  for (let k = 0; k < batch[0]!.inputs.length; k++) {
    const s = states[k]!;
    learner = bpLambdaStep(ctxOf(s), learner, batchStepInput(batch, k))[1];
    states.push(applyLearnerUpdates(config, s, learner.totals.netGrad, unflattenParams(learner.totals.synthUpdate, synth.paramShapes)));
    learner = bpLambdaClearTotals(learner);
  }
  return states;
};

type Report = ReturnType<typeof verifyTrace>;
/** The first failing step of a quantity's report (its first divergence), and whether every earlier step passed. */
const firstFailingStep = (r: Report, q: string): number | null => {
  const rep = r.quantities.find((x) => x.quantity === q)!;
  const step = rep.firstDivergence?.step ?? null;
  for (const t of rep.tensors) for (const st of t.steps ?? []) if (step !== null && st.step < step) expect(st.pass, `${q} step ${st.step}`).toBe(true);
  return step;
};

/** The quantity holding the network gradient a method applies. */
const NET_GRAD = { 'bp-lambda': 'sgGradients', eprop: 'sgGradients', sg: 'sgGradients', tbptt: 'tbpttGradients', bptt: 'bpttGradients' } as const;

describe('every configuration of bplambda run as a trace', () => {
  const all = configurations();

  it('enumerates every method, task, mode, clip, target scale, schedule, alignment and sg target that run accepts', () => {
    expect(new Set(all.map((c) => c.method))).toEqual(new Set(METHODS));
    expect(new Set(all.map((c) => c.task))).toEqual(new Set(TASKS));
    expect(all.some((c) => c.method === 'bp-lambda' && c.mode === 'cell' && c.synthClip === 0.05 && c.targetScale === 'batch')).toBe(true);
    expect(all.some((c) => c.method === 'bp-lambda' && c.schedule === 'step' && c.mode === 'cell')).toBe(true);
    for (const align of ['start', 'end'] as const) for (const t of ['discounted', 'authors'] as const) expect(all.some((c) => c.method === 'sg' && c.align === align && c.sgTarget === t && c.targetScale === 'batch')).toBe(true);
    expect(new Set(all.filter((c) => c.method === 'tbptt').map((c) => c.align))).toEqual(new Set(['start', 'end']));
  });

  it.each(all.map((c) => [`${c.task} ${c.method} ${c.method === 'sg' || c.method === 'tbptt' ? `n ${c.n} align ${c.align}${c.method === 'sg' ? ` target ${c.sgTarget}` : ''}` : `${c.mode} clip ${c.synthClip} ${c.schedule}`} scale ${c.targetScale}`, c] as const))(
    '%s: written from the reference, it verifies, and its numbers are the learner’s',
    (_name, c) => {
      const lc = learnerConfigOf(c);
      const nStep = lc.method.kind === 'sg' || lc.method.kind === 'tbptt';
      // T = 7 with n = 3 gives two chunk boundaries for either alignment.
      const { model, examples, rng } = batchFor(c, 1, nStep ? 7 : 4);
      const [params, r1] = initModel(model, rng);
      const tm = traceMethodOf(lc);
      const [theta0] = initSynthesiser(tm.synth, r1);
      const [noise] = uniformRange(rngFromSeed(2), theta0['W']!.data.length + theta0['b']!.data.length, -0.5, 0.5);
      // A non-zero θ (a zero one would make every check of ĝ vacuous).
      const theta: Params = { W: { shape: theta0['W']!.shape, data: noise.slice(0, theta0['W']!.data.length) }, b: { shape: theta0['b']!.shape, data: noise.slice(theta0['W']!.data.length) } };
      const trace: Record<string, unknown> = {
        format: 'bplambda-trace/1.1',
        precision: 'float64',
        method: tm.method,
        loss: { kind: model.loss, reduction: 'sum' },
        targetScale: tm.targetScale,
        batch: { cell: model.cell.type === 'lstm' ? { type: 'lstm' } : { type: 'rnn', activation: 'identity' }, params: json(params), synthesiser: json(theta), examples, gamma: tm.gamma, lambda: tm.lambda },
        computed: { loss: 0 },
      };
      const parsed = parseTrace(trace);
      trace['computed'] = JSON.parse(JSON.stringify(referenceQuantities(parsed.examples, 'batch', parsed.config)));
      const report = verifyTrace(trace);
      expect(report.pass, report.failed.join(', ')).toBe(true);
      const computed = trace['computed'] as Record<string, unknown> & { loss: number; synthesiserUpdatePerStep?: { W: number[][]; b: number[] }[] };
      if (lc.method.kind === 'sg') expect((computed['nStepTargets'] as unknown[][])[0]).toHaveLength(2);
      const seqs: Batch = parsed.examples.map((e) => e.sequence);
      const hasSynth = lc.method.kind === 'bp-lambda' || lc.method.kind === 'sg';
      const sgd = { kind: 'sgd', lr: 1 } as const;
      const { gradClip: _clip, ...rest } = lc;
      const state = (config: LearnerConfig) => ({
        params,
        theta: hasSynth ? theta : null,
        networkOpt: transformation(config.network)?.init(params) ?? null,
        synthOpt: hasSynth ? (transformation(config.synthesiser)?.init(theta) ?? null) : null,
        batches: 0,
      });
      if (lc.method.kind === 'bp-lambda' && lc.method.schedule === 'step') {
        // A real step-schedule run (SGD at 0.5): the parameters of every step, the end state trainBatch's.
        const lr = 0.5;
        const config: LearnerConfig = { ...rest, network: { kind: 'sgd', lr }, synthesiser: { kind: 'sgd', lr } };
        const states = stepScheduleRun(config, state(config), seqs);
        const [m, next] = trainBatch(config, state(config), seqs);
        expect(states.at(-1)!.params).toEqual(next.params);
        expect(states.at(-1)!.theta).toEqual(next.theta);
        const T = seqs[0]!.inputs.length;
        expect(Object.values(diff(states[2]!.params, params)).flat().some((x) => x !== 0), 'Ψ changes by step 3').toBe(true);
        expect(Object.values(diff(states[2]!.theta!, theta)).flat().some((x) => x !== 0), 'θ changes by step 3').toBe(true);
        const stepTrace: Record<string, unknown> = {
          ...trace,
          method: { ...tm.method, schedule: 'step' },
          stepParameters: states.slice(1, T).map((s) => ({ params: json(s.params), synthesiser: json(s.theta!) })),
          computed: { loss: 0 },
        };
        const sp = parseTrace(stepTrace);
        stepTrace['computed'] = JSON.parse(JSON.stringify(referenceQuantities(sp.examples, 'batch', sp.config, sp.stepParameters)));
        const r = verifyTrace(stepTrace);
        expect(r.pass, r.failed.join(', ')).toBe(true);
        expect(r.quantities.map((q) => q.quantity)).toContain('sgGradientsPerStep');
        const sc = stepTrace['computed'] as { loss: number; sgGradientsPerStep: unknown[]; synthesiserUpdatePerStep: { W: number[][]; b: number[] }[] };
        expect(sc.loss).toBeCloseTo(m.loss, 12);
        // Step k+1 moved Ψ by −lr × its network gradient and θ by +lr × the update it applied: the TD error emitted
        // there (entry k−1, none at step 1), and at the cell mode's last step also the terminal entry.
        const perLr = (d: Record<string, number[]>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.map((x) => x / lr)]));
        const entries = sc.synthesiserUpdatePerStep.map((u) => [...u.W.flat(), ...u.b]);
        for (let k = 0; k < T; k++) {
          expectRecord(sc.sgGradientsPerStep[k], perLr(diff(states[k]!.params, states[k + 1]!.params)), `sgGradientsPerStep[${k}]`);
          const applied = k === 0 ? entries[0]!.map(() => 0) : k === T - 1 && lc.method.mode === 'cell' ? entries[k - 1]!.map((x, i) => x + entries[k]![i]!) : entries[k - 1]!;
          const moved = Object.values(perLr(diff(states[k + 1]!.theta!, states[k]!.theta!))).flat();
          applied.forEach((x, i) => expect(moved[i], `θ at step ${k + 1} [${i}]`).toBeCloseTo(x, 12));
        }
        // A parameter of step 3 perturbed: the states (a cell bias) and the predictions (θ's bias) fail from step 3.
        const perturbed = (f: (t: { stepParameters: { params: { b: number[] }; synthesiser: { b: number[] } }[] }) => void) => {
          const t = JSON.parse(JSON.stringify(stepTrace)) as Parameters<typeof f>[0];
          f(t);
          return verifyTrace(t);
        };
        expect(firstFailingStep(perturbed((t) => (t.stepParameters[1]!.params.b[0]! += 1e-3)), 'states')).toBe(3);
        expect(firstFailingStep(perturbed((t) => (t.stepParameters[1]!.synthesiser.b[0]! += 1e-3)), 'syntheticGradients')).toBe(3);
        // A per-step quantity perturbed: reported at its step and tensor.
        const bad = JSON.parse(JSON.stringify(stepTrace)) as { computed: { sgGradientsPerStep: { W_out: number[][] }[] } };
        bad.computed.sgGradientsPerStep[1]!.W_out[0]![0]! += 1e-3;
        const rb = verifyTrace(bad);
        expect(rb.failedTensors).toEqual(['sgGradientsPerStep.W_out']);
        expect(firstFailingStep(rb, 'sgGradientsPerStep')).toBe(2);
        return;
      }
      // One step of SGD at learning rate 1: the parameters move by −(network gradient), θ by +(synthesiser update).
      const config: LearnerConfig = { ...rest, network: sgd, synthesiser: sgd };
      const [, next] = trainBatch(config, state(config), seqs);
      expectRecord(computed[NET_GRAD[lc.method.kind]], diff(params, next.params), NET_GRAD[lc.method.kind]);
      if (hasSynth) expectRecord(computed['synthesiserUpdate'], diff(next.theta!, theta), 'synthesiserUpdate');
    },
  );
});
