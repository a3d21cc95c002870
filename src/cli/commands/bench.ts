/**
 * `bplambda bench --shape toy|seqmnist|copyrepeat [--backend NAME] [--engine online|sequence] [--batches N]
 * [--json]`: time training batches of one method on one backend, on random data of the paper's shapes.
 *
 * Reports the median milliseconds per batch and per time step, the achieved GFLOP/s of the trace update
 * (E ← γλ J E + ∇θĝ with its fused δᵀE contraction: 2·B·R·P·(R + 1) flops a call, timed around each call),
 * the backend's peak bytes and the process's peak resident memory. Timings depend on the machine's load.
 */
import type { Command } from 'commander';
import { cpus, loadavg } from 'node:os';
import type { Backend } from '../../backends/backend.js';
import { BackendUnavailableError } from '../../backends/errors.js';
import { BACKEND_NAMES, type BackendName, backendByName, isBackendName } from '../../backends/registry.js';
import { ENGINES, type EngineKind, createTrainer } from '../../engine/engine.js';
import { InvalidInputError } from '../../core/errors.js';
import { type LearnerConfig, type Method, learnerInit } from '../../core/learner.js';
import { lstmCell } from '../../core/lstm.js';
import type { Batch, Model } from '../../core/model.js';
import { AUTHORS_ADAM } from '../../core/optim.js';
import { type Rng, rngFromSeed, uniforms } from '../../core/random.js';
import { rnnCell } from '../../core/rnn.js';
import { withInputErrors } from '../errors.js';

export const BENCH_SHAPES = ['toy', 'seqmnist', 'copyrepeat'] as const;
export type BenchShape = (typeof BENCH_SHAPES)[number];
const METHODS = ['bp-lambda', 'bptt', 'tbptt', 'sg', 'online'] as const;

interface ShapeSpec {
  readonly cell: 'rnn' | 'lstm';
  readonly hidden: number;
  readonly input: number;
  readonly output: number;
  readonly batch: number;
  readonly steps: number;
  readonly loss: 'mse' | 'xent';
  /** First step (0-based) with a target. */
  readonly firstTarget: (T: number) => number;
  readonly mode: 'full' | 'cell';
  readonly gamma: number;
  readonly lambda: number;
  readonly beta: number;
  readonly lrNet: number;
  readonly lrSynth: number;
  readonly inputs: 'code' | 'pixels' | 'bits';
  readonly note: string;
}

/** The paper's shapes and the authors' settings (spec §8.8, §8.9); the data are random of the right form. */
export const SHAPES: Readonly<Record<BenchShape, ShapeSpec>> = {
  toy: {
    cell: 'rnn', hidden: 30, input: 10, output: 2, batch: 10, steps: 10, loss: 'mse', firstTarget: (T) => T - 1, // prettier-ignore
    mode: 'full', gamma: 1, lambda: 1, beta: 1, lrNet: 0, lrSynth: 1e-4, inputs: 'code',
    note: 'linear RNN 30, 10-bit code at step 1, MSE target at the last step; network frozen as in the alignment run',
  },
  seqmnist: {
    cell: 'lstm', hidden: 30, input: 28, output: 10, batch: 50, steps: 28, loss: 'xent', firstTarget: (T) => T - 1, // prettier-ignore
    mode: 'cell', gamma: 0.9, lambda: 1, beta: 0.1, lrNet: 3e-4, lrSynth: 3e-4, inputs: 'pixels',
    note: 'LSTM 30, 28 rows of 28 random pixels, 10-way cross-entropy at the last step',
  },
  copyrepeat: {
    cell: 'lstm', hidden: 100, input: 10, output: 9, batch: 100, steps: 33, loss: 'mse', firstTarget: () => 7, // prettier-ignore
    mode: 'cell', gamma: 0.9, lambda: 1, beta: 1, lrNet: 1e-3, lrSynth: 1e-5, inputs: 'bits',
    note: 'LSTM 100, N = R = 5 (T = 33), random bits, targets from step N+2; MSE stands in for the task\'s BCE',
  },
};

