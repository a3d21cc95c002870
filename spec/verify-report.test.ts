/**
 * Reports that diagnose (issue 13): per tensor and per step, the error relative to the tensor's norm and the
 * best-fit ratio actual/reference; every failing tensor listed; hints mapping the patterns seen in real
 * implementations to the option that explains them. Each case is made from a golden trace by the change it
 * describes, so the expected factor is known independently of the code under test.
 */
import { describe, expect, it } from 'vitest';
import { fitStats } from '../src/verify/fit.js';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { formatVerifyReport, verifyReportJson, verifyTrace } from '../src/verify/verify.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const traceOf = (name: string): Record<string, Json> =>
  JSON.parse(JSON.stringify(goldenTrace(GOLDEN_SPECS.find((s) => s.name === name)!, 11, 'test'))) as Record<string, Json>;
const times = (v: Json, k: number): Json => (typeof v === 'number' ? v * k : Array.isArray(v) ? v.map((x) => times(x, k)) : Object.fromEntries(Object.entries(v as object).map(([n, x]) => [n, times(x as Json, k)])));
const CELL = 'batch-lstm-cell-xent-labels-clip';

describe('fit statistics', () => {
  it('an exact factor has its ratio, a residual at rounding level and a norm-relative error |k − 1|', () => {
    const r = [1e-9, 2, -3, 0.5];
    const s = fitStats(r.map((x) => 10 * x), r);
    expect(s.ratio).toBeCloseTo(10, 14);
    expect(s.ratioResidual!).toBeLessThan(1e-15);
    expect(s.normRelError).toBeCloseTo(9, 12);
    // The element-wise relative error of the near-zero entry is as large as any other; the norm-relative one is not dominated by it.
    const t = fitStats([1e-9 + 1e-9, 2, -3, 0.5], r);
    expect(t.normRelError).toBeLessThan(1e-9);
    expect(t.zerosWhereReferenceNot).toBe(0);
    expect(fitStats([0, 0], [1, 2]).zerosWhereReferenceNot).toBe(2);
    expect(fitStats([NaN, 1], [1, 1]).ratio).toBeNull();
  });
});

describe('verify reports', () => {
  it('lists every failing tensor, with its ratio, not only the first', () => {
    const t = traceOf('rnn-tanh-xent-onehot-b0.3');
    const c = t['computed'] as Record<string, Record<string, Json>>;
    c['bpttGradients']!['W_rec'] = times(c['bpttGradients']!['W_rec']!, 10);
    c['sgGradients']!['W_in'] = times(c['sgGradients']!['W_in']!, -1);
    const r = verifyTrace(t);
    expect(r.failedTensors).toEqual(['bpttGradients.W_rec', 'sgGradients.W_in']);
    const wrec = r.quantities.find((q) => q.quantity === 'bpttGradients')!.tensors.find((x) => x.tensor === 'bpttGradients.W_rec')!;
    expect(wrec.ratio).toBeCloseTo(10, 12);
    expect(wrec.normRelError).toBeCloseTo(9, 12);
    const text = formatVerifyReport('t', r);
    expect(text).toMatch(/bpttGradients\.W_rec: 16 of 16 elements differ.*= 10 × reference/);
    expect(text).toMatch(/sgGradients\.W_in: .*= −1|sgGradients\.W_in: .*-1 = −1 \(a sign\)/);
    expect(r.hints.map((h) => h.kind)).not.toContain('bias-gradient');
  });

  it('a perturbed number is reported at its tensor, step, example and index, with its step alone failing', () => {
    const t = traceOf(CELL);
    const c = t['computed'] as { synthesiserUpdatePerStep: { W: number[][] }[]; learningSignals: number[][][] };
    c.synthesiserUpdatePerStep[2]!.W[1]![4]! += 1e-3;
    c.learningSignals[1]![3]![2]! += 1e-3;
    const r = verifyTrace(t);
    expect(r.failedTensors).toEqual(['synthesiserUpdatePerStep.W', 'learningSignals']);
    const w = r.quantities.find((q) => q.quantity === 'synthesiserUpdatePerStep')!.tensors.find((x) => x.tensor === 'synthesiserUpdatePerStep.W')!;
    expect(w.firstDivergence).toMatchObject({ path: 'synthesiserUpdatePerStep[2].W[1][4]', step: 3, element: 'W[1][4]' });
    expect(w.steps!.filter((s) => !s.pass).map((s) => s.step)).toEqual([3]);
    const ls = r.quantities.find((q) => q.quantity === 'learningSignals')!.tensors[0]!;
    expect(ls.firstDivergence).toMatchObject({ path: 'learningSignals[1][3][2]', step: 4, example: 1, element: '[2]' });
    expect(ls.steps!.filter((s) => !s.pass).map((s) => s.step)).toEqual([4]);
    const json = JSON.parse(verifyReportJson(r)) as { failedTensors: string[]; quantities: { tensors: { steps: unknown[] | null }[] }[] };
    expect(json.failedTensors).toEqual(r.failedTensors);
    expect(formatVerifyReport('t', r)).toMatch(/first at learningSignals\[1\]\[3\]\[2\] \(step t = 4, example 1, element \[2\]\)/);
  });
});

