/**
 * `verify`: recompute every quantity a trace provides with the float64 reference and compare, element by element.
 * Pure: a trace value (or its JSON text) and options in, a report out; invalid input throws InvalidInputError
 * naming the field.
 */
import { InvalidInputError } from '../core/errors.js';
import { type QuantityReport, type TensorReport, type Tolerance, compareQuantity } from './compare.js';
import { explainedByRatio } from './fit.js';
import { type Hint, hintsFor, nameFactor } from './hints.js';
import { referenceQuantities } from './reference.js';
import { type TracePrecision, type QuantityName, QUANTITIES } from './schema.js';
import { type Numeric, type ParsedTrace, type TraceConfig, parseTrace, parseTraceJson } from './trace.js';
import { defaultTolerance } from './tolerance.js';

export const VERIFY_REPORT_FORMAT = 'bplambda-verify/1';

export interface VerifyOptions {
  /** Relative tolerance; default from the declared precision (tolerance.ts). */
  readonly rtol?: number | undefined;
  /** Absolute tolerance; default from the declared precision. */
  readonly atol?: number | undefined;
}

export interface VerifyReport {
  readonly format: typeof VERIFY_REPORT_FORMAT;
  /** True when every provided quantity is within tolerance. */
  readonly pass: boolean;
  readonly mode: 'case' | 'batch';
  readonly cell: string;
  readonly precision: TracePrecision;
  readonly producer: string | null;
  readonly T: number;
  readonly S: number;
  /** Examples in the batch (1 for a single case). */
  readonly B: number;
  /** Outputs O of the readout. */
  readonly O: number;
  readonly gamma: number;
  readonly lambda: number;
  /** The synthesiser's target scale c the trace declared (1 by default). */
  readonly targetScale: number;
  /** The configuration the trace states (format 1.1; the defaults for a /1 trace), Infinity written as null in JSON. */
  readonly config: TraceConfig;
  readonly tolerance: Tolerance & { readonly source: { readonly rtol: 'default' | 'option'; readonly atol: 'default' | 'option' } };
  /** One entry per provided quantity, in the order of QUANTITIES. */
  readonly quantities: readonly QuantityReport[];
  /** Names of the quantities that failed. */
  readonly failed: readonly QuantityName[];
  /** Every failing tensor (`bpttGradients.b`, `tdErrors`, …), in the order of the quantities. */
  readonly failedTensors: readonly string[];
  /** Recognised patterns and the options that explain them (hints.ts). */
  readonly hints: readonly Hint[];
}

const checkTolerance = (name: string, v: number | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v < 0) throw new InvalidInputError(name, 'a finite number ≥ 0', `is ${v}`);
  return v;
};

