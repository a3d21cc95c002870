/**
 * The oracle (`docs/spec/oracle-contract.md`, format version 1): one fully specified sequence in, every
 * quantity of BP(λ) and of exact BPTT out, in float64.
 *
 * The backward view (`synthesiserUpdate`, `tdErrors`, `sgGradients`) is computed by the online step function
 * `bpLambdaStep`; the forward view (`lambdaTargets`, `forwardViewUpdate`) and `bpttGradients`, `futureGradients`
 * by the separate backward recursions of `bptt.ts`. Their agreement is one of the library's checks.
 */
import { z } from 'zod';
import { type BpLambdaStepResult, bpLambdaSequence } from './bplambda.js';
import { backprop, forwardViewUpdate, futureGradients, lambdaTargets, predictions, trajectory } from './bptt.js';
import type { Cell } from './cell.js';
import { InvalidInputError, fromZodError } from './errors.js';
import { lstmCell } from './lstm.js';
import { type LossKind, type Model, type Sequence, sequenceLoss } from './model.js';
import type { BpLambdaMode } from './modes.js';
import { ACTIVATIONS, rnnCell } from './rnn.js';
import { linearSynthesiser } from './synthesiser.js';
import { type Params, type Tensor, fromRows, toRows, unflattenParams } from './tensor.js';

const num = z.number();
const matrix = z.array(z.array(num));
const vector = z.array(num);
const unit = num.refine((v) => v >= 0 && v <= 1, { message: 'a number in [0, 1]' });

export const caseSchema = z.strictObject({
  format: z.literal('bplambda-case/1'),
  cell: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('rnn'), activation: z.enum(ACTIVATIONS) }),
    z.strictObject({ type: z.literal('lstm') }),
  ]),
  params: z.strictObject({
    W_in: matrix.optional(),
    W_rec: matrix.optional(),
    W_ih: matrix.optional(),
    W_hh: matrix.optional(),
    b: vector,
    W_out: matrix,
    b_out: vector,
  }),
  synthesiser: z.strictObject({ W: matrix, b: vector }),
  inputs: matrix,
  targets: z.array(vector.nullable()),
  gamma: unit,
  lambda: unit,
});

export type OracleCase = z.infer<typeof caseSchema>;

type Rows = readonly (readonly number[])[];

export interface OracleResult {
  readonly format: 'bplambda-oracle/1';
  readonly loss: number;
  readonly states: number[][];
  readonly bpttGradients: Record<string, number[][] | number[]>;
  readonly futureGradients: number[][];
  readonly syntheticGradients: number[][];
  readonly lambdaTargets: number[][];
  readonly tdErrors: number[][];
  readonly synthesiserUpdate: { W: number[][]; b: number[] };
  readonly forwardViewUpdate: { W: number[][]; b: number[] };
  readonly sgGradients: Record<string, number[][] | number[]>;
}

/** The most common positive integer among the readings (ties: the earliest); 0 when there is none. */
const consensus = (readings: readonly (number | undefined)[]): number => {
  const counts = new Map<number, number>();
  for (const r of readings) if (r !== undefined && Number.isInteger(r) && r > 0) counts.set(r, (counts.get(r) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, n] of counts) if (n > bestCount) [best, bestCount] = [v, n];
  return best;
};

const shapeText = (rows: Rows): string => `${rows.length}x${rows[0]?.length ?? 0}`;

const checkMatrix = (path: string, rows: Rows | undefined, r: number, c: number): void => {
  if (rows === undefined) throw new InvalidInputError(path, `a ${r}x${c} matrix`, 'is missing');
  const ragged = rows.findIndex((row) => row.length !== rows[0]!.length);
  if (ragged >= 0) throw new InvalidInputError(`${path}[${ragged}]`, `${rows[0]!.length} entries like the first row`, `has ${rows[ragged]!.length}`);
  if (rows.length !== r || (rows[0]?.length ?? 0) !== c)
    throw new InvalidInputError(path, `${r}x${c}`, `has shape ${shapeText(rows)}`);
};

const checkVector = (path: string, v: readonly unknown[], n: number): void => {
  if (v.length !== n) throw new InvalidInputError(path, `${n} entries`, `has ${v.length}`);
};

/** A validated case, turned into the library's objects. */
export interface ParsedCase {
  readonly model: Model;
  readonly params: Params;
  readonly theta: Params;
  readonly sequence: Sequence;
  readonly gamma: number;
  readonly lambda: number;
}

