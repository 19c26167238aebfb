/**
 * CD / PCD `fit` on WebGPU (Dawn; lavapipe on CPU-only machines) with an MLP energy whose kernelHint sends the
 * negatives through the fused WGSL chain.mlp: every step calls it, with the current weights (after each optimizer
 * step a noiseless fused step equals x − h∇E(x) by autograd), and the run leaks nothing. Kept tiny: lavapipe is slow.
 */
import { chainKernelName, getKernelImpl, normalArray, rngKey } from '@ebm/core';
import { countKernelCalls, expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ContrastiveDivergence, fit, PersistentContrastiveDivergence } from '../src/index.js';

const { available } = await webGpuForTests(() => setupWebGpu({ kernels: true }), 'losses mlp webgpu tests');

describe.skipIf(!available)('CD / PCD fit with the fused chain.mlp on webgpu', () => {
  it('every step samples through chain.mlp with the current weights; no leaks', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const name = chainKernelName('mlp');
    const impl = getKernelImpl(name, 'webgpu')!; // called directly by the probe: not counted
    const data = tf.tensor2d(normalArray(rngKey(1), [32, 2]), [32, 2]);
    const probe = tf.tensor2d(normalArray(rngKey(2), [8, 2]), [8, 2]);
    try {
      for (const persistent of [false, true]) {
        const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 3 });
        const sampler = new LangevinDynamics(e, { stepSize: 0.1, noiseScale: 1 });
        const loss = persistent
          ? new PersistentContrastiveDivergence(e, { sampler, k: 5, buffer: { capacity: 64 } })
          : new ContrastiveDivergence(e, { sampler, k: 5 });
        const opt = tf.train.adam(0.01);
        const mismatch: number[] = [];
        const onStep = async () => {
          const fused = impl({
            method: 'langevin',
            x0: probe,
            nSteps: 1,
            key: rngKey(0),
            params: e.kernelHint!.params,
            settings: { stepSize: 0.1, noiseScale: 0 },
          });
          const d = tf.tidy(() =>
            tf.max(tf.abs(tf.sub(fused, tf.sub(probe, tf.mul(e.gradient(probe), 0.1))))),
          );
          mismatch.push((await d.data())[0]!);
          tf.dispose([fused, d]);
        };
        const [, calls] = await countKernelCalls(name, 'webgpu', () =>
          expectNoLeaks(() => fit({ loss, optimizer: opt, data, batchSize: 16, steps: 2, seed: 1, onStep })),
        );
        expect(calls).toBe(4); // expectNoLeaks' warm-up run and the measured run, 2 steps each
        expect(mismatch).toHaveLength(4);
        for (const m of mismatch) expect(m).toBeLessThan(1e-4);
        loss.dispose?.();
        opt.dispose();
        e.dispose();
      }
    } finally {
      tf.dispose([data, probe]);
    }
  });
});
