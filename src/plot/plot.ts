/** Plot stored runs: one figure per task (SVG and PNG) in an output directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StoredRun, findRunDirs, readRun } from '../experiments/files.js';
import { loadPlotting, renderSvg, svgToPng } from './render.js';
import { taskSpec } from './specs.js';

export const FIGURE_NAMES: Readonly<Record<string, string>> = {
  toy: 'toy-alignment',
  'seq-mnist': 'seq-mnist-learning-curves',
  'copy-repeat': 'copy-repeat-curriculum',
};

export interface Figure {
  readonly task: string;
  readonly svg: string;
  readonly png: string;
  readonly runs: number;
}

export { loadPlotting } from './render.js';

/**
 * Render the figures of runs grouped by task into `outDir`; returns the files written. Without the plotting
 * packages (optional peer dependencies) it throws MissingPackageError before writing anything.
 */
export const plotRuns = async (runs: readonly StoredRun[], outDir: string): Promise<Figure[]> => {
  await loadPlotting();
  mkdirSync(outDir, { recursive: true });
  const byTask = new Map<string, StoredRun[]>();
  for (const r of runs) byTask.set(r.config.task, [...(byTask.get(r.config.task) ?? []), r]);
  const out: Figure[] = [];
  for (const [task, rs] of byTask) {
    const svg = await renderSvg(taskSpec(task, rs));
    const name = FIGURE_NAMES[task] ?? task;
    const svgPath = join(outDir, `${name}.svg`);
    const pngPath = join(outDir, `${name}.png`);
    writeFileSync(svgPath, svg);
    writeFileSync(pngPath, await svgToPng(svg));
    out.push({ task, svg: svgPath, png: pngPath, runs: rs.length });
  }
  return out;
};

export const plotDirs = async (paths: readonly string[], outDir: string): Promise<Figure[]> => {
  await loadPlotting();
  return plotRuns(findRunDirs(paths).map(readRun), outDir);
};
