import { defineConfig } from 'vitest/config';

/**
 * Two projects: 'main' runs every test; 'headless-gl' runs the conformance suites again for gpu.js's headless-gl
 * modes only, in processes of their own, because headless-gl cannot share a process with Dawn's OpenGL ES adapter
 * (src/backends/gpu/glProcess.ts; spec/backends/support.ts, `conformanceGroup`).
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test-support/summary-reporter.ts'],
    // An X display for gpu.js's headless-gl modes where Xvfb is installed (test-support/x-display.ts).
    globalSetup: ['./test-support/x-display.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['spec/**/*.test.ts', 'property-tests/**/*.test.ts', 'src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'headless-gl', include: ['spec/backends/{kernels,runs,resident}.test.ts'], env: { BPLAMBDA_CONFORMANCE: 'gl' } },
      },
    ],
  },
});
