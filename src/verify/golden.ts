/**
 * The golden set: a versioned, deterministic list of cases (RNN identity, tanh, sigmoid, relu; LSTM; several γ
 * and λ; masks; batches; the edge cases T = 2, λ = 0, λ = 1, γ = 0, no targets, ĝ ≡ 0) written as
 * `bplambda-trace/1` files whose `computed` holds every reference quantity; from version 2 also the
 * configurations of format 1.1 (the LSTM's cell mode, β, the per-step clip, the target scale, softmax
 * cross-entropy with class labels or one-hot targets, BCE with logits) as `bplambda-trace/1.1` files. The files of
 * version 1 are unchanged in version 2 (the first 18, byte for byte); version 3 adds, after the 25 files of
 * version 2 (unchanged), the n-step methods of format 1.1: n-step synthetic gradients and truncated BPTT. `goldenFiles` is pure: it returns the
 * file names and texts (traces, the JSON Schema, a README, a manifest with sha256 checksums, SHA256SUMS); the
 * `golden` command writes them.
 *
 * Case weights come from the library's seeded generator and are rounded to 4 decimals, so every case number has
 * a short exact decimal form that parses to the same float64 in any language.
 */
import { createHash } from 'node:crypto';
import { type ParsedCase, parseCase } from '../core/oracle.js';
import { type Rng, rngFromSeed, uniformRange } from '../core/random.js';
import type { LossKind } from '../core/model.js';
import type { BpLambdaMode } from '../core/modes.js';
import { referenceQuantities } from './reference.js';
import { type QuantityName, METHOD_QUANTITIES, TRACE_FORMAT, TRACE_FORMAT_1_1, TRACE_VERSIONS, traceJsonSchemaText, traceSchemaFileName } from './schema.js';
import { DEFAULT_TRACE_CONFIG, type TraceConfig } from './trace.js';

/** Bump when any golden case or the layout of the set changes. */
export const GOLDEN_VERSION = 3;
export const GOLDEN_FORMAT = 'bplambda-golden/1';
export const GOLDEN_SEED = 20240501;

type CellSpec = { type: 'rnn'; activation: 'identity' | 'tanh' | 'sigmoid' | 'relu' } | { type: 'lstm' };

export interface GoldenSpec {
  readonly name: string;
  readonly description: string;
  readonly cell: CellSpec;
  readonly I: number;
  readonly H: number;
  readonly O: number;
  readonly T: number;
  readonly gamma: number;
  readonly lambda: number;
  /** Steps (0-based) without a target, per example; 'all-but-last' keeps only y_T. */
  readonly masked?: readonly number[] | 'all-but-last' | 'all';
  /** Examples in a batch (absent: a single case). */
  readonly batch?: number;
  /** A zero synthesiser (ĝ ≡ 0). */
  readonly zeroSynth?: boolean;
  /** Format 1.1: BP(λ)'s options (absent: the /1 configuration, full mode, β = 1, no clip). */
  readonly method?: { readonly mode: BpLambdaMode; readonly beta: number; readonly synthClip: number };
  /** Format 1.1: the loss; 'labels' writes softmax cross-entropy targets as class labels. */
  readonly loss?: LossKind | 'labels';
  /** Format 1.1: the target scale c as a multiple of 1/B ('batch': 1/B, 'bits': 1/(B·O)). */
  readonly targetScale?: 'batch' | 'bits';
  /** Format 1.1: an n-step method in place of BP(λ) (γ is the spec's; λ is not used). */
  readonly nStep?:
    | { readonly kind: 'sg'; readonly n: number; readonly align: 'start' | 'end'; readonly target: 'discounted' | 'authors'; readonly beta: number }
    | { readonly kind: 'tbptt'; readonly n: number; readonly align: 'start' | 'end' };
}

/** Whether a spec needs format 1.1 (any of its configuration fields). */
export const isV11 = (spec: GoldenSpec): boolean => spec.method !== undefined || spec.loss !== undefined || spec.targetScale !== undefined || spec.nStep !== undefined;

const rnn = (activation: 'identity' | 'tanh' | 'sigmoid' | 'relu'): CellSpec => ({ type: 'rnn', activation });
const lstm: CellSpec = { type: 'lstm' };

