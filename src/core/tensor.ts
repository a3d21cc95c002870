/**
 * Plain, immutable float64 tensors and parameter records.
 *
 * A `Tensor` is a readonly record `{ shape, data }` over a row-major `Float64Array`. Parameters are
 * readonly records of named tensors (`Params`). Every function here returns fresh arrays and never writes
 * into an argument: the reference core is the oracle, so clarity comes first.
 */

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A matrix: a rank-2 tensor, row-major. */
export interface Mat extends Tensor {
  readonly shape: readonly [number, number];
}

export type Params = Readonly<Record<string, Tensor>>;

/** Shapes of a parameter record, in a fixed key order (the order used to flatten it). */
export type ParamShapes = Readonly<Record<string, readonly number[]>>;

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const tensor = (shape: readonly number[], data?: Float64Array | readonly number[]): Tensor => {
  const n = size(shape);
  const d = data === undefined ? new Float64Array(n) : Float64Array.from(data);
  if (d.length !== n) throw new RangeError(`tensor data has ${d.length} entries, shape ${shape.join('x')} needs ${n}`);
  return { shape: [...shape], data: d };
};

export const mat = (rows: number, cols: number, data?: Float64Array | readonly number[]): Mat =>
  tensor([rows, cols], data) as Mat;

export const zerosLike = (t: Tensor): Tensor => ({ shape: t.shape, data: new Float64Array(t.data.length) });

/** Matrix from an array of rows (as in the JSON case format). */
export const fromRows = (rows: readonly (readonly number[])[], cols?: number): Mat => {
  const c = cols ?? rows[0]?.length ?? 0;
  const out = new Float64Array(rows.length * c);
  rows.forEach((r, i) => out.set(r, i * c));
  return { shape: [rows.length, c], data: out };
};

/** Array of rows from a matrix (for JSON output). */
export const toRows = (m: Tensor): number[][] => {
  const [r, c] = m.shape.length === 2 ? (m.shape as [number, number]) : [1, m.data.length];
  return Array.from({ length: r }, (_, i) => Array.from(m.data.subarray(i * c, (i + 1) * c)));
};

// ---------------------------------------------------------------------------------------------------
// Vector helpers (Float64Array in, fresh Float64Array out)

export const vzeros = (n: number): Float64Array => new Float64Array(n);

export const vadd = (a: Float64Array, b: Float64Array): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! + b[i]!;
  return o;
};

export const vsub = (a: Float64Array, b: Float64Array): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! - b[i]!;
  return o;
};

export const vscale = (a: Float64Array, s: number): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! * s;
  return o;
};

/** a + s·b */
export const vaxpy = (a: Float64Array, s: number, b: Float64Array): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! + s * b[i]!;
  return o;
};

export const vmul = (a: Float64Array, b: Float64Array): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! * b[i]!;
  return o;
};

export const vdot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export const vnorm = (a: Float64Array): number => Math.sqrt(vdot(a, a));

export const vconcat = (...parts: Float64Array[]): Float64Array => {
  const o = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    o.set(p, off);
    off += p.length;
  }
  return o;
};

export const vmap = (a: Float64Array, f: (x: number) => number): Float64Array => {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = f(a[i]!);
  return o;
};

/** Cosine similarity; 0 when either vector is zero. */
export const cosine = (a: Float64Array, b: Float64Array): number => {
  const na = vnorm(a);
  const nb = vnorm(b);
  return na === 0 || nb === 0 ? 0 : vdot(a, b) / (na * nb);
};

// ---------------------------------------------------------------------------------------------------
// Matrix helpers

/** M x (column vector). */
export const matvec = (m: Tensor, x: Float64Array): Float64Array => {
  const [r, c] = m.shape as [number, number];
  const o = new Float64Array(r);
  const d = m.data;
  for (let i = 0; i < r; i++) {
    let s = 0;
    const row = i * c;
    for (let j = 0; j < c; j++) s += d[row + j]! * x[j]!;
    o[i] = s;
  }
  return o;
};

/** vᵀ M (row vector times matrix): carries a gradient on the outputs of M back to its inputs. */
export const vecmat = (v: Float64Array, m: Tensor): Float64Array => {
  const [r, c] = m.shape as [number, number];
  const o = new Float64Array(c);
  const d = m.data;
  for (let i = 0; i < r; i++) {
    const vi = v[i]!;
    if (vi === 0) continue;
    const row = i * c;
    for (let j = 0; j < c; j++) o[j] += vi * d[row + j]!;
  }
  return o;
};

