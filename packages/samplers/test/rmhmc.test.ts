import { BaseEnergy, isEbmError, normalArray, type RngKey, rngKey } from '@ebm/core';
import { expectNoLeaks, expectTargetConservation, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { factorMetric, type MetricFunction, RiemannianManifoldHMC } from '../src/index.js';
import { oneStep, torchEbmGaussian } from './helpers.js';

/** Neal's funnel in 2-D: v ~ N(0, 3²), x | v ~ N(0, e^v); U = v²/18 + x²e^{−v}/2 + v/2. */
class Funnel2 extends BaseEnergy {
  constructor() {
    super({ dim: 2, name: 'Funnel2' });
  }
  protected computeEnergy(q: tf.Tensor2D): tf.Tensor1D {
    const [v, x] = tf.unstack(q, 1) as [tf.Tensor1D, tf.Tensor1D];
    return tf.add(
      tf.add(tf.div(tf.square(v), 18), tf.mul(0.5, tf.mul(tf.square(x), tf.exp(tf.neg(v))))),
      tf.mul(0.5, v),
    ) as tf.Tensor1D;
  }
  sample(n: number, key: RngKey): tf.Tensor2D {
    const z = normalArray(key, [n, 2]);
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = 3 * z[2 * i]!;
      out[2 * i] = v;
      out[2 * i + 1] = Math.exp(v / 2) * z[2 * i + 1]!;
    }
    return tf.tensor2d(out, [n, 2]);
  }
}

/** The funnel's expected Fisher metric: diag(1/9 + 1/2, e^{−v}) — varies with v. */
const funnelMetric: MetricFunction = (q) =>
  tf.tidy(() => {
    const v = tf.slice(q, [0, 0], [-1, 1]);
    return tf.concat([tf.fill(v.shape, 1 / 9 + 0.5), tf.exp(tf.neg(v))], 1) as tf.Tensor2D;
  });

/** A full metric that varies with position: [[1 + x₁²/2, 0.3], [0.3, 1 + x₀²/2]] (positive-definite). */
const fullMetric: MetricFunction = (q) =>
  tf.tidy(() => {
    const [a, b] = tf.unstack(q, 1) as [tf.Tensor1D, tf.Tensor1D];
    const g00 = tf.add(1, tf.mul(0.5, tf.square(b)));
    const g11 = tf.add(1, tf.mul(0.5, tf.square(a)));
    const off = tf.fill(a.shape, 0.3);
    return tf.stack([tf.stack([g00, off], 1), tf.stack([off, g11], 1)], 1) as tf.Tensor3D;
  });

