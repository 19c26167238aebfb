/**
 * FlowSampler ODE 101 and an integrator comparison (TorchEBM 10-sampling/03-flow/01-flow-sampler-ode and
 * 02-integrators): the closed-form velocity of the linear path from N(0, I) to N(μ, Σ),
 * v(x, t) = μ + (tΣ − (1 − t)I)C_t⁻¹(x − tμ), C_t = t²Σ + (1 − t)²I, integrated by Euler, Heun, RK4 and adaptive
 * Dormand–Prince 5(4). Reports the recovered mean and covariance, and for each integrator the error of the ODE
 * solution against a tight dopri5 reference versus the number of function evaluations (NFE).
 */
import { FlowSampler, type FlowSamplerOptions } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, lineChart, mainGuard, meanCov, round } from './_shared.js';

const MU = [1, -2];
const SIGMA = [
  [1.5, 0.5],
  [0.5, 1],
];

function velocity(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = x.shape[0];
    const tt = Array.from(t.dataSync());
    // C_t⁻¹ per row (2 × 2, closed form), then v = μ + (tΣ − (1 − t)I)C_t⁻¹y
    const out = new Float32Array(2 * rows);
    const xv = x.dataSync();
    for (let i = 0; i < rows; i++) {
      const s = tt[i]!;
      const u = 1 - s;
      const c = [
        [s * s * SIGMA[0]![0]! + u * u, s * s * SIGMA[0]![1]!],
        [s * s * SIGMA[1]![0]!, s * s * SIGMA[1]![1]! + u * u],
      ];
      const det = c[0]![0]! * c[1]![1]! - c[0]![1]! * c[1]![0]!;
      const y = [xv[2 * i]! - s * MU[0]!, xv[2 * i + 1]! - s * MU[1]!];
      const w = [
        (c[1]![1]! * y[0]! - c[0]![1]! * y[1]!) / det,
        (-c[1]![0]! * y[0]! + c[0]![0]! * y[1]!) / det,
      ];
      for (let a = 0; a < 2; a++) {
        out[2 * i + a] =
          MU[a]! +
          (s * SIGMA[a]![0]! - (a === 0 ? u : 0)) * w[0]! +
          (s * SIGMA[a]![1]! - (a === 1 ? u : 0)) * w[1]!;
      }
    }
    return tf.tensor2d(out, [rows, 2]);
  });
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('flow-sampler-ode', options);
  const n = ctx.smoke ? 2000 : 10_000;
  const x0 = tf.randomNormal([n, 2], 0, 1, 'float32', ctx.seed) as tf.Tensor2D;
  const reference = await new FlowSampler(velocity, { dim: 2, rtol: 1e-6, atol: 1e-7 }).sample({ x0 });
  const refData = (await reference.samples.data()) as Float32Array;
  const { mean, cov } = meanCov(refData, 2);
  const runs: Record<string, { nSteps: number; nfe: number; maxError: number }[]> = {};
  const configs: [string, FlowSamplerOptions, number[]][] = [
    ['euler', { integrator: 'euler' }, [4, 8, 16, 32]],
    ['heun', { integrator: 'heun' }, [4, 8, 16, 32]],
    ['rk4', { integrator: 'rk4' }, [2, 4, 8, 16]],
    ['dopri5', { integrator: 'dopri5', rtol: 1e-3, atol: 1e-4 }, [1]],
  ];
  for (const [name, opts, steps] of configs) {
    runs[name] = [];
    for (const nSteps of steps) {
      const s = new FlowSampler(velocity, { dim: 2, nSteps, ...opts });
      const r = await s.sample({ x0, keepState: true });
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(r.samples, reference.samples))).dataSync()[0]!);
      runs[name]!.push({ nSteps, nfe: r.finalState!.nfe, maxError: round(err, 7) });
      s.disposeState(r.finalState!);
      r.samples.dispose();
    }
  }
  const allNfe = [...new Set(Object.values(runs).flatMap((a) => a.map((p) => p.nfe)))].sort((a, b) => a - b);
  const series: Record<string, number[]> = {};
  for (const [name, pts] of Object.entries(runs)) {
    series[`log₁₀ error ${name}`] = allNfe.map((f) => {
      const p = pts.find((q) => q.nfe === f);
      return p === undefined ? Number.NaN : Math.log10(Math.max(p.maxError, 1e-8));
    });
  }
  await ctx.figure(
    'error-vs-nfe',
    await lineChart(allNfe, series, {
      title: 'FlowSampler: ODE error against NFE',
      groupTitles: ['log₁₀ max error vs NFE (x)'],
    }),
  );
  tf.dispose([x0, reference.samples]);
  return finish(ctx, {
    nSamples: n,
    target: { mean: MU, cov: SIGMA },
    recovered: { mean: mean.map((v) => round(v)), cov: cov.map((r) => r.map((v) => round(v))) },
    integrators: runs,
  });
}

mainGuard(import.meta.url, run);
