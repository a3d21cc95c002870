/**
 * Backends behind one interface. This entry never loads gpu.js: the gpu.js backend is the subpath export
 * `bplambda/gpu` (src/backends/gpu).
 */
export * from './backend.js';
export * from './errors.js';
export { ReferenceBackend, referenceBackend } from './reference.js';
export { CpuBackend, cpuBackend, type CpuBackendOptions, type CpuKernels } from './cpu/index.js';
