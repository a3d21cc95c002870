/**
 * docs/configuration.md is the one place where the library's configuration fields and defaults are listed: each
 * of its tables must name exactly the fields its entry point accepts. The accepted fields are read from the entry
 * point itself (the list its unknown-field error gives), not from a copy, so a field added to a schema and not to
 * the page, or a field the page documents and the schema does not take, fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bpLambdaSequence } from '../src/core/bplambda.js';
import { InvalidInputError } from '../src/core/errors.js';
import { type LearnerConfig, METHOD_KINDS, learnerInit } from '../src/core/learner.js';
import { lstmCell } from '../src/core/lstm.js';
import { rngFromSeed } from '../src/core/random.js';
import { rnnCell } from '../src/core/rnn.js';
import { linearSynthesiser } from '../src/core/synthesiser.js';
import { initModel, initSynthesiser } from '../src/core/init.js';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { backendByName } from '../src/backends/registry.js';
import { createTrainer } from '../src/engine/trainer.js';
import { referenceBackend } from '../src/backends/reference.js';
import { configOf, modelOf, smallBatch } from '../property-tests/config-fixtures.js';

const page = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');

/** The first column of the table under the heading that starts with `heading`. */
const documented = (heading: string): string[] => {
  const start = page.split('\n').findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '').startsWith(heading));
  if (start < 0) throw new Error(`no section '${heading}' in docs/configuration.md`);
  const rows: string[] = [];
  for (const line of page.split('\n').slice(start + 1)) {
    if (/^#{2,3} /.test(line)) break;
    const m = /^\| `(\w+)` \|/.exec(line);
    if (m) rows.push(m[1]!);
  }
  return rows.sort();
};

/** The fields an entry point accepts, from its refusal of an unknown one. */
const accepted = async (call: (extra: Record<string, unknown>) => unknown): Promise<string[]> => {
  try {
    await call({ zzUnknown: 1 });
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    const m = /^one of the fields (.*)$/.exec(e.expected);
    if (m === null) throw new Error(`unexpected refusal: ${e.message}`);
    return m[1]!.split(', ').sort();
  }
  throw new Error('an unknown field was accepted');
};

const learner = (change: (c: LearnerConfig) => LearnerConfig) => () => learnerInit(change(configOf('bp-lambda', 'rnn')), rngFromSeed(0));

const sections: [string, (extra: Record<string, unknown>) => unknown][] = [
  ['Cells: `rnnCell', (x) => rnnCell({ inputSize: 1, hiddenSize: 1, activation: 'tanh', ...x })],
  ['Cells: `lstmCell', (x) => lstmCell({ inputSize: 1, hiddenSize: 1, ...x })],
  ['Model', (x) => learner((c) => ({ ...c, model: { ...c.model, ...x } }))()],
  [
    "BP(λ) options",
    (x) => {
      const model = modelOf('rnn');
      const synth = linearSynthesiser(3, 3);
      const [params, rng] = initModel(model, rngFromSeed(0));
      const [theta] = initSynthesiser(synth, rng);
      return bpLambdaSequence({ model, synth, params, theta, options: { gamma: 1, lambda: 1, beta: 1, synthClip: Infinity, ...x } }, smallBatch);
    },
  ],
  ['Learner', (x) => learner((c) => ({ ...c, ...x }))()],
  ...METHOD_KINDS.map((kind): [string, (x: Record<string, unknown>) => unknown] => [`Method \`${kind}\``, (x) => learnerInit({ ...configOf(kind, 'rnn'), method: { ...configOf(kind, 'rnn').method, ...x } as never }, rngFromSeed(0))]),
  ...(['adam', 'sgd', 'frozen'] as const).map((kind): [string, (x: Record<string, unknown>) => unknown] => [
    `Optimiser \`${kind}\``,
    (x) => learner((c) => ({ ...c, network: { kind, ...(kind === 'frozen' ? {} : { lr: 0.1 }), ...x } as never }))(),
  ]),
  ['Trainer options', (x) => createTrainer(referenceBackend(), configOf('bptt', 'rnn'), x)],
  ['Backends: `cpuBackend', (x) => cpuBackend({ threads: 1, ...x })],
  ['Backends: `backendByName', (x) => backendByName('reference', x)],
];

describe('docs/configuration.md lists exactly the fields each entry point accepts', () => {
  it.each(sections)('%s', async (heading, call) => {
    expect(documented(heading)).toEqual(await accepted(call));
  });

  it('gpujsBackend (its options are checked before gpu.js is loaded)', async () => {
    const { gpujsBackend } = await import('../src/backends/gpu/index.js');
    expect(documented('Backends: `gpujsBackend')).toEqual(await accepted((x) => gpujsBackend({ mode: 'cpu', ...x })));
  });
});
