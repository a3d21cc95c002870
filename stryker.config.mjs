// Mutation testing (docs/testing.md, "Mutation testing"): `npm run mutate` (everything the issue names), or one
// area: `npm run mutate:core`, `mutate:verify`, `mutate:engine`, `mutate:backends`. Each area keeps its own
// report (reports/mutation/<area>/mutation.html and .json) and incremental file (git-ignored), so a re-run tests
// only the mutants of changed code or tests. BPLAMBDA_MUTATE_REPORT names another report folder, for a run of
// part of an area (`-- --mutate <files>`); `-- --force` re-tests every mutant.
import { availableParallelism } from 'node:os';

const AREAS = {
  core: ['src/core/**/*.ts', '!src/core/index.ts'],
  verify: ['src/verify/**/*.ts', '!src/verify/index.ts'],
  engine: ['src/engine/**/*.ts', 'src/ops/**/*.ts', '!src/engine/index.ts'],
  backends: ['src/backends/**/*.ts', '!src/backends/gpu/**/*.ts', '!src/backends/index.ts'],
};
const area = process.env.BPLAMBDA_MUTATE_AREA ?? 'all';
if (area !== 'all' && !(area in AREAS)) throw new Error(`BPLAMBDA_MUTATE_AREA is '${area}', expected all or one of ${Object.keys(AREAS).join(', ')}`);
const dir = `reports/mutation/${process.env.BPLAMBDA_MUTATE_REPORT ?? area}`;
const globs = area === 'all' ? Object.values(AREAS).flat() : AREAS[area];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The tests that run the source in-process (vitest.mutation.config.ts).
  vitest: { configFile: 'vitest.mutation.config.ts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // Inclusions first, then exclusions (a pattern with '!' removes files matched before it).
  mutate: [...globs.filter((g) => !g.startsWith('!')), ...globs.filter((g) => g.startsWith('!'))],
  incremental: true,
  incrementalFile: `${dir}/stryker-incremental.json`,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `${dir}/mutation.html` },
  jsonReporter: { fileName: `${dir}/mutation.json` },
  // Mutants in module-level code (schemas, tables) would run every test: left out, and counted as ignored.
  ignoreStatic: true,
  // One process per core (Stryker gives half of them to the TypeScript checker until every mutant is checked).
  concurrency: availableParallelism(),
  // A mutant that makes a loop endless is stopped 15 s past its tests' own time (and counts as detected).
  timeoutMS: 15000,
  tempDirName: '.stryker-tmp',
};