/**
 * What a case is read for, beyond the contract's own (`bplambda-case/1`: the full-state synthesiser, ½‖ŷ − y‖²):
 * a trace of format 1.1 (src/verify) may declare the LSTM's cell mode, whose synthesiser maps the state (S = 2H)
 * to the memory (H), so `synthesiser.W` is H×S and `synthesiser.b` has H entries (spec §6.3), and another loss.
 */
export interface CaseReading {
  readonly mode?: BpLambdaMode;
  readonly loss?: LossKind;
}

/** Validate a case (already parsed from JSON) against the contract; throws InvalidInputError naming the field. */
export const parseCase = (input: unknown, reading: CaseReading = {}): ParsedCase => {
  const cellMode = reading.mode === 'cell';
  const r = caseSchema.safeParse(input);
  if (!r.success) throw fromZodError(r.error);
  const c = r.data;
  const p = c.params;
  const T = c.inputs.length;
  if (T < 2) throw new InvalidInputError('inputs', 'at least 2 steps (T ≥ 2)', `has ${T}`);
  const I = c.inputs[0]!.length;
  if (I < 1) throw new InvalidInputError('inputs[0]', 'at least one input entry', 'is empty');
  checkMatrix('inputs', c.inputs, T, I);
  // Sizes are read from every field that states them and the most common reading wins, so that a message
  // blames the one field that disagrees (a wrong b names params.b, not the matrices that agree with each other).
  const lstm = c.cell.type === 'lstm';
  const gates = lstm ? 4 : 1;
  const W1 = lstm ? p.W_ih : p.W_in;
  const W2 = lstm ? p.W_hh : p.W_rec;
  const firstTarget = c.targets.find((y) => y !== null);
  const O = consensus([p.b_out.length, p.W_out.length, firstTarget?.length]);
  if (O < 1) throw new InvalidInputError('params.b_out', 'at least one output', 'is empty');
  const H = consensus([p.b.length / gates, W1 && W1.length / gates, W2 && W2.length / gates, W2?.[0]?.length, p.W_out[0]?.length, c.synthesiser.b.length / (lstm && !cellMode ? 2 : 1)]);
  if (H < 1) throw new InvalidInputError('params.b', `at least ${gates} entries (${lstm ? '4H, gates i, f, g, o' : 'H'})`, `has ${p.b.length}`);
  checkVector('params.b', p.b, gates * H);
  checkVector('params.b_out', p.b_out, O);
  let cell: Cell;
  if (!lstm) {
    for (const k of ['W_ih', 'W_hh'] as const)
      if (p[k] !== undefined) throw new InvalidInputError(`params.${k}`, 'W_in, W_rec and b for an rnn cell', 'is an LSTM parameter');
    checkMatrix('params.W_in', p.W_in, H, I);
    checkMatrix('params.W_rec', p.W_rec, H, H);
    cell = rnnCell({ inputSize: I, hiddenSize: H, activation: (c.cell as { activation: (typeof ACTIVATIONS)[number] }).activation });
  } else {
    for (const k of ['W_in', 'W_rec'] as const)
      if (p[k] !== undefined) throw new InvalidInputError(`params.${k}`, 'W_ih, W_hh and b for an lstm cell', 'is an RNN parameter');
    checkMatrix('params.W_ih', p.W_ih, 4 * H, I);
    checkMatrix('params.W_hh', p.W_hh, 4 * H, H);
    cell = lstmCell({ inputSize: I, hiddenSize: H });
  }
  checkMatrix('params.W_out', p.W_out, O, H);
  const S = cell.stateSize;
  const out = cellMode ? H : S;
  checkMatrix('synthesiser.W', c.synthesiser.W, out, S);
  checkVector('synthesiser.b', c.synthesiser.b, out);
  checkVector('targets', c.targets, T);
  c.targets.forEach((y, t) => {
    if (y !== null) checkVector(`targets[${t}]`, y, O);
  });
  const m = (rows: Rows | undefined, cols: number): Tensor => fromRows(rows!, cols);
  const v = (x: readonly number[]): Tensor => ({ shape: [x.length], data: Float64Array.from(x) });
  const params: Params =
    c.cell.type === 'rnn'
      ? { W_in: m(p.W_in, I), W_rec: m(p.W_rec, H), b: v(p.b), W_out: m(p.W_out, H), b_out: v(p.b_out) }
      : { W_ih: m(p.W_ih, I), W_hh: m(p.W_hh, H), b: v(p.b), W_out: m(p.W_out, H), b_out: v(p.b_out) };
  return {
    model: { cell, outputSize: O, loss: reading.loss ?? 'mse' },
    params,
    theta: { W: m(c.synthesiser.W, S), b: v(c.synthesiser.b) },
    sequence: {
      inputs: c.inputs.map((x) => Float64Array.from(x)),
      targets: c.targets.map((y) => (y === null ? null : Float64Array.from(y))),
    },
    gamma: c.gamma,
    lambda: c.lambda,
  };
};

