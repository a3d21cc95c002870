import { describe, expect, it } from 'vitest';
import { rngFromSeed, uniforms } from '../src/core/random.js';

describe('random', () => {
  it('gives the same numbers for the same seed', () => {
    expect(Array.from(uniforms(rngFromSeed(3), 5)[0])).toEqual(Array.from(uniforms(rngFromSeed(3), 5)[0]));
    expect(Array.from(uniforms(rngFromSeed(3), 5)[0])).not.toEqual(Array.from(uniforms(rngFromSeed(4), 5)[0]));
  });
});
