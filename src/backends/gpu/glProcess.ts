/**
 * In Node, Mesa's GL drivers serve a process either headless-gl (ANGLE over GLX) or Dawn's OpenGL ES adapter
 * (EGL), not both (measured with Mesa 22.3 and llvmpipe, docs/gpu.md "One GL per process"): after Dawn's EGL
 * device, headless-gl's first GLXMakeCurrent fails with BadAccess and Xlib ends the process; after a headless-gl
 * context, Dawn finds no OpenGL ES adapter. So the second of the two to start in a process is refused with a
 * BackendUnavailableError that says why, instead of a crash or a misleading "no adapter". Dawn's Vulkan adapter
 * and the browser are not concerned.
 */
import { BackendUnavailableError } from '../errors.js';

const used = { glx: false, egl: false };

const SEPARATE = "Run them in separate processes (each bplambda run or bench case is one), or use WebGPU's 'vulkan' adapter. See docs/gpu.md.";

/** headless-gl is about to create a GLX context (mode 'headlessgl', or 'gpu' in Node): refused after Dawn's EGL. */
export const claimGlx = (mode: string): void => {
  if (used.egl)
    throw new BackendUnavailableError('gpujs', mode, "Dawn's OpenGL ES adapter (WebGPU 'opengles') has run in this process, and a headless-gl context after it would end the process with an X error (Mesa)", SEPARATE);
  used.glx = true;
};

/** Dawn is about to start its OpenGL ES adapter over EGL: refused after a headless-gl context. */
export const claimEgl = (choice: string): void => {
  if (used.glx)
    throw new BackendUnavailableError('gpujs', 'webgpu', `headless-gl has run in this process, and after it Dawn finds no adapter for '${choice}' (Mesa)`, SEPARATE);
  used.egl = true;
};