export interface BenchOptions {
  readonly shape: BenchShape;
  readonly backend: BackendName;
  readonly engine: EngineKind;
  readonly method: (typeof METHODS)[number];
  readonly mode?: 'full' | 'cell';
  readonly batches: number;
  readonly warmup: number;
  readonly batch?: number;
  readonly steps?: number;
  readonly synthClip?: number;
}

export interface BenchResult {
  readonly shape: BenchShape;
  readonly backend: string;
  /** The backend's actual mode (e.g. wasm-simd, js, gpu.js webasm). */
  readonly mode: string;
  readonly precision: number;
  /** 'online' or 'sequence' for BP(λ); the method's name otherwise. */
  readonly engine: string;
  readonly method: string;
  /** BP(λ)'s synthesiser mode ('full' or 'cell'), null for methods without one. */
  readonly synthMode: string | null;
  readonly batch: number;
  readonly hidden: number;
  readonly steps: number;
  readonly batches: number;
  readonly msPerBatch: number;
  readonly msPerBatchMin: number;
  readonly msPerStep: number;
  /** Trace-update GFLOP/s (null without traces). */
  readonly gflops: number | null;
  readonly traceMsPerBatch: number | null;
  readonly traceGflopPerBatch: number | null;
  readonly backendPeakMB: number;
  readonly peakRssMB: number;
  readonly loss: number;
  readonly note: string;
  readonly machine: { readonly cpus: number; readonly cpu: string; readonly loadavg: readonly number[]; readonly node: string };
}

const bits = (rng: Rng, n: number): [Float64Array, Rng] => {
  const [u, r] = uniforms(rng, n);
  return [u.map((v) => (v < 0.5 ? 0 : 1)), r];
};

/** A random batch of the shape's form. */
export const benchBatch = (spec: ShapeSpec, B: number, T: number, seed: number): Batch => {
  let rng = rngFromSeed(seed);
  const first = spec.firstTarget(T);
  return Array.from({ length: B }, (_, b) => {
    const inputs: Float64Array[] = [];
    const targets: (Float64Array | null)[] = [];
    for (let t = 0; t < T; t++) {
      let x: Float64Array;
      if (spec.inputs === 'pixels') [x, rng] = uniforms(rng, spec.input);
      else if (spec.inputs === 'bits') [x, rng] = bits(rng, spec.input);
      else [x, rng] = t === 0 ? bits(rng, spec.input) : [new Float64Array(spec.input), rng];
      inputs.push(x);
      if (t < first) targets.push(null);
      else if (spec.loss === 'xent') targets.push(Float64Array.from({ length: spec.output }, (_, k) => (k === (b + t) % spec.output ? 1 : 0)));
      else {
        let y: Float64Array;
        [y, rng] = spec.inputs === 'bits' ? bits(rng, spec.output) : uniforms(rng, spec.output);
        targets.push(y);
      }
    }
    return { inputs, targets };
  });
};

const methodFor = (o: BenchOptions, spec: ShapeSpec): Method => {
  const mode = o.mode ?? spec.mode;
  switch (o.method) {
    case 'bp-lambda':
      return {
        kind: 'bp-lambda',
        mode,
        schedule: 'sequence',
        synthesiser: { hidden: [] },
        gamma: spec.gamma,
        lambda: spec.lambda,
        beta: spec.beta,
        synthClip: o.synthClip ?? (o.engine === 'sequence' ? Infinity : 1),
      };
    case 'sg':
      return { kind: 'sg', n: 3, gamma: spec.gamma, beta: spec.beta, align: 'end', target: 'discounted', synthesiser: { hidden: [] } };
    case 'tbptt':
      return { kind: 'tbptt', n: 3, align: 'end' };
    case 'bptt':
      return { kind: 'bptt' };
    case 'online':
      return { kind: 'online' };
  }
};

