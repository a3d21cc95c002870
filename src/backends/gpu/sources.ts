/**
 * Source text of the gpu.js kernels of the generic kernel set. gpu.js compiles a kernel's JavaScript source to
 * GLSL, WGSL, WebAssembly or JavaScript, so each source uses only what it translates: `this.thread.x`, number
 * literals, loops with literal bounds, Math functions, ternaries. Shapes and strides are written into the source
 * as literals (a kernel is compiled once per geometry and cached); values that change from call to call (scalar
 * operands, the fill value) are arguments. Every output is flat (1-D); indices are recovered by division.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import type { MatmulGeometry } from '../host/kernels.js';

/** The expression of a unary op of the value `v`. */
export const unaryExpression = (op: UnaryOp): string => {
  const sig = '(1 / (1 + Math.exp(-v)))';
  switch (op) {
    case 'neg':
      return '-v';
    case 'abs':
      return 'Math.abs(v)';
    case 'exp':
      return 'Math.exp(v)';
    case 'log':
      return 'Math.log(v)';
    case 'log1p':
      return 'Math.log1p(v)';
    case 'sqrt':
      return 'Math.sqrt(v)';
    case 'square':
      return 'v * v';
    case 'identity':
      return 'v';
    case 'tanh':
      return 'Math.tanh(v)';
    case 'sigmoid':
      return sig;
    case 'relu':
      return 'v > 0 ? v : 0';
    case 'identityGrad':
      return '1';
    case 'tanhGrad':
      return '1 - Math.tanh(v) * Math.tanh(v)';
    case 'sigmoidGrad':
      return `${sig} * (1 - ${sig})`;
    case 'reluGrad':
      return 'v > 0 ? 1 : 0';
  }
  throw new RangeError(`unknown unary op ${String(op satisfies never)}`);
};

export const binaryExpression = (op: BinaryOp): string => {
  switch (op) {
    case 'add':
      return 'x + y';
    case 'sub':
      return 'x - y';
    case 'mul':
      return 'x * y';
    case 'div':
      return 'x / y';
    case 'max':
      return 'Math.max(x, y)';
    case 'min':
      return 'Math.min(x, y)';
  }
  throw new RangeError(`unknown binary op ${String(op satisfies never)}`);
};

/** Statements that split the flat index `t` of `shape` into `i0, i1, …` (row-major). */
const unravel = (shape: readonly number[], prefix = 'i'): string => {
  const lines: string[] = [];
  let rest = 't';
  shape.forEach((_, d) => {
    const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    if (d === shape.length - 1) lines.push(`const ${prefix}${d} = ${rest};`);
    else {
      lines.push(`const ${prefix}${d} = Math.floor(${rest} / ${inner});`);
      lines.push(`const r${prefix}${d} = ${rest} - ${prefix}${d} * ${inner};`);
      rest = `r${prefix}${d}`;
    }
  });
  return lines.join(' ');
};

/** The offset expression Σ_d i_d · stride_d (zero strides left out). */
const offset = (strides: readonly number[], prefix = 'i', base = 0): string => {
  const terms = strides.flatMap((s, d) => (s === 0 ? [] : [s === 1 ? `${prefix}${d}` : `${prefix}${d} * ${s}`]));
  if (base !== 0) terms.unshift(String(base));
  return terms.length === 0 ? '0' : terms.join(' + ');
};

export const unarySource = (op: UnaryOp): string => `function(a) { const v = a[this.thread.x]; return ${unaryExpression(op)}; }`;

/** Whether strides are the row-major strides of the shape itself (the operand is read at the output's index). */
const contiguous = (shape: readonly number[], strides: readonly number[]): boolean =>
  strides.every((st, d) => shape[d] === 1 || st === shape.slice(d + 1).reduce((a, b) => a * b, 1));

