import { isEbmError, rngKey } from '@ebm/core';
import { expectMean, expectNoLeaksSync, expectVariance, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GaussianMixtureNoise, GaussianNoise, NoiseContrastiveEstimation } from '../src/index.js';
import { GaussianEnergy, num } from './fixtures.js';

describe('noise laws', () => {
  it('GaussianNoise: log-density formula and draws with the right moments', () => {
    const seed = testSeed('gauss-noise');
    const q = new GaussianNoise({ mean: [1, -1], std: [2, 0.5] });
    const x = tf.tensor2d([
      [1, -1],
      [3, 0],
    ]);
    const lp = q.logProb(x).arraySync() as number[];
    const c = -Math.log(2) - Math.log(0.5) - Math.log(2 * Math.PI);
    expect(lp[0]).toBeCloseTo(c, 5);
    expect(lp[1]).toBeCloseTo(c - 0.5 * (1 + 4), 5);
    const s = q.sample(rngKey(seed), 4000);
    const cols = tf.unstack(s, 1).map((t) => t.dataSync());
    expectMean(cols[0]!, 1, { seed });
    expectMean(cols[1]!, -1, { seed });
    expectVariance(cols[0]!, 4, { seed });
    expectVariance(cols[1]!, 0.25, { seed });
    tf.dispose([x, s]);
  });

  it('GaussianMixtureNoise: log-density equals the mixture formula; component frequencies match the weights', () => {
    const seed = testSeed('gmm-noise');
    const q = new GaussianMixtureNoise({ means: [[-2], [3]], weights: [1, 3], stds: [1, 0.5] });
    const pts = [-2, 0, 3];
    const lp = q.logProb(tf.tensor2d(pts, [3, 1])).arraySync() as number[];
    const npdf = (x: number, m: number, s: number) =>
      Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
    pts.forEach((x, i) => {
      expect(lp[i]).toBeCloseTo(Math.log(0.25 * npdf(x, -2, 1) + 0.75 * npdf(x, 3, 0.5)), 4);
    });
    const s = q.sample(rngKey(seed), 4000).dataSync();
    const right = Array.from(s, (v) => (v > 0.5 ? 1 : 0));
    expectMean(right, 0.75, { seed }); // P(x > 0.5) ≈ 0.75 (tails beyond 0.5 are < 1e-3 from either side)
    // a single component equals GaussianNoise
    const one = new GaussianMixtureNoise({ means: [[1, 2]], stds: [[0.5, 2]] });
    const g = new GaussianNoise({ mean: [1, 2], std: [0.5, 2] });
    const x = tf.tensor2d([
      [0, 0],
      [1, 3],
    ]);
    const a = one.logProb(x).arraySync() as number[];
    const b = g.logProb(x).arraySync() as number[];
    expect(a[0]).toBeCloseTo(b[0]!, 5);
    expect(a[1]).toBeCloseTo(b[1]!, 5);
    x.dispose();
  });

  it('rejects bad noise options', () => {
    const cases = [
      () => new GaussianNoise({ mean: [0, 0], std: [1] }),
      () => new GaussianNoise({ mean: [0], std: -1 }),
      () => new GaussianMixtureNoise({ means: [] }),
      () => new GaussianMixtureNoise({ means: [[0]], weights: [-1] }),
    ];
    for (const f of cases) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    }
  });
});

describe('NCE', () => {
  it('has a trainable log-normaliser and checks the noise dimension', () => {
    const energy = new GaussianEnergy(2);
    const sample = tf.randomNormal([50, 2]) as tf.Tensor2D;
    const loss = new NoiseContrastiveEstimation(energy, { noise: GaussianNoise.fit(sample), logZInit: 1 });
    sample.dispose();
    expect(loss.variables).toEqual([loss.logZ]);
    const x = tf.tensor2d([
      [0, 0],
      [1, 1],
    ]);
    const out = loss.compute(x);
    expect(num(out.metrics.logZ)).toBeCloseTo(1, 6);
    expect(num(out.metrics.accuracy)).toBeGreaterThanOrEqual(0);
    out.loss.dispose();
    expectNoLeaksSync(() => loss.compute(x));
    const { grads, value } = tf.variableGrads(() => loss.compute(x).loss, [loss.logZ]);
    expect(Math.abs(grads[loss.logZ.name]!.dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([value, x]);
    tf.dispose(grads);
    expect(
      () => new NoiseContrastiveEstimation(energy, { noise: new GaussianNoise({ mean: [0, 0, 0] }) }),
    ).toThrow(/SHAPE_MISMATCH/);
    loss.dispose();
    energy.dispose();
  });
});
