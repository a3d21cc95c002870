/**
 * The learner's state on the backend: network and synthesiser parameters and both optimisers' states live in
 * backend arrays across steps and batches; they come back to the host only when asked (`toHost`: checkpoints,
 * evaluation). `apply` is the core's `applyLearnerUpdates` (src/core/learner.ts) on backend arrays, operation by
 * operation: the optional global-norm clip of the network gradient, then SGD or Adam on each parameter group.
 */
import { hostView } from '../backends/host/view.js';
import type { Backend, DeviceArray } from '../backends/backend.js';
import { InvalidInputError } from '../core/errors.js';
import type { LearnerConfig, LearnerState, OptimiserSpec } from '../core/learner.js';
import { checkParams } from '../core/model.js';
import type { ParamShapes, Params } from '../core/tensor.js';
import { size } from '../core/tensor.js';
import type { OpContext } from '../ops/context.js';
import { adamStep, clipByGlobalNorm, sgdStep } from '../ops/optim.js';

type Group<A> = Record<string, A>;

/** An optimiser's state on the backend. */
type OptState<A> = { readonly kind: 'frozen' } | { readonly kind: 'sgd' } | { readonly kind: 'adam'; count: number; readonly mu: Group<A>; readonly nu: Group<A> };

const adamDefaults = (spec: Extract<OptimiserSpec, { kind: 'adam' }>) => ({ lr: spec.lr, beta1: spec.beta1 ?? 0.9, beta2: spec.beta2 ?? 0.999, eps: spec.eps ?? 1e-8 });

/**
 * A group of backend arrays read back as float64 parameters. Every read is queued at the call, so the values are
 * those left by the work queued before it, whatever is queued after.
 */
export const readParams = async <A extends DeviceArray>(be: Backend<A>, g: Readonly<Record<string, A>>, shapes: ParamShapes): Promise<Params> =>
  Object.fromEntries(await Promise.all(Object.entries(shapes).map(async ([k, s]) => [k, { shape: [...s], data: Float64Array.from((await be.read(g[k]!)).data) }] as const)));

export class DeviceState<A extends DeviceArray> {
  params: Group<A> = {};
  theta: Group<A> | null = null;
  private netOpt: OptState<A> = { kind: 'frozen' };
  private synthOpt: OptState<A> = { kind: 'frozen' };
  batches = 0;
  loaded = false;

  constructor(
    private readonly ctx: OpContext<A>,
    private readonly config: LearnerConfig,
    private readonly shapes: ParamShapes,
    private readonly synthShapes: ParamShapes | null,
  ) {}

  /**
   * Upload a learner state (typed errors name the field that does not fit the configuration). All or nothing: a
   * state that fails leaves the one loaded before in place.
   */
  load(state: LearnerState): void {
    const made: A[] = [];
    const upload = (p: Params | null | undefined, shapes: ParamShapes, path: string): Group<A> => {
      const g = this.upload(p, shapes, path);
      made.push(...Object.values(g));
      return g;
    };
    if (state === null || typeof state !== 'object') throw new InvalidInputError('state', 'a learner state (from learnerInit or trainer.state())', `is ${String(state)}`);
    try {
      if (!Number.isInteger(state.batches) || state.batches < 0) throw new InvalidInputError('state.batches', 'an integer ≥ 0', `is ${String(state.batches)}`);
      const params = upload(state.params, this.shapes, 'state.params');
      let theta: Group<A> | null = null;
      if (this.synthShapes !== null) {
        if (state.theta === null || state.theta === undefined) throw new InvalidInputError('state.theta', 'the synthesiser parameters of this method', 'is null');
        theta = upload(state.theta, this.synthShapes, 'state.theta');
      }
      const netOpt = this.uploadOpt(this.config.network, state.networkOpt, this.shapes, 'state.networkOpt', upload);
      const synthOpt: OptState<A> =
        this.synthShapes === null ? { kind: 'frozen' } : this.uploadOpt(this.config.synthesiser, state.synthOpt, this.synthShapes, 'state.synthOpt', upload);
      this.release();
      this.params = params;
      this.theta = theta;
      this.netOpt = netOpt;
      this.synthOpt = synthOpt;
      this.batches = state.batches;
      this.loaded = true;
    } catch (e) {
      for (const a of made) this.ctx.be.dispose(a);
      throw e;
    }
  }

