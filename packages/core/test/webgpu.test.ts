import '../src/register.js';
import './webgpu-setup.js';
import { describe, expect, it } from 'vitest';
import { runBackendConformance, webGpuForTests } from '../src/testing/index.js';

const navigatorGpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } })
  .navigator.gpu;
// (@ebm/cuda's setupWebGpu would do this, but @ebm/cuda depends on this package: Dawn's adapter by hand.)
const gpu = await webGpuForTests(async () => {
  const found = await navigatorGpu.requestAdapter();
  if (found === null)
    throw new Error('no WebGPU adapter (install mesa-vulkan-drivers from bookworm-backports)');
  return found;
}, 'core webgpu tests');
const adapter = gpu.info ?? null;
const mustRun = gpu.required;

describe('core on webgpu (Dawn; lavapipe on CPU-only machines)', () => {
  it('an adapter exists when EBM_TEST_WEBGPU=1', () => {
    if (mustRun) expect(adapter).not.toBeNull();
  });
  it.skipIf(adapter === null)('runs the backend suite', async () => {
    await import('@tensorflow/tfjs-backend-webgpu');
    await runBackendConformance('webgpu');
  });
});

describe('the run loop on webgpu (host reads only at the async boundary)', () => {
  it.skipIf(adapter === null)(
    'sample() with convergence diagnostics runs; sampleSync says why it cannot',
    async () => {
      await import('@tensorflow/tfjs-backend-webgpu');
      const tf = await import('@tensorflow/tfjs-core');
      const { randomNormal, sampleChain, sampleChainSync, useBackend } = await import('../src/index.js');
      await useBackend('webgpu');
      const kernel = {
        dim: 2,
        init: (x0: import('@tensorflow/tfjs-core').Tensor2D, step = 0) => ({ x: tf.clone(x0), step }),
        step: (
          s: { x: import('@tensorflow/tfjs-core').Tensor2D; step: number },
          key: import('../src/rng.js').RngKey,
        ) => ({
          state: {
            x: tf.tidy(() => tf.add(tf.mul(s.x, 0.5), tf.mul(randomNormal(key, s.x.shape), Math.sqrt(0.75)))),
            step: s.step + 1,
          } as { x: import('@tensorflow/tfjs-core').Tensor2D; step: number },
          info: {},
        }),
      };
      const before = tf.memory().numTensors;
      const r = await sampleChain(kernel, {
        nSamples: 8,
        dim: 2,
        nSteps: 16,
        diagnostics: { convergence: true },
      });
      expect(r.convergence?.rhat.every((v) => Number.isFinite(v))).toBe(true);
      tf.dispose([r.samples, ...Object.values(r.diagnostics ?? {})]);
      expect(() =>
        sampleChainSync(kernel, { nSamples: 8, dim: 2, nSteps: 16, diagnostics: { convergence: true } }),
      ).toThrow(/BACKEND_UNAVAILABLE/);
      expect(tf.memory().numTensors).toBe(before);
      await useBackend('cpu');
    },
  );
});
