/**
 * Integration with the sibling packages: an MLP energy from @ebm/models trained on two moons and eight gaussians from
 * @ebm/datasets, sampled with @ebm/samplers' Langevin dynamics; PT-CD with @ebm/samplers' ReplicaExchange.
 */

import { foldIn, randomNormal, randomUniform, rngKey } from '@ebm/core';
import { expectNoLeaksSync, testSeed } from '@ebm/core/testing';
import { eightGaussians, type PointDataset, twoMoons } from '@ebm/datasets';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics, ReplicaExchange } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  DenoisingScoreMatching,
  fit,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
} from '../src/index.js';
import { num } from './fixtures.js';

/** Unbiased MMD² with a Gaussian kernel of bandwidth `bw`. */
function mmd2(a: tf.Tensor2D, b: tf.Tensor2D, bw: number): number {
  return tf.tidy(() => {
    const k = (x: tf.Tensor2D, y: tf.Tensor2D) =>
      tf.exp(
        tf.div(tf.neg(tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0))), 2)), 2 * bw * bw),
      );
    const n = a.shape[0];
    const m = b.shape[0];
    const kaa = tf.div(tf.sub(tf.sum(k(a, a)), n), n * (n - 1));
    const kbb = tf.div(tf.sub(tf.sum(k(b, b)), m), m * (m - 1));
    return tf.add(tf.sub(kaa, tf.mul(2, tf.mean(k(a, b)))), kbb).dataSync()[0]!;
  });
}

describe('MLP energy on toy datasets', () => {
  // Margin: MMD²(Langevin samples, held-out data) < ½·MMD²(initial noise, held-out data) with a Gaussian
  // kernel of bandwidth 0.2 (300 chains vs 500 held-out points; the noise is uniform on the dataset's box),
  // and the mean learned energy on held-out data is lower than on the noise by more than 1.
  const cases: [string, (n: number, seed: number) => PointDataset, [number, number, number, number]][] = [
    [
      'two moons',
      (n, seed) => twoMoons({ nSamples: n, noise: 0.05, seed, shuffle: true }),
      [-1.5, -1.5, 2.5, 1.5],
    ],
    ['eight gaussians', (n, seed) => eightGaussians({ nSamples: n, std: 0.1, seed }), [-3, -3, 3, 3]],
  ];
  for (const [label, make, [x0, y0, x1, y1]] of cases) {
    it(`${label}: DSM-trained Langevin samples are closer to the data than the initial noise (MMD)`, async () => {
      const seed = testSeed(label);
      const data = make(2000, seed).toTensor();
      const held = make(500, seed + 1).toTensor();
      const noise = tf.tidy(
        () =>
          tf.add(
            tf.mul(randomUniform(foldIn(rngKey(seed), 1), [300, 2]), tf.tensor1d([x1 - x0, y1 - y0])),
            tf.tensor1d([x0, y0]),
          ) as tf.Tensor2D,
      );
      const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], seed });
      const loss = new DenoisingScoreMatching(energy, { sigma: 0.2 });
      await fit({ loss, optimizer: tf.train.adam(3e-3), data, batchSize: 256, steps: 300, seed });
      const sampler = new LangevinDynamics(energy, { stepSize: 0.002 });
      const r = sampler.sampleSync({ x0: noise, nSteps: 300, seed: foldIn(rngKey(seed), 2) });
      const dSamples = mmd2(r.samples, held, 0.2);
      const dNoise = mmd2(noise, held, 0.2);
      expect(dSamples, `MMD² samples ${dSamples} vs noise ${dNoise} (seed ${seed})`).toBeLessThan(
        0.5 * dNoise,
      );
      const [eData, eNoise] = tf.tidy(() => [
        tf.mean(energy.energy(held)).dataSync()[0]!,
        tf.mean(energy.energy(noise)).dataSync()[0]!,
      ]);
      expect(eData, `E data ${eData} vs E noise ${eNoise}`).toBeLessThan(eNoise - 1);
      tf.dispose([data, held, noise, r.samples]);
      energy.dispose();
    });
  }
});

describe('PCD with an MLP energy and Langevin negatives', () => {
  it('learns an energy lower on two-moons data than on uniform noise', async () => {
    // Margin: mean E(held-out data) < mean E(uniform noise on [−1.5, 2.5]×[−1.5, 1.5]) − 0.5 after 150 steps.
    // A sign error (or gradients through the sampler) makes the data energy the higher one.
    const seed = testSeed('pcd-moons');
    const data = twoMoons({ nSamples: 2000, noise: 0.05, seed, shuffle: true }).toTensor();
    const held = twoMoons({ nSamples: 500, noise: 0.05, seed: seed + 1, shuffle: true }).toTensor();
    const noise = tf.tidy(
      () =>
        tf.add(
          tf.mul(randomUniform(foldIn(rngKey(seed), 1), [300, 2]), tf.tensor1d([4, 3])),
          tf.tensor1d([-1.5, -1.5]),
        ) as tf.Tensor2D,
    );
    const energy = new MLPEnergy({ inputDim: 2, widths: [32, 32], seed });
    const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
    const loss = new PersistentContrastiveDivergence(energy, {
      sampler,
      k: 10,
      energyL2: 0.1,
      buffer: { capacity: 1000, initScale: 2, reinitProbability: 0.05 },
    });
    const res = await fit({ loss, optimizer: tf.train.adam(3e-3), data, batchSize: 128, steps: 150, seed });
    expect(res.rollbacks).toEqual([]);
    const [eData, eNoise] = tf.tidy(() => [
      tf.mean(energy.energy(held)).dataSync()[0]!,
      tf.mean(energy.energy(noise)).dataSync()[0]!,
    ]);
    expect(eData, `E data ${eData} vs E noise ${eNoise} (seed ${seed})`).toBeLessThan(eNoise - 0.5);
    tf.dispose([data, held, noise]);
    loss.dispose();
    energy.dispose();
  });
});

describe('PT-CD with @ebm/samplers ReplicaExchange', () => {
  it('takes the coldest chain as negatives, trains inside minimize and does not leak', () => {
    const energy = new MLPEnergy({ inputDim: 2, widths: [16], seed: 3 });
    const sampler = new ReplicaExchange(energy, { temperatures: [1, 2, 4], kernel: 'mala', stepSize: 0.05 });
    const loss = new ParallelTemperingCD(energy, { sampler, k: 3, buffer: { capacity: 64 } });
    const x = randomNormal(rngKey(testSeed('pt-cd-real')), [32, 2]) as tf.Tensor2D;
    const opt = tf.train.adam(1e-2);
    const before = energy.trainableVariables.map((v) => Array.from(v.dataSync()));
    let energyNeg = Number.NaN;
    opt.minimize(() => {
      const out = loss.compute(x);
      energyNeg = num(out.metrics.energyNeg);
      return out.loss;
    });
    expect(Number.isFinite(energyNeg)).toBe(true);
    expect(loss.buffer.totalWrites).toBe(32);
    const after = energy.trainableVariables.map((v) => Array.from(v.dataSync()));
    expect(after).not.toEqual(before);
    expectNoLeaksSync(() => loss.compute(x), { label: 'PT-CD' });
    loss.dispose();
    opt.dispose();
    x.dispose();
    energy.dispose();
  });
});
