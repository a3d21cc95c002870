/**
 * The committed example cases: each equals its generator's output (test-support/example-cases.ts), each is a valid
 * case, and the oracle agrees with the independent implementation on every one of them (rnn-tanh.json included).
 * Regenerate with `BPLAMBDA_WRITE_EXAMPLES=1 npx vitest run spec/examples.test.ts`: the files are rewritten and
 * the comparison with the generator is reported skipped (it would compare the files with themselves); the other
 * checks run on the new files.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oracle } from '../src/core/oracle.js';
import { exampleFiles, spectralRadiusBound, toyCode } from '../test-support/example-cases.js';
import { type IndependentCase, fieldDifferences, independentOracle } from '../test-support/independent-oracle.js';

const root = join(import.meta.dirname, '..');

const writing = process.env.BPLAMBDA_WRITE_EXAMPLES === '1';
if (writing) for (const [path, text] of Object.entries(exampleFiles())) writeFileSync(join(root, path), text);

describe('examples/', () => {
  it.skipIf(writing).each(Object.entries(exampleFiles()))(`%s equals the generator output${writing ? ' (skipped: BPLAMBDA_WRITE_EXAMPLES=1 rewrote it)' : ''}`, (path, text) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(text);
  });

  it('toy-rnn.json is the §8.8 toy case', () => {
    const c = JSON.parse(readFileSync(join(root, 'examples/toy-rnn.json'), 'utf8')) as IndependentCase;
    expect(c.cell).toEqual({ type: 'rnn', activation: 'identity' });
    expect(c.inputs[0]).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(toyCode()).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(c.inputs.slice(1).flat().every((x) => x === 0)).toBe(true);
    expect(c.inputs).toHaveLength(10);
    expect(c.targets.slice(0, 9).every((y) => y === null)).toBe(true);
    expect(c.targets[9]).toEqual([0, 1]);
    expect(c.params.W_rec).toHaveLength(30);
    expect(spectralRadiusBound(c.params.W_rec as number[][])).toBeLessThan(0.9 + 1e-12);
    expect([c.gamma, c.lambda]).toEqual([1, 1]);
    expect((c.synthesiser.W as number[][]).flat().some((x) => x !== 0)).toBe(true);
  });

  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json'));
  it.each(files)('oracle agrees with the independent implementation on examples/%s', (f) => {
    const c = JSON.parse(readFileSync(join(root, 'examples', f), 'utf8')) as IndependentCase;
    const got = JSON.parse(JSON.stringify(oracle(c))) as Record<string, unknown>;
    const want = independentOracle(c) as unknown as Record<string, unknown>;
    const d = fieldDifferences(got, want);
    for (const [k, v] of Object.entries(d)) expect(v, k).toBeLessThan(1e-8);
  });
});
