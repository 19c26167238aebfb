// TorchEBM:
//   loss_fn = ContrastiveDivergence(model, sampler, k_steps=10, persistent=True, buffer_size=8192,
//                                   energy_reg_weight=0.001)
//   loss, negatives = loss_fn(batch); loss.backward(); optimizer.step()
import type { LossOutput } from '@ebm/core';
import { circle } from '@ebm/datasets';
import { PersistentContrastiveDivergence, readMetrics } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

const energy = new MLPEnergy({ inputDim: 2, widths: [32, 32], activation: 'silu', seed: 0 });
const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
const lossFn = new PersistentContrastiveDivergence(energy, {
  sampler,
  k: 10, // k_steps
  energyL2: 0.001, // energy_reg_weight
  buffer: { capacity: 8192, reinitProbability: 0.05 }, // buffer_size; a real re-init, not TorchEBM's jitter
  seed: 0,
});
const optimizer = tf.train.adam(1e-3);
const batch = circle({ nSamples: 256, seed: 0 }).toTensor();
let last: Record<string, number> = {};
for (let step = 0; step < 3; step++) {
  // one call does loss.backward() and optimizer.step(); keep the metrics scalars (E⁺, E⁻) out of its scope
  const call: { out?: LossOutput } = {};
  optimizer.minimize(() => {
    const out = lossFn.compute(batch);
    for (const t of Object.values(out.metrics)) tf.keep(t);
    call.out = out;
    return out.loss;
  }, true); // returnCost: the loss stays alive (it is also metrics.loss)
  last = await readMetrics(call.out!.metrics, { dispose: true }); // one read-back for all: { loss, ... }
  call.out!.negatives?.dispose(); // the caller owns the negatives
}
console.log(last);
tf.dispose(batch);
lossFn.dispose();
optimizer.dispose();
energy.dispose();

export const result = { metrics: last };
