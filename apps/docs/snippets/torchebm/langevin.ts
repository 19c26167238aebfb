// TorchEBM:
//   sampler = LangevinDynamics(model, step_size=0.01, noise_scale=1.0)
//   x, diag = sampler.sample(dim=2, n_samples=1000, n_steps=500, return_diagnostics=True)
import { disposeSampleResult } from '@ebm/core';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';

const energy = new DoubleWell({ barrierHeight: 2, b: 1 });
const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
const run = await sampler.sample({ dim: 2, nSamples: 1000, nSteps: 500, seed: 0, diagnostics: true });
const meanPerStep = await run.diagnostics!.mean!.data(); // [nKept, D], like TorchEBM's diag['mean']
console.log(run.samples.shape, meanPerStep.length);
disposeSampleResult(run);
energy.dispose();

export const result = { shape: [1000, 2] };
