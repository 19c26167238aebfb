/**
 * HMC 101 (TorchEBM 10-sampling/01-mcmc/02-hmc-101).
 *
 * Hamiltonian Monte Carlo on a strongly correlated Gaussian (ρ = 0.95) with leapfrog step ε = 0.1 and
 * L ∈ {2, 10, 50} leapfrog steps per proposal, chains started at N(0, I). Prints the acceptance rate and the
 * recovered cov(x₀, x₁) for each L. Short trajectories (L = 2, length 0.2) move like a random walk: after the 60
 * steps of the smoke run they have not yet spread along the long axis of the target (cov₀₁ too small), while
 * L = 10 and 50 (lengths 1 and 5) cross much of it in one proposal; with the full 300 steps all three get there.
 */
import { Gaussian } from '@ebm/models';
import { HamiltonianMonteCarlo } from '@ebm/samplers';
import { combineFigures, plotSamples } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, meanCov, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('hmc-101', options);
  const rho = 0.95;
  const energy = new Gaussian({
    mean: [0, 0],
    covariance: [
      [1, rho],
      [rho, 1],
    ],
  });
  const nChains = 1000;
  const nSteps = ctx.smoke ? 60 : 300;
  const runs: Record<string, { acceptance: number; cov01: number; var0: number; var1: number }> = {};
  const figs = [];
  for (const L of [2, 10, 50]) {
    const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.1, nLeapfrogSteps: L });
    const r = await hmc.sample({ nSamples: nChains, dim: 2, nSteps, seed: ctx.seed + L, diagnostics: true });
    const acc = (await tf.mean(r.diagnostics!.acceptanceRate!).data())[0]!;
    const { cov } = meanCov((await r.samples.data()) as Float32Array, 2);
    runs[`L${L}`] = {
      acceptance: round(acc),
      cov01: round(cov[0]![1]!),
      var0: round(cov[0]![0]!),
      var1: round(cov[1]![1]!),
    };
    console.log(`L = ${L}: acceptance ${acc.toFixed(3)}, cov01 ${cov[0]![1]!.toFixed(3)} (target ${rho})`);
    figs.push(
      await plotSamples(r.samples, {
        energy,
        xRange: [-4, 4],
        yRange: [-4, 4],
        resolution: 50,
        title: `L = ${L}: acc ${acc.toFixed(2)}, cov₀₁ ${cov[0]![1]!.toFixed(2)}`,
        width: 320,
        height: 320,
      }),
    );
    tf.dispose([r.samples, ...Object.values(r.diagnostics ?? {})]);
  }
  await ctx.figure(
    'hmc-101',
    combineFigures(figs, {
      columns: 3,
      title: `HMC on a Gaussian with ρ = ${rho}, ε = 0.1, ${nSteps} steps`,
    }),
  );
  energy.dispose();
  return finish(ctx, { rho, stepSize: 0.1, nChains, nSteps, runs });
}

mainGuard(import.meta.url, run);
