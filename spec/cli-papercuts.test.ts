/**
 * Small promises of the command line, through the built CLI (`npm run build` first): --version is the package's
 * version; bench speaks run's words (--computation, seq-mnist) and refuses the old ones with the current word; an
 * earlier run or sweep is never overwritten without --force, and --force removes only what bplambda wrote; --help
 * states the real default directories; plot of several directories needs --out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPUTATIONS } from '../src/engine/trainer.js';
import { TASKS } from '../src/experiments/config.js';
import { FIGURE_FILES } from '../src/experiments/outDir.js';
import { FIGURE_NAMES } from '../src/plot/plot.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');

const cli = (args: readonly string[], cwd = root) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = () => mkdtempSync(join(tmpdir(), 'bplambda-papercuts-'));
const TINY = ['--preset', 'smoke', '--steps', '2'];

describe('--version', () => {
  it('prints the version of package.json and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});

describe('bench speaks the words of run', () => {
  it.each([
    [['--task', 'toy', '--engine', 'online'], /--engine is given \('online'\), expected --computation \(the option was renamed: step and online → traces/],
    [['--task', 'toy', '--computation', 'online'], /--computation is 'online' \(did you mean 'traces'\?/],
    [['--task', 'seqmnist'], /--task is 'seqmnist' \(did you mean 'seq-mnist'\?/],
    [['--task', 'copyrepeat'], /--task is 'copyrepeat' \(did you mean 'copy-repeat'\?/],
  ])('bench %j exits 2 with the current word', (args, message) => {
    const r = cli(['bench', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--schedule times the step schedule of BP(λ) and is refused for other methods', () => {
    const step = cli(['bench', '--task', 'toy', '--schedule', 'step', '--batches', '1', '--warmup', '0', '--json']);
    expect(step.code, step.stderr).toBe(0);
    expect(JSON.parse(step.stdout)).toMatchObject({ method: 'bp-lambda', schedule: 'step' });
    const byDefault = cli(['bench', '--task', 'toy', '--batches', '1', '--warmup', '0', '--json']);
    expect(JSON.parse(byDefault.stdout)).toMatchObject({ schedule: 'sequence' });
    const bptt = cli(['bench', '--task', 'toy', '--method', 'bptt', '--schedule', 'step']);
    expect(bptt.code).toBe(2);
    expect(bptt.stderr).toMatch(/--schedule is 'step', expected left out for methods other than bp-lambda/);
  });

  it('its recorded results and targets use the tasks and computations of run, never "online"', () => {
    const json = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as {
      results: { task: string; computation: string | null }[];
      targets: { name: string }[];
    };
    for (const r of json.results) {
      expect(TASKS).toContain(r.task);
      if (r.computation !== null) expect(COMPUTATIONS).toContain(r.computation);
    }
    for (const t of json.targets) expect(t.name).not.toMatch(/online/i);
  });
});

describe('run and sweep never overwrite an earlier one silently', () => {
  it('run refuses a directory holding a run (exit 2, naming --out), --force replaces only its files', () => {
    const dir = join(tmp(), 'run');
    expect(cli(['run', 'toy', ...TINY, '--out', dir]).code).toBe(0);
    mkdirSync(join(dir, 'plots'));
    writeFileSync(join(dir, 'plots', 'toy-alignment.svg'), '<svg/>');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const summary = readFileSync(join(dir, 'summary.json'), 'utf8');

    const again = cli(['run', 'toy', ...TINY, '--seed', '1', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out is '.*run', which holds an earlier run of bplambda, expected a new or empty directory; pass --force to replace it/);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(summary);

    const forced = cli(['run', 'toy', ...TINY, '--seed', '1', '--out', dir, '--checkpoint-every', '0', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toMatchObject({ seed: 1 });
    expect(existsSync(join(dir, 'plots'))).toBe(false); // the old run's figure went with it
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine'); // not bplambda's: kept
  });

  it('--force refuses a directory that is not a run of bplambda, and removes nothing', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'thesis.tex'), 'mine');
    for (const args of [['run', 'toy', ...TINY], ['sweep', 'toy', ...TINY, '--methods', 'bptt']]) {
      const plain = cli([...args, '--out', dir]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toMatch(/--out is '.*', which holds 1 entry \(thesis\.tex\), expected a new or empty directory$/m);
      const forced = cli([...args, '--out', dir, '--force']);
      expect(forced.code).toBe(2);
      expect(forced.stderr).toMatch(/--force is given for '.*', which is not one, expected a directory holding a (run|sweep) of bplambda/);
      expect(readdirSync(dir)).toEqual(['thesis.tex']);
    }
  });

  it('an empty directory is fine (a fresh temporary directory, as the tests use)', () => {
    const dir = tmp();
    expect(cli(['run', 'toy', ...TINY, '--out', dir]).code).toBe(0);
  });

  it('sweep refuses its earlier sweep, --force replaces it', () => {
    const dir = join(tmp(), 'sweep');
    const args = ['sweep', 'toy', ...TINY, '--methods', 'bptt,eprop', '--workers', '1', '--out', dir];
    expect(cli(args).code).toBe(0);
    const again = cli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out is '.*sweep', which holds an earlier sweep of bplambda, expected a new or empty directory; pass --force/);
    const fewer = cli([...args.map((a) => (a === 'bptt,eprop' ? 'bptt' : a)), '--force']);
    expect(fewer.code, fewer.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['bptt-seed0', 'results.md', 'sweep.json']); // no stale eprop-seed0
  });
});

describe('--help states the real default directories', () => {
  /** The --help text of a command, on one line. */
  const help = (command: string) => cli([command, '--help']).stdout.replace(/\s+/g, ' ');

  it('run: the directory a run without --out writes', () => {
    const cwd = tmp();
    const r = cli(['run', 'toy', ...TINY, '--lambda', '0.5', '--seed', '2'], cwd);
    expect(r.code, r.stderr).toBe(0);
    const pattern = /--out <dir> output directory \(default (\S+?)[;)]/.exec(help('run'))?.[1];
    expect(pattern).toBeDefined();
    const path = pattern!.replace('<task>', 'toy').replace('<method>', 'bp-lambda').replace('<λ|n>', '0.5').replace('<seed>', '2');
    expect(existsSync(join(cwd, path, 'summary.json')), `${path} from the help`).toBe(true);
    // Without --out a second time: refused, naming --out and the default.
    const again = cli(['run', 'toy', ...TINY, '--lambda', '0.5', '--seed', '2'], cwd);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`--out is '${path}' (the default), which holds an earlier run`);
  });

  it('sweep: the directory a sweep without --out writes', () => {
    const cwd = tmp();
    expect(cli(['sweep', 'toy', ...TINY, '--methods', 'bptt', '--workers', '1'], cwd).code).toBe(0);
    const pattern = /--out <dir> output directory \(default (\S+?)[;)]/.exec(help('sweep'))?.[1];
    expect(existsSync(join(cwd, pattern!.replace('<task>', 'toy'), 'sweep.json')), `${pattern} from the help`).toBe(true);
  });
});

describe('plot of several directories', () => {
  it('needs --out (exit 2, naming it) and writes into none of them', () => {
    const a = tmp();
    const b = tmp();
    const r = cli(['plot', a, b]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out is missing, expected given when plotting several directories/);
    expect(existsSync(join(a, 'plots'))).toBe(false);
    expect(cli(['plot', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/required with several/);
  });

  it('--force knows every figure plot writes', () => {
    expect([...FIGURE_FILES].sort()).toEqual(Object.values(FIGURE_NAMES).flatMap((n) => [`${n}.svg`, `${n}.png`]).sort());
  });
});
