import { CosineScheduler, rngKey } from '@ebm/core';
import { testSeed, zCritical } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  GaussianMixtureNoise,
  GaussianNoise,
  NoiseContrastiveEstimation,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
  ScoreMatching,
  SlicedScoreMatching,
} from '../src/index.js';
import { GaussianEnergy, gaussianData, inv2, Mala, mleStandardErrors, ReplicaExchange } from './fixtures.js';

/**
 * Parameter recovery on Gaussian data N(m, Σ) with a Gaussian energy E = ½(x − μ)ᵀP(x − μ) (learnable μ and
 * Cholesky-parametrised P, starting at μ = 0, P = I).
 *
 * Tolerances. With n data points the Gaussian MLE has asymptotic standard errors
 * se(μᵢ) = √(Σᵢᵢ/n) and se(Pᵢⱼ) = √((Pᵢⱼ² + PᵢᵢPⱼⱼ)/n). Exact score matching is the MLE for this family; the
 * other estimators are consistent with a larger variance, which we bound by an inflation factor c (1 for
 * SM and DSM, 1.5 for SSM/CD/PCD/PT-CD/NCE, which add projection, MCMC or noise-sample variance). Each
 * parameter must lie within z·c·se + δ of its target, with z = z_{1−α/2} for α = 1e-4 per parameter
 * (≈ 3.89) and δ = 0.02 for the residual optimisation error of 250 Adam steps with a cosine learning-rate
 * decay (iterates averaged over the last 30 steps). Targets are the true (μ, P), except DSM whose optimum is
 * the noised law: P = (Σ + σ²I)⁻¹.
 */
const N = 2000;
const STEPS = 250;
const MEAN = [1, -2];
const COV = [
  [1, 0.5],
  [0.5, 2],
];
const Z = zCritical(1e-4);
const DELTA = 0.02;

let data: tf.Tensor2D;
let truePrecision: number[][];

beforeAll(() => {
  const d = gaussianData(rngKey(testSeed('recovery-data')), N, MEAN, COV);
  data = d.x;
  truePrecision = d.precision;
});
afterAll(() => data.dispose());

async function train(
  energy: GaussianEnergy,
  loss: BaseLoss,
  seed: number,
): Promise<{ mu: number[]; prec: number[][]; logZ: number }> {
  const acc: { mu: number[]; prec: number[][]; logZ: number }[] = [];
  const logZVar = (loss as { logZ?: tf.Variable }).logZ;
  await fit({
    loss,
    optimizer: tf.train.adam(0.15),
    learningRate: new CosineScheduler(0.15, 0.005, STEPS),
    data,
    steps: STEPS,
    seed,
    checkpointEvery: STEPS,
    onStep: (m) => {
      if (m.step >= STEPS - 30) {
        acc.push({ mu: energy.mean(), prec: energy.precision(), logZ: logZVar ? logZVar.dataSync()[0]! : 0 });
      }
    },
  });
  const k = acc.length;
  return {
    mu: [0, 1].map((i) => acc.reduce((a, r) => a + r.mu[i]!, 0) / k),
    prec: [0, 1].map((i) => [0, 1].map((j) => acc.reduce((a, r) => a + r.prec[i]![j]!, 0) / k)),
    logZ: acc.reduce((a, r) => a + r.logZ, 0) / k,
  };
}

function expectRecovered(
  got: { mu: number[]; prec: number[][] },
  target: { mu: number[]; prec: number[][] },
  inflation: number,
  label: string,
  seed: number,
): void {
  const se = mleStandardErrors(COV, target.prec, N);
  for (let i = 0; i < 2; i++) {
    const tol = Z * inflation * se.mu[i]! + DELTA;
    const err = Math.abs(got.mu[i]! - target.mu[i]!);
    expect(err, `${label}: μ${i} = ${got.mu[i]} vs ${target.mu[i]} (tol ${tol}, seed ${seed})`).toBeLessThan(
      tol,
    );
    for (let j = 0; j < 2; j++) {
      const tolP = Z * inflation * se.prec[i]![j]! + DELTA;
      const errP = Math.abs(got.prec[i]![j]! - target.prec[i]![j]!);
      expect(
        errP,
        `${label}: P${i}${j} = ${got.prec[i]![j]} vs ${target.prec[i]![j]} (tol ${tolP}, seed ${seed})`,
      ).toBeLessThan(tolP);
    }
  }
}

