/**
 * Scheduler anatomy (TorchEBM 00-foundations/03-schedulers/01-scheduler-anatomy).
 *
 * Prints and plots the values of a linear, a cosine and an exponential-decay schedule over N steps:
 * linear v(n) = v₀ + n(v_end − v₀)/N, cosine v(n) = v_end + (v₀ − v_end)·½(1 + cos(πn/N)), exponential
 * v(n) = max(v_min, v₀·rⁿ). Then runs Langevin dynamics on a standard Gaussian with a cosine step-size schedule
 * 0.05 → 0.005: large early steps travel fast from a far start, small late steps shrink the discretisation bias
 * (the unadjusted chain's variance is 1/(1 − h/2) for E = ½‖x‖²).
 */
import { CosineScheduler, ExponentialDecayScheduler, LinearScheduler } from '@ebm/core';
import { Gaussian } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, lineChart, mainGuard, meanCov, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('scheduler-anatomy', options);
  const N = 100;
  const schedules = {
    linear: new LinearScheduler(0.05, 0.005, N),
    cosine: new CosineScheduler(0.05, 0.005, N),
    exponential: new ExponentialDecayScheduler(0.05, 0.977, 0.005),
  };
  const steps = Array.from({ length: N + 1 }, (_, n) => n);
  const values = Object.fromEntries(
    Object.entries(schedules).map(([k, s]) => [k, steps.map((n) => s.valueAt(n))]),
  );
  // step() advances the same values: check the stateful API agrees with valueAt
  const cos = new CosineScheduler(0.05, 0.005, N);
  let statefulMatches = true;
  for (let n = 1; n <= N; n++) statefulMatches &&= Math.abs(cos.step() - cos.valueAt(n)) < 1e-15;
  await ctx.figure(
    'schedules',
    await lineChart(steps, values, {
      title: 'Step-size schedules 0.05 → 0.005 over 100 steps',
      groupTitles: ['value v(n)'],
    }),
  );

  // Langevin with a cosine step schedule, chains started far away at (5, 5)
  const energy = new Gaussian({ mean: [0, 0] });
  const nSteps = ctx.smoke ? 400 : 1000;
  const nChains = ctx.smoke ? 2000 : 5000;
  const schedule = new CosineScheduler(0.05, 0.005, nSteps);
  const sampler = new LangevinDynamics(energy, { stepSize: schedule, noiseScale: 1 });
  const x0 = tf.fill([nChains, 2], 5) as tf.Tensor2D;
  const r = await sampler.sample({ x0, nSteps, seed: ctx.seed, diagnostics: true });
  const samples = (await r.samples.data()) as Float32Array;
  const { mean, cov } = meanCov(samples, 2);
  const meanTrace = (await r.diagnostics!.mean!.array()) as number[][];
  const varTrace = (await r.diagnostics!.var!.array()) as number[][];
  await ctx.figure(
    'langevin-cosine',
    await lineChart(
      meanTrace.map((_, i) => i + 1),
      {
        'mean x₁': meanTrace.map((m) => m[0]!),
        'var x₁': varTrace.map((v) => v[0]!),
        'step size h': meanTrace.map((_, i) => schedule.valueAt(i)),
      },
      {
        title: 'Langevin on N(0, I) from (5, 5) with a cosine step schedule',
        groups: [['mean x₁'], ['var x₁'], ['step size h']],
        groupTitles: ['chain mean of x₁ (target 0)', 'chain variance of x₁ (target 1)', 'step size'],
      },
    ),
  );
  tf.dispose([x0, r.samples, ...Object.values(r.diagnostics ?? {})]);
  energy.dispose();
  return finish(ctx, {
    linear: { start: values.linear![0], middle: round(values.linear![50]!, 6), end: values.linear![N] },
    cosine: { start: values.cosine![0], middle: round(values.cosine![50]!, 6), end: values.cosine![N] },
    exponential: { start: values.exponential![0], end: round(values.exponential![N]!, 6) },
    statefulMatches,
    langevin: {
      nChains,
      nSteps,
      finalStepSize: 0.005,
      mean: mean.map((v) => round(v)),
      variance: [round(cov[0]![0]!), round(cov[1]![1]!)],
      /** ULA variance at the final step size, 1/(1 − h/2). */
      predictedVariance: round(1 / (1 - 0.005 / 2)),
    },
  });
}

mainGuard(import.meta.url, run);
