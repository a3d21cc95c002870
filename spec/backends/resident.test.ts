/**
 * Backend conformance, part 4: a training batch keeps everything on the backend. Parameters, optimiser states
 * (Adam's moments), synthesiser, traces and activations are uploaded once (`load`) and allocated on the first
 * batch; every later batch writes only its own data (inputs, targets, mask) and reads back only its metrics (the
 * per-step losses and the gradient norms), for every cell × method configuration (generated from the
 * enumerations) on every backend and gpu.js mode that can start here. On a GPU that is what makes a batch cost
 * one round trip (issue 12: "a training step never round-trips to the host").
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { type Computation, createTrainer } from '../../src/engine/trainer.js';
import { METHOD_KINDS, type LearnerConfig, type Method, learnerInit } from '../../src/core/learner.js';
import { lstmCell } from '../../src/core/lstm.js';
import type { Batch } from '../../src/core/model.js';
import { rngFromSeed } from '../../src/core/random.js';
import { rnnCell } from '../../src/core/rnn.js';
import { CELL_KINDS, type CellKind, methodCases } from './cases.js';
import { type Candidate, randomData, startAll, unstarted } from './support.js';

const { available, unavailable } = await startAll();

const B = 3;
const H = 4;
const I = 3;
const O = 2;
const T = 5;

const configOf = (cell: CellKind, method: Method): LearnerConfig => ({
  model: { cell: cell === 'lstm' ? lstmCell({ inputSize: I, hiddenSize: H }) : rnnCell({ inputSize: I, hiddenSize: H, activation: cell }), outputSize: O, loss: 'mse' },
  method,
  network: { kind: 'adam', lr: 1e-3 },
  synthesiser: { kind: 'adam', lr: 1e-3 },
});

const batchOf = (seed: number): Batch =>
  Array.from({ length: B }, (_, q) => ({
    inputs: Array.from({ length: T }, (_, k) => randomData(seed + 100 * q + k, I)),
    targets: Array.from({ length: T }, (_, k) => (k % 2 === 1 || k === T - 1 ? randomData(seed + 100 * q + 50 + k, O) : null)),
  }));

/** The data store's transfers and allocations, as [operation, elements], made through a backend. */
const WATCHED = new Set(['alloc', 'allocTrace', 'upload', 'write', 'read', 'readSync']);
const sizeOf = (op: string, args: unknown[]): number => {
  const shapeSize = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  if (op === 'alloc') return shapeSize(args[0] as number[]);
  if (op === 'allocTrace') return shapeSize(args as number[]);
  return shapeSize((args[0] as { shape: number[] }).shape); // upload's view, write's destination, read's array
};
const watching = (be: Backend): { backend: Backend; calls: [string, number][] } => {
  const calls: [string, number][] = [];
  const backend = new Proxy(be, {
    get: (target, key) => {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (typeof key !== 'string' || !WATCHED.has(key)) return f;
      return (...args: unknown[]) => {
        calls.push([key, sizeOf(key, args)]);
        return f(...args);
      };
    },
  });
  return { backend, calls };
};

const sorted = (xs: [string, number][]) => [...xs].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);

const suite = ({ backend: be }: Candidate) => {
  const runs = CELL_KINDS.flatMap((cell) =>
    METHOD_KINDS.flatMap((kind) =>
      methodCases(kind, cell).flatMap(([label, method]) => {
        const views: Computation[] = method.kind === 'bp-lambda' && method.schedule === 'sequence' && method.synthClip === Infinity ? ['traces', 'forward-view'] : ['traces'];
        return views.map((computation) => ({ cell, label: `${label}${computation === 'forward-view' ? ', forward view' : ''}`, method, computation }));
      }),
    ),
  );
  for (const { cell, label, method, computation } of runs)
  it(`${cell}, ${label}: after the first batch, a batch writes its data and reads back its metrics, nothing more`, async () => {
    const config = configOf(cell, method);
    const { backend, calls } = watching(be);
    const trainer = createTrainer(backend, config, { computation });
    const [state] = learnerInit(config, rngFromSeed(3));
    trainer.load(state);
    await trainer.trainBatch(batchOf(10));
    const metricRows = method.kind === 'bp-lambda' && method.schedule === 'step' ? T : 1;
    const liveAfterFirst = be.memory().arrays;
    for (let i = 0; i < 2; i++) {
      calls.length = 0;
      const m = await trainer.trainBatch(batchOf(20 + i));
      expect(Number.isFinite(m.loss)).toBe(true);
      // The losses [T, B] and the norms [optimiser points, tensors + 1] (src/engine/metrics.ts), once each.
      const reads = calls.filter(([op]) => op === 'read' || op === 'readSync');
      expect(sorted(reads), JSON.stringify(calls)).toEqual(sorted([['read', T * B], ['read', metricRows * (Object.keys(state.params).length + 1)]]));
      // Only the batch's own data goes in: inputs [T, B, I], targets [T, B, O], mask [T, B].
      expect(sorted(calls.filter(([op]) => op !== 'read' && op !== 'readSync'))).toEqual(sorted([['write', T * B * I], ['write', T * B * O], ['write', T * B]]));
      expect(be.memory().arrays).toBe(liveAfterFirst);
    }
    trainer.dispose();
  });
};

describe.each(available)('$name', suite);
// Backends that cannot start here: every case listed, skipped, with the reason in the suite's name.
for (const u of unavailable) describe.skip(`${u.name}: cannot start on this machine — ${u.reason}`, () => suite(unstarted(u.name)));
