/**
 * The training engine, written once against the Backend interface: every method of the core learner
 * (`src/core/learner.ts`) — accumulate BP(λ) in full-state and LSTM cell mode, with the once-per-sequence or
 * every-step schedule; n-step synthetic gradients; truncated and full BPTT; the online e-prop rule — for the
 * RNN and the LSTM, with the paper's linear synthesiser.
 *
 * On the float64 reference backend the engine performs the core's arithmetic in the core's order, so
 * `trainer.trainBatch` returns exactly the numbers of the core's `trainBatch` (asserted by the conformance
 * suite). Other backends give the same numbers to their precision.
 *
 * Engines for BP(λ)'s synthesiser update:
 * - 'online' (default): the backward view with eligibility traces E ← γλ J E + ∇θĝ, one step at a time; works
 *   with every schedule and with the per-step clip.
 * - 'sequence': the exact forward-view shortcut. With θ and the network held fixed over the sequence and no
 *   per-step clip, Σ_t mean_b δ_t E_t = Σ_t mean_b (G^λ_t − ĝ_t) ∇θĝ_t (spec §5, T1), computed by one backward
 *   recursion over the stored sequence in O(S²) per step instead of O(S³·S_in). It is not online (the sequence
 *   is stored) and refuses configurations where it would not be exact.
 *
 * Parameters and optimiser states stay on the host in float64 (the core's optimisers, applied as the core
 * applies them); each batch (or step, with the 'step' schedule) uploads them to the backend.
 */
import ndarray from 'ndarray';
import {
  type Backend,
  type CellCache,
  type CellSpec,
  type DeviceArray,
  cellCacheNames,
  preactSize,
} from '../backends/backend.js';
import { targetScaleOf } from '../core/bplambda.js';
import { chunking } from '../core/bptt.js';
import { InvalidInputError } from '../core/errors.js';
import { type BatchMetrics, type LearnerConfig, type LearnerState, type Method, applyLearnerUpdates, synthesiserFor } from '../core/learner.js';
import { type Batch, checkBatch, modelShapes, type Model } from '../core/model.js';
import { ACTIVATIONS, activationFns, type Activation } from '../core/rnn.js';
import type { Synthesiser } from '../core/synthesiser.js';
import { type ParamShapes, type Params, paramsNorm, size, unflattenParams, vnorm } from '../core/tensor.js';
import { Buffers } from './buffers.js';

export const ENGINES = ['online', 'sequence'] as const;
export type EngineKind = (typeof ENGINES)[number];

export interface TrainerOptions {
  /** How BP(λ) computes its synthesiser update: 'online' (eligibility traces, default) or 'sequence'. */
  readonly engine?: EngineKind;
}

/** Gradients of one batch with the parameters held fixed (the once-per-sequence schedule). */
export interface BatchGradients {
  /** Mean over the batch of the summed loss. */
  readonly loss: number;
  /** The network gradient (cell and readout), as the core learner passes it to the optimiser. */
  readonly netGrad: Params;
  /** The synthesiser update direction (to add), flat in the synthesiser's parameter order; null without one. */
  readonly synthUpdate: Float64Array | null;
}

export interface Trainer {
  readonly backend: Backend;
  readonly engine: EngineKind;
  readonly config: LearnerConfig;
  /** One batch of training, as the core's `trainBatch(config, state, batch)`. */
  trainBatch(state: LearnerState, batch: Batch): [BatchMetrics, LearnerState];
  /** The gradients of one batch at the parameters of `state` (BP(λ) needs the 'sequence' schedule). */
  gradients(state: LearnerState, batch: Batch): BatchGradients;
  /** Release the device buffers (the backend itself stays usable). */
  dispose(): void;
}

/** The cell as the backend sees it. The RNN's activation is read off the cell by probing it. */
export const cellSpecOf = (model: Model): CellSpec => {
  const cell = model.cell;
  if (cell.type === 'lstm') return { type: 'lstm' };
  const declared = (cell as { activation?: unknown }).activation;
  if (typeof declared === 'string' && (ACTIVATIONS as readonly string[]).includes(declared)) return { type: 'rnn', activation: declared as Activation };
  // h = f(b) with zero weights, zero state and zero input: compare with each activation on probe values.
  const H = cell.hiddenSize;
  const probe = Float64Array.from({ length: H }, (_, i) => [-1.5, 0.75, -0.25, 2][i % 4]! * (1 + i / 7));
  const params = Object.fromEntries(
    Object.entries(cell.paramShapes).map(([k, s]) => [k, { shape: s, data: k === 'b' ? probe : new Float64Array(size(s)) }]),
  );
  const out = cell.step(params, new Float64Array(cell.stateSize), new Float64Array(cell.inputSize)).state;
  const found = ACTIVATIONS.find((a) => probe.every((v, i) => activationFns[a].f(v) === out[i]));
  if (found === undefined) throw new InvalidInputError('model.cell', 'an rnnCell or lstmCell of bplambda (the engine knows their kernels)', 'is an RNN cell with an unknown activation');
  return { type: 'rnn', activation: found };
};

