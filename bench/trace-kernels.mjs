#!/usr/bin/env node
/**
 * The hot kernels alone on any backend, timed so that an asynchronous backend is timed honestly: `reps` calls,
 * then a read of a small result, which waits for everything queued before it (the data store's contract,
 * src/backends/backend.ts `read`). On the gpu.js GPU modes a clock around one call times only the queueing
 * (docs/gpu.md, "Benchmarks"); a run of calls ended by a read times the work. Per call: the median of 3 runs.
 *
 * Kernels, at the shapes the trainer gives them (BP(λ) in LSTM cell mode, spec §4.4 of docs/spec/bp-lambda.md):
 *   trace    traceUpdate with the fused contraction, E [B, R, P] with P = R·(2R + 1): 2·B·R·P·(R + 1) flops
 *   matmul   the cell's pre-activations [B, 4H] = [x | h] [B, I + H] · Wᵀ: 2·B·4H·(I + H) flops
 *
 *   node bench/trace-kernels.mjs --backend gpujs-webgpu [--task copy-repeat|seq-mnist] [--batch B] [--reps N]
 *
 * Prints one JSON object per kernel. Needs the build (npm run build).
 */
import { backendByName, hostView } from '../dist/src/backends/index.js';
import { median, random } from './data.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const backendName = arg('backend', 'cpu-f32');
const task = arg('task', 'copy-repeat');
/** The tasks' paper shapes (src/experiments/presets: copy-repeat LSTM 100, batch 100, 8 bits + 2 channels in; seq-MNIST LSTM 30, batch 50, 28 pixels a step). */
const SHAPES = { 'copy-repeat': { B: 100, H: 100, I: 10 }, 'seq-mnist': { B: 50, H: 30, I: 28 } };
if (!(task in SHAPES)) throw new Error(`--task is '${task}', expected one of ${Object.keys(SHAPES).join(', ')}`);
const shape = SHAPES[task];
const B = Number(arg('batch', shape.B));
const reps = Number(arg('reps', 5));
for (const [k, v] of [['batch', B], ['reps', reps]]) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} is '${v}', expected a positive integer`);
const { H, I } = shape;
const R = H;
const n = 2 * H; // cell mode: the synthesiser reads z = [h | c]
const P = R * (n + 1);


const be = await backendByName(backendName);
const info = { backend: backendName, mode: be.mode, precision: be.precision, adapter: be.adapter ?? null, task, batch: B, hidden: H };

/** Time `reps` calls of `call`, ended by a read of `sync`; per call, median of 3 runs, after one untimed run. */
const time = async (call, sync) => {
  const runs = [];
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    await be.read(sync);
    if (r > 0) runs.push((performance.now() - t0) / reps);
  }
  return median(runs);
};

try {
  // The trace update: E ← ∇θĝ + γλ J E, with mean_b δᵀE (the old trace) fused in. J scaled so that E stays bounded.
  const E = be.allocTrace(B, R, P);
  const J = be.upload(hostView(random(B * R * R, 1, 2 / R), [B, R, R]));
  const z = be.upload(hostView(random(B * n, 2, 2), [B, n]));
  const delta = be.upload(hostView(random(B * R, 3, 2), [B, R]));
  const out = be.alloc([P]);
  be.traceUpdate(E, null, 0, { kind: 'linear', input: z });
  const traceMs = await time(() => be.traceUpdate(E, J, 0.9, { kind: 'linear', input: z }, { delta, out }), out);
  const traceFlops = 2 * B * R * P * (R + 1);
  process.stdout.write(`${JSON.stringify({ kind: 'bplambda kernel', kernel: 'traceUpdate', ...info, rows: R, cols: P, traceNumbers: B * R * P, reps, msPerCall: traceMs, gflops: traceFlops / traceMs / 1e6 })}\n`);
  for (const x of [E, J, z, delta, out]) be.dispose(x);

  // The cell's pre-activations from [x | h] against the stacked weights (transposed), as the generic LSTM does.
  const xh = be.upload(hostView(random(B * (I + H), 4, 2), [B, I + H]));
  const W = be.upload(hostView(random(4 * H * (I + H), 5, 0.2), [4 * H, I + H]));
  const pre = be.alloc([B, 4 * H]);
  const mmMs = await time(() => be.matmul(pre, xh, W, { transposeB: true }), pre);
  const mmFlops = 2 * B * 4 * H * (I + H);
  process.stdout.write(`${JSON.stringify({ kind: 'bplambda kernel', kernel: 'matmul', ...info, m: B, n: 4 * H, k: I + H, reps, msPerCall: mmMs, gflops: mmFlops / mmMs / 1e6 })}\n`);
  for (const x of [xh, W, pre]) be.dispose(x);
} finally {
  be.destroy();
}
