/**
 * Parallel chains (TorchEBM 10-sampling/01-mcmc/03-parallel-chains).
 *
 * Runs 10,000 Langevin chains at once (one [B, 2] tensor: chains on the batch axis) on the 2-D double well
 * E = 2·Σ(xᵢ² − 1)², h = 0.01, 500 steps, from N(0, I). The target is symmetric, so each basin sign(x₁) should
 * hold half of the chains and each of the four wells a quarter; the example prints the occupancies and their
 * binomial standard errors.
 */
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import { plotSamples } from '@ebm/viz/node';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('parallel-chains', options);
  const energy = new DoubleWell({ barrierHeight: 2, b: 1 });
  const nChains = ctx.smoke ? 4000 : 10_000;
  const nSteps = ctx.smoke ? 200 : 500;
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
  const t0 = performance.now();
  const r = await sampler.sample({ nSamples: nChains, dim: 2, nSteps, seed: ctx.seed });
  const ms = performance.now() - t0;
  const x = (await r.samples.data()) as Float32Array;
  const quadrants = [0, 0, 0, 0];
  let right = 0;
  for (let i = 0; i < nChains; i++) {
    const a = x[2 * i]! > 0 ? 1 : 0;
    const b = x[2 * i + 1]! > 0 ? 1 : 0;
    right += a;
    quadrants[2 * a + b]! += 1 / nChains;
  }
  const pRight = right / nChains;
  const se = Math.sqrt(0.25 / nChains);
  console.log(
    `right basin: ${pRight.toFixed(4)} ± ${se.toFixed(4)}; wells: ${quadrants.map((q) => q.toFixed(3)).join(', ')}`,
  );
  await ctx.figure(
    'parallel-chains',
    await plotSamples(r.samples, {
      energy,
      xRange: [-2, 2],
      yRange: [-2, 2],
      resolution: 60,
      title: `${nChains} Langevin chains on the double well: ${(100 * pRight).toFixed(1)}% in x₁ > 0`,
    }),
  );
  r.samples.dispose();
  energy.dispose();
  return finish(ctx, {
    nChains,
    nSteps,
    stepSize: 0.01,
    fractionRight: round(pRight),
    standardError: round(se, 5),
    wells: quadrants.map((q) => round(q)),
    chainStepsPerSecond: Math.round((nChains * nSteps) / (ms / 1000)),
  });
}

mainGuard(import.meta.url, run);
