/**
 * Accumulate BP(λ) with eligibility traces, one step at a time (the core's `bpLambdaStep`, written once for both
 * synthesiser modes through `DeviceMode`): works with both schedules and with the per-step clip.
 *
 * Per step k: p_k = ĝ(z_k) (or 0); δ = target_k(p_k) − p_{k−1} for the pending prediction, contracted with its
 * trace (fused into the trace update E ← ∇θĝ(z_k) + γλ A_k E); at the last step the terminal TD error of p_k, if
 * the mode has one; each contribution clipped per tensor, then added; the network gradient of the step.
 */
import type { DeviceArray } from '../../backends/backend.js';
import type { Method } from '../../core/learner.js';
import { type LossRule, type MethodContext, gradAccumulators } from './context.js';
import { deviceMode, forwardAndPredict } from './modes.js';

export const bpLambdaTraces = <A extends DeviceArray>(m: MethodContext<A>, method: Extract<Method, { kind: 'bp-lambda' }>): LossRule => {
  const { buf, seq } = m;
  const be = buf.be;
  const { B, T } = seq;
  const mode = deviceMode(m, method);
  const R = mode.rows;
  const P = R * mode.cols + R;
  const segments = [R * mode.cols, R];
  const decay = method.gamma * method.lambda;
  const acc = gradAccumulators(m, 'mean');
  const synthAcc = buf.zeroed('bpl.synthAcc', [P]);
  const E = buf.trace('bpl.E', B, R, P);
  const pred = (k: number) => buf.tmp(`bpl.p${k % 2}`, [B, R]);
  const v = buf.tmp('bpl.v', [B, R]);
  const td = buf.tmp('bpl.td', [B, R]);
  const c1 = buf.tmp('bpl.c1', [P]);
  const c2 = buf.tmp('bpl.c2', [P]);
  let pending = false;
  mode.begin();
  for (let k = 0; k < T; k++) {
    const final = k === T - 1;
    const p = pred(k);
    const z = forwardAndPredict(m, mode, k, final, p);
    const hasPending = pending && mode.linked(k);
    if (hasPending) {
      mode.target(k, p, v);
      be.binary(td, v, pred(k - 1), 'sub');
    }
    if (z !== null) {
      const input = { kind: 'linear' as const, input: z };
      if (hasPending && decay !== 0) be.traceUpdate(E, mode.transition(k), decay, input, { delta: td, out: c1 });
      else {
        if (hasPending) be.traceContract(c1, td, E);
        be.traceUpdate(E, null, 0, input);
      }
    } else if (hasPending) be.traceContract(c1, td, E);
    const terminal = final && z !== null ? mode.terminalTarget(k) : null;
    if (terminal !== null) {
      be.binary(td, terminal, p, 'sub');
      be.traceContract(c2, td, E);
    }
    if (hasPending) be.clipSegments(c1, segments, method.synthClip);
    if (terminal !== null) be.clipSegments(c2, segments, method.synthClip);
    if (hasPending && terminal !== null) be.binary(c1, c1, c2, 'add');
    if (hasPending) be.binary(synthAcc, synthAcc, c1, 'add');
    else if (terminal !== null) be.binary(synthAcc, synthAcc, c2, 'add');
    mode.learn(k, p, final, acc, 'mean');
    pending = z !== null;
    if (method.schedule === 'step' || final) {
      m.apply(acc, synthAcc);
      for (const a of Object.values(acc)) be.fill(a, 0);
      be.fill(synthAcc, 0);
    }
  }
  return 'steps';
};
