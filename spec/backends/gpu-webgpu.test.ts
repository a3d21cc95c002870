/**
 * gpu.js's 'webgpu' mode (src/backends/gpu/dawn.ts, src/backends/gpu/index.ts): it starts asynchronously, on the
 * adapter asked for, reports the adapter from WebGPU's adapter info, and refuses what it cannot do with typed
 * errors. Where WebGPU cannot start here (no `webgpu` package, no Mesa EGL), the cases that need it are listed as
 * skipped with the reason. The kernels themselves are held to the reference by the conformance suite
 * (spec/backends/kernels.test.ts, 'gpujs webgpu').
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { BackendArrayError, BackendUnavailableError } from '../../src/backends/errors.js';
import { webgpuAdapter } from '../../src/backends/gpu/adapter.js';
import { gpujsBackend, startGpujsBackend } from '../../src/backends/gpu/index.js';
import { backendByName, backendInfo } from '../../src/backends/registry.js';
import { webgpuUnavailable } from '../../test-support/webgpu.js';

describe('WebGPU adapter info', () => {
  it('names the device with its description, and a fallback adapter or a software renderer is software', () => {
    const llvmpipe = { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6', isFallbackAdapter: false };
    expect(webgpuAdapter(llvmpipe)).toEqual({ vendor: 'unknown', device: 'llvmpipe-llvm-15-0-6-256-bits- (OpenGL version OpenGL ES 3.2 Mesa 22.3.6)', kind: 'software' });
    expect(webgpuAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' })).toEqual({ vendor: 'nvidia', device: 'hopper (NVIDIA H200)', kind: 'hardware' });
    expect(webgpuAdapter({ vendor: 'google', device: 'x', isFallbackAdapter: true }).kind).toBe('software');
    expect(webgpuAdapter({ vendor: 'acme', device: 'Widget 9' }).kind).toBe('unknown');
    expect(webgpuAdapter(undefined)).toEqual({ vendor: 'unknown', device: 'unknown', kind: 'unknown' });
  });
});

describe('gpujs webgpu', () => {
  it('refuses a synchronous start before WebGPU has been started, saying how to start it', () => {
    expect(() => gpujsBackend({ mode: 'webgpu' })).toThrow(BackendUnavailableError);
    expect(() => gpujsBackend({ mode: 'webgpu' })).toThrow(/startGpujsBackend/);
  });

  it('refuses an adapter that Dawn does not have, with the reason and a remedy', async () => {
    const e = await startGpujsBackend({ mode: 'webgpu', webgpuAdapter: 'no adapter has this name' }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(BackendUnavailableError);
    expect((e as BackendUnavailableError).remedy).toMatch(/webgpu@/);
  });
});

/** Whether WebGPU starts here on the default adapter (the reason where it does not). */
const startable = await webgpuUnavailable();

describe.skipIf(startable !== null)(`gpujs webgpu on this machine${startable === null ? '' : ` (cannot start: ${startable})`}`, () => {
  it('backendByName starts it and reports the mode and the adapter; a second adapter choice in the process is refused', async () => {
    const b = await backendByName('gpujs-webgpu');
    try {
      const info = backendInfo('gpujs-webgpu', b);
      expect(info.mode).toBe('webgpu');
      expect(info.precision).toBe(32);
      expect(info.adapter?.device).not.toBe('unknown');
      // Once started, more backends start synchronously too (they share gpu.js's one device).
      const c = gpujsBackend({ mode: 'webgpu' });
      expect(c.adapter).toEqual(b.adapter);
      c.destroy();
      await expect(startGpujsBackend({ mode: 'webgpu', webgpuAdapter: 'some other adapter' })).rejects.toThrow(/already runs WebGPU/);
    } finally {
      b.destroy();
    }
  });

  it('readSync refuses while a kernel is pending; read waits for it; results stay on the device, and a replaced one is deleted', async () => {
    const b = await startGpujsBackend({ mode: 'webgpu' });
    try {
      const a = b.upload(ndarray(new Float64Array([0, 1, 2, 3]), [4]));
      const o = b.alloc([4]);
      /** The gpu.js value an array holds now (white box: the store's slot). */
      const value = async (x: unknown) => (await (x as { slot: { value: unknown } }).slot.value) as { type?: string; _deleted?: boolean };
      b.binary(o, a, 2, 'mul');
      const first = await value(o);
      expect(first.type).toBe('WebGPUBuffer');
      b.binary(o, o, 1, 'add');
      expect(() => b.readSync(o)).toThrow(BackendArrayError);
      expect([...(await b.read(o)).data]).toEqual([1, 3, 5, 7]);
      await new Promise((r) => setTimeout(r, 20));
      expect(first._deleted).toBe(true);
    } finally {
      b.destroy();
    }
  });
});
