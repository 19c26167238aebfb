import {
  assertPositive,
  EbmError,
  type KernelHint,
  normalArray,
  type RngKey,
  splitKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { AnalyticEnergy } from './base.js';
import { identity, type MatrixLike, type VectorLike } from './gaussian.js';
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

/** Options of {@link GaussianMixture}. */
export interface GaussianMixtureOptions {
  /** Component means μₖ: K rows of length D. */
  readonly means: readonly VectorLike[];
  /** Mixture weights wₖ > 0 (normalised to sum 1; default equal). */
  readonly weights?: VectorLike;
  /** Component covariances Σₖ (each D×D SPD). Default: `std²·I` for every component. */
  readonly covariances?: readonly MatrixLike[];
  /** Isotropic standard deviation used when `covariances` is omitted (default 1). */
  readonly std?: number;
}

/**
 * Gaussian-mixture energy, normalised (log Z = 0):
 * E(x) = −log Σₖ wₖ·N(x; μₖ, Σₖ) = −logsumexp_k [log wₖ − ½(x−μₖ)ᵀΣₖ⁻¹(x−μₖ) − ½ log det Σₖ − (D/2) log 2π],
 * ∇E = Σₖ rₖ(x)·Σₖ⁻¹(x − μₖ), with responsibilities rₖ(x) = softmaxₖ of the bracket.
 * Known facts: `weights`, `means`, `covariances`, the mixture {@link GaussianMixture.mean} Σwₖμₖ and
 * {@link GaussianMixture.covariance} Σwₖ(Σₖ + μₖμₖᵀ) − μμᵀ; exact samples by {@link GaussianMixture.sample}.
 * `kernelHint`: `{ kind: 'gaussianMixture', params: { logWeights, means, precisions, logDets } }`, where
 * `precisions` stacks the K precision matrices Σₖ⁻¹ as K·D rows of length D.
 */
export class GaussianMixture extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'gaussianMixture'>;
  /** Normalised weights. */
  readonly weights: readonly number[];
  /** Component means. */
  readonly means: readonly (readonly number[])[];
  /** Component covariances. */
  readonly covariances: readonly (readonly (readonly number[])[])[];
  /** Mixture mean Σₖ wₖ μₖ. */
  readonly mean: readonly number[];
  /** Mixture covariance Σₖ wₖ (Σₖ + μₖμₖᵀ) − μμᵀ. */
  readonly covariance: readonly (readonly number[])[];
  /** The energy is a normalised −log density: log ∫exp(−E) = 0. */
  readonly logNormalizer = 0;
  /** Number of components K. */
  readonly nComponents: number;
  private readonly mus: Float64Array[];
  private readonly Ls: Float64Array[];
  private readonly cumWeights: Float64Array;
  private readonly musT: tf.Tensor3D;
  private readonly precT: tf.Tensor3D;
  private readonly logcT: tf.Tensor2D;

  constructor(options: GaussianMixtureOptions) {
    if (!options || !Array.isArray(options.means) || options.means.length < 1) {
      throw new EbmError('INVALID_PARAM', 'means must be a non-empty array of component means.', {
        argument: 'means',
        value: options?.means,
        fix: 'pass means such as [[-2, 0], [2, 0]].',
      });
    }
    const mus = options.means.map((m, k) => readVector(`means[${k}]`, m));
    const d = mus[0]!.length;
    const K = mus.length;
    mus.forEach((m, k) => {
      if (m.length !== d) {
        throw new EbmError('SHAPE_MISMATCH', `means[${k}] has length ${m.length}, expected ${d}.`, {
          argument: `means[${k}]`,
          value: m.length,
          fix: 'give every component mean the same dimension.',
        });
      }
    });
    const w =
      options.weights === undefined ? new Float64Array(K).fill(1) : readVector('weights', options.weights);
    if (w.length !== K) {
      throw new EbmError('SHAPE_MISMATCH', `weights has ${w.length} entries but there are ${K} means.`, {
        argument: 'weights',
        value: w.length,
        fix: 'pass one weight per component.',
      });
    }
    let total = 0;
    for (let k = 0; k < K; k++) {
      if (!(w[k]! > 0)) {
        throw new EbmError('INVALID_PARAM', `weights[${k}] must be > 0.`, {
          argument: 'weights',
          value: w[k],
          fix: 'pass positive weights (they are normalised to sum 1); drop components with weight 0.',
        });
      }
      total += w[k]!;
    }
    for (let k = 0; k < K; k++) w[k] = w[k]! / total;
    let covs: { n: number; data: Float64Array }[];
    if (options.covariances === undefined) {
      const s = assertPositive('std', options.std ?? 1);
      covs = mus.map(() => ({ n: d, data: identity(d).map((v) => v * s * s) }));
    } else {
      if (!Array.isArray(options.covariances) || options.covariances.length !== K) {
        throw new EbmError('SHAPE_MISMATCH', `covariances must hold ${K} matrices (one per mean).`, {
          argument: 'covariances',
          value: Array.isArray(options.covariances) ? options.covariances.length : typeof options.covariances,
          fix: 'pass one D×D covariance per component, or omit it and set std.',
        });
      }
      covs = options.covariances.map((c, k) => readSquareMatrix(`covariances[${k}]`, c, d));
    }
    const Ls = covs.map((c, k) => cholesky(`covariances[${k}]`, c));
    super({ dim: d, name: 'GaussianMixture' });
    this.nComponents = K;
    this.mus = mus;
    this.Ls = Ls;
    this.weights = Array.from(w);
    this.means = mus.map((m) => Array.from(m));
    this.covariances = covs.map((c) => toRows(c.data, d));
    const cum = new Float64Array(K);
    let acc = 0;
    for (let k = 0; k < K; k++) {
      acc += w[k]!;
      cum[k] = acc;
    }
    cum[K - 1] = 1;
    this.cumWeights = cum;
    // Moments.
    const mean = new Float64Array(d);
    for (let k = 0; k < K; k++) for (let i = 0; i < d; i++) mean[i] = mean[i]! + w[k]! * mus[k]![i]!;
    const cov = new Float64Array(d * d);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          cov[i * d + j] = cov[i * d + j]! + w[k]! * (covs[k]!.data[i * d + j]! + mus[k]![i]! * mus[k]![j]!);
        }
      }
    }
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) cov[i * d + j] = cov[i * d + j]! - mean[i]! * mean[j]!;
    this.mean = Array.from(mean);
    this.covariance = toRows(cov, d);
    // Constant tensors.
    const precs = Ls.map((L) => precisionFromCholesky(L, d));
    const logDets = Ls.map((L) => logDetFromCholesky(L, d));
    const logc = logDets.map((ld, k) => Math.log(w[k]!) - 0.5 * ld - (d / 2) * Math.log(2 * Math.PI));
    const flatMu = new Float64Array(K * d);
    mus.forEach((m, k) => flatMu.set(m, k * d));
    const flatP = new Float64Array(K * d * d);
    precs.forEach((p, k) => flatP.set(p, k * d * d));
    this.musT = this.own(keptTensor(flatMu, [K, 1, d]) as tf.Tensor3D);
    this.precT = this.own(keptTensor(flatP, [K, d, d]) as tf.Tensor3D);
    this.logcT = this.own(keptTensor(logc, [K, 1]) as tf.Tensor2D);
    this.kernelHint = {
      kind: 'gaussianMixture',
      params: {
        logWeights: this.weights.map(Math.log),
        means: this.means,
        precisions: precs.flatMap((p) => toRows(p, d)),
        logDets,
      },
    };
  }

  /** log p(x) = −E(x) per row (the mixture is normalised). */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    const e = this.energy(x);
    const out = tf.neg(e) as tf.Tensor1D;
    e.dispose();
    return out;
  }

  /** Exact samples with their component indices: see {@link GaussianMixture.sample}. */
  sampleWithComponents(n: number, key: RngKey): { samples: tf.Tensor2D; components: Int32Array } {
    const d = this.mus[0]!.length;
    const [kc, kz] = splitKey(key, 2) as [RngKey, RngKey];
    const u = uniformArray(kc, [assertSampleCount(n), 1]);
    const z = normalArray(kz, [n, d]);
    const out = new Float32Array(n * d);
    const comps = new Int32Array(n);
    const K = this.nComponents;
    for (let r = 0; r < n; r++) {
      const ur = u[r]!;
      let c = 0;
      while (c < K - 1 && ur >= this.cumWeights[c]!) c++;
      comps[r] = c;
      const mu = this.mus[c]!;
      const L = this.Ls[c]!;
      const o = r * d;
      for (let i = 0; i < d; i++) {
        let s = mu[i]!;
        for (let k = 0; k <= i; k++) s += L[i * d + k]! * z[o + k]!;
        out[o + i] = s;
      }
    }
    return { samples: tf.tensor2d(out, [n, d], 'float32'), components: comps };
  }

  /**
   * Exact samples `[n, D]`: component c with P(c = k) = wₖ from `uniformArray(k₁, [n, 1])`, then
   * x = μ_c + L_c·z with z = `normalArray(k₂, [n, D])`, where [k₁, k₂] = `splitKey(key, 2)`. Host float64.
   */
  sample(n: number, key: RngKey): tf.Tensor2D {
    return this.sampleWithComponents(n, key).samples;
  }

  /** Log-density of each component plus its log weight, `[K, B]`. */
  private componentTerms(x: tf.Tensor2D): { logp: tf.Tensor2D; q: tf.Tensor3D } {
    const diff = tf.sub(tf.expandDims(x, 0), this.musT) as tf.Tensor3D; // [K, B, D]
    const q = tf.matMul(diff, this.precT) as tf.Tensor3D; // [K, B, D]
    const quad = tf.sum(tf.mul(q, diff), 2); // [K, B]
    const logp = tf.sub(this.logcT, tf.mul(0.5, quad)) as tf.Tensor2D;
    return { logp, q };
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const { logp } = this.componentTerms(x);
    return tf.neg(tf.logSumExp(logp, 0)) as tf.Tensor1D;
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const { logp, q } = this.componentTerms(x);
    const r = tf.exp(tf.sub(logp, tf.logSumExp(logp, 0, true))); // [K, B]
    return tf.sum(tf.mul(tf.expandDims(r, 2), q), 0) as tf.Tensor2D;
  }
}
