/**
 * Checkpoints and resumed runs: a run interrupted by a signal (a real child process of the built CLI: run
 * `npm run build` first) and resumed with --resume gives the numbers of an uninterrupted run; a corrupted latest
 * checkpoint is reported and the previous one used; in-process, every task resumes exactly from a checkpoint written
 * to disk; divergence never saves a checkpoint of the diverged batch.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DivergenceError } from '../src/core/errors.js';
import { readCheckpoint, saveCheckpoint } from '../src/experiments/checkpoint.js';
import { buildConfig } from '../src/experiments/config.js';
import { parseCsv } from '../src/experiments/files.js';
import { type RunCheckpoint, type RunResult, type RunStep, type RunSteps, driveRun, runExperiment, runSteps } from '../src/experiments/run.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');
const env = { ...process.env, CI: '1' };

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const tmp = () => mkdtempSync(join(tmpdir(), 'bplambda-resume-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> =>
  new Promise((resolve) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.resume();
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });

/** Start a run, wait for its first checkpoint (and optionally the previous one too), send SIGINT. */
const interruptedRun = async (args: string[], dir: string, needPrevious = false) => {
  const child = spawn(process.execPath, [main, ...args, '--out', dir, '--checkpoint-every', '25'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(child);
  const want = join(dir, needPrevious ? 'checkpoint.prev.json' : 'checkpoint.json');
  const t0 = Date.now();
  let finished = false;
  void done.then(() => (finished = true));
  while (!existsSync(want) && !finished && Date.now() - t0 < 15_000) await sleep(10);
  expect(finished).toBe(false); // the run must still be going, or the test proves nothing
  child.kill('SIGINT');
  return done;
};

const summaryOf = (dir: string) => {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  delete s['seconds'];
  return s;
};

const metricsOf = (dir: string) => parseCsv(readFileSync(join(dir, 'metrics.csv'), 'utf8')).rows.map(({ seconds: _s, ...rest }) => rest);

// ~2 s uninterrupted: long enough to interrupt after the first checkpoints.
const TOY = ['run', 'toy', '--preset', 'smoke', '--steps', '1500', '--log-every', '50'];

describe('kill and resume through the CLI (a real child process and SIGINT)', () => {
  const reference = tmp();
  const ref = cli(...TOY, '--out', reference);

  it('an interrupted run saves a checkpoint, exits 130, and --resume finishes with identical numbers', async () => {
    expect(ref.code, ref.stderr).toBe(0);
    const dir = tmp();
    const r = await interruptedRun(TOY, dir);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT; checkpoint at batch \d+ saved to .*checkpoint\.json; continue with: bplambda run toy --resume/);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    const at = (readCheckpoint(join(dir, 'checkpoint.json')) as RunCheckpoint).batches;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(1500);

    const resumed = cli('run', 'toy', '--resume', dir, '--checkpoint-every', '25');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming at batch ${at}`));
    expect(summaryOf(dir)).toEqual(summaryOf(reference));
    expect(metricsOf(dir)).toEqual(metricsOf(reference));
    expect(metricsOf(dir).length).toBe(31);
  }, 30_000);

  it('a corrupted latest checkpoint is reported and the previous good one used (same final numbers)', async () => {
    const dir = tmp();
    const r = await interruptedRun(TOY, dir, true);
    expect(r.code, r.stderr).toBe(130);
    const bad = tmp();
    cpSync(dir, bad, { recursive: true });
    // Truncated latest checkpoint.
    truncateSync(join(dir, 'checkpoint.json'), 100);
    const resumed = cli('run', 'toy', '--resume', dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/checkpoint .*checkpoint\.json is truncated or not JSON.*using the previous checkpoint .*checkpoint\.prev\.json/);
    expect(summaryOf(dir)).toEqual(summaryOf(reference));
    expect(metricsOf(dir)).toEqual(metricsOf(reference));

    // Neither checkpoint usable: exit 2 with a clear message.
    writeFileSync(join(bad, 'checkpoint.json'), readFileSync(join(bad, 'checkpoint.json'), 'utf8').replace(/"batches":(\d+)/, '"batches":1$1'));
    truncateSync(join(bad, 'checkpoint.prev.json'), 10);
    const none = cli('run', 'toy', '--resume', bad);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--resume has none: .*fails its checksum.*truncated or not JSON/);
  }, 30_000);

  it('--resume refuses configuration options, a missing checkpoint and another task (exit 2)', () => {
    const seed = cli('run', 'toy', '--resume', reference, '--seed', '3');
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/--seed is given, expected not given with --resume/);
    const out = cli('run', 'toy', '--resume', reference, '--out', tmp());
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--out is given/);
    const task = cli('run', 'copy-repeat', '--resume', reference);
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/<task> is 'copy-repeat', expected 'toy'/);
    const missing = cli('run', 'toy', '--resume', tmp());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--resume has none: checkpoint .* cannot be read/);
    const every = cli('run', 'toy', '--preset', 'smoke', '--checkpoint-every', '-1', '--out', tmp());
    expect(every.code).toBe(2);
    expect(every.stderr).toMatch(/--checkpoint-every/);
  });
});

/** Run to the end, taking a checkpoint (through a file on disk) after `at` batches. */
const checkpointAt = async (steps: RunSteps, at: number, path: string): Promise<RunResult> => {
  for (;;) {
    const r = await steps.next();
    if (r.done === true) return r.value;
    if (r.value.done === at) saveCheckpoint(path, await r.value.snapshot());
  }
};

const strip = (rows: readonly Record<string, unknown>[]) => rows.map(({ seconds: _s, ...rest }) => rest);
const stripSummary = ({ seconds: _s, ...rest }: Record<string, unknown>) => rest;

describe('resuming in process: every task continues exactly from a checkpoint on disk', () => {
  const cases = [
    ['toy', buildConfig('toy', 'smoke', { steps: 12, logEvery: 5 }), 7],
    ['copy-repeat', buildConfig('copy-repeat', 'smoke', { threshold: 10 }), 5],
    ['copy-repeat (mid-accumulation)', buildConfig('copy-repeat', 'smoke', { steps: 9, logEvery: 4 }), 6],
    ['seq-mnist (best validation kept)', buildConfig('seq-mnist', 'smoke'), 3],
    ['toy with sg (n = 2)', buildConfig('toy', 'smoke', { method: 'sg', n: 2, steps: 8, logEvery: 3 }), 4],
  ] as const;
  for (const [name, config, at] of cases)
    it(name, async () => {
      const whole = await runExperiment(config);
      const path = join(tmp(), 'checkpoint.json');
      const first = await checkpointAt(runSteps(config), at, path);
      expect(strip(first.rows)).toEqual(strip(whole.rows));
      const cp = readCheckpoint(path) as RunCheckpoint;
      expect(cp.batches).toBe(at);
      const newRows: Record<string, unknown>[] = [];
      const rest = await checkpointAt(runSteps(cp.config, { onRow: (r) => newRows.push(r) }, cp), -1, path);
      expect(strip(rest.rows)).toEqual(strip(whole.rows));
      expect(strip(newRows)).toEqual(strip(whole.rows.slice(cp.rows.length)));
      expect(stripSummary(rest.summary)).toEqual(stripSummary(whole.summary));
    });
});

describe('snapshots', () => {
  it('a snapshot belongs to its step: asked for after the run moved on or closed, it throws instead of reading a later state', async () => {
    const steps = runSteps(buildConfig('toy', 'smoke', { steps: 3, logEvery: 1 }));
    const first = await steps.next();
    if (first.done === true) throw new Error('the run ended at once');
    expect((await first.value.snapshot()).batches).toBe(1);
    const second = await steps.next();
    if (second.done === true) throw new Error('the run ended after one batch');
    await expect(first.value.snapshot()).rejects.toThrow(/snapshot of batch 1 .* moved on/);
    expect((await second.value.snapshot()).batches).toBe(2);
    await steps.return(undefined as never);
    await expect(second.value.snapshot()).rejects.toThrow(/moved on/);
  });
});

describe('driveRun', () => {
  const fake = async function* (divergeAt: number): RunSteps {
    for (let i = 1; ; i++) {
      if (i === divergeAt) throw new DivergenceError('the training loss', i, 'batch');
      const step: RunStep = { done: i, total: 100, snapshot: async () => ({ batches: i }) as unknown as RunCheckpoint };
      yield step;
    }
  };

  it('saves every K batches and never after a diverged batch (the last good checkpoint stays)', async () => {
    const saved: number[] = [];
    await expect(driveRun(fake(8), { checkpointEvery: 3, save: (cp) => saved.push(cp.batches), stopRequested: () => false })).rejects.toThrow(DivergenceError);
    expect(saved).toEqual([3, 6]);
  });

  it('stops at a completed batch when asked, after saving a checkpoint of it', async () => {
    const saved: number[] = [];
    let n = 0;
    const r = await driveRun(fake(1000), { checkpointEvery: 4, save: (cp) => saved.push(cp.batches), stopRequested: () => ++n >= 5 });
    expect(r).toBeNull();
    expect(saved).toEqual([4, 5]);
  });

  it('saves once at the end', async () => {
    const config = buildConfig('toy', 'smoke', { steps: 5, logEvery: 5 });
    const saved: number[] = [];
    const r = await driveRun(runSteps(config), { checkpointEvery: 2, save: (cp) => saved.push(cp.batches), stopRequested: () => false });
    expect(saved).toEqual([2, 4, 5]);
    expect(stripSummary(r!.summary)).toEqual(stripSummary((await runExperiment(config)).summary));
  });
});
