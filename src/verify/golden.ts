/**
 * The golden set: a versioned, deterministic list of cases (RNN identity, tanh, sigmoid, relu; LSTM; several γ
 * and λ; masks; batches; the edge cases T = 2, λ = 0, λ = 1, γ = 0, no targets, ĝ ≡ 0) written as
 * `bplambda-trace/1` files whose `computed` holds every reference quantity. `goldenFiles` is pure: it returns the
 * file names and texts (traces, the JSON Schema, a README, a manifest with sha256 checksums, SHA256SUMS); the
 * `golden` command writes them.
 *
 * Case weights come from the library's seeded generator and are rounded to 4 decimals, so every case number has
 * a short exact decimal form that parses to the same float64 in any language.
 */
import { createHash } from 'node:crypto';
import { type ParsedCase, parseCase } from '../core/oracle.js';
import { type Rng, rngFromSeed, uniformRange } from '../core/random.js';
import { referenceQuantities } from './reference.js';
import { TRACE_FORMAT, traceJsonSchemaText } from './schema.js';

/** Bump when any golden case or the layout of the set changes. */
export const GOLDEN_VERSION = 1;
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
}

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
  const synthesiser = spec.zeroSynth
    ? { W: Array.from({ length: S }, () => Array.from({ length: S }, () => 0)), b: Array.from({ length: S }, () => 0) }
    : { W: m(S, S, 0.4), b: v(S, 0.2) };
  const example = (b: number) => ({
    inputs: m(T, I, 1),
    targets: Array.from({ length: T }, (_, t) => {
      const y = v(O, 1);
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

/** The parsed examples of a golden input (a case, or each example of a batch). */
const examplesOf = (input: Record<string, unknown>): ParsedCase[] => {
  if (input['format'] === 'bplambda-case/1') return [parseCase(input)];
  const { examples, ...shared } = input as { examples: { inputs: unknown; targets: unknown }[] };
  return examples.map((e) => parseCase({ format: 'bplambda-case/1', ...shared, inputs: e.inputs, targets: e.targets }));
};

/** One golden trace: the case or batch with every reference quantity under `computed`. */
export const goldenTrace = (spec: GoldenSpec, seed: number, producer: string): Record<string, unknown> => {
  const input = goldenInput(spec, seed);
  const mode = spec.batch === undefined ? 'case' : 'batch';
  const computed = referenceQuantities(examplesOf(input), mode);
  return { format: TRACE_FORMAT, producer, precision: 'float64', [mode]: input, computed };
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

const readme = (generator: string, entries: readonly { file: string; spec: GoldenSpec }[]): string => `# bplambda golden set, version ${GOLDEN_VERSION}

Reference values of accumulate BP(λ) and BPTT for ${entries.length} fixed cases, written by \`${generator}\`
(\`bplambda golden --out DIR\`). Each \`*.trace.json\` is a \`${TRACE_FORMAT}\` trace whose \`computed\` object holds
every quantity of the float64 reference. To test another implementation, run it on each file's \`case\` (or
\`batch\`), write its own values into a trace with the same layout, and run \`bplambda verify YOUR-TRACE.json\`
(see docs/verification.md in the bplambda repository). \`bplambda verify\` passes on every file here as it is.

Files: the traces; \`bplambda-trace-1.schema.json\` (JSON Schema of the trace format); \`manifest.json\` (versions,
one entry per file with its sha256); \`SHA256SUMS\` (\`sha256sum -c SHA256SUMS\`). The set is deterministic: the same
version of bplambda writes the same bytes.

## Conventions

- **Indexing.** Steps run t = 1..T in the mathematics and 0-based in the JSON arrays: \`states[k]\` is s_{k+1}; the
  (T−1)-row quantities \`futureGradients\`, \`syntheticGradients\`, \`lambdaTargets\`, \`tdErrors\`,
  \`synthesiserUpdatePerStep\` have row k for t = k+1 (t = 1..T−1). \`s_0 = 0\` is not listed.
- **Shapes.** Matrices are arrays of rows (row-major): \`W[i][j]\` is row i, column j. Sizes: input I, hidden H,
  output O, state S (S = H for an RNN; S = 2H for an LSTM, state \`[h; c]\`, gate blocks of \`W_ih\`, \`W_hh\`, \`b\`
  in the order input, forget, candidate, output; one bias per gate, no separate b_ih and b_hh).
- **Vectors.** States are column vectors; gradients are **row vectors**: \`G_t = (l_{t+1} + γ G_{t+1}) J_{t+1}\`
  multiplies the row vector on the left of the Jacobian \`J_t = ∂s_t/∂s_{t−1}\` (\`J[i][j] = ∂s_t[i]/∂s_{t−1}[j]\`).
- **Loss.** \`L_t = ½‖ŷ_t − y_t‖²\` with \`ŷ_t = W_out h_t + b_out\`, only where the target is not null (a mask);
  \`L = Σ_t L_t\`. No mean over steps or outputs. \`l_t = ∂L_t/∂s_t\`.
- **Terminal step.** \`ĝ_T = 0\`, \`G_T = 0\`, \`G^λ_T = 0\`; there is no prediction at s_0. Synthetic gradients
  \`ĝ_t = W s_t + b\` for t = 1..T−1.
- **TD errors and traces.** \`δ_t = (l_{t+1} + γ ĝ_{t+1}) J_{t+1} − ĝ_t\`; \`E_0 = 0\`, \`E_t = γλ J_t E_{t−1} + ∇_θ ĝ_t\`
  with θ = (W, b) flattened as W row-major then b.
- **Sign of updates.** \`synthesiserUpdate\` = Σ_t δ_t E_t (backward view) and \`forwardViewUpdate\` =
  Σ_t (G^λ_t − ĝ_t) ∇_θ ĝ_t are the direction to **add** to θ (times a positive step size); they are equal.
  \`synthesiserUpdatePerStep[k]\` is δ_{k+1} E_{k+1}; the entries sum to \`synthesiserUpdate\` (up to rounding). Gradients
  (\`bpttGradients\` = dL/dparam, \`sgGradients\` = Σ_t (l_t + ĝ_t) ∂s_t/∂Ψ plus the readout gradient) are
  derivatives: to descend, subtract them.
- **Batches.** A \`batch\` trace shares cell, params, synthesiser, γ, λ across \`examples\`; per-step quantities
  get a leading example axis (B×T×S, B×(T−1)×S); loss, updates, per-step updates and gradients are **means over
  the examples**.
- **Scale of ĝ.** The synthesiser predicts each example's own gradient (target scale 1). An implementation that,
  like the authors' code, predicts gradients of the batch-mean loss (1/B as large) adds \`"targetScale": 1/B\` to
  its trace: \`bplambda verify\` then compares at that scale.
- **Numbers.** float64, shortest round-trip decimal form. Case inputs are rounded to 4 decimals.

## Cases

| file | cell | T | B | γ | λ | steps without target | what it checks |
|---|---|---|---|---|---|---|---|
${entries
  .map(({ file, spec }) => `| ${file} | ${cellText(spec.cell)} | ${spec.T} | ${spec.batch ?? 1} | ${spec.gamma} | ${spec.lambda} | ${maskText(spec)} | ${spec.description} |`)
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
  files['bplambda-trace-1.schema.json'] = traceJsonSchemaText();
  files['README.md'] = readme(generator, entries);
  const listed = Object.keys(files);
  const manifest = {
    format: GOLDEN_FORMAT,
    goldenVersion: GOLDEN_VERSION,
    generator,
    traceFormat: TRACE_FORMAT,
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
