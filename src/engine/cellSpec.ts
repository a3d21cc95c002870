/** The cell as the backend sees it, read off a core cell (bplambda's `rnnCell` and `lstmCell`). */
import type { CellSpec } from '../backends/backend.js';
import { InvalidInputError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { ACTIVATIONS } from '../core/rnn.js';

export const cellSpecOf = (model: Model): CellSpec => {
  const cell = model.cell;
  switch (cell.type) {
    case 'lstm':
      return { type: 'lstm' };
    case 'rnn':
      if (cell.activation !== undefined && (ACTIVATIONS as readonly string[]).includes(cell.activation)) return { type: 'rnn', activation: cell.activation };
      throw new InvalidInputError('model.cell.activation', `one of ${ACTIVATIONS.join(', ')} (an rnnCell of bplambda)`, `is ${String(cell.activation)}`);
  }
  throw new InvalidInputError('model.cell.type', "'rnn' or 'lstm' (bplambda's rnnCell or lstmCell)", `is '${String((cell as { type: unknown }).type)}'`);
};
