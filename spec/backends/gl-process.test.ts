/**
 * headless-gl and Dawn's OpenGL ES adapter in one Node process (src/backends/gpu/glProcess.ts): whichever starts
 * second is refused with a BackendUnavailableError saying why and what to do, never a crash (after Dawn's EGL, a
 * headless-gl context ended the process with an X error) or a misleading "no adapter". Each order runs in a child
 * process of the built package, since either start taints the process that makes it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gpuIndex, headlessglUnavailable } from '../../test-support/headlessgl.js';
import { webgpuUnavailable } from '../../test-support/webgpu.js';

const START = {
  webgpu: "const w = await g.startGpujsBackend({ mode: 'webgpu', webgpuAdapter: 'opengles' }); w.destroy();",
  headlessgl: "g.gpujsBackend({ mode: 'headlessgl' }).destroy();",
};
/** Start `first`, then try `second`; print what the second gave (its reason, or 'started'). */
const inOrder = (first: keyof typeof START, second: keyof typeof START) =>
  spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const g = await import(${JSON.stringify(gpuIndex)}); ${START[first]}
try { ${START[second]} process.stdout.write('started'); } catch (e) { process.stdout.write(e.constructor.name + ': ' + e.message); }`],
    { encoding: 'utf8', env: { ...process.env, BPLAMBDA_WEBGPU_ADAPTER: 'opengles' } },
  );

const missing = [await webgpuUnavailable(), headlessglUnavailable()].filter((r) => r !== null);

describe.skipIf(missing.length > 0)(`one GL per process${missing.length > 0 ? ` (cannot start both here: ${missing.join('; ')})` : ''}`, () => {
  it("headless-gl after Dawn's OpenGL ES adapter is refused, naming the conflict and the remedy (the process lives on)", () => {
    const r = inOrder('webgpu', 'headlessgl');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^BackendUnavailableError: backend gpujs \(mode 'headlessgl'\) cannot start: Dawn's OpenGL ES adapter .* has run in this process/);
    expect(r.stdout).toMatch(/separate processes.*'vulkan'/);
  });
  it("Dawn's OpenGL ES adapter after headless-gl is refused, naming the conflict, not 'no adapter' with an install hint", () => {
    const r = inOrder('headlessgl', 'webgpu');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^BackendUnavailableError: backend gpujs \(mode 'webgpu'\) cannot start: headless-gl has run in this process/);
    expect(r.stdout).not.toMatch(/npm install webgpu/);
  });
});
