/** A readable summary of an oracle result: what a person wants to see first. */
import type { OracleResult } from '../core/oracle.js';

const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const cos = (a: readonly number[], b: readonly number[]): number => {
  const na = norm(a);
  const nb = norm(b);
  return na === 0 || nb === 0 ? 0 : a.reduce((s, x, i) => s + x * b[i]!, 0) / (na * nb);
};
const flat = (x: number[][] | number[]): number[] => (Array.isArray(x[0]) ? (x as number[][]).flat() : (x as number[]));
const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(6) : x.toExponential(3));

export const oracleSummary = (name: string, c: { gamma: number; lambda: number; cell: string }, r: OracleResult): string => {
  const T = r.states.length;
  const S = r.states[0]?.length ?? 0;
  const lines: string[] = [];
  lines.push(`bplambda oracle: ${name}`);
  lines.push(`  cell ${c.cell}, T = ${T}, state size S = ${S}, γ = ${c.gamma}, λ = ${c.lambda}`);
  lines.push(`  loss L = Σ_t ½‖ŷ_t − y_t‖² = ${fmt(r.loss)}`);
  lines.push('');
  lines.push('   t   ‖G_t‖ (future)   ‖ĝ_t‖ (synthetic)   ‖G^λ_t‖ (λ-target)   ‖δ_t‖ (TD error)   cos(ĝ_t, G_t)');
  for (let t = 0; t < T - 1; t++) {
    lines.push(
      `  ${String(t + 1).padStart(2)}   ${fmt(norm(r.futureGradients[t]!)).padStart(14)}   ${fmt(norm(r.syntheticGradients[t]!)).padStart(17)}   ${fmt(
        norm(r.lambdaTargets[t]!),
      ).padStart(18)}   ${fmt(norm(r.tdErrors[t]!)).padStart(16)}   ${fmt(cos(r.syntheticGradients[t]!, r.futureGradients[t]!)).padStart(13)}`,
    );
  }
  const bw = [...flat(r.synthesiserUpdate.W), ...r.synthesiserUpdate.b];
  const fw = [...flat(r.forwardViewUpdate.W), ...r.forwardViewUpdate.b];
  lines.push('');
  lines.push(`  synthesiser update (backward view Σ δ_t E_t): norm ${fmt(norm(bw))}`);
  lines.push(`  forward view Σ (G^λ_t − ĝ_t) ∇θĝ_t:            norm ${fmt(norm(fw))}, max |difference| ${fmt(maxAbsDiff(bw, fw))}`);
  lines.push('');
  lines.push('  parameter   ‖BPTT gradient‖   ‖SG gradient‖   cos(SG, BPTT)');
  for (const k of Object.keys(r.bpttGradients)) {
    const a = flat(r.bpttGradients[k]!);
    const b = flat(r.sgGradients[k]!);
    lines.push(`  ${k.padEnd(9)}   ${fmt(norm(a)).padStart(15)}   ${fmt(norm(b)).padStart(13)}   ${fmt(cos(b, a)).padStart(13)}`);
  }
  return lines.join('\n');
};
