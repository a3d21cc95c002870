/**
 * The float64 reference backend: plain loops over Float64Array that perform, operation by operation and in
 * the same order, the arithmetic of the reference core (`src/core`). The engine on this backend reproduces the
 * core's `trainBatch` exactly; every other backend is held to it by the conformance suite.
 *
 * Clarity over speed: scratch is allocated per call, and every reduction runs from +0 in ascending index order
 * as the core's `matvec`, `vecmat`, `matmul`, `meanParams` and `meanVec` do.
 */
import type { NdArray } from 'ndarray';
import { type LossKind, lossAndGrad } from '../core/model.js';
import { activationFns } from '../core/rnn.js';
import {
  type Backend,
  type CellCache,
  type CellParams,
  type CellSpec,
  type DeviceArray,
  type HostNdArray,
  type ImmediateJacobian,
  type MemoryInfo,
  type Reduce,
  unitRoundoff,
} from './backend.js';
import { BackendArrayError } from './errors.js';
import { HostPool, type HostDeviceArray, axpyInto, checkSameSize, clipSegmentsInPlace, mulInto, scaleInto, subInto } from './host.js';

type F = Float64Array;
type A = HostDeviceArray<F>;

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

export class ReferenceBackend implements Backend<A> {
  readonly name = 'reference';
  readonly mode = 'js-f64';
  readonly precision = 64 as const;
  readonly epsilon = unitRoundoff(64);
  private readonly pool = new HostPool<F>('reference', (n) => new Float64Array(n));

  // -- data ----------------------------------------------------------------------------------------------------
  alloc(shape: readonly number[]): A {
    return this.pool.alloc(shape);
  }
  upload(x: NdArray): A {
    return this.pool.upload(x);
  }
  write(dst: A, x: NdArray): void {
    this.pool.write(dst, x);
  }
  read(a: A): HostNdArray {
    return this.pool.read(a);
  }
  zero(a: A): void {
    this.pool.data('zero', a).fill(0);
  }
  copy(dst: A, src: A): void {
    this.d('copy', dst, src.shape).set(this.d('copy', src));
  }
  dispose(a: A): void {
    this.pool.dispose(a);
  }
  memory(): MemoryInfo {
    return this.pool.memory();
  }
  destroy(): void {}

  private readonly traces = new WeakSet<DeviceArray>();
  /** Data of a non-trace array (traces are for the trace ops, read, write, zero, dispose only). */
  private d(op: string, a: DeviceArray, shape?: readonly number[]): F {
    if (this.traces.has(a)) throw new BackendArrayError(op, 'a trace can only be used by the trace ops, read, write, zero and dispose');
    return this.pool.data(op, a, shape);
  }
  /** Data of a trace. */
  private t(op: string, a: DeviceArray): F {
    if (!this.traces.has(a)) throw new BackendArrayError(op, `array [${a.shape.join(', ')}] is not a trace (use allocTrace)`);
    return this.pool.data(op, a);
  }

  // -- elementwise ---------------------------------------------------------------------------------------------
  axpy(out: A, a: A, alpha: number, b: A): void {
    checkSameSize('axpy', out, a, b);
    axpyInto(this.d('axpy', out), this.d('axpy', a), alpha, this.d('axpy', b));
  }
  sub(out: A, a: A, b: A): void {
    checkSameSize('sub', out, a, b);
    subInto(this.d('sub', out), this.d('sub', a), this.d('sub', b));
  }
  mul(out: A, a: A, b: A): void {
    checkSameSize('mul', out, a, b);
    mulInto(this.d('mul', out), this.d('mul', a), this.d('mul', b));
  }
  scale(out: A, a: A, alpha: number): void {
    checkSameSize('scale', out, a);
    scaleInto(this.d('scale', out), this.d('scale', a), alpha);
  }