/** The golden cases of version 1 (the order and names are part of the version). */
export const GOLDEN_SPECS: readonly GoldenSpec[] = [
  { name: 'rnn-identity-g1-l1', description: 'linear RNN, γ = 1, λ = 1 (λ-targets are the exact future gradients)', cell: rnn('identity'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 1 },
  { name: 'rnn-identity-g0.9-l0.5-masked', description: 'linear RNN, γ = 0.9, λ = 0.5, no targets at steps 1, 2, 4', cell: rnn('identity'), I: 3, H: 4, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 1, 3] },
  { name: 'rnn-identity-last-target-g1-l0.8', description: 'linear RNN, only the last step has a target (as the paper’s toy task), γ = 1, λ = 0.8', cell: rnn('identity'), I: 4, H: 5, O: 2, T: 8, gamma: 1, lambda: 0.8, masked: 'all-but-last' },
  { name: 'rnn-tanh-g0.9-l0', description: 'tanh RNN, λ = 0 (one-step bootstrapping), γ = 0.9', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 0 },
  { name: 'rnn-tanh-g0.9-l1', description: 'tanh RNN, λ = 1 with discount γ = 0.9', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 1 },
  { name: 'rnn-tanh-g0.5-l0.7-masked', description: 'tanh RNN, γ = 0.5, λ = 0.7, no targets at steps 2 and 5', cell: rnn('tanh'), I: 2, H: 5, O: 3, T: 7, gamma: 0.5, lambda: 0.7, masked: [1, 4] },
  { name: 'rnn-tanh-g0-l0.6', description: 'tanh RNN, γ = 0 (targets are the immediate next-step gradients only), λ = 0.6', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 5, gamma: 0, lambda: 0.6 },
  { name: 'rnn-tanh-T2-g0.9-l0.5', description: 'tanh RNN, the shortest sequence T = 2', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 2, gamma: 0.9, lambda: 0.5 },
  { name: 'rnn-tanh-no-targets-g1-l0.5', description: 'tanh RNN, no target at any step (loss 0; the TD errors come from bootstrapping alone)', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 5, gamma: 1, lambda: 0.5, masked: 'all' },
  { name: 'rnn-tanh-zero-synth-g1-l0.5', description: 'tanh RNN, zero synthesiser (ĝ ≡ 0)', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 0.5, zeroSynth: true },
  { name: 'rnn-sigmoid-g0.8-l0.9', description: 'sigmoid RNN, γ = 0.8, λ = 0.9', cell: rnn('sigmoid'), I: 3, H: 4, O: 2, T: 6, gamma: 0.8, lambda: 0.9 },
  { name: 'rnn-relu-g1-l0.3', description: 'ReLU RNN, γ = 1, λ = 0.3', cell: rnn('relu'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 0.3 },
  { name: 'lstm-g1-l1', description: 'LSTM (state [h; c], S = 2H), γ = 1, λ = 1', cell: lstm, I: 3, H: 3, O: 2, T: 6, gamma: 1, lambda: 1 },
  { name: 'lstm-g0.9-l0.5-masked', description: 'LSTM, γ = 0.9, λ = 0.5, no targets at steps 1 and 3', cell: lstm, I: 2, H: 3, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 2] },
  { name: 'lstm-g0-l1', description: 'LSTM, γ = 0, λ = 1', cell: lstm, I: 3, H: 2, O: 2, T: 5, gamma: 0, lambda: 1 },
  { name: 'lstm-T2-g1-l0', description: 'LSTM, T = 2, λ = 0', cell: lstm, I: 3, H: 3, O: 2, T: 2, gamma: 1, lambda: 0 },
  { name: 'batch-rnn-tanh-g0.9-l0.7', description: 'a batch of 3 tanh-RNN sequences with different masks, γ = 0.9, λ = 0.7', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 0.7, batch: 3, masked: [1, 3] },
  { name: 'batch-lstm-g1-l0.5', description: 'a batch of 2 LSTM sequences, γ = 1, λ = 0.5', cell: lstm, I: 2, H: 2, O: 2, T: 5, gamma: 1, lambda: 0.5, batch: 2 },
  // Version 2: format 1.1 (the configurations of the library's learner).
  { name: 'lstm-cell-g1-l1', description: 'LSTM cell mode (u_t = g(s_{t−1}) ≈ dL_{≥t}/dc_t, synthesiser H×2H), γ = 1, λ = 1, β = 1', cell: lstm, I: 3, H: 3, O: 2, T: 6, gamma: 1, lambda: 1, method: { mode: 'cell', beta: 1, synthClip: Infinity } },
  { name: 'lstm-cell-g0.9-l0.5-masked', description: 'LSTM cell mode, γ = 0.9, λ = 0.5, β = 0.5, no targets at steps 1 and 3', cell: lstm, I: 2, H: 3, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 2], method: { mode: 'cell', beta: 0.5, synthClip: Infinity } },
  { name: 'batch-lstm-cell-xent-labels-clip', description: 'the seq-MNIST configuration: a batch of 3, LSTM cell mode, γ = 0.9, λ = 1, β = 0.1, per-step clip 0.05, softmax cross-entropy on class labels at the last step, target scale 1/B', cell: lstm, I: 3, H: 3, O: 4, T: 5, gamma: 0.9, lambda: 1, batch: 3, masked: 'all-but-last', method: { mode: 'cell', beta: 0.1, synthClip: 0.05 }, loss: 'labels', targetScale: 'batch' },
  { name: 'batch-lstm-cell-bce-clip', description: 'the copy-repeat configuration: a batch of 2, LSTM cell mode, γ = 0.9, λ = 0.8, β = 1, per-step clip 0.05, per-bit BCE with logits, target scale 1/(B·O)', cell: lstm, I: 3, H: 2, O: 3, T: 6, gamma: 0.9, lambda: 0.8, batch: 2, masked: [0, 1], method: { mode: 'cell', beta: 1, synthClip: 0.05 }, loss: 'bce', targetScale: 'bits' },
  { name: 'batch-rnn-identity-clip-scale', description: 'the toy configuration: a batch of 3 linear RNN sequences, target at the last step, γ = 1, λ = 1, β = 1, per-step clip 0.05, target scale 1/B', cell: rnn('identity'), I: 4, H: 4, O: 2, T: 6, gamma: 1, lambda: 1, batch: 3, masked: 'all-but-last', method: { mode: 'full', beta: 1, synthClip: 0.05 }, targetScale: 'batch' },
  { name: 'rnn-tanh-xent-onehot-b0.3', description: 'tanh RNN, full mode, β = 0.3, softmax cross-entropy with one-hot targets, γ = 0.9, λ = 0.7', cell: rnn('tanh'), I: 3, H: 4, O: 3, T: 6, gamma: 0.9, lambda: 0.7, method: { mode: 'full', beta: 0.3, synthClip: Infinity }, loss: 'xent' },
  { name: 'lstm-full-bce', description: 'LSTM, full-state mode, per-bit BCE with logits, γ = 1, λ = 0.5', cell: lstm, I: 2, H: 2, O: 3, T: 5, gamma: 1, lambda: 0.5, loss: 'bce' },
  // Version 3: the n-step methods of format 1.1 (λ is not used by them).
  { name: 'batch-rnn-tanh-sg3-authors-end', description: 'n-step synthetic gradients as the authors’ DNI code: a batch of 3 tanh-RNN sequences, n = 3, chunks aligned to the end (a short first chunk), target "authors" (no γ, bootstrap β ĝ), β = 0.5, target scale 1/B', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 8, gamma: 0.9, lambda: 1, batch: 3, masked: [1, 3], nStep: { kind: 'sg', n: 3, align: 'end', target: 'authors', beta: 0.5 }, targetScale: 'batch' },
  { name: 'lstm-sg2-discounted', description: 'n-step synthetic gradients on an LSTM (full state), n = 2, chunks from the start, the discounted n-step target, γ = 0.9, β = 1', cell: lstm, I: 2, H: 2, O: 2, T: 6, gamma: 0.9, lambda: 1, nStep: { kind: 'sg', n: 2, align: 'start', target: 'discounted', beta: 1 } },
  { name: 'batch-lstm-tbptt3-end-xent-labels', description: 'truncated BPTT: a batch of 2 LSTM sequences, n = 3, chunks aligned to the end, softmax cross-entropy on class labels at the last step (the synthesiser is zero and not used)', cell: lstm, I: 3, H: 2, O: 3, T: 7, gamma: 1, lambda: 1, batch: 2, masked: 'all-but-last', loss: 'labels', zeroSynth: true, nStep: { kind: 'tbptt', n: 3, align: 'end' } },
];

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
    method: spec.nStep ?? { kind: 'bp-lambda', mode: m.mode, beta: m.beta, synthClip: m.synthClip === Infinity ? 'Infinity' : m.synthClip },
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
  const reference = referenceQuantities(examplesOf(input, config, spec.O), mode, config);
  const order = spec.nStep !== undefined ? METHOD_QUANTITIES[spec.nStep.kind] : isV11(spec) ? [...V1_ORDER[mode], 'learningSignals' as const] : V1_ORDER[mode];
  const computed = Object.fromEntries(order.map((q) => [q, reference[q]]));
  return { format: isV11(spec) ? TRACE_FORMAT_1_1 : TRACE_FORMAT, producer, precision: 'float64', ...configFields(spec), [mode]: input, computed };
};

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const fileName = (i: number, spec: GoldenSpec): string => `${String(i + 1).padStart(2, '0')}-${spec.name}.trace.json`;

