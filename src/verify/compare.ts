/**
 * Element-wise comparison of a computed quantity with its reference.
 *
 * An element passes when it is finite and |actual − expected| ≤ atol·scale + rtol·|expected|, where scale =
 * max(1, largest |expected| of the quantity). This is numpy's `allclose` rule (relative to the reference) with the
 * absolute part measured against the quantity's own size: rounding errors of sums that cancel are proportional to
 * the size of the terms, not of the result, so an element that comes out near 0 in a quantity of size 100 may
 * carry 100 times the error of the same element in a quantity of size 1. For quantities of size ≤ 1, atol is
 * absolute. The relative error is |actual − expected| / |expected|: 0 where both are 0,
 * Infinity where only the reference is 0 (the element can still pass through atol). A non-finite actual value
 * has infinite errors and never passes.
 *
 * "First divergence" is the first failing element in time order: for per-step quantities the earliest step t,
 * then (in a batch) the lowest example, then the lowest index in row-major order; for the other quantities the
 * row-major order of the JSON layout (gradient records in the order the trace gives them).
 *
 * Each quantity is also broken into tensors (a parameter of a gradient record, W or b of a synthesiser update,
 * the whole array for the others), each with its own statistics (fit.ts: the error relative to the tensor's norm,
 * the best-fit ratio actual/reference and how well it explains the difference), its first divergence, and per
 * step where the quantity has steps (over every example of a batch at that step).
 */
import { type FitStats, fitStats } from './fit.js';
import type { QuantityName } from './schema.js';
import type { Numeric } from './trace.js';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** Where and how one element diverges. Paths use the JSON array indices (0-based). */
export interface Divergence {
  /** Full JSON path under `computed`, e.g. `tdErrors[3][1]`, `bpttGradients.W_rec[2][0]`, `states[1][4][0]`. */
  readonly path: string;
  /** The step t (1-based, as in the contract: `tdErrors[k]` is δ_{k+1}); null for quantities without steps. */
  readonly step: number | null;
  /** The example of a batch (0-based); null for a single case and for batch means. */
  readonly example: number | null;
  /** The element within the step (or within the quantity), e.g. `[1]`, `W[2][0]`, `W_rec[2][0]`; '' for the loss. */
  readonly element: string;
  readonly actual: number;
  readonly expected: number;
  readonly absError: number;
  readonly relError: number;
}

/** The statistics of one step of a tensor (steps t = 1..T, 1-based). */
export interface StepReport extends FitStats {
  readonly step: number;
  readonly mismatches: number;
  readonly pass: boolean;
}

/** One tensor of a quantity: its statistics, first divergence and (where there are steps) its steps. */
export interface TensorReport extends FitStats {
  /** `bpttGradients.W_rec`, `synthesiserUpdatePerStep.W`, or the quantity's name for a plain array. */
  readonly tensor: string;
  readonly mismatches: number;
  readonly pass: boolean;
  readonly firstDivergence: Divergence | null;
  /** Per step t (null for quantities without steps). */
  readonly steps: readonly StepReport[] | null;
}

export interface QuantityReport extends FitStats {
  readonly quantity: QuantityName;
  /** max(1, largest |reference| among the compared elements): the unit of atol for this quantity. */
  readonly scale: number;
  /** Number of elements compared. */
  readonly compared: number;
  /** Number of elements outside tolerance. */
  readonly mismatches: number;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** Path of the element with the largest absolute error (null when every error is 0). */
  readonly maxAbsErrorAt: string | null;
  readonly pass: boolean;
  readonly firstDivergence: Divergence | null;
  /** The quantity's statistics as a whole (fit.ts): normRelError, ratio, ratioResidual, norms, zeros. */
  /** Every tensor of the quantity, failing or not, in the order of the trace. */
  readonly tensors: readonly TensorReport[];
}

type Seg = string | number;

interface Leaf {
  readonly segs: readonly Seg[];
  readonly actual: number;
  readonly expected: number;
}

const formatSegs = (segs: readonly Seg[]): string => segs.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');

/** Pair up the leaves of two equally shaped values (the actual one may be a subset of a record). */
const leaves = (actual: Numeric, expected: Numeric, segs: Seg[] = [], out: Leaf[] = []): Leaf[] => {
  if (typeof actual === 'number') {
    out.push({ segs: [...segs], actual, expected: expected as number });
  } else if (Array.isArray(actual)) {
    actual.forEach((a, i) => leaves(a as Numeric, (expected as readonly Numeric[])[i]!, [...segs, i], out));
  } else {
    for (const [k, a] of Object.entries(actual as Record<string, Numeric>)) leaves(a, (expected as Record<string, Numeric>)[k]!, [...segs, k], out);
  }
  return out;
};

