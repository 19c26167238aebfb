/**
 * NUTS and window adaptation on WebGPU in Node (Dawn; Mesa lavapipe on CPU-only machines), where tfjs cannot
 * read synchronously: `sample()` runs NUTS with its async step, `windowAdaptation` awaits its reads, and the
 * synchronous forms fail with BACKEND_UNAVAILABLE naming the async API. Skipped without an adapter unless
 * EBM_TEST_WEBGPU=1. Kept tiny: lavapipe is slow.
 */
import './webgpu-setup.js';
import { disposeSampleResult, isEbmError } from '@ebm/core';
import { webGpuForTests } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, NUTS, windowAdaptation, windowAdaptationSync } from '../src/index.js';
import { torchEbmGaussian } from './helpers.js';

const navigatorGpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } })
  .navigator.gpu;
// (@ebm/cuda's setupWebGpu would do this, but @ebm/cuda depends on this package: the backend by hand.)
const { available, required } = await webGpuForTests(async () => {
  if ((await navigatorGpu.requestAdapter()) === null) throw new Error('no WebGPU adapter');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
}, 'samplers webgpu tests');

describe('samplers on webgpu (Dawn; lavapipe on CPU-only machines)', () => {
  it('an adapter exists when EBM_TEST_WEBGPU=1', () => {
    if (required) expect(available).toBe(true);
  });

  it.skipIf(!available)(
    'NUTS samples through its async step; sampleSync explains the async API',
    async () => {
      expect(tf.getBackend()).toBe('webgpu');
      const nuts = new NUTS(torchEbmGaussian(), { stepSize: 0.5, maxTreeDepth: 4 });
      const before = tf.memory().numTensors;
      const r = await nuts.sample({ nSamples: 4, nSteps: 3, seed: 1, diagnostics: true });
      expect(r.samples.shape).toEqual([4, 2]);
      expect(Array.from(await r.samples.data()).every(Number.isFinite)).toBe(true);
      const depth = await r.diagnostics!.treeDepth!.data();
      expect(Array.from(depth).every((d) => d >= 1 && d <= 4)).toBe(true);
      disposeSampleResult(r);
      expect(tf.memory().numTensors).toBe(before);
      try {
        nuts.sampleSync({ nSamples: 2, nSteps: 1 });
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e, 'BACKEND_UNAVAILABLE')).toBe(true);
        expect(String(e)).toMatch(/sample\(\)/);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it.skipIf(!available)(
    'window adaptation runs for NUTS and HMC; the sync form explains the async API',
    async () => {
      const g = torchEbmGaussian();
      for (const s of [
        new NUTS(g, { stepSize: 0.5, maxTreeDepth: 3 }),
        new HamiltonianMonteCarlo(g, { stepSize: 0.5, nLeapfrogSteps: 3 }),
      ]) {
        const before = tf.memory().numTensors;
        const res = await windowAdaptation(s, { nSamples: 4, nWarmup: 20, seed: 2 });
        expect(res.stepSize).toBeGreaterThan(0);
        expect(Number.isFinite(res.stepSize)).toBe(true);
        expect(res.state.step).toBe(20);
        res.sampler.disposeState(res.state);
        expect(tf.memory().numTensors).toBe(before);
      }
      expect(() => windowAdaptationSync(new NUTS(g), { nSamples: 2, nWarmup: 20 })).toThrowError(
        /BACKEND_UNAVAILABLE.*await windowAdaptation/s,
      );
    },
  );
});
