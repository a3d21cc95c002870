/**
 * BP(λ)'s synthesiser modes on the backend: the device counterparts of the core's adapters (src/core/modes.ts),
 * so that each computation of BP(λ) (`traces.ts`, `forwardView.ts`) is written once for both modes.
 *
 * - 'full': p_t = ĝ(s_t) (none at the last step); transition J_t; target (c l_t + γ g) J_t; the network learns
 *   from l_t + (β/c) p_t through the immediate parameter gradient.
 * - 'cell': p_t = ĝ(s_{t-1}); transition C_t (none at t = 1); target c m_{t-1} + γ g C_t, terminal target c m_T;
 *   the network learns one step late through e-prop, from ε_{t-1} + (β/c) p_t D_t (and ε_T at the end).
 */
import type { DeviceArray } from '../../backends/backend.js';
import { targetScaleOf } from '../../core/bplambda.js';
import type { Method } from '../../core/learner.js';
import { cellJacobian, cellModeJacobians, cellModeVjp, cellParamGrad, cellStateVjp, epropAdvance, epropGradient, epropSequence, epropTraceShape } from '../../ops/cells.js';
import { type Reduce, addBatchMean, columns } from '../../ops/context.js';
import { affine, readoutGrad } from '../../ops/readout.js';
import type { MethodContext } from './context.js';

type BpLambda = Extract<Method, { kind: 'bp-lambda' }>;

export interface DeviceMode<A extends DeviceArray> {
  /** Synthesiser outputs R and inputs n (its parameters: W [R, n], b [R]). */
  readonly rows: number;
  readonly cols: number;
  /** Start of a batch (per-sequence carry reset). */
  begin(): void;
  /** The state the synthesiser reads for step k's prediction (0-based), or null: no prediction at step k. */
  synthInput(k: number, final: boolean): A | null;
  /** What step k's target and learning need (the cell mode's C_k and D_k); call it first at every step. */
  prepare(k: number): void;
  /** Whether a transition links step k−1's prediction to step k's (none at the first step of the cell mode). */
  linked(k: number): boolean;
  /** The Jacobian that carries the trace from step k−1 to step k (J_k or C_k), formed after `prepare(k)`. */
  transition(k: number): A;
  /** out ← the target at step k of the prediction of step k−1, given the bootstrap g (after `prepare(k)`). */
  target(k: number, g: A, out: A): void;
  /** At the last step k, the target of step k's own prediction without bootstrap, or null. */
  terminalTarget(k: number): A | null;
  /**
   * Step k's network gradient, given its prediction (after `prepare(k)`), added into the accumulators: as the
   * step's batch mean ('mean', as the core's step function) or per example ('each', summed over the sequence
   * before the batch mean, as the forward view sums per sequence).
   */
  learn(k: number, prediction: A, final: boolean, acc: Record<string, A>, reduce: Reduce): void;
  /**
   * After the last step's `learn` with 'each': what the mode deferred to the end of the sequence (the cell mode's
   * e-prop gradient over the whole sequence, `epropSequence`), added into the accumulators.
   */
  finish(acc: Record<string, A>): void;
}

