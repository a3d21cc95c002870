/**
 * Run configurations: one flat, JSON-serialisable record per run (written as `config.json`), built from the
 * defaults, a named preset of the task and the options given explicitly, then validated (typed errors naming the
 * option).
 */
import { BACKEND_NAMES, type BackendName, DEFAULT_BACKEND } from '../backends/registry.js';
import { InvalidInputError } from '../core/errors.js';
import { type NumberRule, RULES, checkNumber } from '../core/schema.js';
import { METHOD_KINDS, type MethodKind, SCHEDULES, type Schedule } from '../core/learner.js';
import { BP_LAMBDA_MODES, type BpLambdaMode } from '../core/modes.js';
import { COMPUTATIONS, type Computation } from '../engine/trainer.js';

export const TASKS = ['toy', 'seq-mnist', 'copy-repeat'] as const;
export type Task = (typeof TASKS)[number];

/** The methods a run can train with: the core learner's (METHOD_KINDS). */
export const METHODS = METHOD_KINDS;
export type { MethodKind };

export const TARGET_SCALES = ['batch', 'example'] as const;
export type TargetScale = (typeof TARGET_SCALES)[number];

export const PRESETS = ['paper', 'reduced', 'smoke'] as const;
export type Preset = (typeof PRESETS)[number];

/** The backends a run can train on, by name (the one registry, src/backends/registry.ts). */
export const BACKENDS = BACKEND_NAMES;
export type Backend = BackendName;

export interface RunConfig {
  readonly task: Task;
  readonly preset: Preset;
  readonly method: MethodKind;
  /** λ of BP(λ) (bp-lambda only). */
  readonly lambda: number;
  /** Chunk length n of n-step SG and truncated BPTT. */
  readonly n: number;
  readonly seed: number;
  /**
   * How BP(λ) computes its synthesiser update: 'traces' (eligibility traces, step by step; any option) or
   * 'forward-view' (λ-targets over the whole sequence: the same update when the parameters are fixed over a
   * sequence and there is no per-step synthesiser clip; O(S²) per step instead of the traces' O(S³·S_in)).
   * Only BP(λ) has two computations; the other methods ignore it.
   */
  readonly computation: Computation;
  /**
   * The backend the trainer runs on: by default 'cpu-f64' (the fastest float64 backend; within the conformance
   * suite's bounds of the reference), 'reference' for exactly the core's numbers (the oracle path).
   */
  readonly backend: Backend;
  /** BP(λ) synthesiser mode: 'full' (ĝ on the whole state, exact) or 'cell' (the paper's LSTM dL/dc mode). */
  readonly mode: BpLambdaMode;
  /** BP(λ): one optimiser step per batch ('sequence', the authors') or per time step ('step'). */
  readonly schedule: Schedule;
  /** Chunk alignment of n-step SG and truncated BPTT ('end': short first chunk, as the authors). */
  readonly align: 'start' | 'end';
  /** n-step SG target: the discounted n-step target of the spec, or the authors' DNI target. */
  readonly sgTarget: 'discounted' | 'authors';
  /** Hidden units H of the RNN or LSTM. */
  readonly hidden: number;
  /** Hidden layer sizes of an MLP synthesiser; empty: linear (the paper's). */
  readonly synthHidden: readonly number[];
  readonly batchSize: number;
  /** Adam learning rate of the network (cell and readout); 0 freezes it (the toy alignment run). */
  readonly lr: number;
  /** Adam learning rate of the synthesiser. */
  readonly lrSynth: number;
  readonly gamma: number;
  readonly beta: number;
  /** Per-step clip of each synthesiser tensor's update (the authors: 1); Infinity: off. */
  readonly synthClip: number;
  /**
   * What the synthesiser (BP(λ) and n-step SG) learns to predict. 'batch': gradients of the batch-mean loss, i.e. the example's own
   * gradient / B (/ (B·O) for copy-repeat's per-bit loss), as in the authors' code, whose output derivatives carry
   * the 1/B (spec §8.2); 'example': the gradient of the example's own loss (the core's default, target scale 1).
   * The learning signal is the same either way (l_t + β × the predicted per-example gradient); the choice sets
   * the scale of θ, and so, under Adam, the synthesiser's effective step size (×B for 'batch').
   */
  readonly targetScale: TargetScale;
  /** Training batches (toy and copy-repeat; seq-MNIST: 0 means `epochs` full passes). */
  readonly steps: number;
  /** Passes over the training set (seq-MNIST). */
  readonly epochs: number;
  /** Write a metrics row every this many batches. */
  readonly logEvery: number;
  // Toy task
  readonly seqLen: number;
  readonly npoints: number;
  readonly noise: number;
  readonly endOnly: boolean;
  // Sequential MNIST
  /** Training examples used from the 48k split (0: all). */
  readonly trainSize: number;
  /** Validation examples evaluated from the 12k split (0: all). */
  readonly valSize: number;
  /** Test examples evaluated from the 10k test set (0: all). */
  readonly testSize: number;
  /** Evaluate on the validation set every this many batches (0: at the end of each epoch only). */
  readonly evalEvery: number;
  // Copy-repeat
  readonly bits: number;
  /** Curriculum threshold in bits per target bit. */
  readonly threshold: number;
}

