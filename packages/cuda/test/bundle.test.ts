import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * A new user's Node app bundled with esbuild (platform node, ESM, `webgpu` external as a native addon):
 * the cpu backend that `@ebm/core` registers must survive (it is an optional peer, loaded at run time with
 * `require` from the app's node_modules, so esbuild cannot drop it), and `setupWebGpu()` must find the bundled
 * `@tensorflow/tfjs-backend-webgpu` without any shim.
 */
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'test-results', 'bundle');
const run = promisify(execFile);

const ENTRY = `
import * as tf from '@tensorflow/tfjs-core';
import { rngKey } from '@ebm/core';
import { setupWebGpu } from '@ebm/cuda';
await tf.ready();
const out = { cpu: tf.getBackend(), key: rngKey(1) };
if (process.env.EBM_TEST_WEBGPU === '1') {
  const info = await setupWebGpu();
  const y = tf.add(tf.tensor1d([1, 2]), 1);
  out.webgpu = { backend: info.backend, isSoftware: info.isSoftware, data: Array.from(await y.data()) };
}
console.log(JSON.stringify(out));
`;

describe('esbuild Node bundle of @ebm/core + @ebm/cuda', () => {
  it('keeps the cpu backend and bundles the webgpu backend import', async () => {
    mkdirSync(outDir, { recursive: true });
    const entry = join(outDir, 'entry.mjs');
    const outfile = join(outDir, 'app.mjs');
    writeFileSync(entry, ENTRY);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      external: ['webgpu', '@tensorflow/tfjs-node-gpu'],
      nodePaths: [join(here, '..', 'node_modules')],
      banner: {
        js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'silent',
    });
    // No "ignored bare import" warning for tfjs-backend-cpu.
    expect(result.warnings.map((w) => w.text).join('\n')).not.toMatch(/tfjs-backend-cpu/);
    const code = readFileSync(outfile, 'utf8');
    expect(code).toMatch(/WebGPUBackend/);
    const { stdout } = await run(process.execPath, [outfile], {
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
      timeout: 100_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(out.cpu).toBe('cpu');
    expect(out.key).toHaveLength(2);
    if (process.env.EBM_TEST_WEBGPU === '1') {
      expect(out.webgpu).toEqual({ backend: 'webgpu', isSoftware: true, data: [2, 3] });
    }
  });
});
