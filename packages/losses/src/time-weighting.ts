import {
  assertFiniteNumber,
  assertInRange,
  assertOneOf,
  assertPositive,
  type Interpolant,
  type RngKey,
  randomNormal,
  randomUniform,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The time distribution and per-sample loss weights shared by the interpolant-path losses
 * ({@link FlowMatchingLoss}, {@link EquilibriumMatchingLoss}): parsing and validating the options once, drawing t,
 * and w(t).
 */

/** Time distributions of the path losses. */
export type TimeSampler = 'uniform' | 'logitNormal';

/** Built-in loss weights w(t) (TorchEBM EqM's `loss_weight`), or a function of t `[B]` → `[B]`. */
export type FlowLossWeight = 'none' | 'velocity' | 'likelihood' | ((t: tf.Tensor1D) => tf.Tensor1D);

/** The time-sampling options as users write them. */
export interface TimeSamplingOptions {
  /** t ~ U[eps, 1 − eps] (`'uniform'`, default) or sigmoid(N(m, s²)) (`'logitNormal'`, alias `'lognormal'`). */
  readonly timeSampler?: TimeSampler | 'lognormal';
  /** eps of the uniform times (TorchEBM's `train_eps`, default 0; in [0, 0.5)). */
  readonly trainEps?: number;
  /** Logit-normal location m (default 0). */
  readonly logitMean?: number;
  /** Logit-normal scale s > 0 (default 1). */
  readonly logitStd?: number;
}

/** The validated time-sampling settings. */
export interface TimeSampling {
  readonly timeSampler: TimeSampler;
  readonly trainEps: number;
  readonly logitMean: number;
  readonly logitStd: number;
}

/** Validates the time-sampling options (each bad value is an `EbmError` naming it) and fills the defaults. */
export function resolveTimeSampling(options: TimeSamplingOptions): TimeSampling {
  const ts = options.timeSampler === 'lognormal' ? 'logitNormal' : (options.timeSampler ?? 'uniform');
  return {
    timeSampler: assertOneOf('timeSampler', ts, ['uniform', 'logitNormal']),
    trainEps: assertInRange('trainEps', options.trainEps ?? 0, 0, 0.5, { hiInclusive: false }),
    logitMean: assertFiniteNumber('logitMean', options.logitMean ?? 0),
    logitStd: assertPositive('logitStd', options.logitStd ?? 1),
  };
}

/** Times `[n]`: eps + (1 − 2·eps)·U[0, 1) (`'uniform'`), or sigmoid(m + s·N(0, 1)) (`'logitNormal'`). */
export function sampleTimes(s: TimeSampling, key: RngKey, n: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (s.timeSampler === 'uniform') {
      const u = randomUniform(key, [n]);
      return tf.add(s.trainEps, tf.mul(u, 1 - 2 * s.trainEps)) as tf.Tensor1D;
    }
    const z = randomNormal(key, [n]);
    return tf.sigmoid(tf.add(s.logitMean, tf.mul(z, s.logitStd))) as tf.Tensor1D;
  });
}

/** Validates a `lossWeight` option (a built-in name or a function; default `'none'`). */
export function resolveLossWeight(lossWeight: FlowLossWeight | undefined): FlowLossWeight {
  const lw = lossWeight ?? 'none';
  if (typeof lw !== 'function') assertOneOf('lossWeight', lw, ['none', 'velocity', 'likelihood']);
  return lw;
}

/**
 * Per-sample weight w(t) `[B]`, or `undefined` for `'none'`: `'velocity'` (λ(t)/σ(t))², `'likelihood'` λ(t)/σ(t)²
 * with λ the interpolant's drift variance and σ(t) its noise coefficient; a function is called on t.
 */
export function lossWeightAt(
  lossWeight: FlowLossWeight,
  interpolant: Interpolant,
  t: tf.Tensor1D,
): tf.Tensor1D | undefined {
  if (typeof lossWeight === 'function') return lossWeight(t);
  if (lossWeight === 'none') return undefined;
  const lam = interpolant.driftVar(t);
  const s = tf.reshape(interpolant.coefficients(t).sigma, [-1]);
  return (lossWeight === 'velocity' ? tf.square(tf.div(lam, s)) : tf.div(lam, tf.square(s))) as tf.Tensor1D;
}
