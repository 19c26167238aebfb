/**
 * Smallest @ebm program: the autograd gradient of a Gaussian energy in plain Node.
 * Run: pnpm --filter @ebm/examples exec node --experimental-strip-types src/gradient.ts  (after pnpm build)
 */

import { BaseEnergy } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

class Gaussian extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1));
  }
}

const g = new Gaussian({ dim: 2 }).gradient(tf.tensor2d([[1, -2]]));
console.log('∇E([1, -2]) =', Array.from(g.dataSync()));
