/**
 * `bplambda bench --task toy|seq-mnist|copy-repeat [--backend NAME] [--method NAME] [--computation NAME]
 * [--mode full|cell] [--schedule sequence|step] [--batches N] [--warmup N] [--batch N] [--json]`: time training batches of one method of a
 * task's paper preset on one backend (src/experiments/bench.ts). Timings depend on the machine's load.
 */
import { type Command, Option } from 'commander';
import { BackendUnavailableError } from '../../backends/errors.js';
import { InvalidInputError } from '../../core/errors.js';
import { type BenchOptions, type BenchResult, runBench } from '../../experiments/bench.js';
import { BACKENDS, METHODS, TASKS, oneOf } from '../../experiments/config.js';
import { BP_LAMBDA_MODES } from '../../core/modes.js';
import { SCHEDULES } from '../../core/learner.js';
import { COMPUTATIONS } from '../../engine/trainer.js';
import { checkThreads } from '../../backends/registry.js';
import { EXIT_BACKEND_UNAVAILABLE, withInputErrors } from '../errors.js';
import { THREADS_HELP, refuseEngine, threadsOption } from './run.js';

const fmt = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));

export const benchLine = (r: BenchResult): string =>
  `${r.task.padEnd(11)} ${`${r.backend} (${r.mode}, f${r.precision}${r.adapter === null ? '' : `, ${r.adapter.device}`})`.padEnd(32)} ${`${r.method}${r.synthMode === null ? '' : ` ${r.synthMode}`} ${r.computation ?? ''}${r.schedule === 'step' ? ' per-step' : ''}`.padEnd(26)} ` +
  `B${r.batch} H${r.hidden} T${r.steps}, ${r.threads} thread${r.threads === 1 ? '' : 's'}: ${fmt(r.msPerBatch)} ms/batch, ${fmt(r.msPerStep, 2)} ms/step, ` +
  `trace ${fmt(r.gflops, 2)} GFLOP/s, products ${fmt(r.denseGflops, 2)} GFLOP/s (${r.denseShare === null ? '—' : `${(100 * r.denseShare).toFixed(0)}%`} of the time), ` +
  `peak ${fmt(r.peakRssMB, 0)} MB RSS (${fmt(r.backendPeakMB, 0)} MB in the backend)`;

const positiveInt = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(name, 'a positive integer', `is '${v}'`);
  return n;
};

export const registerBench = (program: Command): void => {
  program
    .command('bench')
    .description("time training batches of a task's paper preset on one backend")
    .requiredOption('--task <task>', TASKS.join(' | '))
    .option('--backend <name>', `${BACKENDS.join(' | ')} (default cpu-f32; gpujs-* compute in float32 on one thread, see docs/gpu.md; one that cannot start here exits with code 3)`)
    .option('--method <name>', `${METHODS.join(' | ')} (default bp-lambda)`)
    .option('--computation <name>', "BP(λ)'s computation: traces (default; the authors' per-step clip) | forward-view (the clip off)")
    .addOption(new Option('--engine <name>', 'renamed --computation').hideHelp())
    .option('--mode <mode>', "BP(λ)'s synthesiser mode (default: the preset's; cell on the LSTM tasks) | full")
    .option('--schedule <name>', "BP(λ)'s parameter updates: sequence (once per batch; default) | step (every time step)")
    .option('--batches <n>', 'timed batches (default 3)')
    .option('--warmup <n>', 'untimed batches first (default 1)')
    .option('--batch <n>', "override the preset's batch size")
    .option('--threads <n>', THREADS_HELP)
    .option('--json', 'print the result as JSON')
    .action(
      withInputErrors('invalid bench option', async (opts: Record<string, string | boolean | undefined>) => {
        refuseEngine(opts['engine']);
        const o: BenchOptions = {
          task: oneOf('--task', opts['task'], TASKS, 'task'),
          backend: oneOf('--backend', opts['backend'] ?? 'cpu-f32', BACKENDS),
          method: oneOf('--method', opts['method'] ?? 'bp-lambda', METHODS, 'method'),
          computation: oneOf('--computation', opts['computation'] ?? 'traces', COMPUTATIONS, 'computation'),
          ...(opts['mode'] === undefined ? {} : { mode: oneOf('--mode', opts['mode'], BP_LAMBDA_MODES) }),
          ...(opts['schedule'] === undefined ? {} : { schedule: oneOf('--schedule', opts['schedule'], SCHEDULES, 'schedule') }),
          batches: positiveInt('--batches', opts['batches'] as string | undefined) ?? 3,
          warmup: opts['warmup'] === '0' ? 0 : (positiveInt('--warmup', opts['warmup'] as string | undefined) ?? 1),
          ...(opts['batch'] === undefined ? {} : { batch: positiveInt('--batch', opts['batch'] as string)! }),
        };
        const threads = threadsOption(opts['threads']);
        const oo: BenchOptions = threads === undefined ? o : { ...o, threads };
        if (o.computation === 'forward-view' && o.method !== 'bp-lambda')
          throw new InvalidInputError('--computation', "'traces' (or left out) for methods other than bp-lambda", "is 'forward-view'");
        if (o.schedule !== undefined && o.method !== 'bp-lambda')
          throw new InvalidInputError('--schedule', 'left out for methods other than bp-lambda', `is '${o.schedule}'`);
        checkThreads(o.backend, threads, '--threads');
        let r: BenchResult;
        try {
          r = await runBench(oo);
        } catch (e) {
          if (e instanceof BackendUnavailableError) {
            process.stderr.write(`bplambda bench: ${e.message}\n`);
            process.exitCode = EXIT_BACKEND_UNAVAILABLE;
            return;
          }
          throw e;
        }
        process.stdout.write(opts['json'] === true ? `${JSON.stringify(r)}\n` : `${benchLine(r)}\n`);
      }),
    );
};
