/**
 * MALA vs ULA: the step-size bias of unadjusted Langevin, and how a Metropolis correction removes it.
 *
 * Target: the standard Gaussian E = ½‖x‖² in 2-D. Both samplers start from exact draws of the target and take
 * 200 steps with the same large step h = 0.4. Unadjusted Langevin (ULA) drifts to its own stationary law, with
 * variance 1/(1 − h/2) = 1.25 instead of 1; MALA proposes the same Langevin move and accepts it with the
 * Metropolis–Hastings ratio, so the target is exactly invariant and the variance stays 1 (within Monte-Carlo
 * error, ± 4 standard errors, √(2/n)).
 */
import { rngKey } from '@ebm/core';
import { Gaussian } from '@ebm/models';
import { LangevinDynamics, MALA } from '@ebm/samplers';
import { plotSampleComparison } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { columns, context, type ExampleOptions, finish, mainGuard, meanCov, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('mala-vs-ula', options);
  const energy = new Gaussian({ mean: [0, 0] });
  const h = 0.4;
  const nChains = ctx.smoke ? 5000 : 20_000;
  const nSteps = ctx.smoke ? 100 : 200;
  const x0 = energy.sample(nChains, rngKey(ctx.seed));
  const ula = await new LangevinDynamics(energy, { stepSize: h, noiseScale: 1 }).sample({
    x0,
    nSteps,
    seed: ctx.seed + 1,
  });
  const mala = await new MALA(energy, { stepSize: h }).sample({
    x0,
    nSteps,
    seed: ctx.seed + 2,
    diagnostics: true,
  });
  const ulaX = (await ula.samples.data()) as Float32Array;
  const malaX = (await mala.samples.data()) as Float32Array;
  const v = (a: Float32Array) => {
    const { cov } = meanCov(a, 2);
    return (cov[0]![0]! + cov[1]![1]!) / 2;
  };
  const acceptance = (await tf.mean(mala.diagnostics!.acceptanceRate!).data())[0]!;
  const nDraws = 2 * nChains;
  const result = {
    stepSize: h,
    nChains,
    nSteps,
    targetVariance: 1,
    ulaVariance: round(v(ulaX)),
    ulaPredicted: round(1 / (1 - h / 2)),
    malaVariance: round(v(malaX)),
    malaAcceptance: round(acceptance),
    /** Standard error of a variance estimate of 1 from nDraws independent draws, √(2/n). */
    standardError: round(Math.sqrt(2 / nDraws), 5),
  };
  console.log(
    `ULA variance ${result.ulaVariance} (predicted ${result.ulaPredicted}), MALA ${result.malaVariance} (target 1), acceptance ${result.malaAcceptance}`,
  );
  await ctx.figure(
    'mala-vs-ula',
    await plotSampleComparison(columns(malaX), columns(ulaX), {
      labels: [`MALA (var ${result.malaVariance})`, `ULA (var ${result.ulaVariance})`],
      xRange: [-4.5, 4.5],
      yRange: [-4.5, 4.5],
      title: `Same step h = ${h} on N(0, I): ULA is biased, MALA is exact`,
    }),
  );
  tf.dispose([x0, ula.samples, mala.samples, ...Object.values(mala.diagnostics ?? {})]);
  energy.dispose();
  return finish(ctx, result);
}

mainGuard(import.meta.url, run);
