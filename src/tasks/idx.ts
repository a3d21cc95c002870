/**
 * The IDX file format (LeCun's MNIST files): a 4-byte magic number (two zero bytes, a type code, the number of
 * dimensions), one big-endian uint32 per dimension, then the data in row-major order, big-endian.
 * Only unsigned bytes (type 0x08, the MNIST files) are needed and supported here.
 */
import { InvalidInputError } from '../core/errors.js';

export interface IdxArray {
  readonly dims: readonly number[];
  /** Row-major data, one byte per entry (a view into the file's bytes). */
  readonly data: Uint8Array;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Parse an IDX file of unsigned bytes. `name` (a file path) prefixes the field in error messages. */
export const parseIdx = (bytes: Uint8Array, name = 'idx'): IdxArray => {
  if (bytes.length < 4) throw new InvalidInputError(`${name}: header`, 'at least 4 bytes (magic number)', `has ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new InvalidInputError(`${name}: magic`, 'two zero bytes first (an IDX file)', `starts with 0x${bytes[0]!.toString(16)} 0x${bytes[1]!.toString(16)}`);
  const type = bytes[2]!;
  if (type !== 0x08)
    throw new InvalidInputError(`${name}: type`, 'type 0x08 (unsigned byte)', `is 0x${type.toString(16)} (${TYPE_NAMES[type] ?? 'unknown'})`);
  const ndims = bytes[3]!;
  if (ndims < 1) throw new InvalidInputError(`${name}: dimensions`, 'at least one dimension', 'has 0');
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize)
    throw new InvalidInputError(`${name}: header`, `${headerSize} bytes for ${ndims} dimensions`, `has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + count)
    throw new InvalidInputError(`${name}: data`, `${count} bytes for dimensions ${dims.join('x')}`, `has ${bytes.length - headerSize} bytes`);
  return { dims, data: bytes.subarray(headerSize) };
};

/** Encode an unsigned-byte IDX file (for tests and small fixtures). */
export const encodeIdx = (dims: readonly number[], data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
};
