/**
 * Riemannian-manifold HMC on Neal's funnel (v ~ N(0, 3²), xᵢ | v ~ N(0, eᵛ)): HMC with one global step size
 * cannot enter the funnel's neck (small v, where the scale of x shrinks as e^{v/2}), while RMHMC with the
 * funnel's expected Fisher metric G(v, x) = diag(1/9 + (D − 1)/2, e^{−v}, …, e^{−v}) rescales x locally and
 * reaches it. Reports the v-marginal (mean, std, P(v < −3)) against the truth (0, 3, 0.159), acceptance rates and
 * gradient evaluations; figures: HMC vs RMHMC samples, and v traces.
 */
import { Funnel } from '@ebm/models';
import { HamiltonianMonteCarlo, type MetricFunction, RiemannianManifoldHMC } from '@ebm/samplers';
import { plotSampleComparison, plotTrace } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

const SCALE = 3;

/** The funnel's expected Fisher information as a diagonal metric: 1/σ² + (D − 1)/2 for v, e^{−v} for each x. */
function fisherMetric(dim: number): MetricFunction {
  return (q) =>
    tf.tidy(() => {
      const v = tf.slice(q, [0, 0], [-1, 1]);
      const gv = tf.fill(v.shape, 1 / (SCALE * SCALE) + (dim - 1) / 2);
      return tf.concat([gv, tf.tile(tf.exp(tf.neg(v)), [1, dim - 1])], 1) as tf.Tensor2D;
    });
}

/** v-marginal statistics of kept states `[chains·kept]`. */
function vStats(v: Float32Array) {
  const n = v.length;
  const mean = v.reduce((s, a) => s + a, 0) / n;
  const std = Math.sqrt(v.reduce((s, a) => s + (a - mean) ** 2, 0) / n);
  const neck = v.reduce((s, a) => s + (a < -3 ? 1 : 0), 0) / n;
  return { mean: round(mean, 3), std: round(std, 3), neckFraction: round(neck, 3), n };
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('rmhmc-funnel', options);
  const dim = 2;
  const chains = ctx.smoke ? 32 : 128;
  const nSteps = ctx.smoke ? 40 : 400;
  const burnIn = ctx.smoke ? 10 : 100;
  const funnel = new Funnel({ dim, scale: SCALE });
  const x0 = tf.randomNormal([chains, dim], 0, 1, 'float32', ctx.seed + 1) as tf.Tensor2D;
  const leap = 8;
  const samplers = {
    hmc: new HamiltonianMonteCarlo(funnel, { stepSize: 0.25, nLeapfrogSteps: leap }),
    rmhmc: new RiemannianManifoldHMC(funnel, fisherMetric(dim), {
      stepSize: 0.35,
      nLeapfrogSteps: leap,
      solverMaxIter: 6,
    }),
  };
  const results: Record<string, unknown> = {};
  const vs: Record<string, Float32Array> = {};
  const traces: Record<string, number[][]> = {};
  const points: Record<string, Float32Array> = {};
  for (const [name, s] of Object.entries(samplers)) {
    const t0 = performance.now();
    const r = await s.sample({
      x0,
      nSteps,
      burnIn,
      seed: ctx.seed + 2,
      trajectory: true,
      diagnostics: true,
    });
    const ms = performance.now() - t0;
    const traj = (await r.trajectory!.x!.data()) as Float32Array; // [chains, kept, dim]
    const kept = r.nKept;
    const v = new Float32Array(chains * kept);
    for (let i = 0; i < chains * kept; i++) v[i] = traj[i * dim]!;
    vs[name] = v;
    points[name] = traj;
    traces[name] = Array.from({ length: 4 }, (_, c) => Array.from(v.subarray(c * kept, (c + 1) * kept)));
    const info = r.diagnostics as unknown as Record<string, tf.Tensor>;
    const acc = (await info.acceptanceRate!.data()) as Float32Array;
    results[name] = {
      ...vStats(v),
      acceptanceRate: round(acc.reduce((s, a) => s + a, 0) / acc.length, 3),
      wallMs: round(ms, 0),
    };
    for (const t of [r.samples, ...Object.values(r.trajectory ?? {}), ...Object.values(r.diagnostics ?? {})])
      (t as tf.Tensor).dispose();
  }
  x0.dispose();
  await ctx.figure(
    'samples',
    await plotSampleComparison(
      { x: vs.hmc!, y: Float32Array.from({ length: vs.hmc!.length }, (_, i) => points.hmc![i * dim + 1]!) },
      {
        x: vs.rmhmc!,
        y: Float32Array.from({ length: vs.rmhmc!.length }, (_, i) => points.rmhmc![i * dim + 1]!),
      },
      {
        labels: ['HMC (ε = 0.25)', 'RMHMC (Fisher metric)'],
        title: 'Neal’s funnel: (v, x) samples',
        xRange: [-10, 10],
        yRange: [-20, 20],
      },
    ),
  );
  await ctx.figure('v-traces-hmc', await plotTrace(traces.hmc!, { title: 'HMC: v traces (4 chains)' }));
  await ctx.figure('v-traces-rmhmc', await plotTrace(traces.rmhmc!, { title: 'RMHMC: v traces (4 chains)' }));
  return finish(ctx, {
    dim,
    chains,
    nSteps,
    burnIn,
    nLeapfrogSteps: leap,
    truth: { mean: 0, std: SCALE, neckFraction: 0.159 },
    samplers: results,
  });
}

mainGuard(import.meta.url, run);
