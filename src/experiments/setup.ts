/**
 * From a run configuration to a model, a learner configuration and a trainer: every run trains through the one
 * trainer (src/engine) on the backend it names; `--backend reference` gives exactly the core learner's numbers.
 */
import type { Backend } from '../backends/backend.js';
import { type BackendInfo, backendByName, backendInfo } from '../backends/registry.js';
import { type LearnerConfig, type LearnerState, type Method, type OptimiserSpec } from '../core/learner.js';
import { lstmCell } from '../core/lstm.js';
import type { Model } from '../core/model.js';
import { AUTHORS_ADAM } from '../core/optim.js';
import { rnnCell } from '../core/rnn.js';
import { type Trainer, createTrainer } from '../engine/trainer.js';
import { copyRepeatInputSize, copyRepeatOutputSize } from '../tasks/copyRepeat.js';
import type { RunConfig } from './config.js';

/** The model of a task: the toy's linear RNN, or an LSTM for seq-MNIST (28 → 10, cross-entropy) and copy-repeat (BCE). */
export const modelFor = (c: RunConfig): Model => {
  switch (c.task) {
    case 'toy':
      return { cell: rnnCell({ inputSize: 10, hiddenSize: c.hidden, activation: 'identity' }), outputSize: 2, loss: 'mse' };
    case 'seq-mnist':
      return { cell: lstmCell({ inputSize: 28, hiddenSize: c.hidden }), outputSize: 10, loss: 'xent' };
    case 'copy-repeat': {
      const cr = { bits: c.bits, normRepeat: 10 };
      return { cell: lstmCell({ inputSize: copyRepeatInputSize(cr), hiddenSize: c.hidden }), outputSize: copyRepeatOutputSize(cr), loss: 'bce' };
    }
  }
};

/**
 * The synthesiser's target scale c for a run (core `BpLambdaOptions.targetScale`): 1 for 'example'; 1/B for
 * 'batch', or 1/(B·O) with the per-bit loss of copy-repeat (bce), whose authors' derivative is
 * (σ(y) − target)/(B·O) (spec §8.2). A configuration written before the option existed has none and ran with 1.
 */
export const targetScaleFor = (c: RunConfig): number => {
  if (c.targetScale !== 'batch') return 1;
  const model = modelFor(c);
  return 1 / (c.batchSize * (model.loss === 'bce' ? model.outputSize : 1));
};

export const methodFor = (c: RunConfig): Method => {
  const synthesiser = { hidden: c.synthHidden };
  switch (c.method) {
    case 'bp-lambda':
      return {
        kind: 'bp-lambda', mode: c.mode, schedule: c.schedule, synthesiser, gamma: c.gamma, lambda: c.lambda, beta: c.beta, synthClip: c.synthClip,
        targetScale: targetScaleFor(c),
      };
    case 'sg':
      return { kind: 'sg', n: c.n, gamma: c.gamma, beta: c.beta, align: c.align, target: c.sgTarget, targetScale: targetScaleFor(c), synthesiser };
    case 'tbptt':
      return { kind: 'tbptt', n: c.n, align: c.align };
    case 'bptt':
      return { kind: 'bptt' };
    case 'eprop':
      return { kind: 'eprop' };
  }
};

const adamSpec = (lr: number): OptimiserSpec => (lr === 0 ? { kind: 'frozen' } : { kind: 'adam', lr, ...AUTHORS_ADAM });

/** The learner configuration of a run: the authors' Adam (β 0.9, 0.98; ε 1e-9) for network and synthesiser. */
export const learnerConfigOf = (c: RunConfig): LearnerConfig => ({
  model: modelFor(c),
  method: methodFor(c),
  network: adamSpec(c.lr),
  synthesiser: adamSpec(c.lrSynth),
});

/**
 * A trainer for a run, on the run's backend (the one registry, src/backends/registry.ts; or `started`, a backend of
 * that name the caller has already started, which the run then owns) with the run's computation of BP(λ), and the
 * learner state loaded; `backend` is what the backend reports it runs on (not part of the configuration: the run's
 * numbers do not depend on it beyond the precision). Dispose of both with `close`.
 */
export const startTrainer = async (
  c: RunConfig,
  config: LearnerConfig,
  state: LearnerState,
  threads?: number,
  started?: Backend,
): Promise<{ trainer: Trainer; close: () => void; backend: BackendInfo }> => {
  const backend = started ?? (await backendByName(c.backend, threads === undefined ? {} : { threads }));
  try {
    const trainer = createTrainer(backend, config, c.method === 'bp-lambda' ? { computation: c.computation } : {});
    trainer.load(state);
    return {
      trainer,
      backend: backendInfo(c.backend, backend),
      close: () => {
        trainer.dispose();
        backend.destroy();
      },
    };
  } catch (e) {
    backend.destroy();
    throw e;
  }
};
