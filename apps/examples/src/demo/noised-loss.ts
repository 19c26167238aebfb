/**
 * Noise-perturbed training data for a loss: every batch is replaced by x̃ = x + σξ, ξ ~ N(0, I), before the
 * wrapped loss sees it. With sliced score matching this is SSM on the noised data law p ∗ N(0, σ²I) (Song &
 * Ermon 2019 train their score models on perturbed data for the same reason): the raw-data SSM objective
 * ½‖∇E‖² − tr ∇²E rewards an MLP for building ever sharper spikes on the training points (the trace term is
 * unbounded below on a finite sample), and the noise smooths the target so the spikes no longer pay.
 */
import {
  type EnergyFunction,
  foldIn,
  type Loss,
  type LossContext,
  type LossOutput,
  randomNormal,
  rngKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** A loss evaluated on noise-perturbed batches (see the module docs). */
export class NoisedDataLoss implements Loss {
  readonly name: string;
  readonly energy: EnergyFunction;
  private calls = 0;

  constructor(
    readonly inner: Loss & { dispose?: () => void },
    /** Standard deviation σ of the perturbation (in the model's coordinates). */
    readonly sigma: number,
    private readonly seed = 0,
  ) {
    this.name = inner.name;
    this.energy = inner.energy;
  }

  /** The wrapped loss's own trainable variables (NCE's log-normaliser, …). */
  get variables(): readonly tf.Variable[] {
    return (this.inner as { variables?: readonly tf.Variable[] }).variables ?? [];
  }

  compute(data: tf.Tensor2D, context?: LossContext): LossOutput {
    const key = context?.key ?? foldIn(rngKey(this.seed), this.calls++);
    const noisy = tf.tidy(
      () => tf.add(data, tf.mul(randomNormal(foldIn(key, 0x51), data.shape), this.sigma)) as tf.Tensor2D,
    );
    try {
      return this.inner.compute(noisy, { ...context, key: foldIn(key, 0x52) });
    } finally {
      noisy.dispose();
    }
  }

  dispose(): void {
    this.inner.dispose?.();
  }
}
