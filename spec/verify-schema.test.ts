/**
 * The JSON Schemas of bplambda-trace/1 and /1.1 (schemas/bplambda-trace-1.schema.json, -1.1.schema.json) and the zod schema (src/verify/schema.ts)
 * agree:
 *
 * - the committed file is exactly the generator's output (`traceJsonSchemaText()`); regenerate it with
 *   `BPLAMBDA_WRITE_SCHEMA=1 npx vitest run spec/verify-schema.test.ts`;
 * - a small JSON Schema validator (below; the draft 2020-12 keywords the file uses, and it throws on any other
 *   keyword, so it cannot silently ignore a rule) accepts exactly the sample traces that `checkTraceStructure`
 *   accepts: valid golden traces (case and batch, RNN and LSTM), hand-made invalid ones, and random mutations of
 *   valid ones (fast-check).
 *
 * Shapes (sizes that depend on the case) are outside JSON Schema: `parseTrace` checks them, and a trace with a
 * wrong shape is valid for both schemas here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GOLDEN_SPECS, goldenTrace } from '../src/verify/golden.js';
import { TRACE_VERSIONS, type TraceVersion, checkTraceStructure, traceJsonSchema, traceJsonSchemaText, traceSchemaFileName } from '../src/verify/schema.js';
import { fcParams } from '../property-tests/arbitraries.js';

const root = join(import.meta.dirname, '..');
const schemaPath = (v: TraceVersion) => join(root, 'schemas', traceSchemaFileName(v));
if (process.env['BPLAMBDA_WRITE_SCHEMA'] === '1') for (const v of TRACE_VERSIONS) writeFileSync(schemaPath(v), traceJsonSchemaText(v));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

const ANNOTATIONS = new Set(['$schema', 'title', 'description', '$defs']);

const typeOk = (t: string, v: Json): boolean => {
  switch (t) {
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      throw new Error(`unsupported type ${t}`);
  }
};

/** A draft 2020-12 validator for the keywords the trace schema uses; any other keyword is an error. */
const validate = (rootSchema: Schema, schema: Schema, v: Json): boolean => {
  for (const [k, s] of Object.entries(schema)) {
    if (ANNOTATIONS.has(k)) continue;
    const ok = (() => {
      switch (k) {
        case '$ref': {
          const m = /^#\/\$defs\/(.+)$/.exec(s as string);
          if (!m) throw new Error(`unsupported $ref ${String(s)}`);
          return validate(rootSchema, (rootSchema['$defs'] as Record<string, Schema>)[m[1]!]!, v);
        }
        case 'type':
          return typeOk(s as string, v);
        case 'const':
          return JSON.stringify(s) === JSON.stringify(v);
        case 'enum':
          return (s as Json[]).some((x) => JSON.stringify(x) === JSON.stringify(v));
        case 'anyOf':
          return (s as Schema[]).some((x) => validate(rootSchema, x, v));
        case 'oneOf':
          return (s as Schema[]).filter((x) => validate(rootSchema, x, v)).length === 1;
        case 'minimum':
          return typeof v !== 'number' || v >= (s as number);
        case 'exclusiveMinimum':
          return typeof v !== 'number' || v > (s as number);
        case 'maximum':
          return typeof v !== 'number' || v <= (s as number);
        case 'minItems':
          return !Array.isArray(v) || v.length >= (s as number);
        case 'items':
          return !Array.isArray(v) || v.every((x) => validate(rootSchema, s as Schema, x));
        case 'required':
          return !typeOk('object', v) || (s as string[]).every((p) => p in (v as object));
        case 'minProperties':
          return !typeOk('object', v) || Object.keys(v as object).length >= (s as number);
        case 'properties':
          return !typeOk('object', v) || Object.entries(s as Record<string, Schema>).every(([p, ps]) => !(p in (v as object)) || validate(rootSchema, ps, (v as Record<string, Json>)[p]!));
        case 'propertyNames':
          return true; // only {type: string} here, always true for JSON object keys
        case 'additionalProperties': {
          if (!typeOk('object', v)) return true;
          const known = new Set(Object.keys((schema['properties'] as object | undefined) ?? {}));
          const extra = Object.entries(v as Record<string, Json>).filter(([p]) => !known.has(p));
          return s === false ? extra.length === 0 : s === true ? true : extra.every(([, x]) => validate(rootSchema, s as Schema, x));
        }
        default:
          throw new Error(`the test validator does not support the keyword ${k}`);
      }
    })();
    if (!ok) return false;
  }
  return true;
};

