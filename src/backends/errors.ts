/**
 * Typed errors of the backends. Every failure says what went wrong and, for an unavailable backend or mode,
 * why it cannot start and what to install; nothing falls back silently.
 */
import { BplambdaError } from '../core/errors.js';

/** A backend, or one of its modes, cannot start on this machine. */
export class BackendUnavailableError extends BplambdaError {
  override name = 'BackendUnavailableError';
  constructor(
    /** The backend asked for ('gpujs', 'cpu', …). */
    readonly backend: string,
    /** The mode asked for ('headlessgl', 'wasm', …). */
    readonly mode: string,
    /** Why it cannot start, in words. */
    readonly reason: string,
    /** What to install or do to make it start. */
    readonly remedy: string,
  ) {
    super(`backend ${backend} (mode '${mode}') cannot start: ${reason}. ${remedy}`);
  }
}

/** An array passed to a backend op has the wrong shape, belongs to another backend, or was disposed. */
export class BackendArrayError extends BplambdaError {
  override name = 'BackendArrayError';
  constructor(
    readonly op: string,
    readonly detail: string,
  ) {
    super(`${op}: ${detail}`);
  }
}

/** A typed error unless `shape` is a list of non-negative integers. */
export const checkShape = (op: string, shape: readonly number[]): void => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BackendArrayError(op, `shape [${String(shape)}] must be non-negative integers`);
};
