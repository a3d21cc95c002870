/**
 * What the synthesiser of accumulate BP(λ) predicts, as adapters of the one BP(λ) step (`bplambda.ts`).
 *
 * An adapter says, for one example at step t: which state the synthesiser reads for its new prediction, the
 * Jacobian that carries the pending prediction's eligibility trace to the new one, the TD target of the pending
 * prediction given the new one (its immediate term included), the terminal target at the last step, and how the
 * network's gradient is formed from the prediction. The algorithm itself (TD errors, traces, contributions, clip,
 * accumulation) is written once, in `bpLambdaStep`.
 *
 * - 'full' (exact, spec §4): ĝ_t = g(s_t) predicts G_t = dL_{>t}/ds_t; transition J_t; the pending ĝ_{t-1} has
 *   the target (c l_t + γ ĝ_t) J_t (ĝ_T = 0: no prediction at the last step); the network learns from
 *   l_t + (β/c) ĝ_t through the cell's immediate parameter VJP.
 * - 'cell' (the paper's LSTM mode, spec §6.3): u_t = g(s_{t-1}) predicts Γ_t = dL_{≥t}/dc_t; transition C_t; the
 *   pending u_{t-1} has the target c m_{t-1} + γ u_t C_t, and at the last step u_T has the terminal target c m_T;
 *   the network learns one step late through e-prop, from ε_{t-1} + (β/c) u_t D_t (and ε_T at the end).
 * c is the target scale (`BpLambdaOptions.targetScale`).
 */
import { InvalidInputError } from './errors.js';
import { checkCellModeSynthesiser, cellToCellJacobian, memoryMass, outputGainOf } from './cellMode.js';
import type { Model, StepRecord } from './model.js';
import { readoutGrad, readoutShapes } from './model.js';
import type { Synthesiser } from './synthesiser.js';
import { type Mat, type Params, addParams, vaxpy, vecmat, vscale, zerosParams } from './tensor.js';

/** BP(λ)'s synthesiser modes: 'full' (ĝ on the whole state, exact) and 'cell' (the paper's LSTM dL/dc mode). */
export const BP_LAMBDA_MODES = ['full', 'cell'] as const;
export type BpLambdaMode = (typeof BP_LAMBDA_MODES)[number];

/** What an adapter carries per example from one step to the next (besides the state, prediction and trace). */
export type ModeCarry =
  | { readonly mode: 'full' }
  | {
      readonly mode: 'cell';
      /** The cell's e-prop traces after the last step. */
      readonly eprop: Params;
      /** The last step's record (the learning signal of step t−1 is formed at step t). */
      readonly record: StepRecord | null;
    };

/** The quantities of a BP(λ) step that do not depend on the mode. */
export interface ModeStepContext {
  readonly model: Model;
  readonly params: Params;
  readonly gamma: number;
  /** β/c: the weight of a prediction in the network's learning signal. */
  readonly signalWeight: number;
  /** c, the target scale. */
  readonly scale: number;
}

/** What the mode says about step t of one example. */
export interface ModeStep {
  /** The state the synthesiser reads for this step's prediction; null: no prediction (it is 0 and has no trace). */
  readonly synthInput: Float64Array | null;
  /** The Jacobian carrying the pending prediction's trace to this step's (null while nothing is pending). */
  readonly transition: Mat | null;
  /** The TD target of the pending prediction, given this step's prediction. */
  readonly target: (prediction: Float64Array) => Float64Array;
  /** At the last step, the target of this step's own prediction (no bootstrap); null if it has none. */
  readonly terminalTarget: Float64Array | null;
  /**
   * Given this step's prediction: the network's learning signals formed at this step, each with the 1-indexed
   * step whose state it is on (full state: l_t + (β/c) ĝ_t on s_t; cell mode: on h_{t-1}, none at t = 1, and at
   * the last step also ε_T on h_T), and the example's gradient of this step: the cell's from those signals plus
   * the readout's own gradient of step t's loss.
   */
  readonly learn: (prediction: Float64Array) => { readonly signals: readonly (readonly [number, Float64Array])[]; readonly grad: Params };
  readonly next: ModeCarry;
}

