#!/usr/bin/env node
/**
 * The alternative the fast-CPU issue named for the matrix kernel: XNNPACK through @tensorflow/tfjs-backend-wasm,
 * timed on square products and the shapes of bplambda's trainer (tf.matMul + dataSync, i.e. with the copy out, as
 * bplambda's figures include packing and copying). Not a dependency of bplambda; to run it:
 *
 *   npm install --no-save @tensorflow/tfjs-core@4 @tensorflow/tfjs-backend-wasm@4 && node bench/tfjs_matmul.cjs 1
 *
 * The argument is the thread count (tfjs-backend-wasm's multi-threaded build does not start in Node).
 * Compare with `node bench/kernels.mjs` (bplambda's product on square operands).
 */
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const threads = Number(process.argv[2] ?? 1);
wasm.setThreadsCount(threads);
(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const features = { simd: tf.env().getAsync ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : '?', mt: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
  const shapes = [[256, 256, 256], [512, 512, 512], [100, 400, 108], [50, 120, 58], [400, 100, 33]];
  for (const [m, n, k] of shapes) {
    const a = tf.randomUniform([m, k]); const b = tf.randomUniform([k, n]);
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.matMul(a, b).dataSync());
    const reps = Math.max(20, Math.round(3e9 / (2 * m * n * k)));
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) tf.tidy(() => { tf.matMul(a, b).dataSync(); });
    const ms = (performance.now() - t0) / reps;
    console.log(JSON.stringify({ lib: 'tfjs-backend-wasm (XNNPACK)', threads, features, m, n, k, ms: +ms.toFixed(4), gflops: +(2 * m * n * k / ms / 1e6).toFixed(1) }));
  }
  process.exit(0);
})();
