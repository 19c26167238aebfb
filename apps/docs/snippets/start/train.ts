// Train an MLP energy on two moons with persistent contrastive divergence and Langevin negatives.
import { twoMoons } from '@ebm/datasets';
import { fit, PersistentContrastiveDivergence } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

const data = twoMoons({ nSamples: 1000, noise: 0.05, seed: 0 }).toTensor(); // [1000, 2]
const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: 0 });
const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1, clamp: [-4, 4] });
const loss = new PersistentContrastiveDivergence(energy, {
  sampler,
  k: 10, // Langevin steps per negative batch
  energyL2: 0.1,
  buffer: { capacity: 4096, reinitProbability: 0.05, init: 'uniform', initScale: 3 },
});
const optimizer = tf.train.adam(5e-3);
const { history } = await fit({
  loss,
  optimizer,
  data,
  batchSize: 128,
  steps: 20,
  seed: 0,
  clipNorm: 10,
  onProgress: ({ step, total }) => {
    if (step === total) console.log(`trained ${step} steps`);
  },
});
console.log(history.at(-1)); // { step, loss, gradNorm, energyPos, energyNeg, metrics }
data.dispose();
loss.dispose();
optimizer.dispose();

export const result = { losses: history.map((m) => m.loss), energy };
