/**
 * Whether gpu.js's WebGPU mode starts on this machine's default adapter (docs/gpu.md, "WebGPU in Node"): null if it
 * does, else the reason it cannot (a BackendUnavailableError's), for the tests that skip with that reason.
 */
import { BackendUnavailableError } from '../src/backends/errors.js';
import { startGpujsBackend } from '../src/backends/gpu/index.js';

export const webgpuUnavailable = (): Promise<string | null> =>
  startGpujsBackend({ mode: 'webgpu' }).then(
    (b) => {
      b.destroy();
      return null;
    },
    (e: unknown) => {
      if (e instanceof BackendUnavailableError) return e.reason;
      throw e;
    },
  );
