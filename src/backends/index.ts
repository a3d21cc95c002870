/**
 * Backends behind one interface, and the registry of their names. This entry never loads gpu.js (the registry
 * imports it only when a gpu.js backend is asked for): the gpu.js backend is the subpath export
 * `bplambda/gpu` (src/backends/gpu).
 */
export * from './backend.js';
export * from './errors.js';
export { copyView, hostView, rowMajorStrides } from './host/view.js';
export { ReferenceBackend, referenceBackend } from './reference.js';
export { CpuBackend, cpuBackend, type CpuBackendOptions, type CpuKernels } from './cpu/index.js';
export * from './registry.js';
