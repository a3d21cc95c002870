/**
 * File helpers below the experiments and the command line: atomic writes (temporary file, fsync, rename) and
 * input files whose absence is an input error.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { InvalidInputError } from '../core/errors.js';
import { basename, dirname, join } from 'node:path';

/** Write `text` to `path` atomically: nothing is left half-written if the process dies. */
export const atomicWriteFile = (path: string, text: string): void => {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
};

/** Read a UTF-8 input file; a missing or unreadable file is an input error (exit code 2). */
export const readInputFile = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidInputError(path, 'a readable file', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
};
