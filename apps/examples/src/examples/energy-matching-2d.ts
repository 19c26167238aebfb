/**
 * Energy Matching in 2-D (TorchEBM's `04-energy-matching/01-energy-matching-2d`, the paper's two-moons set-up,
 * here on two moons and eight gaussians): one scalar MLP energy V trained with EnergyMatchingLoss in two phases —
 * flow only (λ = 0: −∇V learns the OT flow from noise, Sinkhorn coupling ε = 0.01), then joint (λ = 2:
 * tempered-Langevin negatives with τ* = 0.8, ε_max = 0.15 shape V near the data into wells whose Boltzmann
 * density exp(−V/ε_max) is the data's). Samples come from Langevin on V from N(0, I) with the paper's
 * TemperatureScheduler sweep (`loss.sample`: Δ = 0.01, noise √ε(k): deterministic descent until τ*, then heating
 * to ε_max).
 *
 * Score: the sample-quality score of `lib/quality.ts` (multi-bandwidth MMD², 2000 samples vs 2000 held-out
 * points, beside uniform noise in the data's box — the baseline — and a second held-out set — the floor), after
 * each phase. Figure `<dataset>-landscape`: the learned V (left; colour ln(V − V_min + δ), so the wells and the
 * bowl share one scale) and the samples over it (right) — the paper's 2-D figure.
 * Deviations from the paper's run (compute): 1200 flow + 100 joint steps at lr 1e-3 → 1e-4 (cosine) instead of
 * 20k + 2k at 1e-4; the same λ, τ*, ε_max, Δ, 200 Langevin steps, trimmed mean and clamp. Smoke mode trains
 * with 20-step negative chains; sampling always uses the paper's 200 steps (MMD² after 100 steps is reported too).
 */
import { CosineScheduler, rngKey } from '@ebm/core';
import { type DatasetName, makeDataset } from '@ebm/datasets';
import { EnergyMatchingLoss, fit } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { combineFigures, type EnergyGrid, plotEnergyLandscape, plotSamples } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { roundScore, SCORE_POINTS, scoreReference, scoreSamples } from '../lib/quality.js';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Plot window per dataset (generator coordinates): the data plus a margin that shows the bowl around it. */
const WINDOW: Record<string, { x: [number, number]; y: [number, number] }> = {
  twoMoons: { x: [-2, 3], y: [-2, 2.5] },
  eightGaussians: { x: [-3.5, 3.5], y: [-3.5, 3.5] },
};

/** Runs the example. */
export async function run(options: ExampleOptions & { readonly datasets?: readonly DatasetName[] } = {}) {
  const ctx = context('energy-matching-2d', options);
  const flowSteps = ctx.smoke ? 200 : 1200;
  const jointSteps = ctx.smoke ? 8 : 100;
  const nLangevin = ctx.smoke ? 20 : 200;
  const nScore = ctx.smoke ? 400 : SCORE_POINTS;
  const batchSize = ctx.smoke ? 128 : 256;
  const datasets = options.datasets ?? (['twoMoons', 'eightGaussians'] as const);
  const results: Record<string, Record<string, unknown>> = {};
  for (const name of datasets) {
    const train = makeDataset(name, { nSamples: 8192, seed: ctx.seed + 1 }).toTensor();
    const ref = scoreReference(name, ctx.seed, nScore);
    const V = new MLPEnergy({ inputDim: 2, widths: ctx.smoke ? [64, 64] : [128, 128, 128], seed: ctx.seed });
    const loss = new EnergyMatchingLoss(V, {
      coupling: 'sinkhorn',
      nLangevinSteps: nLangevin,
      warmupSteps: flowSteps,
      seed: ctx.seed,
    });
    const optimizer = tf.train.adam(1e-3);
    const noise = tf.randomNormal([nScore, 2], 0, 1, 'float32', ctx.seed + 4) as tf.Tensor2D;
    // The paper's sampler: 200 tempered steps of Δ = 0.01 (transport in unit time, descent to τ*, then heat)
    const sample = async (nSteps = 200) => {
      const x = loss.sample(noise, rngKey(ctx.seed + 3), nSteps);
      const s = (await x.data()) as Float32Array;
      x.dispose();
      return s;
    };
    const t0 = performance.now();
    const flow = await fit({
      loss,
      optimizer,
      learningRate: 1e-3,
      data: train,
      batchSize,
      steps: flowSteps,
      seed: ctx.seed,
    });
    const flowMs = performance.now() - t0;
    const afterFlow = roundScore(scoreSamples(ref, await sample()));
    const t1 = performance.now();
    const joint = await fit({
      loss,
      optimizer,
      learningRate: new CosineScheduler(1e-3, 1e-4, jointSteps),
      data: train,
      batchSize,
      steps: jointSteps,
      seed: ctx.seed + 1,
    });
    const jointMs = performance.now() - t1;
    const t2 = performance.now();
    const samples = await sample();
    const sampleMs = performance.now() - t2;
    const afterJoint = roundScore(scoreSamples(ref, samples));
    const afterJoint100 = roundScore(scoreSamples(ref, await sample(100)));
    const w = WINDOW[name]!;
    const resolution = ctx.smoke ? 40 : 120;
    const landscape = await plotEnergyLandscape(V, {
      xRange: w.x,
      yRange: w.y,
      resolution,
      logScale: true,
      title: `Learned energy V (${name})`,
    });
    const overlay = await plotSamples(columns(samples), {
      energy: landscape.data.grid as EnergyGrid,
      logScale: true,
      contours: false,
      xRange: w.x,
      yRange: w.y,
      color: 'white',
      radius: 1.2,
      opacity: 0.6,
      title: `Tempered Langevin on V: MMD² ${afterJoint.mmd.samples.toFixed(4)} (floor ${afterJoint.mmd.floor.toFixed(4)}, noise ${afterJoint.mmd.baseline.toFixed(4)})`,
    });
    await ctx.figure(
      `${name}-landscape`,
      combineFigures([landscape, overlay], { columns: 2, title: `Energy matching, ${name}` }),
    );
    results[name] = {
      afterFlow,
      afterJoint,
      afterJoint100Steps: afterJoint100.mmd.samples,
      flowLoss: round(flow.history.at(-1)!.loss),
      jointLoss: round(joint.history.at(-1)!.loss),
      cdGap: round(joint.history.at(-1)!.metrics?.cdGap ?? Number.NaN),
      trainSeconds: round((flowMs + jointMs) / 1000, 1),
      msPerFlowStep: round(flowMs / flowSteps, 1),
      msPerJointStep: round(jointMs / jointSteps, 1),
      sampleSeconds: round(sampleMs / 1000, 1),
    };
    tf.dispose([train, noise]);
    V.dispose();
  }
  return finish(ctx, { flowSteps, jointSteps, nLangevinSteps: nLangevin, nScore, results });
}

mainGuard(import.meta.url, run);
