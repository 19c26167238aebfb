/**
 * CD-k on two moons (TorchEBM 20-training/01-mcmc-losses/01-cd-k).
 *
 * Trains an MLP energy (2 → 64 → 64 → 1, SiLU) on standardised two moons with contrastive divergence:
 * loss = mean E(x⁺) − mean E(x⁻) + λ(mean E(x⁺)² + mean E(x⁻)²), where the negatives x⁻ are k = 10 Langevin
 * steps started at the data batch (no gradient through the sampler), Adam 2e-3, batch 128. Then samples the
 * learned energy with long Langevin runs from uniform noise and scores them by MMD² to held-out data, next to
 * the MMD² of the starting noise (the baseline a useless model would keep).
 */
import { ContrastiveDivergence, fit } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';
import { BOX, evaluate, moonsData } from './_training.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('cd-two-moons', options);
  const steps = ctx.smoke ? 60 : 1500;
  const k = ctx.smoke ? 5 : 10;
  const { train, held } = moonsData(ctx.smoke ? 1000 : 4000, ctx.smoke ? 300 : 1000, ctx.seed);
  const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: ctx.seed });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1, clamp: [-BOX - 1, BOX + 1] });
  const loss = new ContrastiveDivergence(energy, { sampler, k, energyL2: 0.1, seed: ctx.seed });
  const optimizer = tf.train.adam(ctx.smoke ? 5e-3 : 2e-3);
  const t0 = performance.now();
  const { history } = await fit({
    loss,
    optimizer,
    data: train,
    batchSize: 128,
    steps,
    seed: ctx.seed,
    clipNorm: 10,
  });
  const trainMs = performance.now() - t0;
  const ev = await evaluate(ctx, energy, held, history, `CD-${k}`, {
    stepSize: 0.01,
    nSteps: ctx.smoke ? 200 : 500,
  });
  train.dispose();
  optimizer.dispose();
  energy.dispose();
  return finish(ctx, {
    steps,
    k,
    trainMs: Math.round(trainMs),
    finalLoss: round(history.at(-1)!.loss),
    ...ev,
  });
}

mainGuard(import.meta.url, run);