describe('parameter recovery on Gaussian data', () => {
  const cases: [string, number, (e: GaussianEnergy, seed: number) => BaseLoss, number?][] = [
    ['exact score matching', 1, (e) => new ScoreMatching(e)],
    ['sliced score matching', 1.5, (e) => new SlicedScoreMatching(e, { projection: 'rademacher' })],
    ['denoising score matching', 1, (e) => new DenoisingScoreMatching(e, { sigma: 0.5 }), 0.5],
    [
      'contrastive divergence (CD-5, MALA)',
      1.5,
      (e) => new ContrastiveDivergence(e, { sampler: new Mala(e, 0.1), k: 5 }),
    ],
    [
      'persistent CD (replay buffer, MALA)',
      1.5,
      (e) =>
        new PersistentContrastiveDivergence(e, {
          sampler: new Mala(e, 0.1),
          k: 5,
          buffer: { capacity: 4000, init: 'normal', initScale: 2, reinitProbability: 0, burnInSteps: 20 },
        }),
    ],
    [
      'parallel-tempering CD',
      1.5,
      (e) =>
        new ParallelTemperingCD(e, {
          sampler: new ReplicaExchange(e, 0.1, [1, 3]),
          k: 2,
          buffer: { capacity: 4000, init: 'normal', initScale: 2, reinitProbability: 0 },
        }),
    ],
  ];
  for (const [label, inflation, make, sigma] of cases) {
    it(`${label} recovers μ and P`, async () => {
      const seed = testSeed(`recovery-${label}`);
      const energy = new GaussianEnergy(2);
      const loss = make(energy, seed);
      const got = await train(energy, loss, seed);
      const s2 = (sigma ?? 0) ** 2;
      const prec =
        sigma === undefined
          ? truePrecision
          : inv2([
              [COV[0]![0]! + s2, 0.5],
              [0.5, COV[1]![1]! + s2],
            ]);
      expectRecovered(got, { mu: MEAN, prec }, inflation, label, seed);
      loss.dispose();
      energy.dispose();
    });
  }

  const nceCases: [string, () => GaussianNoise | GaussianMixtureNoise][] = [
    ['Gaussian noise', () => new GaussianNoise({ mean: [0, 0], std: 3 })],
    [
      'Gaussian-mixture noise',
      () =>
        new GaussianMixtureNoise({
          means: [
            [2, -2],
            [0, -2],
          ],
          weights: [0.3, 0.7],
          stds: [2, 2.5],
        }),
    ],
  ];
  for (const [label, noise] of nceCases) {
    it(`NCE with ${label} recovers μ, P and the log-normaliser`, async () => {
      const seed = testSeed(`recovery-nce-${label}`);
      const energy = new GaussianEnergy(2);
      const loss = new NoiseContrastiveEstimation(energy, { noise: noise(), noiseRatio: 2 });
      const got = await train(energy, loss, seed);
      expectRecovered(got, { mu: MEAN, prec: truePrecision }, 1.5, `NCE ${label}`, seed);
      // c must match log ∫e^{−E} of the learned model: (d/2)log 2π − ½ log det P; delta-method se of
      // ½ log det P̂ is √(d/(2n)) (log-det of a Wishart), inflated as above.
      const detP = got.prec[0]![0]! * got.prec[1]![1]! - got.prec[0]![1]! ** 2;
      const logZModel = Math.log(2 * Math.PI) - 0.5 * Math.log(detP);
      const tol = Z * 1.5 * Math.sqrt(2 / (2 * N)) + DELTA;
      expect(Math.abs(got.logZ - logZModel), `logZ ${got.logZ} vs ${logZModel}`).toBeLessThan(tol);
      loss.dispose();
      energy.dispose();
    });
  }
});
