/**
 * The oracle against an independent implementation of the contract (test-support/independent-oracle.ts: forward-mode
 * BPTT, explicit Jacobian products, explicit trace matrices), on 40 seeded random RNN and LSTM cases.
 *
 * - every field agrees to 1e-8 relative (per element |a − b| / max(1, |b|));
 * - the result has exactly the contract's top-level keys and shapes;
 * - a few cases go through the CLI as well, whose stdout must be exactly `JSON.stringify(oracle(case))` + newline;
 * - the independent implementation itself is pinned by a third method, central finite differences, on the BPTT
 *   gradients and on the γ = 1 future gradients.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oracle } from '../src/core/oracle.js';
import {
  type Activation,
  type IndependentCase,
  type Mat,
  type Vec,
  caseLoss,
  fieldDifferences,
  finiteDifferenceGradients,
  independentOracle,
  maxRelativeDifference,
  mulberry32,
  randomMatrix,
  randomVector,
} from '../test-support/independent-oracle.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/src/cli/main.js');

const TOP_KEYS = [
  'format',
  'loss',
  'states',
  'bpttGradients',
  'futureGradients',
  'syntheticGradients',
  'lambdaTargets',
  'tdErrors',
  'synthesiserUpdate',
  'forwardViewUpdate',
  'sgGradients',
].sort();

const ACTIVATIONS: Activation[] = ['identity', 'tanh', 'sigmoid', 'relu'];

/** Case `i` of the suite: sizes T 2..7, H 1..4, I 1..3, O 1..3; γ and λ each 0, 1 or random. */
const randomCase = (i: number): IndependentCase => {
  const rand = mulberry32(1000 + 7919 * i);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const T = int(2, 7);
  const H = int(1, 4);
  const I = int(1, 3);
  const O = int(1, 3);
  const lstm = i % 5 === 3 || i % 5 === 4; // 16 of 40
  const S = lstm ? 2 * H : H;
  const G = lstm ? 4 * H : H;
  const recName = lstm ? ['W_ih', 'W_hh'] : ['W_in', 'W_rec'];
  const params: Record<string, Mat | Vec> = {
    [recName[0]!]: randomMatrix(rand, G, I, 1.5 / Math.sqrt(I)),
    [recName[1]!]: randomMatrix(rand, G, H, 1.2 / Math.sqrt(H)),
    b: randomVector(rand, G, 0.5),
    W_out: randomMatrix(rand, O, H, 1 / Math.sqrt(H)),
    b_out: randomVector(rand, O, 0.3),
  };
  const targets: (Vec | null)[] = Array.from({ length: T }, () => (rand() < 0.4 ? null : randomVector(rand, O, 1)));
  if (!targets.some((y) => y !== null)) targets[int(0, T - 1)] = randomVector(rand, O, 1);
  // γ, λ: cycle through {0, 1, random} × {0, 1, random} so every endpoint combination occurs.
  const pick = (k: number): number => (k === 0 ? 0 : k === 1 ? 1 : rand());
  const gamma = pick(i % 3);
  const lambda = pick(Math.floor(i / 3) % 3);
  return {
    format: 'bplambda-case/1',
    cell: lstm ? { type: 'lstm' } : { type: 'rnn', activation: ACTIVATIONS[i % 5 === 0 ? 0 : i % 5 === 1 ? 1 : (i >> 1) % 2 === 0 ? 2 : 3]! },
    params,
    synthesiser: { W: randomMatrix(rand, S, S, 0.5 / Math.sqrt(S)), b: randomVector(rand, S, 0.3) },
    inputs: randomMatrix(rand, T, I, 1),
    targets,
    gamma,
    lambda,
  };
};

const N_CASES = 40;
const cases = Array.from({ length: N_CASES }, (_, i) => randomCase(i));
const CLI_CASES = new Set([0, 1, 3, 7, 14, 24]); // 3 RNN, 3 LSTM (3, 14, 24)

