/**
 * End to end: the built site (`pnpm docs:build` → `.vitepress/dist`) served on localhost and driven in headless
 * Chromium (Debian's /usr/bin/chromium through playwright-core). Opens every page and fails on any console
 * error or page error; runs the sampler gallery with two samplers and checks the chains moved and the
 * diagnostics are finite numbers; trains in the playground and checks the loss changed; saves screenshots to
 * `test-results/screenshots/`. Skipped without Chromium, unless EBM_TEST_BROWSER=1 makes that a failure.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, relative } from 'node:path';
import { chromiumAvailable, type LaunchedChromium, launchChromium } from '@ebm/core/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from './serve.js';

const have = await chromiumAvailable();
const required = process.env.EBM_TEST_BROWSER === '1';
if (!have) console.warn('[ebm] docs e2e test skipped: no /usr/bin/chromium (apt-get install chromium).');

const dist = join(import.meta.dirname, '..', '.vitepress', 'dist');
const shots = join(import.meta.dirname, '..', 'test-results', 'screenshots');

function htmlPages(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    if (statSync(p).isDirectory()) return f === 'assets' ? [] : htmlPages(p);
    return p.endsWith('.html') && f !== '404.html' ? [`/${relative(dist, p)}`] : [];
  });
}

describe.skipIf(!have && !required)('the docs site in headless Chromium', () => {
  let ctx: BrowserContext;
  let server: Server;
  let base: string;
  let browser: LaunchedChromium<BrowserContext> | undefined;
  const problems: string[] = [];

  /** A page that records console errors, page errors and failed requests into `problems`. */
  async function newPage(): Promise<Page> {
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${page.url()}: console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${String(e)}`));
    page.on('requestfailed', (r) => {
      // VitePress prefetches the chunks of linked pages; leaving the page aborts them
      if (r.failure()?.errorText !== 'net::ERR_ABORTED')
        problems.push(`${page.url()}: request failed ${r.url()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${page.url()}: HTTP ${r.status()} ${r.url()}`);
    });
    return page;
  }

  beforeAll(async () => {
    expect(have, 'EBM_TEST_BROWSER=1 but /usr/bin/chromium is missing').toBe(true);
    expect(existsSync(join(dist, 'index.html')), 'build the site first: pnpm docs:build').toBe(true);
    mkdirSync(shots, { recursive: true });
    const s = await serveStatic(dist);
    server = s.server;
    base = s.url;
    browser = await launchChromium<BrowserContext>({
      profilePrefix: 'ebm-docs-chromium-',
      viewport: { width: 1280, height: 900 },
    });
    ctx = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('opens every page with no console errors', async () => {
    const pages = htmlPages(dist).sort();
    expect(pages.length).toBeGreaterThan(40);
    const page = await newPage();
    const shoot = new Set([
      '/index.html',
      '/guide/getting-started.html',
      '/guide/from-torchebm.html',
      '/examples/langevin-101.html',
      '/packages/samplers.html',
      '/api/@ebm/samplers.html',
    ]);
    for (const p of pages) {
      await page.goto(base + p, { waitUntil: 'load' });
      const title = await page.title();
      expect(title, p).toContain('@ebm');
      if (shoot.has(p)) {
        await page.screenshot({ path: join(shots, `${p.slice(1).replace(/[/@]/g, '_')}.png`) });
      }
    }
    // figures of the examples are there (made at build time)
    await page.goto(`${base}/examples/langevin-101.html`, { waitUntil: 'load' });
    const figs = await page.$$eval('img[src*="/examples/"]', (imgs) =>
      imgs.map((i) => (i as HTMLImageElement).naturalWidth),
    );
    expect(figs.length).toBeGreaterThan(0);
    for (const w of figs) expect(w).toBeGreaterThan(100);
    await page.close();
    expect(problems).toEqual([]);
  });

  for (const [sampler, backend] of [
    ['mala', 'auto'],
    ['replica', 'cpu'],
  ] as const) {
    it(`runs the sampler gallery: ${sampler} on ${backend}`, async () => {
      const page = await newPage();
      await page.goto(
        `${base}/demos/sampler-gallery.html?target=mixture&sampler=${sampler}&step=0.1&chains=16&seed=1&backend=${backend}`,
        { waitUntil: 'load' },
      );
      const demo = page.locator('.ebm-gallery');
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('.ebm-gallery')?.dataset.steps) >= 20,
        null,
        {
          timeout: 60_000,
        },
      );
      const first = await demo.getAttribute('data-positions');
      await page.waitForFunction(
        (p) => {
          const el = document.querySelector<HTMLElement>('.ebm-gallery');
          return Number(el?.dataset.steps) >= 40 && el?.dataset.positions !== p;
        },
        first,
        { timeout: 60_000 },
      );
      const last = await demo.getAttribute('data-positions');
      expect(last).not.toBe(first); // the chains moved
      const read = async (f: string) => (await demo.locator(`[data-field="${f}"]`).textContent()) ?? '';
      const acc = Number(await read('acceptance'));
      const ess = Number(await read('ess'));
      const rhat = Number(await read('rhat'));
      expect(Number.isFinite(acc) && acc > 0 && acc <= 1, `acceptance ${acc}`).toBe(true);
      expect(Number.isFinite(ess) && ess > 0, `ESS ${ess}`).toBe(true);
      expect(Number.isFinite(rhat) && rhat > 0.5, `R̂ ${rhat}`).toBe(true);
      expect(await read('backend')).not.toBe('–');
      expect(page.url()).toContain(`sampler=${sampler}`); // settings stay in the URL
      await demo.screenshot({ path: join(shots, `gallery-${sampler}.png`) });
      await page.close();
      expect(problems).toEqual([]);
    });
  }

  it('trains in the playground and stops', async () => {
    const page = await newPage();
    await page.goto(`${base}/demos/training-playground.html?backend=cpu&steps=400`, { waitUntil: 'load' });
    const demo = page.locator('.ebm-playground');
    await demo.locator('[data-action="train"]').click();
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('.ebm-playground')?.dataset.steps) >= 30,
      null,
      {
        timeout: 90_000,
      },
    );
    await demo.locator('[data-action="stop"]').click();
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.ebm-playground')?.dataset.state === 'stopped',
      null,
      {
        timeout: 30_000,
      },
    );
    const firstLoss = Number(await demo.getAttribute('data-first-loss'));
    const lastLoss = Number(await demo.getAttribute('data-last-loss'));
    expect(Number.isFinite(firstLoss) && Number.isFinite(lastLoss)).toBe(true);
    expect(lastLoss).not.toBe(firstLoss);
    await demo.screenshot({ path: join(shots, 'playground.png') });
    await page.close();
    expect(problems).toEqual([]);
  });
});
