/**
 * Persistent contrastive divergence (TorchEBM 20-training/01-mcmc-losses/02-persistent-cd), with the measured
 * two-moons recipe of `pnpm demo` (`src/demo/recipe-table.ts`, `RECIPES.md`).
 *
 * The negative chains persist across updates in a replay buffer (capacity 8192, initialised uniformly over the
 * data box, 5 % re-initialised from noise on each draw): chains keep running as the model changes, so spurious
 * low-energy regions far from data get found and pushed up. Recipe (`twoMoons/pcd`, the demo's default):
 * standardised two moons, MLP 2 → 64 → 64 → 1 (SiLU), PCD-5 with Langevin h = 3e-3, σ = 1, energy
 * regularisation λ = 0.1, Adam 1e-2 cosine-decayed to 1e-3, batch 512, 400 updates. Prints E(neg) − E(data) over training and the issue-17 score: 2000 samples from uniform noise
 * over the data box against 2000 held-out points (multi-bandwidth MMD², beside noise and a second held-out set).
 */
import { recipeFor } from '../demo/recipe-table.js';
import { runRecipeExample } from './_recipe-example.js';
import { context, type ExampleOptions, finish, mainGuard } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('persistent-cd', options);
  const r = await runRecipeExample(ctx, {
    loss: 'pcd',
    label: 'persistent CD',
    // smoke: the demo's smoke sizes
    smoke: { steps: 60, k: 5, sampleSteps: 150, learningRate: 3e-3 },
  });
  return finish(ctx, { ...r, bufferCapacity: recipeFor('twoMoons', 'pcd').capacity });
}

mainGuard(import.meta.url, run);
