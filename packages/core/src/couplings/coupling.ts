import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { type RngKey, RngStream, toKey } from '../rng.js';
import { assertBatch } from '../validation.js';

/**
 * # Couplings
 *
 * A coupling pairs a minibatch of source points x₀ (noise) with target points x₁ (data) before a flow-type loss
 * builds x_t between them (TorchEBM's `couplings`). Independent pairing gives the usual conditional flow
 * matching; optimal-transport pairings (exact, Sinkhorn, greedy) straighten the paths and lower the variance of
 * the regression target (Tong et al. 2024; Pooladian et al. 2023).
 * @module
 */

/**
 * What a coupling returns (TorchEBM's `CouplingResult`): the paired batches, row i of `x0` paired with row i of
 * `x1`, and optional per-pair weights (unbalanced couplings; their mean is 1) that a loss uses in its mean.
 * The caller owns every tensor.
 */
export interface CouplingResult {
  readonly x0: tf.Tensor2D;
  readonly x1: tf.Tensor2D;
  /** Per-pair weights `[B]` with mean 1, or undefined (uniform). */
  readonly weights?: tf.Tensor1D | undefined;
}

/** The coupling seam: pairs x₀ with x₁. Inputs are never disposed or modified. */
export interface Coupling {
  /** Registry name, e.g. `'exactOt'`. */
  readonly name: string;
  /**
   * Synchronous pairing (losses call it inside `compute`). Couplings that solve an assignment on the host read
   * the cost matrix with a synchronous read: cpu / wasm only; elsewhere use {@link Coupling.coupleAsync} (the
   * `@ebm/losses` losses do, in their pre-pass `loss.prepare` that `fit` awaits before the gradient tape).
   */
  couple(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): CouplingResult;
  /** The same pairing with asynchronous host reads (every backend). */
  coupleAsync(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): Promise<CouplingResult>;
}

/** Disposes a coupling result's tensors (skipping the ones in `keep`). */
export function disposeCouplingResult(r: CouplingResult, keep: readonly tf.Tensor[] = []): void {
  for (const t of [r.x0, r.x1, r.weights])
    if (t !== undefined && !keep.includes(t) && !t.isDisposed) t.dispose();
}

/**
 * Squared-Euclidean cost C[i, j] = ‖x₀ᵢ − x₁ⱼ‖² `[n, m]` (TorchEBM's default cost), via ‖a‖² + ‖b‖² − 2a·b clamped
 * at 0. With `normalize` (default) C is divided by its maximum, so regularisation strengths are scale-free.
 */
export function squaredEuclideanCost(x0: tf.Tensor2D, x1: tf.Tensor2D, normalize = true): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.sum(tf.square(x0), 1, true);
    const b = tf.reshape(tf.sum(tf.square(x1), 1), [1, -1]);
    const c = tf.relu(tf.sub(tf.add(a, b), tf.mul(2, tf.matMul(x0, x1, false, true)))) as tf.Tensor2D;
    if (!normalize) return c;
    return tf.div(c, tf.maximum(tf.max(c), 1e-12)) as tf.Tensor2D;
  });
}

/** Base of the couplings: input checks and a key stream for calls without a key. */
export abstract class BaseCoupling implements Coupling {
  abstract readonly name: string;
  private stream: RngStream;

  constructor(seed: number | bigint | RngKey = 0) {
    this.stream = new RngStream(toKey(seed, 'seed'));
  }

  /** Validates the batches: rank 2, same dimension, and (when `sameSize`) the same number of rows. */
  protected checkPair(x0: unknown, x1: unknown, sameSize = true): [tf.Tensor2D, tf.Tensor2D] {
    const a = assertBatch('x0', x0);
    const b = assertBatch('x1', x1, a.shape[1]);
    if (sameSize && a.shape[0] !== b.shape[0]) {
      throw new EbmError('SHAPE_MISMATCH', `${this.name} pairs batches of equal size.`, {
        argument: 'x1',
        value: [a.shape[0], b.shape[0]],
        fix: 'draw as many source points as there are data points.',
      });
    }
    return [a, b];
  }

  /** The key of a call: the given one, else the next of the coupling's own stream. */
  protected keyFor(key: RngKey | undefined): RngKey {
    return key ?? this.stream.next();
  }

  abstract couple(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): CouplingResult;

  async coupleAsync(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): Promise<CouplingResult> {
    return this.couple(x0, x1, key);
  }
}

/** Rows of `x1` picked by column index per row: x₁[σ(i)]. */
export function gatherRows(x1: tf.Tensor2D, index: Int32Array | tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const idx = index instanceof tf.Tensor ? index : tf.tensor1d(index, 'int32');
    return tf.gather(x1, idx) as tf.Tensor2D;
  });
}

/** Identity pairing (TorchEBM's `IndependentCoupling`): x₀ and x₁ as given (copies). */
export class IndependentCoupling extends BaseCoupling {
  readonly name = 'independent';
  couple(x0: tf.Tensor2D, x1: tf.Tensor2D): CouplingResult {
    const [a, b] = this.checkPair(x0, x1);
    return { x0: tf.clone(a), x1: tf.clone(b) };
  }
}
