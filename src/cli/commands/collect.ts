/**
 * `bplambda collect [DIR…] [--jobs FILE] [--out DIR] [--plot]`: the result of a sweep whose runs trained as
 * separate jobs (`sweep --emit-jobs`), printed and written exactly as the in-process sweep does: the caption and
 * table on stdout, OUT/sweep.json, OUT/results.md and, with --plot, OUT/plots. Every expected run that is missing
 * or failed is named on stderr; the exit code is then 1 and nothing is written (the table of the finished runs is
 * still printed).
 */
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';
import { collectRuns } from '../../experiments/collect.js';
import { jobsFileDirs } from '../../experiments/jobs.js';
import { isRunDir } from '../../experiments/outDir.js';
import { methodChoiceOf, methodKey, sweepTableText, writeSweepFiles } from '../../experiments/sweepResults.js';
import { readInputFile } from '../../io/files.js';
import { withInputErrors } from '../errors.js';
import { checkPlotting, plotInto } from './plot.js';

/** Where collect writes: --out; else the sweep directory (the one directory of runs given, or the jobs' parent). */
const outDirOf = (dirs: readonly string[], jobsDirs: readonly string[], out: string | undefined): string => {
  if (out !== undefined) return out;
  const sweeps = [...dirs.filter((d) => !isRunDir(d)), ...jobsDirs.map((d) => dirname(d))];
  if (new Set(sweeps.map((d) => resolve(d))).size === 1 && !dirs.some(isRunDir)) return sweeps[0]!;
  throw new InvalidInputError('--out', 'given unless one sweep directory is collected (the directory of runs given, or the one directory of the jobs file)', 'is missing');
};

export const registerCollect = (program: Command): void => {
  program
    .command('collect')
    .description('the result table and files of a sweep whose runs trained as separate jobs (sweep --emit-jobs), naming every run missing or failed')
    .argument('[dirs...]', 'a sweep directory (its runs and the gaps in its grid of methods × seeds), or run directories')
    .option('--jobs <file>', 'the jobs file of sweep --emit-jobs: every run it lists is expected, in its order')
    .option('--out <dir>', 'where to write sweep.json, results.md and plots/ (default: the sweep directory collected)')
    .option('--plot', 'render the figure into OUT/plots (SVG and PNG)')
    .action(
      withInputErrors('bplambda collect', async (dirs: string[], opts: { jobs?: string; out?: string; plot?: boolean }) => {
        const jobsDirs = opts.jobs === undefined ? [] : jobsFileDirs(readInputFile(opts.jobs), opts.jobs);
        if (dirs.length === 0 && jobsDirs.length === 0) throw new InvalidInputError('<dirs>', 'a sweep or run directory, or --jobs FILE', 'are missing');
        const out = outDirOf(dirs, jobsDirs, opts.out);
        if (opts.plot === true) await checkPlotting();
        const { runs, problems, expected, differing } = collectRuns(dirs, jobsDirs);
        if (differing.length > 0)
          process.stderr.write(`bplambda collect: warning: the runs differ in ${differing.join(', ')} (not only in the method and the seed), and are tabulated together\n`);
        if (runs.length > 0) process.stdout.write(sweepTableText(runs));
        if (problems.length > 0) {
          process.stderr.write(`bplambda collect: ${problems.length} of ${expected} runs missing or failed; nothing written:\n`);
          for (const p of problems) process.stderr.write(`  ${p.kind.padEnd(7)} ${p.dir}: ${p.reason}\n`);
          process.exitCode = 1;
          return;
        }
        const first = runs[0]!.config;
        const seeds = [...new Set(runs.map((r) => r.config.seed))];
        const methods = [...new Set(runs.map((r) => methodKey(methodChoiceOf(r.config))))];
        const summaries = runs.map((r) => r.summary);
        writeSweepFiles(out, runs, { task: first.task, preset: first.preset, seeds, methods, workers: null, seconds: null, summaries, collectedFrom: [...dirs, ...(opts.jobs === undefined ? [] : [opts.jobs])] });
        process.stdout.write(`${runs.length} runs collected; results in ${out}\n`);
        if (opts.plot === true) for (const line of await plotInto(runs, out)) process.stdout.write(`${line}\n`);
      }),
    );
};
