/**
 * NUTS: the No-U-Turn sampler picks its trajectory length per step.
 *
 * On a strongly correlated Gaussian (ρ = 0.95) HMC needs its number of leapfrog steps L tuned (see `hmc-101`);
 * NUTS doubles the trajectory until it starts to turn back (the U-turn criterion) and samples a point along it.
 * The example runs NUTS (ε = 0.15) next to HMC with a fixed L = 10, prints the mean tree depth and leapfrog
 * steps per iteration, the recovered covariance, and the bulk effective sample size per gradient evaluation of
 * x₀ + x₁ (the slow direction) for both. NUTS's point is that it needs no L: a hand-tuned HMC can still beat it
 * per gradient, as it does here.
 */
import { essBulk } from '@ebm/core';
import { Gaussian } from '@ebm/models';
import { HamiltonianMonteCarlo, NUTS } from '@ebm/samplers';
import { combineFigures, plotSamples, plotTrace } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, meanCov, round } from './_shared.js';

/** Per-chain draws of x₀ + x₁ from a `[B, nKept, 2]` trajectory. */
async function slowDirection(t: tf.Tensor): Promise<number[][]> {
  const [B, K] = t.shape as [number, number, number];
  const a = await t.data();
  return Array.from({ length: B }, (_, b) =>
    Array.from({ length: K }, (_, k) => a[(b * K + k) * 2]! + a[(b * K + k) * 2 + 1]!),
  );
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('nuts', options);
  const rho = 0.95;
  const energy = new Gaussian({
    mean: [0, 0],
    covariance: [
      [1, rho],
      [rho, 1],
    ],
  });
  const nChains = ctx.smoke ? 200 : 500;
  const nSteps = ctx.smoke ? 60 : 300;
  const burnIn = ctx.smoke ? 10 : 50;

  const nuts = new NUTS(energy, { stepSize: 0.15, maxTreeDepth: 8 });
  const r = await nuts.sample({
    nSamples: nChains,
    dim: 2,
    nSteps,
    burnIn,
    seed: ctx.seed,
    diagnostics: true,
    trajectory: { fields: ['x'] },
  });
  const mean = async (t: tf.Tensor | undefined) =>
    t === undefined ? Number.NaN : (await tf.mean(t).data())[0]!;
  const treeDepth = await mean(r.diagnostics!.treeDepth);
  const nLeapfrog = await mean(r.diagnostics!.nLeapfrog);
  const divergent = await mean(r.diagnostics!.divergent);
  const acceptProb = await mean(r.diagnostics!.acceptProb);
  // moments pooled over every kept draw of every chain (their Monte-Carlo error is set by the ESS below)
  const { mean: mu, cov } = meanCov((await r.trajectory!.x!.data()) as Float32Array, 2);
  const nutsDraws = await slowDirection(r.trajectory!.x!);
  const nutsEss = essBulk(nutsDraws);

  const L = 10;
  const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.15, nLeapfrogSteps: L });
  const h = await hmc.sample({
    nSamples: nChains,
    dim: 2,
    nSteps,
    burnIn,
    seed: ctx.seed + 1,
    trajectory: true,
  });
  const hmcDraws = await slowDirection(h.trajectory!.x!);
  const hmcEss = essBulk(hmcDraws);

  const gradsNuts = nChains * nSteps * nLeapfrog;
  const gradsHmc = nChains * nSteps * L;
  console.log(
    `NUTS: depth ${treeDepth.toFixed(2)}, ${nLeapfrog.toFixed(1)} leapfrog/step, ESS/grad ${(nutsEss / gradsNuts).toExponential(2)}; HMC L=10: ESS/grad ${(hmcEss / gradsHmc).toExponential(2)}`,
  );
  await ctx.figure(
    'nuts',
    combineFigures(
      [
        await plotSamples(r.samples, {
          energy,
          xRange: [-4, 4],
          yRange: [-4, 4],
          resolution: 50,
          title: `NUTS: final states of ${nChains} chains (pooled cov₀₁ ${cov[0]![1]!.toFixed(3)})`,
        }),
        await plotTrace(nutsDraws.slice(0, 4), { title: 'NUTS: x₀ + x₁, 4 chains' }),
        await plotTrace(hmcDraws.slice(0, 4), { title: `HMC L = ${L}: x₀ + x₁, 4 chains` }),
      ],
      { columns: 3, title: `NUTS vs HMC on a Gaussian with ρ = ${rho}` },
    ),
  );
  tf.dispose([
    r.samples,
    h.samples,
    ...Object.values(r.diagnostics ?? {}),
    ...Object.values(r.trajectory ?? {}),
    ...Object.values(h.trajectory ?? {}),
  ]);
  energy.dispose();
  return finish(ctx, {
    rho,
    nChains,
    nSteps,
    mean: mu.map((v) => round(v)),
    covariance: cov.map((row) => row.map((v) => round(v))),
    meanTreeDepth: round(treeDepth),
    meanLeapfrogSteps: round(nLeapfrog),
    divergentFraction: round(divergent),
    meanAcceptProb: round(acceptProb),
    essNuts: round(nutsEss, 1),
    essHmc: round(hmcEss, 1),
    essPerGradientNuts: round(nutsEss / gradsNuts, 6),
    essPerGradientHmc: round(hmcEss / gradsHmc, 6),
  });
}

mainGuard(import.meta.url, run);
