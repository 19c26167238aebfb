import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertBatch, assertFiniteNumber, assertNonNegative, assertTensor } from '../validation.js';

/**
 * Interpolants between noise x₀ ~ N(0, I) (t = 0) and data x₁ (t = 1), TorchEBM's `BaseInterpolant`:
 *
 * x_t = α(t)·x₁ + σ(t)·x₀,  u_t = α̇(t)·x₁ + σ̇(t)·x₀ (the conditional velocity).
 *
 * With the score s(x, t) = ∇log p_t(x) = −E[x₀ | x_t = x]/σ and the marginal velocity v = E[u_t | x_t = x]:
 * v = (α̇/α)·x + λ(t)·s with λ(t) = (α̇/α)σ² − σσ̇ (the "drift variance"), and the noise ε = E[x₀ | x] = −σ·s.
 * Times are `[B]` tensors (one per row); every method returns tensors the caller owns.
 * @module
 */

/** α, σ and their time derivatives at t (tensors of t's shape). */
export interface InterpolantCoefficients {
  readonly alpha: tf.Tensor;
  readonly sigma: tf.Tensor;
  readonly dAlpha: tf.Tensor;
  readonly dSigma: tf.Tensor;
}

/**
 * Diffusion coefficient w(t) of the SDE dx = [v + w·s]dt + √(2w)dW (every w ≥ 0 keeps the marginals p_t), times
 * `norm` (TorchEBM's `compute_diffusion` forms):
 * `constant` 1; `SBDM` λ(t)/(σ + 1e-8); `sigma` σ(t); `linear` 1 − t; `decreasing` (1 − t)²;
 * `increasingDecreasing` 4t(1 − t) (alias `increasing-decreasing`).
 */
export type DiffusionForm = 'constant' | 'SBDM' | 'sigma' | 'linear' | 'decreasing' | 'increasingDecreasing';

/** Every diffusion form. */
export const DIFFUSION_FORMS: readonly DiffusionForm[] = [
  'constant',
  'SBDM',
  'sigma',
  'linear',
  'decreasing',
  'increasingDecreasing',
];

/** Validates a diffusion form (accepts TorchEBM's `increasing-decreasing` spelling). */
export function assertDiffusionForm(value: unknown, argument = 'diffusionForm'): DiffusionForm {
  if (value === 'increasing-decreasing') return 'increasingDecreasing';
  if (typeof value !== 'string' || !(DIFFUSION_FORMS as readonly string[]).includes(value)) {
    throw new EbmError('INVALID_PARAM', `Unknown diffusion form ${JSON.stringify(value)}.`, {
      argument,
      value,
      fix: `use one of ${DIFFUSION_FORMS.join(', ')}.`,
    });
  }
  return value as DiffusionForm;
}

/** `[B]` → `[B, 1]` (so a per-row time broadcasts over features). TorchEBM's `expand_t_like_x`. */
export function expandTime(t: tf.Tensor): tf.Tensor {
  return t.rank === 1 ? tf.reshape(t, [-1, 1]) : t;
}

function checkTime(t: unknown): tf.Tensor1D {
  if (t instanceof tf.Tensor && !t.isDisposed && t.rank !== 1) {
    throw new EbmError('SHAPE_MISMATCH', 'Interpolant times must be a [B] tensor.', {
      argument: 't',
      value: t.shape,
      fix: 'pass one time per row, e.g. tf.fill([B], 0.5).',
    });
  }
  return assertTensor('t', t, { rank: 1 }) as tf.Tensor1D;
}

/** Base of the interpolants: subclasses give α, σ, α̇, σ̇ (and may refine α̇/α or the drift). */
export abstract class Interpolant {
  /** Registry name. */
  abstract readonly name: string;

  /** α(t), σ(t), α̇(t), σ̇(t). */
  abstract coefficients(t: tf.Tensor): InterpolantCoefficients;

