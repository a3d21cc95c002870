#!/usr/bin/env node
/**
 * The CPU backend's matrix product alone (`matmul` on square operands, packing included), float32 and float64, on
 * 1 thread and on every core: the ceiling of the kernels the trainer runs, measured the same way in every bench
 * run. Prints one JSON object per line. Needs the build (`npm run build`).
 *
 *   node bench/kernels.mjs [--threads 1,2]
 */
import ndarray from 'ndarray';
import { availableParallelism } from 'node:os';
import { cpuBackend } from '../dist/src/backends/index.js';

const arg = process.argv.indexOf('--threads');
const threadList = arg > 0 ? process.argv[arg + 1].split(',').map(Number) : [...new Set([1, availableParallelism()])];

const random = (n, seed) => {
  const d = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = s / 2 ** 32 - 0.5;
  }
  return d;
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const precision of [32, 64])
  for (const threads of threadList) {
    const be = cpuBackend({ precision, threads });
    await be.ready();
    for (const n of [128, 256, 512]) {
      const a = be.upload(ndarray(random(n * n, 1), [n, n]));
      const b = be.upload(ndarray(random(n * n, 2), [n, n]));
      const c = be.alloc([n, n]);
      const flops = 2 * n ** 3;
      const reps = Math.max(3, Math.round(2e9 / flops));
      for (let i = 0; i < reps; i++) be.matmul(c, a, b);
      const times = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) be.matmul(c, a, b);
        times.push((performance.now() - t0) / reps);
      }
      const ms = median(times);
      process.stdout.write(`${JSON.stringify({ kind: 'bplambda matmul', precision, threads: be.threads, mode: be.mode, n, ms, gflops: flops / ms / 1e6 })}\n`);
      for (const x of [a, b, c]) be.dispose(x);
    }
    be.destroy();
  }
