import { EbmError, type RngKey, randomNormal, randomUniform, type SamplerState, splitKey } from '@ebm/core';
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
  windowAdaptationSync,
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
    async (_n, make, target) => {
      const seed = testSeed(`adapt-${_n}`);
      const res = await windowAdaptation(make(), {
        nSamples: 32,
        nWarmup: 400,
        targetAcceptance: target,
        seed,
      });
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
    await expectNoLeaks(async () => {
      const r = await windowAdaptation(new MALA(skewed, { stepSize: 0.1 }), {
        nSamples: 4,
        nWarmup: 40,
        seed: 1,
      });
      return r.state;
    });
    await expectNoLeaks(async () => {
      const r = await windowAdaptation(new NUTS(skewed, { stepSize: 0.1, maxTreeDepth: 3 }), {
        nSamples: 4,
        nWarmup: 30,
        seed: 1,
      });
      return r.state;
    });
    await expect(windowAdaptation({} as never)).rejects.toThrow(EbmError);
    await expect(windowAdaptation(new MALA(skewed), { nWarmup: 5 })).rejects.toThrow(EbmError);
    expect(() => windowAdaptationSync({} as never)).toThrow(EbmError);
  });

  it('the sync form gives the same result as the async one (cpu)', async () => {
    const opts = { nSamples: 8, nWarmup: 60, seed: 3 };
    const a = await windowAdaptation(new NUTS(skewed, { stepSize: 0.5, maxTreeDepth: 4 }), opts);
    const b = windowAdaptationSync(new NUTS(skewed, { stepSize: 0.5, maxTreeDepth: 4 }), opts);
    expect(b.stepSize).toBe(a.stepSize);
    expect(Array.from(b.invMass as Float32Array)).toEqual(Array.from(a.invMass as Float32Array));
    expect(Array.from(b.state.x.dataSync())).toEqual(Array.from(a.state.x.dataSync()));
    a.sampler.disposeState(a.state);
    b.sampler.disposeState(b.state);
  });

  it('adapts a plugin sampler that only exposes stepSize and withParams (new info convention)', async () => {
    // Random-walk Metropolis on N(0, I₂), written outside the MH family. For RWM the acceptance falls with the
    // step size, so dual averaging must land the terminal-window acceptance near the target; the bound 0.08
    // is ~4 standard errors of a 50-iteration mean of 64-chain means (sd of a chain mean ≈ 0.06).
    const energy = new TestGaussian(
      [0, 0],
      [
        [1, 0],
        [0, 1],
      ],
    );
    const target = 0.3;
    const res = await windowAdaptation(new RandomWalk(energy, 0.05), {
      nSamples: 64,
      nWarmup: 300,
      targetAcceptance: target,
      seed: testSeed('adapt-plugin'),
    });
    expect(res.sampler).toBeInstanceOf(RandomWalk);
    expect(res.invMass).toBe(1);
    expect(Math.abs(res.acceptance - target)).toBeLessThan(0.08);
    // optimal RWM scale in 2-D is ≈ 2.4/√2·σ ≈ 1.7 at acceptance ≈ 0.35: the adapted step is O(1), not 0.05
    expect(res.stepSize).toBeGreaterThan(0.8);
    expect(res.stepSize).toBeLessThan(5);
    res.sampler.disposeState(res.state);
  });
});

/** Random-walk Metropolis with only the seam members window adaptation needs (no invMass, no stepWith). */
class RandomWalk {
  readonly name = 'RandomWalk';
  constructor(
    readonly energy: TestGaussian,
    readonly stepSize: number,
  ) {}
  withParams(p: { stepSize: number }): RandomWalk {
    return new RandomWalk(this.energy, p.stepSize);
  }
  init(x0: tf.Tensor2D, step = 0): SamplerState & { energy: tf.Tensor1D } {
    return { x: tf.clone(x0), energy: this.energy.energy(x0), step };
  }
  step(state: SamplerState & { energy: tf.Tensor1D }, key: RngKey) {
    const [kz, ku] = splitKey(key, 2) as [RngKey, RngKey];
    return tf.tidy(() => {
      const y = tf.add(state.x, tf.mul(randomNormal(kz, state.x.shape), this.stepSize)) as tf.Tensor2D;
      const ey = this.energy.energy(y);
      const logA = tf.sub(state.energy, ey);
      const prob = tf.minimum(1, tf.exp(logA)) as tf.Tensor1D;
      const acc = tf.less(randomUniform(ku, [state.x.shape[0]]), prob);
      const x = tf.where(tf.reshape(acc, [-1, 1]), y, state.x) as tf.Tensor2D;
      const e = tf.where(acc, ey, state.energy) as tf.Tensor1D;
      return {
        state: { x, energy: e, step: state.step + 1 },
        info: { isAccepted: tf.cast(acc, 'float32') as tf.Tensor1D, acceptanceRate: prob },
      };
    });
  }
  disposeState(state: SamplerState & { energy: tf.Tensor1D }): void {
    tf.dispose([state.x, state.energy]);
  }
}
