/**
 * A worker of the CPU backend's pool (pool.ts): it binds the SIMD kernels to each shared memory it is sent and
 * runs the chunks it is given (rows of a product, examples of a trace tile) with the same code as the calling
 * thread, then counts itself done on the shared control block.
 */
import { gemmItems } from './gemm.js';
import { CTL, CTL_WORDS, ERROR_BYTES, type Job, type PoolMessage } from './pool.js';
import { type TileView, tileExamples } from './trace.js';
import { type Micro, type WasmMemory, type WasmPrecision, bind } from './wasm.js';

interface Bound {
  readonly memory: WasmMemory;
  readonly precision: WasmPrecision;
  readonly mm: Micro;
}

const memories = new Map<number, Bound>();
let ctl: Int32Array | null = null;
let errorText: Uint8Array | null = null;

const view = (b: Bound, byteOff: number, n: number) =>
  b.precision === 64 ? new Float64Array(b.memory.buffer, byteOff, n) : new Float32Array(b.memory.buffer, byteOff, n);

const run = (job: Job, from: number, to: number): void => {
  const b = memories.get(job.mem);
  if (b === undefined) throw new Error(`memory ${job.mem} was never sent to this worker`);
  const eb = job.precision === 64 ? 8 : 4;
  if (job.kind === 'gemm') return gemmItems(b.mm, eb, job, from, to);
  const { layout: l } = job;
  const { R } = job.work;
  const rows = l.nb * (R + 1);
  const t: TileView = {
    ld: l.ld,
    E: view(b, l.eOff, rows * l.ld),
    O: view(b, l.oOff, rows * l.ld),
    eOff: l.eOff,
    oOff: l.oOff,
    J: view(b, l.jOff, rows * R),
    jOff: l.jOff,
    sc: view(b, l.scOff, R + 1),
    scOff: l.scOff,
    S: view(b, l.sOff, l.nb * l.n),
    sOff: l.sOff,
    mm: b.mm,
  };
  tileExamples(t, job.work, from, to);
};

const handle = (m: PoolMessage): void => {
  switch (m.kind) {
    case 'init':
      ctl = new Int32Array(m.ctl, 0, CTL_WORDS);
      errorText = new Uint8Array(m.ctl, CTL_WORDS * 4, ERROR_BYTES);
      Atomics.store(ctl, CTL.ready + m.index, 1);
      return;
    case 'memory': {
      const memory = m.memory as WasmMemory;
      memories.set(m.id, { memory, precision: m.precision, mm: bind(m.module, memory) });
      return;
    }
    case 'drop':
      memories.delete(m.id);
      return;
    case 'run': {
      const c = ctl!;
      Atomics.load(c, CTL.seq); // see the caller's writes
      try {
        run(m.job, m.from, m.to);
      } catch (e) {
        const bytes = new TextEncoder().encode(String((e as Error)?.stack ?? e)).slice(0, ERROR_BYTES);
        errorText!.set(bytes);
        Atomics.store(c, CTL.errorLength, bytes.length);
        Atomics.store(c, CTL.failed, 1);
      }
      Atomics.add(c, CTL.done, 1);
      Atomics.notify(c, CTL.done);
      return;
    }
  }
};

interface NodePort {
  on(e: 'message', f: (m: PoolMessage) => void): void;
  once(e: 'message', f: (m: PoolMessage) => void): void;
}
interface NodeWorkerThreads {
  parentPort: NodePort | null;
  receiveMessageOnPort(port: NodePort): { message: PoolMessage } | undefined;
}
const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => NodeWorkerThreads | undefined } }).process;
const threads = proc?.getBuiltinModule?.('node:worker_threads');
const port = threads?.parentPort;
if (threads && port) {
  // Node: the first message (init) from the event loop, then sleep on the wake word and drain the port synchronously.
  port.once('message', (first) => {
    handle(first);
    const c = ctl!;
    const index = first.kind === 'init' ? first.index : 0;
    let seen = Atomics.load(c, CTL.wake + index);
    for (;;) {
      for (let m = threads.receiveMessageOnPort(port); m !== undefined; m = threads.receiveMessageOnPort(port)) handle(m.message);
      Atomics.wait(c, CTL.wake + index, seen);
      seen = Atomics.load(c, CTL.wake + index);
    }
  });
} else (globalThis as unknown as { onmessage: (e: { data: PoolMessage }) => void }).onmessage = (e) => handle(e.data);
