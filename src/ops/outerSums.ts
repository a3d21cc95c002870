/**
 * Per-example sums of outer products over the steps of a sequence, Σ_t u_t ⊗ v_t (u_t [B, m], v_t [B, n]), formed
 * as one batched matrix product at the end instead of T rank-1 updates of an accumulator [B, m, n]: the rows u_t
 * and v_t are stacked as they come ([B, K, m], [B, K, n]), then acc ← acc + Uᵀ V with Σ over the stack in the order
 * the terms were added. A product rounds each u·v once and sums from +0 in ascending order (the reference
 * backend's matmul), so on a zeroed accumulator this is the sequential sum ((0 + p₁) + p₂) + … bit for bit — the
 * core's order — while a fast backend runs one large product instead of T memory-bound updates.
 */
import type { DeviceArray } from '../backends/backend.js';
import type { OpContext } from './context.js';

interface Stack<A> {
  readonly index: number;
  readonly acc: A;
  readonly m: number;
  readonly n: number;
  U: A;
  V: A;
  capacity: number;
  count: number;
}

export class OuterSums<A extends DeviceArray> {
  private readonly stacks = new Map<A, Stack<A>>();

  /** `capacity`: the number of terms an accumulator is expected to receive (the stacks grow if it gets more). */
  constructor(
    private readonly ctx: OpContext<A>,
    private readonly capacity: number,
  ) {}

  /** Stack u ⊗ v (u [B, m], v [B, n]) for acc [B, m, n]; nothing is added to acc before `flush`. */
  add(acc: A, u: A, v: A): void {
    const [B, m] = u.shape as [number, number];
    const n = v.shape[1]!;
    let s = this.stacks.get(acc);
    if (s === undefined) {
      const index = this.stacks.size;
      const cap = Math.max(1, this.capacity);
      s = { index, acc, m, n, U: this.buffer(index, 'U', [B, cap, m]), V: this.buffer(index, 'V', [B, cap, n]), capacity: cap, count: 0 };
      this.stacks.set(acc, s);
    }
    if (s.count === s.capacity) this.grow(s, B);
    const be = this.ctx.be;
    be.copyBlock(s.U, be.reshape(u, [B, 1, m]), { outBegin: [0, s.count, 0], xBegin: [0, 0, 0], size: [B, 1, m] });
    be.copyBlock(s.V, be.reshape(v, [B, 1, n]), { outBegin: [0, s.count, 0], xBegin: [0, 0, 0], size: [B, 1, n] });
    s.count++;
  }

  /** acc ← acc + Σ (stacked terms) for every accumulator, then forget them. */
  flush(): void {
    const be = this.ctx.be;
    for (const s of this.stacks.values()) {
      const B = s.acc.shape[0]!;
      const [U, V] = s.count === s.capacity ? [s.U, s.V] : [this.head(s, 'U', s.U, s.m, B), this.head(s, 'V', s.V, s.n, B)];
      be.matmul(s.acc, U, V, { transposeA: true, accumulate: true });
    }
    this.stacks.clear();
  }

  /**
   * Keyed by width too: a trainer that sums outer products of different widths in one batch (the forward view:
   * the network gradients, then the synthesiser update) keeps a buffer for each instead of re-allocating both on
   * every batch (spec/backends/resident.test.ts). Not by length, which changes with the sequence length: a new
   * length replaces the buffer rather than adding one more.
   */
  private buffer(index: number, which: string, shape: readonly number[]): A {
    return this.ctx.tmp(`outer.${index}.${which}.w${shape[2]!}`, shape);
  }

  /** The first `count` terms of a stack in an array of exactly that length (so no stale row enters the sum). */
  private head(s: Stack<A>, which: 'U' | 'V', x: A, width: number, B: number): A {
    const out = this.buffer(s.index, `${which}.head`, [B, s.count, width]);
    this.ctx.be.copyBlock(out, x, { outBegin: [0, 0, 0], xBegin: [0, 0, 0], size: [B, s.count, width] });
    return out;
  }

  private grow(s: Stack<A>, B: number): void {
    const be = this.ctx.be;
    const cap = 2 * s.capacity;
    for (const which of ['U', 'V'] as const) {
      const width = which === 'U' ? s.m : s.n;
      const old = s[which];
      const next = this.buffer(s.index, `${which}.grown${cap}`, [B, cap, width]);
      be.copyBlock(next, old, { outBegin: [0, 0, 0], xBegin: [0, 0, 0], size: [B, s.capacity, width] });
      s[which] = next;
    }
    s.capacity = cap;
  }
}
