import type * as tf from '@tensorflow/tfjs-core';
import type { EnergyFunction } from './energy.js';
import type { RngKey } from './rng.js';

/**
 * The loss seam: a training objective for an energy. `compute` is synchronous and differentiable with respect
 * to the energy's variables, so it can be used inside `optimizer.minimize(() => loss.compute(batch).loss)`.
 * A loss receives its energy (and, where it needs negatives, its sampler) at construction.
 */
export interface LossOutput {
  /** The scalar to minimise. */
  readonly loss: tf.Scalar;
  /** Negative samples used (contrastive losses), `[B, D]`; the caller owns them. */
  readonly negatives?: tf.Tensor2D | undefined;
  /**
   * Logging metrics (loss, E⁺, E⁻, …) as scalar tensors, read by the caller when it wants them (`fit` reads
   * them with the gradient norm in one `await`; `readMetrics` of `@ebm/losses` reads them to numbers). The
   * caller owns them (one of them may be `loss` itself). Losses written for 0.1 returned host numbers here;
   * `fit` still accepts numbers.
   */
  readonly metrics: Readonly<Record<string, tf.Scalar>>;
}

/** Per-call context of a loss. */
export interface LossContext {
  /** Key for this call's randomness (noise, projections, sampler); default derived from the loss's own stream. */
  readonly key?: RngKey;
}

/** A training objective. */
export interface Loss {
  readonly name: string;
  readonly energy: EnergyFunction;
  /** Evaluates the loss on a data batch `[B, D]`. */
  compute(data: tf.Tensor2D, context?: LossContext): LossOutput;
}
