/**
 * Integrator comparison (TorchEBM 10-sampling/02-integrators/01-integrator-comparison): Euler–Maruyama vs Heun.
 *
 * 1. Order of accuracy. With the noise switched off (σ → 0) Langevin is the gradient flow ẋ = −∇E; for
 *    E = ½‖x‖² the exact solution is x(T) = x(0)·e^{−T}. Integrating to T = 2 with h, h/2, h/4, Euler's error
 *    halves with h (order 1: ratio ≈ 2) and Heun's drops four-fold (order 2: ratio ≈ 4).
 * 2. Stationary law. With noise on, both schemes are unadjusted: for E = ½x² and step h, Euler–Maruyama's
 *    stationary variance is 1/(1 − h/2) and Heun's (drift averaged, the same additive noise) is
 *    2h/(1 − a²), a = 1 − h + h²/2 — a better drift does not remove the bias of the invariant measure (it is
 *    even larger here). The example checks both formulas at h = 0.2 from 4000 chains × 2 coordinates.
 */
import { Gaussian } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, lineChart, mainGuard, meanCov, round } from './_shared.js';

type Integrator = 'euler' | 'heun';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('integrator-comparison', options);
  const energy = new Gaussian({ mean: [0, 0] });
  const T = 2;
  const hs = [0.2, 0.1, 0.05, 0.025];
  const exact = Math.exp(-T);
  const x0 = tf.ones([1, 2]) as tf.Tensor2D;
  const errors: Record<Integrator, number[]> = { euler: [], heun: [] };
  for (const integrator of ['euler', 'heun'] as const) {
    for (const h of hs) {
      const s = new LangevinDynamics(energy, { stepSize: h, noiseScale: 1e-30, integrator });
      const r = await s.sample({ x0, nSteps: Math.round(T / h), seed: ctx.seed });
      errors[integrator].push(Math.abs((await r.samples.data())[0]! - exact));
      r.samples.dispose();
    }
  }
  x0.dispose();
  const ratios = (e: number[]) => e.slice(1).map((v, i) => round(e[i]! / v, 3));

  // stationary variance with noise on
  const h = 0.2;
  const nChains = ctx.smoke ? 4000 : 20_000;
  const a = 1 - h + (h * h) / 2;
  const predicted = { euler: 1 / (1 - h / 2), heun: (2 * h) / (1 - a * a) };
  const variance = { euler: 0, heun: 0 };
  for (const integrator of ['euler', 'heun'] as const) {
    const s = new LangevinDynamics(energy, { stepSize: h, noiseScale: 1, integrator });
    const r = await s.sample({ nSamples: nChains, dim: 2, nSteps: 100, seed: ctx.seed + 7 });
    const { cov } = meanCov((await r.samples.data()) as Float32Array, 2);
    variance[integrator] = (cov[0]![0]! + cov[1]![1]!) / 2;
    r.samples.dispose();
  }
  await ctx.figure(
    'integrator-errors',
    await lineChart(
      hs.map((v) => Math.log2(v)),
      { 'log₂ error Euler': errors.euler.map(Math.log2), 'log₂ error Heun': errors.heun.map(Math.log2) },
      {
        title: 'Euler vs Heun on the gradient flow: slopes 1 and 2',
        groupTitles: ['log₂ |x_h(T) − e^(−T)| against log₂ h (x axis)'],
      },
    ),
  );
  energy.dispose();
  return finish(ctx, {
    T,
    stepSizes: hs,
    errors: { euler: errors.euler.map((e) => round(e, 7)), heun: errors.heun.map((e) => round(e, 7)) },
    /** error(h) / error(h/2): ≈ 2 for order 1, ≈ 4 for order 2. */
    ratios: { euler: ratios(errors.euler), heun: ratios(errors.heun) },
    stationary: {
      stepSize: h,
      nDraws: 2 * nChains,
      variance: { euler: round(variance.euler), heun: round(variance.heun) },
      predicted: { euler: round(predicted.euler), heun: round(predicted.heun) },
      target: 1,
    },
  });
}

mainGuard(import.meta.url, run);
