/** `bplambda oracle CASE.json [--out FILE] [--summary]`: the oracle contract (bplambda-case/1 → bplambda-oracle/1). */
import type { Command } from 'commander';
import { checkFiniteResult, oracleParsed, parseCaseJson } from '../../core/oracle.js';
import { withInputErrors } from '../errors.js';
import { atomicWriteFile, readInputFile } from '../../io/files.js';
import { oracleSummary } from '../summary.js';

export const registerOracle = (program: Command): void => {
  program
    .command('oracle')
    .description('compute every BP(λ) and BPTT quantity of one case (bplambda-case/1) in float64')
    .argument('<case>', 'case file (JSON, format bplambda-case/1)')
    .option('--out <file>', 'write the result JSON to this file (atomically) instead of standard output')
    .option('--summary', 'print a readable summary instead of the JSON (with --out, the JSON still goes to the file)')
    .action(
      withInputErrors('invalid case', (casePath: string, opts: { out?: string; summary?: boolean }) => {
        const text = readInputFile(casePath);
        const parsed = parseCaseJson(text);
        const result = checkFiniteResult(oracleParsed(parsed));
        const json = `${JSON.stringify(result)}\n`;
        if (opts.out !== undefined) atomicWriteFile(opts.out, json);
        if (opts.summary) {
          const c = JSON.parse(text) as { cell: { type: string; activation?: string } };
          const cellName = c.cell.type === 'rnn' ? `rnn (${c.cell.activation})` : 'lstm';
          process.stdout.write(`${oracleSummary(casePath, { gamma: parsed.gamma, lambda: parsed.lambda, cell: cellName }, result)}\n`);
          if (opts.out !== undefined) process.stdout.write(`\n  result JSON written to ${opts.out}\n`);
        } else if (opts.out === undefined) process.stdout.write(json);
      }),
    );
};