const fullMode = <A extends DeviceArray>(m: MethodContext<A>, method: BpLambda): DeviceMode<A> => {
  const { buf, seq, spec } = m;
  const be = buf.be;
  const c = targetScaleOf(method);
  const { B, S } = seq;
  const J = buf.tmp('mode.J', [B, S, S]);
  // The step whose J_k is in J (−1: none). The traces need J_k for the transition and, without a fused state VJP,
  // the target forms it too: formed once per step (the composite VJP's own operations, so the same numbers).
  let formed = -1;
  const jacobian = (k: number): A => {
    if (formed !== k) cellJacobian(buf, spec, m.params, seq.st(k), seq.cache(k), J);
    formed = k;
    return J;
  };
  return {
    rows: S,
    cols: S,
    begin: () => {
      formed = -1;
    },
    synthInput: (k, final) => (final ? null : seq.st(k + 1)),
    prepare: () => {},
    linked: () => true,
    transition: jacobian,
    target(k, g, out) {
      // (c l_k + γ g) J_k, as a vector-Jacobian product (no J formed where the backend fuses it).
      const v = buf.tmp('mode.v', [B, S]);
      const w = buf.tmp('mode.w', [B, S]);
      be.binary(v, seq.imm(k), c, 'mul');
      be.binary(w, g, method.gamma, 'mul');
      be.binary(v, v, w, 'add');
      if (be.fused?.cellStateVjp !== undefined) cellStateVjp(buf, spec, m.params, seq.st(k), seq.cache(k), v, out);
      else be.matmul(be.reshape(out, [B, 1, S]), be.reshape(v, [B, 1, S]), jacobian(k));
    },
    terminalTarget: () => null,
    finish: () => {},
    learn(k, p, _final, acc, reduce) {
      const signal = buf.tmp('mode.signal', [B, S]);
      be.binary(signal, p, method.beta / c, 'mul');
      be.binary(signal, seq.imm(k), signal, 'add');
      cellParamGrad(buf, spec, seq.st(k), seq.x(k), seq.cache(k), signal, acc, reduce);
      readoutGrad(buf, seq.dy(k), seq.h(k), acc['W_out']!, acc['b_out']!, reduce);
    },
  };
};

