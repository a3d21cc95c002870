/**
 * The reference values of every trace quantity, in the trace's JSON layout, from the float64 oracle.
 *
 * A single case: exactly the oracle result (`oracleParsed`), plus `synthesiserUpdatePerStep`, the contribution
 * δ_t E_t of each t = 1..T−1 as the online step function `bpLambdaSequence` produces it (step t+1 of the online
 * pass emits δ_t E_t). A batch: per-step quantities per example (leading axis B), and the summed quantities
 * (loss, synthesiser updates, gradients) as means over the examples, the library's batch convention.
 */
import { bpLambdaSequence } from '../core/bplambda.js';
import { type OracleResult, type ParsedCase, oracleParsed } from '../core/oracle.js';
import { linearSynthesiser } from '../core/synthesiser.js';
import { toRows, unflattenParams } from '../core/tensor.js';
import type { QuantityName } from './schema.js';
import type { Numeric } from './trace.js';

export type ReferenceQuantities = Readonly<Record<QuantityName, Numeric>>;

/** The per-step synthesiser updates δ_t E_t, t = 1..T−1, batch-mean over `examples` (one: that example's). */
export const synthesiserUpdatePerStep = (examples: readonly ParsedCase[], targetScale = 1): { W: number[][]; b: number[] }[] => {
  const { model, params, theta, gamma, lambda } = examples[0]!;
  const S = model.cell.stateSize;
  const synth = linearSynthesiser(S, S);
  const { steps } = bpLambdaSequence(
    { model, synth, params, theta, options: { gamma, lambda, beta: 1, synthClip: Infinity, targetScale } },
    examples.map((e) => e.sequence),
  );
  return steps.slice(1).map((s) => {
    const u = unflattenParams(s.synthUpdate!, synth.paramShapes);
    return { W: toRows(u['W']!), b: Array.from(u['b']!.data) };
  });
};

/** Element-wise mean of equally shaped nested values. */
export const meanNumeric = (xs: readonly Numeric[]): Numeric => {
  const x0 = xs[0]!;
  if (typeof x0 === 'number') return (xs as number[]).reduce((a, v) => a + v, 0) / xs.length;
  if (Array.isArray(x0)) return (x0 as Numeric[]).map((_, i) => meanNumeric(xs.map((x) => (x as Numeric[])[i]!)));
  return Object.fromEntries(Object.keys(x0).map((k) => [k, meanNumeric(xs.map((x) => (x as Record<string, Numeric>)[k]!))]));
};

const PER_STEP = ['states', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors'] as const;
const SUMMED = ['loss', 'synthesiserUpdate', 'forwardViewUpdate', 'bpttGradients', 'sgGradients'] as const;

/** Every quantity for a single case (`mode: 'case'`) or a batch, at the target scale c (default 1). */
export const referenceQuantities = (examples: readonly ParsedCase[], mode: 'case' | 'batch', targetScale = 1): ReferenceQuantities => {
  const results: OracleResult[] = examples.map((e) => oracleParsed(e, targetScale));
  const perStepUpdates = synthesiserUpdatePerStep(examples, targetScale);
  if (mode === 'case') {
    const r = results[0]!;
    const { format: _format, ...quantities } = r;
    return { ...quantities, synthesiserUpdatePerStep: perStepUpdates };
  }
  const out: Partial<Record<QuantityName, Numeric>> = { synthesiserUpdatePerStep: perStepUpdates };
  for (const q of PER_STEP) out[q] = results.map((r) => r[q]);
  for (const q of SUMMED) out[q] = meanNumeric(results.map((r) => r[q]));
  return out as ReferenceQuantities;
};
