/** Running the built CLI (or another program) from tests, collecting its exit status and output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..');
export const cliPath = join(repoRoot, 'dist/src/cli/main.js');

export interface ProcessResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program to completion in the repository root (asynchronously, so several can run at once). */
export const runProcess = (cmd: string, args: readonly string[]): Promise<ProcessResult> =>
  new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });

/** Run the built `bplambda` command line (`npm run build` first). */
export const runCli = (args: readonly string[]): Promise<ProcessResult> => runProcess(process.execPath, [cliPath, ...args]);
