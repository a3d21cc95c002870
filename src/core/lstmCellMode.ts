/**
 * The paper's LSTM mode of BP(λ) ("predict dL/dc", the authors' `use_etraces=True`): a known approximation.
 *
 * The synthesiser reads the state before step t, s_{t-1} = [h_{t-1}; c_{t-1}], and predicts
 * u_t = ĝ(s_{t-1}) ≈ Γ_t = dL_{≥t}/dc_t. With m_t = ε_t ⊙ ψ_t (ε_t = ∂L_t/∂h_t, ψ_t = ∂h_t/∂c_t) and
 *   D_t = ∂c_t/∂h_{t-1},  C_t = diag(f_t) + D_t diag(ψ_{t-1}),
 * the c-space recursion is Γ_t = m_t + γ Γ_{t+1} C_{t+1}, Γ_T = m_T, and per step (1-indexed):
 *   δ_{t-1} = m_{t-1} + γ u_t C_t − u_{t-1}   (t ≥ 2),   δ_T = m_T − u_T
 *   E_t = γλ C_t E_{t-1} + ∇θ ĝ(s_{t-1})
 *   LSTM learning signal on h_{t-1}: L_{t-1} = ε_{t-1} + β u_t D_t (one step late), L_T = ε_T,
 *   applied to the e-prop traces of that step.
 * The recursion drops the path h_{t-1} → o_t → h_t, so it is exact only when the output gate has no recurrent
 * weights (W_hh rows of the output gate all zero); otherwise even λ = 1 is biased (spec §6.3).
 */
import type { CellStep } from './cell.js';
import { lstmCellInputJacobian, lstmParts } from './lstm.js';
import { type Batch, type Model, type StepRecord, modelShapes, readoutGrad, stepRecord } from './model.js';
import type { Synthesiser } from './synthesiser.js';
import type { BpLambdaOptions } from './bplambda.js';
import { clipPerTensor, runSequence, targetScaleOf } from './bplambda.js';
import { regressionUpdate } from './bptt.js';
import {
  type Mat,
  type Params,
  addParams,
  matmul,
  meanParams,
  paramCount,
  vadd,
  vaxpy,
  vecmat,
  vmul,
  vscale,
  vsub,
  vzeros,
  zerosParams,
} from './tensor.js';
import type { StepInput } from './bplambda.js';

export interface CellModeContext {
  readonly model: Model; // an LSTM model
  readonly synth: Synthesiser; // input 2H, output H
  readonly params: Params;
  readonly theta: Params;
  readonly options: BpLambdaOptions;
}

interface CellCarry {
  readonly state: Float64Array; // s_t
  readonly prediction: Float64Array | null; // u_t
  readonly trace: Mat | null; // E_t
  readonly eprop: Params; // e-prop traces after step t
  readonly step: CellStep | null; // step t
  readonly record: StepRecord | null;
}

export interface CellModeState {
  readonly t: number;
  readonly examples: readonly CellCarry[];
  readonly synthUpdate: Float64Array;
  readonly netGrad: Params;
  readonly loss: number;
}

export interface CellModeStepResult {
  readonly t: number;
  readonly states: readonly Float64Array[];
  readonly predictions: readonly Float64Array[]; // u_t = ĝ(s_{t-1})
  readonly tdErrors: readonly Float64Array[] | null; // δ_{t-1} (and δ_T appended at the final step, see below)
  readonly finalTdErrors: readonly Float64Array[] | null; // δ_T at the final step
  /** Synthetic part of the learning signal on h_{t-1}: (β/c) u_t D_t, c the target scale (null at t = 1). */
  readonly syntheticSignals: readonly Float64Array[] | null;
  readonly synthUpdate: Float64Array | null;
  readonly loss: number;
}

const H = (m: Model) => m.cell.hiddenSize;

const assertLstm = (model: Model, synth: Synthesiser) => {
  if (model.cell.type !== 'lstm') throw new RangeError('the cell synthesiser mode needs an LSTM cell');
  if (synth.inputSize !== 2 * H(model) || synth.outputSize !== H(model))
    throw new RangeError(`cell mode needs a synthesiser from 2H = ${2 * H(model)} to H = ${H(model)}`);
};

