import { assertInRange, EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Exponential moving average of weights (TorchEBM's `update_ema`): after each update,
 * θ_ema ← d·θ_ema + (1 − d)·θ, with decay d (default 0.9999). Sample with the averaged weights through
 * {@link ExponentialMovingAverage.withAveraged} (swaps them in, runs, swaps back) or copy them over with
 * {@link ExponentialMovingAverage.copyTo}. The shadow weights are tfjs variables owned by this object.
 *
 * @example
 * ```ts
 * const ema = new ExponentialMovingAverage(model.trainableVariables, { decay: 0.999 });
 * await fit({ ..., onStep: () => ema.update() });
 * const r = await ema.withAveraged(() => sampler.sample({ nSamples: 1000 }));
 * ```
 */
export class ExponentialMovingAverage {
  readonly decay: number;
  readonly variables: readonly tf.Variable[];
  private readonly shadow: tf.Variable[];
  private updates = 0;

  constructor(variables: readonly tf.Variable[], options: { decay?: number } = {}) {
    if (
      !Array.isArray(variables) ||
      variables.length === 0 ||
      !variables.every((v) => v instanceof tf.Variable)
    ) {
      throw new EbmError(
        'INVALID_PARAM',
        'ExponentialMovingAverage needs a non-empty array of tf.Variables.',
        {
          argument: 'variables',
          value: Array.isArray(variables) ? variables.length : typeof variables,
          fix: 'pass model.trainableVariables.',
        },
      );
    }
    for (const k of Object.keys(options ?? {})) {
      if (k !== 'decay') {
        throw new EbmError('INVALID_PARAM', `ExponentialMovingAverage: unknown option "${k}".`, {
          argument: k,
          fix: 'the only option is decay.',
        });
      }
    }
    this.decay = assertInRange('decay', options.decay ?? 0.9999, 0, 1, { hiInclusive: false });
    this.variables = [...variables];
    this.shadow = this.variables.map((v) => tf.variable(v, false));
  }

  /** Number of updates so far. */
  get count(): number {
    return this.updates;
  }

  /** θ_ema ← d·θ_ema + (1 − d)·θ for every variable. */
  update(): void {
    const d = this.decay;
    tf.tidy(() => {
      this.variables.forEach((v, i) => {
        const s = this.shadow[i]!;
        s.assign(tf.add(tf.mul(s, d), tf.mul(v, 1 - d)));
      });
    });
    this.updates++;
  }

  /** Writes the averaged weights into the live variables (training weights are lost). */
  copyTo(): void {
    this.variables.forEach((v, i) => v.assign(this.shadow[i]!));
  }

  /** Runs `fn` with the averaged weights swapped in, then restores the training weights (also on error). */
  async withAveraged<T>(fn: () => T | Promise<T>): Promise<T> {
    const saved = this.variables.map((v) => tf.clone(v));
    this.copyTo();
    try {
      return await fn();
    } finally {
      this.variables.forEach((v, i) => v.assign(saved[i]!));
      tf.dispose(saved);
    }
  }

  /** Releases the shadow variables. */
  dispose(): void {
    for (const s of this.shadow) if (!s.isDisposed) s.dispose();
  }
}
