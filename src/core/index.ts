/** The pure float64 reference core of bplambda. */
export * from './tensor.js';
export * from './cell.js';
export * from './rnn.js';
export * from './lstm.js';
export * from './model.js';
export * from './synthesiser.js';
export * from './bptt.js';
export * from './bplambda.js';
export * from './cellMode.js';
export * from './modes.js';
export * from './baselines.js';
export * from './optim.js';
export * from './random.js';
export * from './init.js';
export * from './errors.js';
export * from './oracle.js';
export * from './learner.js';