const base = {
  preset: 'reduced',
  method: 'bp-lambda',
  lambda: 1,
  n: 3,
  seed: 0,
  computation: 'traces',
  backend: DEFAULT_BACKEND,
  schedule: 'sequence',
  align: 'end',
  sgTarget: 'discounted',
  targetScale: 'example',
  synthHidden: [],
  steps: 0,
  epochs: 1,
  logEvery: 10,
  seqLen: 10,
  npoints: 1,
  noise: 0,
  endOnly: true,
  trainSize: 0,
  valSize: 0,
  testSize: 0,
  evalEvery: 0,
  bits: 8,
  threshold: 0.15,
} as const satisfies Partial<RunConfig>;

type PresetValues = Partial<Omit<RunConfig, 'task' | 'preset'>>;

/** The paper's settings per task (spec §8.9, §9): the configs of the authors' code. */
const paper: Readonly<Record<Task, PresetValues>> = {
  // Frozen linear RNN, synthesiser alone learning: 10 epochs × 100 batches of 10 = 1000 Adam updates, lr 1e-4.
  toy: {
    hidden: 30, seqLen: 10, batchSize: 10, steps: 1000, lr: 0, lrSynth: 1e-4, gamma: 1, beta: 1, synthClip: 1,
    targetScale: 'batch', mode: 'full', computation: 'traces', logEvery: 10,
  },
  // LSTM H 30, batch 50, Adam 3e-4, 50 epochs, γ 0.9, β 0.1, the dL/dc synthesiser mode.
  'seq-mnist': {
    hidden: 30, batchSize: 50, epochs: 50, lr: 3e-4, lrSynth: 3e-4, gamma: 0.9, beta: 0.1, synthClip: 1, mode: 'cell',
    targetScale: 'batch', computation: 'traces', logEvery: 50, evalEvery: 0,
  },
  // LSTM H 100, batch 100, 150k batches, Adam 1e-3 (network) and 1e-5 (synthesiser), γ 0.9, β 1.
  'copy-repeat': {
    hidden: 100, batchSize: 100, steps: 150_000, lr: 1e-3, lrSynth: 1e-5, gamma: 0.9, beta: 1, synthClip: 1, mode: 'cell',
    targetScale: 'batch', computation: 'traces', logEvery: 100, bits: 8, threshold: 0.15,
  },
};

/**
 * Reduced scale for a 2-core CPU (docs/results.md). Toy: the paper's settings without the per-step clip, run
 * through the forward view. seq-MNIST and copy-repeat: fewer examples or batches and a smaller LSTM, and the
 * synthesiser predicting per-example gradients ('example', the scale docs/results.md was measured with).
 */
const reduced: Readonly<Record<Task, PresetValues>> = {
  toy: { ...paper.toy, synthClip: Infinity, computation: 'forward-view' },
  'seq-mnist': {
    ...paper['seq-mnist'], synthClip: Infinity, targetScale: 'example', computation: 'forward-view', epochs: 5, lr: 1e-3, lrSynth: 1e-3, evalEvery: 480, logEvery: 40,
  },
  'copy-repeat': {
    ...paper['copy-repeat'], synthClip: Infinity, targetScale: 'example', computation: 'forward-view', hidden: 32, batchSize: 20, steps: 5000, logEvery: 50,
  },
};

/** A few seconds per run: for tests and trying the commands. */
const smoke: Readonly<Record<Task, PresetValues>> = {
  toy: { ...reduced.toy, steps: 20, logEvery: 5 },
  'seq-mnist': { ...reduced['seq-mnist'], hidden: 8, batchSize: 10, epochs: 1, trainSize: 40, valSize: 20, testSize: 20, evalEvery: 2, logEvery: 1 },
  'copy-repeat': { ...reduced['copy-repeat'], hidden: 8, batchSize: 4, steps: 12, logEvery: 2 },
};

