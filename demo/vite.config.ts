/**
 * Vite configuration of the demo page. Run from the repository root as `vite build demo` / `vite preview demo`
 * (the positional argument makes demo/ the root, where this file is found). The page imports the library's
 * TypeScript sources from ../src directly, so the browser build and the Node build share one source tree.
 */
import { defineConfig } from 'vite';

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
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