  /** α̇/α (finite at α = 0 where the subclass knows how). */
  alphaRatio(t: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const c = this.coefficients(t);
      return tf.div(c.dAlpha, tf.maximum(c.alpha, 1e-8));
    });
  }

  /** x_t = αx₁ + σx₀ and u_t = α̇x₁ + σ̇x₀ for rows of noise x₀, data x₁ and times t `[B]`. */
  interpolate(x0: tf.Tensor2D, x1: tf.Tensor2D, t: tf.Tensor1D): { xt: tf.Tensor2D; ut: tf.Tensor2D } {
    assertBatch('x0', x0);
    assertBatch('x1', x1, x0.shape[1]);
    if (x1.shape[0] !== x0.shape[0] || checkTime(t).shape[0] !== x0.shape[0]) {
      throw new EbmError('SHAPE_MISMATCH', 'x0, x1 and t must have one row (time) each per sample.', {
        argument: 't',
        value: [x0.shape, x1.shape, (t as tf.Tensor).shape],
        fix: 'pass x0 and x1 [B, D] and t [B].',
      });
    }
    const [xt, ut] = tf.tidy(() => {
      const c = this.coefficients(expandTime(t));
      return [
        tf.add(tf.mul(c.alpha, x1), tf.mul(c.sigma, x0)) as tf.Tensor2D,
        tf.add(tf.mul(c.dAlpha, x1), tf.mul(c.dSigma, x0)) as tf.Tensor2D,
      ];
    });
    return { xt: xt!, ut: ut! };
  }

  /** λ(t) = (α̇/α)σ² − σσ̇ `[B]` (TorchEBM's `drift_var`). */
  driftVar(t: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const c = this.coefficients(t);
      return tf.sub(tf.mul(this.alphaRatio(t), tf.square(c.sigma)), tf.mul(c.sigma, c.dSigma)) as tf.Tensor1D;
    });
  }

  /**
   * TorchEBM's `compute_drift`: `mean` = −(α̇/α)·x `[B, D]` and `variance` = λ(t) `[B]`, so that the velocity
   * of a score s is v = −mean + λ·s.
   */
  drift(x: tf.Tensor2D, t: tf.Tensor1D): { mean: tf.Tensor2D; variance: tf.Tensor1D } {
    checkTime(t);
    const mean = tf.tidy(() => tf.neg(tf.mul(expandTime(this.alphaRatio(t)), x)) as tf.Tensor2D);
    return { mean, variance: this.driftVar(t) };
  }

  /** Diffusion coefficient w(t) `[B]` of the given form times `norm` (see {@link DiffusionForm}). */
  diffusion(t: tf.Tensor1D, form: DiffusionForm = 'constant', norm = 1): tf.Tensor1D {
    checkTime(t);
    const f = assertDiffusionForm(form, 'form');
    const n = assertNonNegative('norm', norm);
    return tf.tidy(() => {
      let w: tf.Tensor;
      switch (f) {
        case 'constant':
          w = tf.onesLike(t);
          break;
        case 'SBDM':
          w = tf.div(this.driftVar(t), tf.add(this.coefficients(t).sigma, 1e-8));
          break;
        case 'sigma':
          w = this.coefficients(t).sigma;
          break;
        case 'linear':
          w = tf.sub(1, t);
          break;
        case 'decreasing':
          w = tf.square(tf.sub(1, t));
          break;
        case 'increasingDecreasing':
          w = tf.mul(4, tf.mul(t, tf.sub(1, t)));
          break;
      }
      return tf.mul(w, n) as tf.Tensor1D;
    });
  }

  /**
   * Score from a velocity (SiT's form, finite at α = 0): s = ((α/α̇)·v − x) / (σ² − (α/α̇)σσ̇).
   */
  velocityToScore(v: tf.Tensor2D, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    checkTime(t);
    return tf.tidy(() => {
      const c = this.coefficients(expandTime(t));
      const r = tf.div(c.alpha, tf.maximum(c.dAlpha, 1e-8));
      const variance = tf.sub(tf.square(c.sigma), tf.mul(r, tf.mul(c.sigma, c.dSigma)));
      return tf.div(tf.sub(tf.mul(r, v), x), variance) as tf.Tensor2D;
    });
  }

  /** Velocity from a score: v = (α̇/α)·x + λ(t)·s. */
  scoreToVelocity(s: tf.Tensor2D, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    checkTime(t);
    return tf.tidy(
      () =>
        tf.add(
          tf.mul(expandTime(this.alphaRatio(t)), x),
          tf.mul(expandTime(this.driftVar(t)), s),
        ) as tf.Tensor2D,
    );
  }

  /** Score from a noise prediction: s = −ε/σ (σ floored at 1e-8). */
  noiseToScore(eps: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    checkTime(t);
    return tf.tidy(
      () => tf.div(tf.neg(eps), tf.maximum(expandTime(this.coefficients(t).sigma), 1e-8)) as tf.Tensor2D,
    );
  }

  /** Noise from a score: ε = −σ·s. */
  scoreToNoise(s: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    checkTime(t);
    return tf.tidy(() => tf.neg(tf.mul(expandTime(this.coefficients(t).sigma), s)) as tf.Tensor2D);
  }

  /** Noise from a velocity: ε = −σ·velocityToScore(v). */
  velocityToNoise(v: tf.Tensor2D, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => this.scoreToNoise(this.velocityToScore(v, x, t), t));
  }

  /** Velocity from a noise prediction: scoreToVelocity(−ε/σ). */
  noiseToVelocity(eps: tf.Tensor2D, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => this.scoreToVelocity(this.noiseToScore(eps, t), x, t));
  }
}

