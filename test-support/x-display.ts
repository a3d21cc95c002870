/**
 * Vitest global setup: an X display for gpu.js's headless-gl modes ('headlessgl', and 'gpu' in Node), which need
 * one (gl 8.1.6 has no EGL path; docs/gpu.md, "Linux with an NVIDIA GPU, through headless-gl"). Where DISPLAY is
 * unset and Xvfb is installed, start a private Xvfb for the run and give its display to the test processes
 * (started after this, they inherit the environment); stop it at the end. Without Xvfb nothing changes and those
 * modes' cases are listed as skipped with the reason the backend gives.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

const hasXvfb = (): boolean => spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status === 0;

/** Start Xvfb on a free display (-displayfd prints the number it took); resolve to that number. */
const startXvfb = (): Promise<{ server: ChildProcess; display: string }> =>
  new Promise((resolve, reject) => {
    const server = spawn('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '640x480x24'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => (server.kill(), reject(new Error('Xvfb did not report a display within 20 s'))), 20_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ server, display: `:${m[1]!}` });
    });
    server.on('error', (e) => (clearTimeout(timer), reject(e)));
    server.on('exit', (code) => (clearTimeout(timer), reject(new Error(`Xvfb exited (${String(code)}) before reporting a display`))));
  });

export default async function setup(): Promise<(() => void) | undefined> {
  if ((process.env['DISPLAY'] ?? '') !== '' || !hasXvfb()) return undefined;
  let started: Awaited<ReturnType<typeof startXvfb>>;
  try {
    started = await startXvfb();
  } catch (e) {
    // Not fatal: the headless-gl cases then report, skipped, that there is no X display.
    console.warn(`x-display: Xvfb did not start (${(e as Error).message}); the headless-gl modes will be reported skipped`);
    return undefined;
  }
  const { server, display } = started;
  server.removeAllListeners('exit');
  process.env['DISPLAY'] = display;
  return () => {
    server.kill();
    delete process.env['DISPLAY'];
  };
}