/** Validate a configuration for the engine; typed errors name the field. */
const validate = (config: LearnerConfig, engine: EngineKind): void => {
  const m: Method = config.method;
  if ((m.kind === 'bp-lambda' || m.kind === 'sg') && m.synthesiser.hidden.length > 0)
    throw new InvalidInputError(
      'method.synthesiser.hidden',
      'an empty list: the engine runs the linear synthesiser of the paper (MLP synthesisers run in the core learner)',
      `is [${m.synthesiser.hidden.join(', ')}]`,
    );
  synthesiserFor(config.model, m); // throws for the cell mode on an RNN
  if (m.kind === 'bp-lambda' || m.kind === 'sg') targetScaleOf(m); // throws unless a finite number > 0
  if (engine === 'sequence') {
    if (m.kind !== 'bp-lambda')
      throw new InvalidInputError('engine', `'online' for method '${m.kind}' (the sequence engine is a shortcut of BP(λ)'s synthesiser update)`, "is 'sequence'");
    if (m.schedule !== 'sequence')
      throw new InvalidInputError('engine', "'online' with method.schedule 'step' (the sequence engine needs the parameters fixed over the sequence)", "is 'sequence'");
    if (m.synthClip !== Infinity)
      throw new InvalidInputError('engine', `'online' with a finite method.synthClip (${m.synthClip}): the per-step clip is nonlinear, so only the online traces compute it`, "is 'sequence'");
  }
};

const view = (data: Float64Array, shape: readonly number[]) => ndarray(data, [...shape]);

export const createTrainer = <A extends DeviceArray>(backend: Backend<A>, config: LearnerConfig, options: TrainerOptions = {}): Trainer => {
  const engine = options.engine ?? 'online';
  if (!(ENGINES as readonly string[]).includes(engine)) throw new InvalidInputError('engine', `one of ${ENGINES.join(', ')}`, `is '${String(engine)}'`);
  validate(config, engine);
  const runner = new Runner(backend, config, engine);
  return {
    backend: backend as Backend,
    engine,
    config,
    trainBatch: (state, batch) => runner.trainBatch(state, batch),
    gradients: (state, batch) => runner.gradients(state, batch),
    dispose: () => runner.dispose(),
  };
};

/** Applied at every optimiser point of a batch (once, or after every step). */
type ApplyFn = (netGrad: Params, synthUpdate: Float64Array | null, loss: number) => void;

class Runner<A extends DeviceArray> {
  private readonly model: Model;
  private readonly method: Method;
  private readonly spec: CellSpec;
  private readonly synth: Synthesiser | null;
  private readonly shapes: ParamShapes;
  private readonly cellNames: readonly string[];
  private readonly buf: Buffers<A>;
  private readonly H: number;
  private readonly S: number;
  private readonly I: number;
  private readonly O: number;
  private shape: readonly [number, number] | null = null; // (B, T) of the current buffers
  private params: Record<string, A> = {};
  private theta: Record<string, A> = {};

  constructor(
    private readonly backend: Backend<A>,
    private readonly config: LearnerConfig,
    private readonly engine: EngineKind,
  ) {
    this.model = config.model;
    this.method = config.method;
    this.spec = cellSpecOf(config.model);
    this.synth = synthesiserFor(config.model, config.method);
    this.shapes = modelShapes(config.model);
    this.cellNames = Object.keys(config.model.cell.paramShapes);
    this.buf = new Buffers(backend);
    this.H = config.model.cell.hiddenSize;
    this.S = config.model.cell.stateSize;
    this.I = config.model.cell.inputSize;
    this.O = config.model.outputSize;
  }

  dispose(): void {
    this.buf.disposeAll();
    this.memo.clear();
    this.shape = null;
    for (const a of [...Object.values(this.params), ...Object.values(this.theta)]) this.backend.dispose(a);
    this.params = {};
    this.theta = {};
  }

  // -- host ↔ device -------------------------------------------------------------------------------------------

  private uploadRecord(target: Record<string, A>, p: Params, shapes: ParamShapes, path: string): void {
    for (const [k, s] of Object.entries(shapes)) {
      const t = p[k];
      if (t === undefined || t.data.length !== size(s))
        throw new InvalidInputError(`${path}.${k}`, `a tensor of shape ${s.join('x')}`, t === undefined ? 'is missing' : `has ${t.data.length} entries`);
      const existing = target[k];
      if (existing === undefined) target[k] = this.backend.upload(view(t.data, s));
      else this.backend.write(existing, view(t.data, s));
    }
  }