/** Linear (rectified-flow / OT path): α = t, σ = 1 − t; α̇/α = 1/max(t, 1e-8). */
export class LinearInterpolant extends Interpolant {
  readonly name = 'linear';
  coefficients(t: tf.Tensor): InterpolantCoefficients {
    return { alpha: tf.clone(t), sigma: tf.sub(1, t), dAlpha: tf.onesLike(t), dSigma: tf.fill(t.shape, -1) };
  }
  override alphaRatio(t: tf.Tensor): tf.Tensor {
    return tf.div(1, tf.maximum(t, 1e-8));
  }
}

/** Cosine (trigonometric, variance-preserving) path: α = sin(πt/2), σ = cos(πt/2). */
export class CosineInterpolant extends Interpolant {
  readonly name = 'cosine';
  coefficients(t: tf.Tensor): InterpolantCoefficients {
    return tf.tidy(() => {
      const a = tf.mul(t, Math.PI / 2);
      const s = tf.sin(a);
      const c = tf.cos(a);
      return { alpha: s, sigma: c, dAlpha: tf.mul(c, Math.PI / 2), dSigma: tf.mul(s, -Math.PI / 2) };
    });
  }
}

/** Options of {@link VariancePreservingInterpolant}. */
export interface VariancePreservingOptions {
  /** β at t = 1 (default 0.1). */
  readonly sigmaMin?: number;
  /** β at t = 0 (default 20). */
  readonly sigmaMax?: number;
}

/**
 * Variance-preserving (DDPM / VP-SDE) path with a linear β schedule: log α = −¼(1 − t)²(σmax − σmin) −
 * ½(1 − t)σmin, σ = √max(1 − α², 1e-12), so α̇/α = ½β_t with β_t = σmin + (1 − t)(σmax − σmin),
 * σ̇ = −αα̇/σ. Its drift is (−½β_t·x, β_t/2) (α² + σ² = 1).
 */
