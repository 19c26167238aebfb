import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/index.js';
import { createNodeDocument, savePlot, toPng, toSvg } from '../src/node.js';
import { ar1, expectEbmError, inspectPng } from './helpers.js';

describe('toSvg / toPng / savePlot', () => {
  it('the browser entry needs a document; the node entry supplies one', async () => {
    const fig = await browser.plotTrace([ar1(50, 0.5, 1)]);
    expect((globalThis as { document?: unknown }).document).toBeUndefined();
    expect(() => browser.toSvg(fig)).toThrow(/BACKEND_UNAVAILABLE/);
    const viaBrowserEntry = browser.toSvg(fig, { document: createNodeDocument() });
    expect(viaBrowserEntry).toBe(toSvg(fig));
    expect(() => browser.toSvg({} as never)).toThrow(/INVALID_PARAM/);
  });

  it('renders at a pixel scale, transparent on request, and writes .svg/.png', async () => {
    const fig = await browser.plotTrace([ar1(50, 0.5, 2)]);
    const png2 = inspectPng(toPng(fig, { scale: 2 }));
    expect(png2.width).toBe(2 * fig.width);
    expect(png2.height).toBe(2 * fig.height);
    expect(toSvg(fig, { background: 'none' })).not.toContain('fill="white" height="100%"');
    expect(() => toPng(fig, { scale: 0 })).toThrow(/INVALID_PARAM/);
    const dir = mkdtempSync(join(tmpdir(), 'ebm-viz-'));
    try {
      const n = await savePlot(fig, join(dir, 'trace.png'));
      const bytes = readFileSync(join(dir, 'trace.png'));
      expect(bytes.length).toBe(n);
      expect(inspectPng(new Uint8Array(bytes)).nonBackground).toBeGreaterThan(1000);
      await savePlot(fig, join(dir, 'trace.svg'));
      expect(readFileSync(join(dir, 'trace.svg'), 'utf8')).toBe(toSvg(fig));
      await expectEbmError(savePlot(fig, join(dir, 'trace.jpg')), 'INVALID_PARAM', 'path');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('browser bundle', () => {
  it('bundles the main entry for the browser without Node built-ins, and it renders the same figures', async () => {
    const result = await build({
      entryPoints: [join(__dirname, '..', 'src', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      // As in a browser, `process` does not exist (otherwise tfjs-core picks its Node platform when we run it).
      define: { process: 'undefined' },
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('@observablehq/plot'))).toBe(true);
    for (const banned of ['linkedom', '@resvg', 'node:', 'fast-png']) {
      expect(inputs.filter((p) => p.startsWith(banned) || p.includes(`/${banned}`))).toEqual([]);
    }
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).not.toMatch(/require\(["'](fs|path|os|zlib|node:[a-z]+)["']\)/);
    // Run the bundle in a fresh Node process (its own tfjs engine, no `process` inside the bundle) with a
    // linkedom document standing in for the browser's, and compare its SVG with the source build's.
    const dir = mkdtempSync(join(__dirname, '.bundle-'));
    try {
      writeFileSync(join(dir, 'bundle.mjs'), code);
      writeFileSync(
        join(dir, 'driver.mjs'),
        `import { parseHTML } from 'linkedom';
import * as viz from './bundle.mjs';
const { document } = parseHTML('<!DOCTYPE html><html><body></body></html>');
const chains = JSON.parse(process.argv[2]);
const trace = await viz.plotTrace(chains, { name: 'x' });
const table = await viz.plotDiagnosticsTable({ x: chains });
process.stdout.write(JSON.stringify([viz.toSvg(trace, { document }), viz.toSvg(table, { document })]));
`,
      );
      const chains = [ar1(200, 0.7, 5), ar1(200, 0.7, 6)];
      const out = execFileSync(process.execPath, [join(dir, 'driver.mjs'), JSON.stringify(chains)], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const [traceSvg, tableSvg] = JSON.parse(out) as [string, string];
      expect(traceSvg).toBe(toSvg(await browser.plotTrace(chains, { name: 'x' })));
      expect(tableSvg).toBe(toSvg(await browser.plotDiagnosticsTable({ x: chains })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
