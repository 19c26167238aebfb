/**
 * Persistent contrastive divergence (TorchEBM 20-training/01-mcmc-losses/02-persistent-cd), with the measured
 * two-moons recipe of `pnpm demo` (`src/demo/recipe-table.ts`, `RECIPES.md`).
 *
 * The negative chains persist across updates in a replay buffer (capacity 8192, initialised uniformly over the
 * data box, 5 % re-initialised from noise on each draw): chains keep running as the model changes, so spurious
 * low-energy regions far from data get found and pushed up. Recipe: standardised two moons, MLP 2 → 128 → 128
 * → 1 (SiLU), PCD-10 with Langevin h = 1e-3, σ = 1, energy regularisation λ = 0.1, Adam 3e-3 cosine-decayed to
 * 3e-4, batch 128. Prints E(neg) − E(data) over training and the issue-17 score: 2000 samples from uniform noise
 * over the data box against 2000 held-out points (multi-bandwidth MMD², beside noise and a second held-out set).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recipeFor } from '../demo/recipe-table.js';
import { prepareRecipe, releaseTraining, sampleAndScore, trainMore } from '../demo/recipes.js';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('persistent-cd', options);
  const recipe = recipeFor('twoMoons', 'pcd');
  const p = prepareRecipe('twoMoons', recipe, {
    seed: ctx.seed,
    // smoke: the demo's smoke sizes
    ...(ctx.smoke
      ? { nScore: 300, override: { steps: 60, k: 5, sampleSteps: 150, learningRate: 3e-3 } }
      : {}),
  });
  try {
    await trainMore(p);
  } finally {
    releaseTraining(p);
  }
  const [s] = await sampleAndScore(p);
  const score = s!.score;
  const history = p.history;
  const gap = history.map((m) => (m.energyNeg ?? Number.NaN) - (m.energyPos ?? Number.NaN));
  const tail = gap.slice(-Math.max(1, Math.floor(gap.length / 10)));
  const ref = p.reference;
  const z = (x: Float32Array) => Float32Array.from(x, (v, i) => (v - p.mean[i % 2]!) / p.std[i % 2]!);
  const [eData, eNoise] = await Promise.all(
    [ref.held, ref.noise].map(async (x) => {
      const e = tf.tidy(() => tf.mean(p.energy.energy(tf.tensor2d(z(x), [x.length / 2, 2]))));
      const v = (await e.data())[0]!;
      e.dispose();
      return v;
    }),
  );
  const { plotEnergyLandscape, plotSampleComparison, plotTrainingCurves } = await import('@ebm/viz/node');
  await ctx.figure(
    'landscape',
    await plotEnergyLandscape(p.energy, {
      xRange: [-2.5, 2.5],
      yRange: [-2.5, 2.5],
      resolution: ctx.smoke ? 40 : 100,
      logScale: true,
      title: 'Learned energy (persistent CD, standardised coordinates, log colour scale)',
    }),
  );
  await ctx.figure(
    'samples',
    await plotSampleComparison(columns(ref.held), columns(s!.samples), {
      labels: ['held-out data', 'Langevin samples'],
      xRange: [-1.5, 2.5],
      yRange: [-1, 1.5],
      title: `persistent CD: MMD² ${score.mmd.samples.toFixed(4)} (noise ${score.mmd.baseline.toFixed(4)})`,
    }),
  );
  await ctx.figure(
    'training',
    await plotTrainingCurves(
      history.map((m) => ({ loss: m.loss, 'E+': m.energyPos ?? 0, 'E-': m.energyNeg ?? 0 })),
      { smoothing: 0.9, title: 'Training (persistent CD)' },
    ),
  );
  p.energy.dispose();
  return finish(ctx, {
    steps: p.stepsDone,
    bufferCapacity: recipe.capacity,
    finalLoss: round(history.at(-1)!.loss),
    /** E(neg) − E(data): mean over the first and the last 10% of updates. */
    energyGapStart: round(gap.slice(0, tail.length).reduce((a, b) => a + b, 0) / tail.length),
    energyGapEnd: round(tail.reduce((a, b) => a + b, 0) / tail.length),
    /** Issue-17 score: multi-bandwidth MMD² of the samples, of the starting noise, of a second held-out set. */
    mmdSamples: round(score.mmd.samples, 5),
    mmdNoise: round(score.mmd.baseline, 5),
    mmdFloor: round(score.mmd.floor, 5),
    target: score.target.description,
    targetMet: score.target.met,
    energyData: round(eData!),
    energyNoise: round(eNoise!),
  });
}

mainGuard(import.meta.url, run);
