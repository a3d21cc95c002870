/**
 * Predictions and evaluation after training on a backend: the trainer's parameters are read back (`state()`) and
 * handed to the core's `predict` and `evaluate` (src/core/predict.ts), so the numbers are the float64 core's at the
 * trained parameters whatever the backend. Await the last `trainBatch` first.
 */
import type { Batch } from '../core/model.js';
import { type BatchPrediction, type Evaluation, type SequenceInputs, type SequencePrediction, evaluate, predict } from '../core/predict.js';
import type { Trainer } from './trainer.js';

/** `predict(trainer.config.model, (await trainer.state()).params, input, options)`. */
export function trainerPredict(trainer: Trainer, sequence: SequenceInputs, options?: { readonly state?: Float64Array }): Promise<SequencePrediction>;
export function trainerPredict(trainer: Trainer, batch: readonly SequenceInputs[], options?: { readonly states?: readonly Float64Array[] }): Promise<BatchPrediction>;
export async function trainerPredict(
  trainer: Trainer,
  input: SequenceInputs | readonly SequenceInputs[],
  options?: { readonly state?: Float64Array; readonly states?: readonly Float64Array[] },
): Promise<SequencePrediction | BatchPrediction> {
  const { params } = await trainer.state();
  return Array.isArray(input)
    ? predict(trainer.config.model, params, input as readonly SequenceInputs[], options)
    : predict(trainer.config.model, params, input as SequenceInputs, options);
}

/** `evaluate(trainer.config.model, (await trainer.state()).params, batch)`. */
export const trainerEvaluate = async (trainer: Trainer, batch: Batch): Promise<Evaluation> =>
  evaluate(trainer.config.model, (await trainer.state()).params, batch);
