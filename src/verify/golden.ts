/**
 * The golden set: a versioned, deterministic list of cases (RNN identity, tanh, sigmoid, relu; LSTM; several γ
 * and λ; masks; batches; the edge cases T = 2, λ = 0, λ = 1, γ = 0, no targets, ĝ ≡ 0) written as
 * `bplambda-trace/1` files whose `computed` holds every reference quantity; from version 2 also the
 * configurations of format 1.1 (the LSTM's cell mode, β, the per-step clip, the target scale, softmax
 * cross-entropy with class labels or one-hot targets, BCE with logits) as `bplambda-trace/1.1` files. The files of
 * version 1 are unchanged in version 2 (the first 18, byte for byte); version 3 adds, after the 25 files of
 * version 2 (unchanged), the n-step methods of format 1.1: n-step synthetic gradients and truncated BPTT; version 4
 * adds, after those 28 (unchanged), BP(λ)'s step schedule (SGD after every step, the parameters of steps 2..T in
 * `stepParameters`, goldenSteps.ts). `goldenFiles` is pure: it returns the
 * file names and texts (traces, the JSON Schema, a README, a manifest with sha256 checksums, SHA256SUMS); the
 * `golden` command writes them.
 *
 * Case weights come from the library's seeded generator and are rounded to 4 decimals, so every case number has
 * a short exact decimal form that parses to the same float64 in any language (the step parameters of version 4 are
 * computed, written as shortest round-trip float64 numbers like the quantities).
 */
import { createHash } from 'node:crypto';
import { type ParsedCase, parseCase } from '../core/oracle.js';
import { type Rng, rngFromSeed, uniformRange } from '../core/random.js';
import type { LossKind } from '../core/model.js';
import type { BpLambdaMode } from '../core/modes.js';
import { referenceQuantities } from './reference.js';
import { sgdStepParameters } from './goldenSteps.js';
import { paramsJson } from './stepSchedule.js';
import { type QuantityName, METHOD_QUANTITIES, STEP_SCHEDULE_QUANTITIES, TRACE_FORMAT, TRACE_FORMAT_1_1, TRACE_VERSIONS, traceJsonSchemaText, traceSchemaFileName } from './schema.js';
import { DEFAULT_TRACE_CONFIG, type TraceConfig } from './trace.js';
import { cellText, goldenReadme } from './goldenReadme.js';
import { type GoldenSpec, GOLDEN_FORMAT, GOLDEN_SEED, GOLDEN_SPECS, GOLDEN_VERSION, isV11 } from './goldenSpecs.js';

export { type GoldenSpec, GOLDEN_FORMAT, GOLDEN_SEED, GOLDEN_SPECS, GOLDEN_VERSION, isV11 } from './goldenSpecs.js';

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4 + 0; // + 0 turns −0 into 0

const draw = (rng: Rng, n: number, bound: number): [number[], Rng] => {
  const [u, next] = uniformRange(rng, n, -bound, bound);
  return [Array.from(u, round4), next];
};

const drawMatrix = (rng: Rng, r: number, c: number, bound: number): [number[][], Rng] => {
  const [flat, next] = draw(rng, r * c, bound);
  return [Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c)), next];
};

const isMasked = (spec: GoldenSpec, t: number, example: number): boolean => {
  const m = spec.masked;
  if (m === undefined) return false;
  if (m === 'all') return true;
  if (m === 'all-but-last') return t !== spec.T - 1;
  // In a batch, example b shifts the masked steps by b, so the examples differ.
  return m.includes((t - example + spec.T) % spec.T);
};

/** A target from a uniform draw in [−1, 1]^O: as drawn (mse), one-hot or a class label at the arg-max, bits (bce). */
const targetOf = (loss: GoldenSpec['loss'], y: number[]): number[] | number => {
  const k = y.indexOf(Math.max(...y));
  if (loss === 'labels') return k;
  if (loss === 'xent') return y.map((_, j) => (j === k ? 1 : 0));
  if (loss === 'bce') return y.map((x) => (x > 0 ? 1 : 0));
  return y;
};

