import {
  assertInteger,
  assertOneOf,
  assertPositive,
  EbmError,
  type EnergyFunction,
  optionKeys,
  type RngKey,
  randomNormal,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { BaseLoss, type BaseLossOptions, type LossCallContext, type LossParts } from './base.js';

/** ∇ₓE(x) recorded on the enclosing tape (differentiable with respect to the energy's parameters). */
function scoreGrad(energy: EnergyFunction, x: tf.Tensor2D): tf.Tensor2D {
  return energy.gradient(x, { checkFinite: false });
}

/**
 * ∇ₓE(x) and the Hessian–vector product ∇²ₓE(x)·v = ∇ₓ(vᵀ∇ₓE(x)) per row, by a nested gradient. Both are
 * recorded on the enclosing tape (differentiable with respect to the energy's parameters). The caller
 * disposes `grad` (it is kept out of the surrounding tidy scopes).
 */
export function gradAndHvp(
  energy: EnergyFunction,
  x: tf.Tensor2D,
  v: tf.Tensor2D,
): { grad: tf.Tensor2D; hv: tf.Tensor2D } {
  let grad: tf.Tensor2D | undefined;
  const hv = tf.grad((u: tf.Tensor) => {
    const g = scoreGrad(energy, u as tf.Tensor2D);
    grad = tf.keep(g);
    return tf.sum(tf.mul(g, v));
  })(x) as tf.Tensor2D;
  return { grad: grad!, hv };
}

/** Default dimension limit of {@link ScoreMatching} (one extra backward pass per dimension). */
export const EXACT_SCORE_MATCHING_MAX_DIM = 64;

/** Options of {@link ScoreMatching}. */
export interface ScoreMatchingOptions extends BaseLossOptions {
  /**
   * Largest feature dimension accepted (default {@link EXACT_SCORE_MATCHING_MAX_DIM} = 64). The Hessian trace
   * costs D extra backward passes; above the limit use {@link SlicedScoreMatching} or
   * {@link DenoisingScoreMatching}, or raise the limit knowingly.
   */
  readonly maxDim?: number;
}

/**
 * Exact score matching (Hyvärinen 2005). With the model score s = −∇ₓE:
 *
 * L = mean_b [ ½‖∇ₓE(x)‖² − tr ∇²ₓE(x) ] (+ λ·mean E(x)²)
 *
 * which equals the Fisher divergence to the data up to a constant. The Hessian trace is computed exactly by
 * D nested gradients (one per dimension), so the cost grows with D: inputs with D > `maxDim` raise
 * `INVALID_PARAM`. For E = ½‖x‖² and x ~ N(0, I), E[L] = d/2 − d = −d/2.
 * Metrics: `loss`, `energyPos` (mean E on the data), `gradNormSq` (mean ‖∇E‖²), `hessianTrace` (mean tr ∇²E).
 */
export class ScoreMatching extends BaseLoss {
  readonly maxDim: number;

  /** Option names (unknown names are an `INVALID_PARAM` that suggests the right one). */
  static readonly optionKeys = optionKeys<ScoreMatchingOptions>({ seed: true, energyL2: true, maxDim: true });

  constructor(energy: EnergyFunction, options: ScoreMatchingOptions = {}, name?: string) {
    super(energy, options, name);
    this.maxDim = assertInteger('maxDim', options.maxDim ?? EXACT_SCORE_MATCHING_MAX_DIM, 1);
  }

  protected override validateData(data: unknown): tf.Tensor2D {
    const x = super.validateData(data);
    if (x.shape[1] > this.maxDim) {
      throw new EbmError(
        'INVALID_PARAM',
        `Exact score matching needs ${x.shape[1]} backward passes per batch (dimension ${x.shape[1]} > maxDim ${this.maxDim}).`,
        {
          argument: 'data',
          value: x.shape,
          fix: 'use SlicedScoreMatching or DenoisingScoreMatching for high dimensions, or raise { maxDim } knowingly.',
        },
      );
    }
    return x;
  }

  protected computeParts(data: tf.Tensor2D, _key: RngKey, context?: LossCallContext): LossParts {
    const [b, d] = data.shape;
    // tr ∇²E = Σᵢ eᵢᵀ∇²E eᵢ: one Hessian–vector product on the batch tiled D times, block i projected on eᵢ.
    const x = d === 1 ? data : (tf.tile(data, [d, 1]) as tf.Tensor2D);
    const basis = tf.reshape(tf.tile(tf.expandDims(tf.eye(d), 1), [1, b, 1]), [b * d, d]) as tf.Tensor2D;
    const { grad, hv } = gradAndHvp(this.energy, x, basis);
    let trace: tf.Tensor1D;
    let g: tf.Tensor2D;
    try {
      // Row block i of Σ_cols(hv ⊙ basis) holds (∇²E)ᵢᵢ; sum the D blocks.
      const diag = tf.reshape(tf.sum(tf.mul(hv, basis), 1), [d, b]);
      trace = tf.sum(diag, 0) as tf.Tensor1D;
      g = tf.slice(grad, [0, 0], [b, d]) as tf.Tensor2D;
    } finally {
      grad.dispose();
    }
    const sq = tf.sum(tf.square(g), 1);
    const gradNormSq = tf.mean(sq) as tf.Scalar;
    const hessianTrace = tf.mean(trace) as tf.Scalar;
    const loss = tf.sub(tf.mul(0.5, gradNormSq), hessianTrace) as tf.Scalar;
    return this.withEnergyTerms(data, loss, { gradNormSq, hessianTrace }, context);
  }
}

/** Projection distributions of {@link SlicedScoreMatching}. */
export type ProjectionType = 'rademacher' | 'gaussian' | 'sphere';

/** Options of {@link SlicedScoreMatching}. */
export interface SlicedScoreMatchingOptions extends BaseLossOptions {
  /** Projections per data point (default 1). */
  readonly nProjections?: number;
  /**
   * Distribution of the projections v, each with E[vvᵀ] = I (default `'rademacher'`): `'rademacher'` (±1),
   * `'gaussian'` N(0, I), `'sphere'` uniform on the sphere of radius √D.
   */
  readonly projection?: ProjectionType;
  /**
   * Variance reduction (Song et al. 2019, SSM-VR): use the exact ½‖∇E‖² and project only the Hessian term
   * (default false; valid for `'gaussian'` and `'rademacher'`/`'sphere'` alike since E[vvᵀ] = I).
   */
  readonly varianceReduction?: boolean;
}

/**
 * Sliced score matching (Song et al. 2019). With projections v (E[vvᵀ] = I) and s = −∇ₓE:
 *
 * L = mean_b mean_v [ ½(vᵀ∇ₓE(x))² − vᵀ∇²ₓE(x)v ] (+ λ·mean E(x)²)
 *
 * an unbiased estimate of the exact score-matching objective ({@link ScoreMatching}). The Hessian–vector
 * product is a nested gradient: ∇ₓ(vᵀ∇ₓE(x)). With `varianceReduction` the first term is ½‖∇E‖².
 * Metrics: `loss`, `energyPos`, `gradNormSq`.
 */
export class SlicedScoreMatching extends BaseLoss {
  readonly nProjections: number;
  readonly projection: ProjectionType;
  readonly varianceReduction: boolean;

  /** Option names (unknown names are an `INVALID_PARAM` that suggests the right one). */
  static readonly optionKeys = optionKeys<SlicedScoreMatchingOptions>({
    seed: true,
    energyL2: true,
    nProjections: true,
    projection: true,
    varianceReduction: true,
  });

  constructor(energy: EnergyFunction, options: SlicedScoreMatchingOptions = {}, name?: string) {
    super(energy, options, name);
    this.nProjections = assertInteger('nProjections', options.nProjections ?? 1, 1);
    this.projection = assertOneOf('projection', options.projection ?? 'rademacher', [
      'rademacher',
      'gaussian',
      'sphere',
    ] as const);
    this.varianceReduction = options.varianceReduction ?? false;
  }

  /** Projection vectors `[n, D]` for a key. */
  projections(key: RngKey, n: number, d: number): tf.Tensor2D {
    return tf.tidy(() => {
      const z = randomNormal(key, [n, d]) as tf.Tensor2D;
      if (this.projection === 'gaussian') return z;
      if (this.projection === 'rademacher') return tf.sign(z) as tf.Tensor2D;
      const norm = tf.sqrt(tf.sum(tf.square(z), 1, true));
      return tf.mul(tf.div(z, norm), Math.sqrt(d)) as tf.Tensor2D;
    });
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey, context?: LossCallContext): LossParts {
    const [b, d] = data.shape;
    const p = this.nProjections;
    const x = p === 1 ? data : (tf.tile(data, [p, 1]) as tf.Tensor2D);
    const v = this.projections(key, b * p, d);
    const r = gradAndHvp(this.energy, x, v);
    const g = tf.clone(r.grad);
    r.grad.dispose();
    const hv = r.hv;
    const vHv = tf.sum(tf.mul(hv, v), 1);
    const sq = tf.sum(tf.square(g), 1);
    const first = this.varianceReduction ? sq : tf.square(tf.sum(tf.mul(g, v), 1));
    const loss = tf.mean(tf.sub(tf.mul(0.5, first), vHv)) as tf.Scalar;
    return this.withEnergyTerms(data, loss, { gradNormSq: tf.mean(sq) as tf.Scalar }, context);
  }
}

/** Options of {@link DenoisingScoreMatching}. */
export interface DenoisingScoreMatchingOptions extends BaseLossOptions {
  /** Noise standard deviation σ (default 0.1). */
  readonly sigma?: number;
}

/**
 * Denoising score matching (Vincent 2011), with the correct sign. With x̃ = x + σξ, ξ ~ N(0, I):
 *
 * L = mean_b ½‖∇ₓE(x̃) − (x̃ − x)/σ²‖² (+ λ·mean E(x̃)²)
 *
 * so that the model score −∇E(x̃) matches ∇log q_σ(x̃|x) = −(x̃ − x)/σ². Its minimiser is the energy of the
 * noised data law p ∗ N(0, σ²I) (for Gaussian data N(m, Σ): precision (Σ + σ²I)⁻¹). TorchEBM v0.7.11 uses
 * the opposite sign and trains an inverted energy (its issue #318); this does not.
 * Metrics: `loss`, `energyPos` (mean E on the noised data), `gradNormSq`.
 */
export class DenoisingScoreMatching extends BaseLoss {
  readonly sigma: number;

  /** Option names (unknown names are an `INVALID_PARAM` that suggests the right one). */
  static readonly optionKeys = optionKeys<DenoisingScoreMatchingOptions>({
    seed: true,
    energyL2: true,
    sigma: true,
  });

  constructor(energy: EnergyFunction, options: DenoisingScoreMatchingOptions = {}, name?: string) {
    super(energy, options, name);
    this.sigma = assertPositive('sigma', options.sigma ?? 0.1);
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey): LossParts {
    const [kNoise] = splitKey(key, 1) as [RngKey];
    const s = this.sigma;
    const xi = randomNormal(kNoise, data.shape);
    const xt = tf.add(data, tf.mul(xi, s)) as tf.Tensor2D;
    // energyAndGradient's outputs may be kept out of tidy scopes (BaseEnergy keeps E): dispose them here.
    const { energy: e, gradient: g } = this.energy.energyAndGradient(xt, { checkFinite: false });
    try {
      // (x̃ − x)/σ² = ξ/σ
      const diff = tf.sub(g, tf.div(xi, s));
      let loss = tf.mul(0.5, tf.mean(tf.sum(tf.square(diff), 1))) as tf.Scalar;
      const pen = this.energyPenalty(e);
      if (pen !== undefined) loss = tf.add(loss, pen) as tf.Scalar;
      return {
        loss,
        stats: {
          energyPos: tf.mean(e) as tf.Scalar,
          gradNormSq: tf.mean(tf.sum(tf.square(g), 1)) as tf.Scalar,
        },
      };
    } finally {
      tf.dispose([e, g]);
    }
  }
}
