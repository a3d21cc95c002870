/**
 * The maths of BP(λ)'s cell mode (the paper's LSTM mode, "predict dL/dc", the authors' `use_etraces=True`; spec
 * §6.3), written against the cell interface: any cell with a memory part c (s = [h; c]) has it.
 *
 * The synthesiser reads the state before step t, s_{t-1}, and predicts u_t = ĝ(s_{t-1}) ≈ Γ_t = dL_{≥t}/dc_t. With
 * ψ_t = ∂h_t/∂c_t (the memory's output gain), m_t = ε_t ⊙ ψ_t (ε_t = ∂L_t/∂h_t), and the blocks of the state
 * Jacobian J_t = ∂s_t/∂s_{t-1}
 *   D_t = ∂c_t/∂h_{t-1},   C_t = ∂c_t/∂c_{t-1} + D_t diag(ψ_{t-1})   (c to c through both paths),
 * the c-space recursion is Γ_t = m_t + γ Γ_{t+1} C_{t+1}, Γ_T = m_T. It drops the path h_{t-1} → o_t → h_t of the
 * LSTM, so it is exact only when the output gate has no recurrent weights; otherwise even λ = 1 is biased.
 * The online algorithm is the generic accumulate BP(λ) step (`bplambda.ts`) with the cell mode's adapter
 * (`modes.ts`); this file has the Jacobians and the forward view.
 */
import type { Cell, CellStep } from './cell.js';
import { InvalidInputError } from './errors.js';
import type { Model, StepRecord } from './model.js';
import { regressionUpdate } from './bptt.js';
import type { Synthesiser } from './synthesiser.js';
import { type Mat, type Params, vadd, vaxpy, vecmat, vmul, vscale, vsub, vzeros } from './tensor.js';

/** The memory of a cell, or a typed error: the cell mode needs a cell with a memory part (an LSTM). */
export const memoryOf = (cell: Cell, path = 'method.mode') => {
  if (cell.memory === undefined)
    throw new InvalidInputError(path, "'full' for a cell without a memory part ('cell' is the LSTM's dL/dc mode)", "is 'cell'");
  return cell.memory;
};

/** Check that a synthesiser maps the whole state (2H) to the memory (H), as the cell mode needs. */
export const checkCellModeSynthesiser = (model: Model, synth: Synthesiser): void => {
  const mem = memoryOf(model.cell);
  if (synth.inputSize !== model.cell.stateSize || synth.outputSize !== mem.size)
    throw new InvalidInputError('synth', `a synthesiser from the state (size ${model.cell.stateSize}) to the memory (size ${mem.size}) in the cell mode`, `maps size ${synth.inputSize} to ${synth.outputSize}`);
};

/**
 * D_t = ∂c_t/∂h_{t-1} and C_t = ∂c_t/∂c_{t-1} + D_t diag(ψ_{t-1}) (both H×H), from the cell's state Jacobian of
 * step t and ψ_{t-1}, the output gain of step t−1.
 */
export const cellToCellJacobian = (cell: Cell, params: Params, step: CellStep, psiPrev: Float64Array): { C: Mat; D: Mat } => {
  const mem = memoryOf(cell);
  const J = cell.jacobian(params, step).data;
  const S = cell.stateSize;
  const h = mem.size;
  const D = new Float64Array(h * h);
  const C = new Float64Array(h * h);
  // Stryker disable next-line EqualityOperator: i = h reads past J's end (undefined) and writes past D's and C's, where writes are ignored (equivalent).
  for (let i = 0; i < h; i++) {
    const row = (mem.offset + i) * S;
    // Stryker disable next-line EqualityOperator: j = h writes entry (i+1, 0), which row i+1 then overwrites, or past the end (equivalent).
    for (let j = 0; j < h; j++) {
      D[i * h + j] = J[row + j]!;
      C[i * h + j] = J[row + j]! * psiPrev[j]! + J[row + mem.offset + j]!;
    }
  }
  return { C: { shape: [h, h], data: C }, D: { shape: [h, h], data: D } };
};

/** ψ_t of a step's record. */
export const outputGainOf = (model: Model, params: Params, rec: StepRecord): Float64Array => memoryOf(model.cell).outputGain(params, rec.step);

/** c m_t = c ε_t ⊙ ψ_t: the immediate gradient on the memory at the target scale c. */
export const memoryMass = (model: Model, params: Params, rec: StepRecord, scale: number): Float64Array =>
  vscale(vmul(rec.immediate.subarray(0, model.cell.hiddenSize), outputGainOf(model, params, rec)), scale);

export interface CellModeContext {
  readonly model: Model;
  readonly synth: Synthesiser;
  readonly params: Params;
  readonly theta: Params;
}

/**
 * The c-space λ-targets of the cell mode for one sequence, θ fixed, at the target scale c (default 1):
 *   Γ^λ_T = c m_T,  Γ^λ_t = c m_t + γ[(1−λ) u_{t+1} + λ Γ^λ_{t+1}] C_{t+1}
 * (T entries, t = 1..T), with the synthesiser inputs s_{t-1} and the predictions u_t = ĝ(s_{t-1}).
 */
export const cellModeTargets = (
  ctx: CellModeContext,
  records: readonly StepRecord[],
  gamma: number,
  lambda: number,
  scale = 1,
): { inputs: Float64Array[]; predictions: Float64Array[]; targets: Float64Array[] } => {
  const { model, synth, params, theta } = ctx;
  const T = records.length;
  const inputs = records.map((_, k) => (k === 0 ? vzeros(model.cell.stateSize) : records[k - 1]!.step.state));
  const u = inputs.map((s, k) => synth.predict(theta, s, k + 1));
  // Stryker disable next-line ArrayDeclaration: an empty array filled from index T−1 down ends the same (equivalent).
  const targets = new Array<Float64Array>(T);
  targets[T - 1] = memoryMass(model, params, records[T - 1]!, scale);
  for (let k = T - 2; k >= 0; k--) {
    const jac = cellToCellJacobian(model.cell, params, records[k + 1]!.step, outputGainOf(model, params, records[k]!));
    const mix = vadd(vscale(u[k + 1]!, 1 - lambda), vscale(targets[k + 1]!, lambda));
    targets[k] = vaxpy(memoryMass(model, params, records[k]!, scale), gamma, vecmat(mix, jac.C));
  }
  return { inputs, predictions: u, targets };
};

/** Forward view of the cell mode for one sequence, θ fixed: the targets and Σ_t (Γ^λ_t − u_t) ∇θ ĝ(s_{t-1}). */
export const cellModeForwardView = (
  ctx: CellModeContext,
  records: readonly StepRecord[],
  gamma: number,
  lambda: number,
  scale = 1,
): { targets: Float64Array[]; predictions: Float64Array[]; update: Float64Array } => {
  const { inputs, predictions: u, targets } = cellModeTargets(ctx, records, gamma, lambda, scale);
  const update = regressionUpdate(
    ctx.synth,
    ctx.theta,
    inputs,
    targets.map((g, k) => vsub(g, u[k]!)),
  );
  return { targets, predictions: u, update };
};
