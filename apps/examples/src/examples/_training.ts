/**
 * Shared set-up of the training examples (CD-k, persistent CD, denoising score matching): standardised
 * two-moons data with a held-out split, and the evaluation — Langevin chains from uniform noise over the data
 * box, the MMD² of the samples and of the starting noise to held-out data, mean energies on data and noise —
 * plus the three figures (landscape, data vs samples, training curves).
 */

import {
  disposeSampleResult,
  type EnergyFunction,
  medianDistance,
  mmdRbf,
  rngKey,
  uniformArray,
} from '@ebm/core';
import { permutation, twoMoons } from '@ebm/datasets';
import type { StepMetrics } from '@ebm/losses';
import { LangevinDynamics } from '@ebm/samplers';
import { plotEnergyLandscape, plotSampleComparison, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { columns, type ExampleContext, round } from './_shared.js';

/** Half-width of the data box (data are standardised). */
export const BOX = 3;

/** Standardised two moons: training tensor and held-out rows. */
export function moonsData(
  n: number,
  nHeld: number,
  seed: number,
): { train: tf.Tensor2D; held: Float32Array } {
  const tr = twoMoons({ nSamples: n, noise: 0.05, seed }).data;
  const he = twoMoons({ nSamples: nHeld, noise: 0.05, seed: seed + 1_000_003 }).data;
  const m = [0, 0];
  const s = [0, 0];
  for (let i = 0; i < tr.length; i++) m[i % 2]! += tr[i]! / n;
  for (let i = 0; i < tr.length; i++) s[i % 2]! += (tr[i]! - m[i % 2]!) ** 2 / n;
  const z = (a: Float32Array) => a.map((v, i) => (v - m[i % 2]!) / Math.sqrt(s[i % 2]!));
  // twoMoons lists the outer moon first: shuffle the held-out rows so any prefix covers both moons
  const order = permutation(nHeld, rngKey(seed + 5));
  const h = z(he);
  const held = new Float32Array(2 * nHeld);
  order.forEach((j, i) => {
    held[2 * i] = h[2 * j]!;
    held[2 * i + 1] = h[2 * j + 1]!;
  });
  return { train: tf.tensor2d(z(tr), [n, 2]), held };
}

/** What {@link evaluate} measures. */
export interface Evaluation {
  /** Unbiased RBF MMD² (median-heuristic bandwidth) of model samples / of the starting noise to held-out data. */
  readonly mmdSamples: number;
  readonly mmdNoise: number;
  /** Mean learned energy on held-out data and on the noise. */
  readonly energyData: number;
  readonly energyNoise: number;
}

/** Samples the trained energy from uniform noise, scores the samples and writes the figures. */
export async function evaluate(
  ctx: ExampleContext,
  energy: EnergyFunction,
  held: Float32Array,
  history: readonly StepMetrics[],
  label: string,
  sampling: { stepSize: number; nSteps: number },
): Promise<Evaluation> {
  const n = ctx.smoke ? 300 : 1000;
  const noise = uniformArray(rngKey(ctx.seed + 7), [n, 2], -BOX, BOX);
  const x0 = tf.tensor2d(noise, [n, 2]);
  const sampler = new LangevinDynamics(energy, {
    stepSize: sampling.stepSize,
    noiseScale: 1,
    clamp: [-BOX - 1, BOX + 1],
  });
  const run = await sampler.sample({ x0, nSteps: sampling.nSteps, seed: ctx.seed + 11 });
  const samples = (await run.samples.data()) as Float32Array;
  const ref = held.slice(0, 2 * n); // held-out rows are shuffled (see moonsData)
  const bandwidth = medianDistance(ref, samples, 2);
  // one async read for both means (WebGPU in Node cannot read synchronously)
  const means = tf.tidy(() =>
    tf.stack([tf.mean(energy.energy(tf.tensor2d(ref, [ref.length / 2, 2]))), tf.mean(energy.energy(x0))]),
  );
  const [eData, eNoise] = Array.from(await means.data());
  means.dispose();
  const ev: Evaluation = {
    mmdSamples: round(mmdRbf(samples, ref, 2, { bandwidth }), 5),
    mmdNoise: round(mmdRbf(noise, ref, 2, { bandwidth }), 5),
    energyData: round(eData!),
    energyNoise: round(eNoise!),
  };
  const range: [number, number] = [-BOX, BOX];
  await ctx.figure(
    'landscape',
    await plotEnergyLandscape(energy, {
      xRange: range,
      yRange: range,
      resolution: ctx.smoke ? 40 : 100,
      title: `Learned energy (${label})`,
    }),
  );
  const wide: [number, number] = [-BOX - 1, BOX + 1]; // the chains' clamp box, so stragglers stay in the frame
  await ctx.figure(
    'samples',
    await plotSampleComparison(columns(ref), columns(samples), {
      labels: ['held-out data', 'Langevin samples'],
      xRange: wide,
      yRange: wide,
      title: `${label}: MMD² ${ev.mmdSamples.toFixed(4)} (noise ${ev.mmdNoise.toFixed(4)})`,
    }),
  );
  const curves = history.map((m) => ({
    loss: m.loss,
    ...(m.energyPos !== undefined ? { 'E+': m.energyPos } : {}),
    ...(m.energyNeg !== undefined ? { 'E-': m.energyNeg } : {}),
  }));
  await ctx.figure(
    'training',
    await plotTrainingCurves(curves, { smoothing: 0.9, title: `Training (${label})` }),
  );
  x0.dispose();
  disposeSampleResult(run);
  return ev;
}
