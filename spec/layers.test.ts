/**
 * The house shows the design (docs/architecture.md): every module of src/ imports only from its own layer or the
 * layers below it, static and dynamic imports alike, and no source file grows past about 400 lines.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Layers from the bottom: a module may import its own layer and those with a smaller number. */
const LAYERS: Readonly<Record<string, number>> = {
  core: 0,
  io: 1,
  backends: 1,
  tasks: 1,
  verify: 1,
  ops: 2,
  engine: 3,
  experiments: 4,
  plot: 5,
  cli: 6,
  'index.ts': 7,
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });

const layerOf = (file: string): string => relative(SRC, file).split('/')[0]!;

const importsOf = (file: string): string[] => {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
};

describe('layers', () => {
  const files = filesUnder(SRC);

  it('every top-level part of src has a layer', () => {
    expect(files.map(layerOf).filter((l) => LAYERS[l] === undefined)).toEqual([]);
  });

  it('no module imports from a layer above its own', () => {
    const upward = files.flatMap((f) =>
      importsOf(f)
        .filter((target) => target.startsWith(SRC) && LAYERS[layerOf(target)]! > LAYERS[layerOf(f)]!)
        .map((target) => `${relative(SRC, f)} imports ${relative(SRC, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('the check sees an upward import (control: experiments importing the command line would be caught)', () => {
    expect(LAYERS['cli']! > LAYERS['experiments']!).toBe(true);
    expect(importsOf(join(SRC, 'experiments', 'run.ts')).some((t) => layerOf(t) === 'engine' || layerOf(t) === 'core')).toBe(true);
  });

  it('no source file is longer than 400 lines', () => {
    const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 400).map((f) => relative(SRC, f));
    expect(long).toEqual([]);
  });
});
