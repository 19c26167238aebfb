/**
 * Persistent contrastive divergence (TorchEBM 20-training/01-mcmc-losses/02-persistent-cd).
 *
 * The CD-k set-up of `cd-two-moons`, but the negative chains persist across updates in a replay buffer
 * (capacity 8192, initialised uniformly over the data box, 5% re-initialised from noise each draw): chains keep
 * running as the model changes, so after training they have explored the whole model distribution — spurious
 * low-energy regions far from data get found and pushed up. Prints E(neg) − E(data) over training and scores
 * long-run samples from noise by MMD² to held-out data.
 */
import { fit, PersistentContrastiveDivergence } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';
import { BOX, evaluate, moonsData } from './_training.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('persistent-cd', options);
  const steps = ctx.smoke ? 60 : 1500;
  const { train, held } = moonsData(ctx.smoke ? 1000 : 4000, ctx.smoke ? 300 : 1000, ctx.seed);
  const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: ctx.seed });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1, clamp: [-BOX - 1, BOX + 1] });
  const k = ctx.smoke ? 5 : 10;
  const loss = new PersistentContrastiveDivergence(energy, {
    sampler,
    k,
    energyL2: 0.1,
    buffer: { capacity: 8192, reinitProbability: 0.05, init: 'uniform', initScale: BOX },
    seed: ctx.seed,
  });
  const optimizer = tf.train.adam(ctx.smoke ? 5e-3 : 2e-3);
  const { history } = await fit({
    loss,
    optimizer,
    data: train,
    batchSize: 128,
    steps,
    seed: ctx.seed,
    clipNorm: 10,
  });
  const gap = history.map((m) => (m.energyNeg ?? Number.NaN) - (m.energyPos ?? Number.NaN));
  const tail = gap.slice(-Math.max(1, Math.floor(gap.length / 10)));
  const ev = await evaluate(ctx, energy, held, history, `persistent CD-${k}`, {
    stepSize: 0.01,
    nSteps: ctx.smoke ? 200 : 500,
  });
  train.dispose();
  loss.dispose?.();
  optimizer.dispose();
  energy.dispose();
  return finish(ctx, {
    steps,
    bufferCapacity: 8192,
    finalLoss: round(history.at(-1)!.loss),
    /** E(neg) − E(data): mean over the first and the last 10% of updates. */
    energyGapStart: round(gap.slice(0, tail.length).reduce((a, b) => a + b, 0) / tail.length),
    energyGapEnd: round(tail.reduce((a, b) => a + b, 0) / tail.length),
    ...ev,
  });
}

mainGuard(import.meta.url, run);
