/**
 * The `bplambda oracle` command line against the contract (docs/spec/oracle-contract.md):
 *
 * - every kind of invalid case exits 2 with exactly one stderr line `invalid case: …` naming the offending field
 *   (JSON path), prints nothing on stdout, and with `--out FILE` neither creates FILE nor touches an existing one
 *   (and leaves no temporary file behind);
 * - a missing file and command-line usage errors exit 2 with one stderr line and nothing on stdout;
 * - the valid path: exit 0, stdout is one JSON document (shortest round-trip numbers) equal to `oracle(case)`;
 *   `--out` writes the same bytes atomically; `--summary` prints a readable table; `npm run bplambda` is the same.
 *
 * The CLI is run from dist/ (`npm run build` first). The invalid-case runs go in parallel to keep time low.

 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracle } from '../src/core/oracle.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'bplambda-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const run = (args: string[], cwd = root): Promise<Run> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });

/** Run thunks with at most `n` in flight. */
const pool = async <T>(thunks: (() => Promise<T>)[], n: number): Promise<T[]> => {
  const out: T[] = new Array<T>(thunks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < thunks.length) {
      const i = next++;
      out[i] = await thunks[i]!();
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return out;
};

// ---- valid base cases
type Json = Record<string, unknown>;
const rnnBase = (): Json => ({
  format: 'bplambda-case/1',
  cell: { type: 'rnn', activation: 'tanh' },
  params: {
    W_in: [
      [0.5, -0.25],
      [0.125, 0.75],
    ],
    W_rec: [
      [0.3, -0.2],
      [0.1, 0.4],
    ],
    b: [0.05, -0.1],
    W_out: [
      [1, -0.5],
      [0.25, 0.5],
    ],
    b_out: [0.1, 0],
  },
  synthesiser: {
    W: [
      [0.1, 0.2],
      [-0.3, 0.05],
    ],
    b: [0.01, -0.02],
  },
  inputs: [
    [1, 0],
    [0, 1],
    [-1, 0.5],
  ],
  targets: [null, [0.5, -0.5], [1, 0]],
  gamma: 0.9,
  lambda: 0.5,
});
const lstmBase = (): Json => ({
  format: 'bplambda-case/1',
  cell: { type: 'lstm' },
  params: {
    W_ih: [[0.1], [0.2], [-0.3], [0.4], [0.5], [-0.6], [0.7], [0.8]],
    W_hh: [
      [0.1, -0.1],
      [0.2, 0.05],
      [-0.3, 0.1],
      [0.4, 0.2],
      [0.5, -0.2],
      [-0.6, 0.3],
      [0.7, 0.1],
      [0.8, -0.4],
    ],
    b: [0.1, 0, 0.5, 1, -0.2, 0.3, 0, 0.1],
    W_out: [[1, -1]],
    b_out: [0.2],
  },
  synthesiser: {
    W: [
      [0.1, 0, 0, 0],
      [0, 0.1, 0, 0],
      [0, 0, 0.1, 0],
      [0, 0, 0, 0.1],
    ],
    b: [0, 0.1, 0, -0.1],
  },
  inputs: [[1], [0], [-1]],
  targets: [[0.5], null, [1]],
  gamma: 0.5,
  lambda: 1,
});

/** A copy of `base` with `edit` applied. */
const edited = (base: () => Json, edit: (c: Record<string, any>) => void): Json => {
  const c = base();
  edit(c);
  return c;
};

/** The JSON text of `base` with one literal substring replaced (it must occur). */
const withText = (base: () => Json, from: string, to: string): string => {
  const text = JSON.stringify(base());
  if (!text.includes(from)) throw new Error(`test bug: ${from} not in the base case`);
  return text.replace(from, to);
};

interface InvalidCase {
  name: string;
  /** File text, or an object to JSON.stringify. */
  content: string | Json;
  /** Fragments that the stderr message must contain (the JSON path of the offending field). */
  mentions: string[];
}

const invalid: InvalidCase[] = [
  // JSON and top level
  { name: 'malformed JSON', content: '{"format": "bplambda-case/1",', mentions: ['JSON'] },
  { name: 'empty file', content: '', mentions: ['JSON'] },
  { name: 'top level is an array', content: '[1, 2]', mentions: [] },
  { name: 'top level is null', content: 'null', mentions: [] },
  { name: 'wrong format string', content: edited(rnnBase, (c) => (c.format = 'bplambda-case/2')), mentions: ['format'] },
  { name: 'result format given as case format', content: edited(rnnBase, (c) => (c.format = 'bplambda-oracle/1')), mentions: ['format'] },
  { name: 'missing format', content: edited(rnnBase, (c) => delete c.format), mentions: ['format'] },
  { name: 'unknown top-level field', content: edited(rnnBase, (c) => (c.comment = 'hello')), mentions: ['comment'] },
  // unknown nested fields
  { name: 'unknown field in params', content: edited(rnnBase, (c) => (c.params.W_extra = [[1]])), mentions: ['params', 'W_extra'] },
  { name: 'LSTM parameter names on an RNN', content: edited(rnnBase, (c) => (c.params.W_ih = c.params.W_in)), mentions: ['params', 'W_ih'] },
  { name: 'unknown field in synthesiser', content: edited(rnnBase, (c) => (c.synthesiser.bias2 = [0, 0])), mentions: ['synthesiser', 'bias2'] },
  { name: 'unknown field in cell', content: edited(rnnBase, (c) => (c.cell.hidden = 2)), mentions: ['cell', 'hidden'] },
  { name: 'activation on an LSTM cell', content: edited(lstmBase, (c) => (c.cell.activation = 'tanh')), mentions: ['cell', 'activation'] },
  // missing fields
  { name: 'missing cell', content: edited(rnnBase, (c) => delete c.cell), mentions: ['cell'] },
  { name: 'missing cell.type', content: edited(rnnBase, (c) => delete c.cell.type), mentions: ['cell'] },
  { name: 'missing cell.activation (rnn)', content: edited(rnnBase, (c) => delete c.cell.activation), mentions: ['cell.activation'] },
  { name: 'missing params', content: edited(rnnBase, (c) => delete c.params), mentions: ['params'] },
  { name: 'missing params.W_rec', content: edited(rnnBase, (c) => delete c.params.W_rec), mentions: ['params.W_rec'] },
  { name: 'missing params.b_out', content: edited(rnnBase, (c) => delete c.params.b_out), mentions: ['params.b_out'] },
  { name: 'missing params.W_hh (lstm)', content: edited(lstmBase, (c) => delete c.params.W_hh), mentions: ['params.W_hh'] },
  { name: 'missing synthesiser', content: edited(rnnBase, (c) => delete c.synthesiser), mentions: ['synthesiser'] },
  { name: 'missing synthesiser.W', content: edited(rnnBase, (c) => delete c.synthesiser.W), mentions: ['synthesiser.W'] },
  { name: 'missing inputs', content: edited(rnnBase, (c) => delete c.inputs), mentions: ['inputs'] },
  { name: 'missing targets', content: edited(rnnBase, (c) => delete c.targets), mentions: ['targets'] },
  { name: 'missing gamma', content: edited(rnnBase, (c) => delete c.gamma), mentions: ['gamma'] },
  { name: 'missing lambda', content: edited(rnnBase, (c) => delete c.lambda), mentions: ['lambda'] },
  // cell
  { name: 'unknown cell type', content: edited(rnnBase, (c) => (c.cell.type = 'gru')), mentions: ['cell'] },
  { name: 'unknown activation', content: edited(rnnBase, (c) => (c.cell.activation = 'softplus')), mentions: ['cell.activation'] },
  // wrong shapes: RNN (H = 2, I = 2, O = 2)
  { name: 'W_in with an extra column', content: edited(rnnBase, (c) => c.params.W_in.forEach((r: number[]) => r.push(0))), mentions: ['params.W_in'] },
  { name: 'W_in with an extra row', content: edited(rnnBase, (c) => c.params.W_in.push([0, 0])), mentions: ['params.W_in'] },
  { name: 'W_rec 2x3', content: edited(rnnBase, (c) => c.params.W_rec.forEach((r: number[]) => r.push(0))), mentions: ['params.W_rec'] },
  { name: 'W_rec 3x2', content: edited(rnnBase, (c) => c.params.W_rec.push([0, 0])), mentions: ['params.W_rec'] },
  { name: 'b too long', content: edited(rnnBase, (c) => c.params.b.push(0)), mentions: ['params.b'] },
  { name: 'b too short', content: edited(rnnBase, (c) => c.params.b.pop()), mentions: ['params.b'] },
  { name: 'W_out with an extra column', content: edited(rnnBase, (c) => c.params.W_out.forEach((r: number[]) => r.push(0))), mentions: ['params.W_out'] },
  { name: 'b_out too long', content: edited(rnnBase, (c) => c.params.b_out.push(0)), mentions: ['params.b_out'] },
  { name: 'synthesiser.W 2x3', content: edited(rnnBase, (c) => c.synthesiser.W.forEach((r: number[]) => r.push(0))), mentions: ['synthesiser.W'] },
  { name: 'synthesiser.W 1x2', content: edited(rnnBase, (c) => c.synthesiser.W.pop()), mentions: ['synthesiser.W'] },
  { name: 'synthesiser.b too short', content: edited(rnnBase, (c) => c.synthesiser.b.pop()), mentions: ['synthesiser.b'] },
  { name: 'a matrix given as a vector', content: edited(rnnBase, (c) => (c.params.W_rec = [0.1, 0.2])), mentions: ['params.W_rec'] },
  { name: 'a vector given as a matrix', content: edited(rnnBase, (c) => (c.params.b = [[0.1], [0.2]])), mentions: ['params.b'] },
  { name: 'empty matrix', content: edited(rnnBase, (c) => (c.params.W_rec = [])), mentions: ['params.W_rec'] },
  // valid in form, but the loss overflows float64 (JSON cannot carry the result): rejected, naming the result field
  { name: 'a case whose loss overflows float64', content: edited(rnnBase, (c) => (c.params.W_out = c.params.W_out.map((r: number[]) => r.map(() => 1e308)))), mentions: ['overflows float64', 'loss'] },
  // wrong shapes: LSTM (H = 2, I = 1, O = 1, S = 4)
  { name: 'LSTM W_ih with H rows instead of 4H', content: edited(lstmBase, (c) => (c.params.W_ih = c.params.W_ih.slice(0, 2))), mentions: ['params.W_ih'] },
  { name: 'LSTM W_ih with an extra column', content: edited(lstmBase, (c) => c.params.W_ih.forEach((r: number[]) => r.push(0))), mentions: ['params.W_ih'] },
  { name: 'LSTM W_hh 8x3', content: edited(lstmBase, (c) => c.params.W_hh.forEach((r: number[]) => r.push(0))), mentions: ['params.W_hh'] },
  { name: 'LSTM W_hh 7x2', content: edited(lstmBase, (c) => c.params.W_hh.pop()), mentions: ['params.W_hh'] },
  { name: 'LSTM b length 7 (not divisible by 4)', content: edited(lstmBase, (c) => c.params.b.pop()), mentions: ['params.b'] },
  { name: 'LSTM b length 9 (not divisible by 4)', content: edited(lstmBase, (c) => c.params.b.push(0)), mentions: ['params.b'] },
  { name: 'LSTM W_ih, W_hh, b all with 4H+1 rows', content: edited(lstmBase, (c) => {
      c.params.W_ih.push([0]);
      c.params.W_hh.push([0, 0]);
      c.params.b.push(0);
    }), mentions: ['params'] },
  { name: 'LSTM W_out with an extra column', content: edited(lstmBase, (c) => c.params.W_out[0].push(0)), mentions: ['params.W_out'] },
  { name: 'LSTM synthesiser.W H×H instead of 2H×2H', content: edited(lstmBase, (c) => (c.synthesiser.W = [[0, 0], [0, 0]])), mentions: ['synthesiser.W'] },
  { name: 'LSTM synthesiser.b of length H', content: edited(lstmBase, (c) => (c.synthesiser.b = [0, 0])), mentions: ['synthesiser.b'] },
  // ragged rows
  { name: 'ragged W_rec', content: edited(rnnBase, (c) => c.params.W_rec[1].pop()), mentions: ['params.W_rec'] },
  { name: 'ragged W_in', content: edited(rnnBase, (c) => c.params.W_in[0].push(1)), mentions: ['params.W_in'] },
  { name: 'ragged synthesiser.W', content: edited(rnnBase, (c) => c.synthesiser.W[0].pop()), mentions: ['synthesiser.W'] },
  { name: 'ragged inputs', content: edited(rnnBase, (c) => c.inputs[1].push(0)), mentions: ['inputs[1]'] },
  { name: 'ragged LSTM W_hh', content: edited(lstmBase, (c) => c.params.W_hh[3].pop()), mentions: ['params.W_hh'] },
  // sequence
  { name: 'T = 1', content: edited(rnnBase, (c) => {
      c.inputs = [[1, 0]];
      c.targets = [[1, 0]];
    }), mentions: ['inputs'] },
  { name: 'T = 0', content: edited(rnnBase, (c) => {
      c.inputs = [];
      c.targets = [];
    }), mentions: ['inputs'] },
  // every input row one wider than W_in: either side may be blamed; the oracle takes I from the inputs
  { name: 'all inputs one wider than W_in', content: edited(rnnBase, (c) => (c.inputs = c.inputs.map((r: number[]) => [...r, 0]))), mentions: ['params.W_in'] },
  { name: 'targets shorter than T', content: edited(rnnBase, (c) => c.targets.pop()), mentions: ['targets'] },
  { name: 'targets longer than T', content: edited(rnnBase, (c) => c.targets.push(null)), mentions: ['targets'] },
  { name: 'a target of the wrong length', content: edited(rnnBase, (c) => (c.targets[2] = [1, 0, 0])), mentions: ['targets[2]'] },
  { name: 'a target that is a number', content: edited(rnnBase, (c) => (c.targets[1] = 0.5)), mentions: ['targets[1]'] },
  { name: 'a target that is an empty array', content: edited(rnnBase, (c) => (c.targets[1] = [])), mentions: ['targets[1]'] },
  { name: 'targets not an array', content: edited(rnnBase, (c) => (c.targets = null)), mentions: ['targets'] },
  // non-finite numbers (1e400 parses to Infinity)
  { name: 'Infinity in W_rec', content: withText(rnnBase, '0.4]', '1e400]'), mentions: ['params.W_rec'] },
  { name: '-Infinity in b', content: withText(rnnBase, '"b":[0.05', '"b":[-1e400'), mentions: ['params.b'] },
  { name: 'Infinity in inputs', content: withText(rnnBase, '[-1,0.5]', '[-1,1e400]'), mentions: ['inputs[2]'] },
  { name: 'Infinity in a target', content: withText(rnnBase, '[1,0]]', '[1e400,0]]'), mentions: ['targets[2]'] },
  { name: 'Infinity in synthesiser.W', content: withText(rnnBase, '0.05]]', '1e400]]'), mentions: ['synthesiser.W'] },
  { name: 'Infinity in LSTM W_ih', content: withText(lstmBase, '[0.8]]', '[1e400]]'), mentions: ['params.W_ih'] },
  { name: 'Infinity in gamma', content: withText(rnnBase, '"gamma":0.9', '"gamma":1e400'), mentions: ['gamma'] },
  // wrong types
  { name: 'string in W_rec', content: edited(rnnBase, (c) => (c.params.W_rec[0][1] = '0.2')), mentions: ['params.W_rec'] },
  { name: 'string in b_out', content: edited(rnnBase, (c) => (c.params.b_out[0] = 'x')), mentions: ['params.b_out'] },
  { name: 'boolean in inputs', content: edited(rnnBase, (c) => (c.inputs[0][0] = true)), mentions: ['inputs[0]'] },
  { name: 'null inside a matrix', content: edited(rnnBase, (c) => (c.synthesiser.W[1][0] = null)), mentions: ['synthesiser.W'] },
  { name: 'string in a target', content: edited(rnnBase, (c) => (c.targets[1] = ['0.5', -0.5])), mentions: ['targets[1]'] },
  { name: 'gamma as a string', content: edited(rnnBase, (c) => (c.gamma = '0.9')), mentions: ['gamma'] },
  { name: 'lambda as null', content: edited(rnnBase, (c) => (c.lambda = null)), mentions: ['lambda'] },
  { name: 'params as an array', content: edited(rnnBase, (c) => (c.params = [])), mentions: ['params'] },
  { name: 'cell as a string', content: edited(rnnBase, (c) => (c.cell = 'rnn')), mentions: ['cell'] },
  // γ, λ range
  { name: 'gamma < 0', content: edited(rnnBase, (c) => (c.gamma = -0.1)), mentions: ['gamma'] },
  { name: 'gamma > 1', content: edited(rnnBase, (c) => (c.gamma = 1.0000001)), mentions: ['gamma'] },
  { name: 'lambda < 0', content: edited(rnnBase, (c) => (c.lambda = -1e-9)), mentions: ['lambda'] },
  { name: 'lambda > 1', content: edited(rnnBase, (c) => (c.lambda = 2)), mentions: ['lambda'] },
  { name: 'LSTM gamma > 1', content: edited(lstmBase, (c) => (c.gamma = 1.5)), mentions: ['gamma'] },
];

/**
 * Each invalid case is run once with `--out` (even-numbered cases: to a file that does not exist; odd-numbered:
 * over an existing file, which must stay untouched); every fifth case also runs without `--out`. One CLI start costs
 * about 0.1 s of CPU, so this keeps the file near 10 s on two cores while covering both `--out` situations.
 */
interface InvalidOutcome {
  runs: Run[];
  /** Directory listing of the --out directory after the run. */
  outDir: string[];
  /** The --out file's text afterwards, or null if it does not exist. */
  outText: string | null;
  outExisted: boolean;
}

const PREVIOUS = '{"previous": "result"}\n';
const outcomes = new Map<string, InvalidOutcome>();

beforeAll(async () => {
  const thunks = invalid.map((ic, i) => async (): Promise<void> => {
    const dir = join(tmp, `invalid-${i}`);
    const outDir = join(dir, 'out');
    mkdirSync(outDir, { recursive: true });
    const file = join(dir, 'case.json');
    writeFileSync(file, typeof ic.content === 'string' ? ic.content : JSON.stringify(ic.content));
    const out = join(outDir, 'result.json');
    const outExisted = i % 2 === 1;
    if (outExisted) writeFileSync(out, PREVIOUS);
    const runs = await Promise.all([run(['oracle', file, '--out', out]), ...(i % 5 === 0 ? [run(['oracle', file])] : [])]);
    outcomes.set(ic.name, { runs, outDir: readdirSync(outDir), outText: existsSync(out) ? readFileSync(out, 'utf8') : null, outExisted });
  });
  await pool(thunks, 4);
});

/** One line on stderr, starting with `prefix`, and nothing on stdout; exit 2. */
const expectUsageError = (r: Run, prefix: string | RegExp): void => {
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.slice(0, -1)).not.toContain('\n');
  if (typeof prefix === 'string') expect(r.stderr.startsWith(prefix), r.stderr).toBe(true);
  else expect(r.stderr).toMatch(prefix);
  expect(r.status, r.stderr).toBe(2);
};

