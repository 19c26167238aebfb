import {
  isEbmError,
  medianDistance,
  mmdRbf,
  type RngKey,
  randomNormal,
  randomUniform,
  rngKey,
  splitKey,
} from '@ebm/core';
import { expectNoLeaksSync } from '@ebm/core/testing';
import { eightGaussians, twoMoons } from '@ebm/datasets';
import { EqMEnergy, TimeConditionedMLP } from '@ebm/models';
import { GradientDescentSampler } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dispersiveLoss, EquilibriumMatchingLoss, eqmCt, fit } from '../src/index.js';

const A0 = [
  [0.5, -0.2],
  [0.3, 0.8],
];

/** The loss recomputed by hand from the same keys (independent coupling, linear interpolant, t ~ U[0, 1)). */
function manualLoss(
  data: tf.Tensor2D,
  key: RngKey,
  field: (x: tf.Tensor2D) => tf.Tensor2D,
  { ct = true } = {},
): tf.Scalar {
  return tf.tidy(() => {
    const [kNoise, kTime] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    const x0 = randomNormal(kNoise, data.shape) as tf.Tensor2D;
    const t = randomUniform(kTime, [data.shape[0]]) as tf.Tensor1D;
    const tc = tf.reshape(t, [-1, 1]);
    const xt = tf.add(tf.mul(tc, data), tf.mul(tf.sub(1, tc), x0)) as tf.Tensor2D;
    const c = ct ? tf.mul(4, tf.minimum(1, tf.div(tf.sub(1, tc), 0.2))) : tf.onesLike(tc);
    const target = tf.mul(tf.neg(tf.sub(data, x0)), c);
    return tf.mean(tf.square(tf.sub(field(xt), target))) as tf.Scalar;
  });
}