const cellMode = <A extends DeviceArray>(m: MethodContext<A>, method: BpLambda): DeviceMode<A> => {
  const { buf, seq, spec } = m;
  const be = buf.be;
  const c = targetScaleOf(method);
  const { B, H, S } = seq;
  const C = buf.tmp('mode.C', [B, H, H]);
  const D = buf.tmp('mode.D', [B, H, H]);
  const shape = epropTraceShape(spec, B, H, seq.I);
  if (shape === null) throw new RangeError("the cell mode needs a cell with a memory part (the LSTM)");
  const traces = buf.tmp('mode.eprop', shape);
  const eps = (k: number) => columns(buf, `mode.eps${k % 2}`, seq.imm(k), 0, H);
  const psi = (k: number) => seq.cache(k)['psi']!;
  /** c ε_k ⊙ ψ_k into the scratch `key`. */
  const mass = (k: number, key: string): A => {
    const out = buf.tmp(key, [B, H]);
    be.binary(out, eps(k), psi(k), 'mul');
    be.binary(out, out, c, 'mul');
    return out;
  };
  const cellAcc = (acc: Record<string, A>) => Object.fromEntries(m.cellNames.map((n) => [n, acc[n]!]));
  // With a fused cellModeVjp, products with C_k and D_k need no matrices: C_k and D_k are formed only when the
  // traces ask for the transition. Without one, `prepare` forms both and the products multiply them (the core's
  // operations, so the reference backend keeps the core's numbers).
  const fusedVjp = be.fused?.cellModeVjp !== undefined;
  let formed = -1;
  const form = (k: number) => {
    if (formed !== k && k > 0) cellModeJacobians(buf, spec, m.params, seq.st(k), seq.cache(k), psi(k - 1), C, D);
    formed = k;
  };
  /** out = v D_k or v C_k (after `prepare(k)`). */
  const times = (k: number, v: A, which: 'C' | 'D', out: A): void => {
    if (fusedVjp) cellModeVjp(buf, spec, m.params, seq.st(k), seq.cache(k), psi(k - 1), v, which === 'D' ? out : null, which === 'C' ? out : null);
    else be.matmul(be.reshape(out, [B, 1, H]), be.reshape(v, [B, 1, H]), which === 'C' ? C : D);
  };
  /** The learning signal on h_{k−1}, ε_{k−1} + (β/c) p_k D_k (after `prepare(k)`), into out. */
  const signalOf = (k: number, u: A, out: A): A => {
    times(k, u, 'D', out);
    be.binary(out, out, method.beta / c, 'mul');
    be.binary(out, eps(k - 1), out, 'add');
    return out;
  };
  const sigma = (t: number) => buf.tmp(`mode.sigma${t}`, [B, H]);
  return {
    rows: H,
    cols: S,
    begin: () => {
      formed = -1;
      be.fill(traces, 0);
    },
    synthInput: (k) => seq.st(k),
    prepare(k) {
      if (!fusedVjp) form(k);
    },
    linked: (k) => k > 0,
    transition: (k) => {
      form(k);
      return C;
    },
    target(k, g, out) {
      const w = buf.tmp('mode.w', [B, H]);
      times(k, g, 'C', w);
      be.binary(w, w, method.gamma, 'mul');
      be.binary(out, mass(k - 1, 'mode.mass'), w, 'add');
    },
    terminalTarget: (k) => mass(k, 'mode.terminal'),
    finish(acc) {
      // Per example over the sequence: the e-prop gradient of every step with its signal (stashed by `learn`).
      const steps = Array.from({ length: seq.T }, (_, t) => ({ prev: seq.st(t), x: seq.x(t), cache: seq.cache(t) }));
      epropSequence(buf, spec, steps, steps.map((_, t) => sigma(t)), cellAcc(acc));
    },
    learn(k, u, final, acc, reduce) {
      const cells = cellAcc(acc);
      if (reduce === 'each') {
        // Summed over the sequence: the signal of step k−1 (and the last step's own) kept for `finish`.
        if (k >= 1) signalOf(k, u, sigma(k - 1));
        if (final) be.copyBlock(sigma(k), eps(k), { outBegin: [0, 0], xBegin: [0, 0], size: [B, H] });
        readoutGrad(buf, seq.dy(k), seq.h(k), acc['W_out']!, acc['b_out']!, reduce);
        return;
      }
      // With batch means, per-example sums first where the last step adds its own e-prop term (the core's order).
      const each = reduce === 'mean' && final && k >= 1 ? Object.fromEntries(m.cellNames.map((n) => [n, buf.zeroed(`mode.each.${n}`, [B, ...m.shapes[n]!])])) : null;
      const into = each ?? cells;
      const how: Reduce = each === null ? reduce : 'each';
      if (k >= 1) {
        const signal = signalOf(k, u, buf.tmp('mode.signal', [B, H]));
        epropGradient(buf, spec, seq.st(k - 1), seq.x(k - 1), seq.cache(k - 1), traces, signal, into, how);
      }
      epropAdvance(buf, spec, seq.st(k), seq.x(k), seq.cache(k), traces);
      if (final) epropGradient(buf, spec, seq.st(k), seq.x(k), seq.cache(k), traces, eps(k), into, how);
      if (each !== null) for (const n of m.cellNames) addBatchMean(buf, `mode.mean.${n}`, acc[n]!, each[n]!);
      readoutGrad(buf, seq.dy(k), seq.h(k), acc['W_out']!, acc['b_out']!, reduce);
    },
  };
};

/**
 * The start of BP(λ)'s step k, common to its two computations: the forward pass, the mode's quantities of the
 * step, and the prediction p ← ĝ(z_k) (0 where the mode reads no state); returns z_k, or null.
 */
export const forwardAndPredict = <A extends DeviceArray>(m: MethodContext<A>, mode: DeviceMode<A>, k: number, final: boolean, p: A): A | null => {
  m.seq.forward(k, m.params);
  mode.prepare(k);
  const z = mode.synthInput(k, final);
  if (z === null) m.buf.be.fill(p, 0);
  else affine(m.buf, p, z, m.theta!['W']!, m.theta!['b']!);
  return z;
};

export const deviceMode = <A extends DeviceArray>(m: MethodContext<A>, method: BpLambda): DeviceMode<A> => {
  switch (method.mode) {
    case 'full':
      return fullMode(m, method);
    case 'cell':
      return cellMode(m, method);
  }
  throw new RangeError(`unknown BP(λ) mode ${String(method.mode satisfies never)}`);
};
