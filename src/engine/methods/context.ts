/**
 * What a training method works with on the backend: the batch and its forward pass, scratch buffers, the
 * device parameters, and `apply`, called at every point where the core's learner applies its optimisers.
 */
import type { CellParams, CellSpec, DeviceArray } from '../../backends/backend.js';
import type { ParamShapes } from '../../core/tensor.js';
import type { Buffers } from '../buffers.js';
import type { SequenceData } from '../sequence.js';

export interface MethodContext<A extends DeviceArray> {
  readonly buf: Buffers<A>;
  readonly seq: SequenceData<A>;
  readonly spec: CellSpec;
  /** The model's parameter shapes (cell, then readout) and the cell's own names. */
  readonly shapes: ParamShapes;
  readonly cellNames: readonly string[];
  /** The current network and synthesiser parameters (they change after `apply`). */
  readonly params: CellParams<A>;
  readonly theta: CellParams<A> | null;
  /**
   * The optimiser point: the network gradient (the batch-mean accumulators of every parameter) and the
   * synthesiser update (flat [W | b], a direction to add; null for methods without one). The accumulators
   * belong to the method, which zeroes them afterwards if it goes on.
   */
  apply(netGrad: CellParams<A>, synthAdd: A | null): void;
}

/** How the batch loss is formed from the per-step, per-example losses (the core's two conventions). */
export type LossRule =
  /** Σ_t (Σ_b L_tb) / B, in step order (BP(λ): a sum of batch-mean step losses). */
  | 'steps'
  /** (Σ_b Σ_t L_tb) / B (the per-sequence methods: the batch mean of sequence losses). */
  | 'sequences';

/** Zeroed gradient accumulators of every model parameter: [shape] ('mean') or [B, shape] ('each'). */
export const gradAccumulators = <A extends DeviceArray>(m: MethodContext<A>, kind: 'mean' | 'each', key = 'grad'): Record<string, A> =>
  Object.fromEntries(Object.entries(m.shapes).map(([k, s]) => [k, m.buf.zeroed(`${key}.${kind}.${k}`, kind === 'each' ? [m.seq.B, ...s] : s)]));

/** Batch means of per-example accumulators (Σ_b from +0, then × 1/B) into fresh 'mean' accumulators. */
export const meanOfEach = <A extends DeviceArray>(m: MethodContext<A>, each: Record<string, A>): Record<string, A> => {
  const mean = gradAccumulators(m, 'mean');
  const be = m.buf.be;
  for (const k of Object.keys(m.shapes)) {
    be.reduce(mean[k]!, each[k]!, 'sum', 0);
    be.binary(mean[k]!, mean[k]!, 1 / Math.max(1, m.seq.B), 'mul');
  }
  return mean;
};

/**
 * The synthesiser update (flat [W | b], into the scratch `key`) as the batch mean of per-example sums uW [B, R, n]
 * and ub [B, R] (Σ_b from +0, then × 1/B).
 */
export const meanSynthUpdate = <A extends DeviceArray>(m: MethodContext<A>, key: string, uW: A, ub: A): A => {
  const be = m.buf.be;
  const B = m.seq.B;
  const [R, n] = uW.shape.slice(1) as [number, number];
  const flat = m.buf.tmp(key, [R * n + R]);
  const part = (x: A, size: number, off: number) => {
    const s = m.buf.tmp(`${key}.mean${size}`, [size]);
    be.reduce(s, be.reshape(x, [B, size]), 'sum', 0);
    be.binary(s, s, 1 / Math.max(1, B), 'mul');
    be.copyBlock(flat, s, { outBegin: [off], xBegin: [0], size: [size] });
  };
  part(uW, R * n, 0);
  part(ub, R, R * n);
  return flat;
};
