/**
 * `verify` (src/verify) as functions:
 *
 * - a trace written from the oracle's own output passes with zero error (RNN identity and tanh, LSTM; a case and a
 *   batch), and its quantities are exactly the oracle result's;
 * - a single perturbed number (fast-check over the trace, the quantity, the element and the size of the change,
 *   including non-finite values) fails exactly that quantity, with exactly that path, step, example and element as
 *   the first divergence, and one mismatch;
 * - an independent perturbation of two elements reports the earlier step first (time order, also in a batch);
 * - tolerances: declared precision changes the defaults; --rtol/--atol override them; the rule's boundary;
 * - invalid traces throw InvalidInputError naming the field (unknown fields, wrong shapes, wrong precision, …).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/core/errors.js';
import { oracle } from '../src/core/oracle.js';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { QUANTITIES_1 } from '../src/verify/schema.js';
import { GROWTH_CONSTANT, RTOL_CAP, UNIT_ROUNDOFF, defaultTolerance } from '../src/verify/tolerance.js';
import { verifyReportJson, verifyTrace } from '../src/verify/verify.js';
import { fcParams } from '../property-tests/arbitraries.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Seg = string | number;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const spec = (name: string) => GOLDEN_SPECS.find((s) => s.name === name)!;
const traceOf = (name: string, seed = 7): Record<string, Json> => goldenTrace(spec(name), seed, 'test') as Record<string, Json>;

const RNN_ID = 'rnn-identity-g0.9-l0.5-masked';
const RNN_TANH = 'rnn-tanh-g0.5-l0.7-masked';
const LSTM = 'lstm-g0.9-l0.5-masked';
const BATCH = 'batch-rnn-tanh-g0.9-l0.7';
const BATCH_LSTM = 'batch-lstm-g1-l0.5';

/** Every leaf of a JSON value, as segment lists, in row-major order. */
const leafPaths = (v: Json, segs: Seg[] = [], out: Seg[][] = []): Seg[][] => {
  if (Array.isArray(v)) v.forEach((x, i) => leafPaths(x, [...segs, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leafPaths(x, [...segs, k], out);
  else out.push(segs);
  return out;
};
const get = (v: Json, segs: readonly Seg[]): Json => segs.reduce<Json>((a, s) => (a as Record<string | number, Json>)[s]!, v);
const set = (v: Json, segs: readonly Seg[], x: Json): void => {
  const parent = get(v, segs.slice(0, -1)) as Record<string | number, Json>;
  parent[segs[segs.length - 1]!] = x;
};
const pathText = (q: string, segs: readonly Seg[]): string => q + segs.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');

const PER_STEP = new Set(['states', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors', 'learningSignals']);

/** What the report must say about a perturbed element, derived from the layout described in the docs. */
const expectedLocation = (q: string, segs: readonly Seg[], batch: boolean) => {
  if (PER_STEP.has(q) && batch) return { step: (segs[1] as number) + 1, example: segs[0] as number, rest: segs.slice(2) };
  if (PER_STEP.has(q) || q === 'synthesiserUpdatePerStep') return { step: (segs[0] as number) + 1, example: null, rest: segs.slice(1) };
  return { step: null, example: null, rest: segs };
};

describe('verify on the oracle’s own output', () => {
  it.each([RNN_ID, RNN_TANH, LSTM, 'rnn-tanh-T2-g0.9-l0.5', 'lstm-T2-g1-l0'])('%s: a case trace passes with zero error', (name) => {
    const t = traceOf(name);
    // The computed quantities are exactly the oracle result of the case (plus the per-step updates).
    const { format: _f, ...result } = oracle(t['case']);
    expect(Object.keys(t['computed'] as object).sort()).toEqual([...QUANTITIES_1].sort());
    for (const [k, v] of Object.entries(result)) expect((t['computed'] as Record<string, unknown>)[k]).toEqual(v);
    const r = verifyTrace(t);
    expect(r.pass).toBe(true);
    expect(r.failed).toEqual([]);
    expect(r.quantities.map((q) => q.quantity)).toEqual([...QUANTITIES_1]);
    for (const q of r.quantities) {
      expect(q).toMatchObject({ pass: true, mismatches: 0, maxAbsError: 0, maxRelError: 0, firstDivergence: null });
      expect(q.compared).toBeGreaterThan(0);
    }
  });

  it.each([BATCH, BATCH_LSTM])('%s: a batch trace passes; batch means are the means of the per-example oracle results', (name) => {
    const t = traceOf(name);
    const r = verifyTrace(t);
    expect(r.pass).toBe(true);
    expect(r.mode).toBe('batch');
    const b = t['batch'] as Record<string, Json> & { examples: { inputs: Json; targets: Json }[] };
    const { examples, ...shared } = b;
    const per = examples.map((e) => oracle({ format: 'bplambda-case/1', ...shared, inputs: e.inputs, targets: e.targets }));
    const computed = t['computed'] as Record<string, Json>;
    expect(computed['states']).toEqual(per.map((p) => p.states));
    expect(computed['tdErrors']).toEqual(per.map((p) => p.tdErrors));
    expect(computed['loss']).toBeCloseTo(per.reduce((a, p) => a + p.loss, 0) / per.length, 14);
    const meanW = per[0]!.synthesiserUpdate.W.map((row, i) => row.map((_, j) => per.reduce((a, p) => a + p.synthesiserUpdate.W[i]![j]!, 0) / per.length));
    (computed['synthesiserUpdate'] as { W: number[][] }).W.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(meanW[i]![j]!, 14)));
  });

  it('the per-step synthesiser updates sum to the backward-view update', () => {
    const c = traceOf(LSTM)['computed'] as { synthesiserUpdatePerStep: { W: number[][]; b: number[] }[]; synthesiserUpdate: { W: number[][]; b: number[] } };
    const sumB = c.synthesiserUpdate.b.map((_, i) => c.synthesiserUpdatePerStep.reduce((a, u) => a + u.b[i]!, 0));
    sumB.forEach((x, i) => expect(x).toBeCloseTo(c.synthesiserUpdate.b[i]!, 12));
    expect(c.synthesiserUpdatePerStep.length).toBe(spec(LSTM).T - 1);
  });

  it('any subset of quantities and of gradient tensors is verified on its own', () => {
    const t = traceOf(RNN_TANH);
    const c = t['computed'] as Record<string, Json>;
    t['computed'] = { tdErrors: c['tdErrors']!, bpttGradients: { W_rec: (c['bpttGradients'] as Record<string, Json>)['W_rec']! } };
    const r = verifyTrace(t);
    expect(r.pass).toBe(true);
    expect(r.quantities.map((q) => q.quantity)).toEqual(['tdErrors', 'bpttGradients']);
    expect(r.quantities[1]!.compared).toBe(spec(RNN_TANH).H ** 2);
  });
});

describe("traces at the authors' target scale (targetScale c)", () => {
  // An implementation following the authors' code trains its synthesiser on gradients of the batch-mean loss,
  // c = 1/B times the example's own. Its trace is derived here from the per-example trace of θ₁ by algebra (a linear
  // synthesiser predicting c × the gradient is θ_c = c θ₁): ĝ, the λ-targets, the TD errors and every synthesiser
  // update are c times those of θ₁, and everything else (states, G_t, losses, network gradients) is unchanged.
  const SCALED = new Set(['syntheticGradients', 'lambdaTargets', 'tdErrors', 'synthesiserUpdate', 'forwardViewUpdate', 'synthesiserUpdatePerStep']);
  const scaleJson = (v: Json, c: number): Json =>
    typeof v === 'number' ? v * c : Array.isArray(v) ? v.map((x) => scaleJson(x, c)) : Object.fromEntries(Object.entries(v as Record<string, Json>).map(([k, x]) => [k, scaleJson(x, c)]));
  const authorsTrace = (name: string): { trace: Record<string, Json>; c: number } => {
    const t = traceOf(name);
    const batch = t['batch'] as Record<string, Json> & { examples: Json[] };
    const c = 1 / batch.examples.length;
    batch['synthesiser'] = scaleJson(batch['synthesiser']!, c);
    const computed = t['computed'] as Record<string, Json>;
    for (const q of Object.keys(computed)) if (SCALED.has(q)) computed[q] = scaleJson(computed[q]!, c);
    return { trace: t, c };
  };

  it.each([BATCH, BATCH_LSTM])('%s: passes when it declares targetScale 1/B, and its synthetic quantities fail without it', (name) => {
    const { trace, c } = authorsTrace(name);
    expect(c).toBeLessThan(1);
    const r = verifyTrace({ ...trace, targetScale: c });
    expect(r.failed).toEqual([]);
    expect(r.targetScale).toBe(c);
    const plain = verifyTrace(trace);
    expect(plain.pass).toBe(false);
    // ĝ is computed from θ as given, so it matches at any declared scale; what depends on c does not.
    expect(plain.failed).toEqual(expect.arrayContaining(['lambdaTargets', 'tdErrors', 'synthesiserUpdate', 'sgGradients']));
    expect(plain.failed).not.toContain('states');
    expect(plain.failed).not.toContain('syntheticGradients');
  });

  it('a target scale that is not a positive number is an input error naming targetScale', () => {
    const { trace } = authorsTrace(BATCH);
    for (const bad of [0, -0.5, '0.1'] as Json[]) expect(() => verifyTrace({ ...trace, targetScale: bad })).toThrow(/targetScale/);
  });
});

describe('format 1.1: the declared configuration is what the reference computes', () => {
  const CELL = 'batch-lstm-cell-xent-labels-clip';
  const failedWith = (name: string, change: (t: Record<string, Json>) => void): string[] => {
    const t = traceOf(name);
    change(t);
    return [...verifyTrace(t).failed];
  };
  const method = (t: Record<string, Json>) => t['method'] as Record<string, Json>;

  it('each option matters, and only where the method says it does', () => {
    // β weighs ĝ in the network's learning signal only.
    expect(failedWith(CELL, (t) => (method(t)['beta'] = 1)).sort()).toEqual(['learningSignals', 'sgGradients']);
    // The clip acts on the synthesiser's applied updates only.
    expect(failedWith(CELL, (t) => (method(t)['synthClip'] = 'Infinity')).sort()).toEqual(['synthesiserUpdate', 'synthesiserUpdatePerStep']);
    // The target scale: everything built from c m_t and the signal's β/c.
    expect(failedWith(CELL, (t) => delete t['targetScale']).sort()).toEqual(['forwardViewUpdate', 'lambdaTargets', 'learningSignals', 'sgGradients', 'synthesiserUpdate', 'synthesiserUpdatePerStep', 'tdErrors']);
    // The loss changes every gradient (and the loss), not the states or the predictions.
    const loss = failedWith('rnn-tanh-xent-onehot-b0.3', (t) => (t['loss'] = { kind: 'mse', reduction: 'sum' }));
    expect(loss).toEqual(expect.arrayContaining(['loss', 'bpttGradients', 'futureGradients', 'tdErrors', 'sgGradients']));
    expect(loss).not.toContain('states');
    expect(loss).not.toContain('syntheticGradients');
  });

  it('declared deviations scale exactly the tensors they name', () => {
    const t = traceOf('lstm-cell-g1-l1');
    const c = t['computed'] as Record<string, Record<string, Json>>;
    const times = (v: Json, k: number): Json => (typeof v === 'number' ? v * k : (v as Json[]).map((x) => times(x, k)));
    for (const q of ['bpttGradients', 'sgGradients']) {
      c[q]!['b'] = times(c[q]!['b']!, 2);
      c[q]!['W_out'] = times(c[q]!['W_out']!, 0.5);
    }
    expect(verifyTrace(t).failed).toEqual(['bpttGradients', 'sgGradients']);
    expect(verifyTrace({ ...t, deviations: { biasGradScale: 2 } }).failed).toEqual(['bpttGradients', 'sgGradients']);
    const r = verifyTrace({ ...t, deviations: { biasGradScale: 2, readoutGradScale: 0.5 } });
    // b_out was not scaled: the readout factor applies to W_out and b_out together, so b_out now fails alone.
    expect(r.failed).toEqual(['bpttGradients', 'sgGradients']);
    for (const q of ['bpttGradients', 'sgGradients']) c[q]!['b_out'] = times(c[q]!['b_out']!, 0.5);
    expect(verifyTrace({ ...t, deviations: { biasGradScale: 2, readoutGradScale: 0.5 } }).pass).toBe(true);
  });

  const invalid: [string, (t: Record<string, Json>) => unknown, RegExp][] = [
    ['cell mode on an RNN', () => ({ ...traceOf(RNN_TANH), format: 'bplambda-trace/1.1', method: { kind: 'bp-lambda', mode: 'cell' } }), /^method\.mode is "cell", expected "full" for an rnn cell/],
    ['a full-state synthesiser in the cell mode', (t) => ({ ...t, method: { kind: 'bp-lambda', mode: 'cell' } }), /^case\.synthesiser\.W has shape 6x6, expected 3x6/],
    ['a class label with mse', (t) => ({ ...t, case: { ...(t['case'] as object), targets: [0, null, null, null, null, null] } }), /^case\.targets\[0\] is the class label 0, expected a vector of O = 2 numbers/],
    ['a class label out of range', (t) => ({ ...t, loss: { kind: 'xent', reduction: 'sum' }, case: { ...(t['case'] as object), targets: [2, null, null, null, null, null] } }), /^case\.targets\[0\] is 2, expected a class label in \[0, 1\]/],
    ['cell-mode rows', (t) => ({ ...t, method: { kind: 'bp-lambda', mode: 'cell' }, case: { ...(t['case'] as object), synthesiser: { W: [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], b: [0, 0, 0] } }, computed: { tdErrors: [[0, 0, 0]] } }), /^computed\.tdErrors has 1 entries, expected T = 6 \(layout T×H = 6×3\)$/],
    ['cell-mode per-step updates', (t) => ({ ...t, method: { kind: 'bp-lambda', mode: 'cell' }, case: { ...(t['case'] as object), synthesiser: { W: [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], b: [0, 0, 0] } }, computed: { synthesiserUpdatePerStep: [] } }), /^computed\.synthesiserUpdatePerStep has 0 entries, expected T = 6 \(one \{W, b\} per TD error\)/],
    ['learning signals of the full mode', (t) => ({ ...t, computed: { learningSignals: [[0, 0, 0]] } }), /^computed\.learningSignals has 1 entries, expected T = 6 \(layout T×S = 6×6\)$/],
  ];
  it.each(invalid)('invalid: %s', (_name, mutate, message) => {
    const base = { ...traceOf('lstm-g1-l1'), format: 'bplambda-trace/1.1' };
    let error: unknown;
    try {
      verifyTrace(JSON.parse(JSON.stringify(mutate(base))) as unknown);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('a single perturbed number', () => {
  // Format 1 and 1.1 (cell mode with labels, β and a clip; BCE with the clip; the full mode with cross-entropy).
  const traces = [RNN_ID, RNN_TANH, LSTM, BATCH, BATCH_LSTM, 'lstm-cell-g0.9-l0.5-masked', 'batch-lstm-cell-xent-labels-clip', 'batch-lstm-cell-bce-clip', 'rnn-tanh-xent-onehot-b0.3'].map((n) => ({
    name: n,
    trace: traceOf(n),
    batch: n.startsWith('batch'),
  }));

  it('is reported as exactly that quantity, step, example and element (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(traces.length - 1),
        fc.nat(),
        fc.nat(),
        fc.oneof(
          fc.double({ min: 1e-6, max: 1e3, noNaN: true }).chain((m) => fc.constantFrom(m, -m)),
          fc.constantFrom<Json>('NaN', 'Infinity', '-Infinity'),
        ),
        (ti, qi, li, change) => {
          const { trace, batch } = traces[ti]!;
          const names = Object.keys(trace['computed'] as object);
          const q = names[qi % names.length]!;
          const t = clone(trace);
          const computed = t['computed'] as Record<string, Json>;
          const leaves = q === 'loss' ? [[]] : leafPaths(computed[q]!);
          const segs = leaves[li % leaves.length]!;
          const original = q === 'loss' ? (computed['loss'] as number) : (get(computed[q]!, segs) as number);
          // A relative change of at least 1e-6 of max(1, |x|): far outside the float64 tolerance (1e-9 relative,
          // 1e-12 times the quantity's scale).
          const bad: Json = typeof change === 'number' ? original + change * Math.max(1, Math.abs(original)) : change;
          if (q === 'loss') computed['loss'] = bad;
          else set(computed[q]!, segs, bad);
          const r = verifyTrace(t);
          expect(r.pass).toBe(false);
          expect(r.failed).toEqual([q]);
          const qr = r.quantities.find((x) => x.quantity === q)!;
          expect(qr.mismatches).toBe(1);
          const loc = expectedLocation(q, segs, batch);
          const d = qr.firstDivergence!;
          expect(d.path).toBe(pathText(q, segs));
          expect(d.step).toBe(loc.step);
          expect(d.example).toBe(loc.example);
          expect(d.element).toBe(pathText('', loc.rest).replace(/^\./, ''));
          expect(d.expected).toBe(original);
          if (typeof bad === 'number') {
            expect(d.actual).toBe(bad);
            expect(qr.maxAbsError).toBe(Math.abs(bad - original));
            expect(d.absError).toBe(Math.abs(bad - original));
          } else {
            expect(Number.isFinite(d.actual)).toBe(false);
            expect(qr.maxAbsError).toBe(Infinity);
          }
          for (const other of r.quantities) if (other.quantity !== q) expect(other.pass).toBe(true);
        },
      ),
      fcParams(250),
    );
  });

  it('examples of the report, by hand: tdErrors[3][1] and bpttGradients.W_rec[2][0]', () => {
    const t = traceOf(RNN_TANH);
    const c = t['computed'] as { tdErrors: number[][]; bpttGradients: { W_rec: number[][] } };
    c.tdErrors[3]![1]! += 0.01;
    c.bpttGradients.W_rec[2]![0]! *= 1.001;
    const r = verifyTrace(t);
    expect(r.failed).toEqual(['tdErrors', 'bpttGradients']);
    expect(r.quantities.find((q) => q.quantity === 'tdErrors')!.firstDivergence).toMatchObject({ path: 'tdErrors[3][1]', step: 4, example: null, element: '[1]' });
    expect(r.quantities.find((q) => q.quantity === 'bpttGradients')!.firstDivergence).toMatchObject({
      path: 'bpttGradients.W_rec[2][0]',
      step: null,
      element: 'W_rec[2][0]',
    });
    expect(JSON.parse(verifyReportJson(r))).toMatchObject({ format: 'bplambda-verify/1', pass: false, failed: ['tdErrors', 'bpttGradients'] });
  });

  it('with two perturbed elements, the first divergence is the earlier step (also across examples of a batch)', () => {
    const t = traceOf(BATCH);
    const s = (t['computed'] as { states: number[][][] }).states;
    s[0]![4]![0]! += 1; // example 0, step 5
    s[2]![1]![3]! += 1; // example 2, step 2: earlier in time, later in row-major order
    const d = verifyTrace(t).quantities.find((q) => q.quantity === 'states')!;
    expect(d.mismatches).toBe(2);
    expect(d.firstDivergence).toMatchObject({ path: 'states[2][1][3]', step: 2, example: 2, element: '[3]' });
  });
});

describe('tolerances', () => {
  const perturbRel = (name: string, rel: number): Record<string, Json> => {
    const t = traceOf(name);
    const st = (t['computed'] as { states: number[][] }).states;
    st[1]![0] = st[1]![0]! * (1 + rel);
    return t;
  };

  it('float64 defaults: 2e-9 relative fails, 5e-10 passes (rtol 1e-9 pinned within 2x); float32 defaults accept 1e-6 but not 1e-2', () => {
    expect(verifyTrace(perturbRel(RNN_TANH, 2e-9)).pass).toBe(false);
    expect(verifyTrace(perturbRel(RNN_TANH, 5e-10)).pass).toBe(true);
    const t32 = { ...perturbRel(RNN_TANH, 1e-6), precision: 'float32' };
    expect(verifyTrace(t32).pass).toBe(true);
    expect(verifyTrace({ ...perturbRel(RNN_TANH, 1e-2), precision: 'float32' }).pass).toBe(false);
    expect(verifyTrace({ ...perturbRel(RNN_TANH, 1e-2), precision: 'bfloat16' }).pass).toBe(true);
  });

  it('a trace rounded to float32 passes with the float32 defaults and fails with the float64 ones', () => {
    const t = traceOf(LSTM);
    const round = (v: Json): Json => (typeof v === 'number' ? Math.fround(v) : Array.isArray(v) ? v.map(round) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v);
    t['computed'] = round(t['computed']!);
    expect(verifyTrace({ ...t, precision: 'float32' }).pass).toBe(true);
    expect(verifyTrace({ ...t, precision: 'float64' }).pass).toBe(false);
  });

  it('unit roundoffs are 2^-p for each format (p significand bits), and float16 scales bfloat16 by their ratio', () => {
    // float64: half of Number.EPSILON; float32: 1 + 2u is representable, 1 + u/2 rounds to 1 (Math.fround);
    // float16 and bfloat16 from their definitions (IEEE 754 binary16: 11 significand bits; bfloat16: 8).
    expect(UNIT_ROUNDOFF.float64).toBe(Number.EPSILON / 2);
    const u32 = UNIT_ROUNDOFF.float32;
    expect(Math.fround(1 + 2 * u32)).not.toBe(1);
    expect(Math.fround(1 + u32 / 2)).toBe(1);
    expect(u32).toBe(2 ** -24);
    expect(UNIT_ROUNDOFF.float16).toBe(2 ** -11);
    expect(UNIT_ROUNDOFF.bfloat16).toBe(2 ** -8);
    // The float16 defaults are not measured: they are the bfloat16 constants scaled by the ratio of unit roundoffs.
    expect(GROWTH_CONSTANT.float16).toBeCloseTo((GROWTH_CONSTANT.bfloat16 * UNIT_ROUNDOFF.float16) / UNIT_ROUNDOFF.bfloat16, 15);
  });

  it('a wrong sign fails at every precision and length: the growing defaults stop below rtol 1', () => {
    for (const p of ['float32', 'float16', 'bfloat16'] as const)
      for (const T of [1, 10, 100, 10_000]) {
        const { rtol, atol } = defaultTolerance(p, T);
        expect(rtol).toBeLessThanOrEqual(RTOL_CAP);
        expect(atol).toBeLessThanOrEqual(RTOL_CAP / 10);
      }
    expect(defaultTolerance('bfloat16', 100).rtol).toBe(RTOL_CAP);
    // The largest state entry of a trace with its sign flipped, declared bfloat16 over a long sequence.
    const t = traceOf(RNN_TANH);
    const st = (t['computed'] as { states: number[][] }).states;
    let at = [0, 0];
    st.forEach((row, k) => row.forEach((v, j) => (Math.abs(v) > Math.abs(st[at[0]!]![at[1]!]!) ? (at = [k, j]) : null)));
    st[at[0]!]![at[1]!] = -st[at[0]!]![at[1]!]!;
    expect(verifyTrace({ ...t, precision: 'bfloat16' }).pass).toBe(false);
    expect(verifyTrace({ ...t, precision: 'bfloat16' }, defaultTolerance('bfloat16', 10_000)).pass).toBe(false);
  });

  it('defaults grow like √T below float64 (up to the cap) and are reported with their source; options override each', () => {
    expect(defaultTolerance('float32', 400).rtol / defaultTolerance('float32', 4).rtol).toBeCloseTo(10, 12);
    expect(defaultTolerance('float64', 1000)).toEqual(defaultTolerance('float64', 2));
    for (const p of ['float32', 'float16', 'bfloat16'] as const) {
      expect(defaultTolerance(p, 4).rtol / defaultTolerance(p, 1).rtol).toBeCloseTo(2, 12); // √T, below the cap
      expect(defaultTolerance(p, 10).rtol).toBeGreaterThan(defaultTolerance('float64', 10).rtol);
    }
    expect(defaultTolerance('bfloat16', 10).rtol).toBeGreaterThan(defaultTolerance('float16', 10).rtol);
    expect(defaultTolerance('float16', 10).rtol).toBeGreaterThan(defaultTolerance('float32', 10).rtol);
    const t = perturbRel(RNN_TANH, 1e-6);
    const r = verifyTrace(t, { rtol: 1e-5 });
    expect(r.pass).toBe(true);
    expect(r.tolerance).toEqual({ rtol: 1e-5, atol: 1e-12, source: { rtol: 'option', atol: 'default' } });
    expect(verifyTrace(t, { rtol: 1e-7 }).pass).toBe(false);
    // A difference of 1e-3 on an element: passes with atol 1e-3 times the quantity's scale, not with less.
    const t2 = traceOf(RNN_TANH);
    const st = (t2['computed'] as { states: number[][] }).states;
    st[0]![0] = st[0]![0]! + 1e-3;
    expect(verifyTrace(t2, { rtol: 0, atol: 1.0001e-3 }).pass).toBe(true);
    expect(verifyTrace(t2, { rtol: 0, atol: 0.9999e-3 }).pass).toBe(false);
  });

  it('invalid tolerance options are input errors naming the option', () => {
    const t = traceOf(RNN_ID);
    expect(() => verifyTrace(t, { rtol: -1 })).toThrow(/^--rtol/);
    expect(() => verifyTrace(t, { atol: NaN })).toThrow(/^--atol/);
  });
});

describe('invalid traces: InvalidInputError naming the field', () => {
  const base = () => traceOf(RNN_TANH);
  const cases: [string, (t: Record<string, Json>) => unknown, RegExp][] = [
    ['not an object', () => 5, /^\(input\)/],
    ['wrong format', (t) => ({ ...t, format: 'bplambda-trace/2' }), /^format /],
    ['wrong precision', (t) => ({ ...t, precision: 'float128' }), /^precision .*"float64", "float32", "float16", "bfloat16"/],
    ['missing precision', (t) => ({ ...t, precision: undefined }), /^precision/],
    ['unknown top-level field', (t) => ({ ...t, extra: 1 }), /^extra is not a known field/],
    ['unknown computed quantity', (t) => ({ ...t, computed: { ...(t['computed'] as object), tdError: [] } }), /^computed\.tdError is not a known field/],
    ['empty computed', (t) => ({ ...t, computed: {} }), /^computed is empty, expected at least one quantity/],
    ['no case nor batch', (t) => ({ ...t, case: undefined }), /^case is missing/],
    ['both case and batch', (t) => ({ ...t, batch: traceOf(BATCH)['batch'] }), /^batch /],
    ['invalid case field', (t) => ({ ...t, case: { ...(t['case'] as object), gamma: 1.5 } }), /^case\.gamma .*\[0, 1\]/],
    ['case shape', (t) => ({ ...t, case: { ...(t['case'] as object), synthesiser: { W: [[1]], b: [1] } } }), /^case\.synthesiser\.W has shape 1x1, expected 5x5/],
    ['too few rows', (t) => ({ ...t, computed: { tdErrors: (t['computed'] as { tdErrors: Json[] }).tdErrors.slice(1) } }), /^computed\.tdErrors has 5 entries, expected T−1 = 6 \(layout \(T−1\)×S = 6×5\)$/],
    ['short row', (t) => ({ ...t, computed: { states: (t['computed'] as { states: number[][] }).states.map((r, i) => (i === 2 ? r.slice(1) : r)) } }), /^computed\.states\[2\] has 4 entries, expected S = 5 \(layout T×S = 7×5\)$/],
    ['batch layout in a case', (t) => ({ ...t, computed: { states: [(t['computed'] as { states: Json }).states] } }), /^computed\.states has 1 entries, expected T = 7/],
    ['a string in computed', (t) => ({ ...t, computed: { loss: 'zero' } }), /^computed\.loss is invalid, expected a number, or "NaN"/],
    ['null in computed', (t) => ({ ...t, computed: { tdErrors: [[null]] } }), /^computed\.tdErrors is invalid, expected an array of rows of numbers/],
    ['wrong gradient name for the cell', (t) => ({ ...t, computed: { bpttGradients: { W_ih: [[1]] } } }), /^computed\.bpttGradients\.W_ih is not a parameter of this case, expected a parameter of the rnn cell \(W_in, W_rec, b, W_out, b_out\)/],
    ['gradient shape', (t) => ({ ...t, computed: { sgGradients: { b: [1, 2] } } }), /^computed\.sgGradients\.b has 2 entries, expected 5 \(layout 5\)$/],
    ['empty gradients', (t) => ({ ...t, computed: { sgGradients: {} } }), /^computed\.sgGradients is empty/],
    ['per-step update count', (t) => ({ ...t, computed: { synthesiserUpdatePerStep: [] } }), /^computed\.synthesiserUpdatePerStep has 0 entries, expected T−1 = 6/],
    ['update shape', (t) => ({ ...t, computed: { synthesiserUpdate: { W: [[1]], b: [] } } }), /^computed\.synthesiserUpdate\.W has 1 entries, expected S = 5 \(layout S×S = 5×5\)$/],
    ['batch examples of different lengths', () => {
      const b = traceOf(BATCH);
      const ex = (b['batch'] as { examples: { inputs: Json[]; targets: Json[] }[] }).examples[1]!;
      ex.inputs = ex.inputs.slice(1);
      ex.targets = ex.targets.slice(1);
      return b;
    }, /^batch\.examples\[1\]\.inputs has 5, expected 6 steps like examples\[0\]/],
    ['batch example field', () => {
      const b = traceOf(BATCH);
      (b['batch'] as { examples: { targets: Json[] }[] }).examples[2]!.targets[0] = [1, 2, 3];
      return b;
    }, /^batch\.examples\[2\]\.targets\[0\] has 3, expected 2 entries/],
    ['batch params', () => {
      const b = traceOf(BATCH);
      (b['batch'] as { params: { W_rec: Json } }).params.W_rec = [[1]];
      return b;
    }, /^batch\.params\.W_rec has shape 1x1, expected 4x4/],
    ['batch quantity without the batch axis', () => {
      const b = traceOf(BATCH);
      b['computed'] = { tdErrors: (b['computed'] as { tdErrors: Json[] }).tdErrors[0]! };
      return b;
    }, /^computed\.tdErrors has 5 entries, expected B = 3 \(layout B×\(T−1\)×S = 3×5×4\)$/],
  ];

  it.each(cases)('%s', (_name, mutate, message) => {
    const input = mutate(base());
    let error: unknown;
    try {
      verifyTrace(JSON.parse(JSON.stringify(input)) as unknown);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it('a case that overflows float64 is an input error, not a crash or a pass', () => {
    const t = traceOf('rnn-identity-g1-l1');
    const c = t['case'] as { params: { W_rec: number[][] } };
    c.params.W_rec = c.params.W_rec.map((r) => r.map((x) => x * 1e300));
    t['computed'] = { states: (t['computed'] as { states: Json }).states };
    expect(() => verifyTrace(t)).toThrow(/^case .*overflows float64/);
  });
});
