/**
 * The toy alignment experiment of the paper, online, for the page: a frozen linear RNN of 30 units sees the
 * 10-bit code of 833 at the first step and must output (0, 1) at the last; only the synthesiser learns. Three
 * lanes run BP(λ) side by side (by default λ = 0, 0.5, 1) from the same RNN and a zero synthesiser, each on a
 * trainer over a chosen backend. After every round (one batch per lane) the alignment of each
 * lane's synthetic gradients with BPTT is measured per time step, in float64, from the learner's parameters.
 *
 * No DOM here: the page (main.ts) drives `work()` in small chunks, and the Node tests drive it directly.
 */
import type { Backend } from '../../src/backends/backend.js';
import type { LearnerConfig, LearnerState } from '../../src/core/learner.js';
import { learnerInit } from '../../src/core/learner.js';
import type { Batch, Model } from '../../src/core/model.js';
import { AUTHORS_ADAM } from '../../src/core/optim.js';
import { rngFromSeed } from '../../src/core/random.js';
import { rnnCell } from '../../src/core/rnn.js';
import { type Trainer, createTrainer } from '../../src/engine/trainer.js';
import { alignment } from '../../src/experiments/alignment.js';
import { defaultToyTask, toyBatch } from '../../src/tasks/toy.js';

export interface ToySettings {
  /** λ of each lane. */
  readonly lambdas: readonly number[];
  /** Discount γ of future gradients. */
  readonly gamma: number;
  /** Sequence length T (the page offers 10 to 60). */
  readonly seqLen: number;
  /** Adam learning rate of the synthesiser (the RNN is frozen, as in the paper's alignment run). */
  readonly lr: number;
}

/** The paper's alignment run (γ = 1, T = 10) with a 10× larger learning rate, so that it learns in seconds. */
export const defaultToySettings: ToySettings = { lambdas: [0, 0.5, 1], gamma: 1, seqLen: 10, lr: 1e-3 };

export const SEQ_LEN_MIN = 10;
export const SEQ_LEN_MAX = 60;
export const TOY_HIDDEN = 30;

/** The toy model: a linear RNN 10 → 30 with a linear readout to 2, squared error. */
export const toyModel = (): Model => ({
  cell: rnnCell({ inputSize: 10, hiddenSize: TOY_HIDDEN, activation: 'identity' }),
  outputSize: 2,
  loss: 'mse',
});

export const toyLearnerConfig = (model: Model, lambda: number, s: ToySettings): LearnerConfig => ({
  model,
  method: {
    kind: 'bp-lambda',
    mode: 'full',
    schedule: 'sequence',
    synthesiser: { hidden: [] },
    gamma: s.gamma,
    lambda,
    beta: 1,
    synthClip: Infinity,
  },
  network: { kind: 'frozen' },
  synthesiser: { kind: 'adam', lr: s.lr, ...AUTHORS_ADAM },
});

/** The lane's name as the paper writes it: BP(0), BP(0.5), BP(1). */
export const laneLabel = (lambda: number): string => `BP(${Number(lambda.toFixed(3))})`;
/** The key of a lane in the page's test hooks: bp0, bp0.5, bp1. */
export const laneKey = (lambda: number): string => `bp${Number(lambda.toFixed(3))}`;

export interface HistoryPoint {
  /** Update (round) number, from 1. */
  readonly update: number;
  /** Alignment at the first step (t = 1). */
  readonly first: number;
  /** Mean alignment over the steps with a future gradient (t = 1 … T−1). */
  readonly mean: number;
}

export interface Lane {
  readonly lambda: number;
  readonly label: string;
  readonly key: string;
  config: LearnerConfig;
  /** The learner state, read back from the trainer after every round. */
  state: LearnerState;
  trainer: Trainer;
  /** The alignment per step t = 1 … T after the last update (empty before the first). */
  perStep: number[];
  history: HistoryPoint[];
  lastLoss: number;
}

export const checkToySettings = (s: ToySettings): void => {
  if (s.lambdas.length === 0) throw new RangeError('at least one lane');
  for (const l of s.lambdas) if (!(l >= 0 && l <= 1)) throw new RangeError(`λ must be in [0, 1], is ${l}`);
  if (!(s.gamma >= 0 && s.gamma <= 1)) throw new RangeError(`γ must be in [0, 1], is ${s.gamma}`);
  if (!Number.isInteger(s.seqLen) || s.seqLen < SEQ_LEN_MIN || s.seqLen > SEQ_LEN_MAX)
    throw new RangeError(`the sequence length must be an integer from ${SEQ_LEN_MIN} to ${SEQ_LEN_MAX}, is ${s.seqLen}`);
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new RangeError(`the learning rate must be positive, is ${s.lr}`);
};

