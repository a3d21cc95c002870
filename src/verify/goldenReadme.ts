/** The README of the golden set (src/verify/golden.ts): what the files are, their conventions, the cases in a table. */
import { type CellSpec, type GoldenSpec, GOLDEN_VERSION, isV11 } from './goldenSpecs.js';
import { TRACE_FORMAT_1_1, TRACE_FORMAT } from './schema.js';

/** A cell in words (the README's table and the manifest). */
export const cellText = (c: CellSpec): string => (c.type === 'rnn' ? `rnn (${c.activation})` : 'lstm');

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
  const schedule = spec.schedule === undefined ? '' : `, step schedule (SGD ${spec.schedule.lr})`;
  return m === undefined ? 'bp-lambda' : `bp-lambda, ${m.mode}, β = ${m.beta}${m.synthClip === Infinity ? '' : `, clip ${m.synthClip}`}${schedule}`;
};

const lossText = (spec: GoldenSpec): string => (spec.loss === undefined ? 'mse' : spec.loss === 'labels' ? 'xent (labels)' : spec.loss);

const scaleText = (spec: GoldenSpec): string => (spec.targetScale === 'batch' ? '1/B' : spec.targetScale === 'bits' ? '1/(B·O)' : '1');

export const goldenReadme = (generator: string, entries: readonly { file: string; spec: GoldenSpec }[]): string => `# bplambda golden set, version ${GOLDEN_VERSION}

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
- **Step schedule (1.1).** \`"method": {"kind": "bp-lambda", "schedule": "step"}\`: Ψ and θ change after every step;
  \`stepParameters\` (T−1 entries \`{params, synthesiser}\`) holds those in effect at steps 2..T (here: SGD at the
  rate in the table, from the case's). Every quantity is formed at its step's parameters; \`sgGradientsPerStep\` (T
  entries) is the network gradient of each step. BPTT, G_t, the λ-targets and the forward view are not defined
  for changing parameters and are absent.

## Cases

| file | format | method | loss | c | cell | T | B | γ | λ | steps without target | what it checks |
|---|---|---|---|---|---|---|---|---|---|---|---|
${entries
  .map(({ file, spec }) => `| ${file} | ${isV11(spec) ? '1.1' : '1'} | ${methodText(spec)} | ${lossText(spec)} | ${scaleText(spec)} | ${cellText(spec.cell)} | ${spec.T} | ${spec.batch ?? 1} | ${spec.gamma} | ${spec.lambda} | ${maskText(spec)} | ${spec.description} |`)
  .join('\n')}
`;
