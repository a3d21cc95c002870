/**
 * The method configurations of the backend conformance suite, generated from the core's enumerations (shared by
 * the whole-run tests and the thread-count tests).
 */
import { METHOD_KINDS, SCHEDULES, type Method, type MethodKind } from '../../src/core/learner.js';
import { BP_LAMBDA_MODES } from '../../src/core/modes.js';
import { ACTIVATIONS } from '../../src/core/rnn.js';

export const bp = (mode: 'full' | 'cell', over: Partial<Extract<Method, { kind: 'bp-lambda' }>> = {}): Method => ({
  kind: 'bp-lambda',
  mode,
  schedule: 'sequence',
  synthesiser: { hidden: [] },
  gamma: 0.9,
  lambda: 0.7,
  beta: 0.5,
  synthClip: Infinity,
  ...over,
});

/** Cells the engine knows: the LSTM and the RNN with each activation. */
export const CELL_KINDS = ['lstm', ...ACTIVATIONS] as const;
export type CellKind = (typeof CELL_KINDS)[number];

export const unreachable = (x: never): never => {
  throw new Error(`unhandled case ${String(x)}`);
};

/**
 * The method configurations run for one method kind on one cell: every mode and schedule of BP(λ) (the cell mode
 * only on the LSTM), both targets and alignments of n-step SG, and the per-step clip. The switch is exhaustive,
 * so a new method kind is a compile error here until it is given cases.
 */
export const methodCases = (kind: MethodKind, cell: CellKind): readonly (readonly [string, Method])[] => {
  switch (kind) {
    case 'bptt':
      return [['bptt', { kind: 'bptt' }]];
    case 'tbptt':
      return [['tbptt n=2 end-aligned', { kind: 'tbptt', n: 2, align: 'end' }]];
    case 'eprop':
      return [['e-prop (no synthesiser)', { kind: 'eprop' }]];
    case 'sg':
      return [
        ['n-step SG n=2', { kind: 'sg', n: 2, gamma: 0.9, beta: 0.7, align: 'start', target: 'discounted', synthesiser: { hidden: [] } }],
        ['n-step SG authors target, c = 1/3', { kind: 'sg', n: 2, gamma: 0.9, beta: 0.7, align: 'end', target: 'authors', targetScale: 1 / 3, synthesiser: { hidden: [] } }],
      ];
    case 'bp-lambda':
      return BP_LAMBDA_MODES.filter((mode) => mode === 'full' || cell === 'lstm').flatMap((mode) =>
        SCHEDULES.flatMap((schedule): (readonly [string, Method])[] => [
          [`BP(λ) ${mode}, ${schedule} schedule`, bp(mode, { schedule })],
          [`BP(λ) ${mode}, ${schedule} schedule, clip 0.05, λ = 1, β = 0.1, c = 1/3`, bp(mode, { schedule, synthClip: 0.05, lambda: 1, beta: 0.1, targetScale: 1 / 3 })],
        ]),
      );
  }
  return unreachable(kind);
};


/** Every method configuration of a cell, labelled. */
export const allMethodCases = (cell: CellKind): readonly (readonly [string, Method])[] => METHOD_KINDS.flatMap((kind) => methodCases(kind, cell));
