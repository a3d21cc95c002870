/**
 * Vite configuration of the demo page. Run from the repository root as `vite build demo` / `vite preview demo`
 * (the positional argument makes demo/ the root, where this file is found). The page imports the library's
 * TypeScript sources from ../src directly, so the browser build and the Node build share one source tree.
 */
import { defineConfig } from 'vite';

/**
 * Cross-origin isolation, so that SharedArrayBuffer exists and the CPU backend can run its worker threads
 * (src/backends/cpu/pool.ts). A host serving dist/ must send the same two headers; without them the page says
 * so and the CPU backend runs on one thread.
 */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No minification: gpu.js compiles kernel functions from their source text, and a minifier that renames
    // variables breaks them (it gave the contraction kernel's accumulator and its inner loop index one name, which
    // gpu.js then typed int: "cannot convert from 'lowp float' to 'lowp int'" in the WebGL2 shader).
    minify: false,
    // gpu.js's browser build is about 600 kB; it is loaded only when a gpu.js backend is chosen.
    chunkSizeWarningLimit: 1500,
  },
  // The CPU backend's worker is an ES module that imports its kernels.
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, headers: ISOLATION },
  preview: { host: '127.0.0.1', port: 4173, headers: ISOLATION },
});
