/**
 * The CPU backend's threads: a pool of workers (Node's worker_threads or the browser's Web Workers) sharing the
 * backend's WebAssembly memories, and a fork-join `parallel` that splits a range of independent work items
 * (rows of a product, examples of a trace update) into contiguous chunks, one per thread, the calling thread
 * taking the first. Items never share a sum, so the split (and the thread count) cannot change a result.
 *
 * Hand-off: jobs are posted as messages (in order, after the memories they use). In Node a worker sleeps in
 * `Atomics.wait` on its wake word and drains its port synchronously when woken (a futex wake, not an event-loop
 * turn); in a browser it takes messages from its event loop. Each worker reports completion on a shared counter
 * that the caller waits on (`Atomics.wait` in Node, a spin on `Atomics.load` on a browser's main thread, where
 * waiting is not allowed). A worker that has not started yet is given nothing: its chunk runs on the calling
 * thread, so a slow start delays nothing and never deadlocks.
 */
import type { PackedProduct } from './gemm.js';
import type { TileWork } from './trace.js';
import type { WasmPrecision } from './wasm.js';

/** What a worker runs: a product's rows or a trace tile's examples (see worker.ts). */
export type Job =
  | (PackedProduct & { readonly kind: 'gemm'; readonly mem: number; readonly precision: WasmPrecision })
  | {
      readonly kind: 'trace';
      readonly mem: number;
      readonly precision: WasmPrecision;
      readonly layout: TileLayout;
      readonly work: TileWork;
    };

/** Where a trace tile's buffers lie in its memory (element counts and byte offsets). */
export interface TileLayout {
  readonly nb: number;
  readonly ld: number;
  readonly eOff: number;
  readonly oOff: number;
  readonly jOff: number;
  readonly scOff: number;
  readonly sOff: number;
  readonly n: number;
}

/** Messages to a worker. */
export type PoolMessage =
  | { readonly kind: 'init'; readonly ctl: SharedArrayBuffer; readonly index: number }
  | { readonly kind: 'memory'; readonly id: number; readonly memory: unknown; readonly precision: WasmPrecision; readonly module: object }
  | { readonly kind: 'drop'; readonly id: number }
  | { readonly kind: 'run'; readonly job: Job; readonly from: number; readonly to: number };

/** Control words (Int32) of the shared control block: counters, then per worker a ready flag and a wake word. */
export const CTL = { done: 0, failed: 1, seq: 2, errorLength: 3, ready: 4, wake: 4 + 256 } as const;
/** Words of the control block (at most 256 workers); an error message follows them. */
export const CTL_WORDS = CTL.wake + 256;
export const ERROR_BYTES = 2048;

interface PortLike {
  postMessage(m: PoolMessage): void;
  terminate(): unknown;
  unref?(): void;
}

type WorkerCtor = new (url: URL, options: { type: 'module' }) => PortLike;

const nodeWorker = (): WorkerCtor | undefined => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => { Worker?: WorkerCtor } | undefined } }).process;
  return proc?.getBuiltinModule?.('node:worker_threads')?.Worker;
};

/**
 * A worker running worker.js. Node: the compiled worker.js beside this module (from sources under a test runner,
 * its build in dist/). Browser: the literal `new Worker(new URL('./worker.js', import.meta.url), …)` form, which
 * bundlers (Vite, webpack) recognise and emit as a module-worker chunk.
 */
const startWorker = (node: WorkerCtor | undefined): PortLike => {
  if (node !== undefined) {
    const here = import.meta.url;
    const url = here.endsWith('.ts') ? new URL(here.replace('/src/backends/cpu/pool.ts', '/dist/src/backends/cpu/worker.js')) : new URL('./worker.js', here);
    return new node(url, { type: 'module' });
  }
  const Worker = (globalThis as unknown as { Worker: WorkerCtor }).Worker;
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
};

/** Why threads cannot run here, or null when they can. */
export const threadsUnavailable = (): string | null => {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available (a browser page must be cross-origin isolated: COOP same-origin and COEP require-corp)';
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (serve it with COOP same-origin and COEP require-corp)';
  if (nodeWorker() === undefined && typeof g.Worker !== 'function') return 'this JavaScript engine has no workers (Node ≥ 20.16 or a browser)';
  return null;
};

