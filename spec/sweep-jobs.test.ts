/**
 * Sweeps on a scheduler, through the built CLI (`npm run build` first): `sweep --emit-jobs` piped to GNU parallel,
 * then `collect`, gives the table, results.md, sweep.json and run directories of the in-process sweep with the same
 * options (everything but the measured seconds and the threads each run had); `collect` names every run that is
 * missing or failed and exits 1. Reported skipped, with the reason, where GNU parallel is not installed (.ci/run
 * installs it). The quoting of the command lines is checked against bash itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { shellQuote, shellWords } from '../src/experiments/jobs.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');
// The emitted lines call `node`: the one running these tests comes first on the PATH.
const env = { ...process.env, CI: '1', PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` };

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const bash = (script: string) => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const hasParallel = spawnSync('parallel', ['--version'], { encoding: 'utf8' }).status === 0;

/** A table's lines without its last column, the measured seconds (the text table's lines are of equal length). */
const withoutSeconds = (table: string): string[] => {
  const lines = table.trim().split('\n');
  expect(lines[0]).toMatch(/seconds( \|)?$/);
  if (lines[0]!.startsWith('|')) return lines.map((l) => l.replace(/\|[^|]*\|$/, '|'));
  const last = lines[1]!.split('   ').at(-1)!.length;
  return lines.map((l) => l.slice(0, l.length - last));
};

/** The caption and the table a sweep or collect prints. */
const printed = (stdout: string): { caption: string; table: string } => {
  const [caption, table] = stdout.trim().split('\n\n');
  return { caption: caption!, table: table! };
};

const GRID = ['toy', '--preset', 'smoke', '--methods', 'bp-lambda:0,bp-lambda:1', '--seeds', '0,1'];
const RUNS = ['bp-lambda-0-seed0', 'bp-lambda-0-seed1', 'bp-lambda-1-seed0', 'bp-lambda-1-seed1'];

const name = hasParallel
  ? 'sweep --emit-jobs | parallel, then collect (GNU parallel)'
  : 'sweep --emit-jobs | parallel, then collect (skipped: GNU parallel is not installed; apt-get install parallel)';

describe.skipIf(!hasParallel)(name, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bplambda-jobs-'));
  // A directory name the shell would split and unquote: the command lines must quote it.
  const jobsOut = join(tmp, "jobs 'sweep'");
  const inProcess = join(tmp, 'in-process');

  it('gives the table, files and runs of the in-process sweep', () => {
    const sweep = cli('sweep', ...GRID, '--out', inProcess);
    expect(sweep.code, sweep.stderr).toBe(0);
    const emitted = bash(`${shellQuote(process.execPath)} ${shellQuote(main)} sweep ${GRID.join(' ')} --out ${shellQuote(jobsOut)} --emit-jobs | parallel -j 2 --halt now,fail=1`);
    expect(emitted.code, emitted.stderr).toBe(0);
    const collected = cli('collect', jobsOut);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toMatch(/4 runs collected/);

    // The caption and the table, apart from the seconds.
    const a = printed(sweep.stdout);
    const b = printed(collected.stdout);
    expect(b.caption).toBe(a.caption);
    expect(b.table).toMatch(/BP\(0\)\s+0,1/);
    expect(withoutSeconds(b.table)).toEqual(withoutSeconds(a.table));
    expect(withoutSeconds(readFileSync(join(jobsOut, 'results.md'), 'utf8'))).toEqual(withoutSeconds(readFileSync(join(inProcess, 'results.md'), 'utf8')));

    // Each run: the same config.json, summary and metrics but for the seconds and the threads the backend ran on.
    const measured = (s: Record<string, unknown>) => {
      const { seconds: _s, threads: _t, ...rest } = s;
      return rest;
    };
    const config = (d: string, run: string) => {
      const c = JSON.parse(readFileSync(join(d, run, 'config.json'), 'utf8'));
      return { ...c, backend: measured(c.backend) };
    };
    for (const run of RUNS) {
      expect(config(jobsOut, run)).toEqual(config(inProcess, run));
      const summary = (d: string) => measured(JSON.parse(readFileSync(join(d, run, 'summary.json'), 'utf8')));
      expect(summary(jobsOut)).toEqual(summary(inProcess));
      const metrics = (d: string) => readFileSync(join(d, run, 'metrics.csv'), 'utf8').split('\n').map((l) => l.replace(/,[^,]*$/, ''));
      expect(metrics(jobsOut)).toEqual(metrics(inProcess));
    }
    const sweepJson = (d: string) => {
      const j = JSON.parse(readFileSync(join(d, 'sweep.json'), 'utf8'));
      return { task: j.task, preset: j.preset, seeds: j.seeds, summaries: j.summaries.map(measured) };
    };
    expect(sweepJson(jobsOut)).toEqual(sweepJson(inProcess));
  });

  it('names the runs missing or failed, exits 1 and writes nothing', () => {
    expect(existsSync(join(jobsOut, RUNS[3]!, 'summary.json')), 'the first test made the runs').toBe(true);
    rmSync(join(jobsOut, 'sweep.json'));
    rmSync(join(jobsOut, RUNS[3]!, 'summary.json')); // a run that failed or was stopped
    rmSync(join(jobsOut, RUNS[0]!), { recursive: true }); // a job that never ran
    const r = cli('collect', jobsOut);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 of 4 runs missing or failed/);
    expect(r.stderr).toMatch(new RegExp(`missing +.*${RUNS[0]}: no such directory`));
    expect(r.stderr).toMatch(new RegExp(`failed +.*${RUNS[3]}: no summary\\.json`));
    expect(r.stderr).toMatch(/it has a checkpoint: bplambda run toy --resume/);
    expect(existsSync(join(jobsOut, 'sweep.json'))).toBe(false);

    // With the jobs file every line is expected, whatever the directory holds.
    const jobs = join(tmp, 'jobs.txt');
    writeFileSync(jobs, cli('sweep', ...GRID, '--out', join(tmp, 'elsewhere'), '--emit-jobs').stdout);
    const byJobs = cli('collect', '--jobs', jobs);
    expect(byJobs.code).toBe(1);
    expect(byJobs.stderr).toMatch(/4 of 4 runs missing or failed/);
    for (const run of RUNS) expect(byJobs.stderr).toContain(join(tmp, 'elsewhere', run));
  });
});

