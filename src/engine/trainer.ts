/**
 * The trainer: every method of the core learner (src/core/learner.ts) on any backend, written once against the
 * backend's kernels through the composite ops (src/ops). It is the one training path of bplambda: `run`, `sweep`,
 * `bench` and the browser demo all use it.
 *
 * Parameters and optimiser states live on the backend (`load` puts a learner state there, `state` reads it back);
 * `trainBatch` queues a whole batch of work and reads back only its metrics, asynchronously. On the float64
 * reference backend, with the default 'traces' computation, it returns exactly (===) the metrics and parameters
 * of the core's `trainBatch` (spec/backends/engine-exact.test.ts).
 *
 * BP(λ) has two computations of its synthesiser update:
 * - 'traces' (default): the backward view with eligibility traces, one step at a time; every schedule, any clip.
 * - 'forward-view': the exact forward-view shortcut (spec §5, T1) by one backward recursion over the stored
 *   sequence, O(S²) per step instead of O(S³·S_in); it needs the parameters fixed over the sequence ('sequence'
 *   schedule) and no per-step clip, and refuses other configurations. It sums per sequence, then over the batch
 *   (the order of the core's per-sequence functions, `forwardViewUpdate` and `cellModeForwardView`), and its loss is the batch mean of
 *   sequence losses, so it equals the traces and the core's `trainBatch` to rounding, not to the last bit.
 */
import type { Backend, DeviceArray } from '../backends/backend.js';
import { InvalidInputError } from '../core/errors.js';
import type { BatchMetrics, LearnerConfig, LearnerState, Method } from '../core/learner.js';
import { checkLearnerConfig, checkLearnerState, checkMetrics, synthesiserFor } from '../core/learner.js';
import { oneOfField, parseConfig, record } from '../core/schema.js';
import { type Batch, modelShapes } from '../core/model.js';
import type { ParamShapes, Params } from '../core/tensor.js';
import { Buffers } from './buffers.js';
import { cellSpecOf } from './cellSpec.js';
import { DeviceState, readParams } from './deviceState.js';
import { backpropMethod, syntheticGradientMethod } from './methods/backprop.js';
import type { LossRule, MethodContext } from './methods/context.js';
import { epropMethod } from './methods/eprop.js';
import { bpLambdaForwardView } from './methods/forwardView.js';
import { bpLambdaTraces } from './methods/traces.js';
import { SequenceData } from './sequence.js';
import { batchLoss, metricsShape, recordNorms, readMetrics } from './metrics.js';

/** How BP(λ) computes its synthesiser update. */
export const COMPUTATIONS = ['traces', 'forward-view'] as const;
export type Computation = (typeof COMPUTATIONS)[number];

export interface TrainerOptions {
  /** BP(λ)'s computation: 'traces' (default) or 'forward-view'. */
  readonly computation?: Computation;
}

/** The gradients of one batch at the loaded parameters (the once-per-sequence schedule), read back. */
export interface BatchGradients {
  /** Mean over the batch of the summed loss. */
  readonly loss: number;
  /** The network gradient (cell and readout), as the core learner passes it to the optimiser. */
  readonly netGrad: Params;
  /** The synthesiser update direction (to add), flat in the synthesiser's parameter order; null without one. */
  readonly synthUpdate: Float64Array | null;
}

export interface Trainer {
  readonly backend: Backend;
  readonly config: LearnerConfig;
  readonly computation: Computation;
  /** Put a learner state (from `learnerInit`, a checkpoint or `state()`) on the backend. */
  load(state: LearnerState): void;
  /** One batch of training, as the core's `trainBatch`; parameters stay on the backend, the metrics come back. */
  trainBatch(batch: Batch): Promise<BatchMetrics>;
  /** The gradients of one batch at the loaded parameters, which do not change (BP(λ): the 'sequence' schedule). */
  gradients(batch: Batch): Promise<BatchGradients>;
  /** The learner state, read back from the backend. */
  state(): Promise<LearnerState>;
  /** Release the backend arrays of this trainer (the backend itself stays usable). */
  dispose(): void;
}

const optionsSchema = record({ computation: oneOfField(COMPUTATIONS).optional() });
/** Validate a configuration for the trainer; typed errors name the field. */
const validate = (config: LearnerConfig, options: TrainerOptions, computation: Computation): void => {
  parseConfig(optionsSchema, options, 'options');
  checkLearnerConfig(config);
  const m: Method = config.method;
  if ((m.kind === 'bp-lambda' || m.kind === 'sg') && m.synthesiser.hidden.length > 0)
    throw new InvalidInputError(
      'method.synthesiser.hidden',
      'an empty list: the trainer runs the linear synthesiser of the paper (MLP synthesisers run in the core learner)',
      `is [${m.synthesiser.hidden.join(', ')}]`,
    );
  if (computation === 'forward-view') {
    if (m.kind !== 'bp-lambda')
      throw new InvalidInputError('options.computation', `'traces' for method '${m.kind}' (the forward view is a computation of BP(λ)'s synthesiser update)`, "is 'forward-view'");
    if (m.schedule !== 'sequence')
      throw new InvalidInputError('options.computation', "'traces' with method.schedule 'step' (the forward view needs the parameters fixed over the sequence)", "is 'forward-view'");
    if (m.synthClip !== Infinity)
      throw new InvalidInputError('options.computation', `'traces' with a finite method.synthClip (${m.synthClip}): the per-step clip is nonlinear, so only the traces compute it`, "is 'forward-view'");
  }
};

