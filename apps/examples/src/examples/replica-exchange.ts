/**
 * Replica exchange (parallel tempering) recovers the weights of a multimodal target.
 *
 * Target: a 2-D mixture 0.3·N((−3, 0), 0.25 I) + 0.7·N((3, 0), 0.25 I): the modes are 12 standard deviations
 * apart, behind an energy barrier of ≈ 18. Every chain starts in the right-hand mode. Plain HMC never crosses
 * (its right-mode fraction stays 1). Replica exchange runs copies at temperatures 1 … 34 (hot copies see a
 * flattened barrier and cross it) and swaps neighbouring temperatures with the Metropolis rule, so the T = 1
 * chain visits both modes in proportion: the time-averaged weight of the left mode is ≈ 0.3.
 */
import { GaussianMixture } from '@ebm/models';
import { HamiltonianMonteCarlo, ReplicaExchange } from '@ebm/samplers';
import { combineFigures, plotSamples, plotTrace } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('replica-exchange', options);
  const weights = [0.3, 0.7];
  const mixture = new GaussianMixture({
    means: [
      [-3, 0],
      [3, 0],
    ],
    weights,
    std: 0.5,
  });
  const nChains = ctx.smoke ? 48 : 128;
  const nSteps = ctx.smoke ? 400 : 2000;
  const temperatures = [1, 1.8, 3.2, 5.8, 10.5, 19, 34];
  const x0 = tf.tensor2d(Array.from({ length: nChains }, () => [3, 0]));
  const pt = new ReplicaExchange(mixture, { temperatures, stepSize: 0.35, nLeapfrogSteps: 4 });
  const r = await pt.sample({
    x0,
    nSteps,
    burnIn: 100,
    thin: 2,
    seed: ctx.seed,
    trajectory: { fields: ['x'] },
    diagnostics: true,
  });
  const t = r.trajectory!.x!;
  const [B, K] = t.shape as [number, number, number];
  const a = await t.data();
  // per-chain fraction of time in the left mode, and its across-chain standard error
  const frac = Array.from({ length: B }, (_, b) => {
    let left = 0;
    for (let k = 0; k < K; k++) if (a[(b * K + k) * 2]! < 0) left++;
    return left / K;
  });
  const leftWeight = frac.reduce((s, v) => s + v, 0) / B;
  const se = Math.sqrt(frac.reduce((s, v) => s + (v - leftWeight) ** 2, 0) / (B - 1) / B);
  const swapRates = Array.from((await tf.mean(r.diagnostics!.swapRate!, 0).data()) as Float32Array, (v) =>
    round(v, 3),
  );

  const hmc = new HamiltonianMonteCarlo(mixture, { stepSize: 0.35, nLeapfrogSteps: 4 });
  const h = await hmc.sample({ x0, nSteps: Math.min(nSteps, 400), seed: ctx.seed + 1 });
  const hx = await h.samples.data();
  let hmcLeft = 0;
  for (let i = 0; i < nChains; i++) if (hx[2 * i]! < 0) hmcLeft++;
  console.log(
    `left-mode weight: replica exchange ${leftWeight.toFixed(3)} ± ${se.toFixed(3)} (true 0.3), HMC ${(hmcLeft / nChains).toFixed(3)}`,
  );

  const traces = Array.from({ length: 4 }, (_, b) =>
    Array.from({ length: K }, (_, k) => a[(b * K + k) * 2]!),
  );
  await ctx.figure(
    'replica-exchange',
    combineFigures(
      [
        await plotTrace(traces, { title: 'Replica exchange, T = 1 chain: x₀ of 4 chains' }),
        await plotSamples(r.samples, {
          energy: mixture,
          xRange: [-5, 5],
          yRange: [-3, 3],
          resolution: 60,
          title: `final T = 1 states (left-mode weight ${leftWeight.toFixed(2)})`,
        }),
        await plotSamples(h.samples, {
          energy: mixture,
          xRange: [-5, 5],
          yRange: [-3, 3],
          resolution: 60,
          title: 'plain HMC from the same start',
        }),
      ],
      { columns: 3, title: 'Mixture 0.3 / 0.7, modes 12σ apart: replica exchange vs HMC' },
    ),
  );
  tf.dispose([x0, t, r.samples, h.samples, ...Object.values(r.diagnostics ?? {})]);
  mixture.dispose();
  return finish(ctx, {
    trueWeights: weights,
    temperatures,
    nChains,
    nSteps,
    leftWeight: round(leftWeight),
    standardError: round(se, 5),
    hmcLeftWeight: round(hmcLeft / nChains),
    swapRates,
  });
}

mainGuard(import.meta.url, run);
