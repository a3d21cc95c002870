/**
 * The rules every configuration of the library is checked with: one rule per kind of value (a probability, a
 * count, a clip, …), written once and used by the schemas beside each configuration type (the cells, the model,
 * BP(λ)'s options, the learner's methods and optimisers, the trainer, the backends) and by the command line's run
 * options (src/experiments/config.ts), so a value is refused everywhere with the same words. Objects are strict:
 * an unknown key is refused, naming the known ones. `parseConfig` turns the first problem into an
 * InvalidInputError naming the field (a JSON path) and the expected value; the configuration itself is returned
 * unchanged (never copied or stripped), so records holding functions or typed arrays pass through as they are.
 * Defaults are listed in one place, docs/configuration.md.
 */
import { z } from 'zod';
import { InvalidInputError, jsonPath } from './errors.js';

/** A rule for a number: what is expected, in words, and the test (NaN fails every comparison, so it is refused). */
export interface NumberRule {
  readonly expected: string;
  readonly ok: (x: number) => boolean;
}

const int = (x: number): boolean => Number.isInteger(x);

export const RULES = {
  /** γ and λ (docs/spec/bp-lambda.md §3): probabilities. */
  unit: { expected: 'a number in [0, 1]', ok: (x) => x >= 0 && x <= 1 },
  /** Learning rates (0 freezes), β, noise. */
  nonNegative: { expected: 'a finite number ≥ 0', ok: (x) => Number.isFinite(x) && x >= 0 },
  /** Scales and step sizes that must not vanish. */
  positive: { expected: 'a finite number > 0', ok: (x) => Number.isFinite(x) && x > 0 },
  /** Norm clips: Infinity turns the clip off. */
  clip: { expected: 'a number > 0 (Infinity: no clip)', ok: (x) => x > 0 },
  /** Sizes and chunk lengths. */
  count: { expected: 'an integer ≥ 1', ok: (x) => int(x) && x >= 1 },
  /** Counts where 0 has a meaning (documented at the field). */
  natural: { expected: 'an integer ≥ 0', ok: (x) => int(x) && x >= 0 },
  /** Adam's moment decays. */
  decay: { expected: 'a number in [0, 1)', ok: (x) => x >= 0 && x < 1 },
} as const satisfies Readonly<Record<string, NumberRule>>;

/** Check one number against a rule outside a schema (the command line's options); `path` names it in the error. */
export const checkNumber = (path: string, value: unknown, rule: NumberRule): number => {
  if (typeof value !== 'number' || !rule.ok(value)) throw new InvalidInputError(path, rule.expected, found(value));
  return value;
};

/** A schema of a number obeying a rule (with another expectation, in words, where the rule's reads ambiguously). */
export const numberField = (rule: NumberRule, expected = rule.expected): z.ZodType<number> =>
  z.custom<number>((v) => typeof v === 'number' && rule.ok(v), { error: expected });

/** The words for a list of allowed strings: `'a', 'b' or 'c'`. */
export const listOf = (values: readonly string[]): string => `one of ${values.map((v) => `'${v}'`).join(', ')}`;

/** A schema of one string among `values`. */
export const oneOfField = <T extends string>(values: readonly T[]): z.ZodType<T> =>
  z.custom<T>((v) => typeof v === 'string' && (values as readonly string[]).includes(v), { error: listOf(values) });

/** A strict object schema: an unknown key is refused, the error naming the known ones. */
export const record = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `one of the fields ${Object.keys(shape).join(', ')}`
        : issue.code === 'invalid_type'
          ? 'an object'
          : undefined,
  });

/** What a value is, in a few words, for an error message. */
export const describe = (v: unknown): string => {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) return String(v);
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<unknown>).length}`;
  if (Array.isArray(v)) return v.length <= 8 && v.every((x) => typeof x !== 'object' || x === null) ? `[${v.map(describe).join(', ')}]` : `an array of length ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
};

const found = (v: unknown): string => (v === undefined ? 'is missing' : `is ${describe(v)}`);

// zod reports a path only through objects and arrays it entered, so each step indexes one.
const at = (value: unknown, path: readonly PropertyKey[]): unknown => path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)[k], value);

const join = (root: string, path: string): string => (root === '' ? path : path === '' ? root : path.startsWith('[') ? `${root}${path}` : `${root}.${path}`);

/** The first problem zod found in `value`, as an InvalidInputError whose path starts with `root`. */
export const configError = (issue: z.core.$ZodIssue, value: unknown, root: string): InvalidInputError => {
  const path = join(root, jsonPath(issue.path as PropertyKey[]));
  if (issue.code === 'unrecognized_keys') return new InvalidInputError(join(path, issue.keys[0]!), issue.message, 'is not a field');
  if (issue.code === 'invalid_union' && 'discriminator' in issue) {
    const options = (issue as unknown as { options: readonly string[] }).options;
    return new InvalidInputError(path, listOf(options), found(at(value, issue.path as PropertyKey[])));
  }
  // Every schema built here states what it expects in words (numberField, oneOfField, record, arrays' own errors).
  return new InvalidInputError(path, issue.message, found(at(value, issue.path as PropertyKey[])));
};

/** Check `value` against `schema` and return it unchanged; the first problem is thrown as an InvalidInputError. */
export const parseConfig = <T>(schema: z.ZodType<T>, value: unknown, root = ''): T => {
  const r = schema.safeParse(value);
  if (!r.success) throw configError(r.error.issues[0]!, value, root);
  return value as T;
};