describe('EquilibriumMatchingLoss', () => {
  it('c(t) = 4·min(1, (1 − t)/0.2); the dispersive loss is log mean_{i≠j} exp(−‖zᵢ − zⱼ‖²/D)', () => {
    const c = eqmCt(tf.tensor1d([0, 0.5, 0.8, 0.9, 1]));
    expect(Array.from(c.dataSync())).toEqual([4, 4, 4, 2, 0].map((v) => expect.closeTo(v, 5)));
    const z = tf.tensor2d([
      [0, 0],
      [1, 0],
      [0, 2],
    ]);
    const pairs = [1, 4, 5]; // squared distances of the three pairs
    const want = Math.log(pairs.reduce((s, d) => s + Math.exp(-d / 2), 0) / 3);
    expect(dispersiveLoss(z).dataSync()[0]!).toBeCloseTo(want, 5);
    tf.dispose([c, z]);
  });

  it('matches the hand-computed loss for each energy type, with gradients through ∇ₓg to the parameters', () => {
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(1), [64, 2]), 0.3), 1)) as tf.Tensor2D;
    const A = tf.variable(tf.tensor2d(A0));
    const model = (x: tf.Tensor2D) => tf.matMul(x, A) as tf.Tensor2D;
    // ∇ₓ of g for f(x) = xA: dot g = xᵀAx → x(A + Aᵀ); mean → x(A + Aᵀ)/2; l2 g = −½‖xA‖² → −xAAᵀ
    const fields: Record<string, (x: tf.Tensor2D) => tf.Tensor2D> = {
      none: (x) => tf.matMul(x, A) as tf.Tensor2D,
      dot: (x) => tf.matMul(x, tf.add(A, tf.transpose(A))) as tf.Tensor2D,
      mean: (x) => tf.div(tf.matMul(x, tf.add(A, tf.transpose(A))), 2) as tf.Tensor2D,
      l2: (x) => tf.neg(tf.matMul(tf.matMul(x, A), tf.transpose(A))) as tf.Tensor2D,
    };
    for (const energyType of ['none', 'dot', 'mean', 'l2'] as const) {
      const loss = new EquilibriumMatchingLoss(model, { energyType, variables: [A] });
      const key = rngKey(3);
      const got = tf.variableGrads(() => loss.compute(data, { key, metrics: false }).loss, [A]);
      const want = tf.variableGrads(() => manualLoss(data, key, fields[energyType]!), [A]);
      expect(got.value.dataSync()[0]!).toBeCloseTo(want.value.dataSync()[0]!, 4);
      const g1 = got.grads[A.name]!.dataSync();
      const g2 = want.grads[A.name]!.dataSync();
      for (let i = 0; i < 4; i++) expect(g1[i]!).toBeCloseTo(g2[i]!, 3);
      tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
    }
    const loss = new EquilibriumMatchingLoss(model, {
      energyType: 'dot',
      coupling: 'sinkhorn',
      variables: [A],
    });
    expectNoLeaksSync(() => loss.compute(data).loss);
    tf.dispose([data, A]);
  });

  it('EqMEnergy gives the scalar g and its gradient (or the field itself when implicit)', () => {
    const model = (x: tf.Tensor2D) => tf.matMul(x, tf.tensor2d(A0)) as tf.Tensor2D;
    const x = tf.tensor2d([[1, 2]]);
    const dot = new EqMEnergy(model, { energyType: 'dot', dim: 2 });
    // xᵀAx with A0: [1,2]·[[.5,-.2],[.3,.8]]·[1,2]ᵀ = [1.1, 1.4]·[1,2] = 3.9
    expect(dot.energy(x).dataSync()[0]!).toBeCloseTo(3.9, 5);
    expect(Array.from(dot.gradient(x).dataSync())).toEqual([1.2, 3.3].map((v) => expect.closeTo(v, 5)));
    const imp = EqMEnergy.fromLoss(new EquilibriumMatchingLoss(model));
    expect(imp.energyType).toBe('implicit');
    expect(Array.from(imp.gradient(x).dataSync())).toEqual([1.1, 1.4].map((v) => expect.closeTo(v, 5)));
    expect(() => imp.energy(x)).toThrow(/no scalar energy/);
    x.dispose();
  });

  it('is leak-free when the model throws mid-loss (explicit energy and coupling paths)', () => {
    const data = tf.tidy(() => randomNormal(rngKey(2), [32, 2])) as tf.Tensor2D;
    const boom = (x: tf.Tensor2D) => {
      tf.mul(x, 2); // a tensor made before the failure
      throw new Error('boom');
    };
    for (const energyType of ['none', 'dot'] as const) {
      const loss = new EquilibriumMatchingLoss(boom, { energyType, coupling: 'exactOt' });
      expect(() => loss.compute(data)).toThrow('boom'); // warm-up: lazily created kernel constants
      const before = tf.memory().numTensors;
      expect(() => loss.compute(data)).toThrow('boom');
      expect(tf.memory().numTensors).toBe(before);
    }
    data.dispose();
  });

  it('bad options raise EbmErrors', () => {
    const f = (x: tf.Tensor2D) => x;
    const bad = (fn: () => unknown) => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => new EquilibriumMatchingLoss(f, { energy_type: 'dot' } as never));
    bad(() => new EquilibriumMatchingLoss(f, { energyType: 'quadratic' as never }));
    bad(() => new EquilibriumMatchingLoss(f, { prediction: 'noise', energyType: 'dot' }));
    bad(() => new EquilibriumMatchingLoss(f, { ctThreshold: 1 }));
    bad(() => new EquilibriumMatchingLoss(f, { ctMultiplier: 0 }));
    bad(() => new EquilibriumMatchingLoss(f, { coupling: 'emd' as never }));
    bad(() => new EquilibriumMatchingLoss(f, { applyDispersion: true }));
    bad(() => new EqMEnergy(f, { energyType: 'none' as never }));
    bad(() => new EqMEnergy(f, { t: 2 }));
  });

  // Smoke-sized training (full runs: the curriculum example `equilibrium-matching-2d`): a time-invariant
  // TimeConditionedMLP trained 400 steps, sampled by gradient descent on EqMEnergy from noise for the descent time
  // loss.samplingTime() (0.3: η = 0.01, 30 steps). Margin: MMD² to held-out data below 30% of the noise
  // baseline's (measured on the default seed: 11% on two moons, 9% on eight gaussians).
  it.each([
    ['eight gaussians', (n: number, seed: number) => eightGaussians({ nSamples: n, seed })],
    ['two moons', (n: number, seed: number) => twoMoons({ nSamples: n, seed })],
  ] as const)('trains on %s: gradient-descent samples far below the noise baseline', async (name, make) => {
    const train = make(4096, 1).toTensor();
    const held = make(400, 2);
    const model = new TimeConditionedMLP({ dim: 2, widths: [64, 64], seed: 3 });
    const loss = new EquilibriumMatchingLoss(model);
    await fit({ loss, optimizer: tf.train.adam(3e-3), data: train, batchSize: 256, steps: 400, seed: 5 });
    const eta = 0.01;
    const gd = new GradientDescentSampler(EqMEnergy.fromLoss(loss), { stepSize: eta });
    const noise = tf.randomNormal([400, 2], 0, 1, 'float32', 4) as tf.Tensor2D;
    const r = await gd.sample({ x0: noise, nSteps: Math.round(loss.samplingTime() / eta), seed: 1 });
    const bandwidth = medianDistance(held.data, held.data, 2);
    const mmd = mmdRbf(await r.samples.data(), held.data, 2, { bandwidth });
    const mmdNoise = mmdRbf(await noise.data(), held.data, 2, { bandwidth });
    const floor = mmdRbf(make(400, 7).data, held.data, 2, { bandwidth });
    console.log(
      `[eqm ${name}] MMD² ${mmd.toFixed(5)} noise ${mmdNoise.toFixed(5)} data-vs-data ${floor.toFixed(5)}`,
    );
    expect(mmd).toBeLessThan(0.3 * mmdNoise);
    tf.dispose([train, noise, r.samples]);
    model.dispose();
  });
});