const cellText = (c: CellSpec): string => (c.type === 'rnn' ? `rnn (${c.activation})` : 'lstm');

const maskText = (spec: GoldenSpec): string => {
  const m = spec.masked;
  if (m === undefined) return 'none';
  if (m === 'all') return 'all steps';
  if (m === 'all-but-last') return `all but t = ${spec.T}`;
  return `t ∈ {${m.map((t) => t + 1).join(', ')}}${spec.batch === undefined ? '' : ', shifted by the example index'}`;
};

/** The method of a spec in words (the README's table). */
const methodText = (spec: GoldenSpec): string => {
  const n = spec.nStep;
  if (n?.kind === 'sg') return `sg, n = ${n.n}, align ${n.align}, target ${n.target}, β = ${n.beta}`;
  if (n?.kind === 'tbptt') return `tbptt, n = ${n.n}, align ${n.align}`;
  const m = spec.method;
  return m === undefined ? 'bp-lambda' : `bp-lambda, ${m.mode}, β = ${m.beta}${m.synthClip === Infinity ? '' : `, clip ${m.synthClip}`}`;
};

const lossText = (spec: GoldenSpec): string => (spec.loss === undefined ? 'mse' : spec.loss === 'labels' ? 'xent (labels)' : spec.loss);

const scaleText = (spec: GoldenSpec): string => (spec.targetScale === 'batch' ? '1/B' : spec.targetScale === 'bits' ? '1/(B·O)' : '1');

