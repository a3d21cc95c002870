/**
 * The gpu.js backends from the command line, through the built CLI (`npm run build` first, as for
 * spec/cli-run.test.ts): `run`, `sweep` and `bench` train on them and record the mode and adapter actually running
 * (config.json, summary.json, bench's JSON); a mode that cannot start here exits with code 3, saying why and what to
 * install, and writes nothing (docs/gpu.md, "The gpu.js backend"). Smoke presets only: gpu.js's cpu and webasm modes
 * are slow.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unitRoundoff } from '../src/backends/backend.js';
import { headlessglUnavailable as headlessglStartFailure } from '../test-support/headlessgl.js';
import { webgpuUnavailable as webgpuStartFailure } from '../test-support/webgpu.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');

/** The CLI without an X display (headless-gl then cannot create a context, whether or not it is built). */
const cli = (...args: string[]) => cliWith({}, ...args);
/** The same with more environment variables (DISPLAY only where given). */
const cliWith = (more: NodeJS.ProcessEnv, ...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', ...more };
  if (more['DISPLAY'] === undefined) delete env['DISPLAY'];
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const tmp = () => mkdtempSync(join(tmpdir(), 'bplambda-gpujs-'));

const EMULATED = {
  'gpujs-cpu': { mode: 'cpu', adapter: { vendor: 'gpu.js', device: 'JavaScript (gpu.js cpu mode)', kind: 'software' } },
  'gpujs-webasm': { mode: 'webasm', adapter: { vendor: 'gpu.js', device: 'WebAssembly (gpu.js webasm mode)', kind: 'software' } },
} as const;

/**
 * The toy smoke run's loss is a forward pass of the frozen linear RNN (H 30, 10 inputs, T 10, 2 outputs, MSE at
 * the last step): each output is a chain of T sums of H + I + 1 rounded terms, then the readout's H + 1 and the
 * loss's O. With n such terms, each float32 backend is within γ_n = nε/(1 − nε) of the exact output (the classic
 * bound for a sum of n rounded terms, as in docs/gpu.md "Precision and tolerances"); two backends differ by at most
 * 2γ_n, and squaring doubles a relative error.
 */
const TOY = { H: 30, I: 10, T: 10, O: 2 };
const n = TOY.T * (TOY.H + TOY.I + 1) + TOY.H + 1 + TOY.O;
const eps = unitRoundoff(32);
const lossTolerance = 4 * ((n * eps) / (1 - n * eps));

/** Whether gpu.js's WebGPU mode starts here (null), else why not (docs/gpu.md, "WebGPU in Node"). */
const webgpuUnavailable = await webgpuStartFailure();
/** Whether gpu.js's headless-gl mode starts here, with the test run's X display (null), else why not. */
const headlessglUnavailable = headlessglStartFailure();
/** An adapter name Dawn does not have: the webgpu mode then cannot start. */
const NO_ADAPTER = { BPLAMBDA_WEBGPU_ADAPTER: 'no adapter has this name' };

describe('run on the gpu.js backends', () => {
  const out = tmp();
  let reference: ReturnType<typeof cli> | null = null; // made by whichever test asks first
  const f32Run = () => (reference ??= cli('run', 'toy', '--preset', 'smoke', '--backend', 'cpu-f32', '--out', join(out, 'cpu-f32')));

  it.each(Object.entries(EMULATED))('%s: config.json and summary.json record the mode and adapter, and the loss is cpu-f32’s within float32 roundoff', (name, expected) => {
    expect(f32Run().code).toBe(0);
    const dir = join(out, name);
    const r = cli('run', 'toy', '--preset', 'smoke', '--backend', name, '--out', dir);
    expect(r.stderr).toMatch(/batch 20/);
    expect(r.code).toBe(0);
    const config = json(join(dir, 'config.json'));
    expect(config.config.backend).toBe(name);
    expect(config.backend).toEqual({ name, mode: expected.mode, precision: 32, threads: 1, adapter: expected.adapter });
    const summary = json(join(dir, 'summary.json'));
    expect(summary).toMatchObject({ backend: name, backendMode: expected.mode, threads: 1, adapter: expected.adapter });
    const f32 = json(join(out, 'cpu-f32', 'summary.json')).finalLoss as number;
    expect(Number.isFinite(summary.finalLoss)).toBe(true);
    expect(f32).toBeGreaterThan(0);
    expect(Math.abs(summary.finalLoss - f32)).toBeLessThanOrEqual(lossTolerance * f32);
    // cpu-f32 records its own mode, threads and no adapter (its kernels are this process's WebAssembly).
    expect(json(join(out, 'cpu-f32', 'config.json')).backend).toMatchObject({ name: 'cpu-f32', mode: expect.stringMatching(/^wasm-(relaxed-)?simd$/), precision: 32, adapter: null });
  });

  it.skipIf(webgpuUnavailable !== null)(`gpujs-webgpu records the WebGPU adapter, and the loss is cpu-f32’s within float32 roundoff${webgpuUnavailable === null ? '' : ` (cannot start here: ${webgpuUnavailable})`}`, () => {
    expect(f32Run().code).toBe(0);
    const dir = join(out, 'gpujs-webgpu');
    const r = cli('run', 'toy', '--preset', 'smoke', '--backend', 'gpujs-webgpu', '--out', dir);
    expect(r.code).toBe(0);
    const config = json(join(dir, 'config.json'));
    expect(config.backend).toMatchObject({ name: 'gpujs-webgpu', mode: 'webgpu', precision: 32, threads: 1 });
    expect(config.backend.adapter.device).not.toBe('unknown');
    const summary = json(join(dir, 'summary.json'));
    expect(summary).toMatchObject({ backend: 'gpujs-webgpu', backendMode: 'webgpu', adapter: config.backend.adapter });
    const f32 = json(join(out, 'cpu-f32', 'summary.json')).finalLoss as number;
    expect(Math.abs(summary.finalLoss - f32)).toBeLessThanOrEqual(lossTolerance * f32);
  });

  it.skipIf(headlessglUnavailable !== null)(`gpujs-headlessgl (with an X display) records its mode and GL renderer, and the loss is cpu-f32’s within float32 roundoff${headlessglUnavailable === null ? '' : ` (cannot start here: ${headlessglUnavailable})`}`, () => {
    expect(f32Run().code).toBe(0);
    const dir = join(out, 'gpujs-headlessgl');
    const r = cliWith({ DISPLAY: process.env['DISPLAY'] }, 'run', 'toy', '--preset', 'smoke', '--backend', 'gpujs-headlessgl', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    const config = json(join(dir, 'config.json'));
    // headless-gl names its renderer only 'ANGLE', so whether it is software is unknown (docs/gpu.md, "The adapter").
    expect(config.backend).toMatchObject({ name: 'gpujs-headlessgl', mode: 'headlessgl', precision: 32, threads: 1, adapter: { kind: 'unknown' } });
    const summary = json(join(dir, 'summary.json'));
    expect(summary).toMatchObject({ backend: 'gpujs-headlessgl', backendMode: 'headlessgl', adapter: config.backend.adapter });
    const f32 = json(join(out, 'cpu-f32', 'summary.json')).finalLoss as number;
    expect(Math.abs(summary.finalLoss - f32)).toBeLessThanOrEqual(lossTolerance * f32);
  });

  it('trains the LSTM of copy-repeat with the traces (cell mode, the per-step clip) and the forward view', () => {
    for (const computation of [['--computation', 'traces', '--synth-clip', '1'], ['--computation', 'forward-view']]) {
      const dir = join(out, `copy-${computation[1]}`);
      const r = cli('run', 'copy-repeat', '--preset', 'smoke', '--backend', 'gpujs-webasm', '--steps', '4', ...computation, '--out', dir);
      expect(r.code).toBe(0);
      const summary = json(join(dir, 'summary.json'));
      expect(summary).toMatchObject({ computation: computation[1], backendMode: 'webasm' });
      expect(Number.isFinite(summary.finalLoss)).toBe(true);
    }
  });

  it('--threads is refused for a gpu.js backend (it runs on one thread)', () => {
    const r = cli('run', 'toy', '--preset', 'smoke', '--backend', 'gpujs-cpu', '--threads', '2', '--out', join(out, 'threads'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads is 2, expected 1 for the gpujs-cpu backend/);
    expect(existsSync(join(out, 'threads'))).toBe(false);
  });
});

describe('a gpu.js mode that cannot start here exits with code 3 and writes nothing', () => {
  it.each([
    ['gpujs-headlessgl', /backend gpujs \(mode 'headlessgl'\) cannot start: .*(gl \(headless-gl\) is not installed|no X display).*(npm rebuild gl|xvfb-run)/],
    ['gpujs-webgpu', /backend gpujs \(mode 'webgpu'\) cannot start: WebGPU found no adapter for 'no adapter has this name'.*npm install webgpu@/],
  ])('run and sweep with %s', (name, reason) => {
    const out = tmp();
    const run = cliWith(NO_ADAPTER, 'run', 'toy', '--preset', 'smoke', '--backend', name, '--out', join(out, 'run'));
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(reason);
    expect(run.stdout).toBe('');
    const sweep = cliWith(NO_ADAPTER, 'sweep', 'toy', '--preset', 'smoke', '--methods', 'bp-lambda:1', '--backend', name, '--out', join(out, 'sweep'));
    expect(sweep.code).toBe(3);
    expect(sweep.stderr).toMatch(reason);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--force does not remove the earlier run when the backend cannot start', () => {
    const dir = join(tmp(), 'earlier');
    mkdirSync(dir);
    const files = { 'config.json': '{"format":"bplambda-run/1"}\n', 'metrics.csv': 'batch\n', 'summary.json': '{}\n' };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const r = cliWith(NO_ADAPTER, 'run', 'toy', '--preset', 'smoke', '--backend', 'gpujs-webgpu', '--out', dir, '--force');
    expect(r.code).toBe(3);
    for (const [f, text] of Object.entries(files)) expect(readFileSync(join(dir, f), 'utf8')).toBe(text);
  });
});

describe('sweep and bench on a gpu.js backend', () => {
  it('sweep (one worker: the one-thread backend gets no share of the cores) records the mode and adapter of every run', () => {
    const out = join(tmp(), 'sweep');
    const r = cli('sweep', 'toy', '--preset', 'smoke', '--methods', 'bp-lambda:1,sg:3', '--workers', '1', '--backend', 'gpujs-webasm', '--out', out);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    for (const run of ['bp-lambda-1-seed0', 'sg-3-seed0']) {
      expect(json(join(out, run, 'config.json')).backend).toEqual({ name: 'gpujs-webasm', ...EMULATED['gpujs-webasm'], precision: 32, threads: 1 });
      expect(json(join(out, run, 'summary.json'))).toMatchObject({ backendMode: 'webasm', adapter: EMULATED['gpujs-webasm'].adapter });
    }
  });

  it('bench reports the mode and adapter; an unavailable mode exits with code 3', () => {
    const r = cli('bench', '--task', 'toy', '--backend', 'gpujs-cpu', '--batches', '1', '--warmup', '0', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ backend: 'gpujs-cpu', mode: 'cpu', adapter: EMULATED['gpujs-cpu'].adapter, precision: 32, threads: 1 });
    expect(Number.isFinite(result.loss)).toBe(true);
    const text = cli('bench', '--task', 'toy', '--backend', 'gpujs-cpu', '--batches', '1', '--warmup', '0');
    expect(text.stdout).toMatch(/gpujs-cpu \(cpu, f32, JavaScript \(gpu\.js cpu mode\)\)/);
    const gl = cli('bench', '--task', 'toy', '--backend', 'gpujs-headlessgl');
    expect(gl.code).toBe(3);
    expect(gl.stderr).toMatch(/^bplambda bench: backend gpujs \(mode 'headlessgl'\) cannot start/);
  });

  it.skipIf(webgpuUnavailable !== null)(`bench times no single kernel on gpujs-webgpu, whose calls return before the work is done${webgpuUnavailable === null ? '' : ` (cannot start here: ${webgpuUnavailable})`}`, () => {
    const flags = ['--task', 'toy', '--batches', '1', '--warmup', '0', '--computation', 'traces', '--json'];
    const gpu = JSON.parse(cli('bench', ...flags, '--backend', 'gpujs-webgpu').stdout);
    expect([gpu.gflops, gpu.denseGflops, gpu.denseShare]).toEqual([null, null, null]);
    expect(gpu.msPerBatch).toBeGreaterThan(0);
    // The emulated modes work on the calling thread: their trace update is timed per call.
    expect(JSON.parse(cli('bench', ...flags, '--backend', 'gpujs-webasm').stdout).gflops).toBeGreaterThan(0);
  });
});
