/** `bplambda plot DIR… [--out DIR]`: SVG and PNG figures of run or sweep directories (one figure per task). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { withInputErrors } from '../errors.js';

export const registerPlot = (program: Command): void => {
  program
    .command('plot')
    .description('render SVG and PNG plots of runs: alignment (toy), learning curves (seq-MNIST), curriculum progress (copy-repeat)')
    .argument('<dirs...>', 'run directories, or directories of runs (a sweep)')
    .option('--out <dir>', 'where to write the figures (default: <first dir>/plots)')
    .action(
      withInputErrors('bplambda plot', async (dirs: string[], opts: { out?: string }) => {
        const out = opts.out ?? `${dirs[0]!.replace(/\/+$/, '')}/plots`;
        // Loaded on demand: vega and resvg are only needed here.
        const { plotDirs } = await import('../../plot/plot.js');
        const figures = await plotDirs(dirs, out);
        for (const f of figures) process.stdout.write(`${f.task}: ${f.runs} run${f.runs === 1 ? '' : 's'} → ${resolve(f.png)} and ${resolve(f.svg)}\n`);
      }),
    );
};
