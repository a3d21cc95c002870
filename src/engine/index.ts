/** The training engine: every learner method written once against the Backend interface. */
export * from './engine.js';
