#!/usr/bin/env node
/**
 * `npm run bench`: every backend and mode on the three tasks of the paper (their paper presets), each case in a fresh Node process
 * (`bplambda bench … --json`, so JIT state and peak memory are per case), the CPU backend on every core and on one;
 * then the matrix product alone (bench/kernels.mjs) and, when python3-torch is installed, PyTorch's nn.LSTM BPTT
 * and torch.matmul on the same shapes and thread counts (bench/torch_lstm.py); printed as tables with the issue's
 * targets as ratios within this run, and written to bench/results.json.
 *
 * Batches are reduced where a backend is slow (the trace update is cubic to quartic in the hidden size); every
 * reduction shows in the `batch` column and in the case's note. Timings on a shared machine are noisy: the
 * machine's load average is recorded with every case.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { targetLines, targetsOf } from './targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

const FAST = ['cpu-f32', 'cpu-f64'];
const JS = ['cpu-f32-js', 'cpu-f64-js'];
const SLOW = ['reference', 'gpujs-cpu', 'gpujs-webasm'];
const GPU = ['gpujs-gpu', 'gpujs-headlessgl', 'gpujs-webgl', 'gpujs-webgl2', 'gpujs-webgpu'];
const ALL = [...FAST, ...JS, ...SLOW];

/** One case: CLI arguments beyond --json. The fast backends run on every core unless `--threads 1` is given. */
const cases = [];
const add = (backends, args) => backends.forEach((b) => cases.push(['--backend', b, ...args]));
const w = (warmup, batches) => ['--warmup', String(warmup), '--batches', String(batches)];
const ONE = ['--threads', '1'];

const FV = ['--computation', 'forward-view'];

// toy: RNN 30, batch 10, T 10 (full-state BP(λ); the RNN has no cell mode)
add([...FAST, ...JS], ['--task', 'toy', ...w(10, 30)]);
add(SLOW, ['--task', 'toy', ...w(2, 5)]);
add(ALL, ['--task', 'toy', ...FV, ...w(5, 10)]);
add(ALL, ['--task', 'toy', '--method', 'bptt', ...w(5, 10)]);

// seq-MNIST: LSTM 30, batch 50, T 28 — the paper's cell mode, then the full-state mode
add(FAST, ['--task', 'seq-mnist', ...w(2, 5)]);
add(FAST, ['--task', 'seq-mnist', ...ONE, ...w(2, 5)]);
add(JS, ['--task', 'seq-mnist', ...w(1, 2)]);
add(SLOW, ['--task', 'seq-mnist', ...w(1, 1)]);
add(ALL, ['--task', 'seq-mnist', ...FV, ...w(2, 7)]);
add(FAST, ['--task', 'seq-mnist', ...FV, ...ONE, ...w(2, 7)]);
add(FAST, ['--task', 'seq-mnist', '--mode', 'full', ...w(1, 2)]);
add(JS, ['--task', 'seq-mnist', '--mode', 'full', ...w(0, 1)]);
add(SLOW, ['--task', 'seq-mnist', '--mode', 'full', '--batch', '5', ...w(0, 1)]);
add(ALL, ['--task', 'seq-mnist', '--mode', 'full', ...FV, ...w(1, 3)]);
add(ALL, ['--task', 'seq-mnist', '--method', 'bptt', ...w(3, 15)]);
add(FAST, ['--task', 'seq-mnist', '--method', 'bptt', ...ONE, ...w(3, 15)]);

// copy-repeat: LSTM 100, N = R = 5 (T = 33), cell mode; the batch of 100 is reduced for the traces on CPU
add(FAST, ['--task', 'copy-repeat', '--batch', '4', ...w(1, 1)]);
add(FAST, ['--task', 'copy-repeat', '--batch', '4', ...ONE, ...w(1, 1)]);
add(JS, ['--task', 'copy-repeat', '--batch', '1', ...w(0, 1)]);
add(SLOW, ['--task', 'copy-repeat', '--batch', '1', ...w(0, 1)]);
add([...FAST, ...JS], ['--task', 'copy-repeat', ...FV, ...w(1, 3)]);
add(FAST, ['--task', 'copy-repeat', ...FV, ...ONE, ...w(1, 3)]);
add(SLOW, ['--task', 'copy-repeat', ...FV, '--batch', '10', ...w(0, 1)]);
add([...FAST, ...JS], ['--task', 'copy-repeat', '--method', 'bptt', ...w(2, 5)]);
add(FAST, ['--task', 'copy-repeat', '--method', 'bptt', ...ONE, ...w(2, 5)]);
add(SLOW, ['--task', 'copy-repeat', '--method', 'bptt', '--batch', '10', ...w(0, 1)]);

// the paper's copy-repeat batch of 100, once, on the fastest CPU backend on every core
add(['cpu-f32'], ['--task', 'copy-repeat', ...w(0, 1)]);

// GPU modes: recorded as unavailable (with the reason) where they cannot start
add(GPU, ['--task', 'seq-mnist', ...w(1, 3)]);

