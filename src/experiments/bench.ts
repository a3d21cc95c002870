/**
 * Timing training batches of the paper's tasks on one backend: the task's paper preset (its model, method and
 * the authors' settings, spec §8.9) with real batches of its generator (random images of MNIST's shape for
 * seq-MNIST), through the one trainer. Reports the median milliseconds per batch and per time step, the trace
 * update's GFLOP/s (2·B·R·P·(R + 1) flops a call with the fused contraction, timed around each call), the
 * backend's peak bytes and the process's peak resident memory. Timings depend on the machine's load.
 */
import { cpus, loadavg } from 'node:os';
import type { Backend, BackendAdapter, CellSpec, DeviceArray } from '../backends/backend.js';
import { type BackendName, backendByName } from '../backends/registry.js';
import { learnerInit } from '../core/learner.js';
import type { Batch } from '../core/model.js';
import { rngFromSeed } from '../core/random.js';
import { type Computation, type Trainer, createTrainer } from '../engine/trainer.js';
import { copyRepeatBatch } from '../tasks/copyRepeat.js';
import { mnistBatch, randomImages } from '../tasks/mnist.js';
import { toyBatch } from '../tasks/toy.js';
import { type MethodKind, type RunConfig, type Task, buildConfig, methodLabel } from './config.js';
import { learnerConfigOf } from './setup.js';
import { toyTaskOf } from './tasks/toy.js';

/** The copy-repeat level of the benchmark: N = R = 5, T = 33. */
export const BENCH_COPY_LEVEL = { n: 5, r: 5 } as const;

export interface BenchOptions {
  readonly task: Task;
  readonly backend: BackendName;
  readonly method: MethodKind;
  readonly computation: Computation;
  readonly mode?: RunConfig['mode'];
  /** BP(λ)'s parameter updates: 'sequence' (once per batch, the authors' default) or 'step' (every time step). */
  readonly schedule?: RunConfig['schedule'];
  readonly batches: number;
  readonly warmup: number;
  readonly batch?: number;
  /** Threads of a CPU backend (default: every core). */
  readonly threads?: number;
}

export interface BenchResult {
  readonly task: Task;
  readonly backend: string;
  /** The backend's actual mode (e.g. wasm-simd, js, gpu.js webasm). */
  readonly mode: string;
  /** The adapter it runs on (src/backends/registry.ts, BackendInfo); null for the CPU backends. */
  readonly adapter: BackendAdapter | null;
  readonly precision: number;
  readonly method: string;
  /** BP(λ)'s computation and synthesiser mode ('traces' / 'forward-view'; 'full' / 'cell'), null for other methods. */
  readonly computation: string | null;
  readonly synthMode: string | null;
  /** BP(λ)'s schedule ('sequence' / 'step'), null for other methods. */
  readonly schedule: string | null;
  readonly batch: number;
  readonly hidden: number;
  readonly steps: number;
  readonly batches: number;
  readonly msPerBatch: number;
  readonly msPerBatchMin: number;
  readonly msPerStep: number;
  /** Threads the backend ran on. */
  readonly threads: number;
  /**
   * Trace-update GFLOP/s (null without traces, and null where a kernel call returns before its work is done: the
   * gpu.js GPU modes, whose kernels are queued on the device; only their whole batches, which read back their
   * metrics, are timed).
   */
  readonly gflops: number | null;
  /**
   * GFLOP/s of the dense products as the trainer calls them (the generic matmul and the fused cell forward and
   * state VJP, packing and hand-off included), and their share of the batch time; null where none ran.
   */
  readonly denseGflops: number | null;
  readonly denseShare: number | null;
  readonly traceMsPerBatch: number | null;
  readonly traceGflopPerBatch: number | null;
  readonly backendPeakMB: number;
  readonly peakRssMB: number;
  readonly loss: number;
  readonly note: string;
  readonly machine: { readonly cpus: number; readonly cpu: string; readonly loadavg: readonly number[]; readonly node: string };
}

/** The run configuration of a benchmark: the task's paper preset with the method asked for. */
export const benchConfig = (o: BenchOptions): RunConfig =>
  buildConfig(o.task, 'paper', {
    method: o.method,
    computation: o.computation,
    ...(o.computation === 'forward-view' ? { synthClip: Infinity } : {}),
    ...(o.mode === undefined ? {} : { mode: o.mode }),
    ...(o.schedule === undefined ? {} : { schedule: o.schedule }),
    ...(o.batch === undefined ? {} : { batchSize: o.batch }),
  });

/** A few batches of the task's form. */
const benchBatches = (c: RunConfig, n: number): Batch[] => {
  let rng = rngFromSeed(100);
  return Array.from({ length: n }, () => {
    let batch: Batch;
    switch (c.task) {
      case 'toy':
        [batch, rng] = toyBatch(toyTaskOf(c), c.batchSize, rng);
        return batch;
      case 'copy-repeat':
        [batch, rng] = copyRepeatBatch({ bits: c.bits, normRepeat: 10 }, BENCH_COPY_LEVEL.n, BENCH_COPY_LEVEL.r, c.batchSize, rng);
        return batch;
      case 'seq-mnist': {
        const [images, next] = randomImages(c.batchSize, rng);
        rng = next;
        return mnistBatch(images, Array.from({ length: c.batchSize }, (_, i) => i));
      }
    }
  });
};

