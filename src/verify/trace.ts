/**
 * Reading a `bplambda-trace/1` file: structure (schema.ts), the case or batch (validated by the oracle's own
 * `parseCase`, with paths prefixed by `case.` or `batch.`), and the shape of every computed quantity against the
 * case's sizes. Every failure is an InvalidInputError naming the field (JSON path) and what was expected.
 */
import { InvalidInputError } from '../core/errors.js';
import { type ParsedCase, parseCase } from '../core/oracle.js';
import {
  type ComputedDocument,
  type TracePrecision,
  type QuantityName,
  type TraceDocument,
  NON_FINITE,
  QUANTITIES,
  checkTraceStructure,
} from './schema.js';

/** Nested arrays / records of numbers: the JSON layout of every quantity. */
export type Numeric = number | readonly Numeric[] | { readonly [k: string]: Numeric };

/** A trace whose case, batch and computed quantities are valid and consistent. */
export interface ParsedTrace {
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
}

/** Re-root a parseCase error at `prefix` (and, for a batch example's own fields, at `batch.examples[b]`). */
const rerooted = (e: unknown, prefix: string, examplePrefix?: string): unknown => {
  if (!(e instanceof InvalidInputError)) return e;
  const own = examplePrefix !== undefined && /^(inputs|targets)(\b|\[|\.|$)/.test(e.path);
  const root = own ? examplePrefix : prefix;
  const path = e.path === '' ? root : `${root}.${e.path}`;
  return new InvalidInputError(path, e.expected, e.found);
};

const casesOf = (doc: TraceDocument): ParsedCase[] => {
  if (doc.case !== undefined) {
    try {
      return [parseCase(doc.case)];
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
      targets: ex.targets,
      gamma: b.gamma,
      lambda: b.lambda,
    };
    try {
      return parseCase(c);
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

const checkSynth = (path: string, v: unknown, S: number): Numeric => {
  const o = v as { W: unknown; b: unknown };
  return {
    W: checkTensor(`${path}.W`, o.W, [
      { n: S, name: 'S' },
      { n: S, name: 'S' },
    ]),
    b: checkTensor(`${path}.b`, o.b, [{ n: S, name: 'S' }]),
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

/** Check every provided quantity's layout against the case's sizes. */
const checkComputed = (computed: ComputedDocument, mode: 'case' | 'batch', T: number, S: number, B: number, pc: ParsedCase): ParsedTrace['computed'] => {
  const out: Partial<Record<QuantityName, Numeric>> = {};
  const batchDim: Dim[] = mode === 'batch' ? [{ n: B, name: 'B' }] : [];
  const steps = (n: number, name: string): Dim[] => [...batchDim, { n, name }, { n: S, name: 'S' }];
  for (const q of QUANTITIES) {
    const v = computed[q];
    if (v === undefined) continue;
    const path = `computed.${q}`;
    switch (q) {
      case 'loss':
        out[q] = toNumber(v as number | string);
        break;
      case 'states':
        out[q] = checkTensor(path, v, steps(T, 'T'));
        break;
      case 'futureGradients':
      case 'syntheticGradients':
      case 'lambdaTargets':
      case 'tdErrors':
        out[q] = checkTensor(path, v, steps(T - 1, 'T−1'));
        break;
      case 'synthesiserUpdatePerStep': {
        const a = v as unknown[];
        if (a.length !== T - 1) throw new InvalidInputError(path, `T−1 = ${T - 1} (one {W, b} per step)`, `has ${a.length} entries`);
        out[q] = a.map((x, k) => checkSynth(`${path}[${k}]`, x, S));
        break;
      }
      case 'synthesiserUpdate':
      case 'forwardViewUpdate':
        out[q] = checkSynth(path, v, S);
        break;
      case 'bpttGradients':
      case 'sgGradients':
        out[q] = checkGradients(path, v as Record<string, unknown>, pc);
        break;
    }
  }
  return out;
};

/** Validate a trace (already parsed from JSON): structure, case or batch, and shapes. */
export const parseTrace = (input: unknown): ParsedTrace => {
  const doc = checkTraceStructure(input);
  const examples = casesOf(doc);
  const first = examples[0]!;
  const T = first.sequence.inputs.length;
  const S = first.model.cell.stateSize;
  const mode = doc.case !== undefined ? 'case' : 'batch';
  const B = examples.length;
  const cell = (doc.case ?? doc.batch)!.cell;
  return {
    mode,
    precision: doc.precision,
    producer: doc.producer,
    cell: cell.type === 'rnn' ? `rnn (${cell.activation})` : 'lstm',
    examples,
    T,
    S,
    B,
    computed: checkComputed(doc.computed, mode, T, S, B, first),
    targetScale: doc.targetScale ?? 1,
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