const started = Date.now();
const results = [];
const unavailable = [];
const failed = [];
for (const args of cases) {
  const r = spawnSync(process.execPath, [cli, 'bench', ...args, '--json'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  const label = args.join(' ');
  if (r.status === 0) {
    const row = JSON.parse(r.stdout.trim().split('\n').pop());
    results.push(row);
    process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${label}: ${row.msPerBatch.toFixed(1)} ms/batch\n`);
  } else if (r.status === 3) {
    const backend = args[1];
    if (!unavailable.some((u) => u.backend === backend)) unavailable.push({ backend, reason: r.stderr.trim().replace(/^bplambda bench: /, '') });
    process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${label}: cannot start\n`);
  } else {
    failed.push({ args: label, status: r.status, signal: r.signal, stderr: (r.stderr ?? '').slice(-2000) });
    process.stderr.write(`  ${label}: FAILED (${r.signal ?? r.status})\n`);
  }
}

// The CPU backend's matrix product alone: the ceiling of the kernels the trainer runs (bench/kernels.mjs).
const kernels = [];
{
  const r = spawnSync(process.execPath, [join(root, 'bench', 'kernels.mjs')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status === 0) kernels.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l)));
  else failed.push({ args: 'bench/kernels.mjs', status: r.status, signal: r.signal, stderr: (r.stderr ?? '').slice(-2000) });
}

// What a user would pick instead: PyTorch nn.LSTM + autograd BPTT and torch.matmul, when python3-torch is installed.
const torch = [];
let torchNote = null;
{
  const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (python === undefined) torchNote = 'PyTorch not found (apt install python3-torch libopenblas0-pthread): the side-by-side rows are skipped';
  else
    for (const threads of [...new Set([1, cpus().length])]) {
      const r = spawnSync(python, [join(root, 'bench', 'torch_lstm.py'), '--threads', String(threads)], { cwd: root, encoding: 'utf8', timeout: 600_000 });
      if (r.status === 0) torch.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l)));
      else failed.push({ args: `bench/torch_lstm.py --threads ${threads}`, status: r.status, signal: r.signal, stderr: (r.stderr ?? '').slice(-2000) });
    }
  if (python !== undefined) {
    const blas = spawnSync(python, ['-c', 'import torch; print(torch.__config__.show())'], { encoding: 'utf8' }).stdout ?? '';
    torchNote = `PyTorch ${torch[0]?.torch ?? '?'} (${python}); BLAS as linked at run time (Debian: libopenblas0-pthread if installed, else the reference BLAS). ${/BLAS_INFO=(\S+)/.exec(blas)?.[1] ?? ''}`.trim();
  }
}

const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
const header = ['task', 'method', 'computation', 'backend', 'mode', 'prec', 'thr', 'B', 'H', 'T', 'ms/batch', 'ms/step', 'trace GFLOP/s', 'products GFLOP/s', 'peak RSS MB', 'backend MB'];
const rows = results.map((r) => [
  r.task,
  r.method + (r.synthMode ? ` ${r.synthMode}` : ''),
  r.computation ?? '',
  r.backend,
  r.mode,
  `f${r.precision}`,
  String(r.threads ?? 1),
  String(r.batch),
  String(r.hidden),
  String(r.steps),
  fmt(r.msPerBatch),
  fmt(r.msPerStep, 2),
  fmt(r.gflops, 2),
  fmt(r.denseGflops, 2),
  fmt(r.peakRssMB, 0),
  fmt(r.backendPeakMB, 0),
]);
for (const t of torch.filter((x) => x.kind === 'nn.LSTM BPTT'))
  rows.push([t.task, 'bptt', '', 'pytorch nn.LSTM', 'autograd', `f${t.precision}`, String(t.threads), String(t.batch), String(t.hidden), String(t.steps), fmt(t.msPerBatch), fmt(t.msPerBatch / t.steps, 2), '—', '—', '—', '—']);
const table = (head, body, left) => {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= left ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), line(widths.map((n) => '-'.repeat(n))), ...body.map(line)];
};
const out = table(header, rows, 6);

out.push('', 'The matrix product alone (packing and copying out included; the ceiling of the trainer\'s products):');
out.push(
  ...table(
    ['kernel', 'prec', 'threads', 'm × n × k', 'GFLOP/s'],
    [
      ...kernels.map((k) => [`bplambda matmul (${k.mode})`, `f${k.precision}`, String(k.threads), `${k.m} × ${k.n} × ${k.k}`, fmt(k.gflops, 1)]),
      ...torch.filter((t) => t.kind === 'matmul peak').map((t) => ['torch.matmul', `f${t.precision}`, String(t.threads), `${t.n} × ${t.n} × ${t.n}`, fmt(t.gflops, 1)]),
    ],
    1,
  ),
);

// The targets of the fast-CPU issue, as ratios measured in this run (bench/targets.mjs).
const cores = cpus().length;
const targets = targetsOf(results, torch, cores);
out.push('', `Targets (best of each side over the thread counts timed, within this run; ${cores} cores):`, ...targetLines(targets));
if (torchNote !== null) out.push(torchNote);
for (const u of unavailable) out.push(`unavailable: ${u.backend}: ${u.reason}`);
for (const f of failed) out.push(`FAILED: ${f.args} (${f.signal ?? f.status})`);
out.push(`machine: ${cores} × ${cpus()[0]?.model ?? '?'}, load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}; shared machine: timings are noisy.`);
out.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`${out.join('\n')}\n`);

const json = {
  format: 'bplambda-bench/3',
  generated: new Date().toISOString(),
  machine: { cpus: cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtEnd: loadavg() },
  note:
    "Each case ran in a fresh process. Batches are reduced where noted (column batch; note). The machine may be shared with other processes (see each case's machine.loadavg): timings are noisy; compare ratios within one run. No GPU was available: the GPU modes are listed under unavailable with the reason.",
  targets,
  results,
  kernels,
  torch,
  torchNote,
  unavailable,
  failed,
  totalSeconds: (Date.now() - started) / 1000,
};
const file = join(root, 'bench', 'results.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 1)}\n`);
renameSync(`${file}.tmp`, file);
process.stdout.write(`written ${file}\n`);
if (failed.length > 0) process.exitCode = 1;