export interface ModeAdapter {
  /** Typed errors unless the model and synthesiser fit the mode. */
  check(model: Model, synth: Synthesiser): void;
  init(model: Model): ModeCarry;
  /** Step t (1-indexed) of one example from the previous state and the step's record. */
  step(ctx: ModeStepContext, carry: ModeCarry, state: Float64Array, rec: StepRecord, t: number, final: boolean): ModeStep;
}

export const fullMode: ModeAdapter = {
  check(model, synth) {
    const S = model.cell.stateSize;
    if (synth.inputSize !== S || synth.outputSize !== S)
      throw new InvalidInputError('synth', `a synthesiser from the state (size ${S}) to the state (size ${S}) in the full-state mode`, `maps size ${synth.inputSize} to ${synth.outputSize}`);
  },
  init: () => ({ mode: 'full' }),
  step(ctx, carry, _prev, rec, t, final) {
    const { model, params, gamma, signalWeight, scale } = ctx;
    const J = model.cell.jacobian(params, rec.step);
    return {
      synthInput: final ? null : rec.step.state,
      transition: J,
      target: (g) => vecmat(vaxpy(vscale(rec.immediate, scale), gamma, g), J),
      terminalTarget: null,
      learn: (g) => {
        const signal = vaxpy(rec.immediate, signalWeight, g);
        return { signals: [[t, signal]], grad: { ...model.cell.vjpParams(params, rec.step, signal), ...readoutGrad(model, rec) } };
      },
      next: carry,
    };
  },
};

export const cellMode: ModeAdapter = {
  check: checkCellModeSynthesiser,
  init: (model) => ({ mode: 'cell', eprop: model.cell.eprop.init(), record: null }),
  step(ctx, carry, prev, rec, t, final) {
    if (carry.mode !== 'cell') throw new RangeError('the cell mode got another mode\'s carry');
    const { model, params, gamma, signalWeight, scale } = ctx;
    const cell = model.cell;
    const H = cell.hiddenSize;
    const last = carry.record;
    const traces = cell.eprop.advance(params, carry.eprop, rec.step);
    const jac = last === null ? null : cellToCellJacobian(cell, params, rec.step, outputGainOf(model, params, last));
    const zeroReadout = zerosParams(readoutShapes(model));
    return {
      synthInput: prev,
      transition: jac?.C ?? null,
      target: (u) => vaxpy(memoryMass(model, params, last!, scale), gamma, vecmat(u, jac!.C)),
      terminalTarget: final ? memoryMass(model, params, rec, scale) : null,
      learn: (u) => {
        // From zeros for every parameter: the cell's gradient arrives through e-prop, the readout's directly.
        let grad: Params = { ...zerosParams(cell.paramShapes), ...readoutGrad(model, rec) };
        const signals: [number, Float64Array][] = [];
        if (last !== null && jac !== null) {
          // L_{t-1} = ε_{t-1} + (β/c) u_t D_t, with step t−1's e-prop traces.
          const signal = vaxpy(last.immediate.subarray(0, H), signalWeight, vecmat(u, jac.D));
          signals.push([t - 1, signal]);
          grad = addParams(grad, { ...cell.eprop.gradient(params, carry.eprop, last.step, signal), ...zeroReadout });
        }
        if (final) {
          const signal = rec.immediate.subarray(0, H);
          signals.push([t, signal]);
          grad = addParams(grad, { ...cell.eprop.gradient(params, traces, rec.step, signal), ...zeroReadout });
        }
        return { signals, grad };
      },
      next: { mode: 'cell', eprop: traces, record: rec },
    };
  },
};

export const modeAdapter = (mode: BpLambdaMode): ModeAdapter => {
  switch (mode) {
    case 'full':
      return fullMode;
    case 'cell':
      return cellMode;
  }
  throw new RangeError(`unknown BP(λ) mode ${String(mode satisfies never)}`);
};
