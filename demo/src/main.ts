/**
 * The demo page: two panels that train in the page without freezing it. Work runs in small chunks (one batch
 * of one lane at a time, about 12 ms per slice, then a setTimeout yield); charts are redrawn on animation frames.
 * The state the end-to-end test reads is published on `window.__bplambda` (see DemoHooks, demo/src/hooks.ts).
 */
import { type BackendChoice, type StartedBackend, isBackendChoice, offerWebGpu, startBackend, webGlInfo, webGpuInfo, webGpuStatus } from './backends.js';
import { LineChart, type Series } from './chart.js';
import { CopyLab, defaultCopySettings } from './copyLab.js';
import type { DemoHooks } from './hooks.js';
import { SEQ_LEN_MAX, SEQ_LEN_MIN, type ToySettings, ToyLab, defaultToySettings } from './toyLab.js';

const COLORS = ['#c0392b', '#e08e0b', '#1f6fb4', '#2e8b57', '#8e44ad'];
const SLICE_MS = 12;

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing from index.html`);
  return e as T;
};

const fixed = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');

// ---------------------------------------------------------------------------------------------------
// State

const webgl = webGlInfo();
const webgpu = await webGpuInfo();
let toyBackend: StartedBackend = await startBackend('reference');
let copyBackend: StartedBackend = await startBackend('reference');
const toy = new ToyLab(defaultToySettings, toyBackend.backend);
const copy = new CopyLab(defaultCopySettings, copyBackend.backend);
let toyRunning = false;
let copyRunning = false;
let toySwitching = false;
let copySwitching = false;
const errors: string[] = [];

const hooks: DemoHooks = {
  ready: false,
  toyRunning: false,
  alignmentUpdates: 0,
  firstStepAlignment: {},
  meanAlignment: {},
  backendRequested: 'reference',
  backendName: toyBackend.name,
  backendMode: toyBackend.mode,
  backendLabel: toyBackend.label,
  backendFallback: null,
  backendAdapter: null,
  backendThreads: 1,
  backendThreadsNote: null,
  backendSwitching: false,
  webgl,
  webgpu,
  settings: toy.current,
  copy: {
    running: false,
    batches: 0,
    n: 1,
    r: 1,
    length: copy.length,
    solvedLength: 0,
    backendName: copyBackend.name,
    backendMode: copyBackend.mode,
    backendFallback: null,
    backendAdapter: null,
    threads: copyBackend.threads,
    threadsNote: copyBackend.threadsNote,
    workers: copyBackend.workers(),
  },
  errors,
};
window.__bplambda = hooks;

// ---------------------------------------------------------------------------------------------------
// Charts

const perStepChart = new LineChart($('chart-per-step'), {
  title: 'Alignment with BPTT per time step (latest update)',
  xLabel: 'time step t',
  yLabel: 'cosine with BPTT',
  yDomain: [-1, 1],
  integerX: true,
});
const historyChart = new LineChart($('chart-history'), {
  title: 'First-step alignment (t = 1) over training',
  xLabel: 'update',
  yLabel: 'cosine at t = 1',
  yDomain: [-1, 1],
  integerX: true,
});
const copyChart = new LineChart($('chart-copy'), {
  title: 'Sequence length reached against batches',
  xLabel: 'batch',
  yLabel: 'sequence length T',
  integerX: true,
});
const copyLossChart = new LineChart($('chart-copy-loss'), {
  title: 'Loss per target bit (advance below the threshold)',
  xLabel: 'batch',
  yLabel: 'bits per target bit',
  integerX: true,
});

let dirty = true;
const requestRender = (): void => {
  if (dirty) return;
  dirty = true;
  requestAnimationFrame(render);
};

function render(): void {
  dirty = false;
  const T = toy.current.seqLen;
  perStepChart.draw(
    toy.lanes.map((l, i) => ({ name: l.label, color: COLORS[i % COLORS.length]!, points: l.perStep.map((v, k) => [k + 1, v] as const) })),
  );
  perStepChart.svg.dataset.steps = String(T);
  historyChart.draw(toy.lanes.map((l, i) => ({ name: l.label, color: COLORS[i % COLORS.length]!, points: l.history.map((p) => [p.update, p.first] as const) })));
  historyChart.svg.dataset.updates = String(toy.updates);
  const copySeries: Series[] = [
    { name: 'longest level passed', color: '#1f6fb4', step: true, points: copy.history.map((p) => [p.batch, p.solved] as const) },
    { name: 'level in training', color: '#999999', step: true, dashed: true, points: copy.history.map((p) => [p.batch, p.length] as const) },
  ];
  copyChart.draw(copySeries);
  copyChart.svg.dataset.batches = String(copy.batches);
  const last = copy.history.at(-1)?.batch ?? 1;
  copyLossChart.draw([
    { name: 'loss', color: '#8e44ad', points: copy.history.map((p) => [p.batch, p.bitsPerBit] as const) },
    { name: `threshold ${copy.settings.threshold}`, color: '#999999', dashed: true, points: [[1, copy.settings.threshold], [Math.max(2, last), copy.settings.threshold]] },
  ]);

  // The lane table.
  const rows = toy.lanes.map(
    (l, i) =>
      `<tr><td><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${l.label}</td><td data-lane="${l.key}" data-first="${l.perStep[0] ?? ''}">${fixed(l.perStep[0] ?? NaN)}</td><td>${fixed(l.history.at(-1)?.mean ?? NaN)}</td><td>${l.lastLoss.toExponential(2)}</td></tr>`,
  );
  $('lane-rows').innerHTML = rows.join('');
  $('toy-updates').textContent = String(toy.updates);
  $('toy-ms').textContent = toy.updates === 0 ? '–' : toy.lastRoundMs.toFixed(1);
  $('toy-state').textContent = toySwitching ? 'starting backend…' : toyRunning ? 'training' : toy.updates === 0 ? 'ready: press Start' : 'paused';

  const c = copy.curriculum;
  $('copy-batches').textContent = String(copy.batches);
  $('copy-level').textContent = `N = ${c.n}, R = ${c.r} (T = ${copy.length})`;
  $('copy-solved').textContent = c.solvedLength === 0 ? 'none yet' : `T = ${c.solvedLength} (${c.advances} levels)`;
  $('copy-loss').textContent = fixed(copy.history.at(-1)?.bitsPerBit ?? NaN);
  $('copy-ms').textContent = copy.batches === 0 ? '–' : copy.lastMs.toFixed(1);
  $('copy-state').textContent = copySwitching ? 'starting backend…' : copyRunning ? 'training' : copy.batches === 0 ? 'ready: press Start' : 'paused';
  $('error').textContent = errors.at(-1) ?? '';
}

const showBackend = (prefix: 'toy' | 'copy', b: StartedBackend): void => {
  const mode = $(`${prefix}-backend-mode`);
  mode.textContent = b.label;
  mode.dataset.name = b.name;
  mode.dataset.mode = b.mode;
  mode.dataset.threads = String(b.threads);
  mode.dataset.adapterKind = b.adapter?.kind ?? '';
  const note = $(`${prefix}-backend-note`);
  const text = [b.fallback, b.threadsNote].filter((x) => x !== null).join('; ');
  note.textContent = text;
  note.hidden = text === '';
};

const publish = (): void => {
  hooks.toyRunning = toyRunning;
  hooks.alignmentUpdates = toy.updates;
  hooks.firstStepAlignment = Object.fromEntries(toy.lanes.map((l) => [l.key, l.perStep[0] ?? NaN]));
  hooks.meanAlignment = Object.fromEntries(toy.lanes.map((l) => [l.key, l.history.at(-1)?.mean ?? NaN]));
  hooks.backendRequested = toyBackend.requested;
  hooks.backendName = toyBackend.name;
  hooks.backendMode = toyBackend.mode;
  hooks.backendLabel = toyBackend.label;
  hooks.backendFallback = toyBackend.fallback;
  hooks.backendAdapter = toyBackend.adapter;
  hooks.backendThreads = toyBackend.threads;
  hooks.backendThreadsNote = toyBackend.threadsNote;
  hooks.backendSwitching = toySwitching;
  hooks.settings = toy.current;
  hooks.copy = {
    running: copyRunning,
    batches: copy.batches,
    n: copy.curriculum.n,
    r: copy.curriculum.r,
    length: copy.length,
    solvedLength: copy.curriculum.solvedLength,
    backendName: copyBackend.name,
    backendMode: copyBackend.mode,
    backendFallback: copyBackend.fallback,
    backendAdapter: copyBackend.adapter,
    threads: copyBackend.threads,
    threadsNote: copyBackend.threadsNote,
    workers: copyBackend.workers(),
  };
};

// ---------------------------------------------------------------------------------------------------
// The work loop

let looping = false;
const fail = (where: string, e: unknown): void => {
  const msg = `${where}: ${e instanceof Error ? e.message : String(e)}`;
  errors.push(msg);
  console.error(msg, e);
};

const loop = async (): Promise<void> => {
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < SLICE_MS) {
      let did = false;
      if (toyRunning && !toySwitching) {
        try {
          await toy.work();
        } catch (e) {
          toyRunning = false;
          fail(`toy panel (${toyBackend.label})`, e);
        }
        did = true;
      }
      if (copyRunning && !copySwitching) {
        try {
          await copy.work();
        } catch (e) {
          copyRunning = false;
          fail(`copy-repeat panel (${copyBackend.label})`, e);
        }
        did = true;
      }
      if (!did) break;
    }
  } finally {
    publish();
    requestRender();
    looping = toyRunning || copyRunning;
    if (looping) setTimeout(() => void loop(), 0);
  }
};

const kick = (): void => {
  publish();
  requestRender();
  if (!looping && (toyRunning || copyRunning)) {
    looping = true;
    setTimeout(() => void loop(), 0);
  }
};

// ---------------------------------------------------------------------------------------------------
// Controls

const lambdaInputs = [0, 1, 2].map((i) => $<HTMLInputElement>(`lambda-${i}`));
const gammaInput = $<HTMLInputElement>('gamma');
const seqLenInput = $<HTMLInputElement>('seq-len');
const seqLenOut = $<HTMLOutputElement>('seq-len-value');
const lrInput = $<HTMLSelectElement>('lr');
const toyBackendSelect = $<HTMLSelectElement>('toy-backend');
const copyBackendSelect = $<HTMLSelectElement>('copy-backend');

seqLenInput.min = String(SEQ_LEN_MIN);
seqLenInput.max = String(SEQ_LEN_MAX);

const clamp01 = (v: number, fallback: number): number => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : fallback);

const readSettings = (): ToySettings => {
  const prev = toy.current;
  return {
    lambdas: lambdaInputs.map((inp, i) => clamp01(inp.valueAsNumber, prev.lambdas[i] ?? 1)),
    gamma: clamp01(gammaInput.valueAsNumber, prev.gamma),
    seqLen: Math.min(SEQ_LEN_MAX, Math.max(SEQ_LEN_MIN, Math.round(seqLenInput.valueAsNumber || prev.seqLen))),
    lr: Number(lrInput.value) > 0 ? Number(lrInput.value) : prev.lr,
  };
};

const onSettings = (): void => {
  const s = readSettings();
  seqLenOut.value = String(s.seqLen);
  try {
    toy.setSettings(s);
  } catch (e) {
    fail('settings', e);
  }
  kick();
};
for (const inp of [...lambdaInputs, gammaInput, lrInput]) inp.addEventListener('change', onSettings);
seqLenInput.addEventListener('input', () => (seqLenOut.value = seqLenInput.value));
seqLenInput.addEventListener('change', onSettings);

$('toy-start').addEventListener('click', () => {
  toyRunning = true;
  kick();
});
$('toy-pause').addEventListener('click', () => {
  toyRunning = false;
  kick();
});
$('toy-reset').addEventListener('click', () => {
  toy.reset();
  kick();
});
$('copy-start').addEventListener('click', () => {
  copyRunning = true;
  kick();
});
$('copy-pause').addEventListener('click', () => {
  copyRunning = false;
  kick();
});
$('copy-reset').addEventListener('click', () => {
  copy.reset();
  kick();
});

/** Start the chosen backend, move the panel's trainers onto it (keeping the learned parameters), free the old one. */
const switchBackend = async (panel: 'toy' | 'copy', choice: BackendChoice): Promise<void> => {
  if (panel === 'toy') toySwitching = true;
  else copySwitching = true;
  publish();
  requestRender();
  try {
    const started = await startBackend(choice);
    const old = panel === 'toy' ? toyBackend : copyBackend;
    if (panel === 'toy') {
      await toy.setBackend(started.backend);
      toyBackend = started;
    } else {
      await copy.setBackend(started.backend);
      copyBackend = started;
    }
    old.backend.destroy();
    showBackend(panel, started);
  } catch (e) {
    fail(`starting backend ${choice}`, e);
  } finally {
    if (panel === 'toy') toySwitching = false;
    else copySwitching = false;
    kick();
  }
};
toyBackendSelect.addEventListener('change', () => {
  if (isBackendChoice(toyBackendSelect.value)) void switchBackend('toy', toyBackendSelect.value);
});
copyBackendSelect.addEventListener('change', () => {
  if (isBackendChoice(copyBackendSelect.value)) void switchBackend('copy', copyBackendSelect.value);
});

// WebGL status line.
$('webgl-status').textContent = webgl.webgl2 || webgl.webgl
  ? `This browser gives ${webgl.webgl2 ? 'WebGL2' : 'WebGL 1'}${webgl.renderer === null ? '' : ` on ${webgl.renderer}`}${webgl.software ? ' (software rendering: expect the gpu.js backend to be slower than the CPU)' : ''}.`
  : 'WebGL is unavailable in this browser: the gpu.js backend cannot start, and the panels run on the reference backend.';
$('webgpu-status').textContent = webGpuStatus(webgpu);
offerWebGpu(toyBackendSelect, webgpu);
offerWebGpu(copyBackendSelect, webgpu);

// Initial backends: the toy panel on the reference; the copy-repeat panel on gpu.js WebGL when it starts.
showBackend('toy', toyBackend);
showBackend('copy', copyBackend);
toyBackendSelect.value = 'reference';
copyBackendSelect.value = 'gpujs';
seqLenInput.value = String(defaultToySettings.seqLen);
seqLenOut.value = String(defaultToySettings.seqLen);
await switchBackend('copy', 'gpujs');
hooks.ready = true;
document.body.dataset.ready = 'true';
render();
