import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { checkFusedChains } from './energy-matching-fused.js';

// EnergyMatchingLoss's tempered Langevin chains through core's host chain.mlp (cpu) with per-step noiseScales.
describe('EnergyMatchingLoss: the tempered chains through the fused chain.mlp (cpu)', () => {
  it('same stream as the step loop for tempered rows, same law for both groups, leak-free, falls back', async () => {
    await tf.setBackend('cpu');
    await checkFusedChains('cpu', 1e-3);
  }, 120_000);
});