  /** Read the whole learner state back. */
  async toHost(): Promise<LearnerState> {
    const read = (g: Group<A>, shapes: ParamShapes) => readParams(this.ctx.be, g, shapes);
    const opt = async (o: OptState<A>, shapes: ParamShapes): Promise<unknown> => {
      switch (o.kind) {
        case 'frozen':
          return null;
        case 'sgd':
          return {};
        case 'adam':
          return { count: o.count, mu: await read(o.mu, shapes), nu: await read(o.nu, shapes) };
      }
    };
    return {
      params: await read(this.params, this.shapes),
      theta: this.theta === null ? null : await read(this.theta, this.synthShapes!),
      networkOpt: await opt(this.netOpt, this.shapes),
      synthOpt: this.synthShapes === null ? null : await opt(this.synthOpt, this.synthShapes),
      batches: this.batches,
    };
  }

  /**
   * Apply a network gradient (the accumulators of the model's parameters; clipped in place when the config asks)
   * and a synthesiser update (flat [W | b], a direction to add) through the configured optimisers.
   */
  apply(netGrad: Group<A> | null, synthAdd: A | null): void {
    const keys = Object.keys(this.shapes);
    if (netGrad !== null && this.netOpt.kind !== 'frozen') {
      const grads = keys.map((k) => netGrad[k]!);
      if (this.config.gradClip !== undefined) clipByGlobalNorm(this.ctx, grads, this.config.gradClip);
      this.step(this.netOpt, this.config.network, keys.map((k) => this.params[k]!), grads, keys);
    }
    if (synthAdd !== null && this.theta !== null && this.synthOpt.kind !== 'frozen') {
      const skeys = Object.keys(this.synthShapes!);
      // The update is a direction to add; optimisers minimise, so its negative is the gradient.
      let off = 0;
      const grads = skeys.map((k) => {
        const n = size(this.synthShapes![k]!);
        const g = this.ctx.tmp(`synthGrad.${k}`, this.synthShapes![k]!);
        this.ctx.be.copyBlock(this.ctx.be.reshape(g, [n]), synthAdd, { outBegin: [0], xBegin: [off], size: [n] });
        this.ctx.be.binary(g, g, -1, 'mul');
        off += n;
        return g;
      });
      this.step(this.synthOpt, this.config.synthesiser, skeys.map((k) => this.theta![k]!), grads, skeys);
    }
  }

  private step(opt: OptState<A>, spec: OptimiserSpec, params: A[], grads: A[], keys: readonly string[]): void {
    if (opt.kind === 'sgd' && spec.kind === 'sgd') sgdStep(this.ctx, params, grads, spec.lr);
    else if (opt.kind === 'adam' && spec.kind === 'adam') {
      opt.count += 1;
      adamStep(this.ctx, params, grads, keys.map((k) => opt.mu[k]!), keys.map((k) => opt.nu[k]!), adamDefaults(spec), opt.count);
    }
  }

  release(): void {
    const groups: Group<A>[] = [this.params, ...(this.theta === null ? [] : [this.theta])];
    for (const o of [this.netOpt, this.synthOpt]) if (o.kind === 'adam') groups.push(o.mu, o.nu);
    for (const g of groups) for (const a of Object.values(g)) this.ctx.be.dispose(a);
    this.params = {};
    this.theta = null;
    this.netOpt = { kind: 'frozen' };
    this.synthOpt = { kind: 'frozen' };
    this.loaded = false;
  }

  /** Check every tensor of a group first, then upload them all (nothing is uploaded for a group that fails). */
  private upload(p: Params | null | undefined, shapes: ParamShapes, path: string): Group<A> {
    checkParams(p as Params, shapes, path);
    return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, this.ctx.be.upload(hostView(p![k]!.data, s))] as const));
  }

  private uploadOpt(
    spec: OptimiserSpec,
    state: unknown,
    shapes: ParamShapes,
    path: string,
    upload: (p: Params | undefined, shapes: ParamShapes, path: string) => Group<A>,
  ): OptState<A> {
    switch (spec.kind) {
      case 'frozen':
        return { kind: 'frozen' };
      case 'sgd':
        return { kind: 'sgd' };
      case 'adam': {
        const s = state as { count?: unknown; mu?: Params; nu?: Params } | null;
        if (s === null || typeof s !== 'object' || !Number.isInteger(s.count) || (s.count as number) < 0)
          throw new InvalidInputError(path, "Adam's state { count, mu, nu } (from learnerInit)", `is ${JSON.stringify(s)?.slice(0, 60) ?? String(s)}`);
        return { kind: 'adam', count: s.count as number, mu: upload(s.mu, shapes, `${path}.mu`), nu: upload(s.nu, shapes, `${path}.nu`) };
      }
    }
  }
}