  // -- reductions ----------------------------------------------------------------------------------------------
  batchMean(out: A, x: A, accumulate: boolean): void {
    const B = x.shape[0]!;
    const n = out.size;
    const o = this.d('batchMean', out);
    const xs = this.d('batchMean', x);
    if (xs.length !== B * n) throw new BackendArrayError('batchMean', `x [${x.shape.join(', ')}] is not [B, ${n}]`);
    const inv = 1 / Math.max(1, B);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let b = 0; b < B; b++) s = s + xs[b * n + j]!;
      const m = s * inv;
      o[j] = accumulate ? o[j]! + m : m;
    }
  }
  clipSegments(a: A, segments: readonly number[], maxNorm: number): void {
    clipSegmentsInPlace('clipSegments', this.d('clipSegments', a), segments, maxNorm);
  }

  // -- linear algebra ------------------------------------------------------------------------------------------
  linear(out: A, x: A, W: A, bias: A | null, accumulate: boolean): void {
    const [n, k] = W.shape as [number, number];
    const B = x.shape[0]!;
    const kx = x.shape[1]!;
    if (kx < k) throw new BackendArrayError('linear', `x has ${kx} columns, W needs ${k}`);
    const o = this.d('linear', out, [B, n]);
    const xs = this.d('linear', x);
    const w = this.d('linear', W);
    const bs = bias === null ? null : this.d('linear', bias, [n]);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += w[i * k + j]! * xs[b * kx + j]!;
        let r = accumulate ? o[b * n + i]! + s : s;
        if (bs !== null) r += bs[i]!;
        o[b * n + i] = r;
      }
    }
  }
  vecmat(out: A, v: A, M: A): void {
    const [B, k] = v.shape as [number, number];
    const shared = M.shape.length === 2;
    const n = M.shape[M.shape.length - 1]!;
    if (M.shape[M.shape.length - 2] !== k || (!shared && M.shape[0] !== B))
      throw new BackendArrayError('vecmat', `v [${v.shape.join(', ')}] and M [${M.shape.join(', ')}] do not match`);
    const nOut = out.shape[1]!;
    if (out.shape[0] !== B || nOut < n) throw new BackendArrayError('vecmat', `out [${out.shape.join(', ')}] is not [${B}, ≥${n}]`);
    const o = this.d('vecmat', out);
    const vs = this.d('vecmat', v);
    const m = this.d('vecmat', M);
    for (let b = 0; b < B; b++) {
      const mo = shared ? 0 : b * k * n;
      const row = new Float64Array(n);
      for (let i = 0; i < k; i++) {
        const vi = vs[b * k + i]!;
        for (let j = 0; j < n; j++) row[j] += vi * m[mo + i * n + j]!;
      }
      for (let j = 0; j < nOut; j++) o[b * nOut + j] = j < n ? row[j]! : 0;
    }
  }
  outerAccumulate(out: A, u: A, v: A, reduce: Reduce): void {
    const [B, m] = u.shape as [number, number];
    const nv = v.shape[1]!;
    const n = out.shape[out.shape.length - 1]!;
    const expect = reduce === 'each' ? [B, m, n] : [m, n];
    const o = this.d('outerAccumulate', out, expect);
    const us = this.d('outerAccumulate', u);
    const vs = this.d('outerAccumulate', v);
    if (v.shape[0] !== B || nv < n) throw new BackendArrayError('outerAccumulate', `v [${v.shape.join(', ')}] is not [${B}, ≥${n}]`);
    if (reduce === 'each') {
      for (let b = 0; b < B; b++)
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o[(b * m + i) * n + j] = o[(b * m + i) * n + j]! + us[b * m + i]! * vs[b * nv + j]!;
      return;
    }
    const inv = 1 / Math.max(1, B);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let b = 0; b < B; b++) s = s + us[b * m + i]! * vs[b * nv + j]!;
        o[i * n + j] = o[i * n + j]! + s * inv;
      }
  }
  rowAccumulate(out: A, u: A, reduce: Reduce): void {
    const [B, mu] = u.shape as [number, number];
    const m = out.shape[out.shape.length - 1]!;
    const o = this.d('rowAccumulate', out, reduce === 'each' ? [B, m] : [m]);
    const us = this.d('rowAccumulate', u);
    if (mu < m) throw new BackendArrayError('rowAccumulate', `u has ${mu} columns, out needs ${m}`);
    if (reduce === 'each') {
      for (let b = 0; b < B; b++) for (let i = 0; i < m; i++) o[b * m + i] = o[b * m + i]! + us[b * mu + i]!;
      return;
    }
    const inv = 1 / Math.max(1, B);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let b = 0; b < B; b++) s = s + us[b * mu + i]!;
      o[i] = o[i]! + s * inv;
    }
  }

  // -- cells ---------------------------------------------------------------------------------------------------
  cellForward(spec: CellSpec, params: CellParams<A>, prev: A, x: A, state: A, cache: CellCache<A>): void {
    const B = prev.shape[0]!;
    if (spec.type === 'rnn') {
      const H = prev.shape[1]!;
      const a = this.d('cellForward', cache['a']!, [B, H]);
      const fp = this.d('cellForward', cache['fp']!, [B, H]);
      const s = this.d('cellForward', state, [B, H]);
      // a = (W_in x + W_rec h) + b, as vadd(vadd(matvec, matvec), b)
      this.linear(cache['a']!, x, params['W_in']!, null, false);
      this.linear(cache['a']!, prev, params['W_rec']!, params['b']!, true);
      const act = activationFns[spec.activation];
      for (let i = 0; i < a.length; i++) {
        s[i] = act.f(a[i]!);
        fp[i] = act.df(a[i]!);
      }
      return;
    }
    const H = prev.shape[1]! / 2;
    const z = this.alloc([B, 4 * H]);
    this.linear(z, x, params['W_ih']!, null, false);
    this.linear(z, prev, params['W_hh']!, params['b']!, true); // reads the first H columns of prev: h_{t-1}
    const zs = this.d('cellForward', z);
    const pv = this.d('cellForward', prev);
    const st = this.d('cellForward', state, [B, 2 * H]);
    const [i, f, g, o, tanhC, psi] = ['i', 'f', 'g', 'o', 'tanhC', 'psi'].map((k) => this.d('cellForward', cache[k]!, [B, H])) as [F, F, F, F, F, F];
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const zb = b * 4 * H;
        i[q] = sigmoid(zs[zb + k]!);
        f[q] = sigmoid(zs[zb + H + k]!);
        g[q] = Math.tanh(zs[zb + 2 * H + k]!);
        o[q] = sigmoid(zs[zb + 3 * H + k]!);
        const c = f[q]! * pv[b * 2 * H + H + k]! + i[q]! * g[q]!;
        tanhC[q] = Math.tanh(c);
        psi[q] = o[q]! * (1 - tanhC[q]! ** 2);
        st[b * 2 * H + k] = o[q]! * tanhC[q]!;
        st[b * 2 * H + H + k] = c;
      }
    }
    this.dispose(z);
  }

  /** LSTM: D_t = ∂c_t/∂h_{t-1} for one example into d (H×H), as the core's lstmCellInputJacobian. */
  private lstmD(w: F, H: number, b: number, pv: F, c: Record<string, F>, d: F): void {
    for (let k = 0; k < H; k++) {
      const q = b * H + k;
      const ik = c['i']![q]!;
      const fk = c['f']![q]!;
      const gk = c['g']![q]!;
      const di = gk * ik * (1 - ik);
      const df = pv[b * 2 * H + H + k]! * fk * (1 - fk);
      const dg = ik * (1 - gk ** 2);
      for (let j = 0; j < H; j++) d[k * H + j] = di * w[k * H + j]! + df * w[(H + k) * H + j]! + dg * w[(2 * H + k) * H + j]!;
    }
  }
  private cacheData(op: string, spec: CellSpec, cache: CellCache<A>): Record<string, F> {
    const names = spec.type === 'rnn' ? ['a', 'fp'] : ['i', 'f', 'g', 'o', 'tanhC', 'psi'];
    return Object.fromEntries(names.map((k) => [k, this.d(op, cache[k]!)]));
  }

  cellJacobian(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, out: A): void {
    const B = prev.shape[0]!;
    const S = prev.shape[1]!;
    const J = this.d('cellJacobian', out, [B, S, S]);
    const c = this.cacheData('cellJacobian', spec, cache);
    if (spec.type === 'rnn') {
      const w = this.d('cellJacobian', params['W_rec']!);
      const fp = c['fp']!;
      for (let b = 0; b < B; b++)
        for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) J[(b * S + i) * S + j] = fp[b * S + i]! * w[i * S + j]!;
      return;
    }
    const H = S / 2;
    const w = this.d('cellJacobian', params['W_hh']!);
    const pv = this.d('cellJacobian', prev);
    const D = new Float64Array(H * H);
    J.fill(0);
    for (let b = 0; b < B; b++) {
      this.lstmD(w, H, b, pv, c, D);
      const base = b * S * S;
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const oPost = c['tanhC']![q]! * c['o']![q]! * (1 - c['o']![q]!);
        const psi = c['psi']![q]!;
        for (let j = 0; j < H; j++) {
          const dcdh = D[k * H + j]!;
          J[base + k * S + j] = oPost * w[(3 * H + k) * H + j]! + psi * dcdh;
          J[base + (H + k) * S + j] = dcdh;
        }
        J[base + k * S + H + k] = psi * c['f']![q]!;
        J[base + (H + k) * S + H + k] = c['f']![q]!;
      }
    }
  }
  cellStateVjp(spec: CellSpec, params: CellParams<A>, prev: A, cache: CellCache<A>, g: A, out: A): void {
    const [B, S] = prev.shape as [number, number];
    const J = this.alloc([B, S, S]);
    this.cellJacobian(spec, params, prev, cache, J);
    this.vecmat(out, g, J);
    this.dispose(J);
  }
  cellPreactGrad(spec: CellSpec, prev: A, cache: CellCache<A>, g: A, dz: A): void {
    const [B, S] = prev.shape as [number, number];
    const gs = this.d('cellPreactGrad', g, [B, S]);
    const c = this.cacheData('cellPreactGrad', spec, cache);
    if (spec.type === 'rnn') {
      const out = this.d('cellPreactGrad', dz, [B, S]);
      const fp = c['fp']!;
      for (let i = 0; i < out.length; i++) out[i] = gs[i]! * fp[i]!;
      return;
    }
    const H = S / 2;
    const out = this.d('cellPreactGrad', dz, [B, 4 * H]);
    const pv = this.d('cellPreactGrad', prev);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const ik = c['i']![q]!;
        const fk = c['f']![q]!;
        const gk = c['g']![q]!;
        const ok = c['o']![q]!;
        const di = gk * ik * (1 - ik);
        const df = pv[b * S + H + k]! * fk * (1 - fk);
        const dg = ik * (1 - gk ** 2);
        const gh = gs[b * S + k]!;
        const gck = gs[b * S + H + k]! + gh * c['psi']![q]!;
        const zb = b * 4 * H;
        out[zb + k] = gck * di;
        out[zb + H + k] = gck * df;
        out[zb + 2 * H + k] = gck * dg;
        out[zb + 3 * H + k] = gh * c['tanhC']![q]! * ok * (1 - ok);
      }
    }
  }
  lstmCellJacobians(params: CellParams<A>, prev: A, cache: CellCache<A>, psiPrev: A, C: A, D: A): void {
    const [B, S] = prev.shape as [number, number];
    const H = S / 2;
    const w = this.d('lstmCellJacobians', params['W_hh']!);
    const pv = this.d('lstmCellJacobians', prev);
    const c = this.cacheData('lstmCellJacobians', { type: 'lstm' }, cache);
    const pp = this.d('lstmCellJacobians', psiPrev, [B, H]);
    const Cs = this.d('lstmCellJacobians', C, [B, H, H]);
    const Ds = this.d('lstmCellJacobians', D, [B, H, H]);
    const d = new Float64Array(H * H);
    for (let b = 0; b < B; b++) {
      this.lstmD(w, H, b, pv, c, d);
      const base = b * H * H;
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) {
          Ds[base + i * H + j] = d[i * H + j]!;
          Cs[base + i * H + j] = d[i * H + j]! * pp[b * H + j]!;
        }
        Cs[base + i * H + i] = Cs[base + i * H + i]! + c['f']![b * H + i]!;
      }
    }
  }
  epropAdvance(prev: A, x: A, cache: CellCache<A>, traces: A): void {
    const [B, S] = prev.shape as [number, number];
    const H = S / 2;
    const I = x.shape[1]!;
    const n = I + H + 1;
    const E = this.d('epropAdvance', traces, [B, 3, H, n]);
    const pv = this.d('epropAdvance', prev);
    const xs = this.d('epropAdvance', x);
    const c = this.cacheData('epropAdvance', { type: 'lstm' }, cache);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const ik = c['i']![q]!;
        const fk = c['f']![q]!;
        const gk = c['g']![q]!;
        const posts = [gk * ik * (1 - ik), pv[b * S + H + k]! * fk * (1 - fk), ik * (1 - gk ** 2)];
        for (let gate = 0; gate < 3; gate++) {
          const post = posts[gate]!;
          const row = ((b * 3 + gate) * H + k) * n;
          for (let j = 0; j < I; j++) E[row + j] = fk * E[row + j]! + post * xs[b * I + j]!;
          for (let j = 0; j < H; j++) E[row + I + j] = fk * E[row + I + j]! + post * pv[b * S + j]!;
          E[row + I + H] = fk * E[row + I + H]! + post * 1;
        }
      }
    }
  }
  epropGradient(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>, accumulate: boolean): void {
    const [B, S] = prev.shape as [number, number];
    const H = S / 2;
    const I = x.shape[1]!;
    const n = I + H + 1;
    const E = this.d('epropGradient', traces, [B, 3, H, n]);
    const pv = this.d('epropGradient', prev);
    const xs = this.d('epropGradient', x);
    const L = this.d('epropGradient', signal);
    const ls = signal.shape[1]!;
    const c = this.cacheData('epropGradient', { type: 'lstm' }, cache);
    const gih = this.d('epropGradient', out['W_ih']!, [B, 4 * H, I]);
    const ghh = this.d('epropGradient', out['W_hh']!, [B, 4 * H, H]);
    const gb = this.d('epropGradient', out['b']!, [B, 4 * H]);
    const put = (arr: F, idx: number, v: number) => {
      arr[idx] = accumulate ? arr[idx]! + v : v;
    };
    for (let b = 0; b < B; b++) {
      for (let gate = 0; gate < 3; gate++) {
        for (let k = 0; k < H; k++) {
          const q = b * H + k;
          const s = L[b * ls + k]! * c['psi']![q]!;
          const row = gate * H + k;
          const tr = ((b * 3 + gate) * H + k) * n;
          for (let j = 0; j < I; j++) put(gih, (b * 4 * H + row) * I + j, s * E[tr + j]!);
          for (let j = 0; j < H; j++) put(ghh, (b * 4 * H + row) * H + j, s * E[tr + I + j]!);
          put(gb, b * 4 * H + row, s * E[tr + I + H]!);
        }
      }
      for (let k = 0; k < H; k++) {
        const q = b * H + k;
        const s = L[b * ls + k]! * c['tanhC']![q]! * c['o']![q]! * (1 - c['o']![q]!);
        const row = 3 * H + k;
        for (let j = 0; j < I; j++) put(gih, (b * 4 * H + row) * I + j, s * xs[b * I + j]!);
        for (let j = 0; j < H; j++) put(ghh, (b * 4 * H + row) * H + j, s * pv[b * S + j]!);
        put(gb, b * 4 * H + row, s);
      }
    }
  }

  epropGradientMean(prev: A, x: A, cache: CellCache<A>, traces: A, signal: A, out: CellParams<A>): void {
    // Per-example gradients, then (Σ_b from +0)·(1/B) added: the core's meanParams of the per-example records.
    const B = prev.shape[0]!;
    const tmp = Object.fromEntries(Object.entries(out).map(([k, a]) => [k, this.alloc([B, ...a.shape])]));
    this.epropGradient(prev, x, cache, traces, signal, tmp, false);
    for (const [k, a] of Object.entries(out)) {
      this.batchMean(a, tmp[k]!, true);
      this.dispose(tmp[k]!);
    }
  }

  // -- loss ----------------------------------------------------------------------------------------------------
  lossGrad(kind: LossKind, yHat: A, y: A, mask: A, loss: A, dy: A): void {
    const [B, O] = yHat.shape as [number, number];
    const yh = this.d('lossGrad', yHat);
    const ys = this.d('lossGrad', y, [B, O]);
    const ms = this.d('lossGrad', mask, [B]);
    const ls = this.d('lossGrad', loss, [B]);
    const ds = this.d('lossGrad', dy, [B, O]);
    for (let b = 0; b < B; b++) {
      if (ms[b] === 0) {
        ls[b] = 0;
        ds.fill(0, b * O, (b + 1) * O);
        continue;
      }
      const r = lossAndGrad(kind, yh.slice(b * O, (b + 1) * O), ys.slice(b * O, (b + 1) * O));
      ls[b] = r.loss;
      ds.set(r.dy, b * O);
    }
  }

  // -- traces --------------------------------------------------------------------------------------------------
  allocTrace(batch: number, rows: number, cols: number): A {
    const a = this.alloc([batch, rows, cols]);
    this.traces.add(a);
    return a;
  }
  traceSet(E: A, imm: ImmediateJacobian<A>): void {
    const [B, R, P] = E.shape as [number, number, number];
    const e = this.t('traceSet', E);
    const s = this.d('traceSet', imm.input);
    const n = imm.input.shape[1]!;
    if (P !== R * n + R) throw new BackendArrayError('traceSet', `trace has ${P} columns, a linear synthesiser ${R}×${n} has ${R * n + R}`);
    e.fill(0);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < R; i++) {
        for (let k = 0; k < n; k++) e[(b * R + i) * P + i * n + k] = s[b * n + k]!;
        e[(b * R + i) * P + R * n + i] = 1;
      }
  }
  traceUpdate(E: A, J: A, decay: number, imm: ImmediateJacobian<A>, contract?: { readonly delta: A; readonly out: A }): void {
    if (contract !== undefined) this.traceContract(contract.out, contract.delta, E);
    const [B, R, P] = E.shape as [number, number, number];
    const e = this.t('traceUpdate', E);
    const j = this.d('traceUpdate', J, [B, R, R]);
    const s = this.d('traceUpdate', imm.input);
    const n = imm.input.shape[1]!;
    if (P !== R * n + R) throw new BackendArrayError('traceUpdate', `trace has ${P} columns, a linear synthesiser ${R}×${n} has ${R * n + R}`);
    const M = new Float64Array(R * P);
    for (let b = 0; b < B; b++) {
      const eb = b * R * P;
      M.fill(0);
      // M = J E (the core's matmul: i, p, j loops, Σ_p from +0)
      for (let i = 0; i < R; i++)
        for (let p = 0; p < R; p++) {
          const jip = j[(b * R + i) * R + p]!;
          if (jip === 0) continue;
          for (let q = 0; q < P; q++) M[i * P + q] += jip * e[eb + p * P + q]!;
        }
      // E = ∇θĝ + decay · M, ∇θĝ block diagonal: s on the W block of row i, 1 on its bias column
      for (let i = 0; i < R; i++)
        for (let q = 0; q < P; q++) {
          const w = q < R * n ? (Math.floor(q / n) === i ? s[b * n + (q % n)]! : 0) : q - R * n === i ? 1 : 0;
          e[eb + i * P + q] = w + decay * M[i * P + q]!;
        }
    }
  }
  traceContract(out: A, delta: A, E: A): void {
    const [B, R, P] = E.shape as [number, number, number];
    const o = this.d('traceContract', out, [P]);
    const dl = this.d('traceContract', delta, [B, R]);
    const e = this.t('traceContract', E);
    const acc = new Float64Array(P);
    const c = new Float64Array(P);
    for (let b = 0; b < B; b++) {
      c.fill(0);
      for (let i = 0; i < R; i++) {
        const di = dl[b * R + i]!;
        for (let q = 0; q < P; q++) c[q] += di * e[(b * R + i) * P + q]!;
      }
      for (let q = 0; q < P; q++) acc[q] = acc[q]! + c[q]!;
    }
    const inv = 1 / Math.max(1, B);
    for (let q = 0; q < P; q++) o[q] = acc[q]! * inv;
  }
}

export const referenceBackend = (): ReferenceBackend => new ReferenceBackend();
