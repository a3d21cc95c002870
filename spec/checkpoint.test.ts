import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, decodeValue, encodeValue, loadCheckpoint, previousPath, readCheckpoint, saveCheckpoint } from '../src/experiments/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'bplambda-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const payload = (seed: number) => ({
  batches: seed,
  params: { W: { shape: [2, 2], data: Float64Array.from([0.1, -0.2, Math.PI, 1e-300 * seed]) } },
  rng: { algorithm: 'xoroshiro128plus', state: [1, -2, 3, seed] },
  best: null,
  flags: [true, false],
  inf: Number.POSITIVE_INFINITY,
});

describe('checkpoints', () => {
  it('round-trip any float64 exactly (bit for bit, including -0, subnormals and non-finite values)', () => {
    fc.assert(
      fc.property(fc.float64Array({ maxLength: 40 }), (a) => {
        const back = decodeValue(JSON.parse(JSON.stringify(encodeValue({ a })))) as { a: Float64Array };
        expect(back.a).toBeInstanceOf(Float64Array);
        expect(Buffer.from(back.a.buffer).equals(Buffer.from(a.buffer))).toBe(true);
      }),
      { numRuns: 200, seed: 20261125 },
    );
  });

  it('save then load gives the same payload; the replaced checkpoint is kept as .prev', () => {
    const path = join(dir, 'a.json');
    saveCheckpoint(path, payload(1));
    expect(loadCheckpoint(path).payload).toEqual(payload(1));
    saveCheckpoint(path, payload(2));
    expect(loadCheckpoint(path).payload).toEqual(payload(2));
    expect(readCheckpoint(previousPath(path))).toEqual(payload(1));
  });

  it('a truncated latest checkpoint is reported and the previous good one is used', () => {
    const path = join(dir, 'b.json');
    saveCheckpoint(path, payload(1));
    saveCheckpoint(path, payload(2));
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    expect(() => readCheckpoint(path)).toThrow(/truncated/);
    const loaded = loadCheckpoint(path);
    expect(loaded.payload).toEqual(payload(1));
    expect(loaded.path).toBe(previousPath(path));
    expect(loaded.warning).toMatch(/truncated.*previous checkpoint/);
  });

  it('a single changed character fails the checksum', () => {
    const path = join(dir, 'c.json');
    saveCheckpoint(path, payload(3));
    const text = readFileSync(path, 'utf8');
    const i = text.indexOf('"batches":3');
    writeFileSync(path, text.slice(0, i) + '"batches":4' + text.slice(i + 11));
    expect(() => readCheckpoint(path)).toThrow(CheckpointError);
    expect(() => readCheckpoint(path)).toThrow(/checksum/);
    expect(() => loadCheckpoint(path)).toThrow(CheckpointError); // no previous one to fall back on
  });

  it('saving over a corrupted checkpoint keeps the good previous one', () => {
    const path = join(dir, 'd.json');
    saveCheckpoint(path, payload(1));
    saveCheckpoint(path, payload(2));
    writeFileSync(path, 'garbage');
    saveCheckpoint(path, payload(3));
    expect(readCheckpoint(path)).toEqual(payload(3));
    expect(readCheckpoint(previousPath(path))).toEqual(payload(1));
    expect(existsSync(join(dir, 'd.json.tmp'))).toBe(false);
  });
});
