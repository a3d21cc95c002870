/**
 * The parameters of every step of a golden step-schedule trace (golden set version 4, docs/verification.md "Format
 * 1.1: the step schedule"): BP(λ)'s step schedule with SGD at one rate on Ψ and θ, run as the learner runs it
 * (src/core/learner.ts, `trainBatch`: `bpLambdaStep`, then `applyLearnerUpdates` with the step's totals).
 */
import { batchStepInput, bpLambdaClearTotals, bpLambdaInit, bpLambdaStep } from '../core/bplambda.js';
import { type LearnerConfig, type LearnerState, applyLearnerUpdates } from '../core/learner.js';
import type { ParsedCase } from '../core/oracle.js';
import { linearSynthesiser } from '../core/synthesiser.js';
import { unflattenParams } from '../core/tensor.js';
import type { StepParameters, TraceConfig } from './trace.js';

/** Ψ and θ in effect at steps 2..T of a step-schedule run with SGD at rate `lr` from the examples' parameters. */
export const sgdStepParameters = (examples: readonly ParsedCase[], config: TraceConfig, lr: number): StepParameters[] => {
  const { model, params, theta, gamma, lambda } = examples[0]!;
  const [out, inp] = theta['W']!.shape as [number, number];
  const synth = linearSynthesiser(inp, out);
  const options = { gamma, lambda, beta: config.beta, synthClip: config.synthClip, targetScale: config.targetScale };
  const sgd = { kind: 'sgd', lr } as const;
  const learner: LearnerConfig = {
    model,
    method: { kind: 'bp-lambda', mode: config.mode, schedule: 'step', synthesiser: { hidden: [] }, ...options },
    network: sgd,
    synthesiser: sgd,
  };
  const batch = examples.map((e) => e.sequence);
  const T = batch[0]!.inputs.length;
  let s: LearnerState = { params, theta, networkOpt: {}, synthOpt: {}, batches: 0 };
  let state = bpLambdaInit({ model, synth, mode: config.mode }, batch.length);
  const steps: StepParameters[] = [];
  for (let k = 0; k < T - 1; k++) {
    state = bpLambdaStep({ model, synth, params: s.params, theta: s.theta!, options, mode: config.mode }, state, batchStepInput(batch, k))[1];
    s = applyLearnerUpdates(learner, s, state.totals.netGrad, unflattenParams(state.totals.synthUpdate, synth.paramShapes));
    state = bpLambdaClearTotals(state);
    steps.push({ params: s.params, theta: s.theta! });
  }
  return steps;
};
