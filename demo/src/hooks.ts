/**
 * The state the demo page publishes on `window.__bplambda` for the end-to-end test (spec/e2e/demo.e2e.test.ts).
 */
import type { BackendAdapter } from '../../src/backends/backend.js';
import type { BackendChoice, WebGlInfo, WebGpuInfo } from './backends.js';
import type { ToySettings } from './toyLab.js';

export interface DemoHooks {
  /** True once the page has wired its controls. */
  ready: boolean;
  toyRunning: boolean;
  /** Completed alignment updates of the toy panel (rounds of one batch per lane). */
  alignmentUpdates: number;
  /** First-step (t = 1) alignment of each lane after the last update, keyed bp0, bp0.5, bp1. */
  firstStepAlignment: Record<string, number>;
  /** Mean alignment over t = 1 … T−1 of each lane after the last update. */
  meanAlignment: Record<string, number>;
  /** The toy panel's backend: what was asked for, and the backend and mode that actually run. */
  backendRequested: BackendChoice;
  backendName: string;
  backendMode: string;
  backendLabel: string;
  /** Why the backend asked for is not the one running, or null. */
  backendFallback: string | null;
  /** The device the toy panel's backend runs on, as it reports it (null: the page's JavaScript and WebAssembly). */
  backendAdapter: BackendAdapter | null;
  /** Threads the toy panel's backend runs on, and why only one where the machine has more (or null). */
  backendThreads: number;
  backendThreadsNote: string | null;
  /** Set while a backend is starting. */
  backendSwitching: boolean;
  webgl: WebGlInfo;
  /** Whether navigator.gpu gives an adapter, which, or why not (probed once as the page loads). */
  webgpu: WebGpuInfo;
  settings: ToySettings;
  copy: {
    running: boolean;
    batches: number;
    n: number;
    r: number;
    length: number;
    solvedLength: number;
    backendName: string;
    backendMode: string;
    backendFallback: string | null;
    backendAdapter: BackendAdapter | null;
    threads: number;
    threadsNote: string | null;
    /** The CPU backend's workers: started, chunks of work given to them (null for other backends). */
    workers: { started: number; dispatched: number } | null;
  };
  errors: string[];
}

declare global {
  interface Window {
    __bplambda?: DemoHooks;
  }
}
