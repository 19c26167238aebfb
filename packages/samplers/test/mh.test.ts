import { type EnergyFunction, normalTensor, rngKey } from '@ebm/core';
import {
  checkTargetConservation,
  expectTargetConservation,
  expectWithinStandardError,
  testSeed,
} from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '../src/index.js';
import { oneStep, TestDoubleWell, torchEbmGaussian } from './helpers.js';
import { expectMomentsWithinMcse } from './mcse.js';

const g = torchEbmGaussian();

describe('MALA', () => {
  it('leaves the correlated Gaussian invariant (one-step conservation, false-fail rate 1e-4)', () => {
    const seed = testSeed('mala-conservation');
    const rep = expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new MALA(g, { stepSize: 0.6 })),
      key: rngKey(seed),
      n: 20_000,
      falseFailRate: 1e-4,
      minMovedFraction: 0.4,
      label: 'MALA',
      seed,
    });
    expect(rep.movedFraction).toBeGreaterThan(0.4);
  });

  it('with a diagonal preconditioner also conserves the target', () => {
    const seed = testSeed('mala-conservation-mass');
    expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new MALA(g, { stepSize: 0.5, mass: [1, 0.5] })),
      key: rngKey(seed),
      n: 20_000,
      minMovedFraction: 0.4,
      label: 'MALA diag mass',
      seed,
    });
  });

  it('matches mean and covariance within Monte-Carlo standard errors (ESS-based)', () => {
    expectMomentsWithinMcse(new MALA(g, { stepSize: 0.5 }), g, 'MALA', testSeed('mala-mcse'));
  });

  it('the conservation test has power: one unadjusted Langevin step with a large h fails it', () => {
    const rep = checkTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new LangevinDynamics(g, { stepSize: 0.5 })),
      key: rngKey(testSeed('ula-negative-control')),
      n: 20_000,
    });
    expect(rep.passed).toBe(false);
  });
});

