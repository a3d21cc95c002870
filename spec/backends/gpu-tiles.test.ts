/**
 * The gpu.js backend's tiled traces (src/backends/gpu/index.ts, `maxTileElements`): a trace split into tiles of
 * whole examples gives what the untiled one gives, the trace kernels reading each tile's J, s and δ at its offset
 * (src/backends/gpu/kernels.ts, B0), for the modes that run here ('webgpu' where it starts).
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import type { Backend, DeviceArray } from '../../src/backends/backend.js';
import { BackendUnavailableError } from '../../src/backends/errors.js';
import { type GpujsMode, startGpujsBackend } from '../../src/backends/gpu/index.js';
import { boundRatio, down, randomData } from './support.js';

const [B, R, n] = [5, 3, 2];
const P = R * n + R;

/** Two trace steps (set, then update with J and the contraction fused) and a contraction; the trace and both contractions, read back. */
const steps = async (be: Backend): Promise<Float64Array[]> => {
  const up = (seed: number, shape: number[]): DeviceArray => be.upload(ndarray(randomData(seed, shape.reduce((a, b) => a * b, 1)), shape));
  const E = be.allocTrace(B, R, P);
  const [s1, s2, J, d] = [up(1, [B, n]), up(2, [B, n]), up(3, [B, R, R]), up(4, [B, R])];
  const [c1, c2] = [be.alloc([P]), be.alloc([P])];
  be.traceUpdate(E, null, 0, { kind: 'linear', input: s1 });
  be.traceUpdate(E, J, 0.8, { kind: 'linear', input: s2 }, { delta: d, out: c1 });
  be.traceContract(c2, d, E);
  return [await down(be, E), await down(be, c1), await down(be, c2)];
};

const MODES: readonly GpujsMode[] = ['cpu', 'webasm', 'webgpu'];

describe.each(MODES)('gpujs %s: tiled traces', (mode) => {
  it('tiles of 2 examples and of 1 give the untiled trace and contractions', async (ctx) => {
    let whole: Backend;
    try {
      whole = (await startGpujsBackend({ mode })) as Backend;
    } catch (e) {
      if (e instanceof BackendUnavailableError) return ctx.skip(`cannot start here: ${e.reason}`);
      throw e;
    }
    try {
      const ref = await steps(whole);
      for (const perTile of [2, 1]) {
        const tiled = (await startGpujsBackend({ mode, maxTileElements: perTile * R * P })) as Backend;
        try {
          const got = await steps(tiled);
          // Tiling changes only the order of the contraction's sum over examples: B rounded terms of size ≤ R·4.
          got.forEach((x, i) => expect(boundRatio(x, ref[i]!, whole.epsilon, 2 * B, 4 * R), `output ${i}, ${perTile} per tile`).toBeLessThanOrEqual(1));
        } finally {
          tiled.destroy();
        }
      }
    } finally {
      whole.destroy();
    }
  });
});