/** The case (or batch) object of a golden spec, from its own seed. */
export const goldenInput = (spec: GoldenSpec, seed: number): Record<string, unknown> => {
  const { I, H, O, T } = spec;
  const S = spec.cell.type === 'lstm' ? 2 * H : H;
  const G = spec.cell.type === 'lstm' ? 4 * H : H;
  let rng = rngFromSeed(seed);
  const m = (r: number, c: number, bound: number): number[][] => {
    const [x, next] = drawMatrix(rng, r, c, bound);
    rng = next;
    return x;
  };
  const v = (n: number, bound: number): number[] => {
    const [x, next] = draw(rng, n, bound);
    rng = next;
    return x;
  };
  const k = 1 / Math.sqrt(H);
  const params =
    spec.cell.type === 'rnn'
      ? { W_in: m(H, I, 1), W_rec: m(H, H, 1.2 * k), b: v(H, 0.3), W_out: m(O, H, 1), b_out: v(O, 0.2) }
      : { W_ih: m(G, I, 1), W_hh: m(G, H, 1.2 * k), b: v(G, 0.5), W_out: m(O, H, 1), b_out: v(O, 0.2) };
  // The cell mode's synthesiser maps the state (S) to the memory (H), spec §6.3.
  const P = spec.method?.mode === 'cell' ? H : S;
  const synthesiser = spec.zeroSynth
    ? { W: Array.from({ length: P }, () => Array.from({ length: S }, () => 0)), b: Array.from({ length: P }, () => 0) }
    : { W: m(P, S, 0.4), b: v(P, 0.2) };
  const example = (b: number) => ({
    inputs: m(T, I, 1),
    targets: Array.from({ length: T }, (_, t) => {
      const y = targetOf(spec.loss, v(O, 1));
      return isMasked(spec, t, b) ? null : y;
    }),
  });
  const shared = { cell: spec.cell, params, synthesiser };
  if (spec.batch === undefined) {
    const e = example(0);
    return { format: 'bplambda-case/1', ...shared, inputs: e.inputs, targets: e.targets, gamma: spec.gamma, lambda: spec.lambda };
  }
  return { ...shared, examples: Array.from({ length: spec.batch }, (_, b) => example(b)), gamma: spec.gamma, lambda: spec.lambda };
};

/** The configuration fields of a 1.1 golden trace (method, loss, target scale). */
const configFields = (spec: GoldenSpec): Record<string, unknown> => {
  if (!isV11(spec)) return {};
  const B = spec.batch ?? 1;
  const kind: LossKind = spec.loss === 'labels' ? 'xent' : (spec.loss ?? 'mse');
  const m = spec.method ?? { mode: 'full', beta: 1, synthClip: Infinity };
  return {
    method: spec.nStep ?? { kind: 'bp-lambda', mode: m.mode, beta: m.beta, synthClip: m.synthClip === Infinity ? 'Infinity' : m.synthClip, ...(spec.schedule === undefined ? {} : { schedule: 'step' }) },
    loss: { kind, reduction: 'sum' },
    ...(spec.targetScale === undefined ? {} : { targetScale: 1 / (B * (spec.targetScale === 'bits' ? spec.O : 1)) }),
  };
};

/** The configuration a golden trace states, as `parseTrace` reads it. */
const configOfSpec = (spec: GoldenSpec): TraceConfig => {
  const f = configFields(spec) as { method?: { mode: BpLambdaMode; beta: number }; loss?: { kind: LossKind }; targetScale?: number };
  const n = spec.nStep;
  return {
    ...DEFAULT_TRACE_CONFIG,
    version: isV11(spec) ? '1.1' : '1',
    kind: n?.kind ?? 'bp-lambda',
    n: n?.n ?? 1,
    align: n?.align ?? 'start',
    sgTarget: n?.kind === 'sg' ? n.target : 'discounted',
    mode: f.method?.mode ?? 'full',
    schedule: spec.schedule === undefined ? 'sequence' : 'step',
    beta: n?.kind === 'sg' ? n.beta : n?.kind === 'tbptt' ? 1 : (f.method?.beta ?? 1),
    synthClip: spec.method?.synthClip ?? Infinity,
    targetScale: f.targetScale ?? 1,
    loss: f.loss?.kind ?? 'mse',
  };
};

/** The parsed examples of a golden input (a case, or each example of a batch), class labels as one-hot. */
const examplesOf = (input: Record<string, unknown>, config: TraceConfig, O: number): ParsedCase[] => {
  const reading = { mode: config.mode, loss: config.loss };
  const oneHot = (ys: unknown[]) => ys.map((y) => (typeof y === 'number' ? Array.from({ length: O }, (_, k) => (k === y ? 1 : 0)) : y));
  if (input['format'] === 'bplambda-case/1') return [parseCase({ ...input, targets: oneHot(input['targets'] as unknown[]) }, reading)];
  const { examples, ...shared } = input as { examples: { inputs: unknown; targets: unknown[] }[] };
  return examples.map((e) => parseCase({ format: 'bplambda-case/1', ...shared, inputs: e.inputs, targets: oneHot(e.targets) }, reading));
};