export const cellModeInit = (ctx: Pick<CellModeContext, 'model' | 'synth'>, batchSize: number): CellModeState => {
  assertLstm(ctx.model, ctx.synth);
  return {
    t: 0,
    examples: Array.from({ length: batchSize }, () => ({
      state: vzeros(ctx.model.cell.stateSize),
      prediction: null,
      trace: null,
      eprop: ctx.model.cell.eprop.init(),
      step: null,
      record: null,
    })),
    synthUpdate: vzeros(paramCount(ctx.synth.paramShapes)),
    netGrad: zerosParams(modelShapes(ctx.model)),
    loss: 0,
  };
};

/** C_t = diag(f_t) + D_t diag(ψ_{t-1}) (H×H), the c-to-c Jacobian through both paths. */
export const cellToCellJacobian = (params: Params, h: number, step: CellStep, psiPrev: Float64Array): { C: Mat; D: Mat } => {
  const D = lstmCellInputJacobian(params, h, step);
  const f = lstmParts(h, step).f;
  const C = new Float64Array(h * h);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < h; j++) C[i * h + j] = D.data[i * h + j]! * psiPrev[j]!;
    C[i * h + i] += f[i]!;
  }
  return { C: { shape: [h, h], data: C }, D };
};

/** c m_t = c ε_t ⊙ ψ_t, the immediate c-space gradient at the target scale c. */
const cMass = (model: Model, rec: StepRecord, scale: number): Float64Array =>
  vscale(vmul(rec.immediate.subarray(0, H(model)), lstmParts(H(model), rec.step).psi), scale);

export const cellModeStep = (ctx: CellModeContext, state: CellModeState, input: StepInput): [CellModeStepResult, CellModeState] => {
  const { model, synth, params, theta, options } = ctx;
  const { gamma, lambda, beta } = options;
  const c = targetScaleOf(options);
  const h = H(model);
  const t = state.t + 1;
  const P = paramCount(synth.paramShapes);
  const shapes = modelShapes(model);
  const eprop = model.cell.eprop;

  const per = state.examples.map((ex, b) => {
    const step = model.cell.step(params, ex.state, input.inputs[b]!);
    const rec = stepRecord(model, params, step, input.targets[b] ?? null);
    const traces = eprop.advance(params, ex.eprop, step);
    const u = synth.predict(theta, ex.state, t);
    // Start from zeros for every model parameter: addParams keeps only its first argument's keys, so a
    // readout-only record here would silently drop the cell gradients below (and meanParams would then throw).
    let grad: Params = { ...zerosParams(model.cell.paramShapes), ...readoutGrad(model, rec) };
    let td: Float64Array | null = null;
    let contribution: Float64Array | null = null;
    let synthetic: Float64Array | null = null;
    let C: Mat | null = null;
    if (ex.prediction !== null && ex.trace !== null && ex.record !== null) {
      const prev = ex.record;
      const jac = cellToCellJacobian(params, h, step, lstmParts(h, prev.step).psi);
      C = jac.C;
      td = vsub(vaxpy(cMass(model, prev, c), gamma, vecmat(u, C)), ex.prediction);
      contribution = vecmat(td, ex.trace);
      synthetic = vscale(vecmat(u, jac.D), beta / c);
      const signal = vadd(prev.immediate.subarray(0, h), synthetic);
      grad = addParams(grad, { ...eprop.gradient(params, ex.eprop, prev.step, signal), ...zerosReadout(model) });
    }
    const immediateJac = synth.paramJacobian(theta, ex.state, t);
    const trace: Mat =
      ex.trace === null || C === null || gamma * lambda === 0
        ? immediateJac
        : { shape: immediateJac.shape, data: vaxpy(immediateJac.data, gamma * lambda, matmul(C, ex.trace).data) };
    let finalTd: Float64Array | null = null;
    let finalContribution: Float64Array | null = null;
    if (input.final) {
      finalTd = vsub(cMass(model, rec, c), u);
      finalContribution = vecmat(finalTd, trace);
      grad = addParams(grad, { ...eprop.gradient(params, traces, step, rec.immediate.subarray(0, h)), ...zerosReadout(model) });
    }
    return { rec, traces, u, td, contribution, finalTd, finalContribution, synthetic, trace, grad, step };
  });

  const mean = (vs: (Float64Array | null)[]): Float64Array | null => {
    const xs = vs.filter((v): v is Float64Array => v !== null);
    if (xs.length === 0) return null;
    return vscale(
      xs.reduce((a, v) => vadd(a, v), vzeros(P)),
      1 / xs.length,
    );
  };
  const clip = (v: Float64Array | null) => (v === null ? null : clipPerTensor(v, synth.paramShapes, options.synthClip));
  const u1 = clip(mean(per.map((e) => e.contribution)));
  const u2 = clip(mean(per.map((e) => e.finalContribution)));
  const stepUpdate = u1 === null ? u2 : u2 === null ? u1 : vadd(u1, u2);
  const B = per.length;
  const stepLoss = per.reduce((a, e) => a + e.rec.loss, 0) / Math.max(1, B);
  const result: CellModeStepResult = {
    t,
    states: per.map((e) => e.step.state),
    predictions: per.map((e) => e.u),
    tdErrors: per[0]?.td === null ? null : per.map((e) => e.td!),
    finalTdErrors: input.final ? per.map((e) => e.finalTd!) : null,
    syntheticSignals: per[0]?.synthetic === null ? null : per.map((e) => e.synthetic!),
    synthUpdate: stepUpdate,
    loss: stepLoss,
  };
  const next: CellModeState = {
    t: input.final ? 0 : t,
    examples: input.final
      ? cellModeInit(ctx, B).examples
      : per.map((e) => ({ state: e.step.state, prediction: e.u, trace: e.trace, eprop: e.traces, step: e.step, record: e.rec })),
    synthUpdate: stepUpdate === null ? state.synthUpdate : vadd(state.synthUpdate, stepUpdate),
    netGrad: addParams(
      state.netGrad,
      meanParams(
        per.map((e) => e.grad),
        shapes,
      ),
    ),
    loss: state.loss + stepLoss,
  };
  return [result, next];
};

