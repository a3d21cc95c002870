/**
 * Traces of the n-step methods (format 1.1, `method.kind` 'sg' and 'tbptt'): what they may carry and its shapes,
 * identities that tie their reference to exact BPTT and to each other (derived from the definitions, not from
 * the code under test), and reports and hints on them. The fixtures are the golden set's n-step traces.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/core/errors.js';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { formatVerifyReport, verifyTrace } from '../src/verify/verify.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Trace = Record<string, Json> & { method: Record<string, Json>; computed: Record<string, Json> };
const traceOf = (name: string): Trace => JSON.parse(JSON.stringify(goldenTrace(GOLDEN_SPECS.find((s) => s.name === name)!, 5, 'test'))) as Trace;
const times = (v: Json, k: number): Json => (typeof v === 'number' ? v * k : Array.isArray(v) ? v.map((x) => times(x, k)) : Object.fromEntries(Object.entries(v as object).map(([n, x]) => [n, times(x as Json, k)])));
const SG_BATCH = 'batch-rnn-tanh-sg3-authors-end'; // B = 3, T = 8, n = 3 from the end: boundaries t = 2, 5
const SG_CASE = 'lstm-sg2-discounted'; // T = 6
const TBPTT = 'batch-lstm-tbptt3-end-xent-labels'; // B = 2, T = 7

const invalid = (t: unknown): InvalidInputError => {
  try {
    verifyTrace(t);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('expected an invalid trace');
};

describe('n-step traces: structure', () => {
  it('a quantity the method does not compute is invalid, naming it and the method’s quantities', () => {
    const t = traceOf(SG_CASE);
    t.computed['tdErrors'] = [[0]];
    expect(invalid(t).message).toMatch(/computed\.tdErrors is not computed by this method, expected a quantity of method "sg" \(loss, states, .*nStepTargets\)/);
    const u = traceOf(TBPTT);
    u.computed['sgGradients'] = u.computed['tbpttGradients']!;
    expect(invalid(u).path).toBe('computed.sgGradients');
    const v = traceOf('lstm-cell-g1-l1');
    v.computed['tbpttGradients'] = v.computed['bpttGradients']!;
    expect(invalid(v).message).toMatch(/computed\.tbpttGradients.*method "bp-lambda"/);
  });

  it('boundary quantities have one row per chunk boundary (K), per example in a batch', () => {
    const t = traceOf(SG_BATCH);
    (t.computed['nStepTargets'] as Json[][])[1]!.push([0, 0, 0, 0]);
    expect(invalid(t).message).toMatch(/computed\.nStepTargets\[1\].*K = 2/);
  });

  it('method fields are checked: n an integer ≥ 1, align and target named; a /1 trace has no method', () => {
    const t = traceOf(SG_CASE);
    t.method['n'] = 0;
    expect(invalid(t).path).toBe('method.n');
    const u = traceOf(SG_CASE);
    u.method['align'] = 'middle';
    expect(invalid(u).path).toBe('method.align');
    const v = traceOf(SG_CASE);
    v.method['kind'] = 'dni';
    expect(invalid(v).path).toMatch(/^method/);
    const w = traceOf(SG_CASE);
    w['format'] = 'bplambda-trace/1';
    w.computed = { loss: w.computed['loss']! };
    expect(invalid(w).path).toBe('method');
  });
});

describe('n-step traces: the reference against identities', () => {
  it('with n ≥ T there is no boundary and no truncation: sg and tbptt give exact BPTT', () => {
    for (const [name, q] of [[SG_CASE, 'sgGradients'], [TBPTT, 'tbpttGradients']] as const) {
      const t = traceOf(name);
      t.method['n'] = 7;
      const bptt = t.computed['bpttGradients']!;
      t.computed = { [q]: bptt, ...(q === 'sgGradients' ? { nStepTargets: [], nStepPredictions: [] } : {}) };
      const r = verifyTrace(t);
      expect(r.pass, `${name}: ${r.failed.join(', ')}`).toBe(true);
    }
  });

  it('n-step SG with β = 0 injects nothing: its network gradient is truncated BPTT’s with the same chunks', () => {
    const t = traceOf(SG_BATCH);
    const tb = traceOf(SG_BATCH);
    expect(t.method['beta']).toBe(0.5);
    tb.method = { kind: 'tbptt', n: 3, align: 'end' };
    delete tb['targetScale'];
    tb.computed = { tbpttGradients: t.computed['sgGradients']! };
    expect(verifyTrace(tb).pass).toBe(false); // β = 0.5 in the golden trace: the injection matters
    // The reference of the β = 0 trace, read back through a passing verify of tbptt with its sgGradients.
    const sg0 = goldenTrace({ ...GOLDEN_SPECS.find((s) => s.name === SG_BATCH)!, nStep: { kind: 'sg', n: 3, align: 'end', target: 'authors', beta: 0 } }, 5, 'test') as { computed: { sgGradients: Json } };
    tb.computed = { tbpttGradients: sg0.computed.sgGradients };
    expect(verifyTrace(tb).pass).toBe(true);
  });
});

describe('n-step traces: reports and hints', () => {
  it('the text report states the method as the trace does', () => {
    const text = formatVerifyReport('t', verifyTrace(traceOf(SG_BATCH)));
    expect(text).toContain('method: sg, n = 3, chunks aligned to the end, target authors, β = 0.5; loss mse (sum)');
    expect(text.trimEnd().split('\n').at(-1)).toBe('PASS: all 8 quantities within tolerance');
    expect(formatVerifyReport('t', verifyTrace(traceOf(TBPTT)))).toContain('method: tbptt, n = 3, chunks aligned to the end; loss xent (sum)');
  });

  it('a perturbed boundary target is reported at its example and element, with no step', () => {
    const t = traceOf(SG_BATCH);
    (t.computed['nStepTargets'] as number[][][])[1]![0]![2]! += 1e-3;
    const r = verifyTrace(t);
    expect(r.failedTensors).toEqual(['nStepTargets']);
    expect(r.quantities.find((q) => q.quantity === 'nStepTargets')!.firstDivergence).toMatchObject({ path: 'nStepTargets[1][0][2]', example: 1, step: null, element: '[0][2]' });
  });

  it('sg quantities at 1/B without a declared target scale: a hint naming targetScale 1/B, confirmed', () => {
    const t = traceOf(SG_BATCH);
    delete t['targetScale'];
    const r = verifyTrace(t);
    expect(r.failed).toEqual(expect.arrayContaining(['nStepTargets', 'synthesiserUpdate', 'sgGradients']));
    const h = r.hints.find((x) => x.kind === 'target-scale')!;
    expect(h.option).toEqual({ field: 'targetScale', value: 1 / 3 });
    expect(h.confirmed).toBe(true);
  });

  it('tbptt (and BPTT) bias gradients ×2: the bias hint; declaring biasGradScale 2 passes', () => {
    const t = traceOf(TBPTT);
    for (const q of ['bpttGradients', 'tbpttGradients']) {
      const g = t.computed[q] as Record<string, Json>;
      g['b'] = times(g['b']!, 2);
    }
    const r = verifyTrace(t);
    expect(r.failedTensors).toEqual(['bpttGradients.b', 'tbpttGradients.b']);
    expect(r.hints.find((x) => x.kind === 'bias-gradient')?.option).toEqual({ field: 'deviations.biasGradScale', value: 2 });
    t['deviations'] = { biasGradScale: 2 };
    expect(verifyTrace(t).pass).toBe(true);
  });
});
