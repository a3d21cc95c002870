/**
 * The online rule without a synthesiser (the core's `onlineRule`): e-prop with the immediate loss gradient as the
 * learning signal (for the RNN, the immediate gradient itself), accumulated per example over the sequence.
 */
import type { DeviceArray } from '../../backends/backend.js';
import { epropAdvance, epropGradient, epropTraceShape } from '../../ops/cells.js';
import { columns } from '../../ops/context.js';
import { readoutGrad } from '../../ops/readout.js';
import { type LossRule, type MethodContext, gradAccumulators, meanOfEach } from './context.js';

export const epropMethod = <A extends DeviceArray>(m: MethodContext<A>): LossRule => {
  const { buf, seq, spec } = m;
  const each = gradAccumulators(m, 'each');
  const shape = epropTraceShape(spec, seq.B, seq.H, seq.I);
  const traces = shape === null ? null : buf.zeroed('eprop.traces', shape);
  for (let k = 0; k < seq.T; k++) {
    seq.forward(k, m.params);
    epropAdvance(buf, spec, seq.st(k), seq.x(k), seq.cache(k), traces);
    const signal = seq.S === seq.H ? seq.imm(k) : columns(buf, 'eprop.signal', seq.imm(k), 0, seq.H);
    epropGradient(buf, spec, seq.st(k), seq.x(k), seq.cache(k), traces, signal, each, 'each');
    readoutGrad(buf, seq.dy(k), seq.h(k), each['W_out']!, each['b_out']!, 'each');
  }
  m.apply(meanOfEach(m, each), null);
  return 'sequences';
};
