/**
 * The trace formats `bplambda-trace/1` and `bplambda-trace/1.1` (docs/verification.md): a case of the oracle
 * contract (or a batch of examples sharing one network), the float precision of the implementation under test,
 * and what it computed. Version 1.1 adds what the library's learner can be configured with: the method (the
 * synthesiser mode, β, the per-step clip, the step schedule with the parameters of every step), the loss (with
 * class labels for cross-entropy), declared deviations, the learning signal and the per-step network gradient as
 * quantities. A /1 file is read exactly as before.
 *
 * The zod schema here is the single source of truth for the structure of a trace. The JSON Schema files
 * `schemas/bplambda-trace-1.schema.json` and `schemas/bplambda-trace-1.1.schema.json` are generated from it by
 * `traceJsonSchema(version)` (spec/verify-schema.test.ts
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
import { LOSSES } from '../core/model.js';
import { BP_LAMBDA_MODES } from '../core/modes.js';
import { RULES } from '../core/schema.js';

export const TRACE_FORMAT = 'bplambda-trace/1';
export const TRACE_FORMAT_1_1 = 'bplambda-trace/1.1';
/** The versions of the trace format `verify` reads, oldest first. */
export const TRACE_VERSIONS = ['1', '1.1'] as const;
export type TraceVersion = (typeof TRACE_VERSIONS)[number];
export const traceFormatOf = (v: TraceVersion): string => `bplambda-trace/${v}`;

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
  'learningSignals',
  'sgGradientsPerStep',
  'tbpttGradients',
  'nStepPredictions',
  'nStepTargets',
] as const;
export type QuantityName = (typeof QUANTITIES)[number];
/** The quantities of format 1 (format 1.1 adds learningSignals and those of the n-step methods). */
export const QUANTITIES_1: readonly QuantityName[] = QUANTITIES.slice(0, QUANTITIES.indexOf('learningSignals'));

/** The methods a 1.1 trace may state (`method.kind`): accumulate BP(λ), n-step synthetic gradients, truncated BPTT. */
export const TRACE_METHOD_KINDS = ['bp-lambda', 'sg', 'tbptt'] as const;
export type TraceMethodKind = (typeof TRACE_METHOD_KINDS)[number];

/**
 * The quantities each method computes (what a trace of it may carry). The n-step methods share the forward pass,
 * the loss, exact BPTT and the future gradients with BP(λ); their network gradient is `sgGradients` (n-step
 * synthetic gradients) or `tbpttGradients` (truncated BPTT), and n-step SG's synthesiser is checked through its
 * predictions and targets at the chunk boundaries and its update.
 */
export const METHOD_QUANTITIES: Readonly<Record<TraceMethodKind, readonly QuantityName[]>> = {
  'bp-lambda': QUANTITIES.slice(0, QUANTITIES.indexOf('sgGradientsPerStep') + 1),
  sg: ['loss', 'states', 'futureGradients', 'bpttGradients', 'sgGradients', 'synthesiserUpdate', 'nStepPredictions', 'nStepTargets'],
  tbptt: ['loss', 'states', 'futureGradients', 'bpttGradients', 'tbpttGradients'],
};

/**
 * The quantities of a BP(λ) run with the 'step' schedule (parameters changed after every step, given by the trace's
 * stepParameters): those formed step by step. BPTT, G_t, the λ-targets and the forward view are defined only for
 * parameters fixed over the sequence.
 */
export const STEP_SCHEDULE_QUANTITIES: readonly QuantityName[] = ['loss', 'states', 'syntheticGradients', 'tdErrors', 'synthesiserUpdatePerStep', 'synthesiserUpdate', 'sgGradients', 'learningSignals', 'sgGradientsPerStep'];

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
/** Format 1.1: the synthesiser's shapes depend on the mode. */
const synthUpdate11 = z
  .strictObject({ W: valueMatrix, b: valueVector })
  .meta({ id: 'synthesiserTensors', description: 'a value per synthesiser parameter: W (S×S), b (S); in the cell mode W (H×S), b (H)' });
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

// ---------------------------------------------------------------------------------------------------------
// Format 1.1

/**
 * A target of a 1.1 case: a vector (size O) or, for softmax cross-entropy, a class label (an integer in [0, O),
 * read as the one-hot vector); null for no loss at that step.
 */
const target11 = z
  .union([vector, z.int().min(0)], { error: 'a vector of O numbers, or a class label (an integer ≥ 0) with loss xent' })
  .nullable();
const targets11 = z.array(target11);

