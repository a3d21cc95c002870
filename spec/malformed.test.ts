/**
 * Random malformed inputs (fast-check) fed to `oracle` and `verify`, as functions and through the command line:
 * the only failure allowed is a clean typed error. A function either returns or throws InvalidInputError with a
 * one-line message; a command exits 0 (the mutation kept the input valid), 1 (verify: a mismatch) or 2 with exactly
 * one stderr line, no stack trace, nothing on stdout and no `--out` file. Inputs: arbitrary JSON values, arbitrary
 * text, and valid cases and traces mutated at a random place (replace a subtree, delete a field or an element, add
 * an unknown field, duplicate or empty an array, extreme or wrongly typed numbers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/core/errors.js';
import { oracle, parseCaseJson } from '../src/core/oracle.js';
import { GOLDEN_SPECS, goldenInput, goldenTrace } from '../src/verify/golden.js';
import { verifyTrace, verifyTraceJson } from '../src/verify/verify.js';
import { fcParams } from '../property-tests/arbitraries.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Seg = string | number;

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'bplambda-malformed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const small = (name: string) => GOLDEN_SPECS.find((s) => s.name === name)!;
const validCases: Json[] = ['rnn-tanh-T2-g0.9-l0.5', 'lstm-T2-g1-l0', 'rnn-identity-g0.9-l0.5-masked'].map((n, i) => goldenInput(small(n), 11 + i) as Json);
const validTraces: Json[] = ['rnn-tanh-T2-g0.9-l0.5', 'lstm-T2-g1-l0', 'batch-lstm-g1-l0.5'].map((n, i) => goldenTrace(small(n), 21 + i, 'fuzz') as Json);

/** Every node of a JSON value (the root included), as segment lists. */
const nodes = (v: Json, segs: Seg[] = [], out: Seg[][] = []): Seg[][] => {
  out.push(segs);
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...segs, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodes(x, [...segs, k], out);
  return out;
};

const MUTATIONS = ['replace', 'delete', 'add-field', 'duplicate', 'empty', 'extreme', 'stringify', 'wrap'] as const;
type Mutation = (typeof MUTATIONS)[number];

const mutate = (input: Json, where: number, op: Mutation, value: Json, extreme: number): Json => {
  const v = JSON.parse(JSON.stringify(input)) as Json;
  const ns = nodes(v);
  const segs = ns[where % ns.length]!;
  if (segs.length === 0) return op === 'replace' ? value : op === 'wrap' ? [v] : v;
  const parent = segs.slice(0, -1).reduce<Json>((a, s) => (a as Record<Seg, Json>)[s]!, v) as Record<Seg, Json> & Json[];
  const key = segs[segs.length - 1]!;
  const node = parent[key]!;
  switch (op) {
    case 'replace':
      parent[key] = value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'add-field':
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, Json>)['unexpected'] = value;
      else parent[key] = { unexpected: value };
      break;
    case 'duplicate':
      if (Array.isArray(node)) node.push(JSON.parse(JSON.stringify(node[0] ?? null)) as Json);
      else if (Array.isArray(parent)) parent.push(node);
      break;
    case 'empty':
      parent[key] = Array.isArray(node) ? [] : {};
      break;
    case 'extreme':
      parent[key] = extreme;
      break;
    case 'stringify':
      parent[key] = JSON.stringify(node);
      break;
    case 'wrap':
      parent[key] = [node];
      break;
  }
  return v;
};

const mutation = (inputs: readonly Json[]) =>
  fc
    .tuple(
      fc.nat(inputs.length - 1),
      fc.nat(),
      fc.constantFrom(...MUTATIONS),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(1e308, -1e308, 1e154, 5e-324, 0, -0, 1e20, 2, -1, 1.5, 4),
    )
    .map(([i, where, op, value, extreme]) => mutate(inputs[i]!, where, op, value as Json, extreme));

/** The call returns, or throws an InvalidInputError with a one-line message; anything else fails the test. */
const cleanly = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw new Error(`not a typed input error: ${(e as Error).stack ?? String(e)}`);
    expect(e.message).not.toMatch(/\n/);
    expect(e.message.length).toBeGreaterThan(0);
  }
};

describe('random malformed inputs, as functions', () => {
  it('oracle: arbitrary JSON values are rejected with InvalidInputError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => oracle(v)).toThrow(InvalidInputError);
      }),
      fcParams(300),
    );
  });

  it('verify: arbitrary JSON values are rejected with InvalidInputError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => verifyTrace(v)).toThrow(InvalidInputError);
      }),
      fcParams(300),
    );
  });

  it('arbitrary text: malformed JSON or an invalid document, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constantFrom('', '{', '[1,', '{"format": "bplambda-case/1"', 'NaN', '\u0000')), (text) => {
        expect(() => parseCaseJson(text)).toThrow(InvalidInputError);
        expect(() => verifyTraceJson(text)).toThrow(InvalidInputError);
      }),
      fcParams(300),
    );
  });

  it('oracle: mutated valid cases either compute or give a clean typed error', () => {
    fc.assert(
      fc.property(mutation(validCases), (c) => cleanly(() => oracle(c))),
      fcParams(600),
    );
  });

  it('verify: mutated valid traces either verify or give a clean typed error', () => {
    fc.assert(
      fc.property(mutation(validTraces), (t) => cleanly(() => verifyTrace(t))),
      fcParams(600),
    );
  });
});

describe('random malformed inputs, through the command line', () => {
  const runCli = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

  const checkRun = (r: ReturnType<typeof runCli>, allowed: number[], outFile?: string): void => {
    expect(allowed).toContain(r.status);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (r.status === 2) {
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^invalid (case|trace): /);
      if (outFile !== undefined) expect(existsSync(outFile)).toBe(false);
    }
  };

  it('oracle --out and verify: exit 0, 1 or 2 with one line, no stack trace, no partial file', () => {
    let n = 0;
    fc.assert(
      fc.property(mutation(validCases), mutation(validTraces), fc.boolean(), (c, t, asText) => {
        n++;
        const casePath = join(tmp, `case-${n}.json`);
        const tracePath = join(tmp, `trace-${n}.json`);
        // Half of the time, damage the text itself (cut it short).
        const text = (v: Json) => (asText ? JSON.stringify(v).slice(0, Math.max(1, Math.floor(JSON.stringify(v).length / 2))) : JSON.stringify(v));
        writeFileSync(casePath, text(c));
        writeFileSync(tracePath, text(t));
        const out = join(tmp, `out-${n}.json`);
        checkRun(runCli(['oracle', casePath, '--out', out]), [0, 2], out);
        checkRun(runCli(['verify', tracePath]), [0, 1, 2]);
      }),
      fcParams(6),
    );
    // No temporary file of an atomic write was left behind.
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
