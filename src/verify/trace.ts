/**
 * Reading a `bplambda-trace/1` or `/1.1` file: structure (schema.ts), the configuration (1.1: method, loss,
 * deviations; defaults: the /1 configuration), the case or batch (validated by the oracle's own `parseCase` for
 * that configuration, with paths prefixed by `case.` or `batch.`; class labels turned into one-hot targets), and
 * the shape of every computed quantity against the case's sizes and the synthesiser mode. Every failure is an
 * InvalidInputError naming the field (JSON path) and what was expected.
 */
import { type ChunkAlign, chunking } from '../core/bptt.js';
import { InvalidInputError } from '../core/errors.js';
import type { LossKind } from '../core/model.js';
import type { BpLambdaMode } from '../core/modes.js';
import { type ParsedCase, parseCase } from '../core/oracle.js';
import type { Params } from '../core/tensor.js';
import {
  type AnyTraceDocument,
  type TracePrecision,
  type TraceVersion,
  type QuantityName,
  type TraceMethodKind,
  METHOD_QUANTITIES,
  NON_FINITE,
  QUANTITIES,
  STEP_SCHEDULE_QUANTITIES,
  TRACE_VERSIONS,
  checkTraceStructure,
  traceFormatOf,
} from './schema.js';

/** Nested arrays / records of numbers: the JSON layout of every quantity. */
export type Numeric = number | readonly Numeric[] | { readonly [k: string]: Numeric };

/**
 * What the implementation under test ran, as a trace states it (format 1.1; a /1 trace has the defaults): the
 * options of the library's BP(λ) (spec §4, §6.3), the loss, and the declared deviations (1 where not declared).
 */
export interface TraceConfig {
  readonly version: TraceVersion;
  /** The method (`method.kind`); the n-step fields below are read only by 'sg' and 'tbptt'. */
  readonly kind: TraceMethodKind;
  /** Chunk length n, alignment and (sg) the synthesiser's target of the n-step methods. */
  readonly n: number;
  readonly align: ChunkAlign;
  readonly sgTarget: 'discounted' | 'authors';
  readonly mode: BpLambdaMode;
  /** BP(λ)'s schedule: 'sequence' (Ψ, θ fixed over the sequence) or 'step' (the trace's stepParameters). */
  readonly schedule: 'sequence' | 'step';
  readonly beta: number;
  readonly synthClip: number;
  readonly targetScale: number;
  readonly loss: LossKind;
  readonly deviations: { readonly biasGradScale: number; readonly readoutGradScale: number };
}

/** The configuration of a /1 trace: the oracle contract's (full-state synthesiser, β = 1, no clip, ½‖ŷ − y‖²). */
export const DEFAULT_TRACE_CONFIG: TraceConfig = {
  version: '1',
  kind: 'bp-lambda',
  n: 1,
  align: 'start',
  sgTarget: 'discounted',
  mode: 'full',
  schedule: 'sequence',
  beta: 1,
  synthClip: Infinity,
  targetScale: 1,
  loss: 'mse',
  deviations: { biasGradScale: 1, readoutGradScale: 1 },
};

/** A trace whose case, batch and computed quantities are valid and consistent. */
export interface ParsedTrace {
  /** The configuration the trace states (defaults for what it does not). */
  readonly config: TraceConfig;
  readonly mode: 'case' | 'batch';
  readonly precision: TracePrecision;
  readonly producer: string | undefined;
  /** The cell in words, e.g. `rnn (tanh)` or `lstm`. */
  readonly cell: string;
  /** One parsed case per example (a single case: one), all sharing model, params, θ, γ, λ. */
  readonly examples: readonly ParsedCase[];
  /** Steps T, state size S, batch size B. */
  readonly T: number;
  readonly S: number;
  readonly B: number;
  /** The quantities the trace provides, non-finite strings turned into numbers, in contract layout. */
  readonly computed: Partial<Record<QuantityName, Numeric>>;
  /** The synthesiser's target scale c (1 when the trace does not say). */
  readonly targetScale: number;
  /** Schedule 'step': the parameters in effect at steps 2..T (T−1 entries); empty otherwise. */
  readonly stepParameters: readonly StepParameters[];
}

/** The network parameters Ψ and synthesiser parameters θ in effect at one step. */
export interface StepParameters {
  readonly params: Params;
  readonly theta: Params;
}

