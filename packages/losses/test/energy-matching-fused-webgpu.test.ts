import { webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkFusedChains } from './energy-matching-fused.js';

// EnergyMatchingLoss's tempered Langevin chains through the WGSL chain.mlp (lavapipe in CI) with per-step
// noiseScales: the checks of energy-matching-fused.ts (stream, law by KS, calls, leaks, fallback) on webgpu.
const { available } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'energy matching webgpu tests',
);

describe.skipIf(!available)('EnergyMatchingLoss: the tempered chains through chain.mlp on webgpu', () => {
  it('same stream as the step loop for tempered rows, same law for both groups, leak-free, falls back', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    await checkFusedChains('webgpu', 1e-3, 512);
  }, 300_000);
});
