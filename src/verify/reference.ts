/**
 * The reference values of every trace quantity, in the trace's JSON layout, computed by the core for the trace's
 * configuration (`TraceConfig`: synthesiser mode, β, per-step clip, target scale, loss, deviations). Nothing of
 * BP(λ) is re-implemented here: the quantities come from the oracle (`oracleParsed`, full-state mode), the online
 * step function `bpLambdaSequence` (TD errors, per-step updates, network gradients, learning signals; the clip as
 * the learner applies it, to each step's batch-mean update), `bpLambdaLearningSignals` and the cell mode's
 * forward view (`cellModeForwardView`, spec §6.3), and the BPTT recursions of `bptt.ts`.
 *
 * A single case: the quantities of that sequence. A batch: per-step quantities per example (leading axis B), and
 * the summed quantities (loss, updates, gradients) as means over the examples, the library's batch convention.
 * Without a clip the summed synthesiser update of a batch is the mean of the per-example sums (bit for bit the
 * /1 reference); with one it is the batch's own run, because the clip acts on each step's batch mean.
 *
 * The n-step methods (a trace's `method.kind` 'sg' or 'tbptt') come from the core's `nStepSg` and `truncatedBptt`,
 * the functions the learner trains with, per example and then averaged over the batch as the learner does.
 *
 * The network gradient of each step (`sgGradientsPerStep`) and every quantity of the 'step' schedule (parameters
 * changed after every step, given by the trace's stepParameters) come from the stepwise run of stepSchedule.ts.
 */
import { bpLambdaLearningSignals, bpLambdaSequence } from '../core/bplambda.js';
import { backprop, futureGradients, trajectory, truncatedBptt } from '../core/bptt.js';
import { nStepSg } from '../core/baselines.js';
import { cellModeForwardView } from '../core/cellMode.js';
import { sequenceLoss } from '../core/model.js';
import { type ParsedCase, oracleParsed } from '../core/oracle.js';
import { linearSynthesiser } from '../core/synthesiser.js';
import { type Params, toRows, unflattenParams } from '../core/tensor.js';
import type { QuantityName } from './schema.js';
import { stepScheduleQuantities } from './stepSchedule.js';
import { DEFAULT_TRACE_CONFIG, type Numeric, type StepParameters, type TraceConfig } from './trace.js';

/** Every quantity of the trace's method (METHOD_QUANTITIES), in the trace's JSON layout. */
export type ReferenceQuantities = Readonly<Partial<Record<QuantityName, Numeric>>>;

type SynthJson = { W: number[][]; b: number[] };

/** Element-wise mean of equally shaped nested values. */
export const meanNumeric = (xs: readonly Numeric[]): Numeric => {
  const x0 = xs[0]!;
  if (typeof x0 === 'number') return (xs as number[]).reduce((a, v) => a + v, 0) / xs.length;
  if (Array.isArray(x0)) return (x0 as Numeric[]).map((_, i) => meanNumeric(xs.map((x) => (x as Numeric[])[i]!)));
  return Object.fromEntries(Object.keys(x0).map((k) => [k, meanNumeric(xs.map((x) => (x as Record<string, Numeric>)[k]!))]));
};

const rows = (vs: readonly Float64Array[]): number[][] => vs.map((x) => Array.from(x));

const paramsJson = (p: Params): Record<string, number[][] | number[]> =>
  Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.shape.length === 2 ? toRows(t) : Array.from(t.data)]));

/** The BP(λ) context of a trace's examples (they share model, parameters, θ, γ, λ). */
const contextOf = (examples: readonly ParsedCase[], config: TraceConfig) => {
  const { model, params, theta, gamma, lambda } = examples[0]!;
  const [out, inp] = theta['W']!.shape as [number, number];
  const synth = linearSynthesiser(inp, out);
  const options = { gamma, lambda, beta: config.beta, synthClip: config.synthClip, targetScale: config.targetScale };
  return { model, synth, params, theta, options, mode: config.mode };
};

const synthJsonOf = (ctx: ReturnType<typeof contextOf>) => (flat: Float64Array): SynthJson => {
  const u = unflattenParams(flat, ctx.synth.paramShapes);
  return { W: toRows(u['W']!), b: Array.from(u['b']!.data) };
};