/** The threads this machine offers (Node's availableParallelism, a browser's hardwareConcurrency). */
export const availableThreads = (): number => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined } }).process;
  const os = proc?.getBuiltinModule?.('node:os');
  const n = os?.availableParallelism?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(256, Math.floor(n)));
};

export class Pool {
  private readonly workers: PortLike[] = [];
  private readonly ctl: Int32Array;
  private readonly errorText: Uint8Array;
  private readonly canBlock: boolean;
  private nextId = 1;
  /** Chunks handed to workers so far (for tests and reports: a pool whose workers never ran proves nothing). */
  dispatched = 0;

  /** `threads` counts the calling thread: threads − 1 workers are started. */
  constructor(readonly threads: number) {
    const sab = new SharedArrayBuffer(CTL_WORDS * 4 + ERROR_BYTES);
    this.ctl = new Int32Array(sab, 0, CTL_WORDS);
    this.errorText = new Uint8Array(sab, CTL_WORDS * 4, ERROR_BYTES);
    const node = nodeWorker();
    this.canBlock = node !== undefined;
    for (let w = 0; w < threads - 1; w++) {
      const worker = startWorker(node);
      worker.unref?.();
      worker.postMessage({ kind: 'init', ctl: sab, index: w });
      this.workers.push(worker);
    }
  }

  /**
   * Hand a memory to every worker with the compiled module to bind to it (the module itself, so that the workers
   * run the code the engine has already optimised); the id names the memory in jobs.
   */
  share(memory: unknown, precision: WasmPrecision, module: object): number {
    const id = this.nextId++;
    for (const w of this.workers) w.postMessage({ kind: 'memory', id, memory, precision, module });
    return id;
  }

  drop(id: number): void {
    for (const w of this.workers) w.postMessage({ kind: 'drop', id });
  }

  /**
   * Items [0, total) in contiguous chunks (multiples of `align` but the last), one per thread that is ready; the
   * calling thread runs chunk 0 with `local`, and the chunks of workers not started yet.
   */
  parallel(job: Job, total: number, align: number, local: (from: number, to: number) => void): void {
    const n = Math.min(this.threads, Math.ceil(total / align));
    const per = Math.ceil(total / n / align) * align;
    Atomics.store(this.ctl, CTL.done, 0);
    Atomics.add(this.ctl, CTL.seq, 1); // orders the caller's writes to shared memory before the workers' reads
    let sent = 0;
    const mine: [number, number][] = [];
    for (let c = 0; c < n; c++) {
      const from = c * per;
      const to = Math.min(total, from + per);
      if (from >= to) continue;
      const w = c - 1;
      if (c > 0 && Atomics.load(this.ctl, CTL.ready + w) === 1) {
        this.workers[w]!.postMessage({ kind: 'run', job, from, to });
        Atomics.add(this.ctl, CTL.wake + w, 1);
        Atomics.notify(this.ctl, CTL.wake + w);
        sent++;
        this.dispatched++;
      } else mine.push([from, to]);
    }
    for (const [from, to] of mine) local(from, to);
    for (let seen = Atomics.load(this.ctl, CTL.done); seen < sent; seen = Atomics.load(this.ctl, CTL.done))
      if (this.canBlock) Atomics.wait(this.ctl, CTL.done, seen, 1000);
    if (Atomics.load(this.ctl, CTL.failed) !== 0) {
      const len = Atomics.load(this.ctl, CTL.errorLength);
      Atomics.store(this.ctl, CTL.failed, 0);
      throw new Error(`a CPU backend worker failed: ${new TextDecoder().decode(this.errorText.slice(0, len))}`);
    }
  }

  /** Workers that have started (for reports; jobs never wait for the others). */
  started(): number {
    let n = 0;
    for (let w = 0; w < this.workers.length; w++) n += Atomics.load(this.ctl, CTL.ready + w);
    return n;
  }

  /** Resolves when every worker has started (polling; jobs never need it). */
  async whenStarted(timeoutMs = 30_000): Promise<void> {
    const t0 = Date.now();
    while (this.started() < this.workers.length) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`${this.workers.length - this.started()} CPU backend worker(s) did not start in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  destroy(): void {
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}
