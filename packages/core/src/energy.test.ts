import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { assertFiniteTensor, BaseEnergy, defaultCheckFinite } from './energy.js';
import { expectNoLeaks } from './testing/leaks.js';

/** E(x) = ½ (x − μ)ᵀ P (x − μ), autograd gradient. */
class Quadratic extends BaseEnergy {
  constructor(
    readonly mu: tf.Tensor1D,
    readonly prec: tf.Tensor2D,
  ) {
    super({ dim: mu.shape[0], name: 'Quadratic' });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = tf.sub(x, this.mu);
    return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, this.prec), d), 1));
  }
}

/** Same energy with the analytic gradient. */
class QuadraticAnalytic extends Quadratic {
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(tf.sub(x, this.mu), this.prec);
  }
}

class BadShape extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.sum(x) as unknown as tf.Tensor1D;
  }
}
class BadGrad extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.sum(x, 1);
  }
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.sum(x, 1, true) as tf.Tensor2D;
  }
}

const mu = tf.tensor1d([1, -1]);
const prec = tf.tensor2d([
  [2, 0.5],
  [0.5, 1],
]);
const xs = tf.tensor2d([
  [0, 0],
  [2, 1],
  [-1, 3],
]);
const expectedGrad = [-1.5, 0.5, 3, 2.5, -2, 3];
const expectedEnergy = [0.5 * (2 - 1 + 1), 0.5 * (2 + 2 + 4), 0.5 * (8 - 8 + 16)];

describe('BaseEnergy', () => {
  it('computes energies and autograd gradients of a Gaussian energy', () => {
    const e = new Quadratic(mu, prec);
    const g = e.gradient(xs);
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedGrad[i]!, 5));
    const en = e.energy(xs);
    expect(en.shape).toEqual([3]);
    Array.from(en.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedEnergy[i]!, 5));
    const both = e.energyAndGradient(xs);
    Array.from(both.gradient.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedGrad[i]!, 5));
    Array.from(both.energy.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedEnergy[i]!, 5));
    expect(e.name).toBe('Quadratic');
    expect(e.dim).toBe(2);
    tf.dispose([g, en, both.energy, both.gradient]);
  });
  it('uses the analytic gradient when overridden, also in energyAndGradient', () => {
    const e = new QuadraticAnalytic(mu, prec);
    const both = e.energyAndGradient(xs);
    Array.from(both.gradient.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedGrad[i]!, 5));
    tf.dispose([both.energy, both.gradient]);
  });
  it('energyAndGradient inside a caller tf.tidy releases everything not returned', () => {
    const e = new Quadratic(mu, prec);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => e.energyAndGradient(xs).gradient);
    expect(tf.memory().numTensors).toBe(before + 1);
    g.dispose();
  });
  it('leaks no tensors in energy, gradient and energyAndGradient', async () => {
    for (const e of [new Quadratic(mu, prec), new QuadraticAnalytic(mu, prec)]) {
      await expectNoLeaks(() => e.energy(xs));
      await expectNoLeaks(() => e.gradient(xs));
      await expectNoLeaks(() => e.energyAndGradient(xs));
    }
  });
  it('validates rank, dtype, batch, dimension and finiteness with EbmError', async () => {
    const e = new Quadratic(mu, prec);
    const bad: [tf.Tensor, RegExp][] = [
      [tf.tensor1d([1, 2]), /SHAPE_MISMATCH.*rank 2/],
      [tf.tensor2d([[1, 2, 3]]), /SHAPE_MISMATCH.*2 columns/],
      [tf.tensor2d([[1, 2]], [1, 2], 'int32'), /INVALID_DTYPE.*float32/],
      [tf.zeros([0, 2]), /SHAPE_MISMATCH.*at least one row/],
      [tf.tensor2d([[1, Number.NaN]]), /NON_FINITE/],
      [tf.tensor2d([[Number.POSITIVE_INFINITY, 0]]), /NON_FINITE/],
    ];
    for (const [x, re] of bad) {
      const before = tf.memory().numTensors;
      expect(() => e.energy(x as tf.Tensor2D)).toThrowError(re);
      expect(() => e.gradient(x as tf.Tensor2D)).toThrowError(re);
      expect(() => e.energyAndGradient(x as tf.Tensor2D)).toThrowError(re);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
    expect(() => e.energy([[1, 2]] as never)).toThrowError(/INVALID_PARAM.*tf.Tensor/);
    const disposed = tf.tensor2d([[1, 2]]);
    disposed.dispose();
    expect(() => e.energy(disposed)).toThrowError(/STATE_ERROR/);
    // checkFinite: false skips the read-back
    const nan = tf.tensor2d([[Number.NaN, 0]]);
    const out = e.energy(nan, { checkFinite: false });
    expect(Number.isNaN(out.dataSync()[0])).toBe(true);
    tf.dispose([nan, out]);
    expect(() => new Quadratic(tf.tensor1d([]), prec)).toThrowError(/dim must be an integer/);
  });
  it('rejects energies that return the wrong shape, without leaking', () => {
    const x = tf.tensor2d([[1, 2]]);
    const before = tf.memory().numTensors;
    expect(() => new BadShape().energy(x)).toThrowError(/SHAPE_MISMATCH.*expected \[1\]/);
    expect(() => new BadShape().energyAndGradient(x)).toThrowError(/SHAPE_MISMATCH/);
    expect(() => new BadGrad().gradient(x)).toThrowError(/SHAPE_MISMATCH.*computeGradient/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
  it('finite check helpers', () => {
    expect(defaultCheckFinite()).toBe(true);
    const ok = tf.tensor1d([1, 2]);
    expect(() => assertFiniteTensor('ok', ok)).not.toThrow();
    ok.dispose();
  });
});
