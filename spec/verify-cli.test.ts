/**
 * `bplambda verify` as a command (dist/src/cli/main.js; `npm run build` first): exit 0 on a passing trace, 1 on a
 * mismatch (the report names quantity, path and step), 2 on an invalid trace or option with one stderr line naming
 * the field and nothing on stdout; `--json` prints one bplambda-verify/1 document; `--rtol`/`--atol` are used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { type ProcessResult as Run, runCli } from '../test-support/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'bplambda-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


const write = (name: string, content: unknown): string => {
  const f = join(tmp, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};

const spec = (n: string) => GOLDEN_SPECS.find((s) => s.name === n)!;
const rnn = goldenTrace(spec('rnn-tanh-g0.9-l1'), 3, 'cli test') as Record<string, unknown>;
const lstm = goldenTrace(spec('lstm-g1-l1'), 4, 'cli test') as Record<string, unknown>;

const expectInvalid = (r: Run, field: RegExp): void => {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^invalid (trace|option): /);
  expect(lines[0]).toMatch(field);
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

describe('bplambda verify (CLI)', () => {
  it('passes (exit 0) on traces of the oracle’s own output, RNN and LSTM, text and --json', async () => {
    const [a, b] = await Promise.all([runCli(['verify', write('rnn.json', rnn)]), runCli(['verify', write('lstm.json', lstm), '--json'])]);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toMatch(/^bplambda verify: /);
    expect(a.stdout).toMatch(/tdErrors\s+\d+\s+\S+\s+0\s+0\s+0\s+1\s+pass/);
    expect(a.stdout.trimEnd().split('\n').at(-1)).toBe('PASS: all 11 quantities within tolerance');
    expect(b.status).toBe(0);
    const report = JSON.parse(b.stdout) as { format: string; pass: boolean; quantities: { quantity: string; pass: boolean }[] };
    expect(report.format).toBe('bplambda-verify/1');
    expect(report.pass).toBe(true);
    expect(report.quantities).toHaveLength(11);
  });

  it('exits 1 on a mismatch and names the quantity, the path and the step', async () => {
    const t = JSON.parse(JSON.stringify(lstm)) as { computed: { lambdaTargets: number[][]; loss: unknown } };
    t.computed.lambdaTargets[2]![5]! += 1e-3;
    t.computed.loss = 'NaN';
    const f = write('bad.json', t);
    const [text, json] = await Promise.all([runCli(['verify', f]), runCli(['verify', f, '--json'])]);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/lambdaTargets .*FAIL\s+first at lambdaTargets\[2\]\[5\] \(step t = 3, element \[5\]\)/);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('FAIL: 2 of 11 quantities differ (loss, lambdaTargets)');
    expect(json.status).toBe(1);
    const r = JSON.parse(json.stdout) as { pass: boolean; failed: string[]; quantities: { quantity: string; maxAbsError: unknown; firstDivergence: { path: string; step: number } | null }[] };
    expect(r.pass).toBe(false);
    expect(r.failed).toEqual(['loss', 'lambdaTargets']);
    const lt = r.quantities.find((q) => q.quantity === 'lambdaTargets')!;
    expect(lt.firstDivergence).toMatchObject({ path: 'lambdaTargets[2][5]', step: 3 });
    expect(r.quantities.find((q) => q.quantity === 'loss')!.maxAbsError).toBe('Infinity');
  });

  it('--rtol and --atol override the defaults', async () => {
    const t = JSON.parse(JSON.stringify(rnn)) as { computed: { states: number[][] } };
    t.computed.states[0]![0]! *= 1 + 1e-6;
    const f = write('loose.json', t);
    const [strict, loose] = await Promise.all([runCli(['verify', f]), runCli(['verify', f, '--rtol', '1e-5', '--atol=0'])]);
    expect(strict.status).toBe(1);
    expect(loose.status).toBe(0);
    expect(loose.stdout).toMatch(/rtol = 1\.00e-5, atol = 0 \(from options\)/);
  });

  it('exits 2 with one line naming the field on invalid files and options', async () => {
    const runs = await Promise.all([
      runCli(['verify', write('malformed.json', '{"format": "bplambda-trace/1", ')]),
      runCli(['verify', write('unknown.json', { ...rnn, extra: 1 })]),
      runCli(['verify', write('precision.json', { ...rnn, precision: 'double' })]),
      runCli(['verify', write('shape.json', { ...rnn, computed: { tdErrors: [[1, 2]] } })]),
      runCli(['verify', join(tmp, 'missing.json')]),
      runCli(['verify', write('ok.json', rnn), '--rtol', 'abc']),
      runCli(['verify', write('ok2.json', rnn), '--atol', '-1']),
    ]);
    expectInvalid(runs[0]!, /^invalid trace: \(input\) is malformed JSON/);
    expectInvalid(runs[1]!, /^invalid trace: extra is not a known field/);
    expectInvalid(runs[2]!, /^invalid trace: precision is invalid, expected one of "float64"/);
    expectInvalid(runs[3]!, /^invalid trace: computed\.tdErrors has 1 entries, expected T−1 = 5/);
    expectInvalid(runs[4]!, /missing\.json cannot be read \(ENOENT\)/);
    expectInvalid(runs[5]!, /^invalid option: --rtol is "abc", expected a finite number ≥ 0/);
    expectInvalid(runs[6]!, /^invalid option: --atol is "-1"/);
  });

  it('usage errors exit 2', async () => {
    const r = await runCli(['verify']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });
});
