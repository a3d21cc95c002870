/**
 * examples/pytorch/verify_bplambda.py, an independent implementation in PyTorch (autograd), checked by
 * `bplambda verify`: the traces it writes pass in float64 (an RNN case from examples/, an LSTM case with masks and
 * a batch from the golden set), and in float32 with the float32 default tolerances, while the same float32 values
 * declared as float64 fail (the tolerances are not vacuous).
 *
 * examples/pytorch/cell_mode.py, an implementation of the LSTM cell mode with the authors' conventions (β = 0.1, the
 * per-step clip at 1, softmax cross-entropy on class labels, the batch-mean loss): its trace (format 1.1, target
 * scale 1/B) verifies as passing with the clip firing; the same trace without its targetScale fails with a hint
 * naming targetScale 1/B.
 *
 * Runs only where PyTorch is importable (Debian: `apt-get install python3-torch`, which installs for
 * /usr/bin/python3, so that interpreter is tried as well as `python3` on the PATH); reported as skipped elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { QUANTITIES_1 } from '../src/verify/schema.js';
import { runProcess } from '../test-support/process.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/src/cli/main.js');
const script = join(root, 'examples/pytorch/verify_bplambda.py');
const cellScript = join(root, 'examples/pytorch/cell_mode.py');

/** The first Python that can import torch, or null. */
const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0) ?? null;

const run = runProcess;

describe.skipIf(python === null)('PyTorch example (examples/pytorch)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bplambda-pytorch-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const golden = (name: string): string => {
    const f = join(tmp, `${name}.golden.json`);
    writeFileSync(f, JSON.stringify(goldenTrace(GOLDEN_SPECS.find((s) => s.name === name)!, 5, 'test')));
    return f;
  };
  const inputs = {
    'rnn-tanh (examples/rnn-tanh.json)': join(root, 'examples/rnn-tanh.json'),
    'lstm, masked': golden('lstm-g0.9-l0.5-masked'),
    'batch of LSTM sequences': golden('batch-lstm-g1-l0.5'),
  };

  it('float64 traces of PyTorch autograd verify as passing (exit 0) on every quantity', async () => {
    const entries = Object.entries(inputs);
    const made = await Promise.all(entries.map(([, f], i) => run(python!, [script, f, '--out', join(tmp, `t64-${i}.json`)])));
    for (const m of made) expect(m.status, m.stderr).toBe(0);
    const verified = await Promise.all(entries.map((_, i) => run(process.execPath, [cli, 'verify', join(tmp, `t64-${i}.json`), '--json'])));
    verified.forEach((v, i) => {
      expect(v.status, `${entries[i]![0]}: ${v.stdout}${v.stderr}`).toBe(0);
      const r = JSON.parse(v.stdout) as { pass: boolean; precision: string; producer: string; quantities: { quantity: string }[] };
      expect(r.pass).toBe(true);
      expect(r.precision).toBe('float64');
      expect(r.producer).toMatch(/PyTorch/);
      expect(r.quantities.map((q) => q.quantity)).toEqual([...QUANTITIES_1]);
    });
  });

  it('float32 traces pass with the float32 defaults and fail when declared float64', async () => {
    const out = join(tmp, 't32.json');
    const made = await run(python!, [script, inputs['lstm, masked'], '--dtype', 'float32', '--out', out]);
    expect(made.status, made.stderr).toBe(0);
    const asFloat64 = join(tmp, 't32-as-64.json');
    writeFileSync(asFloat64, JSON.stringify({ ...(JSON.parse(readFileSync(out, 'utf8')) as object), precision: 'float64' }));
    const [ok, strict] = await Promise.all([run(process.execPath, [cli, 'verify', out]), run(process.execPath, [cli, 'verify', asFloat64])]);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/precision float32/);
    expect(strict.status).toBe(1);
  });

  it('cell_mode.py: the cell mode with β = 0.1, clip 1, cross-entropy and target scale 1/B verifies as passing; without targetScale it fails with a hint naming it', async () => {
    const out = join(tmp, 'cell.json');
    const made = await run(python!, [cellScript, '--out', out]);
    expect(made.status, made.stderr).toBe(0);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { producer: string; targetScale: number; batch: { examples: unknown[] }; method: { mode: string; beta: number; synthClip: number } };
    expect(trace.method).toEqual({ kind: 'bp-lambda', mode: 'cell', beta: 0.1, synthClip: 1 });
    const B = trace.batch.examples.length;
    expect(trace.targetScale).toBe(1 / B);
    // The clip is not vacuous: it fired.
    expect(Number(/the clip fired on (\d+) step tensors/.exec(trace.producer)![1])).toBeGreaterThan(0);
    const undeclared = join(tmp, 'cell-undeclared.json');
    const { targetScale: _c, ...rest } = trace;
    writeFileSync(undeclared, JSON.stringify(rest));
    const [ok, bad, badText] = await Promise.all([
      run(process.execPath, [cli, 'verify', out, '--json']),
      run(process.execPath, [cli, 'verify', undeclared, '--json']),
      run(process.execPath, [cli, 'verify', undeclared]),
    ]);
    expect(ok.status, ok.stdout).toBe(0);
    const r = JSON.parse(ok.stdout) as { pass: boolean; quantities: { quantity: string }[] };
    expect(r.pass).toBe(true);
    expect(r.quantities.map((q) => q.quantity)).toEqual(expect.arrayContaining(['tdErrors', 'lambdaTargets', 'synthesiserUpdatePerStep', 'sgGradients', 'learningSignals']));
    expect(bad.status).toBe(1);
    const h = (JSON.parse(bad.stdout) as { hints: { kind: string; option?: { field: string; value: number } }[] }).hints.find((x) => x.kind === 'target-scale')!;
    expect(h.option!.field).toBe('targetScale');
    expect(h.option!.value).toBeCloseTo(1 / B, 12);
    expect(badText.stdout).toMatch(/declare "targetScale": 0\.25/);
  });
});
