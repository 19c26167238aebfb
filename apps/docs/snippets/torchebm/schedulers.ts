// TorchEBM: LangevinDynamics(model, step_size=CosineScheduler(start_value=0.05, end_value=0.005, n_steps=500))
import { CosineScheduler, disposeSampleResult, ExponentialDecayScheduler, WarmupScheduler } from '@ebm/core';
import { Gaussian } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';

const energy = new Gaussian({
  mean: [0, 0],
  covariance: [
    [1, 0],
    [0, 1],
  ],
});
const stepSize = new CosineScheduler(0.05, 0.005, 500); // (startValue, endValue, nSteps)
const noise = new WarmupScheduler(new ExponentialDecayScheduler(1, 0.999, 0.1), 50);
const sampler = new LangevinDynamics(energy, { stepSize, noiseScale: noise });
// schedules are reset at the start of each run and stepped after each step, as in TorchEBM
const run = await sampler.sample({ nSamples: 100, dim: 2, nSteps: 500, seed: 0 });
console.log(stepSize.value, JSON.stringify(stepSize.toJSON())); // schedules serialise for checkpoints
disposeSampleResult(run);
energy.dispose();

export const result = { final: stepSize.value };
