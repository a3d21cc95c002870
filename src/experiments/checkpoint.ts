/**
 * Checkpoints that survive faults: `bplambda-checkpoint/1`.
 *
 * A checkpoint is a JSON file `{ format, sha256, payload }` where `payload` is any plain value (records, arrays,
 * numbers, strings, booleans, null) in which `Float64Array`s are stored exactly as base64 of their little-endian
 * bytes (`{ "$f64": "…" }`: the core's `encodeValue`, which `serializeState` uses too), and `sha256` is the hex digest
 * of `JSON.stringify(payload)`. It is written atomically (temporary file, fsync, rename); the checkpoint it replaces
 * is kept as `<name>.prev.json`. Loading checks the format and the checksum; a truncated or corrupted latest
 * checkpoint is reported and the previous good one used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { atomicWriteFile } from '../io/files.js';
import { decodeValue, encodeValue } from '../core/encoding.js';
import { BplambdaError } from '../core/errors.js';

/** The exact JSON form of payloads (src/core/encoding.ts), shared with the library's `serializeState`. */
export { decodeValue, encodeValue };

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
