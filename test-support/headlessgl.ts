/**
 * Whether gpu.js's headless-gl mode starts on this machine (docs/gpu.md, "Linux with an NVIDIA GPU, through
 * headless-gl"), with the test run's X display (test-support/x-display.ts): null if it does, else the reason it
 * cannot (its BackendUnavailableError's). Asked in a child process of the built package (dist/, made by the test
 * command first), because a headless-gl context would keep the asking process from starting Dawn's OpenGL ES
 * adapter (src/backends/gpu/glProcess.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The built gpu.js backend, for child processes (which cannot load src/ without the test runner). */
export const gpuIndex = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'src', 'backends', 'gpu', 'index.js')).href;

const PROBE = `
const { gpujsBackend } = await import(${JSON.stringify(gpuIndex)});
try { gpujsBackend({ mode: 'headlessgl' }).destroy(); process.stdout.write('null'); }
catch (e) { if (e?.reason === undefined) throw e; process.stdout.write(JSON.stringify(e.reason)); }`;

export const headlessglUnavailable = (): string | null => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the headless-gl probe failed (exit ${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string | null;
};