/** Re-root a parseCase error at `prefix` (and, for a batch example's own fields, at `batch.examples[b]`). */
const rerooted = (e: unknown, prefix: string, examplePrefix?: string): unknown => {
  if (!(e instanceof InvalidInputError)) return e;
  const own = examplePrefix !== undefined && /^(inputs|targets)(\b|\[|\.|$)/.test(e.path);
  const root = own ? examplePrefix : prefix;
  const path = e.path === '' ? root : `${root}.${e.path}`;
  return new InvalidInputError(path, e.expected, e.found);
};

const configOf = (doc: AnyTraceDocument): TraceConfig => {
  const version = TRACE_VERSIONS.find((v) => traceFormatOf(v) === doc.format)!;
  const m = doc.method;
  const bp = m?.kind === 'bp-lambda' ? m : undefined;
  const clip = bp?.synthClip;
  return {
    version,
    kind: m?.kind ?? 'bp-lambda',
    n: m !== undefined && m.kind !== 'bp-lambda' ? m.n : 1,
    align: m !== undefined && m.kind !== 'bp-lambda' ? (m.align ?? 'start') : 'start',
    sgTarget: m?.kind === 'sg' ? (m.target ?? 'discounted') : 'discounted',
    mode: bp?.mode ?? 'full',
    schedule: bp?.schedule ?? 'sequence',
    beta: m?.kind === 'tbptt' ? 1 : (m?.beta ?? 1),
    synthClip: clip === undefined || clip === 'Infinity' ? Infinity : clip,
    targetScale: doc.targetScale ?? 1,
    loss: doc.loss?.kind ?? 'mse',
    deviations: { biasGradScale: doc.deviations?.biasGradScale ?? 1, readoutGradScale: doc.deviations?.readoutGradScale ?? 1 },
  };
};

type RawTarget = readonly number[] | number | null;

/** Targets with class labels read as one-hot vectors of size O (labels only with softmax cross-entropy). */
const oneHotTargets = (targets: readonly RawTarget[], O: number, loss: LossKind, path: string): (readonly number[] | null)[] =>
  targets.map((y, t) => {
    if (typeof y !== 'number') return y;
    if (loss !== 'xent') throw new InvalidInputError(`${path}[${t}]`, `a vector of O = ${O} numbers (class labels need "loss": {"kind": "xent"})`, `is the class label ${y}`);
    if (y >= O) throw new InvalidInputError(`${path}[${t}]`, `a class label in [0, ${O - 1}] (O = ${O} outputs)`, `is ${y}`);
    return Array.from({ length: O }, (_, k) => (k === y ? 1 : 0));
  });

const casesOf = (doc: AnyTraceDocument, config: TraceConfig): ParsedCase[] => {
  const cell = (doc.case ?? doc.batch)!.cell;
  if (config.mode === 'cell' && cell.type !== 'lstm')
    throw new InvalidInputError('method.mode', `"full" for an ${cell.type} cell ("cell" is the LSTM's dL/dc mode: it needs a cell with a memory part)`, 'is "cell"');
  const reading = { mode: config.mode, loss: config.loss };
  const O = (doc.case ?? doc.batch)!.params.b_out.length;
  if (doc.case !== undefined) {
    const targets = oneHotTargets(doc.case.targets as readonly RawTarget[], O, config.loss, 'case.targets');
    try {
      return [parseCase({ ...doc.case, targets }, reading)];
    } catch (e) {
      throw rerooted(e, 'case');
    }
  }
  const b = doc.batch!;
  const T = b.examples[0]!.inputs.length;
  return b.examples.map((ex, i) => {
    if (i > 0 && ex.inputs.length !== T)
      throw new InvalidInputError(`batch.examples[${i}].inputs`, `${T} steps like examples[0] (all examples have the same length)`, `has ${ex.inputs.length}`);
    const c = {
      format: 'bplambda-case/1',
      cell: b.cell,
      params: b.params,
      synthesiser: b.synthesiser,
      inputs: ex.inputs,
      targets: oneHotTargets(ex.targets as readonly RawTarget[], O, config.loss, `batch.examples[${i}].targets`),
      gamma: b.gamma,
      lambda: b.lambda,
    };
    try {
      return parseCase(c, reading);
    } catch (e) {
      throw rerooted(e, 'batch', `batch.examples[${i}]`);
    }
  });
};

// ---------------------------------------------------------------------------------------------------------
// Shapes

interface Dim {
  readonly n: number;
  /** How the size is named in messages, e.g. 'T−1' or 'S'. */
  readonly name: string;
}

const describeValue = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? `an array of ${v.length}` : typeof v === 'object' ? 'an object' : typeof v === 'string' ? `the string "${v}"` : `a ${typeof v}`;

const toNumber = (v: number | string): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity);

