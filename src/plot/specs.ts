/**
 * Vega-Lite specifications of the plots, built from stored runs (pure functions: runs in, a JSON spec out).
 * - toy: final alignment per time step, and alignment over training (mean over the steps with a future
 *   gradient, and the first step), one line per method (mean over seeds);
 * - seq-MNIST: training loss and validation accuracy against epochs, test accuracy in the legend;
 * - copy-repeat: curriculum progress (sequence length reached against batches) and the loss in bits per bit.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { StoredRun } from '../experiments/files.js';
import { labelsInOrder } from '../experiments/table.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const baseConfig = {
  background: 'white',
  font: FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' as const },
  line: { strokeWidth: 2 },
};

const colour = (runs: readonly StoredRun[]) => {
  const labels = labelsInOrder(runs);
  return {
    field: 'method',
    type: 'nominal' as const,
    title: 'method',
    sort: labels,
    // Ten distinct colours, or twenty when there are more methods.
    scale: { scheme: labels.length > 10 ? 'category20' : 'tableau10' },
  };
};

/** Line style by method family, so that methods with equal numbers (BP(0) and SG n=1) stay visible. */
const family = (method: string): string =>
  method.startsWith('BP(') ? 'BP(λ)' : method.startsWith('SG') ? 'n-step SG' : method.startsWith('TBPTT') ? 'truncated BPTT' : method;

const dash = { field: 'family', type: 'nominal' as const, title: 'family' };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

const seedsNote = (runs: readonly StoredRun[]): string => {
  const seeds = [...new Set(runs.map((r) => r.config.seed))].sort((a, b) => a - b);
  return seeds.length === 1 ? `seed ${seeds[0]}` : `mean over seeds ${seeds.join(', ')}`;
};

export const toyAlignmentSpec = (runs: readonly StoredRun[]): TopLevelSpec => {
  const c = runs[0]!.config;
  const perStep = runs.flatMap((r) =>
    ((r.summary['finalAlignment'] as number[] | undefined) ?? []).map((a, k) => ({ method: r.summary.label, family: family(r.summary.label), seed: r.config.seed, t: k + 1, alignment: a })),
  );
  const overTraining = runs.flatMap((r) =>
    r.rows
      .filter((row) => num(row['align_mean']) !== null)
      .map((row) => ({ method: r.summary.label, family: family(r.summary.label), seed: r.config.seed, batch: row['batch'], mean: row['align_mean'], first: row['align_t1'] })),
  );
  const lineOverTraining = (field: 'mean' | 'first', title: string) => ({
    title,
    width: 300,
    height: 230,
    data: { values: overTraining },
    mark: { type: 'line' as const },
    encoding: {
      x: { field: 'batch', type: 'quantitative' as const, title: 'synthesiser updates (batches)' },
      y: { aggregate: 'mean' as const, field, type: 'quantitative' as const, title: 'cosine with BPTT', scale: { domainMax: 1 } },
      color: colour(runs),
      strokeDash: dash,
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: baseConfig,
    title: {
      text: 'Toy task: alignment of the learning signal with BPTT dL/dh_t',
      subtitle: `linear RNN H ${c.hidden}, T ${c.seqLen}, batch ${c.batchSize}, ${c.steps} updates, synthesiser lr ${c.lrSynth}, network ${c.lr === 0 ? 'frozen' : `lr ${c.lr}`}, γ ${c.gamma}, β ${c.beta}; ${seedsNote(runs)}`,
    },
    hconcat: [
      {
        title: 'After training, per time step',
        width: 300,
        height: 230,
        data: { values: perStep },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time step t', axis: { tickMinStep: 1 }, scale: { domain: [1, c.seqLen] } },
          y: { aggregate: 'mean', field: 'alignment', type: 'quantitative', title: 'cosine with BPTT', scale: { domainMax: 1 } },
          color: colour(runs),
          strokeDash: dash,
        },
      },
      lineOverTraining('mean', `Over training, mean over t = 1..${c.seqLen - 1}`),
      lineOverTraining('first', 'Over training, first step t = 1'),
    ],
  } as TopLevelSpec;
};

export const seqMnistSpec = (runs: readonly StoredRun[]): TopLevelSpec => {
  const c = runs[0]!.config;
  const tests = new Map<string, number[]>();
  for (const r of runs) {
    const a = num(r.summary['testAccuracy']);
    if (a !== null) tests.set(r.summary.label, [...(tests.get(r.summary.label) ?? []), a]);
  }
  const label = (r: StoredRun) => {
    const t = tests.get(r.summary.label);
    return t === undefined ? r.summary.label : `${r.summary.label} (test ${((100 * t.reduce((a, b) => a + b, 0)) / t.length).toFixed(1)}%)`;
  };
  const labelled = runs.map((r) => ({ ...r, summary: { ...r.summary, label: label(r) } }));
  const values = labelled.flatMap((r) =>
    r.rows.map((row) => ({ method: r.summary.label, seed: r.config.seed, epoch: row['epoch'], loss: row['loss'], val: row['val_accuracy'] })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: baseConfig,
    title: {
      text: 'Sequential MNIST: learning curves',
      subtitle: `LSTM H ${c.hidden}, batch ${c.batchSize}, lr ${c.lr}, γ ${c.gamma}, β ${c.beta}, ${c.trainSize || 48000} training examples; ${seedsNote(runs)}`,
    },
    hconcat: [
      {
        title: 'Training loss (cross-entropy)',
        width: 320,
        height: 230,
        data: { values },
        transform: [{ filter: 'isValid(datum.loss)' }],
        mark: { type: 'line' },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epochs' },
          y: { aggregate: 'mean', field: 'loss', type: 'quantitative', title: 'loss' },
          color: colour(labelled),
        },
      },
      {
        title: 'Validation accuracy',
        width: 320,
        height: 230,
        data: { values },
        transform: [{ filter: 'isValid(datum.val)' }],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epochs' },
          y: { aggregate: 'mean', field: 'val', type: 'quantitative', title: 'accuracy', scale: { zero: false }, axis: { format: '.0%' } },
          color: colour(labelled),
        },
      },
    ],
  } as TopLevelSpec;
};