const shapeOf = (x: unknown): string => {
  if (typeof x === 'number') return 'n';
  if (Array.isArray(x)) {
    if (x.length === 0) return '[]';
    if (Array.isArray(x[0])) {
      const cols = (x[0] as unknown[]).length;
      const ok = x.every((r) => Array.isArray(r) && r.length === cols && r.every((v) => typeof v === 'number'));
      return ok ? `${x.length}x${cols}` : 'ragged';
    }
    return x.every((v) => typeof v === 'number') ? `${x.length}` : 'mixed';
  }
  return typeof x;
};

/** Exactly the contract's keys and shapes. */
const checkShapes = (r: Record<string, unknown>, c: IndependentCase): void => {
  const T = c.inputs.length;
  const H = (c.params.W_out as Mat)[0]!.length;
  const S = c.cell.type === 'lstm' ? 2 * H : H;
  expect(Object.keys(r).sort()).toEqual(TOP_KEYS);
  expect(r.format).toBe('bplambda-oracle/1');
  expect(typeof r.loss).toBe('number');
  expect(shapeOf(r.states)).toBe(`${T}x${S}`);
  for (const k of ['futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors']) expect(shapeOf(r[k]), k).toBe(`${T - 1}x${S}`);
  for (const k of ['synthesiserUpdate', 'forwardViewUpdate']) {
    const u = r[k] as Record<string, unknown>;
    expect(Object.keys(u).sort(), k).toEqual(['W', 'b']);
    expect(shapeOf(u.W), `${k}.W`).toBe(`${S}x${S}`);
    expect(shapeOf(u.b), `${k}.b`).toBe(`${S}`);
  }
  for (const k of ['bpttGradients', 'sgGradients']) {
    const g = r[k] as Record<string, unknown>;
    expect(Object.keys(g).sort(), k).toEqual(Object.keys(c.params).sort());
    for (const [name, p] of Object.entries(c.params)) expect(shapeOf(g[name]), `${k}.${name}`).toBe(shapeOf(p));
  }
};

const TOL = 1e-8;

const tmp = mkdtempSync(join(tmpdir(), 'bplambda-indep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('oracle vs independent implementation (40 seeded cases)', () => {
  it('the suite covers RNN activations, LSTM and the γ, λ endpoints', () => {
    const kinds = new Set(cases.map((c) => (c.cell.type === 'lstm' ? 'lstm' : c.cell.activation)));
    expect([...kinds].sort()).toEqual(['identity', 'lstm', 'relu', 'sigmoid', 'tanh']);
    for (const g of [0, 1]) for (const l of [0, 1]) expect(cases.some((c) => c.gamma === g && c.lambda === l)).toBe(true);
    expect(cases.some((c) => c.gamma > 0 && c.gamma < 1 && c.lambda > 0 && c.lambda < 1)).toBe(true);
    expect(cases.some((c) => c.targets.some((y) => y === null))).toBe(true);
  });

  it.each(cases.map((c, i) => [i, c.cell.type === 'lstm' ? 'lstm' : `rnn ${c.cell.activation}`, c.inputs.length, c] as const))(
    'case %i (%s, T=%i)',
    (i, _kind, _T, c) => {
      const raw = oracle(c) as unknown as Record<string, unknown>;
      checkShapes(raw, c); // the function result itself holds plain arrays and numbers
      const want = independentOracle(c) as unknown as Record<string, unknown>;
      let got = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
      if (CLI_CASES.has(i)) {
        const file = join(tmp, `case-${i}.json`);
        writeFileSync(file, JSON.stringify(c));
        const p = spawnSync(process.execPath, [cli, 'oracle', file], { encoding: 'utf8' });
        expect(p.stderr).toBe('');
        expect(p.status).toBe(0);
        expect(p.stdout).toBe(`${JSON.stringify(raw)}\n`);
        got = JSON.parse(p.stdout) as Record<string, unknown>;
        checkShapes(got, c);
      }
      const d = fieldDifferences(got, want);
      for (const [k, v] of Object.entries(d)) expect(v, `case ${i} field ${k}`).toBeLessThan(TOL);
    },
  );
});

