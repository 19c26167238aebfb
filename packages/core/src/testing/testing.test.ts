import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../register.js';
import { normalCdf } from '../diagnostics.js';
import { normalArray, type RngKey, rngKey } from '../rng.js';
import { checkTargetConservation, expectTargetConservation } from './conservation.js';
import { collectTensors, expectNoLeaks, expectNoLeaksSync } from './leaks.js';
import { DEFAULT_TEST_SEED, seedsVary, testSeed } from './seed.js';
import {
  dkwmEpsilon,
  expectKsOneSample,
  expectKsTwoSample,
  expectMean,
  expectVariance,
  expectWithinStandardError,
  kolmogorovQ,
  ksOneSample,
  ksTwoSample,
  meanAndStandardError,
  zCritical,
} from './stats.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('expectNoLeaks', () => {
  it('passes for tidy code, not counting returned tensors, and disposes them', async () => {
    let out: tf.Tensor | undefined;
    const before = tf.memory().numTensors;
    await expectNoLeaks(() => {
      out = tf.tidy(() => tf.add(tf.ones([2]), 1));
      return { out, list: [tf.scalar(1)] };
    });
    expect(out!.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('fails naming the number of leaked tensors (sync and async)', async () => {
    const leaky = () => {
      tf.ones([2]);
      return tf.zeros([1]);
    };
    await expect(expectNoLeaks(leaky, { label: 'leaky' })).rejects.toThrowError(
      /TEST_FAILURE.*leaky: leaked 1 tensor/,
    );
    expect(() => expectNoLeaksSync(leaky)).toThrowError(/leaked 1 tensor/);
    await expect(
      expectNoLeaks(async () => {
        await Promise.resolve();
        tf.ones([3]);
      }),
    ).rejects.toThrowError(/leaked 1/);
  });
  it('keeps outputs on request and finds nested tensors', () => {
    const r = expectNoLeaksSync(() => ({ a: [tf.scalar(2)] }), { keepOutputs: true, warmup: 0 });
    expect(r.a[0]!.isDisposed).toBe(false);
    expect(collectTensors(r).size).toBe(1);
    r.a[0]!.dispose();
  });
});

describe('KS and DKWM', () => {
  it('Kolmogorov tail matches known values', () => {
    expect(kolmogorovQ(1)).toBeCloseTo(0.2699996716, 8);
    expect(kolmogorovQ(0.5)).toBeCloseTo(0.9639452436, 8);
    expect(kolmogorovQ(1.3581)).toBeCloseTo(0.05, 3);
    expect(kolmogorovQ(0.1)).toBe(1);
  });
  it('statistics on tiny samples', () => {
    expect(ksOneSample([0.5], (x) => x).statistic).toBe(0.5);
    expect(ksOneSample([0.1, 0.2, 0.9], (x) => x).statistic).toBeCloseTo(0.4666666667, 9);
    expect(ksTwoSample([1, 2, 3], [4, 5, 6]).statistic).toBe(1);
    expect(ksTwoSample([1, 2, 3], [1, 2, 3]).statistic).toBe(0);
    expect(ksTwoSample([1, 3], [2, 4]).statistic).toBe(0.5);
  });
  it('DKWM epsilon and z critical values', () => {
    expect(dkwmEpsilon(1000, 0.05)).toBeCloseTo(Math.sqrt(Math.log(40) / 2000), 12);
    expect(zCritical(0.05)).toBeCloseTo(1.959963985, 7);
    expect(() => dkwmEpsilon(0, 0.1)).toThrowError(/INVALID_PARAM/);
    expect(() => zCritical(0)).toThrowError(/alpha/);
  });
  it('accept correct distributions and reject wrong ones', () => {
    const z = normalArray(rngKey(1), [5000]);
    const w = normalArray(rngKey(2), [5000]);
    expect(() => expectKsOneSample(z, normalCdf)).not.toThrow();
    expect(() => expectKsOneSample(z, normalCdf, { method: 'dkwm' })).not.toThrow();
    expect(() => expectKsTwoSample(z, w)).not.toThrow();
    expect(() => expectKsTwoSample(z, w, { method: 'dkwm' })).not.toThrow();
    const shifted = Array.from(z, (v) => v + 0.2);
    expect(() => expectKsOneSample(shifted, normalCdf, { label: 'shift', seed: 7 })).toThrowError(
      /TEST_FAILURE.*shift: one-sample KS.*EBM_SEED=7/,
    );
    expect(() => expectKsOneSample(shifted, normalCdf, { method: 'dkwm' })).toThrowError(/DKWM bound/);
    expect(() => expectKsTwoSample(shifted, w)).toThrowError(/two-sample KS/);
    expect(() => expectKsTwoSample(shifted, w, { method: 'dkwm' })).toThrowError(/DKWM/);
    expect(() => ksOneSample([], normalCdf)).toThrowError(/must not be empty/);
    expect(() => ksTwoSample([Number.NaN], [1])).toThrowError(/NON_FINITE/);
  });
});

describe('Monte-Carlo standard-error tests', () => {
  it('mean and variance pass at truth and fail away from it', () => {
    const z = normalArray(rngKey(3), [4000], 1, 2);
    const { mean, se, sd } = meanAndStandardError(z);
    expect(sd).toBeGreaterThan(1.9);
    expect(se).toBeCloseTo(sd / Math.sqrt(4000), 12);
    expect(() => expectMean(z, 1)).not.toThrow();
    expect(() => expectMean(z, 1.3)).toThrowError(/TEST_FAILURE/);
    expect(() => expectVariance(z, 4)).not.toThrow();
    expect(() => expectVariance(z, 5)).toThrowError(/variance/);
    expect(() => expectWithinStandardError(mean, 1, 0)).toThrowError(/standardError/);
    // ESS-based standard error widens the band
    expect(() => expectMean(z, 1.3, { ess: 100 })).not.toThrow();
    expect(() => meanAndStandardError([1])).toThrowError(/at least 2/);
  });
});

describe('seed policy', () => {
  it('is fixed by default, distinct per name, overridable and variable', () => {
    vi.stubEnv('EBM_SEED', '');
    vi.stubEnv('EBM_VARY_SEED', '');
    expect(testSeed('a')).toBe(testSeed('a'));
    expect(testSeed('a')).not.toBe(testSeed('b'));
    expect(testSeed('')).toBe(DEFAULT_TEST_SEED);
    vi.stubEnv('EBM_SEED', '99');
    expect(testSeed('a')).toBe(99);
    vi.stubEnv('EBM_VARY_SEED', '1');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const s1 = testSeed('v');
    const s2 = testSeed('v');
    expect(seedsVary()).toBe(true);
    expect(s1 === s2 && s1 === testSeed('v')).toBe(false);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/EBM_SEED=/));
    log.mockRestore();
  });
});

