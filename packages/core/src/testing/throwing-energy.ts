import type * as tf from '@tensorflow/tfjs-core';
import type { EnergyFunction, EvalOptions } from '../energy.js';

/**
 * An energy for error-path tests ("no tensor leaks when the energy throws mid-run", with `expectNoLeaks`):
 * delegates to `base` and throws `Error(message)` on the `failAt`-th gradient evaluation (`gradient` or
 * `energyAndGradient`; `energy` alone is not counted), counted in `calls` until {@link ThrowingEnergy.reset}.
 * It carries no `kernelHint`, so samplers run their step loop on it (where the throw happens between tensor
 * ops); `failAt` may be changed between runs (`Infinity`: never throw).
 *
 * @example
 * ```ts
 * const e = new ThrowingEnergy(energy, 2); // throws on its 2nd gradient evaluation
 * const mala = new MALA(e, { stepSize: 0.1 });
 * await expectNoLeaks(() => expect(() => mala.step(mala.init(x0), key)).toThrowError(/energy failed/));
 * // … and the same for sample(), with failAt = 1, 2, … up to a whole run
 * ```
 */
export class ThrowingEnergy implements EnergyFunction {
  readonly name = 'Throwing';
  /** Gradient evaluations since construction or the last {@link ThrowingEnergy.reset}. */
  calls = 0;

  constructor(
    private readonly base: EnergyFunction,
    /** The gradient evaluation (1-based) that throws. */
    public failAt: number,
    private readonly message = 'energy failed mid-run',
  ) {}

  get dim(): number | undefined {
    return this.base.dim;
  }

  /** Starts counting again from zero. */
  reset(): void {
    this.calls = 0;
  }

  private tick(): void {
    this.calls++;
    if (this.calls === this.failAt) throw new Error(this.message);
  }

  energy(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor1D {
    return this.base.energy(x, options);
  }

  gradient(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor2D {
    this.tick();
    return this.base.gradient(x, options);
  }

  energyAndGradient(x: tf.Tensor2D, options?: EvalOptions): { energy: tf.Tensor1D; gradient: tf.Tensor2D } {
    this.tick();
    return this.base.energyAndGradient(x, options);
  }
}
