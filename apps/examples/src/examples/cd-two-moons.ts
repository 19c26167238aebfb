/**
 * CD-k on two moons (TorchEBM 20-training/01-mcmc-losses/01-cd-k), with the measured recipe `twoMoons/cd` of
 * `pnpm demo --loss cd` (`src/demo/recipe-table.ts`, `RECIPES.md`).
 *
 * Trains an MLP energy (2 → 128 → 128 → 1, SiLU) on standardised two moons with contrastive divergence:
 * loss = mean E(x⁺) − mean E(x⁻) + λ(mean E(x⁺)² + mean E(x⁻)²), λ = 0.1, where the negatives x⁻ are k = 10
 * Langevin steps (h = 3e-3, σ = 1) started at the data batch (no gradient through the sampler); Adam 3e-3
 * cosine-decayed to 3e-4, batch 128, 2000 updates. Then samples the learned energy with 1000 Langevin steps from
 * uniform noise over the data box and reports the issue-17 score: multi-bandwidth MMD² of 2000 samples to 2000
 * held-out points, beside the score of the starting noise (the baseline a useless model would keep) and of a
 * second held-out set (the floor); the target is MMD² ≤ 0.005.
 */
import { runRecipeExample } from './_recipe-example.js';
import { context, type ExampleOptions, finish, mainGuard } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('cd-two-moons', options);
  const r = await runRecipeExample(ctx, {
    loss: 'cd',
    label: 'CD-10',
    // smoke: 100 updates of a 64-wide net at lr 1e-2; h = 0.01 so that 100 updates of CD-5 and 200 sampling steps reach past the data
    smoke: { steps: 100, k: 5, widths: [64, 64], learningRate: 1e-2, stepSize: 0.01, sampleSteps: 200 },
  });
  return finish(ctx, r);
}

mainGuard(import.meta.url, run);
