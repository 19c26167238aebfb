import { type KernelHint, normalArray, type RngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { AnalyticEnergy } from './base.js';
import {
  assertSampleCount,
  cholesky,
  keptTensor,
  logDetFromCholesky,
  precisionFromCholesky,
  readSquareMatrix,
  readVector,
  toRows,
} from './linalg.js';

/** A matrix argument: nested rows or a rank-2 tensor. */
export type MatrixLike =
  | readonly (readonly number[])[]
  | readonly Float32Array[]
  | readonly Float64Array[]
  | tf.Tensor2D;
/** A vector argument: numbers, a typed array or a rank-1 tensor. */
export type VectorLike = readonly number[] | Float32Array | Float64Array | tf.Tensor1D;

/** Options of {@link Gaussian}. */
export interface GaussianOptions {
  /** Mean μ, length D. */
  readonly mean: VectorLike;
  /** Covariance Σ, D×D symmetric positive definite (default the identity). */
  readonly covariance?: MatrixLike;
}

/**
 * Multivariate Gaussian energy (TorchEBM `GaussianModel`), without normalising constant:
 * E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ), ∇E = Σ⁻¹ (x − μ).
 *
 * Σ is validated on the host in float64 (square, matching μ, symmetric, positive definite through its Cholesky
 * factor L, Σ = L·Lᵀ) and the precision is formed as Σ⁻¹ = L⁻ᵀ·L⁻¹ (no general inverse), so invalid input
 * fails with `SHAPE_MISMATCH` / `INVALID_PARAM` / `NON_FINITE` at construction.
 * Known facts: {@link Gaussian.mean}, {@link Gaussian.covariance}, {@link Gaussian.logNormalizer}
 * (log ∫exp(−E) = (D/2)·log 2π + ½·log det Σ); exact samples x = μ + L·z by {@link Gaussian.sample}.
 * `kernelHint`: `{ kind: 'gaussian', params: { mean, precision } }`.
 * Owns two small tensors: call {@link AnalyticEnergy.dispose} when done.
 *
 * @example
 * ```ts
 * const g = new Gaussian({ mean: [1, -1], covariance: [[1, 0.5], [0.5, 2]] });
 * const x = g.sample(1000, rngKey(0)); // exact draws
 * const e = g.energy(x);
 * ```
 */
export class Gaussian extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'gaussian'>;
  /** μ. */
  readonly mean: readonly number[];
  /** Σ. */
  readonly covariance: readonly (readonly number[])[];
  /** Σ⁻¹ (float64 on the host). */
  readonly precision: readonly (readonly number[])[];
  /** Lower Cholesky factor L with Σ = L·Lᵀ. */
  readonly choleskyFactor: readonly (readonly number[])[];
  /** log ∫exp(−E(x))dx = (D/2)·log 2π + ½·log det Σ, so log p(x) = −E(x) − logNormalizer. */
  readonly logNormalizer: number;
  private readonly mu: Float64Array;
  private readonly L: Float64Array;
  private readonly muT: tf.Tensor2D;
  private readonly precT: tf.Tensor2D;

  constructor(options: GaussianOptions) {
    const mu = readVector('mean', options?.mean);
    const d = mu.length;
    const cov =
      options.covariance === undefined
        ? { n: d, data: identity(d) }
        : readSquareMatrix('covariance', options.covariance, d);
    const L = cholesky('covariance', cov);
    super({ dim: d, name: 'Gaussian' });
    const P = precisionFromCholesky(L, d);
    this.mu = mu;
    this.L = L;
    this.mean = Array.from(mu);
    this.covariance = toRows(cov.data, d);
    this.precision = toRows(P, d);
    this.choleskyFactor = toRows(L, d);
    this.logNormalizer = (d / 2) * Math.log(2 * Math.PI) + 0.5 * logDetFromCholesky(L, d);
    this.muT = this.own(keptTensor(mu, [1, d]) as tf.Tensor2D);
    this.precT = this.own(keptTensor(P, [d, d]) as tf.Tensor2D);
    this.kernelHint = { kind: 'gaussian', params: { mean: this.mean, precision: this.precision } };
  }

  /** The single mode: `[mean]`. */
  modes(): number[][] {
    return [[...this.mean]];
  }

  /** log p(x) = −E(x) − logNormalizer, per row. */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    const e = this.energy(x);
    const out = tf.sub(tf.neg(e), this.logNormalizer) as tf.Tensor1D;
    e.dispose();
    return out;
  }

  /**
   * Exact samples `[n, D]`: x = μ + L·z, z = `normalArray(key, [n, D])`, computed on the host in float64 and
   * rounded to float32 (identical on every backend for a given key).
   */
  sample(n: number, key: RngKey): tf.Tensor2D {
    const d = this.mu.length;
    const z = normalArray(key, [assertSampleCount(n), d]);
    const out = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let i = 0; i < d; i++) {
        let s = this.mu[i]!;
        for (let k = 0; k <= i; k++) s += this.L[i * d + k]! * z[o + k]!;
        out[o + i] = s;
      }
    }
    return tf.tensor2d(out, [n, d], 'float32');
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const diff = tf.sub(x, this.muT);
    return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(diff, this.precT), diff), 1));
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(tf.sub(x, this.muT), this.precT);
  }
}

/** The n×n identity, row-major float64. */
export function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}
