/**
 * A sweep as separate jobs for a scheduler (`sweep --emit-jobs`): one `bplambda run` command line per grid point,
 * with every option of the sweep and its own --out under the sweep's directory, quoted for a POSIX shell; and,
 * back from a jobs file, the run directories its lines write (`collect --jobs`).
 */
import { InvalidInputError } from '../core/errors.js';
import type { Preset, Task } from './config.js';
import type { SweepJob } from './sweep.js';

/** One option of a `run` command line: its attribute name (as commander gives it), its flag and its value. */
export interface RunArg {
  readonly key: string;
  readonly flag: string;
  /** The option's text, or true for a flag without a value. */
  readonly value: string | true;
}

const SAFE = /^[A-Za-z0-9_./,:=+@%-]+$/;

/** A word for a POSIX shell: as it is when every character is safe, else in single quotes. */
export const shellQuote = (word: string): string => (SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * The words of one line of a POSIX shell command: quotes ('…', "…") and backslashes are undone, words split at
 * unquoted blanks, and an unquoted # at the start of a word ends the line. No expansions.
 */
export const shellWords = (line: string): string[] => {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) break;
    else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new RangeError('an unterminated single quote');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < line.length && line[i] !== '"'; i++)
        word += line[i] === '\\' && i + 1 < line.length && '\\"$`'.includes(line[i + 1]!) ? line[++i]! : line[i]!;
      if (i >= line.length) throw new RangeError('an unterminated double quote');
    } else if (c === '\\' && i + 1 < line.length) word = (word ?? '') + line[++i]!;
    else word = (word ?? '') + c;
  }
  if (word !== null) words.push(word);
  return words;
};

/**
 * The options of one job's `run`: the sweep's shared options (its preset stated explicitly), then the job's
 * method, seed and directory, and --force (so that a scheduler's retry of a failed job starts that run afresh).
 */
export const jobArgs = (preset: Preset, shared: readonly RunArg[], job: SweepJob): RunArg[] => {
  const c = job.config;
  const method: RunArg[] = [{ key: 'method', flag: '--method', value: c.method }];
  if (c.method === 'bp-lambda') method.push({ key: 'lambda', flag: '--lambda', value: String(c.lambda) });
  if (c.method === 'sg' || c.method === 'tbptt') method.push({ key: 'n', flag: '--n', value: String(c.n) });
  return [
    { key: 'preset', flag: '--preset', value: preset },
    ...shared.filter((a) => a.key !== 'preset'),
    ...method,
    { key: 'seed', flag: '--seed', value: String(c.seed) },
    { key: 'out', flag: '--out', value: job.dir },
    { key: 'force', flag: '--force', value: true },
  ];
};

/** The command line of a job: `BIN run TASK --option value …`, every word quoted for the shell except BIN. */
export const jobCommand = (bin: string, task: Task, args: readonly RunArg[]): string =>
  [bin, 'run', shellQuote(task), ...args.map((a) => (a.value === true ? a.flag : `${a.flag} ${shellQuote(a.value)}`))].join(' ');

/** The options of a job as commander would collect them from its command line. */
export const rawOptionsOf = (args: readonly RunArg[]): Record<string, string | true> => Object.fromEntries(args.map((a) => [a.key, a.value]));

/** The run directories (the --out of each command) of a jobs file's lines; blank lines and comments are skipped. */
export const jobsFileDirs = (text: string, file: string): string[] => {
  const dirs: string[] = [];
  text.split('\n').forEach((line, i) => {
    let words: string[];
    try {
      words = shellWords(line);
    } catch (e) {
      throw new InvalidInputError(`${file} line ${i + 1}`, 'a command line of sweep --emit-jobs', `has ${(e as Error).message}`);
    }
    if (words.length === 0) return;
    const at = words.indexOf('--out');
    const inline = words.find((w) => w.startsWith('--out='));
    const dir = at >= 0 ? words[at + 1] : inline?.slice('--out='.length);
    if (dir === undefined || dir === '') throw new InvalidInputError(`${file} line ${i + 1}`, 'a bplambda run command with --out DIR (a line of sweep --emit-jobs)', 'has no --out');
    dirs.push(dir);
  });
  if (dirs.length === 0) throw new InvalidInputError(file, 'the command lines of sweep --emit-jobs', 'has none');
  return dirs;
};
