// TorchEBM: class MyEnergy(BaseModel) with forward(x) -> (B,); here: BaseEnergy with computeEnergy.
import { BaseEnergy } from '@ebm/core';
import { DoubleWell, Gaussian } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

class Quadratic extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D; // E(x) = ½‖x‖², [B, D] → [B]
  }
}

const custom = new Quadratic({ dim: 2 });
const x = tf.tensor2d([[1, -2]]);
const g = custom.gradient(x); // autograd: [[1, -2]]
// DoubleWellModel(barrier_height=2.0, b=1.0) → analytic gradients, no autograd
const well = new DoubleWell({ barrierHeight: 2, b: 1 });
// GaussianModel(mean, cov)
const gauss = new Gaussian({
  mean: [0, 0],
  covariance: [
    [1, 0.5],
    [0.5, 1],
  ],
});
const e = well.energy(x);
console.log(await g.data(), await e.data()); // read tensors with await, never dataSync()
tf.dispose([x, g, e]);
well.dispose();
gauss.dispose();

export const result = { ok: true };
