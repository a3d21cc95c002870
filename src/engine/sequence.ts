/**
 * One batch of sequences on the backend: inputs, targets and masks of every step, and the forward pass (cell,
 * readout, loss, immediate state gradient l_t = ∂L_t/∂s_t) with everything a method needs from it kept per step.
 * Buffers are named by step and reused across batches of the same batch size and length.
 */
import { hostView } from '../backends/host/view.js';
import { type CellCache, type CellSpec, type DeviceArray, cellCacheNames } from '../backends/backend.js';
import { type Batch, type Model, checkBatch } from '../core/model.js';
import { cellForward } from '../ops/cells.js';
import { lossGrad } from '../ops/loss.js';
import { hidden } from '../ops/context.js';
import { affine, immediateGrad } from '../ops/readout.js';
import type { Buffers } from './buffers.js';

export class SequenceData<A extends DeviceArray> {
  readonly H: number;
  readonly S: number;
  readonly I: number;
  readonly O: number;
  B = 0;
  T = 0;
  /** Per-step copies already made for this batch (rows of x, y, mask; h_{k+1} until step k runs again). */
  private readonly made = new Map<string, A>();

  constructor(
    private readonly buf: Buffers<A>,
    private readonly model: Model,
    readonly spec: CellSpec,
  ) {
    this.H = model.cell.hiddenSize;
    this.S = model.cell.stateSize;
    this.I = model.cell.inputSize;
    this.O = model.outputSize;
  }

  /** Check the batch against the model and write its inputs, targets and masks to the backend. */
  load(batch: Batch): void {
    const T = checkBatch(this.model, batch);
    const B = batch.length;
    this.made.clear();
    this.B = B;
    this.T = T;
    const { I, O } = this;
    const x = new Float64Array(T * B * I);
    const y = new Float64Array(T * B * O);
    const mask = new Float64Array(T * B);
    batch.forEach((q, b) => {
      for (let k = 0; k < T; k++) {
        x.set(q.inputs[k]!, (k * B + b) * I);
        const target = q.targets[k] ?? null;
        if (target !== null) {
          y.set(target, (k * B + b) * O);
          mask[k * B + b] = 1;
        }
      }
    });
    const be = this.buf.be;
    be.write(this.buf.tmp('seq.x', [T, B, I]), hostView(x, [T, B, I]));
    be.write(this.buf.tmp('seq.y', [T, B, O]), hostView(y, [T, B, O]));
    be.write(this.buf.tmp('seq.mask', [T, B]), hostView(mask, [T, B]));
    be.fill(this.st(0), 0);
  }

  private step(name: string, k: number, shape: readonly number[]): A {
    return this.buf.tmp(`seq.${name}${k}`, shape);
  }
  /** Row k of a [T, B, …] array, as a [B, …] array (a copy into a per-step buffer, made once per batch). */
  private row(name: string, k: number, cols: number | null): A {
    const known = this.made.get(`${name}${k}`);
    if (known !== undefined) return known;
    const key = `seq.${name}`;
    const all = this.buf.tmp(key, cols === null ? [this.T, this.B] : [this.T, this.B, cols]);
    const out = this.step(`${name}.row`, k, cols === null ? [this.B] : [this.B, cols]);
    const rest = cols === null ? [] : [cols];
    this.buf.be.copyBlock(this.buf.be.reshape(out, [1, this.B, ...rest]), all, { outBegin: [0, 0, ...rest.map(() => 0)], xBegin: [k, 0, ...rest.map(() => 0)], size: [1, this.B, ...rest] });
    this.made.set(`${name}${k}`, out);
    return out;
  }

  /** x_{k+1} [B, I] (0-based step k). */
  x = (k: number): A => this.row('x', k, this.I);
  y = (k: number): A => this.row('y', k, this.O);
  mask = (k: number): A => this.row('mask', k, null);
  /** s_k [B, S]: st(0) = 0, st(k + 1) the state after step k. */
  st = (k: number): A => this.step('st', k, [this.B, this.S]);
  cache(k: number): CellCache<A> {
    return Object.fromEntries(cellCacheNames(this.spec).map((n) => [n, this.step(`cache.${n}.`, k, [this.B, this.H])]));
  }
  dy = (k: number): A => this.step('dy', k, [this.B, this.O]);
  /** l_k = ∂L_k/∂s_k [B, S] (zero on the memory part). */
  imm = (k: number): A => this.step('imm', k, [this.B, this.S]);
  /** h_{k+1} [B, H]: the readout's input after step k. */
  h = (k: number): A => {
    const known = this.made.get(`h${k}`);
    if (known !== undefined) return known;
    const h = hidden(this.buf, `seq.h${k}`, this.st(k + 1), this.H);
    this.made.set(`h${k}`, h);
    return h;
  };
  /** Per-step, per-example losses [T, B]. */
  losses = (): A => this.buf.tmp('seq.losses', [this.T, this.B]);

  /** Step k's forward pass: s_{k+1}, its cache, ŷ, the loss (row k of `losses`), dy and l. */
  forward(k: number, params: Readonly<Record<string, A>>): void {
    const be = this.buf.be;
    this.made.delete(`h${k}`); // s_{k+1} changes

    cellForward(this.buf, this.spec, params, this.st(k), this.x(k), this.st(k + 1), this.cache(k));
    const yHat = this.buf.tmp('seq.yHat', [this.B, this.O]);
    affine(this.buf, yHat, this.h(k), params['W_out']!, params['b_out']!);
    const loss = this.buf.tmp('seq.loss', [this.B]);
    lossGrad(this.buf, this.model.loss, yHat, this.y(k), this.mask(k), loss, this.dy(k));
    be.copyBlock(this.losses(), be.reshape(loss, [1, this.B]), { outBegin: [k, 0], xBegin: [0, 0], size: [1, this.B] });
    immediateGrad(this.buf, this.imm(k), this.dy(k), params['W_out']!);
  }
}
