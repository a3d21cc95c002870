#!/usr/bin/env node
/**
 * The run of bench/gpu-device.sh, after it unpacked Node and the modules (issue 12; docs/gpu.md, "On a real GPU"):
 *
 * 1. the machine: GPU, driver, loaders found (nvidia-smi where it exists);
 * 2. the WebGPU adapter: each of Dawn's backends (`vulkan`, then `opengles`) is started once; the first hardware
 *    adapter is used, else the first that starts, and the JSON says which (never a silent fallback);
 * 3. the conformance suite's gpujs-webgpu cases (spec/backends) on that adapter;
 * 4. `bplambda bench` cases: seq-MNIST (BP(λ) per sequence and per step, BPTT), copy-repeat at paper scale (LSTM
 *    100, batch 100, T 33, BP(λ)), and the same on cpu-f32 on the machine's cores, side by side; then the trace
 *    update and matmul alone (bench/trace-kernels.mjs), whose timing ends with a read (an honest clock for a GPU);
 * 5. one JSON on stdout, also written to $OUT/gpu-device.json where $OUT is set.
 *
 * BPLAMBDA_DEVICE_SCALE=rehearsal: the same cases with small batches (a machine without a GPU). Each case has a
 * time limit; one that would start after BPLAMBDA_DEVICE_BUDGET_S seconds (default 480) is listed as not run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const rehearsal = process.env.BPLAMBDA_DEVICE_SCALE === 'rehearsal';
const budget = Number(process.env.BPLAMBDA_DEVICE_BUDGET_S ?? 480);
const log = (s) => process.stderr.write(`[gpu-device ${elapsed().toFixed(0)} s] ${s}\n`);

const sh = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message ?? null };
};
const lastLine = (s) => s.trim().split('\n').filter((l) => !l.startsWith('Warning:')).at(-1) ?? '';

// 1. The machine.
const smi = sh('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader']);
const machine = {
  gpus: smi.code === 0 ? smi.stdout.trim().split('\n') : [],
  nvidiaSmi: smi.code === 0 ? 'found' : `not run: ${smi.error ?? smi.stderr.trim()}`,
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg(),
  node: process.version,
  kernel: sh('uname', ['-r']).stdout.trim(),
  env: Object.fromEntries(['LD_LIBRARY_PATH', 'VK_ICD_FILENAMES', '__EGL_VENDOR_LIBRARY_FILENAMES', 'EGL_PLATFORM'].map((k) => [k, process.env[k] ?? null])),
};
let commit = null;
try {
  commit = readFileSync(join(root, '.device', 'manifest.json'), 'utf8').trim().split('\n').at(-1);
} catch {
  commit = sh('git', ['rev-parse', 'HEAD']).stdout.trim() || null;
}
log(`machine: ${machine.gpus.join('; ') || 'no NVIDIA GPU'}; ${machine.cpus} CPUs`);

// 2. The adapter: start each of Dawn's backends in a fresh process and read what it reports.
const probeSource = (choice) =>
  `const g = await import(${JSON.stringify(join(root, 'dist/src/backends/gpu/index.js'))});` +
  `try { const b = await g.startGpujsBackend({ mode: 'webgpu', webgpuAdapter: ${JSON.stringify(choice)} });` +
  `process.stdout.write(JSON.stringify({ adapter: b.adapter }) + '\\n'); b.destroy(); }` +
  `catch (e) { process.stdout.write(JSON.stringify({ reason: e instanceof Error ? e.message : String(e) }) + '\\n'); }`;
const probes = ['vulkan', 'opengles'].map((choice) => {
  const r = sh(process.execPath, ['--input-type=module', '-e', probeSource(choice)], { timeout: 120_000 });
  let answer = {};
  try {
    answer = JSON.parse(lastLine(r.stdout));
  } catch {}
  const adapter = answer.adapter ?? null;
  const reason = adapter === null ? (answer.reason ?? (r.error || `exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`)).slice(0, 800) : null;
  log(`adapter '${choice}': ${adapter === null ? `cannot start: ${reason}` : JSON.stringify(adapter)}`);
  return { choice, adapter, reason };
});
const chosen = probes.find((p) => p.adapter?.kind === 'hardware') ?? probes.find((p) => p.adapter !== null) ?? null;
const env = { ...process.env, ...(chosen === null ? {} : { BPLAMBDA_WEBGPU_ADAPTER: chosen.choice }) };

// 3. The conformance suite's WebGPU cases on that adapter.
let conformance = { run: false, reason: 'no WebGPU adapter started' };
if (chosen !== null) {
  const report = join(process.env.BPLAMBDA_DEVICE_WORK ?? root, 'conformance.json');
  const t0 = Date.now();
  const r = sh(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'spec/backends', '-t', 'gpujs webgpu', '--reporter=json', `--outputFile=${report}`], { env, timeout: 300_000 });
  let counts = null;
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    const failures = j.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName));
    counts = { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests, failures: failures.slice(0, 20) };
  } catch (e) {
    counts = { error: `no report (${String(e)}): ${lastLine(r.stderr).slice(0, 600)}` };
  }
  conformance = { run: true, adapterChoice: chosen.choice, seconds: (Date.now() - t0) / 1000, exit: r.code ?? r.signal, ...counts };
  log(`conformance: ${JSON.stringify({ ...conformance, failures: undefined })}`);
}

// 4. Benchmarks, within the budget.
const B = (paper, small) => String(rehearsal ? small : paper);
const cases = [
  ['gpujs-webgpu', ['--task', 'seq-mnist', '--batch', B(50, 5), '--warmup', '1', '--batches', B(5, 1)]],
  ['gpujs-webgpu', ['--task', 'seq-mnist', '--schedule', 'step', '--batch', B(50, 5), '--warmup', '1', '--batches', B(3, 1)]],
  ['gpujs-webgpu', ['--task', 'seq-mnist', '--method', 'bptt', '--batch', B(50, 5), '--warmup', '1', '--batches', B(5, 1)]],
  ['gpujs-webgpu', ['--task', 'copy-repeat', '--batch', B(100, 1), '--warmup', '1', '--batches', B(2, 1)]],
  ['cpu-f32', ['--task', 'seq-mnist', '--batch', B(50, 5), '--warmup', '1', '--batches', B(5, 1)]],
  ['cpu-f32', ['--task', 'copy-repeat', '--batch', B(100, 1), '--warmup', '0', '--batches', '1']],
  ['gpujs-webgpu', ['--task', 'copy-repeat', '--schedule', 'step', '--batch', B(100, 1), '--warmup', '0', '--batches', '1']],
];
const kernels = [
  ['gpujs-webgpu', ['--task', 'copy-repeat', '--batch', B(100, 2), '--reps', B(5, 2)]],
  ['gpujs-webgpu', ['--task', 'seq-mnist', '--batch', B(50, 5), '--reps', B(20, 2)]],
  ['cpu-f32', ['--task', 'copy-repeat', '--batch', B(100, 2), '--reps', '2']],
];
const bench = [];
const notRun = [];
const runCase = (kind, backend, args, command) => {
  const line = `${kind} --backend ${backend} ${args.join(' ')}`;
  if (backend === 'gpujs-webgpu' && chosen === null) return void notRun.push({ case: line, reason: 'no WebGPU adapter started' });
  if (elapsed() > budget) return void notRun.push({ case: line, reason: `past the budget of ${budget} s` });
  const limit = Math.round(Math.max(30, budget + 90 - elapsed()));
  const r = sh(process.execPath, [...command, '--backend', backend, ...args], { env, timeout: limit * 1000 });
  try {
    const results = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    if (results.length === 0) throw new Error('no JSON');
    for (const x of results) bench.push({ command: line, ...x });
    log(`${line}: ${results.map((x) => `${(x.msPerBatch ?? x.msPerCall).toFixed(1)} ms${x.gflops === null || x.gflops === undefined ? '' : `, ${x.gflops.toFixed(1)} GFLOP/s`}`).join('; ')}`);
  } catch {
    notRun.push({ case: line, reason: r.signal === 'SIGTERM' ? `stopped after ${limit.toFixed(0)} s` : `exit ${r.code}: ${lastLine(r.stderr).slice(0, 600)}` });
    log(`${line}: ${notRun.at(-1).reason}`);
  }
};
for (const [backend, args] of cases) runCase('bench', backend, [...args, '--json'], [cli, 'bench']);
for (const [backend, args] of kernels) runCase('trace-kernels', backend, args, [join(root, 'bench', 'trace-kernels.mjs')]);

// 5. One JSON.
const result = {
  kind: 'bplambda gpu-device',
  scale: rehearsal ? 'rehearsal (small batches)' : 'paper',
  commit,
  date: new Date(started).toISOString(),
  seconds: elapsed(),
  machine,
  adapters: probes,
  adapterChoice: chosen?.choice ?? null,
  conformance,
  bench,
  notRun,
};
const text = `${JSON.stringify(result, null, 1)}\n`;
process.stdout.write(text);
if (process.env.OUT) {
  mkdirSync(process.env.OUT, { recursive: true });
  writeFileSync(join(process.env.OUT, 'gpu-device.json'), text);
}
