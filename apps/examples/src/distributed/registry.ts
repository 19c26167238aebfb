/**
 * The worker registry of the distributed sweep: the demo's components (MLP energy, standardised 2-D datasets,
 * PCD / CD / DSM / SSM / NCE, Langevin / MALA / HMC) as factories of JSON parameters, plus an evaluation (MMD² of
 * Langevin samples from the trained energy to held-out data). Loaded by `ebm-worker --registry` in each worker
 * process (through tsx): an application-level module, so it may import every package.
 */
import { type EnergyFunction, medianDistance, mmdRbf, rngKey, uniformArray } from '@ebm/core';
import { type DatasetName, makeDataset } from '@ebm/datasets';
import { defineRegistry, fitTrainer, type JsonObject } from '@ebm/distributed';
import {
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  GaussianNoise,
  NoiseContrastiveEstimation,
  PersistentContrastiveDivergence,
  SlicedScoreMatching,
} from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

const BOX = 3;

/** Standardises with the moments of a fixed reference sample of the dataset (seed-independent). */
function standardiser(name: DatasetName): (a: Float32Array) => Float32Array {
  const ref = makeDataset(name, { nSamples: 4000, seed: 0 }).data;
  const n = ref.length / 2;
  const m = [0, 0];
  for (let i = 0; i < ref.length; i++) m[i % 2]! += ref[i]! / n;
  const v = [0, 0];
  for (let i = 0; i < ref.length; i++) v[i % 2]! += (ref[i]! - m[i % 2]!) ** 2 / n;
  const s = v.map((x) => Math.sqrt(x) || 1);
  return (a) => a.map((x, i) => (x - m[i % 2]!) / s[i % 2]!);
}

const num = (p: JsonObject, k: string, d: number) => (typeof p[k] === 'number' ? (p[k] as number) : d);

const energies = {
  mlp: (p: JsonObject) =>
    new MLPEnergy({ inputDim: 2, widths: [32, 32], activation: 'silu', seed: num(p, 'seed', 0) }),
};
const samplers = {
  langevin: (e: EnergyFunction, p: JsonObject) =>
    new LangevinDynamics(e, { stepSize: num(p, 'stepSize', 0.01), clamp: [-BOX - 1, BOX + 1] }),
  mala: (e: EnergyFunction, p: JsonObject) => new MALA(e, { stepSize: num(p, 'stepSize', 0.01) }),
  hmc: (e: EnergyFunction, p: JsonObject) =>
    new HamiltonianMonteCarlo(e, { stepSize: num(p, 'stepSize', 0.01), nLeapfrogSteps: 5 }),
};

export default defineRegistry({
  energies,
  samplers,
  trainers: {
    fit: fitTrainer({
      fit,
      datasets: {
        points: (p, seed) => {
          const name = String(p.name) as DatasetName;
          return {
            data: standardiser(name)(makeDataset(name, { nSamples: num(p, 'n', 2000), seed }).data),
            dim: 2,
          };
        },
      },
      losses: {
        pcd: ({ energy, sampler, params }) =>
          new PersistentContrastiveDivergence(energy, {
            sampler: sampler as never,
            k: num(params, 'k', 10),
            energyL2: 0.1,
            buffer: { capacity: 4000, reinitProbability: 0.05, init: 'uniform', initScale: BOX },
          }),
        cd: ({ energy, sampler, params }) =>
          new ContrastiveDivergence(energy, {
            sampler: sampler as never,
            k: num(params, 'k', 10),
            energyL2: 0.1,
          }),
        dsm: ({ energy }) => new DenoisingScoreMatching(energy, { sigma: 0.1 }),
        ssm: ({ energy }) => new SlicedScoreMatching(energy, { nProjections: 1, projection: 'rademacher' }),
        nce: ({ energy }) =>
          new NoiseContrastiveEstimation(energy, { noise: new GaussianNoise({ mean: [0, 0], std: 1.5 }) }),
      },
      // MMD² (median-heuristic RBF) of Langevin samples from noise to held-out data, and of the noise itself.
      evaluate: async ({ energy, spec, seed }) => {
        const p = spec.dataset.params ?? {};
        const name = String(p.name) as DatasetName;
        const n = num(spec.evaluate ?? {}, 'n', 400);
        const held = standardiser(name)(makeDataset(name, { nSamples: n, seed: seed + 1_000_003 }).data);
        const noise = uniformArray(rngKey(seed + 7), [n, 2], -BOX, BOX);
        const sampler = new LangevinDynamics(energy, { stepSize: 0.01, clamp: [-BOX - 1, BOX + 1] });
        const x0 = tf.tensor2d(noise, [n, 2]);
        const r = await sampler.sample({
          x0,
          nSteps: num(spec.evaluate ?? {}, 'steps', 200),
          seed: seed + 11,
        });
        const samples = (await r.samples.data()) as Float32Array;
        x0.dispose();
        r.samples.dispose();
        const bandwidth = medianDistance(held, samples, 2);
        return {
          mmdSamples: mmdRbf(samples, held, 2, { bandwidth }),
          mmdNoise: mmdRbf(noise, held, 2, { bandwidth }),
        };
      },
    }),
  },
});
