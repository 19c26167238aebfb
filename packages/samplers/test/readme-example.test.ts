import { BaseEnergy } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { HamiltonianMonteCarlo, windowAdaptation } from '../src/index.js';

/** E(x) = ½‖x‖² / s²: an isotropic Gaussian with standard deviation s. */
class Gaussian extends BaseEnergy {
  constructor(readonly s = 2) {
    super({ dim: 2 });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.div(tf.mul(0.5, tf.sum(tf.square(x), 1)), this.s * this.s);
  }
}

it('the README example runs', async () => {
  const energy = new Gaussian();
  const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.2, nLeapfrogSteps: 10 });
  const r = await hmc.sample({ nSamples: 64, nSteps: 200, burnIn: 50, seed: 1, diagnostics: true });
  expect(r.samples.shape).toEqual([64, 2]);
  expect(tf.mean(r.diagnostics!.acceptanceRate!).dataSync()[0]).toBeGreaterThan(0.8);
  const { sampler, state } = await windowAdaptation(hmc, { nSamples: 64, nWarmup: 150, seed: 2 });
  const r2 = await sampler.sample({ resumeFrom: state, nSteps: 200, seed: 2 });
  sampler.disposeState(state);
  expect(r2.samples.shape).toEqual([64, 2]);
  tf.dispose([r.samples, r2.samples, ...Object.values(r.diagnostics!)]);
});
