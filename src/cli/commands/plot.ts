/**
 * `bplambda plot DIR… [--out DIR]`: SVG and PNG figures of run or sweep directories (one figure per task). One
 * directory: the figures go into DIR/plots by default. Several: --out is required (a figure of several
 * directories belongs to none of them).
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';
import type { StoredRun } from '../../experiments/files.js';
import { PLOTS_DIR } from '../../experiments/outDir.js';
import { withInputErrors } from '../errors.js';

/**
 * Fail before any work when --plot cannot draw: the plotting packages are optional peer dependencies
 * (MissingPackageError with the install command when one is absent).
 */
export const checkPlotting = async (): Promise<void> => {
  const { loadPlotting } = await import('../../plot/plot.js');
  await loadPlotting();
};

/** Render the figures of runs into DIR/plots (the files of sweep --plot and collect --plot); returns lines to print. */
export const plotInto = async (runs: readonly StoredRun[], dir: string): Promise<string[]> => {
  // Loaded on demand: vega and resvg are only needed here.
  const { plotRuns } = await import('../../plot/plot.js');
  const figures = await plotRuns(runs, join(dir, PLOTS_DIR));
  return figures.map((f) => `plot: ${resolve(f.png)} (and ${f.svg})`);
};

/** Where `plot` writes: --out, or the one directory's plots/; several directories need --out. */
export const plotOutDir = (dirs: readonly string[], out: string | undefined): string => {
  if (out !== undefined) return out;
  if (dirs.length > 1)
    throw new InvalidInputError('--out', `given when plotting several directories (the figures of ${dirs.length} directories belong to none of them)`, 'is missing');
  return join(dirs[0]!, PLOTS_DIR);
};

export const registerPlot = (program: Command): void => {
  program
    .command('plot')
    .description('render SVG and PNG plots of runs: alignment (toy), learning curves (seq-MNIST), curriculum progress (copy-repeat)')
    .argument('<dirs...>', 'run directories, or directories of runs (a sweep)')
    .option('--out <dir>', `where to write the figures (default with one directory: <dir>/${PLOTS_DIR}; required with several)`)
    .action(
      withInputErrors('bplambda plot', async (dirs: string[], opts: { out?: string }) => {
        const out = plotOutDir(dirs, opts.out);
        const { plotDirs } = await import('../../plot/plot.js');
        const figures = await plotDirs(dirs, out);
        for (const f of figures) process.stdout.write(`${f.task}: ${f.runs} run${f.runs === 1 ? '' : 's'} → ${resolve(f.png)} and ${resolve(f.svg)}\n`);
      }),
    );
};
