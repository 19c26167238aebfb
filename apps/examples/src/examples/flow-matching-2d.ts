/**
 * Flow matching in 2-D (TorchEBM's generative curriculum): a TimeConditionedMLP trained with FlowMatchingLoss
 * (linear interpolant, uniform t) and fit on eight gaussians and on two moons, then sampled with FlowSampler
 * (RK4). Reports the MMD² of the samples to held-out data, next to the data-vs-data floor and the noise
 * baseline, and writes data-vs-samples and training-curve figures per dataset.
 */
import { medianDistance, mmdRbf } from '@ebm/core';
import { eightGaussians, type PointDataset, twoMoons } from '@ebm/datasets';
import { ExponentialMovingAverage, FlowMatchingLoss, fit } from '@ebm/losses';
import { TimeConditionedMLP } from '@ebm/models';
import { FlowSampler } from '@ebm/samplers';
import { plotSampleComparison, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('flow-matching-2d', options);
  const steps = ctx.smoke ? 400 : 3000;
  const nEval = ctx.smoke ? 400 : 1000;
  const datasets: [string, (n: number, seed: number) => PointDataset][] = [
    ['eightGaussians', (n, seed) => eightGaussians({ nSamples: n, seed })],
    ['twoMoons', (n, seed) => twoMoons({ nSamples: n, seed })],
  ];
  const results: Record<
    string,
    { mmdSamples: number; mmdEma: number; mmdNoise: number; mmdFloor: number; finalLoss: number }
  > = {};
  for (const [name, make] of datasets) {
    const train = make(8192, ctx.seed + 1).toTensor();
    const held = make(nEval, ctx.seed + 2).data;
    const model = new TimeConditionedMLP({
      dim: 2,
      widths: ctx.smoke ? [64, 64] : [128, 128, 128],
      seed: ctx.seed,
    });
    const ema = new ExponentialMovingAverage(model.trainableVariables, { decay: 0.99 });
    const loss = new FlowMatchingLoss(model, { seed: ctx.seed });
    const res = await fit({
      loss,
      optimizer: tf.train.adam(3e-3),
      data: train,
      batchSize: 256,
      steps,
      seed: ctx.seed,
      onStep: () => ema.update(),
    });
    const sampler = new FlowSampler(model, { integrator: 'rk4', nSteps: 32 });
    const r = await sampler.sample({ nSamples: nEval, seed: ctx.seed + 3 });
    const samples = (await r.samples.data()) as Float32Array;
    const re = await ema.withAveraged(() => sampler.sample({ nSamples: nEval, seed: ctx.seed + 3 }));
    const samplesEma = (await re.samples.data()) as Float32Array;
    const noise = tf.randomNormal([nEval, 2], 0, 1, 'float32', ctx.seed + 4);
    const noiseData = (await noise.data()) as Float32Array;
    const bandwidth = medianDistance(held, held, 2);
    const ev = {
      mmdSamples: round(mmdRbf(samples, held, 2, { bandwidth }), 5),
      mmdEma: round(mmdRbf(samplesEma, held, 2, { bandwidth }), 5),
      mmdNoise: round(mmdRbf(noiseData, held, 2, { bandwidth }), 5),
      mmdFloor: round(mmdRbf(make(nEval, ctx.seed + 5).data, held, 2, { bandwidth }), 5),
      finalLoss: round(res.history.at(-1)!.loss),
    };
    results[name] = ev;
    await ctx.figure(
      `${name}-samples`,
      await plotSampleComparison(columns(held), columns(samples), {
        labels: ['held-out data', 'flow samples'],
        title: `${name}: MMD² ${ev.mmdSamples.toFixed(4)} (noise ${ev.mmdNoise.toFixed(4)}, floor ${ev.mmdFloor.toFixed(4)})`,
      }),
    );
    await ctx.figure(
      `${name}-training`,
      await plotTrainingCurves(
        res.history.map((m) => ({ loss: m.loss })),
        { smoothing: 0.9, title: `Flow matching (${name})` },
      ),
    );
    tf.dispose([train, r.samples, re.samples, noise]);
    ema.dispose();
    model.dispose();
  }
  return finish(ctx, { steps, nEval, datasets: results });
}

mainGuard(import.meta.url, run);
