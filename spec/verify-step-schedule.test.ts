/**
 * Traces of the 'step' schedule (format 1.1, docs/verification.md "Format 1.1: the step schedule"): what parseTrace
 * refuses, by name, and how the stepwise reference (src/verify/stepSchedule.ts) relates to the sequence schedule's.
 * The configurations test (spec/trace-configurations.test.ts) ties step-schedule traces to real learner runs.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/core/errors.js';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { referenceQuantities } from '../src/verify/reference.js';
import { parseTrace } from '../src/verify/trace.js';
import { verifyTrace } from '../src/verify/verify.js';

type Json = Record<string, unknown>;
type Rows = number[] | number[][];
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const goldenNamed = (name: string): Json => goldenTrace(GOLDEN_SPECS.find((s) => s.name === name)!, 7, 'step-schedule test');

/** Every number of a parameter record plus k × 0.01 × (its index mod 3 − 1): a different set per step. */
const shifted = (p: Record<string, Rows>, k: number): Record<string, Rows> => {
  let i = 0;
  const f = (x: number) => x + k * 0.01 * ((i++ % 3) - 1);
  return Object.fromEntries(Object.entries(p).map(([n, v]) => [n, (v as (number | number[])[]).map((r) => (Array.isArray(r) ? r.map(f) : f(r)))])) as Record<string, Rows>;
};

/** A step-schedule trace of a golden case or batch: parameters shifted at every step, computed from the reference. */
const stepTrace = (name: string): Json => {
  const g = goldenNamed(name);
  const src = (g['case'] ?? g['batch']) as { params: Record<string, Rows>; synthesiser: Record<string, Rows>; inputs?: unknown[]; examples?: { inputs: unknown[] }[] };
  const T = (src.inputs ?? src.examples![0]!.inputs).length;
  const t: Json = {
    ...g,
    format: 'bplambda-trace/1.1',
    method: { ...(g['method'] as object), kind: 'bp-lambda', schedule: 'step' },
    stepParameters: Array.from({ length: T - 1 }, (_, k) => ({ params: shifted(src.params, k + 1), synthesiser: shifted(src.synthesiser, k + 1) })),
    computed: { loss: 0 },
  };
  const p = parseTrace(t);
  t['computed'] = clone(referenceQuantities(p.examples, p.mode, p.config, p.stepParameters));
  return t;
};