/** out[t] = a op b with each array operand read at its broadcast offset (null strides: a number argument). */
export const binarySource = (op: BinaryOp, shape: readonly number[], sa: readonly number[] | null, sb: readonly number[] | null): string => {
  const t = 'const t = this.thread.x;';
  const direct = (s: readonly number[] | null) => s === null || contiguous(shape, s);
  const read = (name: string, s: readonly number[] | null) => (s === null ? name : contiguous(shape, s) ? `${name}[t]` : `${name}[${offset(s)}]`);
  // Index arithmetic only where an operand is broadcast.
  const idx = direct(sa) && direct(sb) ? '' : unravel(shape);
  return `function(a, b) { ${t} ${idx} const x = ${read('a', sa)}; const y = ${read('b', sb)}; return ${binaryExpression(op)}; }`;
};

export interface MatmulSource extends MatmulGeometry {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly accumulate: boolean;
}

/** out[q, i, j] = (o[q, i, j] +) Σ_p a[q, i, p] b[q, p, j]. */
export const matmulSource = (g: MatmulSource): string => {
  const { m, k, n } = g;
  const [ai, ap] = g.transposeA ? [1, m] : [k, 1];
  const [bp, bj] = g.transposeB ? [1, k] : [n, 1];
  const shape = [...g.batch, m, n];
  const nb = g.batch.length;
  const oa = offset(g.strideA);
  const ob = offset(g.strideB);
  const args = g.accumulate ? 'a, b, o' : 'a, b';
  const ret = g.accumulate ? 'o[t] + s' : 's';
  return (
    `function(${args}) { const t = this.thread.x; ${unravel(shape)} ` +
    `const oa = ${oa} + i${nb} * ${ai}; const ob = ${ob} + i${nb + 1} * ${bj}; let s = 0; ` +
    `for (let p = 0; p < ${k}; p++) { s += a[oa + p * ${ap}] * b[ob + p * ${bp}]; } return ${ret}; }`
  );
};

/** x [pre, len, post] reduced over the middle axis (len ≥ 1). */
export const reduceSource = (op: ReduceOp, len: number, post: number): string => {
  const combine = op === 'sum' ? 's + v' : 'Math.max(s, v)';
  const first = op === 'sum' ? '0' : `x[p * ${len * post} + q]`;
  const start = op === 'sum' ? 0 : 1;
  return (
    `function(x) { const t = this.thread.x; const p = Math.floor(t / ${post}); const q = t - p * ${post}; let s = ${first}; ` +
    `for (let i = ${start}; i < ${len}; i++) { const v = x[(p * ${len} + i) * ${post} + q]; s = ${combine}; } return s; }`
  );
};

/** A copy of out with the block of x written into it. */
export const copyBlockSource = (outShape: readonly number[], xShape: readonly number[], outBegin: readonly number[], xBegin: readonly number[], size: readonly number[]): string => {
  const strides = (s: readonly number[]) => s.map((_, d) => s.slice(d + 1).reduce((a, b) => a * b, 1));
  const sx = strides(xShape);
  const inside = outShape.map((_, d) => `i${d} >= ${outBegin[d]} && i${d} < ${outBegin[d]! + size[d]!}`).join(' && ');
  const xo = outShape.map((_, d) => `(i${d} - ${outBegin[d]! - xBegin[d]!}) * ${sx[d]}`).join(' + ');
  return `function(o, x) { const t = this.thread.x; ${unravel(outShape)} if (${inside || 'true'}) { return x[${xo || '0'}]; } return o[t]; }`;
};

export const fillSource = 'function(v) { return v; }';

/** Sums of squares of the segments (starts and lengths as constants; loop to the longest). */
export const segmentNormsSource = (maxLen: number): string =>
  `function(a) { const s = this.thread.x; const start = this.constants.starts[s]; const len = this.constants.lengths[s]; let acc = 0; ` +
  `for (let i = 0; i < ${maxLen}; i++) { if (i < len) { const v = a[start + i]; acc += v * v; } } return acc; }`;

/** a[t] scaled by its segment's clip factor (norm n > c: c/n, else 1). */
export const segmentScaleSource = (segments: number): string =>
  `function(a, norms, c) { const t = this.thread.x; let seg = 0; ` +
  `for (let k = 0; k < ${segments}; k++) { if (t >= this.constants.starts[k]) { seg = k; } } ` +
  `const n = Math.sqrt(norms[seg]); const f = n > c ? c / n : 1; return a[t] * f; }`;
