import { EbmError } from '@ebm/core';
import { expectNoLeaks, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  DualAveraging,
  HamiltonianMonteCarlo,
  MALA,
  NUTS,
  warmupWindows,
  windowAdaptation,
} from '../src/index.js';
import { TestGaussian } from './helpers.js';

// A badly scaled Gaussian: sd 0.1 and 3 — one step size cannot fit both without a mass matrix.
const skewed = new TestGaussian(
  [0, 2],
  [
    [0.01, 0],
    [0, 9],
  ],
);

describe('DualAveraging', () => {
  it('converges to the step size that gives the target acceptance on a known response', () => {
    // Synthetic acceptance curve a(ε) = exp(−ε): the fixed point for δ = 0.6 is ε* = −ln 0.6.
    const da = new DualAveraging(2, { targetAcceptance: 0.6 });
    for (let t = 0; t < 2000; t++) da.update(Math.exp(-da.stepSize));
    expect(da.finalStepSize).toBeCloseTo(-Math.log(0.6), 2);
  });
  it('validates its options', () => {
    expect(() => new DualAveraging(0.1, { targetAcceptance: 1 })).toThrow(EbmError);
    expect(() => new DualAveraging(-1)).toThrow(EbmError);
  });
});

describe('warmupWindows', () => {
  it("follows Stan's schedule", () => {
    expect(warmupWindows(500)).toEqual({ initBuffer: 75, termBuffer: 50, windowEnds: [100, 150, 250, 450] });
    expect(warmupWindows(1000).windowEnds).toEqual([100, 150, 250, 450, 950]);
    const small = warmupWindows(100);
    expect(small.initBuffer).toBe(15);
    expect(small.windowEnds).toEqual([90]);
  });
});

describe('windowAdaptation', () => {
  it.each([
    ['HMC', () => new HamiltonianMonteCarlo(skewed, { stepSize: 1, nLeapfrogSteps: 5 }), 0.8],
    ['MALA', () => new MALA(skewed, { stepSize: 1 }), 0.574],
    ['NUTS', () => new NUTS(skewed, { stepSize: 1, maxTreeDepth: 6 }), 0.8],
  ] as const)(
    '%s: learns the variances as inverse mass and hits the target acceptance',
    (_n, make, target) => {
      const seed = testSeed(`adapt-${_n}`);
      const res = windowAdaptation(make(), { nSamples: 32, nWarmup: 400, targetAcceptance: target, seed });
      const inv = res.invMass as Float32Array;
      // The variances are 0.01 and 9: the estimates from ~10⁴ draws land within 30% (a loose,
      // mixing-limited bound; a wrong estimator is off by orders of magnitude here).
      expect(inv[0]! / 0.01).toBeGreaterThan(0.7);
      expect(inv[0]! / 0.01).toBeLessThan(1.3);
      expect(inv[1]! / 9).toBeGreaterThan(0.7);
      expect(inv[1]! / 9).toBeLessThan(1.3);
      expect(res.state.step).toBe(400);
      // A run with the tuned sampler accepts at about the target rate.
      const r = res.sampler.sampleSync({ resumeFrom: res.state, nSteps: 100, seed, diagnostics: true });
      const acc = tf.mean(r.diagnostics!.acceptProb!).dataSync()[0]!;
      // The adapting iterates average the target acceptance over the terminal window...
      expect(Math.abs(res.acceptance - target)).toBeLessThan(0.1);
      // ...and the averaged step size accepts at least about as often (HMC's acceptance is not monotone in ε
      // on a Gaussian, so the averaged ε̄ can accept more often than the target).
      expect(acc).toBeGreaterThan(target - 0.12);
      if (_n === 'MALA') expect(Math.abs(acc - target)).toBeLessThan(0.12);
      tf.dispose([r.samples, ...Object.values(r.diagnostics!)]);
      res.sampler.disposeState(res.state);
    },
  );

  it('does not leak and checks its arguments', async () => {
    await expectNoLeaks(() => {
      const r = windowAdaptation(new MALA(skewed, { stepSize: 0.1 }), { nSamples: 4, nWarmup: 40, seed: 1 });
      return r.state;
    });
    expect(() => windowAdaptation({} as never)).toThrow(EbmError);
    expect(() => windowAdaptation(new MALA(skewed), { nWarmup: 5 })).toThrow(EbmError);
  });
});