describe('one-step target conservation', () => {
  // Target N(0, diag(1, 4)); exact AR(1) kernel x' = ρx + √(1−ρ²)·σ·ξ preserves it.
  const sd = [1, 2];
  const sampleTarget = (n: number, key: RngKey) =>
    tf.tidy(() => tf.mul(tf.tensor2d(normalArray(key, [n, 2]), [n, 2]), tf.tensor1d(sd))) as tf.Tensor2D;
  const ar1Step =
    (rho: number, scaleErr = 1) =>
    (x: tf.Tensor2D, key: RngKey) =>
      tf.tidy(() => {
        const xi = tf.tensor2d(normalArray(key, x.shape), x.shape);
        return tf.add(
          tf.mul(x, rho),
          tf.mul(xi, tf.mul(tf.tensor1d(sd), Math.sqrt(1 - rho * rho) * scaleErr)),
        );
      }) as tf.Tensor2D;

  it('passes an exact transition and reports every test', () => {
    const before = tf.memory().numTensors;
    const r = expectTargetConservation({
      sampleTarget,
      step: ar1Step(0.5),
      key: rngKey(testSeed('cons-ok')),
      n: 4000,
    });
    expect(r.passed).toBe(true);
    expect(r.tests.length).toBe(2 + 4);
    expect(r.alphaPerTest).toBeCloseTo(1e-4 / 6, 12);
    expect(r.movedFraction).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('fails a transition that inflates the variance (power)', () => {
    const r = checkTargetConservation({ sampleTarget, step: ar1Step(0.3, 1.6), key: rngKey(5), n: 4000 });
    expect(r.passed).toBe(false);
    expect(() =>
      expectTargetConservation({
        sampleTarget,
        step: ar1Step(0.3, 1.6),
        key: rngKey(5),
        n: 4000,
        label: 'inflated',
      }),
    ).toThrowError(/TEST_FAILURE.*inflated: target not conserved/);
  });
  it('fails the power check when chains do not move', () => {
    const r = checkTargetConservation({
      sampleTarget,
      step: (x) => tf.clone(x),
      key: rngKey(6),
      n: 1000,
      method: 'dkwm',
    });
    expect(r.tests.every((t) => t.passed)).toBe(true);
    expect(r.movedFraction).toBe(0);
    expect(r.passed).toBe(false);
    expect(() =>
      checkTargetConservation({ sampleTarget, step: (x) => tf.clone(x), key: rngKey(6), n: 10 }),
    ).toThrowError(/n must be an integer >= 100/);
    expect(() =>
      checkTargetConservation({
        sampleTarget,
        step: () => tf.zeros([5, 2]) as tf.Tensor2D,
        key: rngKey(6),
        n: 200,
      }),
    ).toThrowError(/SHAPE_MISMATCH/);
  });
});
