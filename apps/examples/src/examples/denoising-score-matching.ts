/**
 * Denoising score matching (TorchEBM 20-training/02-score-matching/01-denoising-score-matching).
 *
 * Trains an MLP energy on standardised two moons without any sampler: perturb data x̃ = x + σξ (σ = 0.1) and
 * regress the model's score onto the denoising direction, L = mean ½‖∇E(x̃) − (x̃ − x)/σ²‖². This is the
 * corrected sign (TorchEBM ≤ 0.7.11 regresses −∇E and learns an inverted energy, issue #318): the example checks
 * that the learned energy is lower on held-out data than on noise, then samples it with Langevin (h = 0.01,
 * σ = 1) from uniform noise and scores the samples by MMD² to held-out data.
 */
import { rngKey } from '@ebm/core';
import { DenoisingScoreMatching, fit } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, readScalar, round } from './_shared.js';
import { evaluate, moonsData } from './_training.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('denoising-score-matching', options);
  const steps = ctx.smoke ? 150 : 2000;
  const sigma = 0.1;
  const { train, held } = moonsData(ctx.smoke ? 1000 : 4000, ctx.smoke ? 300 : 1000, ctx.seed);
  const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: ctx.seed });
  const loss = new DenoisingScoreMatching(energy, { sigma, seed: ctx.seed });
  const optimizer = tf.train.adam(ctx.smoke ? 5e-3 : 3e-3);
  // held-out DSM loss with one fixed noise draw, before and after training (the same noise cancels most of the
  // loss's variance, so the difference shows what training did)
  const heldT = tf.tensor2d(held, [held.length / 2, 2]);
  const heldLoss = () =>
    readScalar(() => loss.compute(heldT, { key: rngKey(ctx.seed + 99), metrics: false }).loss);
  const heldLossBefore = await heldLoss();
  const { history } = await fit({
    loss,
    optimizer,
    data: train,
    batchSize: 128,
    steps,
    seed: ctx.seed,
    clipNorm: 100,
  });
  const ev = await evaluate(ctx, energy, held, history, `DSM σ = ${sigma}`, {
    stepSize: 0.01,
    nSteps: ctx.smoke ? 300 : 1000,
  });
  const heldLossAfter = await heldLoss();
  heldT.dispose();
  train.dispose();
  optimizer.dispose();
  energy.dispose();
  return finish(ctx, {
    steps,
    sigma,
    finalLoss: round(history.at(-1)!.loss),
    heldLossBefore: round(heldLossBefore),
    heldLossAfter: round(heldLossAfter),
    ...ev,
  });
}

mainGuard(import.meta.url, run);
