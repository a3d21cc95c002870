/**
 * Hints: recognised patterns of a failed verification mapped to the trace option that explains them. Every real
 * discrepancy seen between an implementation and the reference so far was an exact scalar factor per tensor or
 * per step (a batch mean's 1/B, a bias counted twice, a readout scaled by 1/O, a per-step clip, a gradient that is
 * never accumulated), so the patterns are read off the per-tensor and per-step statistics (fit.ts), and where an
 * option would change the reference, `recheck` (verify.ts: the same comparison under a changed configuration)
 * confirms it before the hint says so.
 */
import { type FitStats, explainedByRatio } from './fit.js';
import type { QuantityReport, TensorReport } from './compare.js';
import type { QuantityName } from './schema.js';
import type { TraceConfig } from './trace.js';

export type HintKind = 'target-scale' | 'bias-gradient' | 'readout-gradient' | 'clip' | 'zeros' | 'ratio' | 'zero-synthesiser';

export interface Hint {
  readonly kind: HintKind;
  /** One sentence for people: the pattern, then what to do. */
  readonly message: string;
  /** The trace field that would explain it and its value (absent for patterns without one). */
  readonly option?: { readonly field: string; readonly value: number };
  /** True when a recheck with that option made the quantities named in the message pass. */
  readonly confirmed?: boolean;
}

/** What the hints read: the quantities' reports, the configuration, the sizes, and a recheck. */
export interface HintInput {
  readonly quantities: readonly QuantityReport[];
  readonly config: TraceConfig;
  readonly B: number;
  readonly O: number;
  /** The quantities that fail when the trace is verified with this change to its configuration. */
  readonly recheck: (change: Partial<TraceConfig>) => readonly QuantityName[];
}

/** The quantities that depend on what the synthesiser is trained to predict (its target scale c). */
export const SYNTHESISER_QUANTITIES: readonly QuantityName[] = ['lambdaTargets', 'tdErrors', 'synthesiserUpdatePerStep', 'synthesiserUpdate', 'forwardViewUpdate', 'sgGradients', 'learningSignals', 'sgGradientsPerStep', 'nStepTargets'];

const fmtNum = (x: number): string => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(6))) : x.toExponential(4));

/** `k` in words, naming it 1/B, B, 1/O, 1/(B·O) or 2 when it is one of them (to 1e-6). */
export const nameFactor = (k: number, B: number, O: number): string => {
  const named: [number, string][] = [
    [1 / B, '1/B'],
    [B, 'B'],
    [1 / O, '1/O'],
    [O, 'O'],
    [1 / (B * O), '1/(B·O)'],
    [B * O, 'B·O'],
    [2, '2'],
    [0.5, '1/2'],
    [-1, '−1 (a sign)'],
  ];
  const hit = named.find(([v, n]) => Math.abs(k - v) <= 1e-6 * Math.abs(v) && !(n.includes('B') && B === 1) && !(n.includes('O') && O === 1));
  return hit === undefined || hit[1] === fmtNum(k) ? fmtNum(k) : `${fmtNum(k)} = ${hit[1]}`;
};

const failingTensors = (qs: readonly QuantityReport[]): TensorReport[] => qs.flatMap((q) => q.tensors.filter((t) => !t.pass));

const sameRatio = (xs: readonly FitStats[]): number | null => {
  if (xs.length === 0 || !xs.every(explainedByRatio)) return null;
  const k = xs[0]!.ratio!;
  return xs.every((x) => Math.abs(x.ratio! - k) <= 1e-6 * Math.abs(k)) ? k : null;
};

const targetScaleHint = (inp: HintInput, failed: readonly QuantityName[]): Hint | null => {
  const synthFailed = failed.filter((q) => SYNTHESISER_QUANTITIES.includes(q));
  if (synthFailed.length === 0) return null;
  const { B, O, config } = inp;
  const c = config.targetScale;
  const factors = [1 / B, B, 1 / (B * O), 1 / O, B * O, O].filter((f, i, all) => f !== 1 && all.indexOf(f) === i);
  for (const f of factors) {
    const value = c * f;
    const still = inp.recheck({ targetScale: value });
    if (synthFailed.every((q) => !still.includes(q))) {
      const ratio = sameRatio(inp.quantities.filter((q) => synthFailed.includes(q.quantity)));
      const pattern = ratio === null ? `${synthFailed.join(', ')} differ` : `ratio ${nameFactor(ratio, B, O)} on every synthesiser quantity (${synthFailed.join(', ')})`;
      return {
        kind: 'target-scale',
        message: `${pattern}; with "targetScale": ${fmtNum(value)} (${c === 1 ? nameFactor(f, B, O) : `${nameFactor(f, B, O)} × the declared ${fmtNum(c)}`}) they pass: the synthesiser predicts the gradient of a ${f < 1 ? 'batch-mean' : 'summed'} loss (spec §8.2); declare "targetScale": ${fmtNum(value)}`,
        option: { field: 'targetScale', value },
        confirmed: true,
      };
    }
  }
  const ratio = sameRatio(inp.quantities.filter((q) => synthFailed.includes(q.quantity)));
  if (ratio === null) return null;
  return {
    kind: 'ratio',
    message: `ratio ${nameFactor(ratio, B, O)} on every synthesiser quantity (${synthFailed.join(', ')}) but no target scale explains it: check that ĝ is computed from the trace's θ at the same scale (targetScale c means ĝ ≈ c × the gradient)`,
  };
};

