// In a browser: pick the fastest backend the browser has, then the same API as in Node.
import '@tensorflow/tfjs-backend-webgl'; // registers the 'webgl' backend (cpu comes with @ebm/core)
import { activeBackend } from '@ebm/core';
import { GaussianMixture } from '@ebm/models';
import { HamiltonianMonteCarlo } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

if (!(await tf.setBackend('webgl').catch(() => false))) await tf.setBackend('cpu'); // e.g. in Node
const energy = new GaussianMixture({
  means: [
    [-2, 0],
    [2, 0],
  ],
  std: 0.5,
});
const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.2, nLeapfrogSteps: 10 });
const run = await hmc.sample({ nSamples: 128, dim: 2, nSteps: 50, seed: 1 });
// never dataSync() in a page: it blocks the main thread, and WebGPU cannot do it at all
const samples = await run.samples.data();
console.log(activeBackend(), samples.slice(0, 4));
run.samples.dispose();
energy.dispose();

export const result = { backend: activeBackend(), n: samples.length / 2 };
