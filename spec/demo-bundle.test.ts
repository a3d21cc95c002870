/**
 * The demo's browser bundle and the Node build share one source tree (the page imports ../src). This builds the
 * page with Vite and checks that nothing in its module graph or its output imports a Node-only module (node:
 * builtins, fs, path, os, worker_threads, child_process, crypto, …), that gpu.js comes in as its browser build,
 * that the gpu.js kernels keep their source text (gpu.js compiles them from it), and that the page typechecks
 * with the DOM library.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import type { Plugin } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, REPO, buildDemo } from './e2e/serve.js';

/** Every import specifier seen while bundling, with its importer, and every module of the graph. */
const imports: { source: string; importer: string }[] = [];
const modules = new Set<string>();
const recorder: Plugin = {
  name: 'record-imports',
  enforce: 'pre',
  resolveId(source, importer) {
    if (importer !== undefined) imports.push({ source, importer });
    return null;
  },
  moduleParsed(info) {
    modules.add(info.id);
  },
};

const rel = (id: string): string => relative(REPO, id.split('?')[0]!);

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

/** Module names that exist only in Node (with or without the node: prefix). */
const nodeOnly = (spec: string): boolean => spec.startsWith('node:') || isBuiltin(spec) || spec.includes('__vite-browser-external');

describe('demo browser bundle', () => {
  let outDir: string;
  let code: Map<string, string>;

  beforeAll(async () => {
    outDir = await buildDemo([recorder]);
    code = new Map(filesUnder(outDir).filter((f) => f.endsWith('.js')).map((f) => [relative(outDir, f), readFileSync(f, 'utf8')]));
  }, 60_000);

  afterAll(() => {
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  it('no module of the graph imports a Node-only module', () => {
    expect(imports.length).toBeGreaterThan(20);
    const bad = imports.filter((i) => nodeOnly(i.source)).map((i) => `${rel(i.importer)} imports ${i.source}`);
    expect(bad).toEqual([]);
  });

  it('the graph is the library sources the page needs, gpu.js as its browser build, and nothing Node-side', () => {
    const ids = [...modules].map(rel);
    for (const expected of [
      'src/engine/trainer.ts',
      'src/ops/cells.ts',
      'src/backends/registry.ts',
      'src/backends/reference.ts',
      'src/backends/gpu/index.ts',
      'src/backends/gpu/kernels.ts',
      'src/core/bplambda.ts',
      'src/experiments/alignment.ts',
      'src/tasks/toy.ts',
      'src/tasks/copyRepeat.ts',
      'node_modules/gpu.js/dist/gpu-browser.js',
    ])
      expect(ids).toContain(expected);
    const nodeSide = ids.filter((id) => /^src\/(cli|verify|plot)\/|^src\/experiments\/(files|sweep|worker|run)\.ts$|^src\/tasks\/(mnist|idx)\.ts$|^src\/index\.ts$/.test(id));
    expect(nodeSide).toEqual([]);
    expect(ids.filter((id) => id.startsWith('node_modules/gpu.js/src/'))).toEqual([]);
  });

  it('the output has no import or require of a Node-only module (parsed: strings that hold code do not count)', async () => {
    const { parseAst } = await import('vite');
    expect(code.size).toBeGreaterThan(1);
    const bad: string[] = [];
    let seen = 0;
    for (const [file, text] of code) {
      const visit = (node: unknown): void => {
        if (node === null || typeof node !== 'object') return;
        if (Array.isArray(node)) return node.forEach(visit);
        const n = node as { type?: string; source?: { value?: unknown }; callee?: { type?: string; name?: string }; arguments?: { type?: string; value?: unknown }[] };
        let spec: unknown;
        if ((n.type === 'ImportDeclaration' || n.type === 'ExportAllDeclaration' || n.type === 'ExportNamedDeclaration' || n.type === 'ImportExpression') && n.source)
          spec = n.source.value;
        if (n.type === 'CallExpression' && n.callee?.type === 'Identifier' && n.callee.name === 'require') spec = n.arguments?.[0]?.value;
        if (typeof spec === 'string') {
          seen += 1;
          if (nodeOnly(spec)) bad.push(`${file}: ${n.type} '${spec}'`);
        }
        for (const [k, v] of Object.entries(n)) if (k !== 'source' && v !== null && typeof v === 'object') visit(v);
      };
      visit(parseAst(text));
    }
    expect(seen).toBeGreaterThan(0); // the chunks import each other
    expect(bad).toEqual([]);
  });

  it('keeps the gpu.js kernels as written (gpu.js compiles them from their source text)', () => {
    const all = [...code.values()].join('\n');
    for (const name of ['traceUpdateKernel', 'traceContractKernel', 'copyKernel']) expect(all).toContain(`function ${name}(`);
    expect(all).toMatch(/let acc = 0;\s*for \(let b = 0; b < this\.constants\.NB; b\+\+\)/);
  });

  it('the page typechecks with the DOM library (demo/tsconfig.json)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    let errors = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(DEMO, 'tsconfig.json')], { cwd: REPO, stdio: 'pipe' });
    } catch (e) {
      errors = String((e as { stdout?: Buffer }).stdout ?? e);
    }
    expect(errors).toBe('');
  }, 60_000);
});
