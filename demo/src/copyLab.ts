/**
 * A small copy-repeat curriculum for the page: an LSTM trained online by BP(λ) in the paper's cell mode (the
 * synthesiser predicts dL/dc_t), on the trainer over a chosen backend. The curriculum of the paper: start at N = 1,
 * R = 1 and advance after every batch whose loss per target bit is below 0.15 bits. The page plots the sequence
 * length reached against batches.
 *
 * Smaller than the paper (LSTM 100, 8 bits, batch 100) so that it climbs a few levels in a minute on a CPU.
 */
import type { Backend } from '../../src/backends/backend.js';
import type { LearnerConfig, LearnerState } from '../../src/core/learner.js';
import { learnerInit } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import type { Model } from '../../src/core/model.js';
import { AUTHORS_ADAM } from '../../src/core/optim.js';
import { type Rng, rngFromSeed } from '../../src/core/random.js';
import { type Trainer, createTrainer } from '../../src/engine/trainer.js';
import {
  type CopyRepeatConfig,
  type Curriculum,
  bitsPerBit,
  copyRepeatBatch,
  copyRepeatInputSize,
  copyRepeatLength,
  copyRepeatOutputSize,
  curriculumStart,
  curriculumUpdate,
} from '../../src/tasks/copyRepeat.js';

export interface CopySettings {
  readonly hidden: number;
  readonly bits: number;
  readonly batchSize: number;
  /** Adam learning rate of the LSTM and readout. */
  readonly lr: number;
  /** Adam learning rate of the synthesiser. */
  readonly lrSynth: number;
  readonly gamma: number;
  readonly lambda: number;
  readonly beta: number;
  /** Curriculum threshold, bits per target bit. */
  readonly threshold: number;
}

export const defaultCopySettings: CopySettings = {
  hidden: 20,
  bits: 2,
  batchSize: 8,
  lr: 1e-2,
  lrSynth: 1e-4,
  gamma: 0.9,
  lambda: 1,
  beta: 1,
  threshold: 0.15,
};

export interface CopyPoint {
  readonly batch: number;
  /** Sequence length T of the level trained on at this batch. */
  readonly length: number;
  /** Longest sequence length of a level passed so far (0 before the first). */
  readonly solved: number;
  /** Loss of the batch, bits per target bit. */
  readonly bitsPerBit: number;
}

const MAX_HISTORY = 4000;

export const copyLearnerConfig = (s: CopySettings): LearnerConfig => {
  const cr: CopyRepeatConfig = { bits: s.bits, normRepeat: 10 };
  const model: Model = {
    cell: lstmCell({ inputSize: copyRepeatInputSize(cr), hiddenSize: s.hidden }),
    outputSize: copyRepeatOutputSize(cr),
    loss: 'bce',
  };
  return {
    model,
    method: { kind: 'bp-lambda', mode: 'cell', schedule: 'sequence', synthesiser: { hidden: [] }, gamma: s.gamma, lambda: s.lambda, beta: s.beta, synthClip: Infinity },
    network: { kind: 'adam', lr: s.lr, ...AUTHORS_ADAM },
    synthesiser: { kind: 'adam', lr: s.lrSynth, ...AUTHORS_ADAM },
  };
};

export class CopyLab {
  readonly config: LearnerConfig;
  readonly task: CopyRepeatConfig;
  curriculum: Curriculum = curriculumStart;
  batches = 0;
  history: CopyPoint[] = [];
  lastMs = 0;
  private rng!: Rng;
  private trainer: Trainer;

  constructor(
    readonly settings: CopySettings,
    backend: Backend,
    private readonly seed = 0,
  ) {
    this.config = copyLearnerConfig(settings);
    this.task = { bits: settings.bits, normRepeat: 10 };
    this.trainer = createTrainer(backend, this.config);
    this.reset();
  }

  get length(): number {
    return copyRepeatLength(this.curriculum.n, this.curriculum.r);
  }

  reset(): void {
    const [state, rng] = learnerInit(this.config, rngFromSeed(this.seed));
    this.trainer.load(state);
    this.rng = rng;
    this.curriculum = curriculumStart;
    this.batches = 0;
    this.history = [];
  }

  /** Train on another backend from the current parameters (read back from the old one). */
  async setBackend(backend: Backend): Promise<void> {
    const state = await this.trainer.state();
    this.trainer.dispose();
    this.trainer = createTrainer(backend, this.config);
    this.trainer.load(state);
  }

  /** The learner state, read back from the trainer. */
  state(): Promise<LearnerState> {
    return this.trainer.state();
  }

  /** One batch at the current level, then the curriculum step. */
  async work(): Promise<CopyPoint> {
    const t0 = performance.now();
    const { n, r } = this.curriculum;
    const [batch, rng] = copyRepeatBatch(this.task, n, r, this.settings.batchSize, this.rng);
    this.rng = rng;
    const metrics = await this.trainer.trainBatch(batch);
    const bpb = bitsPerBit(this.task, n, r, metrics.loss);
    this.curriculum = curriculumUpdate(this.curriculum, bpb, this.settings.threshold);
    this.batches += 1;
    const point = { batch: this.batches, length: copyRepeatLength(n, r), solved: this.curriculum.solvedLength, bitsPerBit: bpb };
    this.history.push(point);
    if (this.history.length > MAX_HISTORY) this.history = this.history.filter((_, i) => i % 2 === 0 || i === this.history.length - 1);
    this.lastMs = performance.now() - t0;
    return point;
  }

  dispose(): void {
    this.trainer.dispose();
  }
}
