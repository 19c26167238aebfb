// A new loss: extend BaseLoss and return tensors from computeParts (it runs inside tf.tidy); validation,
// keys, energy regularisation, metrics and disposal come from the base class, and fit() trains it.
import { type RngKey, uniformTensor } from '@ebm/core';
import { circle } from '@ebm/datasets';
import { BaseLoss, type BaseLossOptions, fit, type LossParts } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Contrast with uniform noise: L = mean E(x⁺) − mean E(x⁻) with x⁻ ~ U(box), plus the base class's energy L2.
 * A toy (contrastive divergence with k = 0), but a complete loss.
 */
export class NoiseContrast extends BaseLoss {
  constructor(
    energy: MLPEnergy,
    readonly box = 3,
    options: BaseLossOptions = {},
  ) {
    super(energy, options, 'NoiseContrast');
  }
  protected computeParts(data: tf.Tensor2D, key: RngKey): LossParts {
    const neg = uniformTensor(key, data.shape, -this.box, this.box) as tf.Tensor2D;
    const ePos = tf.mean(this.energy.energy(data)) as tf.Scalar;
    const eNeg = tf.mean(this.energy.energy(neg)) as tf.Scalar;
    return { loss: tf.sub(ePos, eNeg), stats: { energyPos: ePos, energyNeg: eNeg } };
  }
}

const energy = new MLPEnergy({ inputDim: 2, widths: [16], seed: 0 });
const loss = new NoiseContrast(energy, 3, { energyL2: 0.1, seed: 0 });
const optimizer = tf.train.adam(1e-2);
const data = circle({ nSamples: 512, seed: 0 }).toTensor();
const { history } = await fit({ loss, optimizer, data, batchSize: 64, steps: 20, seed: 0 });
console.log(history[0]!.loss, '→', history.at(-1)!.loss);
data.dispose();
optimizer.dispose();
energy.dispose();

export const result = { first: history[0]!.loss, last: history.at(-1)!.loss };
