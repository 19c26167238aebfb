import type * as tf from '@tensorflow/tfjs-core';
import type { MLPKernelParams } from './energy-kinds.js';

/**
 * # Fused training-step kernels
 *
 * Kernel names a backend may implement to run a whole optimizer step of a training loop in a few device
 * programs. Core declares them without a composite (`fallback: null`): the composite *is* the autograd path
 * of `fit` (`@ebm/losses`), which uses a fused step only when the active backend registered one
 * (`kernelSource(name) === 'backend'`). Kernels take data (tensors and numbers), never callbacks, and return
 * new tensors: the caller assigns them and owns the optimizer state.
 * @module
 */

/** Registry name of the fused contrastive-divergence + Adam step for an MLP energy. */
export const MLP_CONTRASTIVE_ADAM_KERNEL = 'train.mlpContrastiveAdam';

/**
 * Adam's hyper-parameters and bias corrections for one step, as tfjs's `AdamOptimizer` uses them
 * (`tf.train.adam(learningRate, beta1, beta2, epsilon)`): with g the gradient,
 *
 * m' = β₁·m + (1 − β₁)·g,  v' = β₂·v + (1 − β₂)·g²,
 * w' = w − lr · (m' / c₁) / (√(v' / c₂) + ε),  c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ (t = 1 at the first step),
 *
 * i.e. c₁ = 1 − `accBeta1` of tfjs's optimizer before the step (`accBeta1` starts at β₁ and is multiplied by β₁
 * after each step, in float32).
 */
export interface AdamStepSettings {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** c₁ = 1 − β₁ᵗ, in (0, 1]. */
  readonly biasCorrection1: number;
  /** c₂ = 1 − β₂ᵗ, in (0, 1]. */
  readonly biasCorrection2: number;
}

/**
 * Inputs of the `train.mlpContrastiveAdam` kernel: one Adam step on the contrastive-divergence loss of an MLP
 * energy (the network of {@link MLPKernelParams}),
 *
 * L(θ) = mean E(x⁺) − mean E(x⁻) + λ·(mean E(x⁺)² + mean E(x⁻)²),
 *
 * whose parameter gradient is ∇θL = Σᵣ cᵣ·∇θE(xᵣ) with cᵣ = (±1 + 2λ·E(xᵣ))/B (+ for the B positive rows,
 * − for the B negative rows), computed by back-propagation per row and summed over the 2B rows.
 */
export interface MLPContrastiveAdamInputs {
  /** The MLP (core's one hint format; `weights` must be float32 tensors, normally the live variables). */
  readonly params: MLPKernelParams;
  /** Positive samples x⁺ `[B, D]` (the data batch). */
  readonly positives: tf.Tensor2D;
  /** Negative samples x⁻ `[B, D]` (the chains' end points; constants for the gradient). */
  readonly negatives: tf.Tensor2D;
  /** Energy L2 weight λ ≥ 0. */
  readonly energyL2: number;
  /** Adam's settings for this step. */
  readonly adam: AdamStepSettings;
  /**
   * Adam's moments before the step, flat `[2P]`: m then v, each the weights `[K₀, b₀, K₁, b₁, …]` flattened
   * row-major one after the other (P = number of parameters).
   */
  readonly moments: tf.Tensor1D;
}

/** Output of the `train.mlpContrastiveAdam` kernel (new tensors the caller owns). */
export interface MLPContrastiveAdamOutput {
  /** Updated weights, one per `params.weights`, same shapes. */
  readonly weights: tf.Tensor[];
  /** Updated moments `[2P]` (layout of {@link MLPContrastiveAdamInputs.moments}). */
  readonly moments: tf.Tensor1D;
  /** `[loss, energyPos, energyNeg, gradNorm]`: the loss, mean E(x⁺), mean E(x⁻) and ‖∇θL‖₂ (before the update). */
  readonly metrics: tf.Tensor1D;
}

/** Registry name of the fused gradient-regression + Adam step for an MLP energy (Energy Matching's flow phase). */
export const MLP_GRADIENT_REGRESSION_ADAM_KERNEL = 'train.mlpGradientRegressionAdam';

/**
 * Inputs of the `train.mlpGradientRegressionAdam` kernel: one Adam step on the gradient regression of
 * `train.mlpGradientRegression` (see `MLPGradientRegressionInputs`),
 *
 * L(θ) = Σ_b c_b ‖∇ₓV(x_b; θ) + u_b‖²,
 *
 * over every weight but V's output bias b_L, which does not move ∇ₓV (it has no gradient: tfjs's Adam, given the
 * autograd gradients, skips it, and so does the kernel — it is neither updated nor has moments here).
 */
export interface MLPGradientRegressionAdamInputs {
  /** The MLP (core's one hint format; `weights` must be float32 tensors, normally the live variables). */
  readonly params: MLPKernelParams;
  /** Rows x `[B, D]` where ∇ₓV is evaluated. */
  readonly x: tf.Tensor2D;
  /** Targets u `[B, D]` (the loss pulls ∇ₓV towards −u). */
  readonly targets: tf.Tensor2D;
  /** Row weights c `[B]`. */
  readonly rowWeights: tf.Tensor1D;
  /** Adam's settings for this step. */
  readonly adam: AdamStepSettings;
  /**
   * Adam's moments before the step, flat `[2P]`: m then v, each the weights `[K₀, b₀, …, K_L]` (all but the last,
   * b_L) flattened row-major one after the other (P = number of those parameters).
   */
  readonly moments: tf.Tensor1D;
}

/** Output of the `train.mlpGradientRegressionAdam` kernel (new tensors the caller owns). */
export interface MLPGradientRegressionAdamOutput {
  /** Updated weights, one per `params.weights` but the last (b_L, unchanged), same shapes. */
  readonly weights: tf.Tensor[];
  /** Updated moments `[2P]` or longer (layout of {@link MLPGradientRegressionAdamInputs.moments}). */
  readonly moments: tf.Tensor1D;
  /** `[loss, gradNorm]`: L and ‖∇θL‖₂ (before the update). */
  readonly metrics: tf.Tensor1D;
}