describe('RiemannianManifoldHMC', () => {
  it('the batched Cholesky factor matches G: L·Lᵀ p recovers p, G⁻¹ solves, ½log|G|', () => {
    const q = tf.tensor2d([
      [0.5, -1],
      [2, 0.1],
    ]);
    const g = fullMetric(q) as tf.Tensor3D;
    const f = factorMetric(g);
    const p = tf.tensor2d([
      [1, 2],
      [-0.5, 0.3],
    ]);
    const back = tf.tidy(() => tf.squeeze(tf.matMul(g, tf.expandDims(f.solve(p), 2)), [2]));
    expect(Array.from(back.dataSync())).toEqual(Array.from(p.dataSync()).map((v) => expect.closeTo(v, 5)));
    const gd = g.arraySync();
    const hld = f.halfLogDet.dataSync();
    for (let i = 0; i < 2; i++) {
      const det = gd[i]![0]![0]! * gd[i]![1]![1]! - gd[i]![0]![1]! ** 2;
      expect(hld[i]!).toBeCloseTo(0.5 * Math.log(det), 5);
    }
    tf.dispose([q, g, p, back, f.halfLogDet]);
  });

  it('leaves the funnel invariant with its position-dependent Fisher metric (one-step conservation, 1e-4)', () => {
    const seed = testSeed('rmhmc-funnel-conservation');
    const funnel = new Funnel2();
    const s = new RiemannianManifoldHMC(funnel, funnelMetric, {
      stepSize: 0.5,
      nLeapfrogSteps: 3,
      solverMaxIter: 6,
    });
    const rep = expectTargetConservation({
      sampleTarget: (n, k) => funnel.sample(n, k),
      step: oneStep(s),
      key: rngKey(seed),
      n: 6000,
      minMovedFraction: 0.5,
      label: 'RMHMC funnel',
      seed,
    });
    expect(rep.movedFraction).toBeGreaterThan(0.5);
  });

  it('leaves a correlated Gaussian invariant with a full position-dependent metric (one-step conservation)', () => {
    const seed = testSeed('rmhmc-full-conservation');
    const g = torchEbmGaussian();
    const s = new RiemannianManifoldHMC(g, fullMetric, {
      stepSize: 0.5,
      nLeapfrogSteps: 2,
      solverMaxIter: 5,
    });
    expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(s),
      key: rngKey(seed),
      n: 4000,
      minMovedFraction: 0.5,
      label: 'RMHMC full metric',
      seed,
    });
  });

  it('is seeded and leak-free, also when the energy throws mid-run; bad options raise EbmErrors', async () => {
    const g = torchEbmGaussian();
    const s = new RiemannianManifoldHMC(g, fullMetric, {
      stepSize: 0.3,
      nLeapfrogSteps: 2,
      solverMaxIter: 3,
    });
    const a = await s.sample({ nSamples: 8, nSteps: 3, seed: 4 });
    const b = await s.sample({ nSamples: 8, nSteps: 3, seed: 4 });
    expect(Array.from(await a.samples.data())).toEqual(Array.from(await b.samples.data()));
    tf.dispose([a.samples, b.samples]);
    await expectNoLeaks(() => s.sample({ nSamples: 4, nSteps: 2, seed: 1, diagnostics: true }));
    let calls = 0;
    class Flaky extends BaseEnergy {
      constructor() {
        super({ dim: 2, name: 'Flaky' });
      }
      protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
        if (++calls > 6) throw new Error('boom');
        return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D;
      }
    }
    const flaky = new RiemannianManifoldHMC(new Flaky(), funnelMetric, { stepSize: 0.1, nLeapfrogSteps: 2 });
    const before = tf.memory().numTensors;
    await expect(flaky.sample({ nSamples: 4, nSteps: 5, seed: 1 })).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => new RiemannianManifoldHMC(g, 3 as never));
    bad(() => new RiemannianManifoldHMC(g, fullMetric, { step_size: 0.1 } as never));
    bad(() => new RiemannianManifoldHMC(g, fullMetric, { nLeapfrogSteps: 0 }));
    bad(() => new RiemannianManifoldHMC(g, fullMetric, { integrator: 'rk4' }));
    // a metric that throws after computing part of G, inside the gradient of the kinetic term
    let metricCalls = 0;
    const flakyMetric: MetricFunction = (x) => {
      const out = fullMetric(x);
      if (++metricCalls > 5) throw new Error('metric boom');
      return out;
    };
    const fm = new RiemannianManifoldHMC(g, flakyMetric, {
      stepSize: 0.1,
      nLeapfrogSteps: 2,
      solverMaxIter: 2,
    });
    const before2 = tf.memory().numTensors;
    await expect(fm.sample({ nSamples: 4, nSteps: 3, seed: 1 })).rejects.toThrow('metric boom');
    expect(tf.memory().numTensors).toBe(before2);
    const wrong = new RiemannianManifoldHMC(g, (x) => tf.ones([x.shape[0], 3]) as tf.Tensor2D);
    const st = wrong.init(tf.zeros([2, 2]) as tf.Tensor2D);
    bad(() => wrong.step(st, rngKey(0)));
    wrong.disposeState(st);
  });
});
