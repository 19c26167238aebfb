/**
 * Langevin dynamics 101 (TorchEBM 10-sampling/01-mcmc/01-langevin-101).
 *
 * Samples a correlated Gaussian (ρ = 0.8, unit variances) with unadjusted Langevin dynamics,
 * x ← x − h∇E(x) + √(2h)ξ, h = 0.02, from 2000 chains started at N(0, I), and recovers the covariance from the
 * final states. With a finite step the chain's stationary covariance is not Σ but, along each eigenvector of
 * the precision P with eigenvalue λ, 1/(λ(1 − hλ/2)): the example prints both, and the recovered covariance
 * matches the prediction to Monte-Carlo error.
 */
import { Gaussian } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import { combineFigures, plotSamples, plotTrajectories } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, meanCov, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('langevin-101', options);
  const rho = 0.8;
  const h = 0.02;
  const energy = new Gaussian({
    mean: [0, 0],
    covariance: [
      [1, rho],
      [rho, 1],
    ],
  });
  const nChains = 2000;
  const nSteps = ctx.smoke ? 400 : 500;
  const sampler = new LangevinDynamics(energy, { stepSize: h, noiseScale: 1 });
  const r = await sampler.sample({ nSamples: nChains, dim: 2, nSteps, seed: ctx.seed });
  const samples = (await r.samples.data()) as Float32Array;
  const { mean, cov } = meanCov(samples, 2);
  // ULA's stationary covariance: eigenvectors (1, ±1)/√2 of P with eigenvalues 1/(1 ± ρ)
  const ula = (lambda: number) => 1 / (lambda * (1 - (h * lambda) / 2));
  const vPlus = ula(1 / (1 + rho));
  const vMinus = ula(1 / (1 - rho));
  const predicted = [
    [(vPlus + vMinus) / 2, (vPlus - vMinus) / 2],
    [(vPlus - vMinus) / 2, (vPlus + vMinus) / 2],
  ];
  // a few chains' paths for the figure
  const paths = await sampler.sample({
    nSamples: 6,
    dim: 2,
    nSteps: 200,
    seed: ctx.seed + 1,
    trajectory: true,
  });
  await ctx.figure(
    'langevin-101',
    combineFigures(
      [
        await plotSamples(r.samples, {
          energy,
          xRange: [-4, 4],
          yRange: [-4, 4],
          resolution: 60,
          title: `${nChains} chains after ${nSteps} steps (h = ${h})`,
        }),
        await plotTrajectories(paths.trajectory!.x! as tf.Tensor3D, {
          energy,
          xRange: [-4, 4],
          yRange: [-4, 4],
          resolution: 60,
          title: 'Six chains, 200 steps',
        }),
      ],
      {
        columns: 2,
        title: `Langevin on a Gaussian with ρ = ${rho}: cov₀₁ ${cov[0]![1]!.toFixed(3)} (target ${rho})`,
      },
    ),
  );
  tf.dispose([r.samples, paths.samples, ...Object.values(paths.trajectory ?? {})]);
  energy.dispose();
  return finish(ctx, {
    nChains,
    nSteps,
    stepSize: h,
    mean: mean.map((v) => round(v)),
    covariance: cov.map((row) => row.map((v) => round(v))),
    target: [
      [1, rho],
      [rho, 1],
    ],
    predictedUla: predicted.map((row) => row.map((v) => round(v))),
  });
}

mainGuard(import.meta.url, run);
