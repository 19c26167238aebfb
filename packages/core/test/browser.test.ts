import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, evaluateInChromium } from '../src/testing/index.js';

const have = await chromiumAvailable();
const required = process.env.EBM_TEST_BROWSER === '1';
if (!have) console.warn('[ebm] browser test skipped: no /usr/bin/chromium (apt-get install chromium).');

describe('@ebm/core in a browser bundle (headless Chromium)', () => {
  it('Chromium is present when EBM_TEST_BROWSER=1', () => {
    if (required) expect(have).toBe(true);
  });
  it.skipIf(!have)(
    'bundles for the browser and computes gradients, chained ops and the same random numbers',
    async () => {
      const entry = fileURLToPath(new URL('./fixtures/browser-entry.ts', import.meta.url));
      const out = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'error',
      });
      const code = out.outputFiles[0]!.text;
      // One copy of tfjs-core's gradient code: tfjs's own modules, not the Node build's generated bundle
      // (a second copy shows up as absGradConfig2, addGradConfig2, ... in esbuild's unminified output).
      // (the fixture also imports @ebm/core/internal, as @ebm/losses does: it must not pull the copy in either)
      expect(code).toMatch(/tfjs-core\/dist\/register_all_gradients\.js/);
      expect(code).toMatch(/tfjs-core\/dist\/gradients\/Abs_grad\.js/);
      expect(code.match(/\bvar absGradConfig\d* =/g)).toHaveLength(1);
      expect(code.match(/\bvar addGradConfig\d* =/g)).toHaveLength(1);
      const { result: r } = await evaluateInChromium<{
        backend: string;
        grad: number[];
        chained: number;
        rngMatches: boolean;
        generatedFrom: string;
      }>(code, 'runEbm()');
      expect(r.backend).toBe('cpu');
      expect(r.grad).toEqual([2, -2]);
      expect(r.chained).toBe(4);
      expect(r.rngMatches).toBe(true);
      expect(r.generatedFrom).toMatch(/^\d+\.\d+\.\d+/);
    },
  );
});
