import {
  assertKnownOptions,
  assertOneOf,
  BaseEnergy,
  EbmError,
  type TimeField,
  timeFieldDim,
  timeFieldFn,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** How an EqM field f(x) becomes an energy (TorchEBM's `EqMEnergy(energy_type=…)`). */
export type EqMEnergyType = 'dot' | 'mean' | 'l2' | 'implicit';

/** Options of {@link EqMEnergy}. */
export interface EqMEnergyOptions {
  /**
   * `'dot'` (default): g = x·f(x); `'mean'`: g = mean over features of x ⊙ f(x); `'l2'`: g = −½‖f(x)‖²;
   * `'implicit'`: no scalar energy, the gradient is f itself (gradient-only samplers).
   */
  readonly energyType?: EqMEnergyType;
  /** Time at which the field is evaluated (default 0, EqM's time-invariant convention). */
  readonly t?: number;
  /** Feature dimension (default: the field's `dim`). */
  readonly dim?: number;
}

/**
 * Scalar adapter for an Equilibrium-Matching field (TorchEBM's `EqMEnergy`), so that MCMC samplers and gradient
 * descent can sample it. EqM trains f (or ∇ₓg for an explicit energy g) to the equilibrium gradient
 * −u_t·c(t), which points from data towards noise: f ≈ ∇E for an energy E with minima on the data. So:
 * - `dot` / `mean` / `l2`: E(x) = g(x) (the loss's `energyType`), ∇E by autograd (what the loss trained);
 * - `implicit`: ∇E(x) = f(x) directly; `energy()` raises `NOT_IMPLEMENTED` (no scalar is defined), so use it
 *   with gradient-only samplers (`GradientDescentSampler`, `NesterovSampler`, `LangevinDynamics`).
 * The field is called at time `t` (default 0).
 *
 * @example
 * ```ts
 * const eqmLoss = new EquilibriumMatchingLoss(model, { energyType: 'dot' }); // then trained with fit(...)
 * const energy = EqMEnergy.fromLoss(eqmLoss);
 * const gd = new GradientDescentSampler(energy, { stepSize: 0.05 });
 * ```
 */
export class EqMEnergy extends BaseEnergy {
  readonly field: TimeField;
  readonly energyType: EqMEnergyType;
  readonly t: number;
  private readonly fn: (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;

  constructor(field: TimeField, options: EqMEnergyOptions = {}) {
    assertKnownOptions('EqMEnergy', options, ['energyType', 'dim', 't']);
    const fn = timeFieldFn(field, 'field');
    super({ dim: options.dim ?? timeFieldDim(field), name: 'EqMEnergy' });
    this.field = field;
    this.fn = fn;
    this.energyType = assertOneOf('energyType', options.energyType ?? 'dot', [
      'dot',
      'mean',
      'l2',
      'implicit',
    ]);
    const t = options.t ?? 0;
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) {
      throw new EbmError('INVALID_PARAM', 't must be a number in [0, 1].', {
        argument: 't',
        value: t,
        fix: 'leave it out (0) for time-invariant EqM models.',
      });
    }
    this.t = t;
  }

  /**
   * The adapter matching an `EquilibriumMatchingLoss` (its model and energy type; `none` → `implicit`), at
   * t = 0 when the loss was time-invariant.
   */
  static fromLoss(loss: { readonly model: TimeField; readonly energyType: string }): EqMEnergy {
    if (loss === null || typeof loss !== 'object' || typeof loss.energyType !== 'string') {
      throw new EbmError('INVALID_PARAM', 'EqMEnergy.fromLoss needs an EquilibriumMatchingLoss.', {
        argument: 'loss',
        value: loss === null ? null : typeof loss,
        fix: 'pass the loss the field was trained with.',
      });
    }
    const type = loss.energyType === 'none' ? 'implicit' : (loss.energyType as EqMEnergyType);
    return new EqMEnergy(loss.model, { energyType: type });
  }

  private fieldAt(x: tf.Tensor2D): tf.Tensor2D {
    return this.fn(x, tf.fill([x.shape[0]], this.t) as tf.Tensor1D);
  }

  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    if (this.energyType === 'implicit') {
      throw new EbmError('NOT_IMPLEMENTED', 'An implicit EqM field has no scalar energy.', {
        argument: 'energyType',
        value: 'implicit',
        fix: 'sample it with a gradient-only sampler (GradientDescentSampler, LangevinDynamics), or train with energyType "dot" or "l2".',
      });
    }
    const f = this.fieldAt(x);
    if (this.energyType === 'l2') return tf.mul(-0.5, tf.sum(tf.square(f), 1)) as tf.Tensor1D;
    const xf = tf.mul(x, f);
    return (this.energyType === 'dot' ? tf.sum(xf, 1) : tf.mean(xf, 1)) as tf.Tensor1D;
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    if (this.energyType === 'implicit') return this.fieldAt(x);
    return tf.grad((v: tf.Tensor) => tf.sum(this.computeEnergy(v as tf.Tensor2D)))(x) as tf.Tensor2D;
  }

  protected override computeEnergyAndGradient(x: tf.Tensor2D): {
    energy: tf.Tensor1D;
    gradient: tf.Tensor2D;
  } {
    return { energy: this.computeEnergy(x), gradient: this.computeGradient(x) };
  }
}