/** The order of the quantities in the files of version 1 (kept, so that they stay byte for byte the same). */
const V1_ORDER: Readonly<Record<'case' | 'batch', readonly QuantityName[]>> = {
  case: ['loss', 'states', 'bpttGradients', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors', 'synthesiserUpdate', 'forwardViewUpdate', 'sgGradients', 'synthesiserUpdatePerStep'],
  batch: ['synthesiserUpdatePerStep', 'states', 'futureGradients', 'syntheticGradients', 'lambdaTargets', 'tdErrors', 'loss', 'synthesiserUpdate', 'forwardViewUpdate', 'bpttGradients', 'sgGradients'],
};

/** One golden trace: the case or batch with every reference quantity of its format under `computed`. */
export const goldenTrace = (spec: GoldenSpec, seed: number, producer: string): Record<string, unknown> => {
  const input = goldenInput(spec, seed);
  const mode = spec.batch === undefined ? 'case' : 'batch';
  const config = configOfSpec(spec);
  const examples = examplesOf(input, config, spec.O);
  const steps = spec.schedule === undefined ? [] : sgdStepParameters(examples, config, spec.schedule.lr);
  const reference = referenceQuantities(examples, mode, config, steps);
  const order =
    spec.nStep !== undefined ? METHOD_QUANTITIES[spec.nStep.kind] : spec.schedule !== undefined ? STEP_SCHEDULE_QUANTITIES : isV11(spec) ? [...V1_ORDER[mode], 'learningSignals' as const] : V1_ORDER[mode];
  const computed = Object.fromEntries(order.map((q) => [q, reference[q]]));
  const stepParameters = spec.schedule === undefined ? {} : { stepParameters: steps.map((p) => ({ params: paramsJson(p.params), synthesiser: paramsJson(p.theta) })) };
  return { format: isV11(spec) ? TRACE_FORMAT_1_1 : TRACE_FORMAT, producer, precision: 'float64', ...configFields(spec), [mode]: input, ...stepParameters, computed };
};

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const fileName = (i: number, spec: GoldenSpec): string => `${String(i + 1).padStart(2, '0')}-${spec.name}.trace.json`;

/**
 * The whole golden set as `{ fileName: text }`, deterministic for a given `generator` string (which names the
 * writing program and version and is recorded in the manifest and each trace's `producer`).
 */
export const goldenFiles = (generator: string): Record<string, string> => {
  const files: Record<string, string> = {};
  const entries = GOLDEN_SPECS.map((spec, i) => ({ spec, file: fileName(i, spec), seed: GOLDEN_SEED + i }));
  for (const { spec, file, seed } of entries) files[file] = `${JSON.stringify(goldenTrace(spec, seed, `${generator} (golden set ${GOLDEN_VERSION})`))}\n`;
  for (const v of TRACE_VERSIONS) files[traceSchemaFileName(v)] = traceJsonSchemaText(v);
  files['README.md'] = goldenReadme(generator, entries);
  const listed = Object.keys(files);
  const manifest = {
    format: GOLDEN_FORMAT,
    goldenVersion: GOLDEN_VERSION,
    generator,
    traceFormat: TRACE_FORMAT,
    traceFormats: [TRACE_FORMAT, TRACE_FORMAT_1_1],
    caseFormat: 'bplambda-case/1',
    oracleFormat: 'bplambda-oracle/1',
    seed: GOLDEN_SEED,
    precision: 'float64',
    files: listed.map((file) => {
      const e = entries.find((x) => x.file === file);
      const meta =
        e === undefined
          ? { kind: file.endsWith('.json') ? 'schema' : 'readme' }
          : {
              kind: 'trace',
              name: e.spec.name,
              description: e.spec.description,
              cell: cellText(e.spec.cell),
              T: e.spec.T,
              B: e.spec.batch ?? 1,
              gamma: e.spec.gamma,
              lambda: e.spec.lambda,
              seed: e.seed,
            };
      return { file, sha256: sha256(files[file]!), bytes: Buffer.byteLength(files[file]!, 'utf8'), ...meta };
    }),
  };
  files['manifest.json'] = `${JSON.stringify(manifest, null, 2)}\n`;
  files['SHA256SUMS'] = [...listed, 'manifest.json'].map((f) => `${sha256(files[f]!)}  ${f}\n`).join('');
  return files;
};