/** Wrap a backend's dense products (matmul, fused cell forward and state VJP) to time them and count their flops. */
const timeDense = (backend: Backend) => {
  const clock = { ms: 0, flops: 0 };
  const timed = <F extends (...args: never[]) => void>(f: F, flops: (...args: Parameters<F>) => number): F =>
    ((...args: Parameters<F>) => {
      const t0 = performance.now();
      f(...args);
      clock.ms += performance.now() - t0;
      clock.flops += flops(...args);
    }) as F;
  const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  backend.matmul = timed(backend.matmul.bind(backend), (out, a, _b, o) => 2 * size(out.shape) * a.shape[a.shape.length - (o?.transposeA ? 2 : 1)]!);
  const fused = backend.fused as Record<string, unknown> | undefined;
  const f = backend.fused;
  // [B, G] pre-activations from [x | h]: G = H (RNN) or 4H (LSTM), S = H or 2H.
  const gates = (spec: CellSpec, S: number) => (spec.type === 'rnn' ? { G: S, H: S } : { G: 2 * S, H: S / 2 });
  if (fused !== undefined && f?.cellForward !== undefined)
    fused['cellForward'] = timed(f.cellForward, (spec, _p, prev, x) => {
      const { G, H } = gates(spec, prev.shape[1]!);
      return 2 * prev.shape[0]! * G * (x.shape[1]! + H);
    });
  if (fused !== undefined && f?.cellStateVjp !== undefined)
    fused['cellStateVjp'] = timed(f.cellStateVjp, (spec, _p, prev) => {
      const { G, H } = gates(spec, prev.shape[1]!);
      return 2 * prev.shape[0]! * G * H;
    });
  return clock;
};

/** Wrap a backend's traceUpdate to time it and count its flops. */
const timeTraces = (backend: Backend) => {
  const clock = { ms: 0, flops: 0 };
  const update = backend.traceUpdate.bind(backend);
  backend.traceUpdate = (E: DeviceArray, J, decay, imm, contract) => {
    const t0 = performance.now();
    update(E, J, decay, imm, contract);
    clock.ms += performance.now() - t0;
    const [b, r, p] = E.shape as [number, number, number];
    if (J !== null) clock.flops += 2 * b * r * p * (r + (contract === undefined ? 0 : 1));
  };
  return clock;
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Time one configuration in this process. */
export const runBench = async (o: BenchOptions): Promise<BenchResult> => {
  const c = benchConfig(o);
  const config = learnerConfigOf(c);
  const backend = await backendByName(o.backend, o.threads === undefined ? {} : { threads: o.threads });
  let trainer: Trainer | null = null;
  try {
    await (backend as { ready?: () => Promise<void> }).ready?.();
    const clock = timeTraces(backend);
    const dense = timeDense(backend);
    trainer = createTrainer(backend, config, c.method === 'bp-lambda' ? { computation: c.computation } : {});
    trainer.load(learnerInit(config, rngFromSeed(1))[0]);
    const batches = benchBatches(c, Math.min(4, o.warmup + o.batches));
    for (let i = 0; i < o.warmup; i++) await trainer.trainBatch(batches[i % batches.length]!);
    clock.ms = 0;
    clock.flops = 0;
    dense.ms = 0;
    dense.flops = 0;
    const times: number[] = [];
    let loss = 0;
    for (let i = 0; i < o.batches; i++) {
      const t0 = performance.now();
      loss = (await trainer.trainBatch(batches[(o.warmup + i) % batches.length]!)).loss;
      times.push(performance.now() - t0);
    }
    const T = batches[0]!.length === 0 ? 0 : batches[0]![0]!.inputs.length;
    const ms = median(times);
    // Timing around a call measures the work only where the call does it before returning (see `gflops`).
    const timedPerCall = backend.name !== 'gpujs' || backend.mode === 'cpu' || backend.mode === 'webasm';
    const hasTrace = clock.flops > 0 && timedPerCall;
    const full = buildConfig(o.task, 'paper');
    const result: BenchResult = {
      task: o.task,
      backend: o.backend,
      mode: backend.mode,
      adapter: backend.adapter ?? null,
      precision: backend.precision,
      method: c.method,
      computation: c.method === 'bp-lambda' ? c.computation : null,
      synthMode: c.method === 'bp-lambda' ? c.mode : null,
      schedule: c.method === 'bp-lambda' ? c.schedule : null,
      batch: c.batchSize,
      hidden: c.hidden,
      steps: T,
      batches: o.batches,
      msPerBatch: ms,
      msPerBatchMin: Math.min(...times),
      msPerStep: ms / Math.max(1, T),
      threads: (backend as { threads?: number }).threads ?? 1,
      gflops: hasTrace ? clock.flops / (clock.ms * 1e6) : null,
      denseGflops: dense.flops > 0 && timedPerCall ? dense.flops / (dense.ms * 1e6) : null,
      denseShare: dense.flops > 0 && timedPerCall ? dense.ms / times.reduce((x, y) => x + y, 0) : null,
      traceMsPerBatch: hasTrace ? clock.ms / o.batches : null,
      traceGflopPerBatch: hasTrace ? clock.flops / o.batches / 1e9 : null,
      backendPeakMB: backend.memory().peakBytes / 2 ** 20,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      loss,
      note: `${o.task} paper preset, ${methodLabel(c)}` + (c.batchSize !== full.batchSize ? ` (batch reduced from ${full.batchSize} to ${c.batchSize})` : ''),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg(), node: process.version },
    };
    return result;
  } finally {
    trainer?.dispose();
    backend.destroy();
  }
};
