/**
 * bplambda: accumulate BP(λ) for recurrent networks. The package root exports the pure float64 reference core,
 * the backend interface with the reference and CPU backends and their registry, and the trainer; it loads no Node-only
 * module, so it bundles for the browser. The verification tools (which read and write files) are the subpath
 * `bplambda/verify`; the gpu.js backend is `bplambda/gpu` and is never loaded from here.
 */
export * from './core/index.js';
export * from './backends/index.js';
export * from './engine/index.js';