describe('hints', () => {
  it('synthesiser quantities at 1/B without a declared target scale: a hint naming targetScale 1/B, confirmed', () => {
    const t = traceOf(CELL);
    expect(t['targetScale']).toBeCloseTo(1 / 3, 15);
    delete t['targetScale'];
    const r = verifyTrace(t);
    expect(r.pass).toBe(false);
    const h = r.hints.find((x) => x.kind === 'target-scale')!;
    expect(h.option).toEqual({ field: 'targetScale', value: 1 / 3 });
    expect(h.confirmed).toBe(true);
    expect(formatVerifyReport('t', r)).toMatch(/hints:\n\s+- .*declare "targetScale": 0\.333333/);
  });

  it('ratio 2 on the biases only: biasGradScale 2; ratio 1/O on the readout only: readoutGradScale', () => {
    const t = traceOf('lstm-cell-g1-l1');
    const c = t['computed'] as Record<string, Record<string, Json>>;
    for (const q of ['bpttGradients', 'sgGradients']) c[q]!['b'] = times(c[q]!['b']!, 2);
    expect(verifyTrace(t).hints.find((h) => h.kind === 'bias-gradient')?.option).toEqual({ field: 'deviations.biasGradScale', value: 2 });
    const u = traceOf('lstm-cell-g1-l1');
    const d = u['computed'] as Record<string, Record<string, Json>>;
    for (const k of ['W_out', 'b_out']) d['sgGradients']![k] = times(d['sgGradients']![k]!, 1 / 2);
    const h = verifyTrace(u).hints.find((x) => x.kind === 'readout-gradient')!;
    expect(h.option).toEqual({ field: 'deviations.readoutGradScale', value: 0.5 });
    expect(h.message).toMatch(/1\/O/);
  });

  it('per-step factors ≤ 1 whose norms equal the clip: a hint naming synthClip, confirmed', () => {
    const t = traceOf(CELL);
    (t['method'] as Record<string, Json>)['synthClip'] = 'Infinity';
    const r = verifyTrace(t);
    const h = r.hints.find((x) => x.kind === 'clip')!;
    expect(h.option!.field).toBe('method.synthClip');
    expect(h.option!.value).toBeCloseTo(0.05, 12);
    expect(h.confirmed).toBe(true);
  });

  it('zeros where the reference is not are named; a zero synthesiser is noted even on a pass', () => {
    const t = traceOf('rnn-tanh-xent-onehot-b0.3');
    const c = t['computed'] as { bpttGradients: { W_rec: number[][] } };
    c.bpttGradients.W_rec = c.bpttGradients.W_rec.map((row) => row.map(() => 0));
    const r = verifyTrace(t);
    expect(r.hints.find((h) => h.kind === 'zeros')!.message).toMatch(/bpttGradients\.W_rec is 0 at 16 of 16/);
    const z = verifyTrace(traceOf('rnn-tanh-zero-synth-g1-l0.5'));
    expect(z.pass).toBe(true);
    expect(z.hints.map((h) => h.kind)).toEqual(['zero-synthesiser']);
    expect(verifyTrace(traceOf(CELL)).hints).toEqual([]);
  });
});
