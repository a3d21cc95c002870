/**
 * bplambda: accumulate BP(λ) for recurrent networks. The package root exports the pure float64 reference core,
 * the backend interface with the reference and CPU backends, the training engine, and the verification tools.
 * The gpu.js backend lives behind its own subpath export (`bplambda/gpu`) and is never loaded from here.
 */
export * from './core/index.js';
export * from './backends/index.js';
export * from './engine/index.js';
export * from './verify/index.js';