/** The case part of a 1.1 trace: the contract's case whose targets may be class labels. */
export const traceCaseSchema11 = traceCaseSchema.extend({ targets: targets11 });
export const traceBatchSchema11 = traceBatchSchema.extend({
  examples: z.array(z.strictObject({ inputs: matrix, targets: targets11 })).min(1, { error: 'at least one example' }),
});

/** The method of a 1.1 trace: accumulate BP(λ) with the options of the library's learner (spec §4, §6.3). */
const bpLambdaMethodSchema = z
  .strictObject({
    kind: z.literal('bp-lambda'),
    mode: z
      .enum(BP_LAMBDA_MODES, { error: `one of ${BP_LAMBDA_MODES.map((m) => `"${m}"`).join(', ')}` })
      .optional()
      .meta({ description: '"full" (default): ĝ_t = g(s_t) predicts dL_{>t}/ds_t (S → S). "cell": the LSTM’s dL/dc mode, u_t = g(s_{t−1}) predicts dL_{≥t}/dc_t (S → H), spec §6.3' }),
    beta: z
      .number()
      .min(0, { error: RULES.nonNegative.expected })
      .optional()
      .meta({ description: 'β ≥ 0, the weight of the synthetic gradient in the learning signal l_t + (β/c) ĝ_t (default 1)' }),
    synthClip: z
      .union([z.number().positive({ error: RULES.clip.expected }), z.literal('Infinity')], { error: RULES.clip.expected })
      .optional()
      .meta({ description: 'the per-step clip: each synthesiser tensor’s batch-mean update of a step rescaled to L2 norm ≤ this (the authors: 1); "Infinity" (default): none' }),
    schedule: z
      .enum(['sequence', 'step'], { error: 'one of "sequence", "step"' })
      .optional()
      .meta({ description: '"sequence" (default): Ψ and θ fixed over the sequence; "step": updated after every step, the parameters of steps 2..T given by stepParameters' }),
  })
  .meta({ id: 'bpLambdaMethod', description: 'accumulate BP(λ) with the learner’s options (defaults: the /1 configuration)' });

const chunkLength = z
  .int({ error: RULES.count.expected })
  .min(1, { error: RULES.count.expected })
  .meta({ description: 'n ≥ 1, the chunk (truncation) length' });
const chunkAlign = z
  .enum(['start', 'end'], { error: 'one of "start", "end"' })
  .optional()
  .meta({ description: '"start" (default): chunks [1..n], [n+1..2n], …; "end": a short first chunk of T mod n steps, as the authors’ code' });

/** n-step synthetic gradients (spec §3.2, §8.6; the core's nStepSg): BPTT inside chunks of n, a bootstrapped ĝ at each chunk end. */
const sgMethodSchema = z
  .strictObject({
    kind: z.literal('sg'),
    n: chunkLength,
    align: chunkAlign,
    target: z
      .enum(['discounted', 'authors'], { error: 'one of "discounted", "authors"' })
      .optional()
      .meta({ description: 'the synthesiser’s target at a boundary: "discounted" (default) the n-step target with γ; "authors" the gradient BPTT delivers with the injected β ĝ and no γ, as the authors’ DNI code' }),
    beta: z
      .number()
      .min(0, { error: RULES.nonNegative.expected })
      .optional()
      .meta({ description: 'β ≥ 0, the weight of the synthetic gradient (β/c) ĝ injected at each chunk end (default 1)' }),
  })
  .meta({ id: 'sgMethod', description: 'n-step synthetic gradients: γ is the case’s gamma, c the trace’s targetScale; λ is not used' });

/** Truncated BPTT (the core's truncatedBptt): the state carried across chunks, no gradient across their boundaries. */
const tbpttMethodSchema = z
  .strictObject({ kind: z.literal('tbptt'), n: chunkLength, align: chunkAlign })
  .meta({ id: 'tbpttMethod', description: 'truncated BPTT with chunk length n: γ and λ, the synthesiser and targetScale are not used' });

/** The method of a 1.1 trace (default: accumulate BP(λ) with the /1 configuration). */
export const traceMethodSchema = z
  .discriminatedUnion('kind', [bpLambdaMethodSchema, sgMethodSchema, tbpttMethodSchema], {
    error: `an object whose kind is one of ${TRACE_METHOD_KINDS.map((k) => `"${k}"`).join(', ')}`,
  })
  .meta({ id: 'method', description: 'what was run (default {"kind": "bp-lambda"}: the /1 configuration)' });

