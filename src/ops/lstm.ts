/**
 * The LSTM cell as composites of the generic kernels (the core's `lstmCell`, operation by operation; gates in
 * the order input, forget, candidate, output; s = [h; c]):
 *   z = (x W_ihᵀ + h_{t-1} W_hhᵀ) + b,  i, f, o = σ(z·), g = tanh(z_g),  c = f⊙c_{t-1} + i⊙g,  h = o⊙tanh c,
 *   ψ = o⊙(1 − tanh c ⊙ tanh c),
 * the local derivatives of c (the "posts" of e-prop) di = (g⊙i)⊙(1−i), df = (c_{t-1}⊙f)⊙(1−f), dg = i⊙(1 − g⊙g),
 * and D_t = ∂c_t/∂h_{t-1} = diag(di) W_i + diag(df) W_f + diag(dg) W_g (W_· the gate blocks of W_hh).
 */
import type { CellCache, CellParams, DeviceArray } from '../backends/backend.js';
import { type OpContext, columns, eye, ones, putColumns, rows } from './context.js';

const GATES = ['i', 'f', 'g', 'o'] as const;

export const lstmForward = <A extends DeviceArray>(ctx: OpContext<A>, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void => {
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const hPrev = columns(ctx, 'lstm.h', prev, 0, H);
  const cPrev = columns(ctx, 'lstm.c', prev, H, H);
  const z = ctx.tmp('lstm.z', [B, 4 * H]);
  be.matmul(z, x, params['W_ih']!, { transposeB: true });
  be.matmul(z, hPrev, params['W_hh']!, { transposeB: true, accumulate: true });
  be.binary(z, z, params['b']!, 'add');
  GATES.forEach((gate, q) => be.unary(cache[gate]!, columns(ctx, 'lstm.zq', z, q * H, H), gate === 'g' ? 'tanh' : 'sigmoid'));
  const c = ctx.tmp('lstm.cNew', [B, H]);
  const t = ctx.tmp('lstm.t', [B, H]);
  be.binary(c, cache['f']!, cPrev, 'mul');
  be.binary(t, cache['i']!, cache['g']!, 'mul');
  be.binary(c, c, t, 'add');
  be.unary(cache['tanhC']!, c, 'tanh');
  const h = ctx.tmp('lstm.hNew', [B, H]);
  be.binary(h, cache['o']!, cache['tanhC']!, 'mul');
  be.binary(t, cache['tanhC']!, cache['tanhC']!, 'mul');
  be.binary(t, 1, t, 'sub');
  be.binary(cache['psi']!, cache['o']!, t, 'mul');
  putColumns(ctx, state, h, 0);
  putColumns(ctx, state, c, H);
};

/** The posts di, df, dg [B, H] of a step (scratch arrays). */
export const lstmPosts = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, cache: CellCache<A>): { di: A; df: A; dg: A } => {
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const t = ctx.tmp('lstm.post.t', [B, H]);
  const di = ctx.tmp('lstm.di', [B, H]);
  be.binary(di, cache['g']!, cache['i']!, 'mul');
  be.binary(t, 1, cache['i']!, 'sub');
  be.binary(di, di, t, 'mul');
  const df = ctx.tmp('lstm.df', [B, H]);
  be.binary(df, columns(ctx, 'lstm.post.c', prev, H, H), cache['f']!, 'mul');
  be.binary(t, 1, cache['f']!, 'sub');
  be.binary(df, df, t, 'mul');
  const dg = ctx.tmp('lstm.dg', [B, H]);
  be.binary(t, cache['g']!, cache['g']!, 'mul');
  be.binary(t, 1, t, 'sub');
  be.binary(dg, cache['i']!, t, 'mul');
  return { di, df, dg };
};