const zerosReadout = (model: Model): Params => zerosParams({ W_out: [model.outputSize, H(model)], b_out: [model.outputSize] });

/** Run the cell mode over a batch of equal-length sequences with θ and Ψ fixed. */
export const cellModeSequence = (ctx: CellModeContext, batch: Batch): { readonly steps: CellModeStepResult[]; readonly state: CellModeState } =>
  runSequence(ctx, batch, cellModeInit, cellModeStep);

/**
 * The c-space λ-targets of the cell mode for one sequence, θ fixed, at the target scale c (default 1):
 *   Γ^λ_T = c m_T,  Γ^λ_t = c m_t + γ[(1−λ) u_{t+1} + λ Γ^λ_{t+1}] C_{t+1}
 * (T entries, t = 1..T), with the synthesiser inputs s_{t-1}, the predictions u_t = ĝ(s_{t-1}) and, as a
 * by-product, D_t = ∂c_t/∂h_{t-1} (entry k is D_{k+1}; null at k = 0, where h_0 is fixed).
 */
export const cellModeTargets = (
  ctx: Omit<CellModeContext, 'options'>,
  records: readonly StepRecord[],
  gamma: number,
  lambda: number,
  scale = 1,
): { inputs: Float64Array[]; predictions: Float64Array[]; targets: Float64Array[]; D: (Mat | null)[] } => {
  const { model, synth, params, theta } = ctx;
  const h = H(model);
  const T = records.length;
  const inputs = records.map((_, k) => (k === 0 ? vzeros(2 * h) : records[k - 1]!.step.state));
  const u = inputs.map((s, k) => synth.predict(theta, s, k + 1));
  const targets = new Array<Float64Array>(T);
  const D = new Array<Mat | null>(T).fill(null);
  targets[T - 1] = cMass(model, records[T - 1]!, scale);
  for (let k = T - 2; k >= 0; k--) {
    const jac = cellToCellJacobian(params, h, records[k + 1]!.step, lstmParts(h, records[k]!.step).psi);
    D[k + 1] = jac.D;
    const mix = vadd(vscale(u[k + 1]!, 1 - lambda), vscale(targets[k + 1]!, lambda));
    targets[k] = vaxpy(cMass(model, records[k]!, scale), gamma, vecmat(mix, jac.C));
  }
  return { inputs, predictions: u, targets, D };
};

/** Forward view of the cell mode for one sequence, θ fixed: the targets and Σ_t (Γ^λ_t − u_t) ∇θ ĝ(s_{t-1}). */
export const cellModeForwardView = (
  ctx: Omit<CellModeContext, 'options'>,
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
