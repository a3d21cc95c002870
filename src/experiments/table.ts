/** Result tables of a set of runs: one row per method, numbers as mean ± standard deviation over seeds. */
import type { StoredRun } from './files.js';
import type { Summary } from './run.js';

export const methodOrder = (r: StoredRun): [number, number] => {
  const kinds = ['bp-lambda', 'sg', 'tbptt', 'bptt', 'eprop'];
  const k = kinds.indexOf(r.config.method);
  const p = r.config.method === 'bp-lambda' ? r.config.lambda : r.config.method === 'sg' || r.config.method === 'tbptt' ? r.config.n : 0;
  return [k, p];
};

/** Method labels in a stable order: BP(λ) by λ, then SG, TBPTT by n, BPTT, e-prop. */
export const labelsInOrder = (runs: readonly StoredRun[]): string[] => {
  const sorted = [...runs].sort((a, b) => {
    const [ka, pa] = methodOrder(a);
    const [kb, pb] = methodOrder(b);
    return ka - kb || pa - pb;
  });
  return [...new Set(sorted.map((r) => r.summary.label))];
};

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

export const meanSd = (xs: readonly number[], digits = 3): string =>
  xs.length === 0 ? '–' : xs.length === 1 ? xs[0]!.toFixed(digits) : `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`;

const pct = (xs: readonly number[]): string =>
  xs.length === 0 ? '–' : xs.length === 1 ? `${(100 * xs[0]!).toFixed(2)}%` : `${(100 * mean(xs)).toFixed(2)} ± ${(100 * sd(xs)).toFixed(2)}%`;

const nums = (ss: readonly Summary[], f: (s: Summary) => unknown): number[] =>
  ss.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The result table of runs of one task. */
export const resultTable = (runs: readonly StoredRun[]): Table => {
  const task = runs[0]?.config.task;
  const byLabel = new Map<string, Summary[]>();
  for (const r of runs) byLabel.set(r.summary.label, [...(byLabel.get(r.summary.label) ?? []), r.summary]);
  const labels = labelsInOrder(runs);
  const seeds = (ss: readonly Summary[]) => ss.map((s) => s.seed).join(',');
  if (task === 'toy') {
    const T = runs[0]!.config.seqLen;
    return {
      header: ['method', 'seeds', 'align t=1', `align mean t<${T}`, `align t=${Math.max(1, T - 1)}`, 'seconds'],
      rows: labels.map((l) => {
        const ss = byLabel.get(l)!;
        return [
          l,
          seeds(ss),
          meanSd(nums(ss, (s) => (s['finalAlignment'] as number[])[0])),
          meanSd(nums(ss, (s) => s['finalAlignmentMean'])),
          meanSd(nums(ss, (s) => (s['finalAlignment'] as number[])[T - 2])),
          meanSd(nums(ss, (s) => s.seconds), 1),
        ];
      }),
    };
  }
  if (task === 'seq-mnist')
    return {
      header: ['method', 'seeds', 'test accuracy', 'validation accuracy', 'epochs', 'seconds'],
      rows: labels.map((l) => {
        const ss = byLabel.get(l)!;
        return [
          l,
          seeds(ss),
          pct(nums(ss, (s) => s['testAccuracy'])),
          pct(nums(ss, (s) => s['validationAccuracy'])),
          meanSd(nums(ss, (s) => s['epochs']), 2),
          meanSd(nums(ss, (s) => s.seconds), 0),
        ];
      }),
    };
  return {
    header: ['method', 'seeds', 'max T reached', 'final (N, R)', 'levels passed', 'final bits/bit', 'seconds'],
    rows: labels.map((l) => {
      const ss = byLabel.get(l)!;
      return [
        l,
        seeds(ss),
        meanSd(nums(ss, (s) => s['maxSequenceLength']), 1),
        ss.map((s) => `(${String(s['N'])}, ${String(s['R'])})`).join(' '),
        meanSd(nums(ss, (s) => s['levelsPassed']), 1),
        meanSd(
          runs.filter((r) => r.summary.label === l).map((r) => Number(r.rows[r.rows.length - 1]?.['bits'] ?? NaN)).filter(Number.isFinite),
        ),
        meanSd(nums(ss, (s) => s.seconds), 0),
      ];
    }),
  };
};

/** A plain-text table with aligned columns. */
export const formatTable = (t: Table): string => {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('   '), ...t.rows.map(line)].join('\n');
};

/** The same table in Markdown. */
export const markdownTable = (t: Table): string =>
  [`| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** One line saying what the table of a task measures. */
export const tableCaption = (runs: readonly StoredRun[]): string => {
  const c = runs[0]?.config;
  if (c === undefined) return '';
  if (c.task === 'toy')
    return `Toy task: cosine between each method's learning signal on h_t and BPTT's dL/dh_t after ${c.steps} synthesiser updates (linear RNN H ${c.hidden}, T ${c.seqLen}, batch ${c.batchSize}, network ${c.lr === 0 ? 'frozen' : `lr ${c.lr}`}, synthesiser Adam lr ${c.lrSynth}, clip ${c.synthClip === Infinity ? 'off' : c.synthClip}, synthesiser targets at the ${c.targetScale === 'batch' ? 'batch-mean (authors\')' : 'per-example'} scale); mean ± sd over seeds.`;
  if (c.task === 'seq-mnist')
    return `Sequential MNIST: test accuracy of the best-validation checkpoint (LSTM H ${c.hidden}, batch ${c.batchSize}, lr ${c.lr}, ${c.trainSize || 48000} training examples).`;
  return `Copy-repeat: curriculum level reached after ${c.steps} batches (LSTM H ${c.hidden}, batch ${c.batchSize}, threshold ${c.threshold} bits per bit).`;
};