const refusal = (t: unknown): InvalidInputError => {
  try {
    parseTrace(t);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('accepted');
};

const CASES = ['rnn-tanh-g0.9-l1', 'batch-lstm-cell-xent-labels-clip', 'batch-rnn-identity-clip-scale', 'lstm-cell-g0.9-l0.5-masked'];

describe('step-schedule traces', () => {
  it.each(CASES)('%s: the stepwise reference with every step at the case’s parameters is the sequence schedule’s', (name) => {
    const g = goldenNamed(name);
    const seq = parseTrace(g);
    const ref = referenceQuantities(seq.examples, seq.mode, seq.config);
    const same = { ...seq.config, schedule: 'step' as const };
    const params = { params: seq.examples[0]!.params, theta: seq.examples[0]!.theta };
    const stepped = referenceQuantities(seq.examples, seq.mode, same, Array.from({ length: seq.T - 1 }, () => params));
    for (const q of ['loss', 'states', 'syntheticGradients', 'tdErrors', 'synthesiserUpdatePerStep', 'learningSignals', 'sgGradientsPerStep'] as const) expect(stepped[q], q).toEqual(ref[q]);
    for (const q of ['synthesiserUpdate', 'sgGradients'] as const) {
      const flat = (v: unknown) => Object.values(v as Record<string, Rows>).flat(2);
      flat(stepped[q]).forEach((x, i) => expect(x, `${q}[${i}]`).toBeCloseTo(flat(ref[q])[i]!, 13));
    }
  });

  it.each(CASES)('%s: a step-schedule trace verifies, and not at the sequence schedule', (name) => {
    const t = stepTrace(name);
    expect(verifyTrace(t).pass).toBe(true);
    const { stepParameters: _sp, ...asSequence } = t;
    const c = asSequence['computed'] as Json;
    const sequence = { ...asSequence, method: { ...(t['method'] as object), schedule: 'sequence' }, computed: { states: c['states'], tdErrors: c['tdErrors'] } };
    const r = verifyTrace(sequence);
    expect(r.pass).toBe(false);
    // Step 1 is formed at the case's parameters: the states first differ at step 2, the first changed ones.
    expect(r.quantities.find((q) => q.quantity === 'states')!.firstDivergence!.step).toBe(2);
  });

  it('the text report states the schedule', async () => {
    const { formatVerifyReport } = await import('../src/verify/verify.js');
    expect(formatVerifyReport('t.json', verifyTrace(stepTrace('rnn-tanh-g0.9-l1')))).toContain('schedule step');
  });

  describe('refused by name', () => {
    const t = stepTrace('batch-lstm-cell-xent-labels-clip');
    const sp = t['stepParameters'] as { params: Record<string, Rows>; synthesiser: Record<string, Rows> }[];
    const cases: [string, (x: Json) => void, string, RegExp][] = [
      ['stepParameters missing', (x) => delete x['stepParameters'], 'stepParameters', /is missing/],
      ['one entry too few', (x) => (x['stepParameters'] as unknown[]).pop(), 'stepParameters', /T−1 = 4/],
      ['stepParameters with the sequence schedule', (x) => (x['method'] = { ...(x['method'] as object), schedule: 'sequence' }), 'stepParameters', /schedule is "step"/],
      ['a network parameter of a wrong shape', (x) => ((x['stepParameters'] as typeof sp)[2]!.params['W_hh'] = [[1]]), 'stepParameters[2].params.W_hh', /./],
      ['a synthesiser of a wrong shape', (x) => ((x['stepParameters'] as typeof sp)[1]!.synthesiser['b'] = [1]), 'stepParameters[1].synthesiser.b', /./],
      ['bpttGradients (parameters not fixed)', (x) => ((x['computed'] as Json)['bpttGradients'] = { b_out: [0, 0, 0, 0] }), 'computed.bpttGradients', /schedule "step"/],
      ['lambdaTargets', (x) => ((x['computed'] as Json)['lambdaTargets'] = []), 'computed.lambdaTargets', /schedule "step"/],
      ['sgGradientsPerStep of T − 1 entries', (x) => ((x['computed'] as { sgGradientsPerStep: unknown[] }).sgGradientsPerStep.pop()), 'computed.sgGradientsPerStep', /T = 5/],
      ['sgGradientsPerStep with a wrong shape', (x) => ((x['computed'] as { sgGradientsPerStep: Json[] }).sgGradientsPerStep[3]!['b_out'] = [1]), 'computed.sgGradientsPerStep[3].b_out', /./],
      ['an empty sgGradientsPerStep entry', (x) => ((x['computed'] as { sgGradientsPerStep: Json[] }).sgGradientsPerStep[0] = {}), 'computed.sgGradientsPerStep[0]', /at least one parameter/],
    ];
    it.each(cases)('%s', (_name, mutate, path, expected) => {
      const x = clone(t);
      mutate(x);
      const e = refusal(x);
      expect(e.path).toBe(path);
      expect(e.message).toMatch(expected);
    });
    it('the step schedule for n-step SG is not a field of its method', () => {
      const x = { ...clone(t), method: { kind: 'sg', n: 2, schedule: 'step' } };
      expect(refusal(x).path).toMatch(/^method/);
    });
  });
});

describe('hints on step-schedule traces', () => {
  const t = stepTrace('batch-lstm-cell-xent-labels-clip');
  const scaleB = (g: Json) => ({ ...g, b: (g['b'] as number[]).map((x) => 2 * x) });

  it('bias gradients ×2 in every step and in the sum: the biasGradScale hint, and it passes when declared', () => {
    const x = clone(t);
    const c = x['computed'] as { sgGradients: Json; sgGradientsPerStep: Json[] };
    c.sgGradients = scaleB(c.sgGradients);
    c.sgGradientsPerStep = c.sgGradientsPerStep.map(scaleB);
    const r = verifyTrace(x);
    expect(r.failedTensors).toEqual(['sgGradients.b', 'sgGradientsPerStep.b']);
    expect(r.hints.map((h) => h.kind)).toContain('bias-gradient');
    expect(verifyTrace({ ...x, deviations: { biasGradScale: 2 } }).pass).toBe(true);
  });

  it('every synthesiser quantity at target scale 1 where the trace declares 1/B: the targetScale hint', () => {
    const x = clone(t);
    const p = parseTrace({ ...x, targetScale: 1 });
    x['computed'] = clone(referenceQuantities(p.examples, p.mode, p.config, p.stepParameters));
    const r = verifyTrace(x);
    expect(r.pass).toBe(false);
    expect(r.hints.find((h) => h.kind === 'target-scale')?.option).toEqual({ field: 'targetScale', value: 1 });
  });
});
