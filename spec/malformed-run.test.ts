/**
 * Random malformed command lines for `bplambda run` (fast-check): every one exits 2 with exactly one line on
 * stderr naming the option, no stack trace, nothing on stdout, and no output directory created.
 *
 * Each generated case is invalid by construction: a numeric option gets a value that is not a number, a value
 * outside its range, or a non-integer where an integer is needed; an enumerated option gets a name outside its
 * list; or the task or the option name itself is unknown.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'bplambda-malformed-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^\+?(infinity|inf)$/i;
const notANumber = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !NUMBER.test(s.trim()) && !s.startsWith('-'));

interface Bad {
  readonly args: string[];
  /** What the one stderr line must mention. */
  readonly names: string;
}

const numericOption = fc.constantFrom('--lambda', '--n', '--seed', '--steps', '--hidden', '--batch-size', '--lr', '--gamma', '--seq-len', '--log-every');
const badNumeric: fc.Arbitrary<Bad> = fc.oneof(
  fc.tuple(numericOption, notANumber).map(([o, v]) => ({ args: [o, v], names: o })),
  fc.tuple(fc.constantFrom('--lambda', '--gamma'), fc.oneof(fc.double({ min: 1.0001, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: -0.0001, noNaN: true }))).map(
    ([o, v]) => ({ args: [o, String(v)], names: o.slice(2) }),
  ),
  fc.tuple(fc.constantFrom('--hidden', '--steps', '--batch-size', '--seq-len', '--n'), fc.integer({ min: -50, max: 0 })).map(([o, v]) => ({ args: [`${o}=${v}`], names: o.slice(2).replace('-size', '') })),
  fc.tuple(fc.constantFrom('--hidden', '--steps', '--batch-size', '--n'), fc.double({ min: 1.01, max: 99.9, noNaN: true }).filter((x) => !Number.isInteger(x))).map(([o, v]) => ({
    args: [o, String(v)],
    names: o.slice(2).replace('-size', ''),
  })),
);
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,9}$/);
const badEnum: fc.Arbitrary<Bad> = fc
  .tuple(
    fc.constantFrom(
      ['--method', ['bp-lambda', 'sg', 'tbptt', 'bptt', 'eprop']] as const,
      ['--engine', ['step', 'sequence']] as const,
      ['--backend', ['reference', 'cpu-f64', 'cpu-f32', 'cpu-f64-js', 'cpu-f32-js']] as const,
      ['--preset', ['paper', 'reduced', 'smoke']] as const,
      ['--schedule', ['sequence', 'step']] as const,
    ),
    word,
  )
  .filter(([[, allowed], v]) => !(allowed as readonly string[]).includes(v))
  .map(([[o], v]) => ({ args: [o, v], names: o.slice(2) }));
const badName: fc.Arbitrary<Bad> = word.filter((w) => !w.includes('-') || w.length > 3).map((w) => ({ args: [`--zz-${w}`, '1'], names: `--zz-${w}` }));

describe('run with malformed input', () => {
  it('exits 2 with one line naming the offending option or task, no stack trace, nothing written', () => {
    let i = 0;
    fc.assert(
      fc.property(fc.oneof(badNumeric, badEnum, badName), fc.constantFrom('toy', 'copy-repeat'), (bad, task) => {
        const out = join(tmp, `run-${i++}`);
        const r = spawnSync(process.execPath, [cli, 'run', task, '--preset', 'smoke', ...bad.args, '--out', out], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(2);
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]!.toLowerCase()).toContain(bad.names.toLowerCase().replace(/^--/, ''));
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stdout).toBe('');
        expect(existsSync(out)).toBe(false);
      }),
      { numRuns: 30, seed: Number(process.env['FC_SEED'] ?? 20261125) },
    );
  });

  it('an unknown task exits 2 naming the task', () => {
    const r = spawnSync(process.execPath, [cli, 'run', 'penn-treebank', '--out', join(tmp, 'x')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/task/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
  });
});
