import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs; docs/testing.md, "Mutation testing"): every
 * test that runs the source in-process. Left out: tests that only drive the built CLI or package (dist/, which a
 * mutant of src/ never reaches) or are about the command line (their in-process part is small, and each then
 * spawns CLI processes for nothing), the browser, and gpu.js's cases of the conformance suite (gpu.js's backend
 * is not mutated; spec/backends/support.ts).
 */
export default defineConfig({
  test: {
    include: ['spec/**/*.test.ts', 'property-tests/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: [
      'spec/e2e/**',
      'spec/cli-run.test.ts',
      'spec/csp.test.ts',
      'spec/demo-bundle.test.ts',
      'spec/docs-code.test.ts',
      'spec/malformed-run.test.ts',
      'spec/package-root.test.ts',
      'spec/package-install.test.ts',
      'spec/backends/gl-process.test.ts',
      'spec/backends/gpu-isolation.test.ts',
      'spec/cli-gpujs.test.ts',
      'spec/cli-papercuts.test.ts',
      'spec/oracle-cli.test.ts',
      'spec/verify-cli.test.ts',
      'spec/sweep-jobs.test.ts',
      'spec/pytorch-example.test.ts',
    ],
    env: { BPLAMBDA_CONFORMANCE_GPUJS: '0' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
