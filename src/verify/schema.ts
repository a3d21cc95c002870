/**
 * The trace format `bplambda-trace/1` (docs/verification.md): a case of the oracle contract (or a batch of
 * examples sharing one network), the float precision of the implementation under test, and what it computed.
 *
 * The zod schema here is the single source of truth for the structure of a trace. The JSON Schema file
 * `schemas/bplambda-trace-1.schema.json` is generated from it by `traceJsonSchema()` (spec/verify-schema.test.ts
 * checks that the committed file equals the generator output and that both accept and reject the same sample
 * files). Nothing here uses zod refinements, which JSON Schema cannot express; the three structural rules that
 * zod objects cannot state (exactly one of `case` and `batch`; `computed` and each gradient record non-empty) are
 * checked by `checkTraceStructure` and added to the JSON Schema by `traceJsonSchema`. Shapes, which depend on the
 * case's sizes, are checked by `parseTrace` (trace.ts) and are outside the JSON Schema.
 */
import { z } from 'zod';
import { caseSchema } from '../core/oracle.js';
import { ACTIVATIONS } from '../core/rnn.js';
import { InvalidInputError, fromZodError } from '../core/errors.js';

export const TRACE_FORMAT = 'bplambda-trace/1';

/** Floating-point formats an implementation under test may declare. */
export const PRECISIONS = ['float64', 'float32', 'float16', 'bfloat16'] as const;
export type TracePrecision = (typeof PRECISIONS)[number];

/** The quantities of the oracle result that a trace may carry, plus the per-step synthesiser updates. */
export const QUANTITIES = [
  'loss',
  'states',
  'futureGradients',
  'syntheticGradients',
  'lambdaTargets',
  'tdErrors',
  'synthesiserUpdatePerStep',
  'synthesiserUpdate',
  'forwardViewUpdate',
  'bpttGradients',
  'sgGradients',
] as const;
export type QuantityName = (typeof QUANTITIES)[number];

/** Parameter names of both cells (rnn: W_in, W_rec, b; lstm: W_ih, W_hh, b) and of the readout. */
export const PARAM_NAMES = ['W_in', 'W_rec', 'W_ih', 'W_hh', 'b', 'W_out', 'b_out'] as const;

const unit = z
  .number({ error: 'a number in [0, 1]' })
  .min(0, { error: 'a number in [0, 1]' })
  .max(1, { error: 'a number in [0, 1]' });

/** A finite number (case data). JSON has no NaN or Infinity, and zod 4 numbers are finite. */
const num = z.number();
const matrix = z.array(z.array(num));
const vector = z.array(num);

/**
 * A value computed by the implementation under test: a number, or one of the strings "NaN", "Infinity",
 * "-Infinity" (JSON has no literal for them). A non-finite value is never within tolerance: it is reported as a
 * mismatch (exit 1), not as an invalid file.
 */
export const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;
const value = z
  .union([z.number(), z.literal(NON_FINITE)], { error: 'a number, or "NaN", "Infinity", "-Infinity" for a non-finite value' })
  .meta({ id: 'computedNumber', description: 'a number, or "NaN", "Infinity", "-Infinity" (never within tolerance)' });
const valueVector = z.array(value);
const valueMatrix = z.array(valueVector).meta({ id: 'computedRows', description: 'a matrix as an array of rows' });
const valueMatrices = z.array(valueMatrix);
/** Per-step quantities: T×S (or (T−1)×S) for a case, B×T×S for a batch. */
const perStep = z
  .union([valueMatrix, valueMatrices], { error: 'an array of rows of numbers (steps × S; examples × steps × S for a batch)' })
  .meta({ id: 'perStepQuantity', description: 'steps × S for a case; examples × steps × S for a batch' });
const synthUpdate = z
  .strictObject({ W: valueMatrix, b: valueVector })
  .meta({ id: 'synthesiserParameters', description: 'a value per synthesiser parameter: W (S×S), b (S)' });
const gradients = z.strictObject(Object.fromEntries(PARAM_NAMES.map((k) => [k, z.union([valueMatrix, valueVector]).optional()])) as Record<
  (typeof PARAM_NAMES)[number],
  z.ZodOptional<z.ZodUnion<[typeof valueMatrix, typeof valueVector]>>
>).meta({ id: 'parameterGradients', description: 'a gradient per network parameter (same names and shapes as the case’s params); at least one' });

/** The case part, as the oracle contract's caseSchema with γ, λ ∈ [0, 1] stated as JSON-Schema-able bounds. */
export const traceCaseSchema = caseSchema.extend({ gamma: unit, lambda: unit });

/** A batch: one network and synthesiser, B ≥ 1 examples of the same length T. */
export const traceBatchSchema = z.strictObject({
  cell: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('rnn'), activation: z.enum(ACTIVATIONS) }),
    z.strictObject({ type: z.literal('lstm') }),
  ]),
  params: traceCaseSchema.shape.params,
  synthesiser: z.strictObject({ W: matrix, b: vector }),
  examples: z.array(z.strictObject({ inputs: matrix, targets: z.array(vector.nullable()) })).min(1, { error: 'at least one example' }),
  gamma: unit,
  lambda: unit,
});