export const traceLossSchema = z
  .strictObject({
    kind: z.enum(LOSSES, { error: `one of ${LOSSES.map((l) => `"${l}"`).join(', ')}` }).meta({
      description: '"mse": ½‖ŷ−y‖²; "xent": −Σ_k y_k log softmax(ŷ)_k (one-hot or class-label targets); "bce": Σ_k of binary cross-entropy with logits ŷ_k',
    }),
    reduction: z.literal('sum', { error: '"sum" (per example, summed over outputs and steps; a batch: the mean over examples)' }).meta({
      description: 'per example, summed over the outputs and the steps; a batch’s loss and gradients are means over its examples',
    }),
  })
  .meta({ id: 'loss', description: 'the per-step loss (default {"kind": "mse", "reduction": "sum"})' });

/** Declared deviations from the reference, each the documented behaviour of a known implementation. */
export const traceDeviationsSchema = z
  .strictObject({
    biasGradScale: z
      .number()
      .positive({ error: RULES.positive.expected })
      .optional()
      .meta({ description: 'k: the gradients of the cell bias b (bpttGradients, sgGradients) are k × the reference’s. The authors’ LSTM adds every bias contribution twice, as for PyTorch’s b_ih + b_hh (spec §8.11 item 2): k = 2' }),
    readoutGradScale: z
      .number()
      .positive({ error: RULES.positive.expected })
      .optional()
      .meta({ description: 'k: the gradients of W_out and b_out (bpttGradients, sgGradients) are k × the reference’s. The authors’ readout gradient is scaled by 1/target.shape[1] (spec §4.2, §8.11 item 12): 1/O for predict-last targets' }),
  })
  .meta({ id: 'deviations', description: 'declared deviations from the reference, applied to the reference before comparing' });

export const computedSchema11 = computedSchema.extend({
  syntheticGradients: perStep.optional().meta({ description: 'ĝ_1 .. ĝ_{T−1}: (T−1)×S; cell mode u_1 .. u_T: T×H (a batch: a leading B axis)' }),
  lambdaTargets: perStep.optional().meta({ description: 'G^λ_1 .. G^λ_{T−1}: (T−1)×S; cell mode Γ^λ_1 .. Γ^λ_T: T×H (a batch: a leading B axis)' }),
  tdErrors: perStep.optional().meta({ description: 'δ_1 .. δ_{T−1}: (T−1)×S; cell mode δ_1 .. δ_T: T×H (a batch: a leading B axis)' }),
  synthesiserUpdatePerStep: z
    .array(synthUpdate11)
    .optional()
    .meta({ description: 'one {W, b} per TD error, after the clip: entry k is clip(mean_b δ_{k+1} E_{k+1}) (T−1 entries; cell mode T)' }),
  forwardViewUpdate: synthUpdate11.optional().meta({ description: 'forward view Σ_t (G^λ_t − ĝ_t) ∇θ ĝ_t, no clip (a batch: the mean)' }),
  learningSignals: perStep
    .optional()
    .meta({ description: 'the network’s learning signal: l_t + (β/c) ĝ_t on s_t, T×S; cell mode ε_t + (β/c) u_{t+1} D_{t+1} (ε_T at t = T) on h_t, T×H (a batch: a leading B axis)' }),
  sgGradients: gradients.optional().meta({ description: 'the network gradient of BP(λ) (or, method sg, of n-step synthetic gradients), any subset of the parameters (a batch: the mean)' }),
  synthesiserUpdate: synthUpdate11.optional().meta({ description: 'BP(λ): backward view Σ_k (entries of synthesiserUpdatePerStep), what the learner adds to θ, after the clip; method sg: Σ over the chunk boundaries b of (target_b − ĝ_b) ∇θ ĝ_b (a batch: the mean; with a clip, of the batch’s run)' }),
  sgGradientsPerStep: z
    .array(gradients)
    .optional()
    .meta({ description: 'BP(λ): the network gradient formed at each step t = 1..T (T entries; their sum is sgGradients; a batch: the mean)' }),
  tbpttGradients: gradients.optional().meta({ description: 'method tbptt: the truncated-BPTT network gradient, any subset of the parameters (a batch: the mean)' }),
  nStepPredictions: perStep
    .optional()
    .meta({ description: 'method sg: ĝ at each chunk boundary (every chunk end but the last), K×S with K the number of boundaries (a batch: B×K×S)' }),
  nStepTargets: perStep
    .optional()
    .meta({ description: 'method sg: the synthesiser’s target at each chunk boundary (c × the n-step target), K×S (a batch: B×K×S)' }),
});

