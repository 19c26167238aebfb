/**
 * Training on WebGPU in Node (Dawn; Mesa lavapipe on CPU-only machines): `fit` with every loss runs a few
 * steps, with the metrics and the gradient norm read by one `await` per step (tfjs's webgpu backend cannot
 * read synchronously in Node). Skipped without an adapter unless EBM_TEST_WEBGPU=1. Kept tiny: lavapipe is slow.
 */

import { isEbmError, randomNormal, rngKey } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics, ReplicaExchange } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  GaussianNoise,
  globalNorm,
  NoiseContrastiveEstimation,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
  readMetrics,
  ScoreMatching,
  SlicedScoreMatching,
} from '../src/index.js';

const { available } = await webGpuForTests(() => setupWebGpu({ kernels: false }), 'losses webgpu tests');

describe.skipIf(!available)('losses on webgpu (Dawn; lavapipe on CPU-only machines)', () => {
  const energy = available ? new MLPEnergy({ inputDim: 2, widths: [8], seed: 1 }) : undefined;
  const data = available ? (randomNormal(rngKey(0), [16, 2]) as tf.Tensor2D) : undefined;
  afterAll(() => {
    energy?.dispose();
    data?.dispose();
  });

  it('globalNorm of more gradients than a stage has storage buffers (a 4-layer MLP has 8) is right', async () => {
    const grads: tf.NamedTensorMap = {};
    for (let i = 0; i < 12; i++) grads[`g${i}`] = tf.fill([3], i + 1);
    const n = globalNorm(grads);
    let expected = 0;
    for (let i = 0; i < 12; i++) expected += 3 * (i + 1) ** 2;
    expect((await n.data())[0]).toBeCloseTo(Math.sqrt(expected), 3);
    tf.dispose([n, ...Object.values(grads)]);
  });

  it('runs on the webgpu backend, and sync-only helpers explain the async alternative', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    try {
      GaussianNoise.fit(data!);
      expect.unreachable();
    } catch (e) {
      expect(isEbmError(e, 'BACKEND_UNAVAILABLE')).toBe(true);
      expect(String(e)).toMatch(/fitAsync/);
    }
    const q = await GaussianNoise.fitAsync(data!);
    expect(q.mean.every(Number.isFinite)).toBe(true);
  });

  const losses: [string, () => BaseLoss][] = [
    [
      'CD',
      () =>
        new ContrastiveDivergence(energy!, {
          sampler: new LangevinDynamics(energy!, { stepSize: 0.01 }),
          k: 2,
        }),
    ],
    [
      'PCD',
      () =>
        new PersistentContrastiveDivergence(energy!, {
          sampler: new LangevinDynamics(energy!, { stepSize: 0.01 }),
          k: 2,
          buffer: { capacity: 32, burnInSteps: 2 },
        }),
    ],
    [
      'PT-CD',
      () =>
        new ParallelTemperingCD(energy!, {
          sampler: new ReplicaExchange(energy!, { temperatures: [1, 2], kernel: 'mala', stepSize: 0.05 }),
          k: 2,
          buffer: { capacity: 32, burnInSteps: 2 },
        }),
    ],
    ['exact SM', () => new ScoreMatching(energy!)],
    ['sliced SM', () => new SlicedScoreMatching(energy!, { nProjections: 1 })],
    ['denoising SM', () => new DenoisingScoreMatching(energy!, { sigma: 0.1 })],
    [
      'NCE',
      () => new NoiseContrastiveEstimation(energy!, { noise: new GaussianNoise({ mean: [0, 0], std: 1.5 }) }),
    ],
  ];
  for (const [name, make] of losses) {
    it(`fit with ${name} runs steps and reports finite metrics`, async () => {
      const loss = make();
      const optimizer = tf.train.adam(1e-3);
      const res = await fit({ loss, optimizer, data: data!, steps: 2, checkpointEvery: 2 });
      expect(res.step).toBe(2);
      expect(res.history).toHaveLength(2);
      for (const m of res.history) {
        expect(Number.isFinite(m.loss)).toBe(true);
        expect(Number.isFinite(m.gradNorm)).toBe(true);
        expect(m.metrics.loss).toBe(m.loss);
      }
      // compute returns metric tensors; readMetrics reads them with one await; nothing leaks.
      await expectNoLeaks(async () => {
        const out = loss.compute(data!);
        const m = await readMetrics(out.metrics, { dispose: true });
        tf.dispose([out.loss, out.negatives]);
        expect(Number.isFinite(m.loss!)).toBe(true);
      });
      optimizer.dispose();
      loss.dispose();
    });
  }
});
