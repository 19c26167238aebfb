/**
 * Interpolant anatomy (TorchEBM 00-foundations/04-interpolants): α(t), σ(t) of the linear, cosine and
 * variance-preserving paths x_t = α(t)x₁ + σ(t)x₀, their drift variance λ(t) = (α̇/α)σ² − σσ̇, and x_t, u_t for
 * one noise/data pair. Checks: α(1) = 1, σ(1) ≈ 0, and α² + σ² = 1 for the cosine and VP paths.
 */
import { getInterpolant } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, lineChart, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('interpolant-anatomy', options);
  const n = ctx.smoke ? 21 : 101;
  const ts = Array.from({ length: n }, (_, i) => 0.02 + (0.96 * i) / (n - 1));
  const out: Record<
    string,
    { alpha: number[]; sigma: number[]; driftVar: number[]; maxVariancePreservingError: number }
  > = {};
  const series: Record<string, number[]> = {};
  for (const name of ['linear', 'cosine', 'vp'] as const) {
    const ip = getInterpolant(name);
    const [alpha, sigma, lam] = tf.tidy(() => {
      const t = tf.tensor1d(ts);
      const c = ip.coefficients(t);
      return [
        Array.from(c.alpha.dataSync()),
        Array.from(c.sigma.dataSync()),
        Array.from(ip.driftVar(t).dataSync()),
      ];
    });
    out[name] = {
      alpha: alpha!.map((v) => round(v, 5)),
      sigma: sigma!.map((v) => round(v, 5)),
      driftVar: lam!.map((v) => round(v, 5)),
      maxVariancePreservingError: round(
        Math.max(...alpha!.map((a, i) => Math.abs(a * a + sigma![i]! ** 2 - 1))),
        6,
      ),
    };
    series[`α ${name}`] = alpha!;
    series[`σ ${name}`] = sigma!;
  }
  const ends = tf.tidy(() =>
    Object.fromEntries(
      (['linear', 'cosine', 'vp'] as const).map((name) => {
        const c = getInterpolant(name).coefficients(tf.tensor1d([1]));
        return [name, { alpha: round(c.alpha.dataSync()[0]!, 6), sigma: round(c.sigma.dataSync()[0]!, 6) }];
      }),
    ),
  );
  await ctx.figure(
    'interpolants',
    await lineChart(ts, series, {
      title: 'α(t) and σ(t): linear, cosine, VP',
      groupTitles: ['coefficients against t'],
    }),
  );
  return finish(ctx, { times: ts.map((t) => round(t, 4)), interpolants: out, atOne: ends });
}

mainGuard(import.meta.url, run);