  private uploadState(state: LearnerState): void {
    this.uploadRecord(this.params, state.params, this.shapes, 'state.params');
    if (this.synth !== null) {
      if (state.theta === null) throw new InvalidInputError('state.theta', 'the synthesiser parameters of this method', 'is null');
      this.uploadRecord(this.theta, state.theta, this.synth.paramShapes, 'state.theta');
    }
  }

  private readRecord(target: Readonly<Record<string, A>>, shapes: ParamShapes): Params {
    return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { shape: [...s], data: Float64Array.from(this.backend.read(target[k]!).data) }]));
  }

  private readFlat(a: A): Float64Array {
    return Float64Array.from(this.backend.read(a).data);
  }

  /** Write the batch's inputs, targets and masks; (re)allocate buffers when B or T changed. */
  private loadBatch(batch: Batch): { B: number; T: number } {
    const T = checkBatch(this.model, batch);
    const B = batch.length;
    if (this.shape === null || this.shape[0] !== B || this.shape[1] !== T) {
      this.buf.disposeAll();
      this.memo.clear();
      this.shape = [B, T];
    }
    const { I, O } = this;
    const x = new Float64Array(B * I);
    const y = new Float64Array(B * O);
    const mask = new Float64Array(B);
    for (let k = 0; k < T; k++) {
      y.fill(0);
      batch.forEach((q, b) => {
        x.set(q.inputs[k]!, b * I);
        const target = q.targets[k] ?? null;
        mask[b] = target === null ? 0 : 1;
        if (target !== null) y.set(target, b * O);
      });
      this.backend.write(this.buf.get(`x${k}`, [B, I]), view(x, [B, I]));
      this.backend.write(this.buf.get(`y${k}`, [B, O]), view(y, [B, O]));
      this.backend.write(this.buf.get(`mask${k}`, [B]), view(mask, [B]));
    }
    this.backend.zero(this.buf.get('st0', [B, this.S]));
    return { B, T };
  }

  /** Per-step buffers, memoised for the current (B, T) (cleared with the buffers). */
  private memo = new Map<string, A | CellCache<A>>();
  private per<V extends A | CellCache<A>>(key: string, make: () => V): V {
    const v = this.memo.get(key);
    if (v !== undefined) return v as V;
    const fresh = make();
    this.memo.set(key, fresh);
    return fresh;
  }
  private x = (k: number): A => this.per(`x${k}`, () => this.buf.get(`x${k}`, [this.shape![0], this.I]));
  private st = (k: number): A => this.per(`st${k}`, () => this.buf.get(`st${k}`, [this.shape![0], this.S]));
  private cache(k: number): CellCache<A> {
    return this.per(`cache${k}`, () => {
      const B = this.shape![0];
      return Object.fromEntries(cellCacheNames(this.spec).map((n) => [n, this.buf.get(`cache${k}.${n}`, [B, this.H])]));
    });
  }
  private lossOf = (k: number): A => this.per(`loss${k}`, () => this.buf.get(`loss${k}`, [this.shape![0]]));
  private dyOf = (k: number): A => this.per(`dy${k}`, () => this.buf.get(`dy${k}`, [this.shape![0], this.O]));
  /** l_t = ∂L_t/∂s_t: [B, S] (zeros on the c part), or [B, H] in cell mode (its h part). */
  private immOf = (k: number, cols: number): A => this.per(`imm${k}.${cols}`, () => this.buf.get(`imm${k}.${cols}`, [this.shape![0], cols]));

  /** Step k's forward pass, readout, loss and immediate gradient. */
  private forwardStep(k: number, immCols: number): void {
    const be = this.backend;
    const B = this.shape![0];
    be.cellForward(this.spec, this.params, this.st(k), this.x(k), this.st(k + 1), this.cache(k));
    const yHat = this.buf.get('yHat', [B, this.O]);
    be.linear(yHat, this.st(k + 1), this.params['W_out']!, this.params['b_out']!, false);
    be.lossGrad(this.model.loss, yHat, this.buf.get(`y${k}`, [B, this.O]), this.buf.get(`mask${k}`, [B]), this.lossOf(k), this.dyOf(k));
    be.vecmat(this.immOf(k, immCols), this.dyOf(k), this.params['W_out']!);
  }

  /** Per-step losses [T][B] read back to the host. */
  private losses(T: number): Float64Array[] {
    return Array.from({ length: T }, (_, k) => Float64Array.from(this.backend.read(this.lossOf(k)).data));
  }

  /** Gradient accumulators for the model's parameters ('mean': [shape]; 'each': [B, shape]), zeroed. */
  private gradAcc(kind: 'mean' | 'each'): Record<string, A> {
    const B = this.shape![0];
    return Object.fromEntries(
      Object.entries(this.shapes).map(([k, s]) => [k, this.buf.zeroed(`grad.${kind}.${k}`, kind === 'each' ? [B, ...s] : s)]),
    );
  }

  /** The immediate VJP of step k for a gradient g [B, S] on s_{k+1}, reduced into the cell's accumulators. */
  private cellGrad(k: number, g: A, acc: Record<string, A>, reduce: 'mean' | 'each'): void {
    const be = this.backend;
    const B = this.shape![0];
    const dz = this.buf.get('dz', [B, preactSize(this.spec, this.H)]);
    be.cellPreactGrad(this.spec, this.st(k), this.cache(k), g, dz);
    const [wIn, wRec, bias] = this.cellNames as [string, string, string];
    be.outerAccumulate(acc[wIn]!, dz, this.x(k), reduce);
    be.outerAccumulate(acc[wRec]!, dz, this.st(k), reduce); // W_rec: s_{t-1}; W_hh: its first H columns, h_{t-1}
    be.rowAccumulate(acc[bias]!, dz, reduce);
  }

  private readoutGrad(k: number, acc: Record<string, A>, reduce: 'mean' | 'each'): void {
    this.backend.outerAccumulate(acc['W_out']!, this.dyOf(k), this.st(k + 1), reduce);
    this.backend.rowAccumulate(acc['b_out']!, this.dyOf(k), reduce);
  }

  /** Mean over the batch of per-example accumulators into fresh 'mean' accumulators, read back. */
  private meanOfEach(each: Record<string, A>): Params {
    const mean = this.gradAcc('mean');
    for (const k of Object.keys(this.shapes)) this.backend.batchMean(mean[k]!, each[k]!, false);
    return this.readRecord(mean, this.shapes);
  }

  // -- public entry points ---------------------------------------------------------------------------------------

  trainBatch(state: LearnerState, batch: Batch): [BatchMetrics, LearnerState] {
    let s = state;
    let loss = 0;
    let gradNorm = 0;
    let synthNorm = 0;
    const bp = this.method.kind === 'bp-lambda';
    let metrics: BatchMetrics | null = null;
    this.run(s, batch, (netGrad, synthUpdate, l) => {
      if (bp) {
        loss += l;
        gradNorm = Math.max(gradNorm, paramsNorm(netGrad));
        synthNorm = Math.max(synthNorm, vnorm(synthUpdate!));
        s = applyLearnerUpdates(this.config, s, netGrad, unflattenParams(synthUpdate!, this.synth!.paramShapes));
        this.uploadState(s);
        return;
      }
      metrics =
        synthUpdate === null
          ? { loss: l, gradNorm: paramsNorm(netGrad) }
          : { loss: l, gradNorm: paramsNorm(netGrad), synthUpdateNorm: vnorm(synthUpdate) };
      s = applyLearnerUpdates(this.config, s, netGrad, synthUpdate === null ? null : unflattenParams(synthUpdate, this.synth!.paramShapes));
    });
    const m: BatchMetrics = bp ? { loss, gradNorm, synthUpdateNorm: synthNorm } : metrics!;
    return [m, { ...s, batches: state.batches + 1 }];
  }

  gradients(state: LearnerState, batch: Batch): BatchGradients {
    if (this.method.kind === 'bp-lambda' && this.method.schedule !== 'sequence')
      throw new InvalidInputError('method.schedule', "'sequence' for gradients() (with 'step' the parameters change inside the batch)", "is 'step'");
    let out: BatchGradients | null = null;
    this.run(state, batch, (netGrad, synthUpdate, loss) => {
      out = { loss, netGrad, synthUpdate };
    });
    return out!;
  }

  private run(state: LearnerState, batch: Batch, apply: ApplyFn): void {
    this.uploadState(state);
    const { B, T } = this.loadBatch(batch);
    const m = this.method;
    switch (m.kind) {
      case 'bptt':
        return this.backprop(B, T, null, apply);
      case 'tbptt':
        return this.backprop(B, T, chunking(T, m.n, m.align).cut, apply);
      case 'online':
        return this.eprop(B, T, apply);
      case 'sg':
        return this.nStepSg(B, T, apply);
      case 'bp-lambda':
        return m.mode === 'cell' ? this.cellMode(B, T, apply) : this.fullState(B, T, apply);
    }
  }

  // -- BPTT, truncated BPTT, n-step SG -------------------------------------------------------------------------

  /**
   * Reverse mode through the stored sequence (the core's `backprop`): d_k = l_k + carry (+ injection),
   * per-example gradients accumulated from the last step back, carry = d_k J_k unless a cut follows step k−1.
   */
  private backward(B: number, T: number, cut: readonly boolean[] | null, injections: ReadonlyMap<number, A> | null): Record<string, A> {
    const be = this.backend;
    const each = this.gradAcc('each');
    const carry = this.buf.zeroed('carry', [B, this.S]);
    const d = this.buf.get('d', [B, this.S]);
    for (let k = T - 1; k >= 0; k--) {
      be.axpy(d, this.immOf(k, this.S), 1, carry);
      const inj = injections?.get(k);
      if (inj !== undefined) be.axpy(d, d, 1, inj);
      this.cellGrad(k, d, each, 'each');
      this.readoutGrad(k, each, 'each');
      if (k === 0) break;
      if (cut?.[k - 1]) be.zero(carry);
      else be.cellStateVjp(this.spec, this.params, this.st(k), this.cache(k), d, carry);
    }
    return each;
  }

  /** Batch-mean loss of per-sequence summed losses (the core's `batchMean`). */
  private sequenceLoss(B: number, T: number): number {
    const losses = this.losses(T);
    let total = 0;
    for (let b = 0; b < B; b++) {
      let l = 0;
      for (let k = 0; k < T; k++) l += losses[k]![b]!;
      total += l;
    }
    return total / Math.max(1, B);
  }

  private backprop(B: number, T: number, cut: readonly boolean[] | null, apply: ApplyFn): void {
    for (let k = 0; k < T; k++) this.forwardStep(k, this.S);
    const each = this.backward(B, T, cut, null);
    apply(this.meanOfEach(each), null, this.sequenceLoss(B, T));
  }

  /** The online rule without a synthesiser (the core's `onlineRule`): e-prop with the immediate loss gradient. */
  private eprop(B: number, T: number, apply: ApplyFn): void {
    const be = this.backend;
    const each = this.gradAcc('each');
    const lstm = this.spec.type === 'lstm';
    const traces = lstm ? this.buf.zeroed('eprop', [B, 3, this.H, this.I + this.H + 1]) : null;
    for (let k = 0; k < T; k++) {
      this.forwardStep(k, this.S);
      if (traces !== null) {
        be.epropAdvance(this.st(k), this.x(k), this.cache(k), traces);
        be.epropGradient(this.st(k), this.x(k), this.cache(k), traces, this.immOf(k, this.S), each, true);
      } else this.cellGrad(k, this.immOf(k, this.S), each, 'each');
      this.readoutGrad(k, each, 'each');
    }
    apply(this.meanOfEach(each), null, this.sequenceLoss(B, T));
  }

  /** Jaderberg-style n-step synthetic gradients (the core's `nStepSg`). */
  private nStepSg(B: number, T: number, apply: ApplyFn): void {
    const m = this.method as Extract<Method, { kind: 'sg' }>;
    const be = this.backend;
    const S = this.S;
    const c = targetScaleOf(m);
    for (let k = 0; k < T; k++) this.forwardStep(k, S);
    const { cut, ends } = chunking(T, m.n, m.align);
    const boundaries = ends.slice(0, -1);
    const preds = new Map<number, A>();
    const injections = new Map<number, A>();
    for (const e of boundaries) {
      const g = this.buf.get(`sgPred${e}`, [B, S]);
      be.linear(g, this.st(e + 1), this.theta['W']!, this.theta['b']!, false);
      preds.set(e, g);
      const inj = this.buf.get(`sgInj${e}`, [B, S]);
      be.scale(inj, g, m.beta / c);
      injections.set(e, inj);
    }
    const each = this.backward(B, T, cut, injections);
    const authors = m.target === 'authors';
    const uW = this.buf.zeroed('sgUW', [B, S, S]);
    const ub = this.buf.zeroed('sgUb', [B, S]);
    const a = this.buf.get('sgA', [B, S]);
    const v = this.buf.get('sgV', [B, S]);
    const gamma = authors ? 1 : m.gamma;
    boundaries.forEach((bnd, i) => {
      const end = ends[i + 1]!;
      const g = preds.get(end);
      // The window's gradient in the example's own units (bootstrap ĝ/c, or the injected (β/c) ĝ), then × c.
      if (g === undefined) be.zero(a);
      else if (authors) be.scale(a, g, m.beta / c);
      else if (c === 1) be.copy(a, g);
      else be.scale(a, g, 1 / c);
      for (let j = end; j >= bnd + 1; j--) {
        be.axpy(v, this.immOf(j, S), gamma, a);
        be.cellStateVjp(this.spec, this.params, this.st(j), this.cache(j), v, a);
      }
      if (c !== 1) be.scale(a, a, c);
      be.sub(a, a, preds.get(bnd)!); // error = target − ĝ
      be.outerAccumulate(uW, a, this.st(bnd + 1), 'each');
      be.rowAccumulate(ub, a, 'each');
    });
    const meanW = this.buf.get('sgMeanW', [S, S]);
    const meanB = this.buf.get('sgMeanB', [S]);
    be.batchMean(meanW, uW, false);
    be.batchMean(meanB, ub, false);
    const synthUpdate = new Float64Array(S * S + S);
    synthUpdate.set(this.readFlat(meanW), 0);
    synthUpdate.set(this.readFlat(meanB), S * S);
    apply(this.meanOfEach(each), synthUpdate, this.sequenceLoss(B, T));
  }

  // -- BP(λ) ---------------------------------------------------------------------------------------------------

  private get bp(): Extract<Method, { kind: 'bp-lambda' }> {
    return this.method as Extract<Method, { kind: 'bp-lambda' }>;
  }

  /** Segment lengths of the flat synthesiser parameters (per-tensor clip). */
  private get synthSegments(): number[] {
    return Object.values(this.synth!.paramShapes).map((s) => size(s));
  }

  /** Read the accumulators, call `apply`, clear them (the core's apply point). */
  private applyPoint(apply: ApplyFn, mean: Record<string, A>, synthAcc: A, loss: number): void {
    const netGrad = this.readRecord(mean, this.shapes);
    const synthUpdate = this.readFlat(synthAcc);
    apply(netGrad, synthUpdate, loss);
    for (const a of Object.values(mean)) this.backend.zero(a);
    this.backend.zero(synthAcc);
  }

  /** Σ over steps k0…k1 of the batch-mean step loss (Σ_b from 0, then / B), accumulated from 0 in step order. */
  private stepLosses(k0: number, k1: number, B: number): number {
    let acc = 0;
    for (let k = k0; k <= k1; k++) {
      const l = this.backend.read(this.lossOf(k)).data;
      let s = 0;
      for (let b = 0; b < B; b++) s += l[b]!;
      acc += s / Math.max(1, B);
    }
    return acc;
  }

  /** Full-state BP(λ) (the core's `bpLambdaStep`, step by step), online traces or the sequence shortcut. */
  private fullState(B: number, T: number, apply: ApplyFn): void {
    const be = this.backend;
    const { gamma, lambda, beta, synthClip } = this.bp;
    const c = targetScaleOf(this.bp);
    const S = this.S;
    const P = S * S + S;
    const online = this.engine === 'online';
    const decay = gamma * lambda;
    const mean = this.gradAcc('mean');
    const synthAcc = this.buf.zeroed('synthAcc', [P]);
    const J = this.buf.get('J', [B, S, S]);
    const E = online ? this.buf.trace('E', B, S, P) : null;
    const pred = (k: number) => this.buf.get(`pred${k % (online ? 2 : T)}`, [B, S]);
    const v = this.buf.get('v', [B, S]);
    const td = this.buf.get('td', [B, S]);
    const contrib = this.buf.get('contrib', [P]);
    const signal = this.buf.get('signal', [B, S]);
    const step = this.bp.schedule === 'step';
    let lossFrom = 0;
    for (let k = 0; k < T; k++) {
      const final = k === T - 1;
      this.forwardStep(k, S);
      const imm = this.immOf(k, S);
      if (online) be.cellJacobian(this.spec, this.params, this.st(k), this.cache(k), J);
      const g = pred(k);
      if (final) be.zero(g);
      else be.linear(g, this.st(k + 1), this.theta['W']!, this.theta['b']!, false);
      if (online) {
        if (k >= 1) {
          this.scaledAxpy(v, imm, c, gamma, g);
          be.vecmat(td, v, J);
          be.sub(td, td, pred(k - 1));
        }
        const input = { kind: 'linear' as const, input: this.st(k + 1) };
        if (!final) {
          if (k === 0 || decay === 0) {
            if (k >= 1) be.traceContract(contrib, td, E!);
            be.traceSet(E!, input);
          } else be.traceUpdate(E!, J, decay, input, { delta: td, out: contrib });
        } else if (k >= 1) be.traceContract(contrib, td, E!);
        if (k >= 1) {
          be.clipSegments(contrib, this.synthSegments, synthClip);
          be.axpy(synthAcc, synthAcc, 1, contrib);
        }
      }
      be.axpy(signal, imm, beta / c, g);
      this.cellGrad(k, signal, mean, 'mean');
      this.readoutGrad(k, mean, 'mean');
      if (step || final) {
        if (!online) this.forwardViewFull(B, T, c, synthAcc);
        this.applyPoint(apply, mean, synthAcc, this.stepLosses(lossFrom, k, B));
        lossFrom = k + 1;
      }
    }
  }

  /**
   * The forward view of full-state BP(λ): λ-targets G^λ_t = (c l_{t+1} + γ[(1−λ)ĝ_{t+1} + λG^λ_{t+1}]) J_{t+1}
   * (G^λ_T = 0, ĝ_T = 0) and Σ_t mean_b (G^λ_t − ĝ_t) ⊗ [s_t; 1] into the synthesiser accumulator.
   */
  private forwardViewFull(B: number, T: number, c: number, synthAcc: A): void {
    const be = this.backend;
    const { gamma, lambda } = this.bp;
    const S = this.S;
    const next = this.buf.zeroed('fvNext', [B, S]);
    const mix = this.buf.get('fvMix', [B, S]);
    const v = this.buf.get('fvV', [B, S]);
    const err = this.buf.get('fvErr', [B, S]);
    const uW = this.buf.zeroed('fvW', [S, S]);
    const ub = this.buf.zeroed('fvB', [S]);
    for (let k = T - 2; k >= 0; k--) {
      if (k + 1 <= T - 2) {
        be.scale(mix, this.buf.get(`pred${k + 1}`, [B, S]), 1 - lambda);
        be.axpy(mix, mix, lambda, next);
      } else be.scale(mix, next, lambda);
      this.scaledAxpy(v, this.immOf(k + 1, S), c, gamma, mix);
      be.cellStateVjp(this.spec, this.params, this.st(k + 1), this.cache(k + 1), v, next);
      be.sub(err, next, this.buf.get(`pred${k}`, [B, S]));
      be.outerAccumulate(uW, err, this.st(k + 1), 'mean');
      be.rowAccumulate(ub, err, 'mean');
    }
    this.joinSynth(synthAcc, uW, ub, S, S);
  }

  /** out ← c x + a y (the immediate gradient at BP(λ)'s target scale c, plus a bootstrap); one kernel when c = 1. */
  private scaledAxpy(out: A, x: A, c: number, a: number, y: A): void {
    if (c === 1) this.backend.axpy(out, x, a, y);
    else {
      this.backend.scale(out, x, c);
      this.backend.axpy(out, out, a, y);
    }
  }

  /** synthAcc [W | b] ← the two accumulators. */
  private joinSynth(synthAcc: A, uW: A, ub: A, rows: number, cols: number): void {
    const flat = new Float64Array(rows * cols + rows);
    flat.set(this.readFlat(uW), 0);
    flat.set(this.readFlat(ub), rows * cols);
    this.backend.write(synthAcc, view(flat, [flat.length]));
  }

  /** The paper's LSTM cell mode (the core's `cellModeStep`), online traces or the sequence shortcut. */
  private cellMode(B: number, T: number, apply: ApplyFn): void {
    const be = this.backend;
    const { gamma, lambda, beta, synthClip } = this.bp;
    const c = targetScaleOf(this.bp);
    const H = this.H;
    const S = this.S;
    const P = H * S + H;
    const online = this.engine === 'online';
    const decay = gamma * lambda;
    const mean = this.gradAcc('mean');
    const synthAcc = this.buf.zeroed('synthAcc', [P]);
    const E = online ? this.buf.trace('E', B, H, P) : null;
    const C = this.buf.get('C', [B, H, H]);
    const D = this.buf.get('D', [B, H, H]);
    const u = (k: number) => this.buf.get(`u${k % (online ? 2 : T)}`, [B, H]);
    const mass = (k: number) => this.buf.get(`m${k % (online ? 2 : T)}`, [B, H]);
    const w = this.buf.get('w', [B, H]);
    const v = this.buf.get('v', [B, H]);
    const td = this.buf.get('td', [B, H]);
    const ftd = this.buf.get('ftd', [B, H]);
    const syn = this.buf.get('syn', [B, H]);
    const sig = this.buf.get('sig', [B, H]);
    const c1 = this.buf.get('c1', [P]);
    const c2 = this.buf.get('c2', [P]);
    const traces = this.buf.zeroed('eprop', [B, 3, H, this.I + H + 1]);
    const cellShapes = this.model.cell.paramShapes;
    const tmpG = Object.fromEntries(Object.entries(cellShapes).map(([k, s]) => [k, this.buf.get(`tmpG.${k}`, [B, ...s])]));
    const cellMean = Object.fromEntries(this.cellNames.map((name) => [name, mean[name]!]));
    const step = this.bp.schedule === 'step';
    let lossFrom = 0;
    for (let k = 0; k < T; k++) {
      const final = k === T - 1;
      this.forwardStep(k, H);
      const imm = this.immOf(k, H);
      be.linear(u(k), this.st(k), this.theta['W']!, this.theta['b']!, false); // u_t = ĝ(s_{t-1})
      let cellGrad = false;
      if (k >= 1) {
        be.lstmCellJacobians(this.params, this.st(k), this.cache(k), this.cache(k - 1)['psi']!, C, D);
        if (online) {
          be.vecmat(w, u(k), C);
          be.axpy(v, mass(k - 1), gamma, w);
          be.sub(td, v, u(k - 1));
        }
        be.vecmat(syn, u(k), D);
        be.scale(syn, syn, beta / c);
        be.axpy(sig, this.immOf(k - 1, H), 1, syn);
        // Per-example gradients only where the final step adds its own before the batch mean (the core's order).
        if (final) {
          be.epropGradient(this.st(k - 1), this.x(k - 1), this.cache(k - 1), traces, sig, tmpG, false);
          cellGrad = true;
        } else be.epropGradientMean(this.st(k - 1), this.x(k - 1), this.cache(k - 1), traces, sig, cellMean);
      }
      be.epropAdvance(this.st(k), this.x(k), this.cache(k), traces);
      if (online) {
        const input = { kind: 'linear' as const, input: this.st(k) };
        if (k === 0 || decay === 0) {
          if (k >= 1) be.traceContract(c1, td, E!);
          be.traceSet(E!, input);
        } else be.traceUpdate(E!, C, decay, input, { delta: td, out: c1 });
      }
      be.mul(mass(k), imm, this.cache(k)['psi']!); // c m_t: the immediate c-space gradient at the target scale
      if (c !== 1) be.scale(mass(k), mass(k), c);
      if (final) {
        if (online) {
          be.sub(ftd, mass(k), u(k));
          be.traceContract(c2, ftd, E!);
        }
        be.epropGradient(this.st(k), this.x(k), this.cache(k), traces, imm, tmpG, cellGrad);
        cellGrad = true;
      }
      if (online) {
        if (k >= 1) be.clipSegments(c1, this.synthSegments, synthClip);
        if (final) be.clipSegments(c2, this.synthSegments, synthClip);
        if (k >= 1 && final) be.axpy(c1, c1, 1, c2);
        if (k >= 1) be.axpy(synthAcc, synthAcc, 1, c1);
        else if (final) be.axpy(synthAcc, synthAcc, 1, c2);
      }
      if (cellGrad) for (const name of this.cellNames) be.batchMean(mean[name]!, tmpG[name]!, true);
      this.readoutGrad(k, mean, 'mean');
      if (step || final) {
        if (!online) this.forwardViewCell(B, T, synthAcc);
        this.applyPoint(apply, mean, synthAcc, this.stepLosses(lossFrom, k, B));
        lossFrom = k + 1;
      }
    }
  }

  /**
   * The forward view of the cell mode (the core's `cellModeForwardView`): Γ^λ_T = m_T,
   * Γ^λ_t = m_t + γ[(1−λ)u_{t+1} + λΓ^λ_{t+1}] C_{t+1}, and Σ_t mean_b (Γ^λ_t − u_t) ⊗ [s_{t-1}; 1].
   */
  private forwardViewCell(B: number, T: number, synthAcc: A): void {
    const be = this.backend;
    const { gamma, lambda } = this.bp;
    const H = this.H;
    const S = this.S;
    const G = this.buf.get('fvG', [B, H]);
    const mix = this.buf.get('fvMix', [B, H]);
    const w = this.buf.get('fvW1', [B, H]);
    const err = this.buf.get('fvErr', [B, H]);
    const C = this.buf.get('C', [B, H, H]);
    const D = this.buf.get('D', [B, H, H]);
    const uW = this.buf.zeroed('fvW', [H, S]);
    const ub = this.buf.zeroed('fvB', [H]);
    const u = (k: number) => this.buf.get(`u${k}`, [B, H]);
    const mass = (k: number) => this.buf.get(`m${k}`, [B, H]);
    be.copy(G, mass(T - 1));
    for (let k = T - 1; k >= 0; k--) {
      if (k < T - 1) {
        be.lstmCellJacobians(this.params, this.st(k + 1), this.cache(k + 1), this.cache(k)['psi']!, C, D);
        be.scale(mix, u(k + 1), 1 - lambda);
        be.axpy(mix, mix, lambda, G);
        be.vecmat(w, mix, C);
        be.axpy(G, mass(k), gamma, w);
      }
      be.sub(err, G, u(k));
      be.outerAccumulate(uW, err, this.st(k), 'mean');
      be.rowAccumulate(ub, err, 'mean');
    }
    this.joinSynth(synthAcc, uW, ub, H, S);
  }
}