describe('HamiltonianMonteCarlo', () => {
  it('leaves the correlated Gaussian invariant (one-step conservation, false-fail rate 1e-4)', () => {
    const seed = testSeed('hmc-conservation');
    const rep = expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new HamiltonianMonteCarlo(g, { stepSize: 0.35, nLeapfrogSteps: 5 })),
      key: rngKey(seed),
      n: 20_000,
      minMovedFraction: 0.5,
      label: 'HMC',
      seed,
    });
    expect(rep.movedFraction).toBeGreaterThan(0.5);
  });

  it('with a diagonal mass also conserves the target', () => {
    const seed = testSeed('hmc-conservation-mass');
    expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new HamiltonianMonteCarlo(g, { stepSize: 0.35, nLeapfrogSteps: 4, mass: [1, 0.5] })),
      key: rngKey(seed),
      n: 20_000,
      minMovedFraction: 0.5,
      label: 'HMC diag mass',
      seed,
    });
  });

  it('matches mean and covariance within Monte-Carlo standard errors (ESS-based)', () => {
    expectMomentsWithinMcse(
      new HamiltonianMonteCarlo(g, { stepSize: 0.3, nLeapfrogSteps: 5 }),
      g,
      'HMC',
      testSeed('hmc-mcse'),
    );
  });

  it('the conservation test has power: unadjusted leapfrog (no MH) with the same step fails it', () => {
    // Variance along the stiff eigendirection grows ×1.77 (exact for the linear leapfrog map).
    const eps = 1.2;
    const L = 3;
    const rep = checkTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: (x, key) =>
        tf.tidy(() => {
          let q: tf.Tensor = x;
          let p: tf.Tensor = tf.sub(normalTensor(key, x.shape), tf.mul(g.gradient(x), eps / 2));
          for (let i = 0; i < L; i++) {
            q = tf.add(q, tf.mul(p, eps));
            p = tf.sub(p, tf.mul(g.gradient(q as tf.Tensor2D), i === L - 1 ? eps / 2 : eps));
          }
          return q as tf.Tensor2D;
        }),
      key: rngKey(testSeed('hmc-negative-control')),
      n: 20_000,
    });
    expect(rep.passed).toBe(false);
  });

  it('reuses the force: L gradient evaluations per MH step (one of them with the energy)', () => {
    let grads = 0;
    let both = 0;
    let energies = 0;
    const counting: EnergyFunction = {
      name: 'counting',
      dim: 2,
      energy: (x, o) => {
        energies++;
        return g.energy(x, o);
      },
      gradient: (x, o) => {
        grads++;
        return g.gradient(x, o);
      },
      energyAndGradient: (x, o) => {
        both++;
        return g.energyAndGradient(x, o);
      },
    };
    const L = 7;
    const hmc = new HamiltonianMonteCarlo(counting, { stepSize: 0.1, nLeapfrogSteps: L });
    const st = hmc.init(tf.tensor2d([[0, 0]]));
    grads = 0;
    both = 0;
    energies = 0;
    const { state, info } = hmc.step(st, rngKey(1));
    expect(grads + both).toBe(L);
    expect(both).toBe(1);
    expect(energies).toBe(0);
    tf.dispose(Object.values(info));
    hmc.disposeState(st);
    hmc.disposeState(state);
  });

  it('rejects non-finite proposals (NaN-safe) and reports per-chain acceptance', () => {
    // Energy is NaN for x0 > 1.5: chains must never go there.
    const holey: EnergyFunction = {
      name: 'holey',
      dim: 2,
      energy: (x, o) =>
        tf.tidy(() => {
          const e = g.energy(x, o);
          const bad = tf.greater(tf.reshape(tf.slice(x, [0, 0], [-1, 1]), [-1]), 1.5);
          return tf.where(bad, tf.fill(e.shape, Number.NaN), e) as tf.Tensor1D;
        }),
      gradient: (x, o) => g.gradient(x, o),
      energyAndGradient(x, o) {
        return { energy: this.energy(x, o), gradient: this.gradient(x, o) };
      },
    };
    for (const s of [
      new HamiltonianMonteCarlo(holey, { stepSize: 0.3, nLeapfrogSteps: 5 }),
      new MALA(holey, { stepSize: 0.5 }),
    ]) {
      const r = s.sampleSync({
        x0: tf.zeros([200, 2]) as tf.Tensor2D,
        nSteps: 30,
        seed: 4,
        diagnostics: true,
        trajectory: { fields: ['x', 'isAccepted', 'acceptanceRate', 'acceptProb'] },
      });
      const a = r.samples.dataSync();
      for (let i = 0; i < 200; i++) expect(a[2 * i]!).toBeLessThanOrEqual(1.5);
      expect(a.every((v) => Number.isFinite(v))).toBe(true);
      const acc = r.diagnostics!.acceptanceRate!;
      expect(acc.shape).toEqual([30]);
      const accV = acc.dataSync();
      expect(accV.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(Math.max(...accV)).toBeGreaterThan(0);
      expect(Math.min(...accV)).toBeLessThan(1); // some proposals hit the hole
      expect(r.trajectory!.isAccepted!.shape).toEqual([200, 30]);
      const iv = r.trajectory!.isAccepted!.dataSync();
      expect(iv.every((v) => v === 0 || v === 1)).toBe(true);
      const pv = r.trajectory!.acceptanceRate!.dataSync();
      expect(pv.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
      // The deprecated alias holds the same numbers.
      expect(Array.from(r.trajectory!.acceptProb!.dataSync())).toEqual(Array.from(pv));
      // A rejected proposal with min(1, α) = 0 (the hole) is never accepted.
      for (let i = 0; i < iv.length; i++) if (pv[i] === 0) expect(iv[i]).toBe(0);
      for (const t of Object.values(r.trajectory!)) t.dispose();
      for (const t of Object.values(r.diagnostics!)) t.dispose();
      r.samples.dispose();
    }
  });

  it('visits both double-well modes with equal weight (chains started in one well)', () => {
    const seed = testSeed('hmc-double-well');
    const dw = new TestDoubleWell(1, 1, 1);
    const B = 64;
    const r = new HamiltonianMonteCarlo(dw, { stepSize: 0.15, nLeapfrogSteps: 8 }).sampleSync({
      x0: tf.fill([B, 1], -1) as tf.Tensor2D,
      burnIn: 50,
      nSteps: 300,
      seed,
      trajectory: true,
    });
    const t = r.trajectory!.x!;
    const nk = t.shape[1]!;
    const a = t.dataSync();
    tf.dispose([t, r.samples]);
    const frac = Float64Array.from({ length: B }, (_, c) => {
      let pos = 0;
      for (let k = 0; k < nk; k++) if (a[c * nk + k]! > 0) pos++;
      return pos / nk;
    });
    const mean = frac.reduce((s, v) => s + v, 0) / B;
    const sd = Math.sqrt(frac.reduce((s, v) => s + (v - mean) ** 2, 0) / (B - 1));
    expectWithinStandardError(mean, 0.5, sd / Math.sqrt(B), { label: 'HMC double-well weight', seed });
    expect(frac.filter((f) => f > 0).length).toBeGreaterThan(B / 2);
  });
});
