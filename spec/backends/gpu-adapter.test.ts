/**
 * The adapter a gpu.js backend reports (src/backends/gpu/adapter.ts): the cpu and webasm modes say plainly that
 * gpu.js emulates the kernels on the CPU; a WebGL context's unmasked renderer and vendor are preferred to its
 * RENDERER and VENDOR, and the kind follows from the renderer's name, 'unknown' when the name does not tell.
 */
import { describe, expect, it } from 'vitest';
import { adapterKind, glAdapter, gpujsAdapter } from '../../src/backends/gpu/adapter.js';
import { gpujsBackend } from '../../src/backends/gpu/index.js';

/** A WebGL context that answers these parameters (by number) and has the debug extension or not. */
const fakeGl = (params: Record<number, string>, debug: boolean) => ({
  getParameter: (p: number): unknown => params[p] ?? null,
  getExtension: (name: string): unknown => (debug && name === 'WEBGL_debug_renderer_info' ? {} : null),
});
const VENDOR = 0x1f00;
const RENDERER = 0x1f01;
const UNMASKED_VENDOR = 0x9245;
const UNMASKED_RENDERER = 0x9246;

describe('gpu.js adapters', () => {
  it('the emulating modes say what they are', () => {
    expect(gpujsAdapter('cpu', null)).toEqual({ vendor: 'gpu.js', device: 'JavaScript (gpu.js cpu mode)', kind: 'software' });
    expect(gpujsAdapter('webasm', null)).toEqual({ vendor: 'gpu.js', device: 'WebAssembly (gpu.js webasm mode)', kind: 'software' });
  });

  it('a GL context gives its unmasked renderer and vendor where it has the debug extension, else RENDERER and VENDOR', () => {
    const params = { [VENDOR]: 'WebKit', [RENDERER]: 'WebKit WebGL', [UNMASKED_VENDOR]: 'NVIDIA Corporation', [UNMASKED_RENDERER]: 'NVIDIA H200/PCIe/SSE2' };
    expect(gpujsAdapter('webgl2', fakeGl(params, true))).toEqual({ vendor: 'NVIDIA Corporation', device: 'NVIDIA H200/PCIe/SSE2', kind: 'hardware' });
    expect(glAdapter(fakeGl(params, false))).toEqual({ vendor: 'WebKit', device: 'WebKit WebGL', kind: 'unknown' });
    // headless-gl names itself ANGLE: nothing to tell software from hardware.
    expect(glAdapter(fakeGl({ [VENDOR]: 'stack.gl', [RENDERER]: 'ANGLE' }, false))).toEqual({ vendor: 'stack.gl', device: 'ANGLE', kind: 'unknown' });
    expect(glAdapter(fakeGl({}, true))).toEqual({ vendor: 'unknown', device: 'unknown', kind: 'unknown' });
    expect(gpujsAdapter('headlessgl', undefined)).toEqual({ vendor: 'unknown', device: 'unknown', kind: 'unknown' });
  });

  it.each([
    ['llvmpipe (LLVM 15.0.6, 256 bits)', 'software'],
    ['ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', 'software'],
    ['Mesa Intel(R) UHD Graphics 620 (KBL GT2)', 'hardware'],
    ['AMD Radeon Pro 5500M OpenGL Engine', 'hardware'],
    ['NVIDIA GeForce RTX 2080 Ti/PCIe/SSE2', 'hardware'],
    ['ANGLE', 'unknown'],
  ] as const)('%s is %s', (renderer, kind) => {
    expect(adapterKind(renderer)).toBe(kind);
  });

  it('the backend reports the adapter of the mode it runs', () => {
    for (const mode of ['cpu', 'webasm'] as const) {
      const b = gpujsBackend({ mode });
      try {
        expect(b.mode).toBe(mode);
        expect(b.adapter).toEqual(gpujsAdapter(mode, null));
        expect(b.threads).toBe(1);
      } finally {
        b.destroy();
      }
    }
  });
});