/** What one online run of the examples gives: per example (tdErrors, learning signals) and per step (updates). */
const onlineRun = (examples: readonly ParsedCase[], config: TraceConfig) => {
  const ctx = contextOf(examples, config);
  const json = synthJsonOf(ctx);
  const { steps, state } = bpLambdaSequence(ctx, examples.map((e) => e.sequence));
  const B = examples.length;
  const cell = config.mode === 'cell';
  // Step t (1-based) emits the TD error of the prediction pending from step t−1; the cell mode's last step also
  // that of its own prediction (the terminal target).
  const tdErrors = Array.from({ length: B }, (_, b) => {
    const pending = steps.slice(1).map((s) => s.tdErrors![b]!);
    return rows(cell ? [...pending, steps[steps.length - 1]!.terminalTdErrors![b]!] : pending);
  });
  const perStep = steps.slice(1).map((s) => json(s.pendingSynthUpdate!));
  if (cell) perStep.push(json(steps[steps.length - 1]!.terminalSynthUpdate!));
  const learningSignals = Array.from({ length: B }, (_, b) =>
    cell ? rows(bpLambdaLearningSignals(ctx, examples[b]!.sequence)) : rows(steps.map((s) => s.learningSignals![b]!)),
  );
  return { tdErrors, perStep, learningSignals, update: json(state.totals.synthUpdate), netGrad: paramsJson(state.totals.netGrad), loss: state.totals.loss };
};

/** Every quantity of one example that does not depend on the rest of the batch. */
const exampleQuantities = (e: ParsedCase, config: TraceConfig): Partial<Record<QuantityName, Numeric>> => {
  const c = config.targetScale;
  const { tdErrors, learningSignals, update, netGrad } = onlineRun([e], config);
  if (config.mode === 'full') {
    const { format: _format, ...r } = oracleParsed(e, c, config.beta, config.synthClip);
    return { ...r, tdErrors: r.tdErrors, synthesiserUpdatePerStep: [], learningSignals: learningSignals[0]! };
  }
  const ctx = contextOf([e], config);
  const traj = trajectory(e.model, e.params, e.sequence);
  const fv = cellModeForwardView(ctx, traj.records, e.gamma, e.lambda, c);
  return {
    ...sharedQuantities(e),
    syntheticGradients: rows(fv.predictions),
    lambdaTargets: rows(fv.targets),
    tdErrors: tdErrors[0]!,
    synthesiserUpdatePerStep: [],
    synthesiserUpdate: update,
    forwardViewUpdate: synthJsonOf(ctx)(fv.update),
    sgGradients: netGrad,
    learningSignals: learningSignals[0]!,
  };
};

const scaled = (g: Record<string, Numeric>, names: readonly string[], k: number): Record<string, Numeric> =>
  k === 1 ? g : Object.fromEntries(Object.entries(g).map(([n, v]) => [n, names.includes(n) ? scaleNumeric(v, k) : v]));

export const scaleNumeric = (v: Numeric, k: number): Numeric =>
  typeof v === 'number' ? v * k : Array.isArray(v) ? (v as Numeric[]).map((x) => scaleNumeric(x, k)) : Object.fromEntries(Object.entries(v).map(([n, x]) => [n, scaleNumeric(x, k)]));

/** The network gradients with the declared deviations applied (the reference as the implementation defines it). */
const withDeviations = (g: Numeric, config: TraceConfig): Numeric => {
  const { biasGradScale, readoutGradScale } = config.deviations;
  return scaled(scaled(g as Record<string, Numeric>, ['b'], biasGradScale), ['W_out', 'b_out'], readoutGradScale);
};