export const presetValues = (task: Task, preset: Preset): PresetValues =>
  ({ paper, reduced, smoke })[preset][task];

/** Spellings of earlier versions, refused with the current word (per option: 'step' is still a schedule). */
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  method: { online: 'eprop' },
  task: { seqmnist: 'seq-mnist', copyrepeat: 'copy-repeat' },
  computation: { step: 'traces', sequence: 'forward-view', online: 'traces' },
};

/** The value if allowed, else a typed error naming the option (with the current word for an old spelling). */
export const oneOf = <T extends string>(path: string, value: unknown, allowed: readonly T[], field = path.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase())): T => {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const renamed = typeof value === 'string' ? RENAMED[field]?.[value] : undefined;
  throw new InvalidInputError(path, `one of ${allowed.join(', ')}`, `is '${String(value)}'${renamed === undefined ? '' : ` (did you mean '${renamed}'? the name changed)`}`);
};

export const parseTask = (v: unknown, path = 'task'): Task => oneOf(path, v, TASKS, 'task');
export const parsePreset = (v: unknown, path = '--preset'): Preset => oneOf(path, v, PRESETS);

/**
 * The full configuration: defaults, then the preset, then explicit overrides. Overrides with the value
 * `undefined` are ignored. Validated (see `checkConfig`).
 */
export const buildConfig = (task: Task, preset: Preset, overrides: Partial<RunConfig> = {}): RunConfig => {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const cfg = { ...base, ...presetValues(task, preset), ...defined, task, preset } as RunConfig;
  checkConfig(cfg);
  return cfg;
};

/** The option name a config field is set with on the command line (for error messages). */
export const optionName = (field: string): string => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const num = (field: keyof RunConfig, v: unknown, ok: (x: number) => boolean, expected: string): void => {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) throw new InvalidInputError(optionName(field), expected, `is ${String(v)}`);
};
const int = (x: number) => Number.isInteger(x);

/** Check every field; throws InvalidInputError naming the option. */
export const checkConfig = (c: RunConfig): void => {
  // A field checked with the library's rule for its kind of value (src/core/schema.ts): the same words everywhere.
  const rule = (field: keyof RunConfig, r: NumberRule): void => void checkNumber(optionName(field), c[field], r);
  parseTask(c.task);
  parsePreset(c.preset);
  for (const key of Object.keys(c)) if (!FIELDS.has(key)) throw new InvalidInputError(optionName(key), 'an option of run (see bplambda run --help)', key === 'engine' ? "is not one (did you mean --computation? the name changed: step → traces, sequence → forward-view)" : 'is not one');
  oneOf(optionName('method'), c.method, METHODS);
  oneOf(optionName('computation'), c.computation, COMPUTATIONS);
  oneOf(optionName('backend'), c.backend, BACKENDS);
  oneOf(optionName('mode'), c.mode, BP_LAMBDA_MODES);
  oneOf(optionName('schedule'), c.schedule, SCHEDULES);
  oneOf(optionName('align'), c.align, ['start', 'end'] as const);
  oneOf(optionName('sgTarget'), c.sgTarget, ['discounted', 'authors'] as const);
  oneOf(optionName('targetScale'), c.targetScale, TARGET_SCALES);
  rule('lambda', RULES.unit);
  rule('gamma', RULES.unit);
  rule('beta', RULES.nonNegative);
  rule('n', RULES.count);
  num('seed', c.seed, (x) => int(x) && Math.abs(x) < 2 ** 31, 'an integer (|seed| < 2^31)');
  rule('hidden', RULES.count);
  rule('batchSize', RULES.count);
  rule('lr', RULES.nonNegative);
  rule('lrSynth', RULES.nonNegative);
  rule('synthClip', RULES.clip);
  rule('steps', RULES.natural);
  rule('epochs', RULES.count);
  rule('logEvery', RULES.count);
  num('seqLen', c.seqLen, (x) => int(x) && x >= 2, 'an integer ≥ 2');
  num('npoints', c.npoints, (x) => int(x) && x >= 1 && x <= 6, 'an integer from 1 to 6');
  rule('noise', RULES.nonNegative);
  num('trainSize', c.trainSize, (x) => int(x) && x >= 0 && x <= 48_000, 'an integer from 0 (all) to 48000');
  num('valSize', c.valSize, (x) => int(x) && x >= 0 && x <= 12_000, 'an integer from 0 (all) to 12000');
  num('testSize', c.testSize, (x) => int(x) && x >= 0 && x <= 10_000, 'an integer from 0 (all) to 10000');
  rule('evalEvery', RULES.natural);
  rule('bits', RULES.count);
  rule('threshold', RULES.positive);
  if (!Array.isArray(c.synthHidden) || c.synthHidden.some((h) => !int(h) || h < 1))
    throw new InvalidInputError(optionName('synthHidden'), 'a comma-separated list of positive integers (empty: linear)', `is ${String(c.synthHidden)}`);
  if (c.task !== 'seq-mnist' && c.steps < 1) throw new InvalidInputError(optionName('steps'), `an integer ≥ 1 for the ${c.task} task`, `is ${c.steps}`);
  if (c.mode === 'cell' && c.task === 'toy' && c.method === 'bp-lambda')
    throw new InvalidInputError(optionName('mode'), "'full' on the toy task (its RNN has no cell state; 'cell' is the LSTM's dL/dc mode)", "is 'cell'");
  if (c.synthHidden.length > 0)
    throw new InvalidInputError(
      optionName('synthHidden'),
      "empty (the linear synthesiser of the paper): runs train through the trainer, which has the linear synthesiser only; MLP synthesisers are in the core library (bpLambdaSequence, trainBatch)",
      `is ${c.synthHidden.join(',')}`,
    );
  if (c.method === 'bp-lambda' && c.computation === 'forward-view') {
    if (c.synthClip !== Infinity)
      throw new InvalidInputError(
        optionName('computation'),
        `'traces' with a finite --synth-clip: the forward view is exact only without the per-step synthesiser clip; pass --synth-clip Infinity to use it`,
        `is 'forward-view' with --synth-clip ${c.synthClip}`,
      );
    if (c.schedule !== 'sequence')
      throw new InvalidInputError(optionName('computation'), "'traces' with --schedule step (parameters change inside the sequence)", "is 'forward-view'");
  }
};

