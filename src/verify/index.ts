/** Verifying other implementations against the reference: the trace format, `verify`, the golden set. */
export * from './schema.js';
export * from './trace.js';
export * from './reference.js';
export * from './compare.js';
export * from './tolerance.js';
export * from './verify.js';
export * from './golden.js';
