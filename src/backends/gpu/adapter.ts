/**
 * The adapter a gpu.js backend runs on, as gpu.js and its context report it (docs/gpu.md, "The gpu.js backend"):
 * the cpu and webasm modes say so plainly (they emulate the kernels on the CPU); a WebGL context gives its
 * renderer and vendor strings (the unmasked ones of WEBGL_debug_renderer_info where the context has it), and the
 * kind follows from the renderer's name, 'unknown' when the name does not tell.
 */
import type { BackendAdapter } from '../backend.js';

/** WebGL's VENDOR and RENDERER, and WEBGL_debug_renderer_info's UNMASKED_VENDOR_WEBGL and UNMASKED_RENDERER_WEBGL. */
const GL = { VENDOR: 0x1f00, RENDERER: 0x1f01, UNMASKED_VENDOR: 0x9245, UNMASKED_RENDERER: 0x9246 } as const;

/** The parts of a WebGL context read here. */
export interface GlContextLike {
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
}

/** Renderers that rasterise on the CPU (Mesa's llvmpipe, softpipe and lavapipe, Google's SwiftShader, …). */
const SOFTWARE = /llvmpipe|softpipe|lavapipe|swiftshader|swrast|software|microsoft basic render/i;
/** Renderers that name a GPU maker or GPU family. */
const HARDWARE = /nvidia|geforce|quadro|tesla|\bh100\b|\bh200\b|\ba100\b|amd|radeon|ati technologies|intel|iris|uhd graphics|apple m\d|apple gpu|mali|adreno|powervr/i;

export const adapterKind = (renderer: string): BackendAdapter['kind'] => (SOFTWARE.test(renderer) ? 'software' : HARDWARE.test(renderer) ? 'hardware' : 'unknown');

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The adapter of a WebGL context: its unmasked renderer and vendor where it tells them, else RENDERER and VENDOR. */
export const glAdapter = (gl: GlContextLike): BackendAdapter => {
  const read = (p: number): string | null => {
    try {
      return text(gl.getParameter(p));
    } catch {
      return null;
    }
  };
  let debug: unknown = null;
  try {
    debug = gl.getExtension('WEBGL_debug_renderer_info');
  } catch {
    debug = null;
  }
  const vendor = (debug !== null ? read(GL.UNMASKED_VENDOR) : null) ?? read(GL.VENDOR) ?? 'unknown';
  const device = (debug !== null ? read(GL.UNMASKED_RENDERER) : null) ?? read(GL.RENDERER) ?? 'unknown';
  return { vendor, device, kind: adapterKind(device) };
};

const isGlContext = (c: unknown): c is GlContextLike =>
  typeof c === 'object' && c !== null && typeof (c as GlContextLike).getParameter === 'function' && typeof (c as GlContextLike).getExtension === 'function';

/** The adapter of a gpu.js mode actually running (`context`: the kernel's context, read in the GL modes). */
export const gpujsAdapter = (mode: string, context: unknown): BackendAdapter => {
  switch (mode) {
    case 'cpu':
      return { vendor: 'gpu.js', device: 'JavaScript (gpu.js cpu mode)', kind: 'software' };
    case 'webasm':
      return { vendor: 'gpu.js', device: 'WebAssembly (gpu.js webasm mode)', kind: 'software' };
    default:
      return isGlContext(context) ? glAdapter(context) : { vendor: 'unknown', device: 'unknown', kind: 'unknown' };
  }
};

/** The parts of WebGPU's GPUAdapterInfo read here. */
export interface WebgpuAdapterInfoLike {
  readonly vendor?: unknown;
  readonly architecture?: unknown;
  readonly device?: unknown;
  readonly description?: unknown;
  readonly isFallbackAdapter?: unknown;
}

/**
 * The adapter of a WebGPU device from its GPUAdapterInfo: the vendor, the device (with its architecture and
 * description where given; Dawn's OpenGL ES adapter names llvmpipe in `device` and Mesa in `description`), and the
 * kind: 'software' for a fallback adapter or a software renderer's name, 'hardware' for a GPU maker's name.
 */
export const webgpuAdapter = (info: WebgpuAdapterInfoLike | null | undefined): BackendAdapter => {
  const vendor = text(info?.vendor) ?? 'unknown';
  const parts = [text(info?.device), text(info?.architecture)].filter((x): x is string => x !== null);
  const description = text(info?.description);
  const device = parts.length === 0 ? (description ?? 'unknown') : `${parts.join(', ')}${description === null ? '' : ` (${description})`}`;
  const kind = info?.isFallbackAdapter === true ? 'software' : adapterKind(`${device} ${vendor}`);
  return { vendor, device, kind };
};
