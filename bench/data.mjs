/** Shared by the kernel benchmarks (bench/kernels.mjs, bench/trace-kernels.mjs): seeded operands and the median. */

/** n numbers uniform in [−scale/2, scale/2), from a linear congruential generator seeded with `seed`. */
export const random = (n, seed, scale = 1) => {
  const d = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = scale * (s / 2 ** 32 - 0.5);
  }
  return d;
};

/** The middle value (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
