/**
 * Test support for the demo: build the page with Vite into a fresh directory and serve it with a tiny static
 * file server on a free localhost port.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEMO = join(REPO, 'demo');

/** Build the demo (vite build demo) into a new temporary directory; returns it. */
export const buildDemo = async (plugins: Plugin[] = []): Promise<string> => {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'bplambda-demo-'));
  await build({
    root: DEMO,
    configFile: join(DEMO, 'vite.config.ts'),
    logLevel: 'warn',
    plugins,
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so the CPU backend's threads), as demo/vite.config.ts sends them. */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** Serve `dir` on 127.0.0.1 at a free port, cross-origin isolated unless `isolated` is false. */
export const serveStatic = async (dir: string, isolated = true): Promise<Served> => {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...(isolated ? ISOLATION : {}) });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
};
