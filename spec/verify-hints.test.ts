/**
 * The hints (src/verify/hints.ts) bite: for each, the pattern it must recognise and the near misses it must not,
 * so that loosening or breaking its detection fails a test (spec/verify-report.test.ts has the main case of each;
 * these are the edges each of them was found to miss when its detection was broken on purpose). Every trace is a
 * golden trace changed by a known factor, so the expected hint follows from the change, not from the code.
 */
import { describe, expect, it } from 'vitest';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { verifyTrace } from '../src/verify/verify.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Trace = Record<string, Json> & { computed: Record<string, Json> };
type Upd = { W: number[][]; b: number[] };
const traceOf = (name: string): Trace => JSON.parse(JSON.stringify(goldenTrace(GOLDEN_SPECS.find((s) => s.name === name)!, 3, 'test'))) as Trace;
const times = (v: Json, k: number): Json => (typeof v === 'number' ? v * k : Array.isArray(v) ? v.map((x) => times(x, k)) : Object.fromEntries(Object.entries(v as object).map(([n, x]) => [n, times(x as Json, k)])));
const grads = (t: Trace, q: string) => t.computed[q] as Record<string, Json>;
const kinds = (t: Trace) => verifyTrace(t).hints.map((h) => h.kind);
const norm = (xs: readonly number[]) => Math.hypot(...xs);
const CELL_CLIP = 'batch-lstm-cell-xent-labels-clip'; // B = 3, O = 4, target scale 1/B, clip 0.05
const CELL = 'lstm-cell-g1-l1'; // no clip
const RNN = 'rnn-tanh-xent-onehot-b0.3';

describe('hints bite', () => {
  it('target scale: named 1/B in words; and found from nStepTargets alone (n-step SG)', () => {
    const t = traceOf(CELL_CLIP);
    delete t['targetScale'];
    expect(verifyTrace(t).hints.find((h) => h.kind === 'target-scale')!.message).toMatch(/with "targetScale": 0\.333333 \(0\.333333 = 1\/B\) they pass/);
    const u = traceOf('batch-rnn-tanh-sg3-authors-end');
    delete u['targetScale'];
    u.computed = { nStepTargets: u.computed['nStepTargets']! };
    const h = verifyTrace(u).hints.find((x) => x.kind === 'target-scale');
    expect(h?.option).toEqual({ field: 'targetScale', value: 1 / 3 });
  });

  it('one ratio on every synthesiser quantity that no target scale explains: a ratio hint, and no target-scale one', () => {
    const t = traceOf(CELL_CLIP);
    for (const q of ['lambdaTargets', 'tdErrors', 'synthesiserUpdatePerStep', 'synthesiserUpdate', 'forwardViewUpdate']) t.computed[q] = times(t.computed[q]!, 7);
    const r = verifyTrace(t);
    expect(r.hints.map((h) => h.kind)).toEqual(['ratio']);
    expect(r.hints[0]!.message).toMatch(/^ratio 7 on every synthesiser quantity .*no target scale explains it/);
  });

  it('bias and readout factors on top of a declared deviation: the value to declare is the product', () => {
    const t = traceOf(CELL);
    t['deviations'] = { biasGradScale: 2 };
    for (const q of ['bpttGradients', 'sgGradients']) grads(t, q)['b'] = times(grads(t, q)['b']!, 4);
    expect(verifyTrace(t).hints.find((h) => h.kind === 'bias-gradient')?.option).toEqual({ field: 'deviations.biasGradScale', value: 4 });
    const u = traceOf(CELL);
    u['deviations'] = { readoutGradScale: 0.5 };
    for (const q of ['bpttGradients', 'sgGradients']) for (const k of ['W_out', 'b_out']) grads(u, q)[k] = times(grads(u, q)[k]!, 0.25);
    expect(verifyTrace(u).hints.find((h) => h.kind === 'readout-gradient')?.option).toEqual({ field: 'deviations.readoutGradScale', value: 0.25 });
  });

  it('the bias hint needs the biases alone and one ratio; when it fires, no generic ratio hint', () => {
    const only = traceOf(CELL);
    for (const q of ['bpttGradients', 'sgGradients']) grads(only, q)['b'] = times(grads(only, q)['b']!, 2);
    expect(kinds(only)).toEqual(['bias-gradient']);
    const more = traceOf(CELL);
    for (const k of ['b', 'W_hh']) grads(more, 'bpttGradients')[k] = times(grads(more, 'bpttGradients')[k]!, 2);
    expect(kinds(more)).toEqual(['ratio']);
    const two = traceOf(CELL);
    grads(two, 'bpttGradients')['b'] = times(grads(two, 'bpttGradients')['b']!, 2);
    grads(two, 'sgGradients')['b'] = times(grads(two, 'sgGradients')['b']!, 3);
    expect(kinds(two)).not.toContain('bias-gradient');
  });

  it('every failing tensor k × its reference (no option explains it): the generic ratio hint', () => {
    const t = traceOf(RNN);
    grads(t, 'bpttGradients')['W_rec'] = times(grads(t, 'bpttGradients')['W_rec']!, 10);
    t.computed['futureGradients'] = times(t.computed['futureGradients']!, 10);
    const r = verifyTrace(t);
    expect(r.hints.map((h) => h.kind)).toEqual(['ratio']);
    expect(r.hints[0]!.message).toMatch(/every failing tensor \(futureGradients, bpttGradients\.W_rec\) is 10 × its reference/);
  });

  it('the clip hint needs equal norms; it is confirmed only when the clip makes the per-step updates pass', () => {
    // Per-step factors < 1 with different norms: not a clip.
    const t = traceOf(CELL);
    const steps = t.computed['synthesiserUpdatePerStep'] as unknown as Upd[];
    steps[1] = times(steps[1] as unknown as Json, 0.5) as unknown as Upd;
    steps[3] = times(steps[3] as unknown as Json, 0.3) as unknown as Upd;
    expect(kinds(t)).not.toContain('clip');
    // Every W rescaled to one norm v below its own, the b left as they are although some exceed v: it looks like a
    // clip of W, but a clip at v would clip those b too, so the hint is not confirmed.
    const u = traceOf(CELL);
    const us = u.computed['synthesiserUpdatePerStep'] as unknown as Upd[];
    const v = 0.5 * Math.min(...us.map((s) => norm(s.W.flat())).filter((n) => n > 0));
    expect(us.some((s) => norm(s.b) > v)).toBe(true);
    us.forEach((s, k) => (us[k] = { W: norm(s.W.flat()) === 0 ? s.W : (times(s.W, v / norm(s.W.flat())) as number[][]), b: s.b }));
    const h = verifyTrace(u).hints.find((x) => x.kind === 'clip')!;
    expect(h.option!.value).toBeCloseTo(v, 12);
    expect(h.confirmed).toBe(false);
    expect(h.message).not.toMatch(/with it the per-step updates pass/);
  });

  it('a few zeros in a tensor that differs everywhere are not "zeros where the reference is not"', () => {
    const t = traceOf(RNN);
    const w = times(grads(t, 'bpttGradients')['W_rec']!, 10) as number[][];
    w[0]![0] = 0;
    grads(t, 'bpttGradients')['W_rec'] = w;
    expect(kinds(t)).not.toContain('zeros');
  });
});
