/**
 * `bplambda verify TRACE.json [--rtol R] [--atol A] [--json]`: check another implementation's trace
 * (bplambda-trace/1) against the float64 reference. Exit 0 when every provided quantity is within tolerance,
 * 1 on a mismatch, 2 on an invalid trace or option (one line on stderr naming the field; nothing on stdout).
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../../core/errors.js';
import { formatVerifyReport, verifyReportJson, verifyTraceJson } from '../../verify/verify.js';
import { withInputErrors } from '../errors.js';
import { readInputFile } from '../../io/files.js';

/** A tolerance option: a finite number ≥ 0 written as a plain decimal or in exponent form. */
const parseTolerance = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const v = /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v)) throw new InvalidInputError(name, 'a finite number ≥ 0 (e.g. 1e-6)', `is "${text}"`);
  return v;
};

export const registerVerify = (program: Command): void => {
  program
    .command('verify')
    .description('check a trace (bplambda-trace/1) of another implementation against the float64 reference')
    .argument('<trace>', 'trace file (JSON, format bplambda-trace/1)')
    .option('--rtol <r>', 'relative tolerance (default: from the declared precision and T)')
    .option('--atol <a>', 'absolute tolerance, in units of max(1, largest |reference| of each quantity) (default: from the declared precision and T)')
    .option('--json', 'print the report as JSON (format bplambda-verify/1)')
    .action(async (tracePath: string, opts: { rtol?: string; atol?: string; json?: boolean }) => {
      let tolerance: { rtol: number | undefined; atol: number | undefined } | undefined;
      await withInputErrors('invalid option', () => {
        tolerance = { rtol: parseTolerance('--rtol', opts.rtol), atol: parseTolerance('--atol', opts.atol) };
      })();
      if (tolerance === undefined) return;
      await withInputErrors('invalid trace', () => {
        const report = verifyTraceJson(readInputFile(tracePath), tolerance);
        process.stdout.write(`${opts.json ? verifyReportJson(report) : formatVerifyReport(tracePath, report)}\n`);
        process.exitCode = report.pass ? 0 : 1;
      })();
    });
};
