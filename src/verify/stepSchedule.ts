/**
 * The reference of a BP(λ) trace step by step (docs/verification.md, "Format 1.1: the step schedule"): the core's
 * `bpLambdaStep` over the batch, step t with the parameters in effect at that step (the case's at t = 1, the
 * trace's `stepParameters` after; all the case's for the sequence schedule), the totals cleared after every step
 * as the learner's step schedule does (src/core/learner.ts, `trainBatch`). Nothing of BP(λ) is re-implemented
 * here: every number is a field of a step result or of the state's totals.
 *
 * The quantities are in the trace's JSON layout: per example (a leading B axis in a batch) the states, the
 * predictions ĝ_1 .. ĝ_{T−1} (cell mode u_1 .. u_T), the TD errors in the order they are emitted and the learning
 * signals; per step the batch-mean synthesiser update (after the clip) and network gradient; their sums and the
 * summed batch-mean loss.
 */
import { batchStepInput, bpLambdaClearTotals, bpLambdaInit, bpLambdaStep, type BpLambdaStepResult } from '../core/bplambda.js';
import type { ParsedCase } from '../core/oracle.js';
import { linearSynthesiser } from '../core/synthesiser.js';
import { type Params, addParams, toRows, unflattenParams, vadd, vzeros } from '../core/tensor.js';
import type { QuantityName } from './schema.js';
import type { Numeric, StepParameters, TraceConfig } from './trace.js';

const rows = (vs: readonly Float64Array[]): number[][] => vs.map((x) => Array.from(x));

/** A parameter record in the trace's JSON layout (matrices as rows). */
export const paramsJson = (p: Params): Record<string, number[][] | number[]> =>
  Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.shape.length === 2 ? toRows(t) : Array.from(t.data)]));

/** What a stepwise run gives: the step results, each step's batch-mean network gradient, the summed update and loss. */
export interface SteppedRun {
  readonly steps: readonly BpLambdaStepResult[];
  readonly netGrads: readonly Params[];
  readonly synthUpdate: Float64Array;
  readonly loss: number;
}

/**
 * Run the examples (one batch) through `bpLambdaStep`, step k+1 with `stepParameters[k − 1]` for k ≥ 1 (the first
 * example's params and θ at step 1, and at every step when `stepParameters` is empty).
 */
export const steppedRun = (examples: readonly ParsedCase[], config: TraceConfig, stepParameters: readonly StepParameters[]): SteppedRun => {
  const { model, params, theta, gamma, lambda } = examples[0]!;
  const [out, inp] = theta['W']!.shape as [number, number];
  const synth = linearSynthesiser(inp, out);
  const options = { gamma, lambda, beta: config.beta, synthClip: config.synthClip, targetScale: config.targetScale };
  const batch = examples.map((e) => e.sequence);
  const T = batch[0]!.inputs.length;
  let state = bpLambdaInit({ model, synth, mode: config.mode }, batch.length);
  const steps: BpLambdaStepResult[] = [];
  const netGrads: Params[] = [];
  let synthUpdate = vzeros(theta['W']!.data.length + theta['b']!.data.length);
  let loss = 0;
  for (let k = 0; k < T; k++) {
    const p = k === 0 || stepParameters.length === 0 ? { params, theta } : stepParameters[k - 1]!;
    const [r, s] = bpLambdaStep({ model, synth, params: p.params, theta: p.theta, options, mode: config.mode }, state, batchStepInput(batch, k));
    steps.push(r);
    netGrads.push(s.totals.netGrad);
    synthUpdate = vadd(synthUpdate, s.totals.synthUpdate);
    loss += s.totals.loss;
    state = bpLambdaClearTotals(s);
  }
  return { steps, netGrads, synthUpdate, loss };
};

/**
 * Every quantity of a 'step'-schedule trace (STEP_SCHEDULE_QUANTITIES), before the declared deviations: for a
 * single case without the example axis. `sgGradientsPerStep` alone is also what the sequence schedule adds.
 */
export const stepScheduleQuantities = (
  examples: readonly ParsedCase[],
  mode: 'case' | 'batch',
  config: TraceConfig,
  stepParameters: readonly StepParameters[],
): Partial<Record<QuantityName, Numeric>> => {
  const run = steppedRun(examples, config, stepParameters);
  const { steps } = run;
  const last = steps[steps.length - 1]!;
  const cell = config.mode === 'cell';
  const shapes = examples[0]!.theta;
  const synthJson = (flat: Float64Array) => {
    const u = unflattenParams(flat, { W: shapes['W']!.shape, b: shapes['b']!.shape });
    return { W: toRows(u['W']!), b: Array.from(u['b']!.data) };
  };
  const perExample = (b: number) => ({
    states: rows(steps.map((s) => s.states[b]!)),
    // ĝ_T = 0 is not listed in the full mode; the cell mode lists u_1 .. u_T.
    syntheticGradients: rows((cell ? steps : steps.slice(0, -1)).map((s) => s.predictions[b]!)),
    // Step t emits the TD error of the prediction pending from step t−1; the cell mode's last step also its own.
    tdErrors: rows([...steps.slice(1).map((s) => s.tdErrors![b]!), ...(cell ? [last.terminalTdErrors![b]!] : [])]),
    // Full mode: l_t + (β/c) ĝ_t at step t. Cell mode: L_{t−1} at step t, and ε_T at the last step.
    learningSignals: rows(cell ? [...steps.slice(1).map((s) => s.learningSignals![b]!), last.terminalLearningSignals![b]!] : steps.map((s) => s.learningSignals![b]!)),
  });
  const per = examples.map((_, b) => perExample(b));
  const out: Partial<Record<QuantityName, Numeric>> = {};
  for (const q of ['states', 'syntheticGradients', 'tdErrors', 'learningSignals'] as const) out[q] = mode === 'case' ? per[0]![q] : per.map((r) => r[q]);
  const perStep = steps.slice(1).map((s) => synthJson(s.pendingSynthUpdate!));
  if (cell) perStep.push(synthJson(last.terminalSynthUpdate!));
  out.synthesiserUpdatePerStep = perStep;
  out.synthesiserUpdate = synthJson(run.synthUpdate);
  out.sgGradientsPerStep = run.netGrads.map(paramsJson);
  out.sgGradients = paramsJson(run.netGrads.reduce((a, g) => addParams(a, g)));
  out.loss = run.loss;
  return out;
};