export class VariancePreservingInterpolant extends Interpolant {
  readonly name = 'vp';
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  constructor(options: VariancePreservingOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'VariancePreservingInterpolant options must be an object.', {
        argument: 'options',
        value: options,
        fix: 'pass { sigmaMin, sigmaMax } or nothing.',
      });
    }
    for (const k of Object.keys(options)) {
      if (k !== 'sigmaMin' && k !== 'sigmaMax') {
        throw new EbmError('INVALID_PARAM', `VariancePreservingInterpolant: unknown option "${k}".`, {
          argument: k,
          fix: 'known options: sigmaMin, sigmaMax.',
        });
      }
    }
    this.sigmaMin = assertNonNegative('sigmaMin', options.sigmaMin ?? 0.1);
    this.sigmaMax = assertFiniteNumber('sigmaMax', options.sigmaMax ?? 20);
    if (!(this.sigmaMax > this.sigmaMin)) {
      throw new EbmError('INVALID_PARAM', 'sigmaMax must be > sigmaMin.', {
        argument: 'sigmaMax',
        value: [this.sigmaMin, this.sigmaMax],
        fix: 'use e.g. sigmaMin: 0.1, sigmaMax: 20.',
      });
    }
  }
  private beta(t: tf.Tensor): tf.Tensor {
    return tf.add(this.sigmaMin, tf.mul(tf.sub(1, t), this.sigmaMax - this.sigmaMin));
  }
  coefficients(t: tf.Tensor): InterpolantCoefficients {
    return tf.tidy(() => {
      const u = tf.sub(1, t);
      const logA = tf.sub(
        tf.mul(tf.square(u), -0.25 * (this.sigmaMax - this.sigmaMin)),
        tf.mul(u, 0.5 * this.sigmaMin),
      );
      const alpha = tf.exp(logA);
      const dAlpha = tf.mul(alpha, tf.mul(this.beta(t), 0.5));
      const sigma = tf.sqrt(tf.maximum(tf.sub(1, tf.square(alpha)), 1e-12));
      const dSigma = tf.neg(tf.div(tf.mul(alpha, dAlpha), sigma));
      return { alpha, sigma, dAlpha, dSigma };
    });
  }
  override alphaRatio(t: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(this.beta(t), 0.5));
  }
  override driftVar(t: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.beta(t), 0.5) as tf.Tensor1D);
  }
}

/** Registry names of the built-in interpolants. */
export type InterpolantName = 'linear' | 'cosine' | 'vp';

/** An interpolant instance or a registry name. */
export type InterpolantSpec = Interpolant | InterpolantName | 'variancePreserving';

/** A new built-in interpolant by name (`linear`, `cosine`, `vp` / `variancePreserving` with defaults). */
export function getInterpolant(name: string): Interpolant {
  switch (name) {
    case 'linear':
      return new LinearInterpolant();
    case 'cosine':
      return new CosineInterpolant();
    case 'vp':
    case 'variancePreserving':
    case 'variance_preserving':
      return new VariancePreservingInterpolant();
    default:
      throw new EbmError('INVALID_PARAM', `Unknown interpolant ${JSON.stringify(name)}.`, {
        argument: 'interpolant',
        value: name,
        fix: 'use linear, cosine or vp, or pass an Interpolant instance.',
      });
  }
}

/** TorchEBM's `resolve_interpolant`: a name or an instance (default `linear`) → an {@link Interpolant}. */
export function resolveInterpolant(spec: InterpolantSpec | undefined, owner?: string): Interpolant {
  if (spec === undefined) return new LinearInterpolant();
  if (typeof spec === 'string') return getInterpolant(spec);
  if (
    spec instanceof Interpolant ||
    (spec !== null &&
      typeof spec === 'object' &&
      typeof (spec as Interpolant).coefficients === 'function' &&
      typeof (spec as Interpolant).interpolate === 'function')
  ) {
    return spec;
  }
  throw new EbmError(
    'INVALID_PARAM',
    `${owner ? `${owner}: ` : ''}interpolant must be a name or an Interpolant.`,
    {
      argument: 'interpolant',
      value: spec === null ? null : typeof spec,
      fix: 'use linear, cosine or vp, or pass new LinearInterpolant().',
    },
  );
}
