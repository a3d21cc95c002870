/** The trainer: every learner method on any backend, through the composite ops of `src/ops`. */
export * from './trainer.js';
export * from './predict.js';
