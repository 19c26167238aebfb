/**
 * Denoising score matching (TorchEBM 20-training/02-score-matching/01-denoising-score-matching), with the
 * measured recipe `twoMoons/dsm` of `pnpm demo --loss dsm` (`src/demo/recipe-table.ts`, `RECIPES.md`).
 *
 * Trains an MLP energy (2 → 128 → 128 → 1, SiLU) on standardised two moons without any sampler: perturb data
 * x̃ = x + σξ (σ = 0.15) and regress the model's score onto the denoising direction,
 * L = mean ½‖∇E(x̃) − (x̃ − x)/σ²‖² (Adam 3e-3 cosine-decayed to 3e-4, batch 128, 4000 updates). This is the
 * corrected sign (TorchEBM ≤ 0.7.11 regresses −∇E and learns an inverted energy, issue #318): the example checks
 * that the learned energy is lower on held-out data than on noise and that the held-out DSM loss drops, then
 * samples it with 300 Langevin steps (h = 3e-3, σ = 1) from uniform noise over the data box and reports the
 * issue-17 score (multi-bandwidth MMD² to held-out data beside noise and a second held-out set; target ≤ 0.005).
 */
import { runRecipeExample } from './_recipe-example.js';
import { context, type ExampleOptions, finish, mainGuard } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('denoising-score-matching', options);
  const r = await runRecipeExample(ctx, {
    loss: 'dsm',
    label: 'DSM σ = 0.15',
    heldLoss: true,
    smoke: { steps: 150, widths: [64, 64], learningRate: 5e-3, sampleSteps: 300 },
  });
  return finish(ctx, { sigma: 0.15, ...r });
}

mainGuard(import.meta.url, run);
