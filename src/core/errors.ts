/**
 * Typed errors. `InvalidInputError` names the offending field (a JSON path such as `params.W_rec` or
 * `inputs[3][0]`) and what was expected; the CLI prints its message on one line and exits with code 2.
 */
import type { z } from 'zod';

export class BplambdaError extends Error {
  override name = 'BplambdaError';
}

export class InvalidInputError extends BplambdaError {
  override name = 'InvalidInputError';
  constructor(
    /** JSON path of the offending field ('' for the whole input). */
    readonly path: string,
    /** What was expected, in words. */
    readonly expected: string,
    /** What was found, in words (optional). */
    readonly found?: string,
  ) {
    super(
      found === undefined
        ? `${path || '(input)'}: expected ${expected}`
        : `${path || '(input)'} ${found}, expected ${expected}`,
    );
  }
}

/** Numerical divergence (NaN or Infinity) in a named quantity. */
export class DivergenceError extends BplambdaError {
  override name = 'DivergenceError';
  constructor(
    readonly quantity: string,
    readonly step?: number,
    /** What `step` counts ('step' of a sequence, 'batch' of a run). */
    readonly unit: 'step' | 'batch' = 'step',
  ) {
    super(`non-finite value (NaN or Infinity) in ${quantity}${step === undefined ? '' : ` at ${unit} ${step}`}`);
  }
}

/** JSON path from a path array: a.b[2][0]. */
export const jsonPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`), '');

/** The first zod issue as an InvalidInputError. */
export const fromZodError = (error: z.ZodError): InvalidInputError => {
  const issue = error.issues[0]!;
  const path = jsonPath(issue.path as PropertyKey[]);
  const list = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(' | ');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const p = path === '' ? key : `${path}.${key}`;
    return new InvalidInputError(p, 'no such field (unknown fields are not allowed)', 'is not a known field');
  }
  // A schema's own message (given with { error: … }) says what was expected in words: use it as is.
  if (!/^(Invalid|Too (small|big))/.test(issue.message)) return new InvalidInputError(path, issue.message, 'is invalid');
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'number' ? 'a finite number' : issue.expected === 'array' ? 'an array' : String(issue.expected);
      const received = /received (\S+)/.exec(issue.message)?.[1];
      return received === 'undefined'
        ? new InvalidInputError(path, expected, 'is missing')
        : new InvalidInputError(path, expected, `is invalid (received ${received ?? 'another type'})`);
    }
    case 'invalid_value':
      return new InvalidInputError(path, `one of ${list(issue.values)}`, 'is invalid');
    case 'invalid_union': {
      const options = (issue as unknown as { options?: readonly unknown[] }).options;
      if (options !== undefined) return new InvalidInputError(path, `one of ${list(options)}`, 'is invalid');
      return new InvalidInputError(path, 'a value of one of the allowed forms', 'is invalid');
    }
    default:
      return new InvalidInputError(path, issue.message.replace(/^Invalid input: (expected )?/, ''), 'is invalid');
  }
};

/**
 * A feature needs an optional package that is not installed. bplambda's heavy parts (plotting, the MNIST files,
 * gpu.js) are optional peer dependencies, loaded only when used; the message is one line naming what to install,
 * e.g. `plotting needs vega, vega-lite and @resvg/resvg-js: npm install vega@6.4.0 vega-lite@6.4.3 @resvg/resvg-js@2.6.2`.
 */
export class MissingPackageError extends BplambdaError {
  override name = 'MissingPackageError';
  /** The names of the packages the feature needs. */
  readonly packages: readonly string[];
  /** The command that installs them, at the versions bplambda is tested with. */
  readonly install: string;
  constructor(
    /** What needs them, in words ('plotting', 'the seq-mnist task'). */
    readonly feature: string,
    packages: readonly { readonly name: string; readonly version: string }[],
  ) {
    const names = packages.map((p) => p.name);
    const install = `npm install ${packages.map((p) => `${p.name}@${p.version}`).join(' ')}`;
    super(`${feature} needs ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}` : names[0]!}: ${install}`);
    this.packages = names;
    this.install = install;
  }
}
