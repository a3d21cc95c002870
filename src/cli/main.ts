#!/usr/bin/env node
/**
 * The `bplambda` command line. Exit codes: 0 success, 1 failure, 2 invalid input (case, file, usage).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InvalidInputError } from '../core/errors.js';
import { oracleParsed, parseCaseJson } from '../core/oracle.js';
import { atomicWriteFile } from './io.js';
import { oracleSummary } from './summary.js';

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidInputError(path, 'a readable file', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
};

const program = new Command()
  .name('bplambda')
  .description('Accumulate BP(λ): online learning with synthetic gradients, and its float64 oracle.')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('oracle')
  .description('compute every BP(λ) and BPTT quantity of one case (bplambda-case/1) in float64')
  .argument('<case>', 'case file (JSON, format bplambda-case/1)')
  .option('--out <file>', 'write the result JSON to this file (atomically) instead of standard output')
  .option('--summary', 'print a readable summary instead of the JSON (with --out, the JSON still goes to the file)')
  .action((casePath: string, opts: { out?: string; summary?: boolean }) => {
    let parsed;
    try {
      parsed = parseCaseJson(readText(casePath));
    } catch (e) {
      if (e instanceof InvalidInputError) {
        process.stderr.write(`invalid case: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      throw e;
    }
    const result = oracleParsed(parsed);
    const json = `${JSON.stringify(result)}\n`;
    if (opts.out !== undefined) atomicWriteFile(opts.out, json);
    if (opts.summary) {
      const c = JSON.parse(readText(casePath)) as { gamma: number; lambda: number; cell: { type: string; activation?: string } };
      const cellName = c.cell.type === 'rnn' ? `rnn (${c.cell.activation})` : 'lstm';
      process.stdout.write(`${oracleSummary(casePath, { gamma: c.gamma, lambda: c.lambda, cell: cellName }, result)}\n`);
      if (opts.out !== undefined) process.stdout.write(`\n  result JSON written to ${opts.out}\n`);
    } else if (opts.out === undefined) process.stdout.write(json);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors (unknown option, missing argument) with 2.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof InvalidInputError) {
    process.stderr.write(`invalid input: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bplambda: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