/** (tanh c ⊙ o) ⊙ (1 − o), times a signal first when given: the output gate's local derivative. */
const outputPost = <A extends DeviceArray>(ctx: OpContext<A>, key: string, cache: CellCache<A>, signal: A | null): A => {
  const be = ctx.be;
  const [B, H] = cache['o']!.shape as [number, number];
  const out = ctx.tmp(key, [B, H]);
  const t = ctx.tmp(`${key}.t`, [B, H]);
  if (signal === null) be.binary(out, cache['tanhC']!, cache['o']!, 'mul');
  else {
    be.binary(out, signal, cache['tanhC']!, 'mul');
    be.binary(out, out, cache['o']!, 'mul');
  }
  be.binary(t, 1, cache['o']!, 'sub');
  be.binary(out, out, t, 'mul');
  return out;
};

/** D_t = ∂c_t/∂h_{t-1} [B, H, H] into the scratch `key`. */
export const lstmCellInputJacobian = <A extends DeviceArray>(ctx: OpContext<A>, params: CellParams<A>, prev: A, cache: CellCache<A>, key: string): A => {
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const { di, df, dg } = lstmPosts(ctx, prev, cache);
  const D = ctx.tmp(key, [B, H, H]);
  const t = ctx.tmp('lstm.D.t', [B, H, H]);
  const W = params['W_hh']!;
  be.binary(D, be.reshape(di, [B, H, 1]), rows(ctx, 'lstm.Wq', W, 0, H), 'mul');
  be.binary(t, be.reshape(df, [B, H, 1]), rows(ctx, 'lstm.Wq', W, H, H), 'mul');
  be.binary(D, D, t, 'add');
  be.binary(t, be.reshape(dg, [B, H, 1]), rows(ctx, 'lstm.Wq', W, 2 * H, H), 'mul');
  be.binary(D, D, t, 'add');
  return D;
};

/** The full state Jacobian J [B, 2H, 2H] (rows [h; c], columns [h_{t-1}; c_{t-1}]). */
export const lstmJacobian = <A extends DeviceArray>(ctx: OpContext<A>, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void => {
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const D = lstmCellInputJacobian(ctx, params, prev, cache, 'lstm.J.D');
  const oPost = outputPost(ctx, 'lstm.J.o', cache, null);
  const block = ctx.tmp('lstm.J.block', [B, H, H]);
  const t = ctx.tmp('lstm.J.t', [B, H, H]);
  const col = (a: A) => be.reshape(a, [B, H, 1]);
  const put = (x: A, r: number, c: number) => be.copyBlock(out, x, { outBegin: [0, r, c], xBegin: [0, 0, 0], size: [B, H, H] });
  // ∂h/∂h_{t-1} = oPost ⊙ W_o + ψ ⊙ D (row scalings)
  be.binary(block, col(oPost), rows(ctx, 'lstm.Wq', params['W_hh']!, 3 * H, H), 'mul');
  be.binary(t, col(cache['psi']!), D, 'mul');
  be.binary(block, block, t, 'add');
  put(block, 0, 0);
  // ∂h/∂c_{t-1} = diag(ψ ⊙ f), ∂c/∂h_{t-1} = D, ∂c/∂c_{t-1} = diag(f)
  const pf = ctx.tmp('lstm.J.pf', [B, H]);
  be.binary(pf, cache['psi']!, cache['f']!, 'mul');
  be.binary(block, col(pf), eye(ctx, H), 'mul');
  put(block, 0, H);
  put(D, H, 0);
  be.binary(block, col(cache['f']!), eye(ctx, H), 'mul');
  put(block, H, H);
};

/** dz [B, 4H] from a gradient g = [g_h; g_c] [B, 2H] on s_t, s_{t-1} fixed. */
export const lstmPreactGrad = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, cache: CellCache<A>, g: A, dz: A): void => {
  const be = ctx.be;
  const [B, S] = prev.shape as [number, number];
  const H = S / 2;
  const gh = columns(ctx, 'lstm.gh', g, 0, H);
  const gck = columns(ctx, 'lstm.gc', g, H, H);
  const t = ctx.tmp('lstm.pg.t', [B, H]);
  be.binary(t, gh, cache['psi']!, 'mul');
  be.binary(gck, gck, t, 'add');
  const { di, df, dg } = lstmPosts(ctx, prev, cache);
  [di, df, dg].forEach((post, q) => {
    be.binary(t, gck, post, 'mul');
    putColumns(ctx, dz, t, q * H);
  });
  putColumns(ctx, dz, outputPost(ctx, 'lstm.pg.o', cache, gh), 3 * H);
};

