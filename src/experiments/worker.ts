/**
 * Worker thread of `sweep`: runs the jobs it is sent, one at a time, and writes each run directory.
 * Messages in: { id, config, dir }. Messages out: progress (throttled), done with the summary, or error.
 */
import { parentPort } from 'node:worker_threads';
import { BplambdaError } from '../core/errors.js';
import type { RunConfig } from './config.js';
import { fromJson, metricsAppender, writeConfig, writeRun } from './files.js';
import { runExperiment } from './run.js';

export interface JobMessage {
  readonly id: number;
  /** The configuration as `toJson` text (Infinity survives). */
  readonly config: string;
  readonly dir: string;
  /** Threads of the run's CPU backend (absent: the backend's own default; the one-thread backends take none). */
  readonly threads?: number;
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number; readonly live: string }
  | { readonly type: 'done'; readonly id: number; readonly summary: string }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly input: boolean };

const port = parentPort;
if (port !== null) {
  port.on('message', async (job: JobMessage) => {
    try {
      const config = fromJson(job.config) as RunConfig;
      writeConfig(job.dir, config);
      let last = 0;
      const result = await runExperiment(config, {
        ...(job.threads === undefined ? {} : { threads: job.threads }),
        onBackend: (info) => writeConfig(job.dir, config, info),
        onRow: metricsAppender(job.dir),
        onProgress: (p) => {
          const t = performance.now();
          if (t - last < 200 && p.done < p.total) return;
          last = t;
          const live = Object.entries(p.live)
            .map(([k, v]) => `${k} ${v ?? '–'}`)
            .join(', ');
          port.postMessage({ type: 'progress', id: job.id, done: p.done, total: p.total, live } satisfies WorkerMessage);
        },
      });
      writeRun(job.dir, result);
      port.postMessage({ type: 'done', id: job.id, summary: JSON.stringify(result.summary) } satisfies WorkerMessage);
    } catch (e) {
      port.postMessage({ type: 'error', id: job.id, message: (e as Error).message, input: e instanceof BplambdaError } satisfies WorkerMessage);
    }
  });
}
