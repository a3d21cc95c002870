/**
 * Optimisers and gradient rules as pure `init`/`update` pairs (optax-style). `update` takes gradients (of a loss
 * to minimise) and returns updates to add to the parameters, with the next state. Nothing is mutated.
 */
import { type Params, type Tensor, addParams, paramsNorm, scaleParams, zipParams } from './tensor.js';

export interface GradientTransformation<S> {
  init(params: Params): S;
  update(grads: Params, state: S, params?: Params): [Params, S];
}

export const applyUpdates = (params: Params, updates: Params): Params => addParams(params, updates);

/** Plain SGD: update = −lr · grad. */
export const sgd = (lr: number): GradientTransformation<Record<string, never>> => ({
  init: () => ({}),
  update: (grads, state) => [scaleParams(grads, -lr), state],
});

export interface AdamOptions {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/** The authors' Adam settings (spec §8.7): betas (0.9, 0.98), eps 1e-9. */
export const AUTHORS_ADAM = { beta1: 0.9, beta2: 0.98, eps: 1e-9 } as const;

export interface AdamState {
  readonly count: number;
  readonly mu: Params;
  readonly nu: Params;
}

/** Adam (Kingma & Ba 2014) with bias correction, as torch.optim.Adam (defaults β = (0.9, 0.999), ε = 1e-8). */
export const adam = (options: AdamOptions): GradientTransformation<AdamState> => {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  return {
    init: (params) => ({ count: 0, mu: scaleParams(params, 0), nu: scaleParams(params, 0) }),
    update(grads, state) {
      const count = state.count + 1;
      const mu = zipParams(state.mu, grads, (m, g) => ({ shape: m.shape, data: m.data.map((v, i) => beta1 * v + (1 - beta1) * g.data[i]!) }));
      const nu = zipParams(state.nu, grads, (n, g) => ({
        shape: n.shape,
        data: n.data.map((v, i) => beta2 * v + (1 - beta2) * (g.data[i]! * g.data[i]!)),
      }));
      const c1 = 1 - beta1 ** count;
      const c2 = 1 - beta2 ** count;
      const updates = zipParams(mu, nu, (m, n): Tensor => ({
        shape: m.shape,
        data: m.data.map((mv, i) => (-lr * (mv / c1)) / (Math.sqrt(n.data[i]! / c2) + eps)),
      }));
      return [updates, { count, mu, nu }];
    },
  };
};

/** Rescale the whole gradient record to global L2 norm ≤ maxNorm. */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<Record<string, never>> => ({
  init: () => ({}),
  update(grads, state) {
    const n = paramsNorm(grads);
    // Stryker disable next-line EqualityOperator: at n = maxNorm the scale is exactly 1 (x·1 = x), so >= gives the same values.
    return [n > maxNorm ? scaleParams(grads, maxNorm / n) : grads, state];
  },
});

/** Compose transformations left to right, threading a tuple of states. */
export const chain = (...txs: readonly GradientTransformation<unknown>[]): GradientTransformation<unknown[]> => ({
  init: (params) => txs.map((tx) => tx.init(params)),
  update(grads, states, params) {
    let g = grads;
    const next = txs.map((tx, i) => {
      const [u, s] = tx.update(g, states[i], params);
      g = u;
      return s;
    });
    return [g, next];
  },
});