/** Check a nested array against its dimensions and return it with numbers only. */
const checkArray = (path: string, v: unknown, dims: readonly Dim[], layout: string): Numeric => {
  const [d, ...rest] = dims;
  if (d === undefined) {
    if (typeof v === 'number' || (typeof v === 'string' && (NON_FINITE as readonly string[]).includes(v))) return toNumber(v);
    throw new InvalidInputError(path, `a number (layout ${layout})`, `is ${describeValue(v)}`);
  }
  const want = d.name === '' ? `${d.n}` : `${d.name} = ${d.n}`;
  if (!Array.isArray(v)) throw new InvalidInputError(path, `an array of ${want} entries (layout ${layout})`, `is ${describeValue(v)}`);
  if (v.length !== d.n) throw new InvalidInputError(path, `${want} (layout ${layout})`, `has ${v.length} entries`);
  return v.map((x, i) => checkArray(`${path}[${i}]`, x, rest, layout));
};

const layoutText = (dims: readonly Dim[]): string => {
  const names = dims.map((d) => (d.name.includes('−') ? `(${d.name})` : d.name));
  const sizes = dims.map((d) => d.n).join('×');
  return names.every((n) => n !== '') ? `${names.join('×')} = ${sizes}` : sizes;
};

const checkTensor = (path: string, v: unknown, dims: readonly Dim[]): Numeric => checkArray(path, v, dims, layoutText(dims));

/** The synthesiser's output: the state (S) in the full mode, the memory (H) in the cell mode. */
const checkSynth = (path: string, v: unknown, S: number, out: Dim): Numeric => {
  const o = v as { W: unknown; b: unknown };
  return {
    W: checkTensor(`${path}.W`, o.W, [out, { n: S, name: 'S' }]),
    b: checkTensor(`${path}.b`, o.b, [out]),
  };
};

const checkGradients = (path: string, v: Record<string, unknown>, pc: ParsedCase): Numeric => {
  const names = Object.keys(pc.params);
  const cellName = pc.model.cell.type;
  const out: Record<string, Numeric> = {};
  for (const [k, g] of Object.entries(v)) {
    if (g === undefined) continue;
    const p = pc.params[k];
    if (p === undefined) throw new InvalidInputError(`${path}.${k}`, `a parameter of the ${cellName} cell (${names.join(', ')})`, 'is not a parameter of this case');
    out[k] = checkTensor(`${path}.${k}`, g, p.shape.map((n) => ({ n, name: '' })));
  }
  return out;
};

/**
 * Check every provided quantity's layout against the case's sizes. The synthesiser's quantities have T−1 rows of
 * S in the full mode (ĝ_T = 0 is not listed) and T rows of H in the cell mode (u_1 .. u_T, the last with its
 * terminal target); the learning signal is on s_t (S) in the full mode and on h_t (H) in the cell mode. The n-step
 * methods' boundary quantities have one row of S per chunk boundary (K rows), and a method's trace carries only
 * the quantities it computes (METHOD_QUANTITIES).
 */
