/**
 * Test support for the demo's end-to-end test: launching Debian's Chromium (never a downloaded browser) headless
 * with playwright-core, opening the page, and reading what it publishes on `window.__bplambda`
 * (demo/src/hooks.ts).
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** The flags this machine needs: no sandbox as root, no background connections (the network is closed). */
const ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // WebGL through ANGLE on SwiftShader where there is no GPU (Chromium 156 wants this explicitly).
  '--enable-unsafe-swiftshader',
];

/** The flag that makes Debian's Chromium 156 give WebGPU its SwiftShader adapter headless (docs/demo.md, "WebGPU"). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

export interface Adapter {
  vendor: string;
  device: string;
  kind: 'software' | 'hardware' | 'unknown';
}

/** What the page publishes on window.__bplambda (a subset, see demo/src/hooks.ts). */
export interface Hooks {
  ready: boolean;
  alignmentUpdates: number;
  firstStepAlignment: Record<string, number>;
  meanAlignment: Record<string, number>;
  backendRequested: string;
  backendName: string;
  backendMode: string;
  backendLabel: string;
  backendFallback: string | null;
  backendAdapter: Adapter | null;
  backendSwitching: boolean;
  webgl: { webgl2: boolean; webgl: boolean; renderer: string | null; software: boolean };
  webgpu: { available: boolean; reason: string | null; adapter: Adapter | null };
  copy: {
    batches: number;
    backendName: string;
    backendMode: string;
    backendFallback: string | null;
    backendAdapter: Adapter | null;
    length: number;
    threads: number;
    threadsNote: string | null;
    workers: { started: number; dispatched: number } | null;
  };
  errors: string[];
}

/** One adapter request, as gpu.js makes it (requestAdapter() without options), with what the browser says. */
export interface WebGpuProbe {
  navigatorGpu: boolean;
  adapter: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean | null } | null;
  error: string | null;
}

/**
 * The browser globals that the functions run in the page use, typed here because the root tsconfig has no DOM
 * library (the casts are erased; the functions are sent to the page as source text).
 */
export interface PageGlobals {
  __bplambda: Hooks;
  navigator: {
    hardwareConcurrency: number;
    gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null> };
  };
  document: { querySelector(selector: string): { querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }> } | null };
}

export const hooks = (page: Page): Promise<Hooks> => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as PageGlobals).__bplambda)) as Hooks);

export const launch = async (extra: string[] = []): Promise<Browser> => {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...ARGS, ...extra], timeout: 20_000 });
};

/** Open the page and wait until it is ready; console errors and page errors are collected in `problems(page)`. */
export const openPage = async (browser: Browser, url: string): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as Partial<PageGlobals>).__bplambda?.ready === true, null, { timeout: 15_000 });
  return page;
};

export const problems = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? [];

/** Ask the page's browser for a WebGPU adapter, independently of the page's own probe. */
export const probeWebGpu = (page: Page): Promise<WebGpuProbe> =>
  page.evaluate(async () => {
    const gpu = (globalThis as unknown as PageGlobals).navigator.gpu;
    if (gpu === undefined) return { navigatorGpu: false, adapter: null, error: null };
    try {
      const a = await gpu.requestAdapter();
      if (a === null) return { navigatorGpu: true, adapter: null, error: null };
      const s = (k: string): string => String(a.info?.[k] ?? '');
      const fb = a.info?.isFallbackAdapter ?? a.isFallbackAdapter;
      return { navigatorGpu: true, adapter: { vendor: s('vendor'), architecture: s('architecture'), device: s('device'), description: s('description'), isFallbackAdapter: typeof fb === 'boolean' ? fb : null }, error: null };
    } catch (e) {
      return { navigatorGpu: true, adapter: null, error: String(e) };
    }
  });

/** Why WebGPU has no adapter in this browser (null when it has one), in words for a skip. */
export const webGpuMissing = (p: WebGpuProbe, flags: readonly string[]): string | null =>
  p.adapter !== null
    ? null
    : `Chromium (${flags.join(' ') || 'no WebGPU flags'}) gives ${!p.navigatorGpu ? 'no navigator.gpu' : p.error !== null ? `an error from navigator.gpu.requestAdapter(): ${p.error}` : 'navigator.gpu, but requestAdapter() returns null'}`;