export const computedSchema = z.strictObject({
  loss: value.optional().meta({ description: 'L = Σ_t ½‖ŷ_t − y_t‖² (a batch: the mean over examples)' }),
  states: perStep.optional().meta({ description: 's_1 .. s_T: T×S (a batch: B×T×S)' }),
  futureGradients: perStep.optional().meta({ description: 'G_1 .. G_{T−1}: (T−1)×S (a batch: B×(T−1)×S)' }),
  syntheticGradients: perStep.optional().meta({ description: 'ĝ_1 .. ĝ_{T−1}: (T−1)×S (a batch: B×(T−1)×S)' }),
  lambdaTargets: perStep.optional().meta({ description: 'G^λ_1 .. G^λ_{T−1}: (T−1)×S (a batch: B×(T−1)×S)' }),
  tdErrors: perStep.optional().meta({ description: 'δ_1 .. δ_{T−1}: (T−1)×S (a batch: B×(T−1)×S)' }),
  synthesiserUpdatePerStep: z
    .array(synthUpdate)
    .optional()
    .meta({ description: 'T−1 entries {W: S×S, b: S}: entry k is δ_{k+1} E_{k+1} (a batch: its mean over examples)' }),
  synthesiserUpdate: synthUpdate.optional().meta({ description: 'backward view Σ_t δ_t E_t (a batch: the mean over examples)' }),
  forwardViewUpdate: synthUpdate.optional().meta({ description: 'forward view Σ_t (G^λ_t − ĝ_t) ∇θ ĝ_t (a batch: the mean)' }),
  bpttGradients: gradients.optional().meta({ description: 'dL/dparam, any subset of the case’s parameters (a batch: the mean)' }),
  sgGradients: gradients.optional().meta({ description: 'synthetic-gradient network gradient, any subset of the parameters (a batch: the mean)' }),
});

export const traceSchema = z
  .strictObject({
    format: z.literal(TRACE_FORMAT),
    producer: z.string().optional().meta({ description: 'free text: the implementation and version that wrote the trace' }),
    precision: z.enum(PRECISIONS, { error: `one of ${PRECISIONS.map((p) => `"${p}"`).join(', ')}` }),
    case: traceCaseSchema.optional().meta({ description: 'one sequence, a bplambda-case/1 object (exactly one of case and batch)' }),
    batch: traceBatchSchema.optional().meta({ description: 'a batch of sequences sharing the network (exactly one of case and batch)' }),
    targetScale: z
      .number()
      .positive({ error: 'a finite number > 0' })
      .optional()
      .meta({
        description:
          'c, the scale of the synthesiser’s outputs: it predicts c × the example’s own future gradient, and sgGradients uses the learning signal l_t + ĝ_t / c. Default 1; the authors’ code has 1/B for a batch of B (its output derivatives carry the batch mean’s 1/B)',
      }),
    computed: computedSchema,
  })
  .meta({
    title: 'bplambda-trace/1',
    description:
      'What an implementation of accumulate BP(λ) computed for one case (or batch), to be checked by `bplambda verify`. Shapes are checked against the case by bplambda itself (docs/verification.md).',
  });

export type TraceDocument = z.infer<typeof traceSchema>;
export type ComputedDocument = z.infer<typeof computedSchema>;

/**
 * Validate the structure of a trace (everything but shapes): the zod schema plus the three rules it cannot
 * state. Throws InvalidInputError naming the field.
 */
export const checkTraceStructure = (input: unknown): TraceDocument => {
  const r = traceSchema.safeParse(input);
  if (!r.success) throw fromZodError(r.error);
  const t = r.data;
  if (t.case === undefined && t.batch === undefined) throw new InvalidInputError('case', 'a case (bplambda-case/1) or a batch', 'is missing');
  if (t.case !== undefined && t.batch !== undefined) throw new InvalidInputError('batch', 'only one of case and batch', 'is given with case');
  if (Object.keys(t.computed).length === 0)
    throw new InvalidInputError('computed', `at least one quantity (${QUANTITIES.join(', ')})`, 'is empty');
  for (const k of ['bpttGradients', 'sgGradients'] as const) {
    const g = t.computed[k];
    if (g !== undefined && Object.keys(g).length === 0) throw new InvalidInputError(`computed.${k}`, 'at least one parameter', 'is empty');
  }
  return t;
};

/**
 * The JSON Schema (draft 2020-12) of `bplambda-trace/1`, generated from the zod schema, with the three
 * structural rules of `checkTraceStructure` added. The committed schemas/bplambda-trace-1.schema.json is exactly
 * `JSON.stringify(traceJsonSchema(), null, 2) + '\n'`.
 */
export const traceJsonSchema = (): Record<string, unknown> => {
  const s = z.toJSONSchema(traceSchema, { target: 'draft-2020-12' }) as Record<string, unknown> & {
    properties: Record<string, Record<string, unknown>>;
    $defs: Record<string, Record<string, unknown>>;
  };
  s.properties['computed']!['minProperties'] = 1;
  s.$defs['parameterGradients']!['minProperties'] = 1;
  const { $schema, title, description, ...rest } = s;
  return {
    $schema,
    title,
    description,
    ...rest,
    oneOf: [{ required: ['case'] }, { required: ['batch'] }],
  };
};

/** The text of the committed schema file. */
export const traceJsonSchemaText = (): string => `${JSON.stringify(traceJsonSchema(), null, 2)}\n`;