export const createTrainer = <A extends DeviceArray>(backend: Backend<A>, config: LearnerConfig, options: TrainerOptions = {}): Trainer => {
  const computation = options.computation ?? 'traces';
  validate(config, options, computation);
  return new BackendTrainer(backend, config, computation);
};

class BackendTrainer<A extends DeviceArray> implements Trainer {
  private readonly buf: Buffers<A>;
  private readonly device: DeviceState<A>;
  private readonly shapes: ParamShapes;
  private readonly ctx: Omit<MethodContext<A>, 'params' | 'theta' | 'apply'>;
  private busy = false;

  constructor(
    readonly backend: Backend<A>,
    readonly config: LearnerConfig,
    readonly computation: Computation,
  ) {
    this.buf = new Buffers(backend);
    this.shapes = modelShapes(config.model);
    const synth = synthesiserFor(config.model, config.method);
    this.device = new DeviceState(this.buf, config, this.shapes, synth?.paramShapes ?? null);
    const spec = cellSpecOf(config.model);
    const seq = new SequenceData(this.buf, config.model, spec);
    this.ctx = { buf: this.buf, seq, spec, shapes: this.shapes, cellNames: Object.keys(config.model.cell.paramShapes) };
  }

  load(state: LearnerState): void {
    this.device.load(checkLearnerState(this.config, state));
  }

  async state(): Promise<LearnerState> {
    this.checkLoaded();
    return this.device.toHost();
  }

  async trainBatch(batch: Batch): Promise<BatchMetrics> {
    return this.exclusive(async () => {
      const seq = this.ctx.seq;
      seq.load(batch);
      const metrics = this.buf.zeroed('trainer.metrics', metricsShape(this.config, seq.T, this.shapes));
      let applies = 0;
      const rule = this.runMethod((net, synth) => {
        recordNorms(this.buf, metrics, applies++, this.shapes, net, synth);
        this.device.apply(net, synth);
      });
      this.device.batches += 1;
      const [losses, norms] = await Promise.all([this.backend.read(seq.losses()), this.backend.read(metrics)]);
      return checkMetrics(readMetrics(batchLoss(rule, losses.data, seq.T, seq.B), norms.data, applies, this.shapes, this.config.method), this.device.batches);
    });
  }

  async gradients(batch: Batch): Promise<BatchGradients> {
    const m = this.config.method;
    if (m.kind === 'bp-lambda' && m.schedule !== 'sequence')
      throw new InvalidInputError('method.schedule', "'sequence' for gradients() (with 'step' the parameters change inside the batch)", "is 'step'");
    return this.exclusive(async () => {
      const seq = this.ctx.seq;
      seq.load(batch);
      let reads: Promise<[Params, Float64Array | null]> | null = null;
      const rule = this.runMethod((net, synth) => {
        const netRead = readParams(this.backend, net, this.shapes);
        const synthRead = synth === null ? Promise.resolve(null) : this.backend.read(synth).then((x) => Float64Array.from(x.data));
        reads = Promise.all([netRead, synthRead]);
      });
      const losses = await this.backend.read(seq.losses());
      const [netGrad, synthUpdate] = await reads!;
      return { loss: batchLoss(rule, losses.data, seq.T, seq.B), netGrad, synthUpdate };
    });
  }

  dispose(): void {
    this.device.release();
    this.buf.disposeAll();
  }

  private checkLoaded(): void {
    if (!this.device.loaded) throw new InvalidInputError('trainer', 'a learner state loaded with trainer.load(state) first', 'has none');
  }

  /** One call at a time: the trainer's buffers belong to the batch in flight. */
  private async exclusive<R>(f: () => Promise<R>): Promise<R> {
    this.checkLoaded();
    if (this.busy) throw new InvalidInputError('trainer', 'one batch at a time (await the previous trainBatch or gradients)', 'is busy');
    this.busy = true;
    try {
      return await f();
    } finally {
      this.busy = false;
    }
  }

  private runMethod(apply: MethodContext<A>['apply']): LossRule {
    const device = this.device;
    const m: MethodContext<A> = {
      ...this.ctx,
      get params() {
        return device.params;
      },
      get theta() {
        return device.theta;
      },
      apply,
    };
    const method = this.config.method;
    switch (method.kind) {
      case 'bptt':
      case 'tbptt':
        return backpropMethod(m, method);
      case 'eprop':
        return epropMethod(m);
      case 'sg':
        return syntheticGradientMethod(m, method);
      case 'bp-lambda':
        return this.computation === 'traces' ? bpLambdaTraces(m, method) : bpLambdaForwardView(m, method);
    }
  }
}