/** Time one configuration in this process. */
export const runBench = async (o: BenchOptions): Promise<BenchResult> => {
  const spec = SHAPES[o.shape];
  const B = o.batch ?? spec.batch;
  const T = o.steps ?? spec.steps;
  const model: Model = {
    cell: spec.cell === 'rnn' ? rnnCell({ inputSize: spec.input, hiddenSize: spec.hidden, activation: 'identity' }) : lstmCell({ inputSize: spec.input, hiddenSize: spec.hidden }),
    outputSize: spec.output,
    loss: spec.loss,
  };
  const method = methodFor(o, spec);
  const config: LearnerConfig = {
    model,
    method,
    network: spec.lrNet === 0 ? { kind: 'frozen' } : { kind: 'adam', lr: spec.lrNet, ...AUTHORS_ADAM },
    synthesiser: { kind: 'adam', lr: spec.lrSynth, ...AUTHORS_ADAM },
  };
  const backend: Backend = await backendByName(o.backend);
  // Time the trace update around each call (it includes the fused contraction when asked for).
  let traceMs = 0;
  let traceFlops = 0;
  const update = backend.traceUpdate.bind(backend);
  backend.traceUpdate = (E, J, decay, imm, contract) => {
    const t0 = performance.now();
    update(E, J, decay, imm, contract);
    traceMs += performance.now() - t0;
    const [b, r, p] = E.shape as [number, number, number];
    traceFlops += 2 * b * r * p * (r + (contract === undefined ? 0 : 1));
  };
  const trainer = createTrainer(backend, config, method.kind === 'bp-lambda' ? { engine: o.engine } : {});
  let [state] = learnerInit(config, rngFromSeed(1));
  const batches = Array.from({ length: Math.min(4, o.warmup + o.batches) }, (_, i) => benchBatch(spec, B, T, 100 + i));
  let loss = 0;
  for (let i = 0; i < o.warmup; i++) state = trainer.trainBatch(state, batches[i % batches.length]!)[1];
  traceMs = 0;
  traceFlops = 0;
  const times: number[] = [];
  for (let i = 0; i < o.batches; i++) {
    const t0 = performance.now();
    const [m, s] = trainer.trainBatch(state, batches[(o.warmup + i) % batches.length]!);
    times.push(performance.now() - t0);
    state = s;
    loss = m.loss;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const hasTrace = traceFlops > 0;
  const result: BenchResult = {
    shape: o.shape,
    backend: o.backend,
    mode: backend.mode,
    precision: backend.precision,
    engine: method.kind === 'bp-lambda' ? o.engine : 'n/a',
    method: method.kind,
    synthMode: method.kind === 'bp-lambda' ? method.mode : null,
    batch: B,
    hidden: spec.hidden,
    steps: T,
    batches: o.batches,
    msPerBatch: median,
    msPerBatchMin: sorted[0]!,
    msPerStep: median / T,
    gflops: hasTrace ? traceFlops / (traceMs * 1e6) : null,
    traceMsPerBatch: hasTrace ? traceMs / o.batches : null,
    traceGflopPerBatch: hasTrace ? traceFlops / o.batches / 1e9 : null,
    backendPeakMB: backend.memory().peakBytes / 2 ** 20,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    loss,
    note: spec.note + (B !== spec.batch ? ` (batch reduced from ${spec.batch} to ${B})` : '') + (T !== spec.steps ? ` (T reduced from ${spec.steps} to ${T})` : ''),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg(), node: process.version },
  };
  trainer.dispose();
  backend.destroy();
  return result;
};

const fmt = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));

export const benchLine = (r: BenchResult): string =>
  `${r.shape.padEnd(10)} ${`${r.backend} (${r.mode}, f${r.precision})`.padEnd(32)} ${`${r.method}${r.synthMode === null ? '' : ` ${r.synthMode}`} ${r.engine === 'n/a' ? '' : r.engine}`.padEnd(26)} ` +
  `B${r.batch} H${r.hidden} T${r.steps}: ${fmt(r.msPerBatch)} ms/batch, ${fmt(r.msPerStep, 2)} ms/step, trace ${fmt(r.gflops, 2)} GFLOP/s, ` +
  `peak ${fmt(r.peakRssMB, 0)} MB RSS (${fmt(r.backendPeakMB, 0)} MB in the backend)`;