const readme = (generator: string, entries: readonly { file: string; spec: GoldenSpec }[]): string => `# bplambda golden set, version ${GOLDEN_VERSION}

Reference values of accumulate BP(λ), n-step synthetic gradients, truncated BPTT and BPTT for ${entries.length} fixed
cases, written by \`${generator}\` (\`bplambda golden --out DIR\`). Each \`*.trace.json\` is a trace whose \`computed\`
object holds every quantity of the float64 reference for its method: \`${TRACE_FORMAT}\` for the ${entries.filter((e) => !isV11(e.spec)).length} files
of version 1 (BP(λ) with the full-state synthesiser, β = 1, no clip, ½‖ŷ − y‖²), \`${TRACE_FORMAT_1_1}\` for the
others, which state their configuration (\`method\`, \`loss\`, \`targetScale\`). To test another implementation,
run it on each file's \`case\` (or \`batch\`) with that configuration, write its own values into a trace with the
same layout, and run \`bplambda verify YOUR-TRACE.json\` (see docs/verification.md in the bplambda repository).
\`bplambda verify\` passes on every file here as it is.

Files: the traces; \`bplambda-trace-1.schema.json\` and \`bplambda-trace-1.1.schema.json\` (JSON Schemas of the two
trace formats); \`manifest.json\` (versions, one entry per file with its sha256); \`SHA256SUMS\`
(\`sha256sum -c SHA256SUMS\`). The set is deterministic: the same version of bplambda writes the same bytes.

## Conventions

- **Indexing.** Steps run t = 1..T in the mathematics and 0-based in the JSON arrays: \`states[k]\` is s_{k+1}; the
  (T−1)-row quantities \`futureGradients\`, \`syntheticGradients\`, \`lambdaTargets\`, \`tdErrors\`,
  \`synthesiserUpdatePerStep\` have row k for t = k+1 (t = 1..T−1). \`s_0 = 0\` is not listed.
- **Shapes.** Matrices are arrays of rows (row-major): \`W[i][j]\` is row i, column j. Sizes: input I, hidden H,
  output O, state S (S = H for an RNN; S = 2H for an LSTM, state \`[h; c]\`, gate blocks of \`W_ih\`, \`W_hh\`, \`b\`
  in the order input, forget, candidate, output; one bias per gate, no separate b_ih and b_hh).
- **Vectors.** States are column vectors; gradients are **row vectors**: \`G_t = (l_{t+1} + γ G_{t+1}) J_{t+1}\`
  multiplies the row vector on the left of the Jacobian \`J_t = ∂s_t/∂s_{t−1}\` (\`J[i][j] = ∂s_t[i]/∂s_{t−1}[j]\`).
- **Loss.** Format 1: \`L_t = ½‖ŷ_t − y_t‖²\` with \`ŷ_t = W_out h_t + b_out\`, only where the target is not null (a
  mask); \`L = Σ_t L_t\`. No mean over steps or outputs. \`l_t = ∂L_t/∂s_t\`. Format 1.1 states \`"loss": {"kind",
  "reduction": "sum"}\`: \`mse\` (as format 1), \`xent\` (−Σ_k y_k log softmax(ŷ_t)_k; a target may be a **class
  label**, an integer in [0, O), read as its one-hot vector), \`bce\` (Σ_k of the binary cross-entropy with logits
  ŷ_t,k); always summed over outputs and steps, per example.
- **Terminal step.** \`ĝ_T = 0\`, \`G_T = 0\`, \`G^λ_T = 0\`; there is no prediction at s_0. Synthetic gradients
  \`ĝ_t = W s_t + b\` for t = 1..T−1.
- **TD errors and traces.** \`δ_t = (c l_{t+1} + γ ĝ_{t+1}) J_{t+1} − ĝ_t\`; \`E_0 = 0\`, \`E_t = γλ J_t E_{t−1} + ∇_θ ĝ_t\`
  with θ = (W, b) flattened as W row-major then b (c = 1 unless \`targetScale\` says otherwise).
- **Sign of updates.** \`synthesiserUpdate\` = Σ_t δ_t E_t (backward view) and \`forwardViewUpdate\` =
  Σ_t (G^λ_t − ĝ_t) ∇_θ ĝ_t are the direction to **add** to θ (times a positive step size); they are equal without
  a clip. \`synthesiserUpdatePerStep[k]\` is δ_{k+1} E_{k+1}; the entries sum to \`synthesiserUpdate\` (up to rounding).
  Gradients (\`bpttGradients\` = dL/dparam, \`sgGradients\` = Σ_t (l_t + (β/c) ĝ_t) ∂s_t/∂Ψ plus the readout
  gradient, \`tbpttGradients\`) are derivatives: to descend, subtract them.
- **Batches.** A \`batch\` trace shares cell, params, synthesiser, γ, λ across \`examples\`; per-step quantities
  get a leading example axis (B×T×S, B×(T−1)×S); loss, updates, per-step updates and gradients are **means over
  the examples**.
- **Scale of ĝ.** The synthesiser predicts c × each example's own gradient, c = \`targetScale\` (default 1). An
  implementation that, like the authors' code, predicts gradients of the batch-mean loss (1/B as large; 1/(B·O) for
  the per-bit mean of BCE) states \`"targetScale": 1/B\`: its λ-targets, TD errors and updates are at that scale, and
  its network learns from l_t + (β/c) ĝ_t.
- **Cell mode (1.1, \`"method": {"mode": "cell"}\`, LSTM).** \`u_t = W s_{t−1} + b\` with W of **H×S** and b of H
  predicts dL_{≥t}/dc_t. \`syntheticGradients\` is u_1 .. u_T, \`lambdaTargets\` Γ^λ_1 .. Γ^λ_T (Γ^λ_T = c m_T, m_t = ε_t ⊙
  ψ_t), \`tdErrors\` δ_1 .. δ_T, all **T×H**; \`synthesiserUpdatePerStep\` has T entries (W H×S, b H).
- **β and the clip (1.1).** \`method.beta\` weights the prediction in the learning signal. \`method.synthClip\`: each
  step's batch-mean update is rescaled, W and b apart, to L2 norm ≤ the clip; \`synthesiserUpdatePerStep\` and
  \`synthesiserUpdate\` are after it, \`forwardViewUpdate\` never clips.
- **Learning signals (1.1).** \`learningSignals\`, per example: full mode l_t + (β/c) ĝ_t on s_t (**T×S**, ĝ_T = 0);
  cell mode ε_t + (β/c) u_{t+1} D_{t+1} on h_t, ε_T at t = T (**T×H**).
- **Deviations (1.1).** A trace may declare \`"deviations": {"biasGradScale": k, "readoutGradScale": k}\`: the
  implementation's cell-bias (or readout) gradients are k × the reference's (the authors' LSTM: bias ×2). None of
  the files here declares one.
- **n-step methods (1.1).** \`"method": {"kind": "sg", "n", "align", "target", "beta"}\`: n-step synthetic
  gradients: BPTT inside chunks of n steps (\`align\` \`start\`: [1..n], [n+1..2n], …; \`end\`: a short first chunk of
  T mod n steps), (β/c) ĝ injected at every chunk end but the last (a **boundary**), and the synthesiser regressed at
  each boundary s_b on \`target\` \`discounted\` (c × the n-step target with γ) or \`authors\` (c × the gradient
  BPTT delivers to s_b from the next chunk with the injected (β/c) ĝ and no γ). Its quantities: \`loss\`, \`states\`,
  \`futureGradients\`, \`bpttGradients\`, \`sgGradients\` (its network gradient), \`nStepPredictions\` and
  \`nStepTargets\` (**K×S**, one row per boundary in time order; a batch: B×K×S) and \`synthesiserUpdate\`
  (Σ_b (target_b − ĝ_b) ∇_θ ĝ_b). \`"method": {"kind": "tbptt", "n", "align"}\`: truncated BPTT with the same chunks;
  \`tbpttGradients\` is its gradient. λ (and for tbptt γ and the synthesiser) are present but not used.

## Cases

| file | format | method | loss | c | cell | T | B | γ | λ | steps without target | what it checks |
|---|---|---|---|---|---|---|---|---|---|---|---|
${entries
  .map(({ file, spec }) => `| ${file} | ${isV11(spec) ? '1.1' : '1'} | ${methodText(spec)} | ${lossText(spec)} | ${scaleText(spec)} | ${cellText(spec.cell)} | ${spec.T} | ${spec.batch ?? 1} | ${spec.gamma} | ${spec.lambda} | ${maskText(spec)} | ${spec.description} |`)
  .join('\n')}
`;

/**
 * The whole golden set as `{ fileName: text }`, deterministic for a given `generator` string (which names the
 * writing program and version and is recorded in the manifest and each trace's `producer`).
 */
export const goldenFiles = (generator: string): Record<string, string> => {
  const files: Record<string, string> = {};
  const entries = GOLDEN_SPECS.map((spec, i) => ({ spec, file: fileName(i, spec), seed: GOLDEN_SEED + i }));
  for (const { spec, file, seed } of entries) files[file] = `${JSON.stringify(goldenTrace(spec, seed, `${generator} (golden set ${GOLDEN_VERSION})`))}\n`;
  for (const v of TRACE_VERSIONS) files[traceSchemaFileName(v)] = traceJsonSchemaText(v);
  files['README.md'] = readme(generator, entries);
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
