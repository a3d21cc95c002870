/**
 * Importing the package never loads gpu.js. Each case runs in a fresh Node process: it imports a built entry
 * point (dist/, made by `npm test`'s build step) and then lists the modules of node_modules/gpu.js in the
 * CommonJS module cache (gpu.js is CommonJS, so both `require` and `import` of it land there). Two controls show
 * the check can fail: importing gpu.js directly, and starting the gpu.js backend, are both detected.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p: string) => join(root, 'dist', 'src', p);

const PROBE = `
import Module from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';
const [entry, control, gpuEntry] = process.argv.slice(1);
await import(pathToFileURL(entry).href);
if (control === 'import-gpujs') await import('gpu.js');
if (control === 'start-backend') (await import(pathToFileURL(gpuEntry).href)).gpujsBackend({ mode: 'cpu' }).destroy();
const marker = sep + 'node_modules' + sep + 'gpu.js' + sep;
process.stdout.write(JSON.stringify(Object.keys(Module._cache).filter((p) => p.includes(marker))));
`;

/** Paths of gpu.js modules loaded after importing `entry` (and running the control). */
const gpujsModulesAfter = (entry: string, control = 'none'): string[] => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (npm test does)`);
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, entry, control, dist('backends/gpu/index.js')], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as string[];
};

describe('gpu.js stays out of the package root', () => {
  it("importing 'bplambda' (dist/src/index.js) loads no module of gpu.js", () => {
    expect(gpujsModulesAfter(dist('index.js'))).toEqual([]);
  });
  it('nor do the backends and engine entry points, nor the gpu subpath until a gpu.js backend is started', () => {
    expect(gpujsModulesAfter(dist('backends/index.js'))).toEqual([]);
    expect(gpujsModulesAfter(dist('engine/index.js'))).toEqual([]);
    expect(gpujsModulesAfter(dist('backends/gpu/index.js'))).toEqual([]);
  });
  it('control: the check sees gpu.js when it is imported or when the gpu.js backend starts', () => {
    expect(gpujsModulesAfter(dist('index.js'), 'import-gpujs').length).toBeGreaterThan(0);
    expect(gpujsModulesAfter(dist('index.js'), 'start-backend').length).toBeGreaterThan(0);
  });
});
