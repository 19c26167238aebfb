import { EbmError, foldIn, type RngKey, rngKey } from '@ebm/core';
import {
  expectNoLeaks,
  expectTargetConservation,
  expectWithinStandardError,
  testSeed,
} from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, ReplicaExchange, type ReplicaExchangeState } from '../src/index.js';
import { TestMixture1D, torchEbmGaussian } from './helpers.js';

const g = torchEbmGaussian();

describe('ReplicaExchange', () => {
  it.each(['hmc', 'mala'] as const)(
    'one step (%s moves + swaps) leaves the product of tempered Gaussians invariant (cold marginal tested)',
    (kernel) => {
      const seed = testSeed(`pt-conservation-${kernel}`);
      const temps = [1, 1.7, 2.9, 5];
      const pt = new ReplicaExchange(g, {
        temperatures: temps,
        kernel,
        stepSize: kernel === 'hmc' ? 0.3 : 0.5,
      });
      expectTargetConservation({
        sampleTarget: (n, k) => g.sample(n, k),
        step: (x, key) => {
          const n = x.shape[0];
          // Hot replicas at their exact laws N(μ, T·Σ): μ + √T (x' − μ) with x' ~ N(μ, Σ).
          const hot = temps.slice(1).map((t, i) =>
            tf.tidy(() => {
              const z = g.sample(n, foldIn(key, 1000 + i));
              const mu = tf.tensor1d(g.mu);
              return tf.add(mu, tf.mul(tf.sub(z, mu), Math.sqrt(t)));
            }),
          );
          const replicas = tf.concat([x, ...hot], 0) as tf.Tensor2D;
          const { energy, gradient } = g.energyAndGradient(replicas);
          const st: ReplicaExchangeState = {
            x,
            energy: tf.slice(energy, [0], [n]) as tf.Tensor1D,
            replicas,
            replicaEnergy: energy,
            replicaGrad: gradient,
            step: 0, // even step: pairs (0,1) and (2,3) are proposed
          };
          const { state, info } = pt.step(st, key);
          const out = tf.clone(state.x);
          tf.dispose([...hot, replicas, energy, gradient, st.energy, ...Object.values(info)]);
          pt.disposeState(state);
          return out;
        },
        key: rngKey(seed),
        n: 10_000,
        minMovedFraction: 0.5,
        label: `replica exchange (${kernel})`,
        seed,
      });
    },
  );

  it('recovers the weights of a well-separated mixture (plain HMC does not)', () => {
    const seed = testSeed('pt-mixture-weights');
    const w = 0.3;
    const mix = new TestMixture1D(w, -3, 3, 0.5);
    const B = 48;
    const pt = new ReplicaExchange(mix, {
      temperatures: [1, 1.8, 3.2, 5.8, 10.5, 19, 34],
      stepSize: 0.35,
      nLeapfrogSteps: 4,
    });
    const x0 = tf.fill([B, 1], 3) as tf.Tensor2D; // every chain starts in the heavier mode
    const r = pt.sampleSync({
      x0,
      burnIn: 100,
      nSteps: 400,
      thin: 2,
      seed,
      trajectory: true,
      diagnostics: true,
    });
    const t = r.trajectory!.x!;
    const nk = t.shape[1]!;
    const a = t.dataSync();
    const frac = Float64Array.from({ length: B }, (_, c) => {
      let left = 0;
      for (let k = 0; k < nk; k++) if (a[c * nk + k]! < 0) left++;
      return left / nk;
    });
    const mean = frac.reduce((s, v) => s + v, 0) / B;
    const sd = Math.sqrt(frac.reduce((s, v) => s + (v - mean) ** 2, 0) / (B - 1));
    expectWithinStandardError(mean, w, sd / Math.sqrt(B), { label: 'PT mixture weight', seed });
    // Swap rates per pair are reported and usable.
    const sr = r.diagnostics!.swapRate!;
    expect(sr.shape).toEqual([200, 6]);
    const rates = tf.mean(sr, 0).dataSync();
    for (const v of rates) expect(v).toBeGreaterThan(0.2);
    tf.dispose([x0, t, r.samples, ...Object.values(r.diagnostics!)]);

    // Control: HMC alone from the same start never finds the light mode.
    const hmc = new HamiltonianMonteCarlo(mix, { stepSize: 0.35, nLeapfrogSteps: 4 });
    const x1 = tf.fill([B, 1], 3) as tf.Tensor2D;
    const r2 = hmc.sampleSync({ x0: x1, nSteps: 200, seed });
    expect(Math.min(...r2.samples.dataSync())).toBeGreaterThan(0);
    tf.dispose([x1, r2.samples]);
  });

  it('does not leak and validates its options', async () => {
    const pt = new ReplicaExchange(g, { temperatures: [1, 2, 4], kernel: 'mala', stepSize: 0.3 });
    await expectNoLeaks(() =>
      pt.sampleSync({
        nSamples: 4,
        nSteps: 10,
        seed: 1,
        diagnostics: true,
        trajectory: { fields: ['x', 'swapRate'] },
      }),
    );
    const st = pt.init(tf.zeros([3, 2]) as tf.Tensor2D);
    await expectNoLeaks(() => pt.step(st, rngKey(2)));
    pt.disposeState(st);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof EbmError ? `${e.code}:${e.argument}` : String(e);
      }
      return 'no error';
    };
    expect(codeOf(() => new ReplicaExchange(g, { temperatures: [1] }))).toBe('INVALID_PARAM:temperatures');
    expect(codeOf(() => new ReplicaExchange(g, { temperatures: [1, 3, 2] }))).toBe(
      'INVALID_PARAM:temperatures',
    );
    expect(codeOf(() => new ReplicaExchange(g, { temperatures: [0, 1] }))).toBe(
      'INVALID_PARAM:temperatures[0]',
    );
    expect(codeOf(() => new ReplicaExchange(g, { kernel: 'nuts' as never }))).toBe('INVALID_PARAM:kernel');
  });

  it('resumes bit-identically from a saved state', async () => {
    const pt = new ReplicaExchange(g, { temperatures: [1, 2, 4], stepSize: 0.3, nLeapfrogSteps: 2 });
    const x0 = tf.tensor2d([
      [0, 0],
      [1, 1],
    ]);
    const whole = pt.sampleSync({ x0, nSteps: 9, seed: 5 });
    const first = pt.sampleSync({ x0, nSteps: 4, seed: 5, keepState: true });
    const saved = JSON.parse(JSON.stringify(await pt.saveState(first.finalState!)));
    const loaded = pt.loadState(saved);
    const rest = pt.sampleSync({ resumeFrom: loaded, nSteps: 5, seed: 5 });
    expect(Array.from(rest.samples.dataSync())).toEqual(Array.from(whole.samples.dataSync()));
    tf.dispose([x0, whole.samples, first.samples, rest.samples]);
    pt.disposeState(first.finalState!);
    pt.disposeState(loaded);
  });
});

void (0 as unknown as RngKey);