export const traceSchema11 = traceSchema
  .extend({
    format: z.literal(TRACE_FORMAT_1_1),
    case: traceCaseSchema11.optional().meta({ description: 'one sequence, a bplambda-case/1 object whose targets may be class labels (exactly one of case and batch)' }),
    batch: traceBatchSchema11.optional().meta({ description: 'a batch of sequences sharing the network (exactly one of case and batch)' }),
    method: traceMethodSchema.optional(),
    loss: traceLossSchema.optional(),
    deviations: traceDeviationsSchema.optional(),
    stepParameters: z
      .array(z.strictObject({ params: traceCaseSchema.shape.params, synthesiser: traceBatchSchema.shape.synthesiser }))
      .optional()
      .meta({ description: 'method.schedule "step": T−1 entries, entry k the network parameters and synthesiser θ in effect at step k+2 (after the update of step k+1); step 1 uses the case’s (batch’s)' }),
    computed: computedSchema11,
  })
  .meta({
    title: 'bplambda-trace/1.1',
    description:
      'What an implementation of accumulate BP(λ) computed for one case (or batch), with the method, loss and declared deviations it ran with, to be checked by `bplambda verify`. Shapes are checked against the case by bplambda itself (docs/verification.md).',
  });

export type TraceDocument11 = z.infer<typeof traceSchema11>;
export type ComputedDocument11 = z.infer<typeof computedSchema11>;

/** Every 1.1 field, optional: a /1 document has none of the 1.1 additions. */
export type AnyTraceDocument = TraceDocument11 | (TraceDocument & Partial<Record<'method' | 'loss' | 'deviations' | 'stepParameters', undefined>>);

const schemaOf = (v: TraceVersion) => (v === '1' ? traceSchema : traceSchema11);

/**
 * Validate the structure of a trace (everything but shapes): the zod schema of its format version plus the three
 * rules it cannot state. Throws InvalidInputError naming the field.
 */
export const checkTraceStructure = (input: unknown): AnyTraceDocument => {
  const format = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as { format?: unknown }).format : undefined;
  const version = TRACE_VERSIONS.find((v) => traceFormatOf(v) === format);
  if (version === undefined && input !== null && typeof input === 'object' && !Array.isArray(input))
    throw new InvalidInputError('format', `one of ${TRACE_VERSIONS.map((v) => `"${traceFormatOf(v)}"`).join(', ')}`, format === undefined ? 'is missing' : `is ${JSON.stringify(format)}`);
  const r = schemaOf(version ?? '1').safeParse(input);
  if (!r.success) throw fromZodError(r.error);
  const t = r.data as AnyTraceDocument;
  if (t.case === undefined && t.batch === undefined) throw new InvalidInputError('case', 'a case (bplambda-case/1) or a batch', 'is missing');
  if (t.case !== undefined && t.batch !== undefined) throw new InvalidInputError('batch', 'only one of case and batch', 'is given with case');
  if (Object.keys(t.computed).length === 0)
    throw new InvalidInputError('computed', `at least one quantity (${(version === '1' ? QUANTITIES_1 : QUANTITIES).join(', ')})`, 'is empty');
  for (const k of ['bpttGradients', 'sgGradients', 'tbpttGradients'] as const) {
    const g = (t.computed as Partial<Record<typeof k, object>>)[k];
    if (g !== undefined && Object.keys(g).length === 0) throw new InvalidInputError(`computed.${k}`, 'at least one parameter', 'is empty');
  }
  const perStep = (t.computed as { sgGradientsPerStep?: object[] }).sgGradientsPerStep ?? [];
  const empty = perStep.findIndex((g) => Object.keys(g).length === 0);
  if (empty >= 0) throw new InvalidInputError(`computed.sgGradientsPerStep[${empty}]`, 'at least one parameter', 'is empty');
  return t;
};

/**
 * The JSON Schema (draft 2020-12) of a trace format version, generated from the zod schema, with the three
 * structural rules of `checkTraceStructure` added. The committed schemas/bplambda-trace-<version>.schema.json is
 * exactly `traceJsonSchemaText(version)`.
 */
export const traceJsonSchema = (version: TraceVersion = '1'): Record<string, unknown> => {
  const s = z.toJSONSchema(schemaOf(version), { target: 'draft-2020-12' }) as Record<string, unknown> & {
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

/** The text of the committed schema file of a version. */
export const traceJsonSchemaText = (version: TraceVersion = '1'): string => `${JSON.stringify(traceJsonSchema(version), null, 2)}\n`;

/** The file name of a version's JSON Schema (in schemas/ and in every golden directory). */
export const traceSchemaFileName = (version: TraceVersion): string => `bplambda-trace-${version}.schema.json`;