const checkComputed = (computed: AnyTraceDocument['computed'], mode: 'case' | 'batch', T: number, S: number, B: number, pc: ParsedCase, config: TraceConfig): ParsedTrace['computed'] => {
  const out: Partial<Record<QuantityName, Numeric>> = {};
  const batchDim: Dim[] = mode === 'batch' ? [{ n: B, name: 'B' }] : [];
  const H = pc.model.cell.hiddenSize;
  const cell = config.mode === 'cell';
  const width: Dim = cell ? { n: H, name: 'H' } : { n: S, name: 'S' };
  const predictions: Dim = cell ? { n: T, name: 'T' } : { n: T - 1, name: 'T−1' };
  const steps = (n: number, name: string, w: Dim = { n: S, name: 'S' }): Dim[] => [...batchDim, { n, name }, w];
  const step = config.schedule === 'step';
  const allowed = step ? STEP_SCHEDULE_QUANTITIES : METHOD_QUANTITIES[config.kind];
  for (const q of QUANTITIES) {
    const v = (computed as Partial<Record<QuantityName, unknown>>)[q];
    if (v === undefined) continue;
    const path = `computed.${q}`;
    const method = `method "${config.kind}"${step ? ' with schedule "step"' : ''}`;
    if (!allowed.includes(q)) throw new InvalidInputError(path, `a quantity of ${method} (${allowed.join(', ')})`, `is not computed by this method${step ? ' (it needs parameters fixed over the sequence)' : ''}`);
    switch (q) {
      case 'loss':
        out[q] = toNumber(v as number | string);
        break;
      case 'states':
        out[q] = checkTensor(path, v, steps(T, 'T'));
        break;
      case 'futureGradients':
        out[q] = checkTensor(path, v, steps(T - 1, 'T−1'));
        break;
      case 'syntheticGradients':
      case 'lambdaTargets':
      case 'tdErrors':
        out[q] = checkTensor(path, v, steps(predictions.n, predictions.name, width));
        break;
      case 'learningSignals':
        out[q] = checkTensor(path, v, steps(T, 'T', width));
        break;
      case 'synthesiserUpdatePerStep': {
        const a = v as unknown[];
        if (a.length !== predictions.n) throw new InvalidInputError(path, `${predictions.name} = ${predictions.n} (one {W, b} per TD error)`, `has ${a.length} entries`);
        out[q] = a.map((x, k) => checkSynth(`${path}[${k}]`, x, S, width));
        break;
      }
      case 'synthesiserUpdate':
      case 'forwardViewUpdate':
        out[q] = checkSynth(path, v, S, width);
        break;
      case 'bpttGradients':
      case 'sgGradients':
      case 'tbpttGradients':
        out[q] = checkGradients(path, v as Record<string, unknown>, pc);
        break;
      case 'sgGradientsPerStep': {
        const a = v as Record<string, unknown>[];
        if (a.length !== T) throw new InvalidInputError(path, `T = ${T} (one gradient record per step)`, `has ${a.length} entries`);
        out[q] = a.map((g, k) => checkGradients(`${path}[${k}]`, g, pc));
        break;
      }
      case 'nStepPredictions':
      case 'nStepTargets':
        // One row per chunk boundary: every chunk end but the last (ĝ_T = 0).
        out[q] = checkTensor(path, v, steps(chunking(T, config.n, config.align).ends.length - 1, 'K'));
        break;
    }
  }
  return out;
};

/**
 * The parameters of steps 2..T of a 'step'-schedule trace, each validated by the oracle's parseCase as the case's
 * own (errors named under `stepParameters[k]`); a trace of another schedule has none.
 */
const stepParametersOf = (doc: AnyTraceDocument, config: TraceConfig, first: ParsedCase, T: number): StepParameters[] => {
  const given = doc.stepParameters;
  if (config.schedule !== 'step') {
    if (given !== undefined) throw new InvalidInputError('stepParameters', 'no stepParameters unless method.schedule is "step"', `is given with schedule "${config.schedule}"`);
    return [];
  }
  if (given === undefined) throw new InvalidInputError('stepParameters', `T−1 = ${T - 1} entries {params, synthesiser} for method.schedule "step"`, 'is missing');
  if (given.length !== T - 1) throw new InvalidInputError('stepParameters', `T−1 = ${T - 1} entries (the parameters in effect at steps 2..T)`, `has ${given.length} entries`);
  const src = (doc.case ?? doc.batch)!;
  const sequence = { inputs: first.sequence.inputs.map((x) => Array.from(x)), targets: first.sequence.targets.map((y) => (y === null ? null : Array.from(y))) };
  return given.map((p, k) => {
    const c = { format: 'bplambda-case/1', cell: src.cell, params: p.params, synthesiser: p.synthesiser, ...sequence, gamma: src.gamma, lambda: src.lambda };
    try {
      const pc = parseCase(c, { mode: config.mode, loss: config.loss });
      return { params: pc.params, theta: pc.theta };
    } catch (e) {
      throw rerooted(e, `stepParameters[${k}]`);
    }
  });
};

/** Validate a trace (already parsed from JSON): structure, case or batch, and shapes. */
export const parseTrace = (input: unknown): ParsedTrace => {
  const doc = checkTraceStructure(input);
  const config = configOf(doc);
  const examples = casesOf(doc, config);
  const first = examples[0]!;
  const T = first.sequence.inputs.length;
  const S = first.model.cell.stateSize;
  const mode = doc.case !== undefined ? 'case' : 'batch';
  const B = examples.length;
  const cell = (doc.case ?? doc.batch)!.cell;
  return {
    config,
    mode,
    precision: doc.precision,
    producer: doc.producer,
    cell: cell.type === 'rnn' ? `rnn (${cell.activation})` : 'lstm',
    examples,
    T,
    S,
    B,
    computed: checkComputed(doc.computed, mode, T, S, B, first, config),
    targetScale: config.targetScale,
    stepParameters: stepParametersOf(doc, config, first, T),
  };
};

/** Parse JSON text and validate it as a trace. */
export const parseTraceJson = (text: string): ParsedTrace => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError('', 'valid JSON', `is malformed JSON (${(e as Error).message})`);
  }
  return parseTrace(value);
};
