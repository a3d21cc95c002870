/**
 * Valid library configurations of every method on both cells, and the ways to break one field of them, for the
 * tests of the library's configuration checks (spec/library-config.test.ts, property-tests/malformed-config.test.ts).
 * Each corruption says which field it breaks; the entry points must name exactly that field.
 */
import type { LearnerConfig, Method, MethodKind } from '../src/core/learner.js';
import { lstmCell } from '../src/core/lstm.js';
import type { Batch, Model } from '../src/core/model.js';
import { rnnCell } from '../src/core/rnn.js';

export const modelOf = (cell: 'rnn' | 'lstm'): Model => ({
  cell: cell === 'rnn' ? rnnCell({ inputSize: 2, hiddenSize: 3, activation: 'tanh' }) : lstmCell({ inputSize: 2, hiddenSize: 3 }),
  outputSize: 2,
  loss: 'mse',
});

export const methodOf = (kind: MethodKind, cell: 'rnn' | 'lstm'): Method => {
  switch (kind) {
    case 'bp-lambda':
      return { kind, mode: cell === 'lstm' ? 'cell' : 'full', schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 0.9, lambda: 0.5, beta: 1, synthClip: Infinity };
    case 'sg':
      return { kind, n: 2, gamma: 0.9, beta: 1, align: 'end', target: 'discounted', synthesiser: { hidden: [] } };
    case 'tbptt':
      return { kind, n: 2, align: 'start' };
    case 'bptt':
    case 'eprop':
      return { kind };
  }
};

export const configOf = (kind: MethodKind, cell: 'rnn' | 'lstm'): LearnerConfig => ({
  model: modelOf(cell),
  method: methodOf(kind, cell),
  network: { kind: 'adam', lr: 1e-3 },
  synthesiser: { kind: 'sgd', lr: 0.1 },
});

/** Two sequences of three steps, a target at the last step only. */
export const smallBatch: Batch = [0, 1].map((b) => ({
  inputs: [0, 1, 2].map((t) => Float64Array.of(0.1 * (t + 1), -0.2 * (b + 1))),
  targets: [null, null, Float64Array.of(0.5, -0.5)],
}));

/** A field to break: its path in the configuration, and the value to put there (undefined: remove it). */
export interface Corruption {
  readonly path: readonly string[];
  readonly value: unknown;
}

const bad = {
  probability: [-0.1, 1.5, Number.NaN, Infinity, '0.5', null, undefined],
  nonNegative: [-1, Number.NaN, Infinity, -Infinity, '1', undefined],
  clip: [0, -1, Number.NaN, -Infinity, undefined],
  positiveOptional: [0, -1, Number.NaN, Infinity],
  count: [0, -1, 2.5, Number.NaN, Infinity, '3', undefined],
  word: ['nonsense', '', 1, null, undefined],
} as const;

const each = (path: readonly string[], values: readonly unknown[]): Corruption[] => values.map((value) => ({ path, value }));

/** Every corruption that applies to a configuration of `kind` (fields it does not have are not broken). */
export const corruptionsOf = (kind: MethodKind, cell: 'rnn' | 'lstm'): Corruption[] => {
  const m = (...p: string[]) => ['method', ...p];
  const out: Corruption[] = [
    ...each(['model', 'loss'], ['mae', 'MSE', 3, undefined]),
    ...each(['model', 'outputSize'], bad.count),
    ...each(['model', 'cell'], [null, {}, 'rnn', undefined]),
    ...each(m('kind'), ['bplambda', 'BPTT', 1, undefined]),
    ...each(['method'], [3, [1], null, undefined]),
    ...each(['network'], ['adam', null, undefined]),
    ...each(['network', 'kind'], ['adamw', undefined]),
    ...each(['network', 'lr'], bad.nonNegative),
    ...each(['network', 'beta1'], [1, -0.1, Number.NaN]),
    ...each(['network', 'eps'], [0, -1, Number.NaN]),
    ...each(['synthesiser', 'lr'], bad.nonNegative),
    ...each(['gradClip'], [0, -1, Number.NaN, '1']),
    { path: ['extra'], value: 1 },
    { path: ['method', 'extra'], value: 1 },
    { path: ['network', 'lrr'], value: 1e-3 },
  ];
  if (kind === 'bp-lambda' || kind === 'sg') {
    out.push(...each(m('gamma'), bad.probability), ...each(m('beta'), bad.nonNegative), ...each(m('targetScale'), bad.positiveOptional));
    out.push(...each(m('synthesiser', 'hidden'), ['x', null, undefined]), ...each(m('synthesiser'), [null, undefined]));
  }
  if (kind === 'bp-lambda') {
    out.push(...each(m('lambda'), bad.probability), ...each(m('synthClip'), bad.clip), ...each(m('schedule'), ['stepp', ...bad.word]));
    out.push(...each(m('mode'), cell === 'rnn' ? ['cell', ...bad.word] : bad.word));
  }
  if (kind === 'sg' || kind === 'tbptt') out.push(...each(m('n'), bad.count), ...each(m('align'), bad.word));
  if (kind === 'sg') out.push(...each(m('target'), bad.word));
  return out;
};

/** A copy of `config` with one field broken. */
export const corrupt = <T>(config: T, { path, value }: Corruption): T => {
  const set = (obj: unknown, i: number): unknown => {
    const o = { ...(obj as Record<string, unknown>) };
    const key = path[i]!;
    if (i === path.length - 1) {
      if (value === undefined) delete o[key];
      else o[key] = value;
    } else o[key] = set(o[key], i + 1);
    return o;
  };
  return set(config, 0) as T;
};