/** The fields of a run configuration (anything else in a configuration is refused). */
const FIELDS = new Set<string>([
  'task', 'preset', 'method', 'lambda', 'n', 'seed', 'computation', 'backend', 'mode', 'schedule', 'align', 'sgTarget', 'hidden', 'synthHidden', // prettier-ignore
  'batchSize', 'lr', 'lrSynth', 'gamma', 'beta', 'synthClip', 'targetScale', 'steps', 'epochs', 'logEvery', 'seqLen', 'npoints', 'noise', // prettier-ignore
  'endOnly', 'trainSize', 'valSize', 'testSize', 'evalEvery', 'bits', 'threshold', // prettier-ignore
]);

/** A short label of a run's method: BP(0.5), SG n=3, TBPTT n=3, BPTT, e-prop. */
export const methodLabel = (c: Pick<RunConfig, 'method' | 'lambda' | 'n'>): string => {
  switch (c.method) {
    case 'bp-lambda':
      return `BP(${c.lambda})`;
    case 'sg':
      return `SG n=${c.n}`;
    case 'tbptt':
      return `TBPTT n=${c.n}`;
    case 'bptt':
      return 'BPTT';
    case 'eprop':
      return 'e-prop';
  }
};

/** A method written `bp-lambda:0.5`, `sg:3`, `tbptt:2`, `bptt` or `eprop` (the sweep's --methods list). */
export interface MethodChoice {
  readonly method: MethodKind;
  readonly lambda?: number;
  readonly n?: number;
}

export const parseMethodChoice = (text: string, path = '--methods'): MethodChoice => {
  const [name, arg, extra] = text.trim().split(':');
  const method = oneOf(path, name, METHODS, 'method');
  const bad = () => new InvalidInputError(path, `${method === 'bp-lambda' ? 'bp-lambda:λ with λ in [0, 1]' : `${method}:n with an integer n ≥ 1`}`, `has '${text}'`);
  if (extra !== undefined) throw bad();
  if (method === 'bptt' || method === 'eprop') {
    if (arg !== undefined) throw new InvalidInputError(path, `${method} without a parameter`, `has '${text}'`);
    return { method };
  }
  if (arg === undefined) return { method };
  const v = Number(arg);
  if (arg.trim() === '' || Number.isNaN(v)) throw bad();
  if (method === 'bp-lambda') {
    if (!(v >= 0 && v <= 1)) throw bad();
    return { method, lambda: v };
  }
  if (!Number.isInteger(v) || v < 1) throw bad();
  return { method, n: v };
};