/** Does `message` name every field in `mentions` (a `params.b` mention must not be satisfied by `params.b_out`)? */
const namesAll = (message: string, mentions: string[]): boolean =>
  mentions.every((m) => new RegExp(`${m.replace(/[.[\]]/g, (x) => `\\${x}`)}(?![A-Za-z_])`).test(message));

describe('invalid cases: exit 2, one stderr line naming the field, nothing written', () => {
  it.each(invalid.map((ic) => [ic.name, ic] as const))('%s', (_name, ic) => {
    const o = outcomes.get(ic.name)!;
    for (const r of o.runs) {
      expectUsageError(r, 'invalid case: ');
      expect(namesAll(r.stderr, ic.mentions), `${r.stderr.trim()} should name ${ic.mentions.join(', ')}`).toBe(true);
      expect(r.stderr).toBe(o.runs[0]!.stderr);
    }
    if (o.outExisted) {
      expect(o.outText).toBe(PREVIOUS);
      expect(o.outDir).toEqual(['result.json']);
    } else {
      expect(o.outText).toBeNull();
      expect(o.outDir).toEqual([]);
    }
  });

  it('the exported oracle() rejects the same cases, naming the same fields', () => {
    for (const ic of invalid) {
      if (typeof ic.content === 'string') continue;
      let message = '';
      try {
        oracle(ic.content);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, ic.name).not.toBe('');
      expect(outcomes.get(ic.name)!.runs[0]!.stderr).toBe(`invalid case: ${message}\n`);
    }
  });

  it('a message says what was expected, e.g. the shape', () => {
    const r = outcomes.get('W_rec 3x2')!.runs[0]!;
    expect(r.stderr).toMatch(/3\s*x\s*2|3×2/);
    expect(r.stderr).toMatch(/2\s*x\s*2|2×2/);
  });
});

