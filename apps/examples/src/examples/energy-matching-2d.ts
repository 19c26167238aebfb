/**
 * Energy Matching in 2-D (TorchEBM's `04-energy-matching/01-energy-matching-2d`, the paper's two-moons set-up):
 * one scalar MLP energy V trained with EnergyMatchingLoss in two phases — flow only (λ = 0: −∇V learns the OT
 * flow from noise, Sinkhorn coupling ε = 0.01), then joint (λ = 2: tempered-Langevin negatives with τ* = 0.8,
 * ε_max = 0.15 shape V near the data). Samples come from Langevin on V from noise with the same
 * TemperatureScheduler sweep (Δ = 0.01, `loss.sample`) over 100 steps (time 1: −∇V transports noise to data in
 * unit time, then heats) and over the paper's 200 steps (longer descent; short joint phases leave V's minima
 * narrower than the data, so the longer sweep scores worse until the joint phase has run long). Reports MMD² after each phase next to the data floor and the
 * noise baseline; figures: the learned energy landscape and data vs samples.
 * Deviations from the paper's run (compute): fewer steps (paper: 20k flow + 2k joint at lr 1e-4), lr 1e-3.
 */
import { medianDistance, mmdRbf, rngKey } from '@ebm/core';
import { twoMoons } from '@ebm/datasets';
import { EnergyMatchingLoss, fit } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { plotEnergyLandscape, plotSampleComparison } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('energy-matching-2d', options);
  const flowSteps = ctx.smoke ? 200 : 2000;
  const jointSteps = ctx.smoke ? 10 : 200;
  const nLangevin = ctx.smoke ? 15 : 200;
  const nEval = ctx.smoke ? 300 : 1000;
  const make = (n: number, seed: number) => twoMoons({ nSamples: n, seed });
  const train = make(8192, ctx.seed + 1).toTensor();
  const held = make(nEval, ctx.seed + 2).data;
  const bandwidth = medianDistance(held, held, 2);
  const V = new MLPEnergy({ inputDim: 2, widths: ctx.smoke ? [64, 64] : [128, 128, 128], seed: ctx.seed });
  const loss = new EnergyMatchingLoss(V, {
    coupling: 'sinkhorn',
    nLangevinSteps: nLangevin,
    warmupSteps: flowSteps,
    seed: ctx.seed,
  });
  const optimizer = tf.train.adam(1e-3);
  const noise = tf.randomNormal([nEval, 2], 0, 1, 'float32', ctx.seed + 4) as tf.Tensor2D;
  const sample = async (nSteps = 100) => {
    const x = loss.sample(noise, rngKey(ctx.seed + 3), nSteps);
    const s = (await x.data()) as Float32Array;
    x.dispose();
    return s;
  };
  const score = (s: Float32Array) => round(mmdRbf(s, held, 2, { bandwidth }), 5);
  const t0 = performance.now();
  const batchSize = ctx.smoke ? 128 : 256;
  const flow = await fit({ loss, optimizer, data: train, batchSize, steps: flowSteps, seed: ctx.seed });
  const flowMs = performance.now() - t0;
  const afterFlow = await sample();
  const t1 = performance.now();
  const joint = await fit({
    loss,
    optimizer,
    data: train,
    batchSize,
    steps: jointSteps,
    seed: ctx.seed + 1,
  });
  const jointMs = performance.now() - t1;
  const afterJoint = await sample();
  const afterJoint200 = await sample(200);
  const ev = {
    mmdAfterFlow: score(afterFlow),
    mmdAfterJoint: score(afterJoint),
    mmdAfterJoint200: score(afterJoint200),
    mmdNoise: score((await noise.data()) as Float32Array),
    mmdFloor: score(make(nEval, ctx.seed + 5).data),
  };
  await ctx.figure(
    'samples',
    await plotSampleComparison(columns(held), columns(afterJoint), {
      labels: ['held-out data', 'Langevin on V (tempered)'],
      title: `Energy matching, two moons: MMD² ${ev.mmdAfterJoint.toFixed(4)} (noise ${ev.mmdNoise.toFixed(4)}, floor ${ev.mmdFloor.toFixed(4)})`,
      xRange: [-1.5, 2.5],
      yRange: [-1.2, 1.5],
    }),
  );
  await ctx.figure(
    'energy',
    await plotEnergyLandscape(V, {
      xRange: [-1.5, 2.5],
      yRange: [-1.2, 1.5],
      resolution: ctx.smoke ? 40 : 100,
      title: 'Learned energy V (two moons)',
    }),
  );
  tf.dispose([train, noise]);
  V.dispose();
  return finish(ctx, {
    flowSteps,
    jointSteps,
    nLangevinSteps: nLangevin,
    nEval,
    ...ev,
    flowLoss: round(flow.history.at(-1)!.loss),
    jointLoss: round(joint.history.at(-1)!.loss),
    cdGap: round(joint.history.at(-1)!.metrics?.cdGap ?? Number.NaN),
    msPerFlowStep: round(flowMs / flowSteps, 1),
    msPerJointStep: round(jointMs / jointSteps, 1),
  });
}

mainGuard(import.meta.url, run);
