import {
  assertKnownOptions,
  assertPositive,
  BaseEnergy,
  EbmError,
  type EnergyFunction,
  type Schedulable,
  type Scheduler,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link InteractionModel}. */
export interface InteractionModelOptions {
  /** Interaction length scale σ_W > 0. */
  readonly sigmaW: number;
  /**
   * Strength s ≥ 0 (default 1): a number, or a scheduler whose current `value` is read at each evaluation (step
   * it yourself, e.g. once per sampler step, to anneal the repulsion).
   */
  readonly strength?: Schedulable;
}

/**
 * A repulsive wrapper for diverse sampling (TorchEBM's `InteractionModel`): the batch is one interacting
 * system with per-row energies
 *
 * Eᵢ = V(xᵢ) − ½·(s/σ_W²)·Σⱼ ‖xᵢ − xⱼ‖²,
 *
 * so ∇ₓᵢ Σₖ Eₖ = ∇V(xᵢ) − (2s/σ_W²)·(B·xᵢ − Σⱼ xⱼ): each chain is pushed away from the batch mean. The pair sum is
 * computed in O(B·D) through Σⱼ‖xᵢ − xⱼ‖² = B‖xᵢ‖² − 2xᵢ·Σⱼxⱼ + Σⱼ‖xⱼ‖² (no B×B matrix). Row energies depend
 * on the whole batch, so use it with samplers that move all chains together (Langevin, gradient descent).
 */
export class InteractionModel extends BaseEnergy {
  readonly base: EnergyFunction;
  readonly sigmaW: number;
  private readonly strengthSpec: Schedulable;

  constructor(base: EnergyFunction, options: InteractionModelOptions) {
    if (base === null || typeof base !== 'object' || typeof base.energy !== 'function') {
      throw new EbmError('INVALID_PARAM', 'InteractionModel wraps an EnergyFunction.', {
        argument: 'base',
        value: base === null ? null : typeof base,
        fix: 'pass an energy, e.g. an MLPEnergy or EqMEnergy.',
      });
    }
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'InteractionModel needs options with sigmaW.', {
        argument: 'options',
        value: options,
        fix: 'pass e.g. { sigmaW: 1, strength: 0.1 }.',
      });
    }
    assertKnownOptions('InteractionModel', options, ['sigmaW', 'strength']);
    super({ dim: base.dim, name: `Interaction(${base.name})` });
    this.base = base;
    this.sigmaW = assertPositive('sigmaW', options.sigmaW);
    const s = options.strength ?? 1;
    if (typeof s === 'number') {
      if (!(s >= 0) || !Number.isFinite(s)) {
        throw new EbmError('INVALID_PARAM', 'strength must be a finite number >= 0 or a scheduler.', {
          argument: 'strength',
          value: s,
          fix: 'pass e.g. strength: 0.5.',
        });
      }
    } else if (s === null || typeof s !== 'object' || typeof (s as Scheduler).valueAt !== 'function') {
      throw new EbmError('INVALID_PARAM', 'strength must be a number or a scheduler.', {
        argument: 'strength',
        value: typeof s,
        fix: 'pass a number, or e.g. new LinearScheduler(1, 0, 100).',
      });
    }
    this.strengthSpec = s;
  }

  /** The current strength s. */
  get strength(): number {
    return typeof this.strengthSpec === 'number' ? this.strengthSpec : this.strengthSpec.value;
  }

  /** −½(s/σ_W²)·Σⱼ‖xᵢ − xⱼ‖² per row, in O(B·D). */
  interaction(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const b = x.shape[0];
      const sq = tf.sum(tf.square(x), 1);
      const sum = tf.sum(x, 0, true);
      const pair = tf.add(
        tf.sub(tf.mul(b, sq), tf.mul(2, tf.reshape(tf.matMul(x, sum, false, true), [-1]))),
        tf.sum(sq),
      );
      return tf.mul(-0.5 * (this.strength / (this.sigmaW * this.sigmaW)), pair) as tf.Tensor1D;
    });
  }

  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.add(this.base.energy(x, { checkFinite: false }), this.interaction(x)) as tf.Tensor1D;
  }

  /** ∇V(xᵢ) − (2s/σ_W²)(B·xᵢ − Σⱼxⱼ), with the base energy's own gradient. */
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const c = (2 * this.strength) / (this.sigmaW * this.sigmaW);
    const g = this.base.gradient(x, { checkFinite: false });
    if (c === 0) return g;
    return tf.sub(g, tf.mul(c, tf.sub(tf.mul(x.shape[0], x), tf.sum(x, 0, true)))) as tf.Tensor2D;
  }
}
