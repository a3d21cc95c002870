/**
 * `bplambda golden --out DIR`: write the golden set (src/verify/golden.ts): one bplambda-trace/1 file per case with
 * the reference values, the trace JSON Schema, a README with the conventions, manifest.json (versions, sha256 of
 * every file) and SHA256SUMS. Each file is written atomically; the manifest and SHA256SUMS come last, so a
 * directory with a manifest holds a complete set. The output is deterministic.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidInputError } from '../../core/errors.js';
import { goldenFiles } from '../../verify/golden.js';
import { withInputErrors } from '../errors.js';
import { atomicWriteFile } from '../../io/files.js';

/** `bplambda X.Y.Z`, from the package.json above this module (in the source tree or in dist/). */
export const generatorName = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bplambda') return `bplambda ${pkg.version ?? '?'}`;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return 'bplambda';
};

const ensureDirectory = (dir: string): void => {
  try {
    if (!statSync(dir).isDirectory()) throw new InvalidInputError('--out', 'a directory (it is created if missing)', `"${dir}" is not a directory`);
    return;
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new InvalidInputError('--out', 'a writable directory', `"${dir}" cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InvalidInputError('--out', 'a directory that can be created', `"${dir}" cannot be created (${(e as NodeJS.ErrnoException).code})`);
  }
};

export const registerGolden = (program: Command): void => {
  program
    .command('golden')
    .description('write the golden set: reference traces (bplambda-trace/1) for other implementations, with a README and checksums')
    .requiredOption('--out <dir>', 'directory to write into (created if missing; files of the set are replaced)')
    .action(
      withInputErrors('invalid option', (opts: { out: string }) => {
        const files = goldenFiles(generatorName());
        ensureDirectory(opts.out);
        const last = ['manifest.json', 'SHA256SUMS'];
        const order = [...Object.keys(files).filter((f) => !last.includes(f)), ...last];
        for (const f of order) atomicWriteFile(join(opts.out, f), files[f]!);
        const traces = order.filter((f) => f.endsWith('.trace.json')).length;
        process.stdout.write(`wrote ${order.length} files (${traces} golden traces, manifest.json, SHA256SUMS, README.md, schema) to ${opts.out}\n`);
      }),
    );
};
