/**
 * MCMC diagnostics: split-R̂ and effective sample size of good and bad chains.
 *
 * Runs 4 chains in three situations and computes rank-normalised split-R̂ and bulk/tail ESS (Vehtari et al.
 * 2021, `splitRhatEss` from @ebm/core) of the first coordinate:
 * - good: HMC on N(0, I) from dispersed starts, after burn-in — R̂ ≈ 1, ESS close to the number of draws;
 * - stuck: HMC on a two-mode mixture (modes 12σ apart), two chains started in each mode — the chains never
 *   meet, R̂ ≫ 1.1;
 * - slow: Langevin with a tiny step (h = 10⁻⁴) from starts at ±3, ±1 — the chains are still drifting, R̂ > 1.1
 *   and the ESS is a handful.
 * The rule of thumb: trust a run only if R̂ < 1.01 (1.1 at most) and the bulk ESS is at least 100 per chain… or
 * at least a few hundred in total.
 */

import type { Sampler } from '@ebm/core';
import { splitRhatEss } from '@ebm/core';
import { Gaussian, GaussianMixture } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics } from '@ebm/samplers';
import { combineFigures, plotDiagnosticsTable, plotTrace } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

async function chains(
  sampler: Sampler,
  starts: number[][],
  nSteps: number,
  burnIn: number,
  seed: number,
): Promise<number[][]> {
  const x0 = tf.tensor2d(starts);
  const r = await sampler.sample({ x0, nSteps, burnIn, seed, trajectory: true });
  const t = r.trajectory!.x!;
  const [B, K, D] = t.shape as [number, number, number];
  const a = await t.data();
  tf.dispose([x0, t, r.samples]);
  return Array.from({ length: B }, (_, b) => Array.from({ length: K }, (_, k) => a[(b * K + k) * D]!));
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('diagnostics', options);
  const n = ctx.smoke ? 300 : 1000;
  const gauss = new Gaussian({ mean: [0, 0] });
  const mixture = new GaussianMixture({
    means: [
      [-3, 0],
      [3, 0],
    ],
    std: 0.5,
  });
  const dispersed = [
    [-3, 0],
    [-1, 0],
    [1, 0],
    [3, 0],
  ];
  const draws = {
    good: await chains(
      new HamiltonianMonteCarlo(gauss, { stepSize: 0.3, nLeapfrogSteps: 5 }),
      dispersed,
      n,
      50,
      ctx.seed,
    ),
    stuck: await chains(
      new HamiltonianMonteCarlo(mixture, { stepSize: 0.2, nLeapfrogSteps: 5 }),
      [
        [-3, 0],
        [-3, 0],
        [3, 0],
        [3, 0],
      ],
      n,
      50,
      ctx.seed + 1,
    ),
    slow: await chains(new LangevinDynamics(gauss, { stepSize: 1e-4 }), dispersed, n, 0, ctx.seed + 2),
  };
  const stats = Object.fromEntries(
    Object.entries(draws).map(([k, c]) => {
      const s = splitRhatEss(c);
      return [k, { rhat: round(s.rhat), essBulk: round(s.essBulk, 1), essTail: round(s.essTail, 1) }];
    }),
  ) as Record<keyof typeof draws, { rhat: number; essBulk: number; essTail: number }>;
  for (const [k, s] of Object.entries(stats))
    console.log(`${k.padEnd(6)} R̂ ${s.rhat.toFixed(3)}  ESS bulk ${s.essBulk}  tail ${s.essTail}`);
  await ctx.figure(
    'traces',
    combineFigures(
      [
        await plotTrace(draws.good, { title: `good (HMC on N(0, I)): R̂ ${stats.good.rhat.toFixed(3)}` }),
        await plotTrace(draws.stuck, {
          title: `stuck (HMC on a two-mode mixture): R̂ ${stats.stuck.rhat.toFixed(2)}`,
        }),
        await plotTrace(draws.slow, { title: `slow (Langevin, h = 1e-4): R̂ ${stats.slow.rhat.toFixed(2)}` }),
      ],
      { title: 'Trace plots of x₀, 4 chains each' },
    ),
  );
  await ctx.figure('table', await plotDiagnosticsTable(draws, { title: 'split-R̂ and ESS of x₀' }));
  gauss.dispose();
  mixture.dispose();
  return finish(ctx, { nChains: 4, nDraws: n, ...stats });
}

mainGuard(import.meta.url, run);