/** Longest history kept per lane; older points are thinned (every other one dropped) beyond it. */
const MAX_HISTORY = 4000;

export class ToyLab {
  readonly model = toyModel();
  lanes: Lane[] = [];
  /** Completed rounds (one batch for every lane, then the alignments). */
  updates = 0;
  /** Milliseconds of the last completed round (training and alignment). */
  lastRoundMs = 0;
  private settings: ToySettings;
  private pending: ToySettings | null = null;
  private batch: Batch;
  private next = 0;
  private roundStart = 0;

  constructor(
    settings: ToySettings,
    private backend: Backend,
    private readonly seed = 0,
  ) {
    checkToySettings(settings);
    this.settings = settings;
    this.batch = this.makeBatch(settings.seqLen);
    this.lanes = settings.lambdas.map((l) => this.freshLane(l));
  }

  get current(): ToySettings {
    return this.pending ?? this.settings;
  }

  /** One batch of the single pattern (every example of a larger batch would be the same sequence). */
  private makeBatch(seqLen: number): Batch {
    return toyBatch({ ...defaultToyTask, seqLen }, 1, rngFromSeed(this.seed + 1))[0];
  }

  private freshLane(lambda: number): Lane {
    const config = toyLearnerConfig(this.model, lambda, this.settings);
    // The same seed for every lane: the same frozen RNN; the linear synthesiser starts at zero.
    const [state] = learnerInit(config, rngFromSeed(this.seed));
    return { lambda, label: laneLabel(lambda), key: laneKey(lambda), config, state, trainer: this.trainerOf(config, state), perStep: [], history: [], lastLoss: NaN };
  }

  private trainerOf(config: LearnerConfig, state: LearnerState): Trainer {
    const t = createTrainer(this.backend, config);
    t.load(state);
    return t;
  }

  /** New settings take effect at the start of the next round; learning goes on from the current parameters. */
  setSettings(s: ToySettings): void {
    checkToySettings(s);
    this.pending = s;
    if (this.next === 0) this.applyPending();
  }

  private applyPending(): void {
    const s = this.pending;
    if (s === null) return;
    this.pending = null;
    const lanesChanged = s.lambdas.length !== this.lanes.length || s.lambdas.some((l, i) => l !== this.lanes[i]!.lambda);
    if (s.seqLen !== this.settings.seqLen) {
      this.batch = this.makeBatch(s.seqLen);
      for (const lane of this.lanes) lane.perStep = [];
    }
    this.settings = s;
    this.lanes = s.lambdas.map((lambda, i) => {
      const old = this.lanes[i];
      const config = toyLearnerConfig(this.model, lambda, s);
      old?.trainer.dispose();
      if (old === undefined) return this.freshLane(lambda);
      const kept = lanesChanged && old.lambda !== lambda ? { history: [], perStep: [] } : { history: old.history, perStep: old.perStep };
      return { ...old, ...kept, lambda, label: laneLabel(lambda), key: laneKey(lambda), config, trainer: this.trainerOf(config, old.state) };
    });
  }

  /** Train on another backend from the current parameters (read back from the old one). */
  async setBackend(backend: Backend): Promise<void> {
    for (const lane of this.lanes) {
      lane.state = await lane.trainer.state();
      lane.trainer.dispose();
    }
    this.backend = backend;
    for (const lane of this.lanes) lane.trainer = this.trainerOf(lane.config, lane.state);
  }

  /** Back to the initial RNN and zero synthesisers, with the current settings. */
  reset(): void {
    this.applyPending();
    for (const lane of this.lanes) lane.trainer.dispose();
    this.lanes = this.settings.lambdas.map((l) => this.freshLane(l));
    this.updates = 0;
    this.next = 0;
  }

  /** One unit of work: one lane's batch. Resolves true when it completed a round (a new alignment update). */
  async work(): Promise<boolean> {
    if (this.next === 0) {
      this.applyPending();
      this.roundStart = performance.now();
    }
    const lane = this.lanes[this.next]!;
    lane.lastLoss = (await lane.trainer.trainBatch(this.batch)).loss;
    this.next += 1;
    if (this.next < this.lanes.length) return false;
    this.next = 0;
    this.updates += 1;
    for (const l of this.lanes) {
      l.state = await l.trainer.state();
      const a = alignment(l.config, l.state, this.batch);
      l.perStep = a.perStep;
      l.history.push({ update: this.updates, first: a.perStep[0]!, mean: a.meanWithFuture });
      if (l.history.length > MAX_HISTORY) l.history = l.history.filter((_, i) => i % 2 === 0 || i === l.history.length - 1);
    }
    this.lastRoundMs = performance.now() - this.roundStart;
    return true;
  }

  dispose(): void {
    for (const lane of this.lanes) lane.trainer.dispose();
  }
}
