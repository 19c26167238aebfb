// TorchEBM:
//   hmc = HamiltonianMonteCarlo(model, step_size=0.1, n_leapfrog_steps=10, mass=None)
//   x, diag = hmc.sample(x=x0, n_steps=200, return_diagnostics=True)   # diag['acceptance_rate']
import { disposeSampleResult, normalTensor, rngKey } from '@ebm/core';
import { Gaussian } from '@ebm/models';
import { HamiltonianMonteCarlo } from '@ebm/samplers';
import type * as tf from '@tensorflow/tfjs-core';

const energy = new Gaussian({
  mean: [0, 0],
  covariance: [
    [1, 0.9],
    [0.9, 1],
  ],
});
const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.1, nLeapfrogSteps: 10, mass: 1 });
const x0 = normalTensor(rngKey(1), [200, 2]) as tf.Tensor2D; // seeded, identical on every backend
const run = await hmc.sample({ x0, nSteps: 100, seed: 0, diagnostics: true });
// chain mean per kept step of the 0/1 step info isAccepted: TorchEBM's diag['acceptance_rate']
// (diagnostics.acceptanceRate is the mean of min(1, α), BlackJAX's and TFP's acceptance rate)
const acc = Array.from(await run.diagnostics!.isAccepted!.data());
const acceptance = acc.reduce((a, b) => a + b, 0) / acc.length;
console.log(acceptance);
x0.dispose(); // x0 is the caller's: sample() neither disposes nor modifies it
disposeSampleResult(run);
energy.dispose();

export const result = { acceptance };
