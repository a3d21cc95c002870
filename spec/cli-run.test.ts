/**
 * The `run`, `sweep` and `plot` commands through the built CLI (`npm test` builds first; after editing sources
 * run `npm run build` before `npx vitest run spec/cli-run.test.ts`): argument errors exit with code 2 and a
 * message naming the option; a tiny real run writes config.json, metrics.csv and summary.json; plot writes SVG
 * and PNG files; a tiny sweep runs on worker threads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const tmp = () => mkdtempSync(join(tmpdir(), 'bplambda-cli-'));

describe('run: argument errors exit with code 2 and name the option', () => {
  it.each([
    [['run', 'nonsense'], /<task>.*'nonsense'.*toy, seq-mnist, copy-repeat/],
    [['run', 'toy', '--method', 'magic'], /--method is 'magic', expected one of bp-lambda, sg, tbptt, bptt, eprop/],
    [['run', 'toy', '--method', 'online'], /--method is 'online' \(did you mean 'eprop'\?/],
    [['run', 'toy', '--bogus', '1'], /unknown option '--bogus'/],
    [['run', 'toy', '--steps', 'abc'], /--steps is 'abc', expected a number/],
    [['run', 'toy', '--steps', '2.5'], /--steps is 2\.5, expected an integer/],
    [['run', 'toy', '--lambda', '1.5'], /--lambda is 1\.5, expected a number in \[0, 1\]/],
    [['run', 'toy', '--seed', '1e40'], /--seed/],
    [['run', 'toy', '--lr', '-1'], /--lr is -1/],
    [['run', 'toy', '--preset', 'huge'], /--preset is 'huge', expected one of paper, reduced, smoke/],
    [['run', 'toy', '--backend', 'gpu'], /--backend is 'gpu', expected one of reference/],
    [['run', 'toy', '--preset', 'paper', '--computation', 'forward-view'], /--computation .*exact only without the per-step synthesiser clip/],
    [['run', 'toy', '--engine', 'sequence'], /--engine is given \('sequence'\), expected --computation \(the option was renamed/],
    [['run', 'toy', '--mode', 'cell'], /--mode/],
    [['run'], /missing required argument 'task'/],
    [['run', 'toy', '--threads', '0'], /--threads is 0, expected an integer from 1 to 256/],
    [['run', 'toy', '--threads', '2', '--backend', 'reference'], /--threads is 2, expected 1 for the reference backend, which runs on one thread/],
    [['sweep', 'toy', '--threads', 'x'], /--threads is 'x', expected a number/],
    [['sweep', 'toy', '--threads', '2', '--backend', 'cpu-f64-js'], /--threads is 2, expected 1 for the cpu-f64-js backend/],
    [['sweep', 'toy', '--methods', 'sg:0'], /--methods has 'sg:0'/],
    [['sweep', 'toy', '--seeds', '1,x'], /--seeds/],
    [['sweep', 'toy', '--workers', '0'], /--workers is 0/],
    [['sweep', 'toy', '--method', 'sg'], /unknown option '--method'/],
    [['plot', '/nonexistent/dir'], /\/nonexistent\/dir .*does not exist/],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

/** A function run once, its result kept: the runs a test needs, made by whichever test asks first (any order). */
const once = <T>(f: () => T): (() => T) => {
  let done: { value: T } | null = null;
  return () => (done ??= { value: f() }).value;
};

describe('run, plot and sweep for real (tiny settings)', () => {
  const out = tmp();
  const toyRun = once(() => cli('run', 'toy', '--preset', 'smoke', '--lambda', '0.5', '--seed', '3', '--out', join(out, 'toy')));
  const mnistRun = once(() => cli('run', 'seq-mnist', '--preset', 'smoke', '--method', 'bptt', '--out', join(out, 'mnist')));
  const copyRun = once(() => cli('run', 'copy-repeat', '--preset', 'smoke', '--method', 'sg', '--n', '2', '--threshold', '0.9', '--out', join(out, 'copy')));

  it('run toy writes config.json, metrics.csv and summary.json with the required keys', () => {
    const dir = join(out, 'toy');
    const r = toyRun();
    expect(r.stderr).toMatch(/batch 20/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/BP\(0\.5\)/);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ task: 'toy', method: 'bp-lambda', lambda: 0.5, seed: 3 });
    // Without --backend: the fastest float64 backend, on every core; the summary says how it ran.
    expect(summary).toMatchObject({ backend: 'cpu-f64', backendMode: expect.stringMatching(/^wasm-(relaxed-)?simd$/), threads: availableParallelism() });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(summary.finalAlignment).toHaveLength(10);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.format).toBe('bplambda-run/1');
    expect(config.config).toMatchObject({ task: 'toy', lambda: 0.5, synthClip: 'Infinity', computation: 'forward-view' });
    expect(config.machine.cpus).toBeGreaterThan(0);
    const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^batch,loss,.*align_t1,.*align_t10,seconds$/);
    expect(lines).toHaveLength(1 + 5);
  });

  it('run seq-mnist and copy-repeat write their task keys', () => {
    const m = mnistRun();
    expect(m.code).toBe(0);
    const ms = JSON.parse(readFileSync(join(out, 'mnist', 'summary.json'), 'utf8'));
    expect(ms).toMatchObject({ task: 'seq-mnist', method: 'bptt', lambda: null, seed: 0 });
    expect(typeof ms.testAccuracy).toBe('number');
    expect(typeof ms.validationAccuracy).toBe('number');
    const c = copyRun();
    expect(c.code).toBe(0);
    const cs = JSON.parse(readFileSync(join(out, 'copy', 'summary.json'), 'utf8'));
    expect(cs).toMatchObject({ task: 'copy-repeat', method: 'sg', n: 2 });
    for (const k of ['maxSequenceLength', 'N', 'R']) expect(Number.isInteger(cs[k])).toBe(true);
  });

  it('plot renders SVG and PNG files of every task (making the runs itself when it runs alone)', () => {
    for (const run of [toyRun, mnistRun, copyRun]) expect(run().code).toBe(0);
    const r = cli('plot', join(out, 'toy'), join(out, 'mnist'), join(out, 'copy'), '--out', join(out, 'plots'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['toy-alignment', 'seq-mnist-learning-curves', 'copy-repeat-curriculum']) {
      const svg = readFileSync(join(out, 'plots', `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg/);
      expect(svg).toMatch(/<text/);
      const png = readFileSync(join(out, 'plots', `${name}.png`));
      expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(5000);
    }
    expect(r.stdout).toMatch(/toy-alignment\.png/);
  });

  it('sweep runs a grid on worker threads, prints the table and the plot path', () => {
    const dir = join(out, 'sweep');
    const r = cli('sweep', 'toy', '--preset', 'smoke', '--methods', 'bp-lambda:0,bp-lambda:1,sg:2', '--seeds', '0,1', '--workers', '2', '--steps', '6', '--out', dir, '--plot');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/BP\(0\)\s+0,1/);
    expect(r.stdout).toMatch(/SG n=2\s+0,1/);
    expect(r.stdout).toMatch(/6 runs in .* on 2 worker threads/);
    expect(r.stdout).toMatch(/plot: .*toy-alignment\.png/);
    expect(existsSync(join(dir, 'sg-2-seed1', 'summary.json'))).toBe(true);
    expect(existsSync(join(dir, 'plots', 'toy-alignment.png'))).toBe(true);
    const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    expect(sweep.summaries).toHaveLength(6);
    // Two runs at once share the cores.
    for (const s of sweep.summaries) expect(s.threads).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
  });
});