describe('sweep --emit-jobs: the command lines', () => {
  it('a word quoted for the shell is that word again, in bash and in the jobs-file reader', () => {
    const nasty = ["it's", 'a b', '$HOME', '`x`', '"q"', 'back\\slash', '', '*', 'λ=0.5', '-x', 'tab\there', "a'b'c"];
    const r = bash(`printf '%s\\n' ${nasty.map(shellQuote).join(' ')}`);
    expect(r.stdout.split('\n').slice(0, -1)).toEqual(nasty.filter((w) => !w.includes('\n')));
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), (words) => {
        expect(shellWords(words.map(shellQuote).join(' '))).toEqual(words);
      }),
    );
  });

  it('carry every option of the sweep, one line per run, and write nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bplambda-emit-')), 'sweep');
    const r = cli('sweep', 'toy', '--preset', 'smoke', '--methods', 'bp-lambda:0.5,sg:2,bptt', '--seeds', '3,4', '--steps', '7', '--synth-clip', 'Infinity', '--line-drawing', '--threads', '1', '--out', out, '--emit-jobs', '--bin', 'bplambda');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(line).toMatch(/^bplambda run toy --preset smoke --steps 7 --synth-clip Infinity --line-drawing --threads 1 --method /);
      expect(line).toMatch(/ --force$/);
    }
    expect(lines[0]).toContain(`--method bp-lambda --lambda 0.5 --seed 3 --out ${join(out, 'bp-lambda-0.5-seed3')}`);
    expect(lines[3]).toContain(`--method sg --n 2 --seed 4 --out ${join(out, 'sg-2-seed4')}`);
    expect(lines[5]).toContain(`--method bptt --seed 4 --out ${join(out, 'bptt-seed4')}`);
    expect(r.stderr).toMatch(/6 jobs.*bplambda collect/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuse what cannot go with them, and a non-empty --out', () => {
    for (const [args, message] of [
      [['--workers', '2'], /--workers is given, expected not given with --emit-jobs/],
      [['--plot'], /--plot is given, expected not given with --emit-jobs .*collect/],
    ] as const) {
      const r = cli('sweep', 'toy', '--emit-jobs', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const bin = cli('sweep', 'toy', '--bin', 'bplambda');
    expect(bin.code).toBe(2);
    expect(bin.stderr).toMatch(/--bin is given without it, expected given only with --emit-jobs/);
    const full = mkdtempSync(join(tmpdir(), 'bplambda-emit-'));
    writeFileSync(join(full, 'notes.txt'), 'mine');
    const busy = cli('sweep', 'toy', '--emit-jobs', '--out', full);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/--out is '.*', which holds 1 entry \(notes\.txt\), expected a new or empty directory/);
    expect(busy.stdout).toBe('');
    expect(readdirSync(full)).toEqual(['notes.txt']);
  });
});

describe('the scheduler examples (examples/jobs) run the line of their index', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bplambda-examples-'));
  const out = join(tmp, 'sweep');
  const jobs = join(tmp, 'jobs.txt');
  beforeAll(() => writeFileSync(jobs, cli('sweep', ...GRID, '--steps', '3', '--out', out, '--emit-jobs').stdout));
  const summaries = () => RUNS.filter((r) => existsSync(join(out, r, 'summary.json')));
  /** The runs that a command finished. */
  const added = (f: () => void): string[] => {
    const before = summaries();
    f();
    return summaries().filter((r) => !before.includes(r));
  };

  it('Slurm: array task i runs line i (sed, from the submission directory)', () => {
    const slurm = (index: string) => spawnSync('bash', [join(root, 'examples/jobs/slurm.sbatch'), jobs], { cwd: root, encoding: 'utf8', env: { ...env, SLURM_ARRAY_TASK_ID: index, SLURM_SUBMIT_DIR: tmp } });
    expect(added(() => expect(slurm('2').status).toBe(0))).toEqual([RUNS[1]]);
    const past = slurm('5');
    expect(past.status).toBe(2);
    expect(past.stderr).toMatch(/no line 5/);
  });

  it('Kubernetes: the pod of JOB_COMPLETION_INDEX i runs line i + 1', () => {
    const yaml = readFileSync(join(root, 'examples/jobs/k8s-indexed-job.yaml'), 'utf8');
    expect(yaml).toMatch(/completionMode: Indexed/);
    // The container's script: the block under `args: - |`, with the jobs file where the ConfigMap would be mounted.
    const block = /args:\n\s*- \|\n((?:\s{14}.*\n)+)/.exec(yaml)?.[1];
    expect(block).toBeDefined();
    const script = block!.replace(/^ {14}/gm, '').replaceAll('/jobs/jobs.txt', jobs);
    const pod = (index: string) => spawnSync('bash', ['-c', script], { cwd: tmp, encoding: 'utf8', env: { ...env, JOB_COMPLETION_INDEX: index } });
    expect(added(() => expect(pod('2').status).toBe(0))).toEqual([RUNS[2]]);
  });
});
