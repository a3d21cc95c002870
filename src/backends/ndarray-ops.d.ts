/** Minimal types for the parts of ndarray-ops (1.2.2, untyped CommonJS) that the backends use. */
declare module 'ndarray-ops' {
  import type { NdArray } from 'ndarray';
  const ops: {
    /** dest ← src elementwise (any strides, any numeric storage). */
    assign(dest: NdArray, src: NdArray): void;
    /** dest ← s everywhere. */
    assigns(dest: NdArray, s: number): void;
  };
  export default ops;
}
