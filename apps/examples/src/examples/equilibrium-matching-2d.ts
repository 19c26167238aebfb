/**
 * Equilibrium Matching in 2-D (TorchEBM's `03-equilibrium-matching/01-equilibrium-matching-2d`): a time-invariant
 * TimeConditionedMLP trained with EquilibriumMatchingLoss — implicit field (`energyType: 'none'`) and an explicit
 * energy g = x·f (`'dot'`) — on two moons and eight gaussians, sampled by gradient descent on `EqMEnergy` from
 * noise. Reports MMD² to held-out data along the descent (total time T = η·steps), at the loss's suggested
 * descent time, and with the repulsive `InteractionModel` wrapper, next to the data floor and the noise baseline.
 * In 2-D, noise and data overlap, so the optimal time-invariant field is not zero on the data: long descents
 * slide samples along the data toward a few attractors (MMD² rises again) — the curve shows where to stop.
 */
import { medianDistance, mmdRbf } from '@ebm/core';
import { eightGaussians, type PointDataset, twoMoons } from '@ebm/datasets';
import { EquilibriumMatchingLoss, fit } from '@ebm/losses';
import { EqMEnergy, InteractionModel, TimeConditionedMLP } from '@ebm/models';
import { plotSampleComparison } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { columns, context, type ExampleOptions, finish, lineChart, mainGuard, round } from './_shared.js';

/** Gradient descent x ← x − η∇E(x), reading MMD² at the given step counts. */
async function descend(
  energy: { gradient(x: tf.Tensor2D): tf.Tensor2D },
  x0: tf.Tensor2D,
  eta: number,
  checkpoints: readonly number[],
  score: (x: tf.Tensor2D) => Promise<number>,
): Promise<{ mmd: number[]; last: tf.Tensor2D }> {
  let x = tf.clone(x0) as tf.Tensor2D;
  const mmd: number[] = [];
  const total = Math.max(...checkpoints);
  for (let k = 1; k <= total; k++) {
    const g = energy.gradient(x);
    const next = tf.sub(x, tf.mul(eta, g)) as tf.Tensor2D;
    tf.dispose([g, x]);
    x = next;
    if (checkpoints.includes(k)) mmd.push(round(await score(x), 5));
  }
  return { mmd, last: x };
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('equilibrium-matching-2d', options);
  const steps = ctx.smoke ? 300 : 3000;
  const nEval = ctx.smoke ? 300 : 1000;
  const eta = 0.01;
  const checkpoints = [10, 20, 30, 50, 100];
  const datasets: [string, (n: number, seed: number) => PointDataset][] = ctx.smoke
    ? [['twoMoons', (n, seed) => twoMoons({ nSamples: n, seed })]]
    : [
        ['twoMoons', (n, seed) => twoMoons({ nSamples: n, seed })],
        ['eightGaussians', (n, seed) => eightGaussians({ nSamples: n, seed })],
      ];
  const energyTypes = ctx.smoke ? (['none'] as const) : (['none', 'dot'] as const);
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, make] of datasets) {
    const train = make(8192, ctx.seed + 1).toTensor();
    const held = make(nEval, ctx.seed + 2).data;
    const bandwidth = medianDistance(held, held, 2);
    const score = async (x: tf.Tensor2D) => mmdRbf((await x.data()) as Float32Array, held, 2, { bandwidth });
    const noise = tf.randomNormal([nEval, 2], 0, 1, 'float32', ctx.seed + 4) as tf.Tensor2D;
    const base = {
      mmdNoise: round(await score(noise), 5),
      mmdFloor: round(mmdRbf(make(nEval, ctx.seed + 5).data, held, 2, { bandwidth }), 5),
    };
    const curves: Record<string, number[]> = {};
    for (const energyType of energyTypes) {
      const model = new TimeConditionedMLP({
        dim: 2,
        widths: ctx.smoke ? [64, 64] : [128, 128, 128],
        seed: ctx.seed,
      });
      const loss = new EquilibriumMatchingLoss(model, { energyType, seed: ctx.seed });
      const res = await fit({
        loss,
        optimizer: tf.train.adam(3e-3),
        data: train,
        batchSize: 256,
        steps,
        seed: ctx.seed,
      });
      const energy = EqMEnergy.fromLoss(loss);
      const tStar = loss.samplingTime();
      const nStar = Math.round(tStar / eta);
      const cps = [...new Set([...checkpoints, nStar])].sort((a, b) => a - b);
      const { mmd, last } = await descend(energy, noise, eta, cps, score);
      last.dispose();
      const atStar = mmd[cps.indexOf(nStar)]!;
      // diverse sampling: a weak repulsion between chains during the same descent
      const repulsive = new InteractionModel(energy, { sigmaW: 1, strength: 0.1 / nEval });
      const rep = await descend(repulsive, noise, eta, [nStar], score);
      const star = await descend(energy, noise, eta, [nStar], score);
      await ctx.figure(
        `${name}-${energyType}-samples`,
        await plotSampleComparison(columns(held), columns((await star.last.data()) as Float32Array), {
          labels: ['held-out data', `EqM (${energyType}), T = ${tStar}`],
          title: `${name}: EqM ${energyType}, MMD² ${atStar.toFixed(4)} (noise ${base.mmdNoise.toFixed(4)})`,
        }),
      );
      tf.dispose([rep.last, star.last]);
      curves[energyType] = cps.map((k) => mmd[cps.indexOf(k)]!);
      results[`${name}-${energyType}`] = {
        ...base,
        finalLoss: round(res.history.at(-1)!.loss),
        samplingTime: tStar,
        mmdAtSamplingTime: atStar,
        mmdRepulsive: rep.mmd[0]!,
        descentTimes: cps.map((k) => round(k * eta, 3)),
        mmdAlongDescent: cps.map((k) => mmd[cps.indexOf(k)]!),
      };
      model.dispose();
    }
    const times = [...new Set([...checkpoints, 30])].sort((a, b) => a - b).map((k) => k * eta);
    await ctx.figure(
      `${name}-mmd-vs-descent-time`,
      await lineChart(times, curves, { title: `${name}: MMD² vs descent time T = η·steps` }),
    );
    tf.dispose([train, noise]);
  }
  return finish(ctx, { steps, nEval, eta, results });
}

mainGuard(import.meta.url, run);
