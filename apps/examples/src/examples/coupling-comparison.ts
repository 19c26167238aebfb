/**
 * Coupling comparison (TorchEBM's `05-couplings/01-coupling-comparison`): minibatch pairings of noise x₀ ~ N(0, I)
 * with two-moons data x₁ — independent, greedy, Sinkhorn (ε = 0.05 and 0.01), exact OT (Hungarian and the
 * ε-scaling auction) and unbalanced Sinkhorn — compared by transport cost E‖x₁ − x₀‖² and time per call over
 * batch sizes; unbalanced Sinkhorn's row weights (mean 1). Figures: the pairs drawn as segments for independent vs
 * exact OT, and cost vs batch size.
 */
import {
  type Coupling,
  ExactOTCoupling,
  GreedyCoupling,
  IndependentCoupling,
  randomNormal,
  rngKey,
  SinkhornCoupling,
  UnbalancedSinkhornCoupling,
} from '@ebm/core';
import { twoMoons } from '@ebm/datasets';
import { combineFigures, plotTrajectories } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, lineChart, mainGuard, round } from './_shared.js';

const COUPLINGS: Record<string, () => Coupling> = {
  independent: () => new IndependentCoupling(),
  greedy: () => new GreedyCoupling(),
  sinkhorn05: () => new SinkhornCoupling({ reg: 0.05 }),
  sinkhorn01: () => new SinkhornCoupling({ reg: 0.01 }),
  exactOtHungarian: () => new ExactOTCoupling(),
  exactOtAuction: () => new ExactOTCoupling({ method: 'auction' }),
  unbalancedSinkhorn: () => new UnbalancedSinkhornCoupling({ reg: 0.05, regMarginal: 1 }),
};

/** Pairs [B, 2, 2] (each pair as a two-point "trajectory") for drawing. */
function segments(x0: tf.Tensor2D, x1: tf.Tensor2D): tf.Tensor3D {
  return tf.stack([x0, x1], 1) as tf.Tensor3D;
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('coupling-comparison', options);
  const batches = ctx.smoke ? [32, 128] : [32, 64, 128, 256, 512];
  const repeats = ctx.smoke ? 1 : 3;
  const table: Record<string, { batch: number; cost: number; ms: number }[]> = {};
  let weights = { mean: 0, min: 0, max: 0 };
  for (const name of Object.keys(COUPLINGS)) table[name] = [];
  for (const b of batches) {
    const x1 = twoMoons({ nSamples: b, seed: ctx.seed + b, shuffle: true }).toTensor();
    const x0 = randomNormal(rngKey(ctx.seed + 1000 + b), [b, 2]) as tf.Tensor2D;
    for (const [name, make] of Object.entries(COUPLINGS)) {
      const c = make();
      let cost = 0;
      let ms = 0;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const out = await c.coupleAsync(x0, x1, rngKey(r));
        const d = tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(out.x1, out.x0)), 1)));
        cost += (await d.data())[0]! / repeats;
        ms += (performance.now() - t0) / repeats;
        if (out.weights !== undefined && b === batches.at(-1)) {
          const w = (await out.weights.data()) as Float32Array;
          weights = {
            mean: round(w.reduce((s, v) => s + v, 0) / w.length, 6),
            min: round(Math.min(...w)),
            max: round(Math.max(...w)),
          };
        }
        tf.dispose([out.x0, out.x1, out.weights, d]);
      }
      table[name]!.push({ batch: b, cost: round(cost), ms: round(ms, 1) });
    }
    tf.dispose([x0, x1]);
  }
  // pairings of one small batch, drawn as segments
  const nDraw = 64;
  const x1 = twoMoons({ nSamples: nDraw, seed: ctx.seed, shuffle: true }).toTensor();
  const x0 = randomNormal(rngKey(ctx.seed + 7), [nDraw, 2]) as tf.Tensor2D;
  const figs = [];
  for (const name of ['independent', 'exactOtHungarian'] as const) {
    const out = COUPLINGS[name]!().couple(x0, x1);
    const seg = segments(out.x0, out.x1);
    figs.push(
      await plotTrajectories(seg, {
        title: `${name}: pairs noise → two moons`,
        xRange: [-3, 3],
        yRange: [-3, 3],
        width: 420,
        height: 420,
      }),
    );
    tf.dispose([out.x0, out.x1, seg]);
  }
  tf.dispose([x0, x1]);
  await ctx.figure(
    'pairings',
    combineFigures(figs, { title: 'Independent vs exact-OT pairings (64 pairs)' }),
  );
  const series: Record<string, number[]> = {};
  for (const [name, rows] of Object.entries(table)) series[name] = rows.map((r) => r.cost);
  await ctx.figure(
    'transport-cost',
    await lineChart(batches, series, {
      title: 'Transport cost E‖x₁ − x₀‖² vs batch size (noise → two moons)',
    }),
  );
  const last = (name: string) => table[name]!.at(-1)!;
  return finish(ctx, {
    batches,
    couplings: table,
    unbalancedWeights: weights,
    largest: {
      batch: batches.at(-1)!,
      cost: Object.fromEntries(Object.keys(COUPLINGS).map((k) => [k, last(k).cost])),
      ms: Object.fromEntries(Object.keys(COUPLINGS).map((k) => [k, last(k).ms])),
    },
  });
}

mainGuard(import.meta.url, run);