/** A B for matrices. */
export const matmul = (a: Tensor, b: Tensor): Mat => {
  const [r, k] = a.shape as [number, number];
  const [k2, c] = b.shape as [number, number];
  if (k !== k2) throw new RangeError(`matmul: inner sizes ${k} and ${k2} differ`);
  const o = new Float64Array(r * c);
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < r; i++) {
    for (let p = 0; p < k; p++) {
      const aip = ad[i * k + p]!;
      if (aip === 0) continue;
      const brow = p * c;
      const orow = i * c;
      for (let j = 0; j < c; j++) o[orow + j] += aip * bd[brow + j]!;
    }
  }
  return { shape: [r, c], data: o };
};

/** u vᵀ (outer product) as an r×c matrix. */
export const outer = (u: Float64Array, v: Float64Array): Mat => {
  const o = new Float64Array(u.length * v.length);
  for (let i = 0; i < u.length; i++) {
    const ui = u[i]!;
    if (ui === 0) continue;
    for (let j = 0; j < v.length; j++) o[i * v.length + j] = ui * v[j]!;
  }
  return { shape: [u.length, v.length], data: o };
};

export const identity = (n: number): Mat => {
  const o = new Float64Array(n * n);
  for (let i = 0; i < n; i++) o[i * n + i] = 1;
  return { shape: [n, n], data: o };
};

/** Rows [r0, r1) of a matrix, as a copy. */
export const rowBlock = (m: Tensor, r0: number, r1: number): Mat => {
  const c = m.shape[1]!;
  return { shape: [r1 - r0, c], data: m.data.slice(r0 * c, r1 * c) };
};

// ---------------------------------------------------------------------------------------------------
// Tensor and parameter-record helpers

export const tadd = (a: Tensor, b: Tensor): Tensor => ({ shape: a.shape, data: vadd(a.data, b.data) });
export const tscale = (a: Tensor, s: number): Tensor => ({ shape: a.shape, data: vscale(a.data, s) });

export const mapParams = (p: Params, f: (t: Tensor, name: string) => Tensor): Params =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, f(v, k)]));

/** Combine two records with the same keys, key by key. */
export const zipParams = (a: Params, b: Params, f: (x: Tensor, y: Tensor, name: string) => Tensor): Params =>
  Object.fromEntries(
    Object.entries(a).map(([k, v]) => {
      const w = b[k];
      if (w === undefined) throw new RangeError(`parameter ${k} is missing from the second record`);
      return [k, f(v, w, k)];
    }),
  );

export const addParams = (a: Params, b: Params): Params => zipParams(a, b, tadd);
export const scaleParams = (a: Params, s: number): Params => mapParams(a, (t) => tscale(t, s));
export const zerosParams = (shapes: ParamShapes): Params =>
  Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tensor(s)]));

/** Sum of a list of records with the same keys (the first fixes the keys). */
export const sumParams = (list: readonly Params[], shapes: ParamShapes): Params =>
  list.reduce<Params>((acc, p) => addParams(acc, p), zerosParams(shapes));

export const meanParams = (list: readonly Params[], shapes: ParamShapes): Params =>
  scaleParams(sumParams(list, shapes), 1 / Math.max(1, list.length));

export const paramCount = (shapes: ParamShapes): number =>
  Object.values(shapes).reduce((n, s) => n + size(s), 0);

/** Flatten a record in the key order of `shapes`. */
export const flattenParams = (p: Params, shapes: ParamShapes): Float64Array => {
  const out = new Float64Array(paramCount(shapes));
  let off = 0;
  for (const [k, s] of Object.entries(shapes)) {
    const t = p[k];
    if (t === undefined) throw new RangeError(`parameter ${k} is missing`);
    if (t.data.length !== size(s)) throw new RangeError(`parameter ${k} has ${t.data.length} entries, expected ${size(s)}`);
    out.set(t.data, off);
    off += t.data.length;
  }
  return out;
};

/** Inverse of `flattenParams`. */
export const unflattenParams = (v: Float64Array, shapes: ParamShapes): Params => {
  const out: Record<string, Tensor> = {};
  let off = 0;
  for (const [k, s] of Object.entries(shapes)) {
    const n = size(s);
    out[k] = { shape: [...s], data: v.slice(off, off + n) };
    off += n;
  }
  return out;
};

export const shapesOf = (p: Params): ParamShapes =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.shape]));

/** Pick a subset of a record's entries (in the order of `keys`). */
export const pickParams = (p: Params, keys: readonly string[]): Params =>
  Object.fromEntries(
    keys.map((k) => {
      const t = p[k];
      if (t === undefined) throw new RangeError(`parameter ${k} is missing`);
      return [k, t];
    }),
  );

export const paramsNorm = (p: Params): number =>
  Math.sqrt(Object.values(p).reduce((s, t) => s + vdot(t.data, t.data), 0));

export const allFinite = (a: Float64Array): boolean => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
};
