import { type EnergyFunction, normalArray, type RngKey, rngKey, splitKey, uniformArray } from '@ebm/core';
import { checkTargetConservation, expectTargetConservation, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Banana, DoubleWell, Funnel, Gaussian, GaussianMixture, ManyWell } from '../src/index.js';

/**
 * Cross-check of energy, analytic gradient and exact sampler: one MALA step built on `energy`/`gradient`
 * leaves exp(−E) invariant, so starting from `sample()` it must pass core's one-step conservation test
 * (false-fail rate 1e-4). A wrong gradient, energy or sampler breaks it.
 */
function malaStep(e: EnergyFunction, h: number) {
  return (x: tf.Tensor2D, key: RngKey): tf.Tensor2D =>
    tf.tidy(() => {
      const [n, d] = x.shape;
      const [kz, ku] = splitKey(key, 2) as [RngKey, RngKey];
      const { energy: ex, gradient: gx } = e.energyAndGradient(x, { checkFinite: false });
      const z = tf.tensor2d(normalArray(kz, [n, d]), [n, d]);
      const y = tf.add(tf.sub(x, tf.mul(h, gx)), tf.mul(Math.sqrt(2 * h), z)) as tf.Tensor2D;
      const { energy: ey, gradient: gy } = e.energyAndGradient(y, { checkFinite: false });
      const fwd = tf.sum(tf.square(tf.sub(tf.sub(y, x), tf.mul(-h, gx))), 1);
      const bwd = tf.sum(tf.square(tf.sub(tf.sub(x, y), tf.mul(-h, gy))), 1);
      const logA = tf.add(tf.sub(ex, ey), tf.div(tf.sub(fwd, bwd), 4 * h));
      const logU = tf.log(tf.tensor1d(uniformArray(ku, [n])));
      const accept = tf.expandDims(tf.logicalAnd(tf.less(logU, logA), tf.isFinite(logA)), 1);
      return tf.where(accept, y, x) as tf.Tensor2D;
    });
}

const owned: { dispose(): void }[] = [];
afterAll(() => {
  for (const e of owned) e.dispose();
});

describe('exact samplers agree with energy and gradient (one MALA step conserves the target)', () => {
  const cases = [
    {
      name: 'Gaussian',
      e: () =>
        new Gaussian({
          mean: [1, -1],
          covariance: [
            [1, 0.5],
            [0.5, 2],
          ],
        }),
      h: 0.3,
    },
    {
      name: 'GaussianMixture',
      e: () =>
        new GaussianMixture({
          weights: [0.3, 0.7],
          means: [
            [-1, 0],
            [1.5, 0.5],
          ],
          std: 0.8,
        }),
      h: 0.3,
    },
    { name: 'Banana', e: () => new Banana({ curvature: 0.1, scale: 2 }), h: 0.05 },
    { name: 'Funnel', e: () => new Funnel({ dim: 3, scale: 1.5 }), h: 0.05 },
    { name: 'ManyWell', e: () => new ManyWell({ dim: 2 }), h: 0.02 },
    { name: 'DoubleWell', e: () => new DoubleWell({ dim: 2 }), h: 0.05 },
  ];
  for (const c of cases) {
    it(`${c.name}`, () => {
      const e = c.e();
      owned.push(e);
      const seed = testSeed(`conserve-${c.name}`);
      expectTargetConservation({
        sampleTarget: (n, key) => e.sample(n, key),
        step: malaStep(e, c.h),
        n: 10_000,
        key: rngKey(seed),
        seed,
        label: c.name,
      });
    });
  }

  it('has power: a sampler for the wrong Gaussian fails the check', () => {
    const target = new Gaussian({
      mean: [1, -1],
      covariance: [
        [1, 0.5],
        [0.5, 2],
      ],
    });
    const wrong = new Gaussian({
      mean: [1, -1],
      covariance: [
        [1.3, 0.5],
        [0.5, 2],
      ],
    });
    owned.push(target, wrong);
    const report = checkTargetConservation({
      sampleTarget: (n, key) => target.sample(n, key),
      step: malaStep(wrong, 0.5),
      n: 10_000,
      key: rngKey(testSeed('conserve-power')),
    });
    // A few MALA steps toward the wrong target: run 10 to make the drift visible.
    expect(report.movedFraction).toBeGreaterThan(0.5);
    const step10 = (x: tf.Tensor2D, key: RngKey) => {
      let cur = x;
      for (let i = 0; i < 10; i++) {
        const next = malaStep(wrong, 0.5)(cur, splitKey(key, 10)[i]!);
        if (cur !== x) cur.dispose();
        cur = next;
      }
      return cur;
    };
    const r10 = checkTargetConservation({
      sampleTarget: (n, key) => target.sample(n, key),
      step: step10,
      n: 10_000,
      key: rngKey(testSeed('conserve-power-10')),
    });
    expect(r10.passed).toBe(false);
  });
});
