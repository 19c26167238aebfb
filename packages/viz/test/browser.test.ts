import { join } from 'node:path';
import { chromiumAvailable, evaluateInChromium } from '@ebm/core/testing';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const have = await chromiumAvailable();
const required = process.env.EBM_TEST_BROWSER === '1';
if (!have) console.warn('[ebm] viz browser test skipped: no /usr/bin/chromium (apt-get install chromium).');

describe('@ebm/viz in headless Chromium (real DOM and canvas)', () => {
  it('Chromium is present when EBM_TEST_BROWSER=1', () => {
    if (required) expect(have).toBe(true);
  });
  it.skipIf(!have)(
    'renders landscapes (tfjs in the page), raster sample clouds and traces to SVG',
    async () => {
      const out = await build({
        entryPoints: [join(import.meta.dirname, 'fixtures', 'browser-entry.ts')],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'error',
      });
      const { result: r, pageErrors } = await evaluateInChromium<{
        backend: string;
        numTensors: number;
        landscape: { svg: boolean; title: boolean; images: number };
        cloud: { elements: number; images: number; dataUrl: boolean };
        trace: { paths: number; title: boolean };
      }>(out.outputFiles[0]!.text, 'runViz()', { profilePrefix: 'ebm-viz-chromium-' });
      expect(pageErrors).toEqual([]);
      expect(r.backend).toBe('cpu');
      expect(r.numTensors).toBe(0); // no leaks in the page
      expect(r.landscape).toMatchObject({ svg: true, title: true });
      expect(r.landscape.images).toBeGreaterThanOrEqual(1); // the heatmap raster
      // 20 000 points drawn as one raster image through the browser's canvas, not one node per point
      expect(r.cloud.images).toBeGreaterThanOrEqual(1);
      expect(r.cloud.dataUrl).toBe(true);
      expect(r.cloud.elements).toBeLessThan(500);
      expect(r.trace.paths).toBeGreaterThanOrEqual(2);
    },
  );
});
