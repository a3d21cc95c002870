/**
 * Seeded, explicitly threaded randomness. An `Rng` is a plain serialisable record (the xoroshiro128+ state of the
 * pure-rand library); every draw returns the value with the next `Rng`, so the same seed gives the same numbers.
 */
import { InvalidInputError } from './errors.js';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

export interface Rng {
  readonly algorithm: 'xoroshiro128plus';
  readonly state: readonly number[];
}

export const rngFromSeed = (seed: number): Rng => {
  if (!Number.isInteger(seed)) throw new InvalidInputError('seed', 'an integer', `is ${String(seed)}`);
  return { algorithm: 'xoroshiro128plus', state: [...xoroshiro128plus(seed | 0).getState()] };
};

/** n uniform numbers in [0, 1) with 53 random bits each. */
export const uniforms = (rng: Rng, n: number): [Float64Array, Rng] => {
  const g = xoroshiro128plusFromState(rng.state);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const hi = (g.next() >>> 0) >>> 5; // 27 bits
    const lo = (g.next() >>> 0) >>> 6; // 26 bits
    out[i] = (hi * 67108864 + lo) / 9007199254740992;
  }
  return [out, { algorithm: 'xoroshiro128plus', state: [...g.getState()] }];
};

/** n numbers uniform in [lo, hi). */
export const uniformRange = (rng: Rng, n: number, lo: number, hi: number): [Float64Array, Rng] => {
  const [u, next] = uniforms(rng, n);
  return [u.map((v) => lo + (hi - lo) * v), next];
};

/** n standard normal numbers (Box–Muller). */
export const normals = (rng: Rng, n: number): [Float64Array, Rng] => {
  const [u, next] = uniforms(rng, 2 * Math.ceil(n / 2));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]!));
    const th = 2 * Math.PI * u[i + 1]!;
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return [out, next];
};

/** An integer uniform in [0, n). */
export const randomInt = (rng: Rng, n: number): [number, Rng] => {
  const [u, next] = uniforms(rng, 1);
  return [Math.floor(u[0]! * n), next];
};

/** A new independent stream: the generator jumped 2^64 draws ahead (for workers, examples, …). */
export const split = (rng: Rng): [Rng, Rng] => {
  const g = xoroshiro128plusFromState(rng.state);
  const jumped = g.clone();
  jumped.jump();
  g.next();
  return [
    { algorithm: 'xoroshiro128plus', state: [...g.getState()] },
    { algorithm: 'xoroshiro128plus', state: [...jumped.getState()] },
  ];
};
