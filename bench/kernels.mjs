#!/usr/bin/env node
/**
 * The CPU backend's matrix product alone (`matmul`, packing and copying out included) on square operands and on
 * the trainer's shapes, float32 and float64, on 1 thread and on every core: the ceiling of the kernels the trainer
 * runs, measured the same way in every bench run. Prints one JSON object per line. Needs the build.
 *
 *   node bench/kernels.mjs [--threads 1,2]
 */
import { availableParallelism } from 'node:os';
import { cpuBackend, hostView } from '../dist/src/backends/index.js';
import { median, random } from './data.mjs';

const arg = process.argv.indexOf('--threads');
const threadList = arg > 0 ? process.argv[arg + 1].split(',').map(Number) : [...new Set([1, availableParallelism()])];


/** Square products, then the shapes the trainer runs: [B, 4H] from [x | h] (copy-repeat, seq-MNIST) and a per-example gradient sum. */
const SHAPES = [
  [128, 128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [100, 400, 108],
  [50, 120, 58],
  [400, 100, 33],
];


for (const precision of [32, 64])
  for (const threads of threadList) {
    const be = cpuBackend({ precision, threads });
    await be.ready();
    for (const [m, n, k] of SHAPES) {
      const a = be.upload(hostView(random(m * k, 1), [m, k]));
      const b = be.upload(hostView(random(k * n, 2), [k, n]));
      const c = be.alloc([m, n]);
      const flops = 2 * m * n * k;
      const reps = Math.max(3, Math.round(2e9 / flops));
      for (let i = 0; i < reps; i++) be.matmul(c, a, b);
      const times = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) be.matmul(c, a, b);
        times.push((performance.now() - t0) / reps);
      }
      const ms = median(times);
      process.stdout.write(`${JSON.stringify({ kind: 'bplambda matmul', precision, threads: be.threads, mode: be.mode, m, n, k, ms, gflops: flops / ms / 1e6 })}\n`);
      for (const x of [a, b, c]) be.dispose(x);
    }
    be.destroy();
  }
