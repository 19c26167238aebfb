import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, evaluateInChromium } from '../src/testing/index.js';

const have = await chromiumAvailable();

describe('chain worker pool on Web Workers (headless Chromium)', () => {
  it.skipIf(!have)(
    'gives the same chains with 1, 2 and 3 Web Workers as the kernel in the page',
    async () => {
      const entry = fileURLToPath(new URL('./fixtures/browser-workers-entry.ts', import.meta.url));
      const out = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'error',
      });
      const { result } = await evaluateInChromium(out.outputFiles[0]!.text, 'runPool()');
      expect(result).toMatchObject({
        backend: 'cpu',
        'langevin/1': true,
        'langevin/2': true,
        'langevin/3': true,
        'mala/1': true,
        'mala/2': true,
        'mala/3': true,
        workersStarted: 3,
      });
    },
  );
});
