// A new energy: extend BaseEnergy, compute E(x) per row; override the gradient when you have it in closed form.
import { BaseEnergy, type BaseEnergyOptions } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** A ring of radius r: E(x) = (‖x‖ − r)² / (2w²). ∇E = (‖x‖ − r)/w² · x/‖x‖. */
export class Ring extends BaseEnergy {
  constructor(
    readonly radius = 2,
    readonly width = 0.2,
    options: BaseEnergyOptions = {},
  ) {
    super({ dim: 2, name: 'Ring', ...options });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const r = tf.norm(x, 'euclidean', 1);
      return tf.div(tf.square(tf.sub(r, this.radius)), 2 * this.width ** 2) as tf.Tensor1D;
    });
  }
  // optional: without it, the gradient comes from tfjs autograd
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const r = tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12);
      return tf.mul(x, tf.div(tf.sub(r, this.radius), tf.mul(r, this.width ** 2))) as tf.Tensor2D;
    });
  }
}

const ring = new Ring();
const x = tf.tensor2d([
  [1, 1],
  [3, -1],
]);
const analytic = ring.gradient(x);
const autograd = tf.grad((y: tf.Tensor) => tf.sum(ring.energy(y as tf.Tensor2D)))(x);
const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(analytic, autograd))));
const gap = (await diff.data())[0]!;
console.log('max |analytic − autograd| =', gap);
tf.dispose([x, analytic, autograd, diff]);

export const result = { gap };