describe('file and usage errors', () => {
  it('a missing case file: exit 2, one line, --out not created', async () => {
    const out = join(tmp, 'missing-out.json');
    const r = await run(['oracle', join(tmp, 'no-such-case.json'), '--out', out]);
    expectUsageError(r, /^invalid (case|input): .*no-such-case\.json/);
    expect(existsSync(out)).toBe(false);
  });

  it('a directory as the case file: exit 2, one line', async () => {
    const r = await run(['oracle', tmp]);
    expectUsageError(r, /^invalid (case|input): /);
  });

  it.each([
    ['an unknown option', ['oracle', 'examples/rnn-tanh.json', '--frobnicate']],
    ['a missing case argument', ['oracle']],
    ['--out without a value', ['oracle', 'examples/rnn-tanh.json', '--out']],
    ['an extra argument', ['oracle', 'examples/rnn-tanh.json', 'examples/rnn-tanh.json']],
    ['an unknown command', ['frobnicate', 'examples/rnn-tanh.json']],
  ])('%s: exit 2, one stderr line, nothing on stdout', async (_name, args) => {
    const r = await run(args);
    expectUsageError(r, /\S/);
  });
});

describe('the valid path', () => {
  const dir = join(tmp, 'valid');
  mkdirSync(dir, { recursive: true });
  const rnnFile = join(dir, 'rnn.json');
  const lstmFile = join(dir, 'lstm.json');
  writeFileSync(rnnFile, JSON.stringify(rnnBase()));
  writeFileSync(lstmFile, JSON.stringify(lstmBase(), null, 2)); // pretty-printed input is fine too

  it.each([
    ['rnn', rnnFile, rnnBase()],
    ['lstm', lstmFile, lstmBase()],
  ])('%s: exit 0, stdout is one JSON document equal to oracle(case), numbers in shortest round-trip form', async (_n, file, c) => {
    const r = await run(['oracle', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(r.stdout) as Json;
    expect(parsed.format).toBe('bplambda-oracle/1');
    expect(r.stdout).toBe(`${JSON.stringify(parsed)}\n`); // re-serialising changes nothing: shortest round-trip
    expect(parsed).toEqual(JSON.parse(JSON.stringify(oracle(c))));
  });

  it('--out writes the same JSON atomically (nothing on stdout, no temporary file left), replacing an old file', async () => {
    const outDir = join(dir, 'out');
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, 'result.json');
    const plain = await run(['oracle', rnnFile]);
    const r = await run(['oracle', rnnFile, '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(plain.stdout);
    expect(readdirSync(outDir)).toEqual(['result.json']);
    writeFileSync(out, PREVIOUS);
    const r2 = await run(['oracle', lstmFile, '--out', out]);
    expect(r2.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(oracle(lstmBase()))));
    expect(readdirSync(outDir)).toEqual(['result.json']);
  });

  it('--out with a relative path resolves against the working directory', async () => {
    const r = await run(['oracle', rnnFile, '--out', 'rel.json'], dir);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'rel.json'), 'utf8')).format).toBe('bplambda-oracle/1');
  });

  it('--summary prints a readable table with the loss; with --out the JSON still goes to the file', async () => {
    const r = await run(['oracle', 'examples/toy-rnn.json', '--summary']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('loss');
    expect(() => JSON.parse(r.stdout)).toThrow();
    const loss = oracle(JSON.parse(readFileSync(join(root, 'examples/toy-rnn.json'), 'utf8'))).loss;
    expect(r.stdout).toContain(loss.toFixed(6));
    expect(r.stdout.split('\n').length).toBeGreaterThan(10);
    const out = join(dir, 'summary-out.json');
    const r2 = await run(['oracle', lstmFile, '--summary', '--out', out]);
    expect(r2.status).toBe(0);
    expect(r2.stdout).toContain('loss');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(oracle(lstmBase()))));
  });

  it('all targets null is valid: loss 0 and zero BPTT gradients', async () => {
    const file = join(dir, 'no-targets.json');
    writeFileSync(file, JSON.stringify(edited(rnnBase, (c) => (c.targets = [null, null, null]))));
    const r = await run(['oracle', file]);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout) as { loss: number; bpttGradients: Record<string, unknown> };
    expect(res.loss).toBe(0);
    expect(Object.values(res.bpttGradients).flat(2).every((x) => x === 0)).toBe(true);
  });

  it('γ and λ at the endpoints 0 and 1 are valid', async () => {
    const file = join(dir, 'ends.json');
    writeFileSync(file, JSON.stringify(edited(lstmBase, (c) => ((c.gamma = 0), (c.lambda = 0)))));
    expect((await run(['oracle', file])).status).toBe(0);
    writeFileSync(file, JSON.stringify(edited(rnnBase, (c) => ((c.gamma = 1), (c.lambda = 1)))));
    expect((await run(['oracle', file])).status).toBe(0);
  });

  it('`npm run --silent bplambda -- oracle CASE.json` prints the same JSON', () => {
    const npm = spawnSync('npm', ['run', '--silent', 'bplambda', '--', 'oracle', rnnFile], { cwd: root, encoding: 'utf8' });
    expect(npm.status).toBe(0);
    expect(npm.stdout).toBe(`${JSON.stringify(oracle(rnnBase()))}\n`);
  });
});