export const copyRepeatSpec = (runs: readonly StoredRun[]): TopLevelSpec => {
  const c = runs[0]!.config;
  const values = runs.flatMap((r) =>
    r.rows.map((row) => ({ method: r.summary.label, seed: r.config.seed, batch: row['batch'], len: row['seq_len'], bits: row['bits'] })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: baseConfig,
    title: {
      text: 'Copy-repeat: curriculum progress',
      subtitle: `LSTM H ${c.hidden}, batch ${c.batchSize}, lr ${c.lr} (synthesiser ${c.lrSynth}), γ ${c.gamma}, β ${c.beta}, threshold ${c.threshold} bits; ${seedsNote(runs)}`,
    },
    hconcat: [
      {
        title: 'Sequence length T = (R+1)N + 3 reached',
        width: 320,
        height: 230,
        data: { values },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'batch', type: 'quantitative', title: 'batches' },
          y: { aggregate: 'mean', field: 'len', type: 'quantitative', title: 'sequence length' },
          color: colour(runs),
        },
      },
      {
        title: 'Loss per target bit (bits)',
        width: 320,
        height: 230,
        layer: [
          {
            data: { values },
            mark: { type: 'line' },
            encoding: {
              x: { field: 'batch', type: 'quantitative', title: 'batches' },
              y: { aggregate: 'mean', field: 'bits', type: 'quantitative', title: 'bits per bit' },
              color: colour(runs),
            },
          },
          {
            data: { values: [{ threshold: c.threshold }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
            encoding: { y: { field: 'threshold', type: 'quantitative' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
};

/** The figure of a task from its runs. */
export const taskSpec = (task: string, runs: readonly StoredRun[]): TopLevelSpec =>
  task === 'toy' ? toyAlignmentSpec(runs) : task === 'seq-mnist' ? seqMnistSpec(runs) : copyRepeatSpec(runs);