const PER_EXAMPLE = ['states', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors', 'learningSignals'] as const;
const MEANS = ['loss', 'synthesiserUpdate', 'forwardViewUpdate', 'bpttGradients', 'sgGradients'] as const;

/** The quantities that do not depend on the method: the forward pass, the loss, exact BPTT, G_t. */
const sharedQuantities = (e: ParsedCase): Record<'loss' | 'states' | 'bpttGradients' | 'futureGradients', Numeric> => {
  const traj = trajectory(e.model, e.params, e.sequence);
  return {
    loss: sequenceLoss(traj.records),
    states: rows(traj.records.map((r) => r.step.state)),
    bpttGradients: paramsJson(backprop(e.model, e.params, traj).grads),
    futureGradients: rows(futureGradients(traj, e.gamma)),
  };
};

/** One example of an n-step method: n-step SG (`nStepSg`) or truncated BPTT (`truncatedBptt`), as the learner runs it. */
const nStepExample = (e: ParsedCase, config: TraceConfig): Partial<Record<QuantityName, Numeric>> => {
  const shared = sharedQuantities(e);
  if (config.kind === 'tbptt') return { ...shared, tbpttGradients: paramsJson(truncatedBptt(e.model, e.params, e.sequence, config.n, config.align).grads) };
  const ctx = contextOf([e], config);
  const options = { n: config.n, gamma: e.gamma, beta: config.beta, align: config.align, target: config.sgTarget, targetScale: config.targetScale };
  const r = nStepSg(e.model, ctx.synth, e.params, e.theta, e.sequence, options);
  return {
    ...shared,
    sgGradients: paramsJson(r.grads),
    synthesiserUpdate: synthJsonOf(ctx)(r.synthUpdate),
    nStepPredictions: rows(r.predictions),
    nStepTargets: rows(r.targets),
  };
};

const N_STEP_PER_EXAMPLE = ['states', 'futureGradients', 'nStepPredictions', 'nStepTargets'] as const;
const N_STEP_MEANS = ['loss', 'bpttGradients', 'sgGradients', 'synthesiserUpdate', 'tbpttGradients'] as const;

/** The n-step methods' quantities: per example, or the batch means (the learner's mean over sequences). */
const nStepQuantities = (examples: readonly ParsedCase[], mode: 'case' | 'batch', config: TraceConfig): ReferenceQuantities => {
  const per = examples.map((e) => nStepExample(e, config));
  const out: Partial<Record<QuantityName, Numeric>> = {};
  for (const q of N_STEP_PER_EXAMPLE) if (per[0]![q] !== undefined) out[q] = mode === 'case' ? per[0]![q] : per.map((r) => r[q]!);
  for (const q of N_STEP_MEANS) if (per[0]![q] !== undefined) out[q] = mode === 'case' ? per[0]![q] : meanNumeric(per.map((r) => r[q]!));
  for (const q of ['bpttGradients', 'sgGradients', 'tbpttGradients'] as const) if (out[q] !== undefined) out[q] = withDeviations(out[q], config);
  return out;
};

/** The per-step network gradients with the declared deviations applied. */
const perStepWithDeviations = (g: Numeric, config: TraceConfig): Numeric => (g as Numeric[]).map((x) => withDeviations(x, config));

/**
 * Every quantity for a single case (`mode: 'case'`) or a batch, for the trace's configuration (default: the /1
 * configuration; a number is the target scale c alone, as before format 1.1). `stepParameters`: the parameters of
 * steps 2..T of a 'step'-schedule trace.
 */
export const referenceQuantities = (
  examples: readonly ParsedCase[],
  mode: 'case' | 'batch',
  config: TraceConfig | number = DEFAULT_TRACE_CONFIG,
  stepParameters: readonly StepParameters[] = [],
): ReferenceQuantities => {
  const cfg = typeof config === 'number' ? { ...DEFAULT_TRACE_CONFIG, targetScale: config } : config;
  if (cfg.kind !== 'bp-lambda') return nStepQuantities(examples, mode, cfg);
  const stepped = stepScheduleQuantities(examples, mode, cfg, cfg.schedule === 'step' ? stepParameters : []);
  const sgGradientsPerStep = perStepWithDeviations(stepped.sgGradientsPerStep!, cfg);
  if (cfg.schedule === 'step') return { ...stepped, sgGradients: withDeviations(stepped.sgGradients!, cfg), sgGradientsPerStep };
  const per = examples.map((e) => exampleQuantities(e, cfg));
  const batchRun = onlineRun(examples, cfg);
  const out: Partial<Record<QuantityName, Numeric>> = { synthesiserUpdatePerStep: batchRun.perStep, sgGradientsPerStep };
  if (mode === 'case') for (const q of PER_EXAMPLE) out[q] = per[0]![q];
  else for (const q of PER_EXAMPLE) out[q] = per.map((r) => r[q]!);
  for (const q of MEANS) out[q] = mode === 'case' ? per[0]![q] : meanNumeric(per.map((r) => r[q]!));
  // The clip acts on each step's batch mean: the batch's own run then gives the summed update.
  if (cfg.synthClip !== Infinity) out.synthesiserUpdate = batchRun.update;
  out.bpttGradients = withDeviations(out.bpttGradients!, cfg);
  out.sgGradients = withDeviations(out.sgGradients!, cfg);
  return out as ReferenceQuantities;
};
