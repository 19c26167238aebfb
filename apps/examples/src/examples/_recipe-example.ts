/**
 * Shared body of the training examples that run a measured recipe of `pnpm demo` (`src/demo/recipe-table.ts`,
 * `RECIPES.md`): train the recipe on its dataset, sample the trained energy with Langevin chains from uniform
 * noise over the data box, and report the issue-17 score (multi-bandwidth MMD² of the samples beside the same
 * score of the starting noise — the baseline — and of a second held-out set — the floor — and whether the
 * dataset's target is met), mean energies on held-out data and on the noise, and the three figures.
 *
 * At full size the example runs the recipe exactly as the demo and the recipe table do (same seed → same
 * numbers as `pnpm demo --dataset D --loss L --seed S`); in smoke mode it runs `smoke`'s smaller sizes.
 */
import { rngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { recipeFor } from '../demo/recipe-table.js';
import {
  type PreparedRecipe,
  prepareRecipe,
  type Recipe,
  type RecipeLoss,
  releaseTraining,
  sampleAndScore,
  trainMore,
} from '../demo/recipes.js';
import { columns, type ExampleContext, round } from './_shared.js';

/** What {@link runRecipeExample} reports (merged into the example's `result.json`). */
export type RecipeExampleResult = {
  readonly steps: number;
  readonly finalLoss: number;
  /** CPU seconds of training and of the final sampling run (process.cpuUsage). */
  readonly cpuSeconds: { readonly train: number; readonly sample: number };
  /** Issue-17 score: multi-bandwidth MMD² of the samples, of the starting noise, of a second held-out set. */
  readonly mmdSamples: number;
  readonly mmdNoise: number;
  readonly mmdFloor: number;
  readonly target: string;
  readonly targetMet: boolean;
  /** Mean learned energy on held-out data and on the starting noise. */
  readonly energyData: number;
  readonly energyNoise: number;
  /** E(neg) − E(data) over the first and the last 10 % of updates (losses that report both energies). */
  readonly energyGapStart?: number;
  readonly energyGapEnd?: number;
  /** The loss on the held-out set with one fixed key, before and after training (`heldLoss: true`). */
  readonly heldLossBefore?: number;
  readonly heldLossAfter?: number;
};

/** Options of {@link runRecipeExample}. */
export interface RecipeExampleOptions {
  readonly loss: RecipeLoss;
  /** Overrides of the recipe in smoke mode, and the score's point count there (default 300). */
  readonly smoke: Partial<Recipe>;
  readonly smokePoints?: number;
  /** Label of the figures. */
  readonly label: string;
  /** Also report the loss on the held-out set before and after training. */
  readonly heldLoss?: boolean;
}

async function heldOutLoss(p: PreparedRecipe, seed: number): Promise<number> {
  const h = p.reference.held;
  const z = Float32Array.from(h, (v, i) => (v - p.mean[i % 2]!) / p.std[i % 2]!);
  const t = tf.tensor2d(z, [z.length / 2, 2]);
  try {
    const l = tf.tidy(() => p.loss.compute(t, { key: rngKey(seed + 99) }).loss);
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  } finally {
    t.dispose();
  }
}

/** Trains the two-moons recipe of `options.loss`, samples, scores and draws it (see the file's comment). */
export async function runRecipeExample(
  ctx: ExampleContext,
  options: RecipeExampleOptions,
): Promise<RecipeExampleResult> {
  const recipe = recipeFor('twoMoons', options.loss);
  const p = prepareRecipe('twoMoons', recipe, {
    seed: ctx.seed,
    ...(ctx.smoke ? { nScore: options.smokePoints ?? 300, override: options.smoke } : {}),
  });
  let trainCpu = 0;
  let heldBefore: number | undefined;
  let heldAfter: number | undefined;
  try {
    if (options.heldLoss) heldBefore = await heldOutLoss(p, ctx.seed);
    trainCpu = await trainMore(p);
    if (options.heldLoss) heldAfter = await heldOutLoss(p, ctx.seed);
  } finally {
    releaseTraining(p);
  }
  const [s] = await sampleAndScore(p);
  const score = s!.score;
  const history = p.history;
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
      title: `Learned energy (${options.label}, standardised coordinates, log colour scale)`,
    }),
  );
  await ctx.figure(
    'samples',
    await plotSampleComparison(columns(ref.held), columns(s!.samples), {
      labels: ['held-out data', 'Langevin samples'],
      xRange: [-1.5, 2.5],
      yRange: [-1, 1.5],
      title: `${options.label}: MMD² ${score.mmd.samples.toFixed(4)} (noise ${score.mmd.baseline.toFixed(4)})`,
    }),
  );
  await ctx.figure(
    'training',
    await plotTrainingCurves(
      history.map((m) => ({
        loss: m.loss,
        ...(m.energyPos !== undefined ? { 'E+': m.energyPos } : {}),
        ...(m.energyNeg !== undefined ? { 'E-': m.energyNeg } : {}),
      })),
      { smoothing: 0.9, title: `Training (${options.label})` },
    ),
  );
  p.energy.dispose();
  const gap = history.map((m) => (m.energyNeg ?? Number.NaN) - (m.energyPos ?? Number.NaN));
  const n = Math.max(1, Math.floor(gap.length / 10));
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const hasGap = Number.isFinite(gap.at(-1));
  return {
    steps: p.stepsDone,
    finalLoss: round(history.at(-1)!.loss),
    cpuSeconds: { train: round(trainCpu / 1000, 1), sample: round(s!.cpuMs / 1000, 1) },
    mmdSamples: round(score.mmd.samples, 5),
    mmdNoise: round(score.mmd.baseline, 5),
    mmdFloor: round(score.mmd.floor, 5),
    target: score.target.description,
    targetMet: score.target.met,
    energyData: round(eData!),
    energyNoise: round(eNoise!),
    ...(hasGap
      ? { energyGapStart: round(mean(gap.slice(0, n))), energyGapEnd: round(mean(gap.slice(-n))) }
      : {}),
    ...(heldBefore !== undefined ? { heldLossBefore: round(heldBefore) } : {}),
    ...(heldAfter !== undefined ? { heldLossAfter: round(heldAfter) } : {}),
  };
}
