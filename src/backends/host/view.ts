/**
 * Strided host views (`HostView`, ndarray's layout) without the ndarray package: making a row-major view, and
 * copying any view into dense row-major storage with plain loops. ndarray and ndarray-ops compile their
 * constructors and loops with `new Function`, which a Content-Security-Policy without 'unsafe-eval' forbids; these
 * need nothing of the kind.
 */
import { type HostView, shapeSize } from '../backend.js';
import { BackendArrayError, checkShape } from '../errors.js';

/** The row-major strides of a shape (the last axis contiguous). */
export const rowMajorStrides = (shape: readonly number[]): number[] => {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d]!;
  }
  return stride;
};

/** A row-major view of `data` (offset 0) with this shape; `data` holds at least as many numbers as the shape. */
export const hostView = <D extends ArrayLike<number>>(data: D, shape: readonly number[]): HostView<D> => {
  checkShape('hostView', shape);
  const size = shapeSize(shape);
  if (data.length < size) throw new BackendArrayError('hostView', `shape [${shape.join(', ')}] needs ${size} numbers, the data has ${data.length}`);
  return { data, shape: [...shape], stride: rowMajorStrides(shape), offset: 0 };
};

/** Whether a view is its whole storage in row-major order (so it copies as one block). */
export const isDense = (x: HostView): boolean => {
  if (x.offset !== 0 || shapeSize(x.shape) !== x.data.length) return false;
  let stride = 1;
  for (let d = x.shape.length - 1; d >= 0; d--) {
    if (x.shape[d] !== 1 && x.stride[d] !== stride) return false;
    stride *= x.shape[d]!;
  }
  return true;
};

/** Check that a view is well formed and every element it names lies inside its data. */
const checkView = (op: string, x: HostView): void => {
  checkShape(op, x.shape);
  const n = x.shape.length;
  if (!Array.isArray(x.stride) || x.stride.length !== n || !x.stride.every(Number.isInteger) || !Number.isInteger(x.offset))
    throw new BackendArrayError(op, `view of shape [${x.shape.join(', ')}] has strides [${String(x.stride)}] and offset ${x.offset} (integers, one stride per axis)`);
  if (shapeSize(x.shape) === 0) return;
  let lo = x.offset;
  let hi = x.offset;
  for (let d = 0; d < n; d++) {
    const reach = (x.shape[d]! - 1) * x.stride[d]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || hi >= x.data.length)
    throw new BackendArrayError(op, `view of shape [${x.shape.join(', ')}] reaches elements ${lo}..${hi} of data of length ${x.data.length}`);
};

/**
 * Copy the view `x` (any strides, any numeric storage) into `dst` in row-major order: one block when dense, else
 * a loop over its rows. Storing into a Float32Array rounds as a typed-array store does.
 */
export const copyView = (op: string, dst: Float64Array | Float32Array, x: HostView): void => {
  checkView(op, x);
  const size = shapeSize(x.shape);
  if (size === 0) return;
  if (isDense(x) && (x.data instanceof Float64Array || x.data instanceof Float32Array)) {
    dst.set(x.data);
    return;
  }
  const { data, shape, stride } = x;
  const n = shape.length;
  if (n === 0) {
    dst[0] = data[x.offset]!;
    return;
  }
  const last = n - 1;
  const len = shape[last]!;
  const step = stride[last]!;
  const index = new Array<number>(n).fill(0);
  let row = x.offset;
  let o = 0;
  for (;;) {
    for (let j = 0, s = row; j < len; j++, s += step) dst[o++] = data[s]!;
    let d = last - 1;
    for (; d >= 0; d--) {
      row += stride[d]!;
      if (++index[d]! < shape[d]!) break;
      row -= stride[d]! * shape[d]!;
      index[d] = 0;
    }
    if (d < 0) return;
  }
};