/** The first non-finite element of a reference quantity (a case that overflows float64), as a path. */
const firstNonFinite = (v: Numeric, path: string): string | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} = ${v}`;
  const entries: [string, Numeric][] = Array.isArray(v)
    ? (v as Numeric[]).map((x, i) => [`${path}[${i}]`, x])
    : Object.entries(v as Record<string, Numeric>).map(([k, x]) => [`${path}.${k}`, x]);
  for (const [p, x] of entries) {
    const r = firstNonFinite(x, p);
    if (r !== null) return r;
  }
  return null;
};

/** Verify an already parsed trace. */
export const verifyParsed = (trace: ParsedTrace, options: VerifyOptions = {}): VerifyReport => {
  const rtol = checkTolerance('--rtol', options.rtol);
  const atol = checkTolerance('--atol', options.atol);
  const def = defaultTolerance(trace.precision, trace.T);
  const tol = { rtol: rtol ?? def.rtol, atol: atol ?? def.atol };
  const compareAll = (config: TraceConfig): QuantityReport[] => {
    const reference = referenceQuantities(trace.examples, trace.mode, config, trace.stepParameters);
    const quantities: QuantityReport[] = [];
    for (const q of QUANTITIES) {
      const actual = trace.computed[q];
      if (actual === undefined) continue;
      const bad = firstNonFinite(reference[q]!, q);
      if (bad !== null)
        throw new InvalidInputError(trace.mode, 'a case whose float64 reference quantities are finite', `overflows float64 (reference ${bad})`);
      quantities.push(compareQuantity(q, actual, reference[q]!, tol, trace.mode === 'batch'));
    }
    return quantities;
  };
  const quantities = compareAll(trace.config);
  const first = trace.examples[0]!;
  const recheck = (change: Partial<TraceConfig>): QuantityName[] => {
    try {
      return compareAll({ ...trace.config, ...change })
        .filter((r) => !r.pass)
        .map((r) => r.quantity);
    } catch {
      return [...QUANTITIES];
    }
  };
  const hints = hintsFor({ quantities, config: trace.config, B: trace.B, O: first.model.outputSize, recheck });
  return {
    format: VERIFY_REPORT_FORMAT,
    pass: quantities.every((r) => r.pass),
    mode: trace.mode,
    cell: trace.cell,
    precision: trace.precision,
    producer: trace.producer ?? null,
    T: trace.T,
    S: trace.S,
    B: trace.B,
    O: first.model.outputSize,
    gamma: first.gamma,
    lambda: first.lambda,
    targetScale: trace.targetScale,
    config: trace.config,
    tolerance: { ...tol, source: { rtol: rtol === undefined ? 'default' : 'option', atol: atol === undefined ? 'default' : 'option' } },
    quantities,
    failed: quantities.filter((r) => !r.pass).map((r) => r.quantity),
    failedTensors: quantities.flatMap((r) => r.tensors.filter((t) => !t.pass).map((t) => t.tensor)),
    hints,
  };
};

/** `verify(trace) → report`: validate a trace object and compare it with the reference. */
export const verifyTrace = (input: unknown, options: VerifyOptions = {}): VerifyReport => verifyParsed(parseTrace(input), options);

/** The same from JSON text. */
export const verifyTraceJson = (text: string, options: VerifyOptions = {}): VerifyReport => verifyParsed(parseTraceJson(text), options);

// ---------------------------------------------------------------------------------------------------------
// Output

const fmt = (x: number): string => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(2) : String(x));
const fmtScale = (x: number): string => (x < 1e4 ? x.toPrecision(3) : x.toExponential(2));

const fmtRatio = (t: { ratio: number | null; ratioResidual: number | null; normRelError: number }, B: number, O: number): string => {
  if (t.ratio === null) return '—';
  const k = explainedByRatio(t as never) ? nameFactor(t.ratio, B, O) : t.ratio.toPrecision(4);
  return t.normRelError === 0 ? '1' : k;
};

const whereText = (d: NonNullable<QuantityReport['firstDivergence']>): string => {
  const where = [d.step === null ? null : `step t = ${d.step}`, d.example === null ? null : `example ${d.example}`, d.element === '' ? null : `element ${d.element}`]
    .filter((x) => x !== null)
    .join(', ');
  return `${d.path}${where === '' ? '' : ` (${where})`}: ${d.actual}, reference ${d.expected}`;
};

/** The lines of one failing tensor: its statistics, its first divergence, its failing steps. */
const tensorLines = (t: TensorReport, B: number, O: number): string[] => {
  const fit =
    t.ratio === null
      ? 'no ratio (reference 0 or a non-finite value)'
      : explainedByRatio(t)
        ? `= ${nameFactor(t.ratio, B, O)} × reference (one scalar explains it: residual ${fmt(t.ratioResidual)})`
        : `best-fit ratio ${t.ratio.toPrecision(6)} explains little (residual ${fmt(t.ratioResidual!)} of ‖r‖)`;
  const lines = [`    ${t.tensor}: ${t.mismatches} of ${t.compared} elements differ; max abs err ${fmt(t.maxAbsError)}; ‖a − r‖/‖r‖ = ${fmt(t.normRelError)}; ${fit}${t.zerosWhereReferenceNot > 0 ? `; ${t.zerosWhereReferenceNot} zeros where the reference is not` : ''}`];
  if (t.firstDivergence !== null) lines.push(`      first at ${whereText(t.firstDivergence)}`);
  const bad = (t.steps ?? []).filter((s) => !s.pass);
  if (bad.length > 0)
    lines.push(
      `      failing steps: ${bad
        .slice(0, 12)
        .map((s) => `t = ${s.step} (ratio ${fmtRatio(s, B, O)}, ‖a − r‖/‖r‖ ${fmt(s.normRelError)}, ‖a‖ ${fmt(s.actualNorm)})`)
        .join('; ')}${bad.length > 12 ? `; … ${bad.length - 12} more` : ''}`,
    );
  return lines;
};

const configText = (c: TraceConfig): string => {
  if (c.version === '1') return '';
  const dev = Object.entries(c.deviations).filter(([, v]) => v !== 1);
  const method =
    c.kind === 'bp-lambda'
      ? `bp-lambda, mode ${c.mode}, β = ${c.beta}, synthesiser clip ${c.synthClip === Infinity ? 'none' : c.synthClip}${c.schedule === 'step' ? ', schedule step (parameters of every step from stepParameters)' : ''}`
      : c.kind === 'sg'
        ? `sg, n = ${c.n}, chunks aligned to the ${c.align}, target ${c.sgTarget}, β = ${c.beta}`
        : `tbptt, n = ${c.n}, chunks aligned to the ${c.align}`;
  return `  method: ${method}; loss ${c.loss} (sum)${dev.length === 0 ? '' : `; declared deviations: ${dev.map(([k, v]) => `${k} ${v}`).join(', ')}`}`;
};

/**
 * A readable report: one line per quantity (elements, scale, max abs error, max element-wise relative error, the
 * error relative to the quantity's norm, the best-fit ratio), then every failing tensor with its statistics, first
 * divergence and failing steps, then the hints, then the verdict. `--json` has the same content.
 */
export const formatVerifyReport = (name: string, r: VerifyReport): string => {
  const lines: string[] = [];
  lines.push(`bplambda verify: ${name}`);
  const what = r.mode === 'batch' ? `batch of B = ${r.B}` : 'case';
  lines.push(`  ${what}: ${r.cell}, T = ${r.T}, S = ${r.S}, γ = ${r.gamma}, λ = ${r.lambda}${r.targetScale === 1 ? '' : `, target scale c = ${r.targetScale}`}; precision ${r.precision}${r.producer === null ? '' : `; producer: ${r.producer}`}`);
  const cfg = configText(r.config);
  if (cfg !== '') lines.push(cfg);
  const src = r.tolerance.source.rtol === 'default' && r.tolerance.source.atol === 'default' ? `defaults for ${r.precision}, T = ${r.T}` : 'from options';
  lines.push(`  pass when |actual − reference| ≤ atol·scale + rtol·|reference|, scale = max(1, largest |reference| of the quantity)`);
  lines.push(`  rtol = ${fmt(r.tolerance.rtol)}, atol = ${fmt(r.tolerance.atol)} (${src})`);
  lines.push('');
  lines.push(`  ${'quantity'.padEnd(26)}${'elements'.padStart(9)}${'scale'.padStart(10)}${'max abs err'.padStart(14)}${'max rel err'.padStart(14)}${'‖a−r‖/‖r‖'.padStart(12)}${'ratio a/r'.padStart(16)}   result`);
  const outputs = r.O;
  for (const q of r.quantities) {
    let line = `  ${q.quantity.padEnd(26)}${String(q.compared).padStart(9)}${fmtScale(q.scale).padStart(10)}${fmt(q.maxAbsError).padStart(14)}${fmt(q.maxRelError).padStart(14)}${fmt(q.normRelError).padStart(12)}${fmtRatio(q, r.B, outputs).padStart(16)}   ${q.pass ? 'pass' : 'FAIL'}`;
    const d = q.firstDivergence;
    if (d !== null) line += `  first at ${whereText(d)}; ${q.mismatches} of ${q.compared} elements differ`;
    lines.push(line);
  }
  const failing = r.quantities.filter((q) => !q.pass);
  if (failing.length > 0) {
    lines.push('');
    lines.push(`  failing tensors (${r.failedTensors.length}):`);
    for (const q of failing) for (const t of q.tensors.filter((x) => !x.pass)) lines.push(...tensorLines(t, r.B, outputs));
  }
  if (r.hints.length > 0) {
    lines.push('');
    lines.push('  hints:');
    for (const h of r.hints) lines.push(`    - ${h.message}`);
  }
  lines.push('');
  lines.push(
    r.pass
      ? `PASS: all ${r.quantities.length} quantities within tolerance`
      : `FAIL: ${r.failed.length} of ${r.quantities.length} quantities differ (${r.failed.join(', ')})`,
  );
  return lines.join('\n');
};

/** JSON-safe report: non-finite numbers (infinite relative errors, NaN values) become the strings "Infinity", "NaN". */
export const verifyReportJson = (r: VerifyReport): string =>
  JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
