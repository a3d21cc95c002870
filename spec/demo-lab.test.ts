/**
 * The demo's training logic (demo/src/toyLab.ts, demo/src/copyLab.ts) run in Node, without a browser: the toy
 * lanes learn (BP(1) aligns at the first step, BP(0) does not yet), the last step is exact, settings and
 * backends change without losing what was learned, and the copy-repeat curriculum is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu/index.js';
import type { Backend } from '../src/backends/backend.js';
import { referenceBackend } from '../src/backends/reference.js';
import { CopyLab, defaultCopySettings } from '../demo/src/copyLab.js';
import { ToyLab, defaultToySettings, laneKey, laneLabel } from '../demo/src/toyLab.js';

const reference = (): Backend => referenceBackend() as unknown as Backend;
const rounds = async (lab: ToyLab, n: number): Promise<void> => {
  for (let done = 0; done < n; ) if (await lab.work()) done += 1;
};
const firstStep = (lab: ToyLab): Record<string, number> => Object.fromEntries(lab.lanes.map((l) => [l.key, l.perStep[0]!]));

describe('demo toy lab', () => {
  it('BP(0), BP(0.5), BP(1) side by side: after 50 updates BP(1) aligns at t = 1 far better than BP(0); t = T is exact', async () => {
    const lab = new ToyLab(defaultToySettings, reference());
    expect(lab.lanes.map((l) => l.label)).toEqual(['BP(0)', 'BP(0.5)', 'BP(1)']);
    expect(lab.lanes.map((l) => l.key)).toEqual(['bp0', 'bp0.5', 'bp1']);
    // A round is one batch per lane: the first two calls train lanes, the third completes the update.
    expect([await lab.work(), await lab.work(), await lab.work()]).toEqual([false, false, true]);
    await rounds(lab, 49);
    expect(lab.updates).toBe(50);
    for (const lane of lab.lanes) {
      expect(lane.history).toHaveLength(50);
      expect(lane.perStep).toHaveLength(10);
      for (const c of lane.perStep) expect(Math.abs(c)).toBeLessThanOrEqual(1 + 1e-12);
      // At the last step the learning signal is the immediate gradient, which is BPTT's.
      expect(lane.perStep[9]).toBeCloseTo(1, 12);
    }
    const f = firstStep(lab);
    // Measured with these default settings and seeds (deterministic, the reference backend): BP(1) 0.742, BP(0)
    // 0.160, BP(0.5) 0.071 after 50 updates. The thresholds sit 20% and 50% below, so they fail when BP(1) stops
    // learning the first step or BP(0) catches up with it, not on a change of rounding.
    expect(f.bp1!).toBeGreaterThan(0.6);
    expect(f.bp1! - f.bp0!).toBeGreaterThan(0.3);
    // Every lane shares the frozen RNN.
    const W = lab.lanes.map((l) => l.state.params.W_rec);
    expect(W[1]!.data).toEqual(W[0]!.data);
    expect(W[2]!.data).toEqual(W[0]!.data);
    lab.dispose();
  });

  it('a new backend goes on from the learned synthesisers (cpu-f32 stays within float32 of the reference)', async () => {
    const a = new ToyLab(defaultToySettings, reference());
    const b = new ToyLab(defaultToySettings, reference());
    await rounds(a, 10);
    await rounds(b, 10);
    await b.setBackend(cpuBackend({ precision: 32, kernels: 'js' }) as unknown as Backend);
    await rounds(a, 10);
    await rounds(b, 10);
    expect(b.updates).toBe(20);
    expect(b.lanes[2]!.history).toHaveLength(20);
    const fa = firstStep(a);
    const fb = firstStep(b);
    for (const k of Object.keys(fa)) expect(Math.abs(fa[k]! - fb[k]!)).toBeLessThan(1e-3);
  });

  it('settings take effect at the next round: T changes the per-step series, a new λ restarts only its lane', async () => {
    const lab = new ToyLab(defaultToySettings, reference());
    await rounds(lab, 5);
    await lab.work(); // mid-round
    lab.setSettings({ ...defaultToySettings, lambdas: [0, 0.75, 1], seqLen: 20, gamma: 0.9 });
    expect(lab.current.seqLen).toBe(20);
    expect(lab.lanes[0]!.perStep).toHaveLength(10); // not applied yet
    await rounds(lab, 2); // finishes the open round (T = 10), then one at T = 20
    expect(lab.updates).toBe(7);
    expect(lab.lanes.map((l) => l.label)).toEqual(['BP(0)', laneLabel(0.75), 'BP(1)']);
    expect(lab.lanes[1]!.key).toBe(laneKey(0.75));
    for (const lane of lab.lanes) expect(lane.perStep).toHaveLength(20);
    expect(lab.lanes[0]!.history).toHaveLength(7);
    expect(lab.lanes[1]!.history).toHaveLength(1);
    expect(() => lab.setSettings({ ...defaultToySettings, seqLen: 61 })).toThrow(RangeError);
    expect(() => lab.setSettings({ ...defaultToySettings, lambdas: [0, 1.5, 1] })).toThrow(RangeError);
    lab.reset();
    expect(lab.updates).toBe(0);
    expect(lab.lanes.every((l) => l.history.length === 0)).toBe(true);
  });
});

describe('demo copy-repeat lab', () => {
  it('trains batches at the curriculum level, deterministically; reset starts over', async () => {
    const a = new CopyLab(defaultCopySettings, reference());
    const b = new CopyLab(defaultCopySettings, reference());
    for (let i = 0; i < 25; i++) {
      const pa = await a.work();
      const pb = await b.work();
      expect(pb).toEqual(pa);
      expect(pa.length).toBeGreaterThanOrEqual(5);
      expect(Number.isFinite(pa.bitsPerBit) && pa.bitsPerBit > 0).toBe(true);
    }
    expect(a.batches).toBe(25);
    expect(a.history).toHaveLength(25);
    expect(a.history[0]!.length).toBe(5); // N = R = 1: T = (R + 1)·N + 3
    a.reset();
    expect([a.batches, a.history.length, a.curriculum.n, a.curriculum.r]).toEqual([0, 0, 1, 1]);
  });
});