/** Parse JSON text and validate it as a case. */
export const parseCaseJson = (text: string): ParsedCase => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError('', 'valid JSON', `is malformed JSON (${(e as Error).message})`);
  }
  return parseCase(value);
};

const rows = (vs: readonly Float64Array[]): number[][] => vs.map((x) => Array.from(x));

const paramsJson = (p: Params, names: readonly string[]): Record<string, number[][] | number[]> =>
  Object.fromEntries(names.map((k) => [k, p[k]!.shape.length === 2 ? toRows(p[k]!) : Array.from(p[k]!.data)]));

/**
 * Every quantity of the contract for one parsed case. `targetScale` c (default 1, the contract's) is BP(λ)'s
 * target scale: the λ-targets, TD errors and synthesiser updates are those of a synthesiser predicting c × the
 * future gradient, and sgGradients uses the learning signal l_t + ĝ_t / c (used by `verify` for traces written at
 * the authors' batch-mean scale; the oracle command always uses 1). `beta` (β, default 1) weighs ĝ_t in that
 * signal (l_t + (β/c) ĝ_t) and `synthClip` (default Infinity: none) is the per-step clip of the synthesiser
 * update (spec §8.11 item 1): the options of a `bplambda-trace/1.1` trace; the contract's are the defaults.
 */
export const oracleParsed = (pc: ParsedCase, targetScale = 1, beta = 1, synthClip = Infinity): OracleResult => {
  const { model, params, theta, sequence, gamma, lambda } = pc;
  const S = model.cell.stateSize;
  const synth = linearSynthesiser(S, S);
  const traj = trajectory(model, params, sequence);
  const bptt = backprop(model, params, traj);
  const preds = predictions(synth, theta, traj);
  const targets = lambdaTargets(traj, preds, gamma, lambda, targetScale);
  const online = bpLambdaSequence(
    { model, synth, params, theta, options: { gamma, lambda, beta, synthClip, targetScale } },
    [sequence],
  );
  const tdErrors = online.steps.slice(1).map((s: BpLambdaStepResult) => s.tdErrors![0]!);
  const names = Object.keys(params);
  const synthJson = (flat: Float64Array) => {
    const u = unflattenParams(flat, synth.paramShapes);
    return { W: toRows(u['W']!), b: Array.from(u['b']!.data) };
  };
  return {
    format: 'bplambda-oracle/1',
    loss: sequenceLoss(traj.records),
    states: rows(traj.records.map((r) => r.step.state)),
    bpttGradients: paramsJson(bptt.grads, names),
    futureGradients: rows(futureGradients(traj, gamma)),
    syntheticGradients: rows(preds),
    lambdaTargets: rows(targets),
    tdErrors: rows(tdErrors),
    synthesiserUpdate: synthJson(online.state.totals.synthUpdate),
    forwardViewUpdate: synthJson(forwardViewUpdate(synth, theta, traj, targets)),
    sgGradients: paramsJson(online.state.totals.netGrad, names),
  };
};

/** Path of the first non-finite number in a JSON-like value, or null. */
const firstNonFinite = (v: unknown, path: string): string | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? null : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = firstNonFinite(v[i], `${path}[${i}]`);
      if (r !== null) return r;
    }
    return null;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const r = firstNonFinite(x, path === '' ? k : `${path}.${k}`);
      if (r !== null) return r;
    }
  }
  return null;
};

/**
 * Reject a result that overflowed float64 (JSON cannot carry NaN or Infinity): the case is valid in form but its
 * numbers are too large for the computation, which is reported as an invalid case (exit code 2).
 */
export const checkFiniteResult = (r: OracleResult): OracleResult => {
  const where = firstNonFinite(r, '');
  if (where !== null)
    throw new InvalidInputError('(case)', 'parameters and inputs whose BP(λ) quantities are finite', `overflows float64 (result ${where} is not finite)`);
  return r;
};

/** `oracle(case) → result`: validate a case object and compute every quantity. */
export const oracle = (input: unknown): OracleResult => checkFiniteResult(oracleParsed(parseCase(input)));