describe('the independent implementation against central finite differences (third method)', () => {
  const fdCases = [0, 1, 2, 3, 4, 6, 9, 13].map((i) => cases[i]!);

  it.each(fdCases.map((c, k) => [k, c] as const))('BPTT gradients, case #%i', (_k, c) => {
    const fd = finiteDifferenceGradients(c);
    const mine = independentOracle(c).bpttGradients;
    expect(maxRelativeDifference(mine, fd)).toBeLessThan(1e-7);
  });

  it.each(fdCases.map((c, k) => [k, c] as const))('γ = 1 future gradients are ∂(Σ_{τ>t} L_τ)/∂s_t, case #%i', (_k, c) => {
    const c1: IndependentCase = { ...c, gamma: 1 };
    const r = independentOracle(c1);
    const T = c.inputs.length;
    const S = r.states[0]!.length;
    const H = (c.params.W_out as Mat)[0]!.length;
    for (let t = 1; t <= T - 1; t++) {
      // Σ_{τ>t} L_τ as a function of s_t: run steps t+1..T from s_t (LSTM: s = [h; c]).
      const lossAfter = (s: Vec): number => {
        const rest: IndependentCase = {
          ...c1,
          inputs: c.inputs.slice(t),
          targets: c.targets.slice(t),
        };
        return futureLoss(rest, s, H);
      };
      const fd = Array.from({ length: S }, (_, j) => {
        const e = 1e-6;
        const sp = [...r.states[t - 1]!];
        const sm = [...r.states[t - 1]!];
        sp[j]! += e;
        sm[j]! -= e;
        return (lossAfter(sp) - lossAfter(sm)) / (2 * e);
      });
      expect(maxRelativeDifference(r.futureGradients[t - 1], fd)).toBeLessThan(1e-7);
    }
  });
});

/** Loss of the steps of `c` run from the initial state `s0` instead of 0 (a separate plain forward pass). */
const futureLoss = (c: IndependentCase, s0: Vec, H: number): number => {
  const sig = (z: number): number => 1 / (1 + Math.exp(-z));
  const mv = (A: Mat, x: Vec): Vec => A.map((row) => row.reduce((a, w, j) => a + w * x[j]!, 0));
  let h = s0.slice(0, H);
  let cc = c.cell.type === 'lstm' ? s0.slice(H) : [];
  let L = 0;
  c.inputs.forEach((x, t) => {
    if (c.cell.type === 'lstm') {
      const a = mv(c.params.W_ih as Mat, x);
      const r = mv(c.params.W_hh as Mat, h);
      const z = a.map((v, k) => v + r[k]! + (c.params.b as Vec)[k]!);
      cc = cc.map((cp, k) => sig(z[H + k]!) * cp + sig(z[k]!) * Math.tanh(z[2 * H + k]!));
      h = cc.map((ck, k) => sig(z[3 * H + k]!) * Math.tanh(ck));
    } else {
      const actName = c.cell.activation;
      const a = mv(c.params.W_in as Mat, x);
      const r = mv(c.params.W_rec as Mat, h);
      h = a.map((v, k) => {
        const u = v + r[k]! + (c.params.b as Vec)[k]!;
        return actName === 'identity' ? u : actName === 'tanh' ? Math.tanh(u) : actName === 'sigmoid' ? sig(u) : Math.max(0, u);
      });
    }
    const y = c.targets[t];
    if (y) {
      const o = mv(c.params.W_out as Mat, h);
      L += 0.5 * o.reduce((acc, v, k) => acc + (v + (c.params.b_out as Vec)[k]! - y[k]!) ** 2, 0);
    }
  });
  return L;
};

// caseLoss is the s0 = 0 special case of futureLoss: keep the two consistent.
describe('test helpers', () => {
  it('futureLoss from s0 = 0 equals caseLoss', () => {
    for (const c of cases.slice(0, 10)) {
      const H = (c.params.W_out as Mat)[0]!.length;
      const S = c.cell.type === 'lstm' ? 2 * H : H;
      expect(futureLoss(c, Array.from({ length: S }, () => 0), H)).toBeCloseTo(caseLoss(c), 14);
    }
  });
});
