// What @ebm adds: NUTS, replica exchange, warm-up adaptation of step size and mass, ESS / split-R̂.
import { disposeSampleResult } from '@ebm/core';
import { Gaussian, GaussianMixture } from '@ebm/models';
import { HamiltonianMonteCarlo, NUTS, ReplicaExchange, windowAdaptation } from '@ebm/samplers';

const narrow = new Gaussian({
  mean: [0, 0],
  covariance: [
    [1, 0.95],
    [0.95, 1],
  ],
});
// warm-up: dual averaging of the step size + a diagonal mass matrix in Stan's windows
const warm = await windowAdaptation(new HamiltonianMonteCarlo(narrow, { nLeapfrogSteps: 10 }), {
  nSamples: 16,
  dim: 2,
  nWarmup: 100,
  targetAcceptance: 0.8,
});
const hmc = await warm.sampler.sample({
  resumeFrom: warm.state,
  nSteps: 100,
  diagnostics: { convergence: true },
});
warm.sampler.disposeState(warm.state);
// NUTS: no trajectory length to tune
const nuts = await new NUTS(narrow, { stepSize: 0.2 }).sample({ nSamples: 16, dim: 2, nSteps: 50, seed: 1 });
// replica exchange: hot copies carry chains between modes 8σ apart
const modes = new GaussianMixture({
  means: [
    [-4, 0],
    [4, 0],
  ],
  std: 0.5,
});
const pt = new ReplicaExchange(modes, { temperatures: [1, 3, 9, 27], stepSize: 0.3 });
const mixed = await pt.sample({ nSamples: 16, dim: 2, nSteps: 50, seed: 2 });
console.log(warm.stepSize, hmc.convergence?.rhat, hmc.convergence?.essBulk);
disposeSampleResult(hmc);
disposeSampleResult(nuts);
disposeSampleResult(mixed);
narrow.dispose();
modes.dispose();

export const result = { stepSize: warm.stepSize, rhat: hmc.convergence?.rhat ?? [] };