/** Failing tensors that are exactly the gradient tensors `names` of the network gradients, all with one ratio. */
const gradientOnly = (inp: HintInput, names: readonly string[]): { k: number; tensors: string[] } | null => {
  const bad = failingTensors(inp.quantities);
  if (bad.length === 0) return null;
  const ok = bad.every((t) => /^(bpttGradients|sgGradients|sgGradientsPerStep|tbpttGradients)\./.test(t.tensor) && names.includes(t.tensor.split('.')[1]!));
  const k = ok ? sameRatio(bad) : null;
  return k === null ? null : { k, tensors: bad.map((t) => t.tensor) };
};

const biasHint = (inp: HintInput): Hint | null => {
  const g = gradientOnly(inp, ['b']);
  if (g === null) return null;
  const value = g.k * inp.config.deviations.biasGradScale;
  return {
    kind: 'bias-gradient',
    message: `ratio ${nameFactor(g.k, inp.B, inp.O)} on the bias gradients only (${g.tensors.join(', ')}): declare "deviations": {"biasGradScale": ${fmtNum(value)}} (the authors' LSTM adds every bias contribution twice, as for PyTorch's b_ih + b_hh: spec §8.11 item 2)`,
    option: { field: 'deviations.biasGradScale', value },
  };
};

const readoutHint = (inp: HintInput): Hint | null => {
  const g = gradientOnly(inp, ['W_out', 'b_out']);
  if (g === null) return null;
  const value = g.k * inp.config.deviations.readoutGradScale;
  return {
    kind: 'readout-gradient',
    message: `ratio ${nameFactor(g.k, inp.B, inp.O)} on the readout gradients only (${g.tensors.join(', ')}): declare "deviations": {"readoutGradScale": ${fmtNum(value)}} (the authors scale the readout gradient by 1/target.shape[1], 1/O for predict-last targets: spec §4.2, §8.11 item 12)`,
    option: { field: 'deviations.readoutGradScale', value },
  };
};

const clipHint = (inp: HintInput): Hint | null => {
  const q = inp.quantities.find((x) => x.quantity === 'synthesiserUpdatePerStep' && !x.pass);
  if (q === undefined) return null;
  const bad = q.tensors.flatMap((t) => (t.steps ?? []).filter((s) => !s.pass));
  if (bad.length === 0 || !bad.every((s) => explainedByRatio(s) && s.ratio! < 1 && s.ratio! > 0)) return null;
  const norm = bad[0]!.actualNorm;
  if (!bad.every((s) => Math.abs(s.actualNorm - norm) <= 1e-6 * norm)) return null;
  const still = inp.recheck({ synthClip: norm });
  const confirmed = !still.includes('synthesiserUpdatePerStep');
  return {
    kind: 'clip',
    message: `per-step factors ≤ 1 on synthesiserUpdatePerStep at steps ${[...new Set(bad.map((s) => s.step))].sort((a, b) => a - b).join(', ')}, whose update norms all equal ${fmtNum(norm)}: a per-step clip of each tensor's update at ${fmtNum(norm)} (spec §8.11 item 1)${confirmed ? '; with it the per-step updates pass' : ''}: declare "method": {"synthClip": ${fmtNum(norm)}}`,
    option: { field: 'method.synthClip', value: norm },
    confirmed,
  };
};

const zerosHints = (inp: HintInput): Hint[] =>
  failingTensors(inp.quantities)
    .filter((t) => t.zerosWhereReferenceNot > 0 && t.zerosWhereReferenceNot >= t.mismatches / 2)
    .map((t) => ({
      kind: 'zeros' as const,
      message: `zeros where the reference is not: ${t.tensor} is 0 at ${t.zerosWhereReferenceNot} of ${t.compared} elements${t.actualNorm === 0 ? ' (all of it)' : ''}: a term that is never accumulated (e.g. the authors' RNN BPTT path leaves W_in, W_rec and b at 0, spec §8.11 item 3) or a value never written`,
    }));

const uniformRatioHint = (inp: HintInput, taken: readonly Hint[]): Hint | null => {
  if (taken.some((h) => h.option !== undefined || h.kind === 'ratio')) return null;
  const bad = failingTensors(inp.quantities);
  const k = sameRatio(bad);
  if (k === null || bad.length === 0) return null;
  return { kind: 'ratio', message: `every failing tensor (${bad.map((t) => t.tensor).join(', ')}) is ${nameFactor(k, inp.B, inp.O)} × its reference: a constant factor (a mean against a sum, a scale of the loss, a sign)` };
};

/** The hints for a report (none when everything passes, except the note on a zero synthesiser). */
export const hintsFor = (inp: HintInput): Hint[] => {
  const out: Hint[] = [];
  const sg = inp.quantities.find((q) => q.quantity === 'syntheticGradients');
  if (sg !== undefined && sg.tensors.every((t) => t.referenceNorm === 0))
    out.push({
      kind: 'zero-synthesiser',
      message: 'the synthesiser is zero (ĝ ≡ 0): every check of ĝ, and of what it feeds into, is vacuous here; verify with a non-zero θ (e.g. after a few updates, or random) as well',
    });
  const failed = inp.quantities.filter((q) => !q.pass).map((q) => q.quantity);
  if (failed.length === 0) return out;
  for (const h of [targetScaleHint(inp, failed), biasHint(inp), readoutHint(inp), clipHint(inp)]) if (h !== null) out.push(h);
  out.push(...zerosHints(inp));
  const u = uniformRatioHint(inp, out);
  if (u !== null) out.push(u);
  return out;
};