const positiveInt = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(name, 'a positive integer', `is '${v}'`);
  return n;
};

export const registerBench = (program: Command): void => {
  program
    .command('bench')
    .description('time training batches on one backend, on random data of the paper\'s shapes (toy, seqmnist, copyrepeat)')
    .requiredOption('--shape <shape>', BENCH_SHAPES.join(' | '))
    .option('--backend <name>', `${BACKEND_NAMES.join(' | ')} (default cpu-f32)`)
    .option('--engine <name>', "BP(λ)'s engine: online (eligibility traces, default) | sequence (forward-view shortcut; synthClip off)")
    .option('--method <name>', `${METHODS.join(' | ')} (default bp-lambda)`)
    .option('--mode <mode>', "BP(λ)'s synthesiser mode for the LSTM shapes: cell (default, the paper's) | full")
    .option('--batches <n>', 'timed batches (default 3)')
    .option('--warmup <n>', 'untimed batches first (default 1)')
    .option('--batch <n>', "override the shape's batch size")
    .option('--steps <n>', "override the shape's sequence length")
    .option('--json', 'print the result as JSON')
    .action(
      withInputErrors('invalid bench option', async (opts: Record<string, string | boolean | undefined>) => {
        const s = opts['shape'] as string;
        if (!(BENCH_SHAPES as readonly string[]).includes(s)) throw new InvalidInputError('--shape', BENCH_SHAPES.join(' | '), `is '${s}'`);
        const backend = (opts['backend'] as string | undefined) ?? 'cpu-f32';
        if (!isBackendName(backend)) throw new InvalidInputError('--backend', BACKEND_NAMES.join(' | '), `is '${backend}'`);
        const engine = (opts['engine'] as string | undefined) ?? 'online';
        if (!(ENGINES as readonly string[]).includes(engine)) throw new InvalidInputError('--engine', ENGINES.join(' | '), `is '${engine}'`);
        const method = (opts['method'] as string | undefined) ?? 'bp-lambda';
        if (!(METHODS as readonly string[]).includes(method)) throw new InvalidInputError('--method', METHODS.join(' | '), `is '${method}'`);
        const mode = opts['mode'] as string | undefined;
        if (mode !== undefined && mode !== 'cell' && mode !== 'full') throw new InvalidInputError('--mode', 'cell | full', `is '${mode}'`);
        if (engine === 'sequence' && method !== 'bp-lambda') throw new InvalidInputError('--engine', "'online' (or left out) for methods other than bp-lambda", "is 'sequence'");
        const o: BenchOptions = {
          shape: s as BenchShape,
          backend,
          engine: engine as EngineKind,
          method: method as BenchOptions['method'],
          ...(mode === undefined ? {} : { mode }),
          batches: positiveInt('--batches', opts['batches'] as string | undefined) ?? 3,
          warmup: opts['warmup'] === '0' ? 0 : (positiveInt('--warmup', opts['warmup'] as string | undefined) ?? 1),
          ...(opts['batch'] === undefined ? {} : { batch: positiveInt('--batch', opts['batch'] as string)! }),
          ...(opts['steps'] === undefined ? {} : { steps: positiveInt('--steps', opts['steps'] as string)! }),
        };
        let r: BenchResult;
        try {
          r = await runBench(o);
        } catch (e) {
          if (e instanceof BackendUnavailableError) {
            process.stderr.write(`bplambda bench: ${e.message}\n`);
            process.exitCode = 3;
            return;
          }
          throw e;
        }
        process.stdout.write(opts['json'] === true ? `${JSON.stringify(r)}\n` : `${benchLine(r)}\n`);
      }),
    );
};
