/**
 * The package root must bundle for a browser: following its static imports from dist/, no module imports a Node
 * builtin (node:fs, node:crypto, …) or gpu.js. The verification tools, which read and write files, are the
 * subpath bplambda/verify; this test shows they would be caught if the root re-exported them.
 */
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** Bare or builtin specifiers reachable by static imports from an entry file in dist/. */
const reachable = (entry: string): { files: Set<string>; external: Set<string> } => {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else external.add(spec);
    }
  };
  visit(join(root, 'dist/src', entry));
  return { files, external };
};

describe('package root', () => {
  it('imports no Node builtin and not gpu.js, statically', () => {
    const { files, external } = reachable('index.js');
    expect(files.size).toBeGreaterThan(10);
    expect([...external].filter((s) => builtins.has(s) || s.startsWith('gpu.js'))).toEqual([]);
  });

  it('the check catches a Node builtin (control: the verify subpath uses node:crypto through the golden set)', () => {
    const { external } = reachable('verify/index.js');
    expect([...external].some((s) => builtins.has(s))).toBe(true);
  });
});