const schemas = Object.fromEntries(TRACE_VERSIONS.map((v) => [v, JSON.parse(readFileSync(schemaPath(v), 'utf8')) as Schema])) as Record<TraceVersion, Schema>;
/** A document is checked against the schema of the version it names (anything else: the /1 schema rejects it). */
const schemaAccepts = (v: Json): boolean => {
  const named = v !== null && typeof v === 'object' && !Array.isArray(v) ? TRACE_VERSIONS.find((x) => `bplambda-trace/${x}` === v['format']) : undefined;
  return validate(schemas[named ?? '1'], schemas[named ?? '1'], v);
};
const zodAccepts = (v: Json): boolean => {
  try {
    checkTraceStructure(v);
    return true;
  } catch {
    return false;
  }
};

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const golden = GOLDEN_SPECS.map((s, i) => goldenTrace(s, 100 + i, 'schema test') as Json);
const one = golden[5] as { [k: string]: Json };
const batch = golden[16] as { [k: string]: Json };
const cellBatch = golden[GOLDEN_SPECS.findIndex((s) => s.name === 'batch-lstm-cell-xent-labels-clip')] as { [k: string]: Json };
const v11 = { ...one, format: 'bplambda-trace/1.1' };

describe.each(TRACE_VERSIONS)('schemas/bplambda-trace-%s.schema.json', (version) => {
  it('is the generator output (regenerate with BPLAMBDA_WRITE_SCHEMA=1)', () => {
    expect(readFileSync(schemaPath(version), 'utf8')).toBe(traceJsonSchemaText(version));
    expect(schemas[version]).toEqual(traceJsonSchema(version));
    expect(schemas[version]['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schemas[version]['title']).toBe(`bplambda-trace/${version}`);
  });
});

describe('the JSON Schemas and the zod schema', () => {
  it('accepts every golden trace, as the zod schema does', () => {
    for (const t of golden) {
      expect(zodAccepts(t)).toBe(true);
      expect(schemaAccepts(t)).toBe(true);
    }
  });

  const samples: [string, Json, boolean][] = [
    ['a subset of quantities', { ...one, computed: { tdErrors: (one['computed'] as { tdErrors: Json }).tdErrors } }, true],
    ['non-finite strings in computed', { ...one, computed: { loss: 'NaN', states: [['Infinity', '-Infinity']] } }, true],
    ['a wrong shape (checked by parseTrace, not by schemas)', { ...one, computed: { states: [[1]] } }, true],
    ['optional producer missing', { ...one, producer: undefined as unknown as Json }, true],
    ['no computed', { ...one, computed: undefined as unknown as Json }, false],
    ['empty computed', { ...one, computed: {} }, false],
    ['empty gradient record', { ...one, computed: { bpttGradients: {} } }, false],
    ['unknown gradient name', { ...one, computed: { bpttGradients: { W_xx: [[1]] } } }, false],
    ['unknown quantity', { ...one, computed: { stats: [[1]] } }, false],
    ['unknown top-level field', { ...one, extra: true }, false],
    ['unknown case field', { ...one, case: { ...(one['case'] as object), extra: 1 } }, false],
    ['wrong precision', { ...one, precision: 'float8' }, false],
    ['wrong format', { ...one, format: 'bplambda-trace/0' }, false],
    ['gamma above 1', { ...one, case: { ...(one['case'] as object), gamma: 1.01 } }, false],
    ['lambda below 0', { ...one, case: { ...(one['case'] as object), lambda: -0.1 } }, false],
    ['unknown activation', { ...one, case: { ...(one['case'] as object), cell: { type: 'rnn', activation: 'gelu' } } }, false],
    ['lstm cell with activation', { ...one, case: { ...(one['case'] as object), cell: { type: 'lstm', activation: 'tanh' } } }, false],
    ['other string in computed', { ...one, computed: { loss: 'nan' } }, false],
    ['null in computed', { ...one, computed: { states: [[null]] } }, false],
    ['neither case nor batch', { ...one, case: undefined as unknown as Json }, false],
    ['both case and batch', { ...one, batch: batch['batch']! }, false],
    ['batch with no examples', { ...batch, batch: { ...(batch['batch'] as object), examples: [] } }, false],
    ['batch example with unknown field', { ...batch, batch: { ...(batch['batch'] as object), examples: [{ inputs: [[1]], targets: [null], x: 1 }] } }, false],
    ['a string', 'trace', false],
    ['null', null, false],
    // Format 1.1: its fields, and only under its format.
    ['1.1: a /1 trace renamed', v11, true],
    ['1.1: method, loss, deviations', { ...v11, method: { kind: 'bp-lambda', mode: 'cell', beta: 0.1, synthClip: 1 }, loss: { kind: 'xent', reduction: 'sum' }, deviations: { biasGradScale: 2, readoutGradScale: 0.5 } }, true],
    ['1.1: synthClip "Infinity"', { ...v11, method: { kind: 'bp-lambda', synthClip: 'Infinity' } }, true],
    ['1.1: learningSignals', { ...v11, computed: { learningSignals: [[1, 2]] } }, true],
    ['1.1: class labels', { ...v11, case: { ...(one['case'] as object), targets: [0, null, 2] } }, true],
    ['1.1: a cell-mode batch with labels', cellBatch, true],
    ['1.1: method in a /1 trace', { ...one, method: { kind: 'bp-lambda' } }, false],
    ['1.1: learningSignals in a /1 trace', { ...one, computed: { learningSignals: [[1]] } }, false],
    ['1.1: class labels in a /1 trace', { ...one, case: { ...(one['case'] as object), targets: [0, null] } }, false],
    ['1.1: unknown mode', { ...v11, method: { kind: 'bp-lambda', mode: 'hc' } }, false],
    ['1.1: other method kind', { ...v11, method: { kind: 'bptt' } }, false],
    ['1.1: negative beta', { ...v11, method: { kind: 'bp-lambda', beta: -1 } }, false],
    ['1.1: zero clip', { ...v11, method: { kind: 'bp-lambda', synthClip: 0 } }, false],
    ['1.1: clip as another string', { ...v11, method: { kind: 'bp-lambda', synthClip: 'inf' } }, false],
    ['1.1: unknown loss', { ...v11, loss: { kind: 'hinge', reduction: 'sum' } }, false],
    ['1.1: loss without reduction', { ...v11, loss: { kind: 'mse' } }, false],
    ['1.1: mean reduction', { ...v11, loss: { kind: 'mse', reduction: 'mean' } }, false],
    ['1.1: a fractional label', { ...v11, case: { ...(one['case'] as object), targets: [0.5] } }, false],
    ['1.1: a negative label', { ...v11, case: { ...(one['case'] as object), targets: [-1] } }, false],
    ['1.1: zero bias factor', { ...v11, deviations: { biasGradScale: 0 } }, false],
    ['1.1: unknown deviation', { ...v11, deviations: { inputGradScale: 2 } }, false],
    // Format 1.1: the n-step methods (which quantities each may carry is checked by parseTrace, not by the schemas).
    ['1.1: sg', { ...v11, method: { kind: 'sg', n: 3, align: 'end', target: 'authors', beta: 0.5 }, computed: { nStepTargets: [[1, 2]], nStepPredictions: [[1, 2]] } }, true],
    ['1.1: sg with n alone', { ...v11, method: { kind: 'sg', n: 1 } }, true],
    ['1.1: tbptt', { ...v11, method: { kind: 'tbptt', n: 2 }, computed: { tbpttGradients: { W_rec: [[1]] } } }, true],
    ['1.1: sg without n', { ...v11, method: { kind: 'sg' } }, false],
    ['1.1: sg with n 0', { ...v11, method: { kind: 'sg', n: 0 } }, false],
    ['1.1: sg with a fractional n', { ...v11, method: { kind: 'sg', n: 1.5 } }, false],
    ['1.1: sg with a mode', { ...v11, method: { kind: 'sg', n: 2, mode: 'full' } }, false],
    ['1.1: sg with an unknown target', { ...v11, method: { kind: 'sg', n: 2, target: 'lambda' } }, false],
    ['1.1: tbptt with β', { ...v11, method: { kind: 'tbptt', n: 2, beta: 1 } }, false],
    ['1.1: tbptt with an unknown align', { ...v11, method: { kind: 'tbptt', n: 2, align: 'middle' } }, false],
    ['1.1: empty tbpttGradients', { ...v11, computed: { tbpttGradients: {} } }, false],
    ['1.1: tbpttGradients in a /1 trace', { ...one, computed: { tbpttGradients: { W_rec: [[1]] } } }, false],
    // Format 1.1: the step schedule (which quantities it may carry, and the entries' count and shapes, are parseTrace's).
    ['1.1: schedule step with stepParameters', { ...v11, method: { kind: 'bp-lambda', schedule: 'step' }, stepParameters: [{ params: (one['case'] as { params: Json }).params, synthesiser: (one['case'] as { synthesiser: Json }).synthesiser }] }, true],
    ['1.1: sgGradientsPerStep', { ...v11, computed: { sgGradientsPerStep: [{ W_rec: [[1]] }, { b: [1] }] } }, true],
    ['1.1: an unknown schedule', { ...v11, method: { kind: 'bp-lambda', schedule: 'batch' } }, false],
    ['1.1: a schedule for sg', { ...v11, method: { kind: 'sg', n: 2, schedule: 'step' } }, false],
    ['1.1: stepParameters entry without synthesiser', { ...v11, stepParameters: [{ params: (one['case'] as { params: Json }).params }] }, false],
    ['1.1: stepParameters entry with an unknown field', { ...v11, stepParameters: [{ params: (one['case'] as { params: Json }).params, synthesiser: (one['case'] as { synthesiser: Json }).synthesiser, theta: 1 }] }, false],
    ['1.1: an empty record in sgGradientsPerStep', { ...v11, computed: { sgGradientsPerStep: [{ W_rec: [[1]] }, {}] } }, false],
    ['1.1: stepParameters in a /1 trace', { ...one, stepParameters: [] }, false],
    ['1.1: sgGradientsPerStep in a /1 trace', { ...one, computed: { sgGradientsPerStep: [{ W_rec: [[1]] }] } }, false],
  ];

  it.each(samples)('%s: both schemas say %s', (_name, sample, valid) => {
    const v = clone(sample);
    expect(zodAccepts(v)).toBe(valid);
    expect(schemaAccepts(v)).toBe(valid);
  });

  it('random mutations of valid traces: both schemas agree (property)', () => {
    const small = [one, batch, cellBatch].map((t) => ({ ...t, computed: { loss: (t['computed'] as { loss: Json }).loss, tdErrors: (t['computed'] as { tdErrors: Json }).tdErrors, sgGradients: (t['computed'] as { sgGradients: Json }).sgGradients } }));
    const paths = (v: Json, segs: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
      out.push(segs);
      if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => paths(x, [...segs, i], out));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...segs, k], out);
      return out;
    };
    fc.assert(
      fc.property(fc.nat(2), fc.nat(), fc.constantFrom('replace', 'delete', 'add-key'), fc.jsonValue({ maxDepth: 2 }), (ti, pi, op, value) => {
        const t = clone(small[ti]!) as Json;
        const ps = paths(t);
        const segs = ps[pi % ps.length]!;
        if (segs.length === 0) return;
        const parent = segs.slice(0, -1).reduce<Json>((a, s) => (a as Record<string | number, Json>)[s]!, t) as Record<string | number, Json>;
        const key = segs[segs.length - 1]!;
        if (op === 'replace') parent[key] = value as Json;
        else if (op === 'delete') {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key];
        } else if (!Array.isArray(parent)) parent['extraKey'] = value as Json;
        expect(schemaAccepts(t)).toBe(zodAccepts(t));
      }),
      fcParams(300),
    );
  });
});
