/**
 * Shared exit-code handling for commands: 0 success, 1 failure, 2 invalid input (file, case, option), 3 a backend
 * that cannot start here.
 */
import { BackendUnavailableError } from '../backends/errors.js';
import { InvalidInputError, MissingPackageError } from '../core/errors.js';

/** Exit code of a command whose backend cannot start on this machine (run, sweep, bench). */
export const EXIT_BACKEND_UNAVAILABLE = 3;

/**
 * Run a command body; an InvalidInputError becomes one line on stderr (`<prefix>: <message>`) and exit code 2, a
 * MissingPackageError (an optional package the command needs is not installed) one line naming the install
 * command and exit code 1, a BackendUnavailableError (the backend asked for cannot start here) one line with the
 * reason and what to install, and exit code 3. Other errors propagate to main (exit 1).
 */
export const withInputErrors =
  <A extends unknown[]>(prefix: string, body: (...args: A) => void | Promise<void>) =>
  async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (e) {
      if (e instanceof InvalidInputError) {
        process.stderr.write(`${prefix}: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      if (e instanceof BackendUnavailableError) {
        process.stderr.write(`${prefix}: ${e.message}\n`);
        process.exitCode = EXIT_BACKEND_UNAVAILABLE;
        return;
      }
      if (e instanceof MissingPackageError) {
        process.stderr.write(`${prefix}: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  };
