#!/usr/bin/env node
/**
 * The `bplambda` command line. Exit codes: 0 success, 1 failure (for verify, a mismatch; for collect, runs
 * missing or failed), 2 invalid input (case, file, option), 3 a requested backend cannot start on this machine
 * (run, sweep, bench; nothing is written).
 * Each command lives in `commands/` and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { DivergenceError } from '../core/errors.js';
import { registerOracle } from './commands/oracle.js';
import { registerBench } from './commands/bench.js';
import { registerRun } from './commands/run.js';
import { registerSweep } from './commands/sweep.js';
import { registerPlot } from './commands/plot.js';
import { registerVerify } from './commands/verify.js';
import { registerGolden } from './commands/golden.js';
import { registerCollect } from './commands/collect.js';
import { packageVersion } from './version.js';

const program = new Command()
  .name('bplambda')
  .description('Accumulate BP(λ): online learning with synthetic gradients, and its float64 oracle.')
  .version(packageVersion(), '-V, --version', 'print the version of bplambda')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

registerOracle(program);
registerBench(program);
registerRun(program);
registerSweep(program);
registerCollect(program);
registerPlot(program);
registerVerify(program);
registerGolden(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors (unknown option, missing argument) with 2.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof DivergenceError) {
    process.stderr.write(`bplambda: the run diverged: ${e.message}; try a smaller learning rate\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`bplambda: ${(e as Error).stack ?? (e as Error).message}\n`);
    process.exitCode = 1;
  }
}
