/**
 * Methods that backpropagate through the stored batch (the core's `backprop`, `bptt`, `truncatedBptt` and
 * `nStepSg`): full BPTT, truncated BPTT, and Jaderberg-style n-step synthetic gradients.
 */
import type { DeviceArray } from '../../backends/backend.js';
import { targetScaleOf } from '../../core/bplambda.js';
import { chunking } from '../../core/bptt.js';
import type { Method } from '../../core/learner.js';
import { cellParamGrad, cellStateVjp } from '../../ops/cells.js';
import { addOuter, addRows } from '../../ops/context.js';
import { affine, readoutGrad } from '../../ops/readout.js';
import { type LossRule, type MethodContext, gradAccumulators, meanOfEach, meanSynthUpdate } from './context.js';

/**
 * Reverse mode from the last step back: d_k = l_k + carry (+ an injected gradient), per-example gradients
 * accumulated, carry = d_k J_k unless a truncation boundary lies before step k.
 */
const backward = <A extends DeviceArray>(m: MethodContext<A>, cut: readonly boolean[] | null, injections: ReadonlyMap<number, A> | null): Record<string, A> => {
  const { buf, seq, spec, params } = m;
  const be = buf.be;
  const each = gradAccumulators(m, 'each');
  const carry = buf.zeroed('bp.carry', [seq.B, seq.S]);
  const d = buf.tmp('bp.d', [seq.B, seq.S]);
  // The weights' per-example outer products, stacked over the steps and summed as one product each.
  buf.sumOuterProducts(seq.T, () => {
    for (let k = seq.T - 1; k >= 0; k--) {
      be.binary(d, seq.imm(k), carry, 'add');
      const inj = injections?.get(k);
      if (inj !== undefined) be.binary(d, d, inj, 'add');
      cellParamGrad(buf, spec, seq.st(k), seq.x(k), seq.cache(k), d, each, 'each');
      readoutGrad(buf, seq.dy(k), seq.h(k), each['W_out']!, each['b_out']!, 'each');
      if (k === 0) break;
      if (cut?.[k - 1]) be.fill(carry, 0);
      else cellStateVjp(buf, spec, params, seq.st(k), seq.cache(k), d, carry);
    }
  });
  return each;
};

/** Full BPTT (cut null) or truncated BPTT. */
export const backpropMethod = <A extends DeviceArray>(m: MethodContext<A>, method: Extract<Method, { kind: 'bptt' | 'tbptt' }>): LossRule => {
  const { seq } = m;
  for (let k = 0; k < seq.T; k++) seq.forward(k, m.params);
  const cut = method.kind === 'tbptt' ? chunking(seq.T, method.n, method.align).cut : null;
  m.apply(meanOfEach(m, backward(m, cut, null)), null);
  return 'sequences';
};

/**
 * n-step synthetic gradients: BPTT inside chunks, (β/c) ĝ(s_e) injected at every chunk end but the last, and the
 * synthesiser regressed at each boundary on c × the window's gradient (bootstrapped with ĝ/c, discounted by γ,
 * or, for the authors' target, the injected (β/c) ĝ without γ).
 */
export const syntheticGradientMethod = <A extends DeviceArray>(m: MethodContext<A>, method: Extract<Method, { kind: 'sg' }>): LossRule => {
  const { buf, seq, spec, params } = m;
  const be = buf.be;
  const { B, T, S } = seq;
  const c = targetScaleOf(method);
  const theta = m.theta!;
  for (let k = 0; k < T; k++) seq.forward(k, params);
  const { cut, ends } = chunking(T, method.n, method.align);
  const boundaries = ends.slice(0, -1);
  const preds = new Map<number, A>();
  const injections = new Map<number, A>();
  for (const e of boundaries) {
    const g = buf.tmp(`sg.pred${e}`, [B, S]);
    affine(buf, g, seq.st(e + 1), theta['W']!, theta['b']!);
    preds.set(e, g);
    const inj = buf.tmp(`sg.inj${e}`, [B, S]);
    be.binary(inj, g, method.beta / c, 'mul');
    injections.set(e, inj);
  }
  const each = backward(m, cut, injections);
  const authors = method.target === 'authors';
  const uW = buf.zeroed('sg.uW', [B, S, S]);
  const ub = buf.zeroed('sg.ub', [B, S]);
  const a = buf.tmp('sg.a', [B, S]);
  const v = buf.tmp('sg.v', [B, S]);
  const gamma = authors ? 1 : method.gamma;
  boundaries.forEach((bnd, i) => {
    const end = ends[i + 1]!;
    const g = preds.get(end);
    // The window's gradient in the example's own units (bootstrap ĝ/c, or the injected (β/c) ĝ), then × c.
    if (g === undefined) be.fill(a, 0);
    else be.binary(a, g, authors ? method.beta / c : 1 / c, 'mul');
    for (let j = end; j >= bnd + 1; j--) {
      be.binary(v, a, gamma, 'mul');
      be.binary(v, seq.imm(j), v, 'add');
      cellStateVjp(buf, spec, params, seq.st(j), seq.cache(j), v, a);
    }
    be.binary(a, a, c, 'mul');
    be.binary(a, a, preds.get(bnd)!, 'sub'); // target − ĝ
    addOuter(buf, 'sg.gW', uW, a, seq.st(bnd + 1), 'each');
    addRows(buf, 'sg.gb', ub, a, 'each');
  });
  m.apply(meanOfEach(m, each), meanSynthUpdate(m, 'sg.synth', uW, ub));
  return 'sequences';
};
