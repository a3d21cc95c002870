/**
 * BP(λ) through its forward view: with θ and the network fixed over the sequence and no per-step clip, the summed
 * synthesiser update of the traces equals Σ_t mean_b (G^λ_t − p_t) ∇θ p_t (spec §5, T1), computed by one backward
 * recursion of the λ-targets, G^λ_t = target_{t+1}((1−λ) p_{t+1} + λ G^λ_{t+1}) (the mode's TD target with the
 * λ-mixture as its bootstrap; the terminal target, or 0, at the end). No eligibility trace: O(S²) per step for
 * the linear synthesiser instead of the trace's O(S²·P). Written once for both modes through `DeviceMode`.
 *
 * Sums run per sequence, then over the batch (the network gradient and Σ_t err_t ⊗ [z_t; 1] of each example in
 * step order, then their batch mean), the order of the core's per-sequence functions.
 */
import type { DeviceArray } from '../../backends/backend.js';
import type { Method } from '../../core/learner.js';
import { addOuter, addRows } from '../../ops/context.js';
import { type LossRule, type MethodContext, gradAccumulators, meanOfEach, meanSynthUpdate } from './context.js';
import { deviceMode, forwardAndPredict } from './modes.js';

export const bpLambdaForwardView = <A extends DeviceArray>(m: MethodContext<A>, method: Extract<Method, { kind: 'bp-lambda' }>): LossRule => {
  const { buf, seq } = m;
  const be = buf.be;
  const { B, T } = seq;
  const mode = deviceMode(m, method);
  const R = mode.rows;
  const n = mode.cols;
  const each = gradAccumulators(m, 'each');
  const inputs: (A | null)[] = [];
  const pred = (k: number) => buf.tmp(`fv.p${k}`, [B, R]);
  mode.begin();
  buf.sumOuterProducts(T, () => {
    for (let k = 0; k < T; k++) {
      const final = k === T - 1;
      inputs.push(forwardAndPredict(m, mode, k, final, pred(k)));
      mode.learn(k, pred(k), final, each, 'each');
    }
  });
  mode.finish(each);
  // The λ-targets, from the last step back; the errors G^λ_t − p_t kept per step.
  const err = (k: number) => buf.tmp(`fv.err${k}`, [B, R]);
  const target = buf.tmp('fv.target', [B, R]);
  const mix = buf.tmp('fv.mix', [B, R]);
  const t = buf.tmp('fv.t', [B, R]);
  const errors: boolean[] = new Array<boolean>(T).fill(false);
  for (let k = T - 1; k >= 0; k--) {
    if (inputs[k] === null) continue;
    if (k === T - 1) {
      const terminal = mode.terminalTarget(k);
      if (terminal === null) continue;
      be.copyBlock(target, terminal, { outBegin: [0, 0], xBegin: [0, 0], size: [B, R] });
    } else {
      // The bootstrap of step k+1: (1−λ) p_{k+1} + λ G^λ_{k+1}, or 0 where step k+1 predicts nothing.
      if (inputs[k + 1] === null) be.fill(mix, 0);
      else {
        be.binary(mix, pred(k + 1), 1 - method.lambda, 'mul');
        be.binary(t, target, method.lambda, 'mul');
        be.binary(mix, mix, t, 'add');
      }
      mode.prepare(k + 1);
      mode.target(k + 1, mix, target);
    }
    be.binary(err(k), target, pred(k), 'sub');
    errors[k] = true;
  }
  // Σ_t err_t ⊗ [z_t; 1] per example, in step order, then the batch mean.
  const uW = buf.zeroed('fv.uW', [B, R, n]);
  const ub = buf.zeroed('fv.ub', [B, R]);
  buf.sumOuterProducts(T, () => {
    for (let k = 0; k < T; k++) {
      if (!errors[k]) continue;
      addOuter(buf, 'fv.gW', uW, err(k), inputs[k]!, 'each');
      addRows(buf, 'fv.gb', ub, err(k), 'each');
    }
  });
  m.apply(meanOfEach(m, each), meanSynthUpdate(m, 'fv.synth', uW, ub));
  return 'sequences';
};
