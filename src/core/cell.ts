/**
 * The cell interface. Every algorithm (BPTT, truncated BPTT, accumulate BP(λ), n-step synthetic gradients,
 * the online rule) is written once against it; the vanilla RNN and the LSTM implement it.
 *
 * A cell maps the previous state s_{t-1} (size S) and the input x_t (size I) to the state s_t. The readout
 * reads the first H entries of the state (`h`); for the RNN S = H, for the LSTM s = [h; c] and S = 2H.
 */
import type { Activation } from './rnn.js';
import type { Mat, ParamShapes, Params } from './tensor.js';

/** One forward step, with whatever the cell needs to differentiate it later. */
export interface CellStep {
  readonly prev: Float64Array; // s_{t-1}
  readonly input: Float64Array; // x_t
  readonly state: Float64Array; // s_t
  readonly cache: Readonly<Record<string, Float64Array>>;
}

/**
 * Eligibility ("e-prop") traces for the cell's own parameters: ∂s_t/∂Ψ following only the cell's internal
 * self-recurrence with h_{t-1} held fixed (Bellec et al. 2020). For the vanilla RNN (no leak) they are the
 * immediate derivatives; for the LSTM they follow c_t = f⊙c_{t-1} + i⊙g.
 */
export interface Eprop {
  init(): Params;
  /** Advance the traces to step t (using the step's cache). */
  advance(params: Params, traces: Params, step: CellStep): Params;
  /** Gradient contribution Σ_j L[j] ∂h_t[j]/∂Ψ (e-prop factorisation) for a learning signal L on h_t (size H). */
  gradient(params: Params, traces: Params, step: CellStep, signal: Float64Array): Params;
}

/**
 * A memory part of the state (the LSTM's c_t, s = [h; c]): the paper's LSTM mode of BP(λ) predicts the future
 * gradient on it (spec §6.3). Cells without one (the vanilla RNN) leave `memory` undefined.
 */
export interface CellMemory {
  /** c_t = s_t[offset, offset + size); size = H, the readout's h_t being s_t[0, H). */
  readonly offset: number;
  readonly size: number;
  /** ψ_t = ∂h_t/∂c_t, a diagonal (size H), with h_{t-1} and x_t held fixed. */
  outputGain(params: Params, step: CellStep): Float64Array;
}

export interface Cell {
  readonly type: 'rnn' | 'lstm';
  /** The activation f of an RNN cell (undefined for the LSTM). */
  readonly activation?: Activation;
  readonly inputSize: number; // I
  readonly hiddenSize: number; // H (the readout reads s[0..H))
  readonly stateSize: number; // S
  /** Names and shapes of the cell's parameters, in a fixed order. */
  readonly paramShapes: ParamShapes;
  /** s_t from s_{t-1} and x_t. */
  step(params: Params, prev: Float64Array, input: Float64Array): CellStep;
  /** The full state Jacobian ∂s_t/∂s_{t-1} (S×S). */
  jacobian(params: Params, step: CellStep): Mat;
  /** Immediate parameter vector-Jacobian product gᵀ ∂s_t/∂Ψ with s_{t-1} held fixed (g has size S). */
  vjpParams(params: Params, step: CellStep, g: Float64Array): Params;
  readonly eprop: Eprop;
  readonly memory?: CellMemory;
}

/** The initial state s_0 = 0. */
export const initialState = (cell: Cell): Float64Array => new Float64Array(cell.stateSize);

/** Run a cell over a sequence of inputs from s_0 = 0 (or a given state). */
export const rollout = (
  cell: Cell,
  params: Params,
  inputs: readonly Float64Array[],
  s0: Float64Array = initialState(cell),
): CellStep[] => {
  const steps: CellStep[] = [];
  let s = s0;
  for (const x of inputs) {
    const st = cell.step(params, s, x);
    steps.push(st);
    s = st.state;
  }
  return steps;
};
