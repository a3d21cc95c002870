/**
 * bplambda: accumulate BP(λ) for recurrent networks. The package root exports the pure float64 reference core;
 * GPU backends live behind their own subpath exports and are never loaded from here.
 */
export * from './core/index.js';
