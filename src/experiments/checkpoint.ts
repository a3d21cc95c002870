/**
 * Checkpoints that survive faults: `bplambda-checkpoint/1`.
 *
 * A checkpoint is a JSON file `{ format, sha256, payload }` where `payload` is any plain value (records, arrays,
 * numbers, strings, booleans, null) in which `Float64Array`s are stored exactly as base64 of their little-endian
 * bytes (`{ "$f64": "…" }`), and `sha256` is the hex digest of `JSON.stringify(payload)`. It is written atomically
 * (temporary file, fsync, rename); the checkpoint it replaces is kept as `<name>.prev.json`. Loading checks the
 * format and the checksum; a truncated or corrupted latest checkpoint is reported and the previous good one used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { atomicWriteFile } from '../io/files.js';
import { BplambdaError } from '../core/errors.js';

export const CHECKPOINT_FORMAT = 'bplambda-checkpoint/1';

/** A checkpoint file that cannot be used: unreadable, truncated, not a checkpoint, or failing its checksum. */
export class CheckpointError extends BplambdaError {
  override name = 'CheckpointError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`checkpoint ${path} ${reason}`);
  }
}

const f64ToBase64 = (a: Float64Array): string => {
  const bytes = new Uint8Array(a.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(8 * i, a[i]!, true);
  return Buffer.from(bytes).toString('base64');
};

const base64ToF64 = (s: string): Float64Array => {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % 8 !== 0) throw new RangeError('float64 data is not a whole number of 8-byte values');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
};

/** Plain JSON form of a value: Float64Array → { $f64: base64 }, everything else as is (recursively). */
export const encodeValue = (v: unknown): unknown => {
  if (v instanceof Float64Array) return { $f64: f64ToBase64(v) };
  if (ArrayBuffer.isView(v)) throw new TypeError('only Float64Array typed arrays can be checkpointed');
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeValue(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  return v;
};

/** Inverse of `encodeValue`. */
export const decodeValue = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o['$f64'] === 'string') return base64ToF64(o['$f64']);
    if (keys.length === 1 && typeof o['$num'] === 'string') return Number(o['$num']);
    return Object.fromEntries(keys.map((k) => [k, decodeValue(o[k])]));
  }
  return v;
};

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

export const previousPath = (path: string): string => path.replace(/(\.json)?$/, '.prev.json');

/** Save a payload atomically; the checkpoint it replaces (if any) becomes `<name>.prev.json`. */
export const saveCheckpoint = (path: string, payload: unknown): void => {
  const body = encodeValue(payload);
  const text = JSON.stringify(body);
  const file = `{"format":${JSON.stringify(CHECKPOINT_FORMAT)},"sha256":"${digest(text)}","payload":${text}}\n`;
  if (existsSync(path)) {
    // Keep the current checkpoint as the previous one only if it is good: never replace a good previous
    // checkpoint by a corrupted one.
    try {
      readCheckpoint(path);
      renameSync(path, previousPath(path));
    } catch {
      /* a corrupted latest checkpoint is simply replaced */
    }
  }
  atomicWriteFile(path, file);
};

/** Read and check one checkpoint file; throws CheckpointError saying what is wrong. */
export const readCheckpoint = (path: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CheckpointError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckpointError(path, `is truncated or not JSON (${text.length} bytes)`);
  }
  const o = parsed as { format?: unknown; sha256?: unknown; payload?: unknown };
  if (o === null || typeof o !== 'object' || o.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(path, `is not a ${CHECKPOINT_FORMAT} file`);
  if (typeof o.sha256 !== 'string' || !('payload' in o)) throw new CheckpointError(path, 'has no checksum or payload');
  const actual = digest(JSON.stringify(o.payload));
  if (actual !== o.sha256) throw new CheckpointError(path, `fails its checksum (sha256 ${actual.slice(0, 12)}…, expected ${o.sha256.slice(0, 12)}…)`);
  return decodeValue(o.payload);
};

export interface LoadedCheckpoint {
  readonly payload: unknown;
  /** The file the payload came from. */
  readonly path: string;
  /** Why the latest checkpoint was not used, when the previous one was. */
  readonly warning?: string;
}

/**
 * Load the latest good checkpoint: `path`, or `<name>.prev.json` when `path` is missing, truncated or corrupted
 * (with a warning saying why). Throws CheckpointError when neither is usable.
 */
export const loadCheckpoint = (path: string): LoadedCheckpoint => {
  try {
    return { payload: readCheckpoint(path), path };
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    const prev = previousPath(path);
    if (!existsSync(prev)) throw e;
    try {
      return { payload: readCheckpoint(prev), path: prev, warning: `${e.message}; using the previous checkpoint ${prev}` };
    } catch (e2) {
      throw new CheckpointError(path, `and its previous checkpoint are both unusable: ${e.message}; ${(e2 as Error).message}`);
    }
  }
};
