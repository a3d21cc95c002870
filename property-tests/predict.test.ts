/**
 * predict and evaluate over random cells, sizes, losses and masks: a sequence split at any step and continued from
 * the returned state gives the outputs and final state of the whole sequence, number for number; a batch gives each
 * sequence's own prediction; and evaluate's loss is (===) the loss full BPTT training reports at the same parameters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { learnerInit, trainBatch, type LearnerConfig } from '../src/core/learner.js';
import { LOSSES } from '../src/core/model.js';
import { evaluate, predict } from '../src/core/predict.js';
import { rngFromSeed } from '../src/core/random.js';
import { extraSequencesArb, fcParams, problemArb } from './arbitraries.js';

describe('predict (property)', () => {
  it('continuing from the state returned at any split step gives the whole sequence’s outputs and state', () => {
    fc.assert(
      fc.property(
        problemArb({ cell: 'any' }).chain((p) => fc.record({ p: fc.constant(p), k: fc.integer({ min: 0, max: p.sequence.inputs.length }) })),
        ({ p, k }) => {
          const { inputs } = p.sequence;
          const whole = predict(p.model, p.params, { inputs });
          const head = predict(p.model, p.params, { inputs: inputs.slice(0, k) });
          const tail = predict(p.model, p.params, { inputs: inputs.slice(k) }, { state: head.state });
          expect([...head.outputs, ...tail.outputs]).toEqual(whole.outputs);
          expect(tail.state).toEqual(whole.state);
        },
      ),
      fcParams(60),
    );
  });

  it('a batch gives each sequence’s own prediction', () => {
    fc.assert(
      fc.property(
        problemArb({ cell: 'any' }).chain((p) => fc.record({ p: fc.constant(p), more: extraSequencesArb(p, 0, 3) })),
        ({ p, more }) => {
          const batch = [p.sequence, ...more];
          const all = predict(p.model, p.params, batch);
          batch.forEach((seq, b) => {
            const one = predict(p.model, p.params, seq);
            expect(all.outputs[b]).toEqual(one.outputs);
            expect(all.states[b]).toEqual(one.state);
          });
        },
      ),
      fcParams(40),
    );
  });
});

describe('evaluate (property)', () => {
  it('its loss is the loss full BPTT training reports at the same parameters, for every loss', () => {
    fc.assert(
      fc.property(
        problemArb({ cell: 'any' }).chain((p) => fc.record({ p: fc.constant(p), more: extraSequencesArb(p, 0, 3), loss: fc.constantFrom(...LOSSES) })),
        ({ p, more, loss }) => {
          const model = { ...p.model, loss };
          const config: LearnerConfig = { model, method: { kind: 'bptt' }, network: { kind: 'sgd', lr: 0.1 }, synthesiser: { kind: 'frozen' } };
          const state = { ...learnerInit(config, rngFromSeed(0))[0], params: p.params };
          const batch = [p.sequence, ...more];
          expect(evaluate(model, p.params, batch).loss).toBe(trainBatch(config, state, batch)[0].loss);
        },
      ),
      fcParams(60),
    );
  });
});