const PER_STEP: ReadonlySet<QuantityName> = new Set(['states', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors', 'learningSignals']);
const PER_BOUNDARY: ReadonlySet<QuantityName> = new Set(['nStepPredictions', 'nStepTargets']);

/** Step, example and element of a leaf, by the quantity's layout. */
const locate = (q: QuantityName, batch: boolean, segs: readonly Seg[]): { step: number | null; example: number | null; rest: readonly Seg[] } => {
  if (PER_STEP.has(q)) {
    return batch
      ? { example: segs[0] as number, step: (segs[1] as number) + 1, rest: segs.slice(2) }
      : { example: null, step: (segs[0] as number) + 1, rest: segs.slice(1) };
  }
  if (q === 'synthesiserUpdatePerStep' || q === 'sgGradientsPerStep') return { example: null, step: (segs[0] as number) + 1, rest: segs.slice(1) };
  // n-step SG's boundary quantities: rows are chunk boundaries, not steps (the example axis first in a batch).
  if (PER_BOUNDARY.has(q) && batch) return { example: segs[0] as number, step: null, rest: segs.slice(1) };
  return { example: null, step: null, rest: segs };
};

export const elementErrors = (actual: number, expected: number): { absError: number; relError: number } => {
  if (!Number.isFinite(actual)) return { absError: Infinity, relError: Infinity };
  const absError = Math.abs(actual - expected);
  const relError = absError === 0 ? 0 : expected === 0 ? Infinity : absError / Math.abs(expected);
  return { absError, relError };
};

export const withinTolerance = (actual: number, expected: number, tol: Tolerance, scale = 1): boolean =>
  Number.isFinite(actual) && Math.abs(actual - expected) <= tol.atol * scale + tol.rtol * Math.abs(expected);

const RECORDS: ReadonlySet<QuantityName> = new Set(['bpttGradients', 'sgGradients', 'tbpttGradients', 'synthesiserUpdate', 'forwardViewUpdate']);

/** The tensor a leaf belongs to (see the module comment). */
const tensorOf = (q: QuantityName, segs: readonly Seg[]): string =>
  RECORDS.has(q) ? `${q}.${String(segs[0])}` : q === 'synthesiserUpdatePerStep' || q === 'sgGradientsPerStep' ? `${q}.${String(segs[1])}` : q;

type Located = Leaf & { step: number | null; example: number | null; rest: readonly Seg[] };

const divergenceOf = (quantity: QuantityName, l: Located): Divergence => {
  const { absError, relError } = elementErrors(l.actual, l.expected);
  return {
    path: `${quantity}${formatSegs(l.segs)}`,
    step: l.step,
    example: l.example,
    element: formatSegs(l.rest).replace(/^\./, ''),
    actual: l.actual,
    expected: l.expected,
    absError,
    relError,
  };
};

const statsOf = (ls: readonly Located[]): FitStats =>
  fitStats(
    ls.map((l) => l.actual),
    ls.map((l) => l.expected),
  );

/** Group leaves by a key, keeping the order of first appearance. */
const groupBy = <K>(xs: readonly Located[], key: (x: Located) => K): [K, Located[]][] => {
  const m = new Map<K, Located[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g === undefined) m.set(k, [x]);
    else g.push(x);
  }
  return [...m.entries()];
};

/** Compare one quantity (`actual` has the layout of `expected`, possibly a subset of a gradient record). */
export const compareQuantity = (quantity: QuantityName, actual: Numeric, expected: Numeric, tol: Tolerance, batch: boolean): QuantityReport => {
  const ls: Located[] = leaves(actual, expected).map((l) => ({ ...l, ...locate(quantity, batch, l.segs) }));
  // Time order for the first divergence: step, then example, then position (a stable sort keeps row-major order).
  const ordered = [...ls].sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || (a.example ?? 0) - (b.example ?? 0));
  const scale = ls.reduce((m, l) => Math.max(m, Math.abs(l.expected)), 1);
  let maxAbsError = 0;
  let maxRelError = 0;
  let maxAbsErrorAt: string | null = null;
  let mismatches = 0;
  let first: Divergence | null = null;
  for (const l of ordered) {
    const { absError, relError } = elementErrors(l.actual, l.expected);
    if (absError > maxAbsError) {
      maxAbsError = absError;
      maxAbsErrorAt = `${quantity}${formatSegs(l.segs)}`;
    }
    if (relError > maxRelError) maxRelError = relError;
    if (!withinTolerance(l.actual, l.expected, tol, scale)) {
      mismatches++;
      first ??= divergenceOf(quantity, l);
    }
  }
  const failing = (l: Located) => !withinTolerance(l.actual, l.expected, tol, scale);
  const tensors: TensorReport[] = groupBy(ordered, (l) => tensorOf(quantity, l.segs)).map(([tensor, xs]) => {
    const bad = xs.filter(failing);
    const steps = xs[0]!.step === null
      ? null
      : groupBy(xs, (l) => l.step!)
          .sort(([a], [b]) => a - b)
          .map(([step, ys]) => {
            const m = ys.filter(failing).length;
            return { step, ...statsOf(ys), mismatches: m, pass: m === 0 };
          });
    const order = new Map(ls.map((l, i) => [l, i]));
    return {
      tensor,
      ...statsOf([...xs].sort((a, b) => order.get(a)! - order.get(b)!)),
      mismatches: bad.length,
      pass: bad.length === 0,
      firstDivergence: bad.length === 0 ? null : divergenceOf(quantity, bad[0]!),
      steps,
    };
  });
  const whole = statsOf(ls);
  return {
    quantity,
    scale,
    compared: ls.length,
    mismatches,
    maxAbsError,
    maxRelError,
    maxAbsErrorAt,
    pass: mismatches === 0,
    firstDivergence: first,
    normRelError: whole.normRelError,
    ratio: whole.ratio,
    ratioResidual: whole.ratioResidual,
    actualNorm: whole.actualNorm,
    referenceNorm: whole.referenceNorm,
    zerosWhereReferenceNot: whole.zerosWhereReferenceNot,
    tensors,
  };
};
