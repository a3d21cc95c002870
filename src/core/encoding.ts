/**
 * An exact JSON form of plain values holding float64 data, shared by saved learner states (`serializeState`) and
 * the run checkpoints of src/experiments: a `Float64Array` becomes `{ "$f64": base64 of its little-endian bytes }`
 * (every bit kept: -0, subnormals, NaN and infinities), a number JSON cannot write exactly (-0, NaN, ±Infinity)
 * becomes `{ "$num": "-0" | "NaN" | "Infinity" | "-Infinity" }`, and records, arrays, strings, booleans and null
 * stay as they are. Pure and browser-safe (no Buffer).
 */
import { InvalidInputError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Standard base64 with padding (RFC 4648 §4). */
export const bytesToBase64 = (bytes: Uint8Array): string => {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.length - i;
    const v = (bytes[i]! << 16) | ((n > 1 ? bytes[i + 1]! : 0) << 8) | (n > 2 ? bytes[i + 2]! : 0);
    out.push(ALPHABET[(v >> 18) & 63]!, ALPHABET[(v >> 12) & 63]!, n > 1 ? ALPHABET[(v >> 6) & 63]! : '=', n > 2 ? ALPHABET[v & 63]! : '=');
  }
  return out.join('');
};

/** Inverse of `bytesToBase64`; refuses anything else (other alphabets, missing padding) with a typed error. */
export const base64ToBytes = (s: string, path = ''): Uint8Array => {
  if (s.length % 4 !== 0) throw new InvalidInputError(path, 'base64 text (a multiple of 4 characters)', `has ${s.length} characters`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  for (let i = 0, o = 0; i < s.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = s[i + k]!;
      const d = c === '=' && i + 4 === s.length && k >= 4 - pad ? 0 : INDEX.get(c);
      if (d === undefined) throw new InvalidInputError(path, 'base64 text (A-Z a-z 0-9 + / and final = padding)', `has '${c}' at ${i + k}`);
      v = (v << 6) | d;
    }
    out[o++] = (v >> 16) & 255;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
};

/** The little-endian bytes of a Float64Array as base64. */
export const f64ToBase64 = (a: Float64Array): string => {
  const bytes = new Uint8Array(a.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(8 * i, a[i]!, true);
  return bytesToBase64(bytes);
};

/** Inverse of `f64ToBase64`. */
export const base64ToF64 = (s: string, path = ''): Float64Array => {
  const bytes = base64ToBytes(s, path);
  if (bytes.length % 8 !== 0) throw new InvalidInputError(path, 'float64 data (a whole number of 8-byte values)', `has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
};

/** Plain JSON form of a value: Float64Array → { $f64 }, -0 and non-finite numbers → { $num }, the rest as is (recursively). */
export const encodeValue = (v: unknown): unknown => {
  if (v instanceof Float64Array) return { $f64: f64ToBase64(v) };
  if (ArrayBuffer.isView(v)) throw new TypeError('only Float64Array typed arrays can be encoded');
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeValue(x)]));
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? '-0' : String(v) };
  return v;
};

const NUMS = new Set(['-0', 'NaN', 'Infinity', '-Infinity']);

/** Inverse of `encodeValue`; `path` names the value in a typed error (malformed base64, an unknown $num). */
export const decodeValue = (v: unknown, path = ''): unknown => {
  const at = (k: string | number) => (typeof k === 'number' ? `${path}[${k}]` : path === '' ? k : `${path}.${k}`);
  if (Array.isArray(v)) return v.map((x, i) => decodeValue(x, at(i)));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o['$f64'] === 'string') return base64ToF64(o['$f64'], at('$f64'));
    if (keys.length === 1 && typeof o['$num'] === 'string') {
      if (!NUMS.has(o['$num'])) throw new InvalidInputError(at('$num'), "'-0', 'NaN', 'Infinity' or '-Infinity'", `is '${o['$num']}'`);
      return Number(o['$num']);
    }
    return Object.fromEntries(keys.map((k) => [k, decodeValue(o[k], at(k))]));
  }
  return v;
};
