/**
 * A page with a strict Content-Security-Policy (no 'unsafe-eval') forbids `eval` and `new Function`; V8 enforces
 * it with the same switch that Node's flag --disallow-code-generation-from-strings sets. The core and the
 * reference and CPU backends (WebAssembly SIMD, worker threads, and the JavaScript kernels) train under that flag
 * from the build: none of them compiles code from strings. (Compiling WebAssembly needs only 'wasm-unsafe-eval'
 * in a browser; gpu.js compiles its kernels from strings and needs 'unsafe-eval'.) The control shows the flag
 * bites: the ndarray package, which bplambda no longer uses, fails under it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const FLAG = '--disallow-code-generation-from-strings';

const script = `
import { cpuBackend, referenceBackend, createTrainer, learnerInit, lstmCell, rngFromSeed, hostView } from './dist/src/index.js';
let evalWorks = true;
try { new Function('return 1'); } catch { evalWorks = false; }
const model = { cell: lstmCell({ inputSize: 3, hiddenSize: 4 }), outputSize: 2, loss: 'mse' };
const method = { kind: 'bp-lambda', mode: 'full', schedule: 'sequence', synthesiser: { hidden: [] }, gamma: 1, lambda: 0.5, beta: 1, synthClip: Infinity };
const config = { model, method, network: { kind: 'sgd', lr: 0.1 }, synthesiser: { kind: 'sgd', lr: 0.1 } };
const batch = Array.from({ length: 2 }, (_, b) => ({ inputs: Array.from({ length: 4 }, (_, t) => Float64Array.from([b, t, 1])), targets: Array.from({ length: 4 }, () => Float64Array.from([0.5, -0.5])) }));
const out = { evalWorks, runs: [] };
for (const be of [referenceBackend(), cpuBackend({ precision: 64, threads: 2 }), cpuBackend({ precision: 32, threads: 1 }), cpuBackend({ precision: 64, kernels: 'js' })]) {
  const t = createTrainer(be, config);
  t.load(learnerInit(config, rngFromSeed(1))[0]);
  const m = await t.trainBatch(batch);
  const back = await be.read(be.upload({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2], stride: [1, 3], offset: 0 }));
  out.runs.push({ backend: be.name + ' ' + be.mode, loss: m.loss, back: Array.from(back.data) });
  be.destroy();
}
console.log(JSON.stringify(out));
`;

describe('no code generated from strings (CSP without unsafe-eval)', () => {
  it('the reference and CPU backends train under --disallow-code-generation-from-strings', () => {
    const r = spawnSync(process.execPath, [FLAG, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { evalWorks: boolean; runs: { backend: string; loss: number; back: number[] }[] };
    expect(out.evalWorks).toBe(false);
    expect(out.runs.map((x) => x.backend)).toEqual(['reference js-f64', expect.stringMatching(/^cpu wasm/), expect.stringMatching(/^cpu wasm/), 'cpu js']);
    for (const x of out.runs) {
      expect(Number.isFinite(x.loss)).toBe(true);
      expect(x.back).toEqual([1, 4, 2, 5, 3, 6]);
    }
  });

  it('control: ndarray compiles its constructors from strings and fails under the flag', () => {
    const run = () => execFileSync(process.execPath, [FLAG, '-e', "require('ndarray')(new Float64Array(4), [2, 2])"], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    expect(run).toThrow(/EvalError: Code generation from strings disallowed/);
  });
});
