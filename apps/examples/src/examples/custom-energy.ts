/**
 * Custom energies (TorchEBM 00-foundations/02-custom-energy).
 *
 * Two ways to write your own energy: (1) wrap a tfjs function with `energyFromFunction` — here the ring
 * E(x) = (‖x‖ − r)² / (2w²) — and get its gradient by autograd; (2) an `MLPEnergy` (a neural network
 * E_θ: R² → R). Checks the ring's autograd gradient against the analytic one, ∇E = (‖x‖ − r)/w² · x/‖x‖,
 * samples the ring with Langevin dynamics (the mean radius should be ≈ r) and plots both energies.
 */
import { rngKey, uniformArray } from '@ebm/core';
import { energyFromFunction, MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import { combineFigures, plotEnergyLandscape, plotSamples } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, readScalar, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('custom-energy', options);
  const r = 2;
  const w = 0.25;
  const ring = energyFromFunction(
    (x) => tf.div(tf.square(tf.sub(tf.norm(x, 'euclidean', 1), r)), 2 * w * w) as tf.Tensor1D,
    { dim: 2, name: 'Ring' },
  );

  // autograd vs analytic gradient at random points (away from the origin, where ‖x‖ is not differentiable)
  const pts = uniformArray(rngKey(ctx.seed), [256, 2], -3, 3);
  const gradError = await readScalar(() => {
    const x = tf.tensor2d(pts, [256, 2]);
    const auto = ring.gradient(x);
    const norm = tf.norm(x, 'euclidean', 1, true);
    const analytic = tf.mul(tf.div(tf.sub(norm, r), w * w), tf.div(x, norm));
    return tf.max(tf.abs(tf.sub(auto, analytic)));
  });

  // Langevin on the ring: the radius concentrates around r with spread ≈ w
  const nChains = ctx.smoke ? 500 : 2000;
  const sampler = new LangevinDynamics(ring, { stepSize: 0.005, noiseScale: 1 });
  const res = await sampler.sample({
    nSamples: nChains,
    dim: 2,
    nSteps: ctx.smoke ? 300 : 1000,
    seed: ctx.seed + 1,
  });
  const radii = (await tf.norm(res.samples, 'euclidean', 1).data()) as Float32Array;
  const meanRadius = radii.reduce((a, b) => a + b, 0) / radii.length;
  const sdRadius = Math.sqrt(radii.reduce((a, b) => a + (b - meanRadius) ** 2, 0) / radii.length);

  // a neural energy: any network [B, 2] → [B]; its gradient also comes from autograd
  const mlp = new MLPEnergy({ inputDim: 2, widths: [32, 32], activation: 'silu', seed: ctx.seed });
  const mlpGradNorm = await readScalar(() =>
    tf.mean(tf.norm(mlp.gradient(tf.tensor2d(pts, [256, 2])), 'euclidean', 1)),
  );

  const resolution = ctx.smoke ? 40 : 100;
  await ctx.figure(
    'custom-energies',
    combineFigures(
      [
        await plotSamples(res.samples, {
          energy: ring,
          xRange: [-3, 3],
          yRange: [-3, 3],
          resolution,
          title: `Ring energy + Langevin samples (mean radius ${meanRadius.toFixed(3)})`,
        }),
        await plotEnergyLandscape(mlp, {
          xRange: [-3, 3],
          yRange: [-3, 3],
          resolution,
          title: 'An untrained MLP energy 2 → 32 → 32 → 1',
        }),
      ],
      { columns: 2, title: 'Custom energies' },
    ),
  );
  res.samples.dispose();
  mlp.dispose();
  return finish(ctx, {
    radius: r,
    width: w,
    gradError: round(gradError, 6),
    meanRadius: round(meanRadius),
    sdRadius: round(sdRadius),
    nChains,
    mlpMeanGradNorm: round(mlpGradNorm),
  });
}

mainGuard(import.meta.url, run);
