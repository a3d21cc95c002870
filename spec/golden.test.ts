/**
 * The golden set (`bplambda golden --out DIR`, src/verify/golden.ts):
 *
 * - it covers what issue 5 asks for (RNN identity and tanh, LSTM; several γ and λ; masks; T = 2, λ = 0, λ = 1,
 *   γ = 0) plus batches, sigmoid/ReLU, no targets and a zero synthesiser;
 * - every trace verifies (round trip through `verify`), and its quantities are the oracle's;
 * - it is deterministic; the manifest and SHA256SUMS list every file with its sha256 and size; the cases of
 *   version 1 are pinned by a hash (changing a case needs a new GOLDEN_VERSION);
 * - the command writes exactly `goldenFiles(...)` into the directory, `bplambda verify` passes on the written
 *   files, and an unusable --out exits 2 without writing.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oracle } from '../src/core/oracle.js';
import { GOLDEN_SPECS, GOLDEN_VERSION, goldenFiles, isV11, sha256 } from '../src/verify/golden.js';
import { METHOD_QUANTITIES, STEP_SCHEDULE_QUANTITIES, traceJsonSchemaText } from '../src/verify/schema.js';
import { verifyTraceJson } from '../src/verify/verify.js';
import { runCli } from '../test-support/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'bplambda-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

const files = goldenFiles('bplambda test');
const traceNames = Object.keys(files).filter((f) => f.endsWith('.trace.json'));

interface Manifest {
  format: string;
  goldenVersion: number;
  generator: string;
  traceFormat: string;
  files: { file: string; sha256: string; bytes: number; kind: string }[];
}

describe('golden set', () => {
  it('covers the cells, γ, λ, masks and edge cases of issue 5', () => {
    const s = GOLDEN_SPECS;
    const rnnWith = (a: string) => s.some((x) => x.cell.type === 'rnn' && x.cell.activation === a);
    expect(rnnWith('identity') && rnnWith('tanh')).toBe(true);
    expect(s.some((x) => x.cell.type === 'lstm')).toBe(true);
    expect(new Set(s.map((x) => x.gamma)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(s.map((x) => x.lambda)).size).toBeGreaterThanOrEqual(5);
    for (const edge of [(x: (typeof s)[number]) => x.T === 2, (x: (typeof s)[number]) => x.lambda === 0, (x: (typeof s)[number]) => x.lambda === 1, (x: (typeof s)[number]) => x.gamma === 0]) {
      expect(s.filter((x) => x.cell.type === 'rnn').some(edge)).toBe(true);
      expect(s.filter((x) => x.cell.type === 'lstm').some(edge)).toBe(true);
    }
    expect(s.some((x) => Array.isArray(x.masked))).toBe(true);
    expect(s.some((x) => x.batch !== undefined)).toBe(true);
    expect(traceNames).toHaveLength(s.length);
    // Masks really are in the files: some targets are null, and not all.
    const t = JSON.parse(files[traceNames.find((n) => n.includes('masked'))!]!) as { case: { targets: unknown[] } };
    expect(t.case.targets.some((y) => y === null)).toBe(true);
    expect(t.case.targets.some((y) => y !== null)).toBe(true);
  });

  it('version 2 covers the configurations of format 1.1: cell mode, β, a clip that fires, every loss, labels, target scale', () => {
    const v11 = GOLDEN_SPECS.filter((x) => x.method !== undefined || x.loss !== undefined);
    expect(v11.some((x) => x.method?.mode === 'cell' && x.batch === undefined)).toBe(true);
    expect(v11.some((x) => x.method?.mode === 'cell' && x.batch !== undefined)).toBe(true);
    expect(new Set(v11.map((x) => x.method?.beta ?? 1)).size).toBeGreaterThanOrEqual(3);
    for (const loss of ['labels', 'xent', 'bce'] as const) expect(v11.some((x) => x.loss === loss)).toBe(true);
    expect(v11.some((x) => x.targetScale === 'batch') && v11.some((x) => x.targetScale === 'bits')).toBe(true);
    type Upd = { W: number[][]; b: number[] };
    const norm = (xs: readonly number[]) => Math.hypot(...xs);
    for (const name of traceNames) {
      const t = JSON.parse(files[name]!) as { method?: { kind: string; synthClip: number | string; mode: string }; computed: { synthesiserUpdatePerStep: Upd[]; synthesiserUpdate: Upd; forwardViewUpdate: Upd } };
      const c = t.computed;
      if (t.method !== undefined && t.method.kind !== 'bp-lambda') continue; // the n-step methods: below
      // The entries sum to the backward view (derived here, not by the code that wrote them).
      const sumB = c.synthesiserUpdate.b.map((_, i) => c.synthesiserUpdatePerStep.reduce((a, u) => a + u.b[i]!, 0));
      sumB.forEach((x, i) => expect(x, name).toBeCloseTo(c.synthesiserUpdate.b[i]!, 12));
      const clip = t.method?.synthClip;
      if (typeof clip === 'number') {
        // The clip fires: no tensor of a step above it, and some exactly at it.
        const norms = c.synthesiserUpdatePerStep.flatMap((u) => [norm(u.W.flat()), norm(u.b)]);
        for (const n of norms) expect(n, name).toBeLessThanOrEqual(clip * (1 + 1e-12));
        expect(norms.some((n) => Math.abs(n - clip) < 1e-12 * clip), name).toBe(true);
      } else if (t.method?.mode === 'cell') {
        // Without a clip the backward view equals the forward view in the cell mode too (spec §5 T1, §6.3).
        c.forwardViewUpdate.W.forEach((row, i) => row.forEach((x, j) => expect(x, name).toBeCloseTo(c.synthesiserUpdate.W[i]![j]!, 12)));
      }
    }
  });

  it('version 4 covers the step schedule (full and cell mode): each step’s parameters are SGD on the previous step’s gradient and update, by hand', () => {
    const steps = GOLDEN_SPECS.filter((x) => x.schedule !== undefined);
    expect(new Set(steps.map((x) => x.method!.mode))).toEqual(new Set(['full', 'cell']));
    type Rec = Record<string, number[] | number[][]>;
    type St = { method: { schedule: string; mode: string }; case?: { params: Rec; synthesiser: Rec }; batch?: { params: Rec; synthesiser: Rec }; stepParameters: { params: Rec; synthesiser: Rec }[]; computed: { sgGradientsPerStep: Rec[]; synthesiserUpdatePerStep: Rec[]; bpttGradients?: unknown } };
    for (const spec of steps) {
      const t = JSON.parse(files[traceNames.find((n) => n.includes(spec.name))!]!) as St;
      expect(t.method.schedule).toBe('step');
      expect(t.stepParameters).toHaveLength(spec.T - 1);
      expect(t.computed.bpttGradients).toBeUndefined();
      const lr = spec.schedule!.lr;
      const flat = (r: Rec) => Object.values(r).flat(2) as number[];
      const at = [(t.case ?? t.batch)!, ...t.stepParameters];
      const updates = t.computed.synthesiserUpdatePerStep.map(flat);
      for (let k = 0; k + 1 < at.length; k++) {
        // Ψ_{k+2} = Ψ_{k+1} − lr × (step k+1's gradient); θ_{k+2} = θ_{k+1} + lr × (the update step k+1 applied: the
        // TD error emitted there, entry k − 1; none at step 1).
        const psi = flat(at[k]!.params);
        flat(at[k + 1]!.params).forEach((x, i) => expect(x, `${spec.name} step ${k + 2} Ψ[${i}]`).toBeCloseTo(psi[i]! - lr * flat(t.computed.sgGradientsPerStep[k]!)[i]!, 13));
        const theta = flat(at[k]!.synthesiser);
        flat(at[k + 1]!.synthesiser).forEach((x, i) => expect(x, `${spec.name} step ${k + 2} θ[${i}]`).toBeCloseTo(theta[i]! + (k === 0 ? 0 : lr * updates[k - 1]![i]!), 13));
      }
      expect(flat(t.stepParameters.at(-1)!.synthesiser)).not.toEqual(flat((t.case ?? t.batch)!.synthesiser));
    }
  });

  it('version 3 covers the n-step methods: sg (both targets, both alignments) and tbptt; boundaries, predictions and update by hand', () => {
    const nStep = GOLDEN_SPECS.filter((x) => x.nStep !== undefined);
    expect(nStep.map((x) => x.nStep!.kind).sort()).toEqual(['sg', 'sg', 'tbptt']);
    expect(new Set(nStep.filter((x) => x.nStep!.kind === 'sg').map((x) => `${x.nStep!.align} ${(x.nStep as { target: string }).target}`))).toEqual(new Set(['end authors', 'start discounted']));
    // Chunk boundaries (1-based steps) derived by hand: T = 8, n = 3 from the end: chunks of 2, 3, 3 → t = 2, 5;
    // T = 6, n = 2 from the start: t = 2, 4 (the last chunk end, t = T, has no prediction).
    const boundaries: Record<string, number[]> = { 'batch-rnn-tanh-sg3-authors-end': [2, 5], 'lstm-sg2-discounted': [2, 4] };
    type Sg = { method: { kind: string }; case?: { synthesiser: { W: number[][]; b: number[] } }; batch?: { synthesiser: { W: number[][]; b: number[] } }; computed: Record<string, unknown> };
    for (const [name, ts] of Object.entries(boundaries)) {
      const t = JSON.parse(files[traceNames.find((n) => n.includes(name))!]!) as Sg;
      const { W, b } = (t.case ?? t.batch)!.synthesiser;
      const c = t.computed as { states: unknown; nStepPredictions: unknown; nStepTargets: unknown; synthesiserUpdate: { W: number[][]; b: number[] }; sgGradients: Record<string, number[] | number[][]>; bpttGradients: Record<string, number[] | number[][]> };
      const batched = <X>(v: unknown): X[] => (t.batch === undefined ? [v as X] : (v as X[]));
      const states = batched<number[][]>(c.states);
      const preds = batched<number[][]>(c.nStepPredictions);
      const targets = batched<number[][]>(c.nStepTargets);
      // ĝ at a boundary is the linear synthesiser on that state; the update is the mean over examples of
      // Σ_k (target_k − ĝ_k) [s_{t_k}; 1]^T (its parameter Jacobian, written out).
      const uW = W.map((row) => row.map(() => 0));
      const ub = b.map(() => 0);
      states.forEach((s, e) =>
        ts.forEach((tk, k) => {
          const x = s[tk - 1]!;
          W.forEach((row, i) => expect(preds[e]![k]![i], name).toBeCloseTo(row.reduce((a, w, j) => a + w * x[j]!, b[i]!), 12));
          const err = targets[e]![k]!.map((y, i) => y - preds[e]![k]![i]!);
          err.forEach((d, i) => {
            ub[i]! += d / states.length;
            x.forEach((xj, j) => (uW[i]![j]! += (d * xj) / states.length));
          });
        }),
      );
      uW.forEach((row, i) => row.forEach((x, j) => expect(c.synthesiserUpdate.W[i]![j], name).toBeCloseTo(x, 12)));
      ub.forEach((x, i) => expect(c.synthesiserUpdate.b[i], name).toBeCloseTo(x, 12));
      // The injected synthetic gradient and the truncation make the network gradient differ from BPTT's.
      expect(c.sgGradients['W_out']).toEqual(c.bpttGradients['W_out']);
      expect(JSON.stringify(c.sgGradients)).not.toBe(JSON.stringify(c.bpttGradients));
    }
    const tb = JSON.parse(files[traceNames.find((n) => n.includes('tbptt'))!]!) as { computed: { tbpttGradients: Record<string, unknown>; bpttGradients: Record<string, unknown> } };
    expect(tb.computed.tbpttGradients['W_out']).toEqual(tb.computed.bpttGradients['W_out']);
    expect(JSON.stringify(tb.computed.tbpttGradients['W_hh'])).not.toBe(JSON.stringify(tb.computed.bpttGradients['W_hh']));
  });

  it('class labels are one-hot targets: the labelled trace with one-hot vectors in their place verifies too', () => {
    const name = traceNames.find((n) => n.includes('xent-labels'))!;
    const t = JSON.parse(files[name]!) as { batch: { params: { b_out: number[] }; examples: { targets: (number | number[] | null)[] }[] } };
    const O = t.batch.params.b_out.length;
    let labels = 0;
    for (const e of t.batch.examples)
      e.targets = e.targets.map((y) => (typeof y === 'number' ? (labels++, Array.from({ length: O }, (_, k) => (k === y ? 1 : 0))) : y));
    expect(labels).toBeGreaterThan(0);
    const r = verifyTraceJson(JSON.stringify(t));
    expect(r.pass).toBe(true);
    for (const q of r.quantities) expect(q.maxAbsError).toBe(0);
  });

  it('every trace round-trips through verify with zero error, and its quantities are the oracle’s', () => {
    for (const name of traceNames) {
      const text = files[name]!;
      const r = verifyTraceJson(text);
      expect(r.pass, name).toBe(true);
      const t = JSON.parse(text) as { format: string; precision: string; case?: unknown; computed: Record<string, unknown> };
      // Format 1.1 adds the learning signal; the n-step methods have their own quantities. The per-step network
      // gradients (sgGradientsPerStep) came after golden version 3, whose files are unchanged.
      const spec = GOLDEN_SPECS[traceNames.indexOf(name)]!;
      const quantities = spec.schedule !== undefined ? STEP_SCHEDULE_QUANTITIES : METHOD_QUANTITIES[spec.nStep?.kind ?? 'bp-lambda'].filter((q) => q !== 'sgGradientsPerStep');
      expect(r.quantities).toHaveLength(t.format === 'bplambda-trace/1' ? 11 : quantities.length);
      for (const q of r.quantities) expect(q.maxAbsError, `${name} ${q.quantity}`).toBe(0);
      expect(t.format).toBe(isV11(spec) ? 'bplambda-trace/1.1' : 'bplambda-trace/1');
      expect(t.precision).toBe('float64');
      if (t.format !== 'bplambda-trace/1') continue;
      if (t.case !== undefined) {
        const { format: _f, ...result } = oracle(t.case);
        for (const [k, v] of Object.entries(result)) expect(t.computed[k]).toEqual(v);
      }
    }
  });

  // The hashes of each version's traces (inputs: the case or batch with the configuration fields; outputs: the
  // computed quantities as written). Version 2 keeps the 18 files of version 1 byte for byte: their hashes are
  // those pinned when version 1 was current.
  const PINNED: Record<number, { traces: number; inputs: string; outputs: string }> = {
    1: { traces: 18, inputs: '432bf2302ef4afaffff860ef27c9ea54d6132591677232a86dae400df36a46e0', outputs: '2cc449b3568aaaf74da6e2dd18a8945ae5a8bbc0dd6304d36c06004b1c6654f8' },
    2: { traces: 25, inputs: '85d0e646c160a99894a0b9910fd821a823893c29936d2a983738bd0766e88bcf', outputs: '8b1c0dee372a44660987988ec579a1e664431ee65c245724eff8e34f99f485d9' },
    3: { traces: 28, inputs: '98fcca226185362bca22f11803c1ae3ec12305a9081fb662021bb0699003b363', outputs: '95a3d91dd192050004fa2fa1946a310ce79d213a398a2c65f6f8b566d8c72829' },
    4: { traces: 30, inputs: '87e475d4078d97f81c669285644fcaa2bf886f98513562652cc00220b3e186df', outputs: 'a00d9526835b44008a9244011e81749146a6055a0fffd6f82ab4fab68a2fedd7' },
  };
  const inputsText = (names: readonly string[]) =>
    names
      .map((k) => {
        const { computed: _c, producer: _p, ...rest } = JSON.parse(files[k]!) as Record<string, unknown>;
        const t = rest as { case?: unknown; batch?: unknown; format: string };
        // Version 1 hashed the case or batch alone; later versions hash the configuration fields too.
        return JSON.stringify(t.format === 'bplambda-trace/1' ? (t.case ?? t.batch) : rest);
      })
      .join('\n');
  const outputsText = (names: readonly string[]) => names.map((k) => JSON.stringify((JSON.parse(files[k]!) as { computed: unknown }).computed)).join('\n');

  it('is deterministic, and the cases of every version are pinned', () => {
    expect(goldenFiles('bplambda test')).toEqual(files);
    // Changing any golden case (or its order) changes these hashes: bump GOLDEN_VERSION and add its pins.
    expect(GOLDEN_VERSION).toBe(4);
    expect(traceNames).toHaveLength(PINNED[GOLDEN_VERSION]!.traces);
    for (const [v, pin] of Object.entries(PINNED)) expect(sha256(inputsText(traceNames.slice(0, pin.traces))), `version ${v}`).toBe(pin.inputs);
  });

  it('pins the outputs of every version too: the oracle that wrote them cannot drift unnoticed (issue 15)', () => {
    // Every test above checks the set against the oracle that wrote it, so a change to the core's arithmetic would
    // pass them all while the published files changed. The computed quantities of every trace, as written
    // (shortest round-trip numbers), are pinned here: a change to them is a new GOLDEN_VERSION.
    expect(GOLDEN_VERSION).toBe(4);
    for (const [v, pin] of Object.entries(PINNED)) expect(sha256(outputsText(traceNames.slice(0, pin.traces))), `version ${v}`).toBe(pin.outputs);
  });

  it('has a manifest and SHA256SUMS with every file’s checksum and size, a README and the schema', () => {
    const m = JSON.parse(files['manifest.json']!) as Manifest;
    expect(m).toMatchObject({ format: 'bplambda-golden/1', goldenVersion: GOLDEN_VERSION, generator: 'bplambda test', traceFormat: 'bplambda-trace/1' });
    expect(m.files.map((f) => f.file).sort()).toEqual(Object.keys(files).filter((f) => f !== 'manifest.json' && f !== 'SHA256SUMS').sort());
    for (const f of m.files) {
      expect(f.sha256).toBe(sha256(files[f.file]!));
      expect(f.bytes).toBe(Buffer.byteLength(files[f.file]!));
    }
    const sums = files['SHA256SUMS']!.trimEnd().split('\n');
    expect(sums).toHaveLength(Object.keys(files).length - 1);
    for (const line of sums) {
      const [hash, name] = line.split('  ');
      expect(hash).toBe(sha256(files[name!]!));
    }
    expect(files['bplambda-trace-1.schema.json']).toBe(traceJsonSchemaText('1'));
    expect(files['bplambda-trace-1.1.schema.json']).toBe(traceJsonSchemaText('1.1'));
    const readme = files['README.md']!;
    for (const phrase of ['row-major', 'row vectors', 'ĝ_T = 0', '½‖ŷ_t − y_t‖²', 'direction to **add**', 'means over']) expect(readme).toContain(phrase);
    for (const n of traceNames) expect(readme).toContain(n);
  });
});

describe('bplambda golden (CLI)', () => {
  it('writes the set; verify passes on the written files; a second run writes the same bytes', async () => {
    const dir = join(tmp, 'set', 'v1');
    const first = await run(['golden', '--out', dir]);
    expect(first.status).toBe(0);
    expect(first.stderr).toBe('');
    const written = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const generator = (JSON.parse(written['manifest.json']!) as Manifest).generator;
    expect(generator).toMatch(/^bplambda \d+\.\d+\.\d+/);
    expect(written).toEqual(goldenFiles(generator));
    const pick = [traceNames[0]!, traceNames.find((n) => n.includes('lstm'))!, traceNames.find((n) => n.includes('batch'))!];
    const checks = await Promise.all([...pick.map((f) => run(['verify', join(dir, f)])), run(['golden', '--out', dir])]);
    for (const c of checks.slice(0, 3)) {
      expect(c.status).toBe(0);
      expect(c.stdout).toMatch(/PASS: all 11 quantities within tolerance/);
    }
    const cell = await run(['verify', join(dir, traceNames.find((n) => n.includes('lstm-cell-xent'))!)]);
    expect(cell.status, cell.stdout).toBe(0);
    expect(cell.stdout).toMatch(/PASS: all 12 quantities within tolerance/);
    expect(checks[3]!.status).toBe(0);
    expect(Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))).toEqual(written);
  });

  it('an --out that is a file exits 2 with one line and writes nothing; a missing --out is a usage error', async () => {
    const f = join(tmp, 'a-file');
    writeFileSync(f, 'x');
    const r = await run(['golden', '--out', f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^invalid option: --out .*is not a directory/);
    expect(readFileSync(f, 'utf8')).toBe('x');
    const below = await run(['golden', '--out', join(f, 'sub')]);
    expect(below.status).toBe(2);
    expect(below.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(join(f, 'sub'))).toBe(false);
    const usage = await run(['golden']);
    expect(usage.status).toBe(2);
  });
});
