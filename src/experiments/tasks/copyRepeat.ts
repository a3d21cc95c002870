/**
 * Copy-repeat in a run: batches at the curriculum's current level (N, R), the batch loss in bits per target bit
 * advancing the curriculum whenever it falls below the threshold (spec §8.8), rows of mean loss and bits.
 */
import type { Rng } from '../../core/random.js';
import { type CopyRepeatConfig, type Curriculum, bitsPerBit, copyRepeatBatch, copyRepeatLength, curriculumStart, curriculumUpdate } from '../../tasks/copyRepeat.js';
import { runStreams } from '../streams.js';
import { type TaskPlugin, round } from '../runTypes.js';

interface CopyLoop {
  rng: Rng;
  cur: Curriculum;
  lossSum: number;
  bitsSum: number;
  count: number;
  lastLoss: number | null;
  maxLen: number;
}

export const copyRepeatPlugin: TaskPlugin = {
  async start({ config: c, elapsed }, resume) {
    const cr: CopyRepeatConfig = { bits: c.bits, normRepeat: 10 };
    const loop: CopyLoop =
      resume === undefined
        ? { rng: runStreams(c.seed).data, cur: curriculumStart, lossSum: 0, bitsSum: 0, count: 0, lastLoss: null, maxLen: copyRepeatLength(curriculumStart.n, curriculumStart.r) }
        : (structuredClone(resume) as unknown as CopyLoop);
    return {
      columns: ['batch', 'loss', 'bits', 'N', 'R', 'seq_len', 'max_seq_len', 'seconds'],
      total: c.steps,
      initialRow: async () => null,
      nextBatch() {
        const [batch, r] = copyRepeatBatch(cr, loop.cur.n, loop.cur.r, c.batchSize, loop.rng);
        loop.rng = r;
        return batch;
      },
      async after(i, m) {
        const bits = bitsPerBit(cr, loop.cur.n, loop.cur.r, m.loss);
        loop.lastLoss = m.loss;
        loop.lossSum += m.loss;
        loop.bitsSum += bits;
        loop.count++;
        loop.cur = curriculumUpdate(loop.cur, bits, c.threshold);
        loop.maxLen = Math.max(loop.maxLen, copyRepeatLength(loop.cur.n, loop.cur.r));
        let row = null;
        if (i % c.logEvery === 0 || i === c.steps) {
          row = {
            batch: i,
            loss: loop.lossSum / loop.count,
            bits: loop.bitsSum / loop.count,
            N: loop.cur.n,
            R: loop.cur.r,
            seq_len: copyRepeatLength(loop.cur.n, loop.cur.r),
            max_seq_len: loop.maxLen,
            seconds: round(elapsed(), 4),
          };
          loop.lossSum = 0;
          loop.bitsSum = 0;
          loop.count = 0;
        }
        return { row, live: { bits: round(bits, 4), N: loop.cur.n, R: loop.cur.r, T: copyRepeatLength(loop.cur.n, loop.cur.r) } };
      },
      snapshot: () => structuredClone(loop) as unknown as Record<string, unknown>,
      async summary() {
        const { cur } = loop;
        return {
          // The level being trained at the end (reached by passing every level before it).
          maxSequenceLength: copyRepeatLength(cur.n, cur.r),
          N: cur.n,
          R: cur.r,
          // The longest level passed (its batch loss fell below the threshold); 0 if none.
          solvedSequenceLength: cur.solvedLength,
          levelsPassed: cur.advances,
        };
      },
    };
  },
};
