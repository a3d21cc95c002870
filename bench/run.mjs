#!/usr/bin/env node
/**
 * `npm run bench`: every backend and mode on the three tasks of the paper (their paper presets), each case in a fresh Node process
 * (`bplambda bench … --json`, so JIT state and peak memory are per case), printed as a table and written to
 * bench/results.json.
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

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

const FAST = ['cpu-f32', 'cpu-f64'];
const JS = ['cpu-f32-js', 'cpu-f64-js'];
const SLOW = ['reference', 'gpujs-cpu', 'gpujs-webasm'];
const GPU = ['gpujs-gpu', 'gpujs-headlessgl', 'gpujs-webgl', 'gpujs-webgl2', 'gpujs-webgpu'];
const ALL = [...FAST, ...JS, ...SLOW];

/** One case: CLI arguments beyond --json. */
const cases = [];
const add = (backends, args) => backends.forEach((b) => cases.push(['--backend', b, ...args]));
const w = (warmup, batches) => ['--warmup', String(warmup), '--batches', String(batches)];

const FV = ['--computation', 'forward-view'];

// toy: RNN 30, batch 10, T 10 (full-state BP(λ); the RNN has no cell mode)
add([...FAST, ...JS], ['--task', 'toy', ...w(10, 30)]);
add(SLOW, ['--task', 'toy', ...w(2, 5)]);
add(ALL, ['--task', 'toy', ...FV, ...w(5, 10)]);
add(ALL, ['--task', 'toy', '--method', 'bptt', ...w(5, 10)]);

// seq-MNIST: LSTM 30, batch 50, T 28 — the paper's cell mode, then the full-state mode
add(FAST, ['--task', 'seq-mnist', ...w(2, 5)]);
add(JS, ['--task', 'seq-mnist', ...w(1, 2)]);
add(SLOW, ['--task', 'seq-mnist', ...w(1, 1)]);
add(ALL, ['--task', 'seq-mnist', ...FV, ...w(1, 3)]);
add(FAST, ['--task', 'seq-mnist', '--mode', 'full', ...w(1, 2)]);
add(JS, ['--task', 'seq-mnist', '--mode', 'full', ...w(0, 1)]);
add(SLOW, ['--task', 'seq-mnist', '--mode', 'full', '--batch', '5', ...w(0, 1)]);
add(ALL, ['--task', 'seq-mnist', '--mode', 'full', ...FV, ...w(1, 3)]);
add(ALL, ['--task', 'seq-mnist', '--method', 'bptt', ...w(1, 3)]);

// copy-repeat: LSTM 100, N = R = 5 (T = 33), cell mode; the batch of 100 is reduced for the traces on CPU
add(FAST, ['--task', 'copy-repeat', '--batch', '4', ...w(1, 1)]);
add(JS, ['--task', 'copy-repeat', '--batch', '1', ...w(0, 1)]);
add(SLOW, ['--task', 'copy-repeat', '--batch', '1', ...w(0, 1)]);
add([...FAST, ...JS], ['--task', 'copy-repeat', ...FV, ...w(1, 2)]);
add(SLOW, ['--task', 'copy-repeat', ...FV, '--batch', '10', ...w(0, 1)]);
add([...FAST, ...JS], ['--task', 'copy-repeat', '--method', 'bptt', ...w(1, 2)]);
add(SLOW, ['--task', 'copy-repeat', '--method', 'bptt', '--batch', '10', ...w(0, 1)]);

// the paper's copy-repeat batch of 100, once, on the fastest CPU backend (the authors' PyTorch: 13.5–43 s a batch)
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

const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
const header = ['task', 'method', 'computation', 'backend', 'mode', 'prec', 'B', 'H', 'T', 'ms/batch', 'ms/step', 'trace GFLOP/s', 'peak RSS MB', 'backend MB'];
const rows = results.map((r) => [
  r.task,
  r.method + (r.synthMode ? ` ${r.synthMode}` : ''),
  r.computation ?? '',
  r.backend,
  r.mode,
  `f${r.precision}`,
  String(r.batch),
  String(r.hidden),
  String(r.steps),
  fmt(r.msPerBatch),
  fmt(r.msPerStep, 2),
  fmt(r.gflops, 2),
  fmt(r.peakRssMB, 0),
  fmt(r.backendPeakMB, 0),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i >= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
const out = [line(header), line(widths.map((n) => '-'.repeat(n))), ...rows.map(line)];

// The speed target: seq-MNIST shape, BP(λ) with the authors' settings (LSTM 30, batch 50, T 28, cell mode,
// per-step clip 1): the authors' PyTorch code takes about 200 ms per batch on this kind of machine.
const AUTHORS_MS = 200;
const target = results.filter((r) => r.task === 'seq-mnist' && r.method === 'bp-lambda' && r.synthMode === 'cell' && r.batch === 50);
const traces = target.filter((r) => r.computation === 'traces').sort((a, b) => a.msPerBatch - b.msPerBatch)[0];
const view = target.filter((r) => r.computation === 'forward-view').sort((a, b) => a.msPerBatch - b.msPerBatch)[0];
const summary = {
  authorsPytorchMsPerBatch: AUTHORS_MS,
  bestTraces: traces ? { backend: traces.backend, msPerBatch: traces.msPerBatch, vsAuthors: traces.msPerBatch / AUTHORS_MS } : null,
  bestForwardView: view ? { backend: view.backend, msPerBatch: view.msPerBatch, vsAuthors: view.msPerBatch / AUTHORS_MS, note: 'forward view: per-step clip off (it is exact only without it)' } : null,
};
out.push('');
out.push(`seq-MNIST target (authors' PyTorch ≈ ${AUTHORS_MS} ms/batch, cell mode, batch 50, T 28):`);
if (traces) out.push(`  best traces (authors' settings, clip 1): ${traces.backend} ${fmt(traces.msPerBatch)} ms/batch (${fmt(traces.msPerBatch / AUTHORS_MS, 2)}× the authors')`);
if (view) out.push(`  best forward view (clip off):            ${view.backend} ${fmt(view.msPerBatch)} ms/batch (${fmt(view.msPerBatch / AUTHORS_MS, 2)}× the authors')`);
for (const u of unavailable) out.push(`unavailable: ${u.backend}: ${u.reason}`);
for (const f of failed) out.push(`FAILED: ${f.args} (${f.signal ?? f.status})`);
out.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}; shared machine: timings are noisy.`);
out.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`${out.join('\n')}\n`);

const json = {
  format: 'bplambda-bench/2',
  generated: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtEnd: loadavg() },
  note:
    'Each case ran in a fresh process. Batches are reduced where noted (column batch; note). The machine may be shared with other processes (see each case\'s machine.loadavg): timings are noisy. No GPU was available: the GPU modes are listed under unavailable with the reason.',
  summary,
  results,
  unavailable,
  failed,
  totalSeconds: (Date.now() - started) / 1000,
};
const file = join(root, 'bench', 'results.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 1)}\n`);
renameSync(`${file}.tmp`, file);
process.stdout.write(`written ${file}\n`);
if (failed.length > 0) process.exitCode = 1;