/** The e-prop "pre" vector [x_t | h_{t-1} | 1] [B, I + H + 1]. */
const epropPre = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, x: A): A => {
  const [B, I] = x.shape as [number, number];
  const H = prev.shape[1]! / 2;
  const pre = ctx.tmp('lstm.pre', [B, I + H + 1]);
  putColumns(ctx, pre, x, 0);
  ctx.be.copyBlock(pre, prev, { outBegin: [0, I], xBegin: [0, 0], size: [B, H] });
  putColumns(ctx, pre, ones(ctx, B), I + H);
  return pre;
};

/** e-prop traces [B, 3, H, n] of gates i, f, g, in place: ε ← f ⊙ ε + post ⊗ [x | h_{t-1} | 1]. */
export const lstmEpropAdvance = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, x: A, cache: CellCache<A>, traces: A): void => {
  const be = ctx.be;
  const [B, , H, n] = traces.shape as [number, number, number, number];
  const { di, df, dg } = lstmPosts(ctx, prev, cache);
  const posts = ctx.tmp('lstm.posts', [B, 3, H]);
  [di, df, dg].forEach((p, q) => be.copyBlock(posts, be.reshape(p, [B, 1, H]), { outBegin: [0, q, 0], xBegin: [0, 0, 0], size: [B, 1, H] }));
  const pre = epropPre(ctx, prev, x);
  const t = ctx.tmp('lstm.ep.t', [B, 3, H, n]);
  be.binary(traces, traces, be.reshape(cache['f']!, [B, 1, H, 1]), 'mul');
  be.binary(t, be.reshape(posts, [B, 3, H, 1]), be.reshape(pre, [B, 1, 1, n]), 'mul');
  be.binary(traces, traces, t, 'add');
};

/**
 * The e-prop gradient of step t for a learning signal L [B, H] on h_t, per example [B, 4H, I + H + 1] (columns
 * [W_ih | W_hh | b]) into the scratch `key`: rows of gates i, f, g are (L ⊙ ψ) ⊙ ε, the output gate's
 * (L ⊙ tanh c ⊙ o ⊙ (1 − o)) ⊗ [x | h_{t-1} | 1].
 */
export const lstmEpropGradient = <A extends DeviceArray>(ctx: OpContext<A>, prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, key: string): A => {
  const be = ctx.be;
  const [B, , H, n] = traces.shape as [number, number, number, number];
  const G = ctx.tmp(key, [B, 4 * H, n]);
  const s = ctx.tmp('lstm.eg.s', [B, H]);
  be.binary(s, signal, cache['psi']!, 'mul');
  const g3 = ctx.tmp('lstm.eg.g3', [B, 3, H, n]);
  be.binary(g3, be.reshape(s, [B, 1, H, 1]), traces, 'mul');
  be.copyBlock(G, be.reshape(g3, [B, 3 * H, n]), { outBegin: [0, 0, 0], xBegin: [0, 0, 0], size: [B, 3 * H, n] });
  const so = outputPost(ctx, 'lstm.eg.o', cache, signal);
  const go = ctx.tmp('lstm.eg.go', [B, H, n]);
  be.binary(go, be.reshape(so, [B, H, 1]), be.reshape(epropPre(ctx, prev, x), [B, 1, n]), 'mul');
  be.copyBlock(G, go, { outBegin: [0, 3 * H, 0], xBegin: [0, 0, 0], size: [B, H, n] });
  return G;
};
