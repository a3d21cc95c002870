/**
 * End to end: the demo page in a real browser. Builds the page with Vite, serves it on localhost, drives Debian's
 * Chromium (never a downloaded browser) with playwright-core, headless: starts training, waits for ≥ 50 alignment
 * updates on the chart, checks BP(1)'s first-step alignment is above BP(0)'s, switches the toy panel to gpu.js
 * WebGL and checks the page reports the mode that actually runs (WebGL in software, SwiftShader, without a GPU),
 * runs the copy-repeat panel, and saves a screenshot to test-artifacts/demo.png (UPDATE_DEMO_SCREENSHOT=1 also
 * copies it to docs/demo.png). A second browser with WebGL disabled checks that the page says so and runs on the
 * reference backend. WebGPU: with the default flags Chromium gives no WebGPU adapter, and the page must say so,
 * offer the choice disabled and never claim WebGPU; with --enable-unsafe-webgpu it gives SwiftShader's, and both
 * panels must run gpu.js WebGPU on it (skipped, with the reason, where this Chromium gives no adapter even then).
 *
 * Skipped, with the reason in its name, when Chromium is not installed (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type PageGlobals, WEBGPU_ARGS, hasChromium, hooks, launch, openPage, probeWebGpu, problems, webGpuMissing } from './browser.js';
import { REPO, type Served, buildDemo, serveStatic } from './serve.js';

const ARTIFACTS = join(REPO, 'test-artifacts');

const name = hasChromium
  ? 'demo page in headless Chromium (playwright-core)'
  : `demo page in headless Chromium (skipped: ${CHROMIUM} is not installed; apt-get install chromium, or set CHROMIUM_PATH)`;

describe.skipIf(!hasChromium)(name, () => {
  let served: Served;
  let outDir: string;

  beforeAll(async () => {
    outDir = await buildDemo();
    served = await serveStatic(outDir);
  }, 60_000);

  afterAll(async () => {
    await served?.close();
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  it('trains the toy task live, BP(1) aligns better at the first step than BP(0), switches to gpu.js WebGL, runs the copy-repeat curriculum', async () => {
    const browser = await launch();
    try {
      const page = await openPage(browser, served.url);
      let h = await hooks(page);
      expect(h.backendName).toBe('reference');
      expect(h.alignmentUpdates).toBe(0);
      expect(await page.locator('#toy-backend-mode').getAttribute('data-mode')).toBe('js-f64');

      // Start training; wait until the alignment chart has data for at least 50 updates.
      await page.click('#toy-start');
      await page.waitForFunction(
        () => {
          const svg = (globalThis as unknown as PageGlobals).document.querySelector('#chart-history svg');
          const paths = [...(svg?.querySelectorAll('path[data-series]') ?? [])];
          return paths.length === 3 && paths.every((p) => Number(p.getAttribute('data-points')) >= 50);
        },
        null,
        { timeout: 30_000, polling: 100 },
      );
      h = await hooks(page);
      expect(h.alignmentUpdates).toBeGreaterThanOrEqual(50);
      expect(Object.keys(h.firstStepAlignment).sort()).toEqual(['bp0', 'bp0.5', 'bp1']);
      // The values on the page (the lane table) are the ones in the hooks.
      const shown = await page.$$eval('#lane-rows td[data-lane]', (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-lane'), Number(td.getAttribute('data-first'))])));
      const bp0 = shown.bp0!;
      const bp1 = shown.bp1!;
      expect(Number.isFinite(bp0) && Number.isFinite(bp1)).toBe(true);
      expect(bp1).toBeGreaterThan(bp0);
      // The same lab in Node gives BP(1) 0.742 at t = 1 after 50 updates (spec/demo-lab.test.ts); the page may have
      // run a few more updates by now, and 0.5 leaves room for that while failing if BP(1) does not learn.
      expect(bp1).toBeGreaterThan(0.5);
      // The per-step chart has one point per time step (T = 10) for each learner.
      const perStep = await page.$$eval('#chart-per-step path[data-series]', (ps) => ps.map((p) => Number(p.getAttribute('data-points'))));
      expect(perStep).toEqual([10, 10, 10]);

      // Switch the toy panel to gpu.js; the page must report the mode that actually runs.
      const before = h.alignmentUpdates;
      await page.selectOption('#toy-backend', 'gpujs');
      await page.waitForFunction(
        () => {
          const b = (globalThis as unknown as PageGlobals).__bplambda;
          return b.backendRequested === 'gpujs' && !b.backendSwitching;
        },
        null,
        { timeout: 20_000 },
      );
      h = await hooks(page);
      const modeEl = page.locator('#toy-backend-mode');
      expect(await modeEl.getAttribute('data-mode')).toBe(h.backendMode);
      // This browser is launched with SwiftShader enabled, so WebGL must be there and gpu.js must be what runs (the
      // fallback to the reference is the second test's, with WebGL disabled): a page that fell back fails here.
      expect(h.webgl.webgl2 || h.webgl.webgl).toBe(true);
      expect(h.backendName).toBe('gpujs');
      expect(['webgl2', 'webgl']).toContain(h.backendMode);
      expect(h.backendFallback).toBeNull();
      expect(await modeEl.textContent()).toContain(h.backendMode === 'webgl2' ? 'gpu.js WebGL2' : 'gpu.js WebGL');
      // Training goes on, on the new backend, from the learned parameters.
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= n + 10, before, { timeout: 20_000 });
      h = await hooks(page);
      expect(h.firstStepAlignment.bp1!).toBeGreaterThan(h.firstStepAlignment.bp0!);

      // The copy-repeat panel, on gpu.js WebGL (its default).
      await page.click('#copy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.copy.batches >= 10, null, { timeout: 30_000 });
      h = await hooks(page);
      expect(await page.locator('#copy-backend-mode').getAttribute('data-mode')).toBe(h.copy.backendMode);
      expect(h.copy.backendName).toBe('gpujs');
      expect(['webgl2', 'webgl']).toContain(h.copy.backendMode);
      expect(Number(await page.locator('#chart-copy svg').getAttribute('data-batches'))).toBeGreaterThanOrEqual(10);

      // The copy-repeat panel on the CPU backend: WebAssembly SIMD on every core (the page is cross-origin isolated),
      // its workers started and given work (batch 8: the trace update's examples are split among the threads).
      const cores = await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.hardwareConcurrency);
      await page.selectOption('#copy-backend', 'cpu');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.copy.backendName === 'cpu', null, { timeout: 20_000 });
      const onCpu = (await hooks(page)).copy.batches;
      await page.waitForFunction(
        (n) => {
          const c = (globalThis as unknown as PageGlobals).__bplambda.copy;
          return c.batches >= n + 5 && (c.workers?.dispatched ?? 0) > 0;
        },
        onCpu,
        { timeout: 30_000 },
      );
      h = await hooks(page);
      expect(h.copy.backendMode).toMatch(/^wasm-(relaxed-)?simd$/);
      expect(h.copy.threads).toBe(cores);
      expect(h.copy.threadsNote).toBeNull();
      expect(h.copy.workers!.started).toBe(cores - 1);
      expect(await page.locator('#copy-backend-mode').textContent()).toContain(`${cores} thread`);
      expect(await page.locator('#copy-backend-mode').getAttribute('data-threads')).toBe(String(cores));

      // A screenshot of the running page, as a test artifact.
      await page.waitForTimeout(1500);
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'demo.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.UPDATE_DEMO_SCREENSHOT === '1') copyFileSync(shot, join(REPO, 'docs', 'demo.png'));
      expect(existsSync(shot)).toBe(true);

      h = await hooks(page);
      expect(h.errors).toEqual([]);
      expect(problems(page)).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('runs the CPU backend on one thread and says why when the page is not cross-origin isolated', async () => {
    const plain = await serveStatic(outDir, false);
    const browser = await launch();
    try {
      const page = await openPage(browser, plain.url);
      const cores = await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.hardwareConcurrency);
      await page.selectOption('#copy-backend', 'cpu');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.copy.backendName === 'cpu', null, { timeout: 20_000 });
      await page.click('#copy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.copy.batches >= 3, null, { timeout: 30_000 });
      const h = await hooks(page);
      expect(h.copy.threads).toBe(1);
      expect(h.copy.workers).toEqual({ started: 0, dispatched: 0 });
      if (cores > 1) {
        expect(h.copy.threadsNote).toContain('cross-origin isolated');
        expect(await page.locator('#copy-backend-note').isVisible()).toBe(true);
        expect(await page.locator('#copy-backend-note').textContent()).toContain('running on one');
      }
      expect(h.errors).toEqual([]);
    } finally {
      await browser.close();
      await plain.close();
    }
  }, 60_000);

  it('says so and runs on the reference backend when WebGL is unavailable', async () => {
    const browser = await launch(['--disable-3d-apis', '--disable-webgl']);
    try {
      const page = await openPage(browser, served.url);
      let h = await hooks(page);
      expect(h.webgl.webgl2 || h.webgl.webgl).toBe(false);
      expect(await page.locator('#webgl-status').textContent()).toContain('WebGL is unavailable');
      // The copy-repeat panel asked for gpu.js and runs on the reference, saying why.
      expect(h.copy.backendName).toBe('reference');
      expect(h.copy.backendFallback).toContain('WebGL is unavailable');
      expect(await page.locator('#copy-backend-note').isVisible()).toBe(true);
      // So does the toy panel when gpu.js is chosen, and it trains.
      await page.selectOption('#toy-backend', 'gpujs');
      await page.waitForFunction(
        () => {
          const b = (globalThis as unknown as PageGlobals).__bplambda;
          return b.backendRequested === 'gpujs' && !b.backendSwitching;
        },
        null,
        { timeout: 20_000 },
      );
      h = await hooks(page);
      expect(h.backendName).toBe('reference');
      expect(h.backendMode).toBe('js-f64');
      expect(await page.locator('#toy-backend-note').textContent()).toContain('running on the reference backend');
      await page.click('#toy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= 5, null, { timeout: 20_000 });
      h = await hooks(page);
      expect(h.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 40_000);

  it('without a WebGPU adapter (the default flags) says why, offers gpu.js WebGPU disabled, and a panel asked for it runs on the reference saying why', async () => {
    const browser = await launch();
    try {
      const page = await openPage(browser, served.url);
      // Debian's Chromium 156 headless without --enable-unsafe-webgpu: navigator.gpu is there, requestAdapter() gives null.
      const probe = await probeWebGpu(page);
      expect(webGpuMissing(probe, []), 'this Chromium gives WebGPU an adapter without --enable-unsafe-webgpu: find flags that take it away (docs/demo.md, "WebGPU")').not.toBeNull();
      let h = await hooks(page);
      expect(h.webgpu.available).toBe(false);
      expect(h.webgpu.adapter).toBeNull();
      const reason = h.webgpu.reason!;
      expect(reason).toContain(probe.navigatorGpu ? 'navigator.gpu' : 'no navigator.gpu');
      const status = await page.locator('#webgpu-status').textContent();
      expect(status).toContain('WebGPU is unavailable in this browser');
      expect(status).toContain(reason);
      for (const panel of ['toy', 'copy']) {
        const option = page.locator(`#${panel}-backend option[value="gpujs-webgpu"]`);
        expect(await option.evaluate((o: { disabled: boolean }) => o.disabled)).toBe(true);
        expect(await option.textContent()).toContain('unavailable');
        expect(await option.getAttribute('data-reason')).toBe(reason);
      }
      // Asked for anyway (through the menu's change event, the option being disabled): the gpu.js backend refuses to
      // start, and the panel says why and runs on the reference; neither panel claims WebGPU.
      await page.locator('#toy-backend').evaluate((s: { value: string; dispatchEvent(e: unknown): boolean }) => {
        s.value = 'gpujs-webgpu';
        s.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('change'));
      });
      await page.waitForFunction(
        () => {
          const b = (globalThis as unknown as PageGlobals).__bplambda;
          return b.backendRequested === 'gpujs-webgpu' && !b.backendSwitching;
        },
        null,
        { timeout: 20_000 },
      );
      h = await hooks(page);
      expect(h.backendName).toBe('reference');
      expect(h.backendMode).toBe('js-f64');
      expect(h.backendAdapter).toBeNull();
      expect(h.backendFallback).toContain('WebGPU is unavailable in this browser');
      if (probe.navigatorGpu) expect(h.backendFallback).toContain("the browser's WebGPU (navigator.gpu) gives no adapter");
      expect(await page.locator('#toy-backend-note').textContent()).toContain('running on the reference backend');
      expect(await page.locator('#toy-backend-mode').getAttribute('data-mode')).toBe('js-f64');
      expect(await page.locator('#toy-backend-mode').textContent()).not.toContain('WebGPU');
      expect(h.copy.backendMode).not.toBe('webgpu');
      await page.click('#toy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= 3, null, { timeout: 20_000 });
      h = await hooks(page);
      expect(h.errors).toEqual([]);
      expect(problems(page)).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it(`with ${WEBGPU_ARGS.join(' ')}: both panels run gpu.js WebGPU on the adapter Chromium gives (software, SwiftShader), going on from the learned parameters`, async (ctx) => {
    const browser = await launch(WEBGPU_ARGS);
    try {
      const page = await openPage(browser, served.url);
      const missing = webGpuMissing(await probeWebGpu(page), WEBGPU_ARGS);
      if (missing !== null) {
        console.warn(`SKIPPED: the demo on gpu.js WebGPU: ${missing}`);
        ctx.skip(missing);
      }
      let h = await hooks(page);
      expect(h.webgpu.available).toBe(true);
      expect(h.webgpu.adapter?.kind).toBe('software');
      expect(await page.locator('#webgpu-status').textContent()).toContain('This browser gives WebGPU on');
      expect(await page.locator('#toy-backend option[value="gpujs-webgpu"]').evaluate((o: { disabled: boolean }) => o.disabled)).toBe(false);

      // Learn on the reference first; then switch the toy panel to WebGPU.
      await page.click('#toy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= 20, null, { timeout: 30_000 });
      await page.selectOption('#toy-backend', 'gpujs-webgpu');
      await page.waitForFunction(
        () => {
          const b = (globalThis as unknown as PageGlobals).__bplambda;
          return b.backendRequested === 'gpujs-webgpu' && !b.backendSwitching;
        },
        null,
        { timeout: 30_000 },
      );
      h = await hooks(page);
      expect(h.backendFallback).toBeNull();
      expect(h.backendName).toBe('gpujs');
      expect(h.backendMode).toBe('webgpu');
      expect(h.backendAdapter?.kind).toBe('software');
      expect(h.backendAdapter).toEqual(h.webgpu.adapter);
      const modeEl = page.locator('#toy-backend-mode');
      expect(await modeEl.getAttribute('data-mode')).toBe('webgpu');
      expect(await modeEl.getAttribute('data-adapter-kind')).toBe('software');
      expect(await modeEl.textContent()).toContain('gpu.js WebGPU');
      expect(await modeEl.textContent()).toContain('software adapter');

      // Training goes on, on WebGPU, from the learned parameters: the alignments keep changing, finite, BP(1) ahead.
      const at = h.alignmentUpdates;
      const first = h.firstStepAlignment;
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= n + 5, at, { timeout: 40_000 });
      h = await hooks(page);
      expect(h.backendMode).toBe('webgpu');
      for (const v of [...Object.values(h.firstStepAlignment), ...Object.values(h.meanAlignment)]) expect(Number.isFinite(v)).toBe(true);
      expect(Object.keys(h.firstStepAlignment).sort()).toEqual(['bp0', 'bp0.5', 'bp1']);
      expect(h.firstStepAlignment).not.toEqual(first);
      expect(h.firstStepAlignment.bp1!).toBeGreaterThan(h.firstStepAlignment.bp0!);

      // The copy-repeat panel on WebGPU too (the two panels share gpu.js's one WebGPU device).
      await page.selectOption('#copy-backend', 'gpujs-webgpu');
      await page.waitForFunction(
        () => {
          const c = (globalThis as unknown as PageGlobals).__bplambda.copy;
          return c.backendMode === 'webgpu' || c.backendFallback !== null;
        },
        null,
        { timeout: 30_000 },
      );
      await page.click('#copy-start');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__bplambda.copy.batches >= 5, null, { timeout: 40_000 });
      h = await hooks(page);
      expect(h.copy.backendFallback).toBeNull();
      expect(h.copy.backendName).toBe('gpujs');
      expect(h.copy.backendMode).toBe('webgpu');
      expect(h.copy.backendAdapter?.kind).toBe('software');
      expect(await page.locator('#copy-backend-mode').getAttribute('data-mode')).toBe('webgpu');
      const updates = h.alignmentUpdates;
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).__bplambda.alignmentUpdates >= n + 2, updates, { timeout: 40_000 });
      h = await hooks(page);
      expect(h.errors).toEqual([]);
      expect(problems(page)).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 150_000);
});
