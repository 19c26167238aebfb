import type * as tf from '@tensorflow/tfjs-core';
import type { MLPKernelParams } from './energy-kinds.js';

/**
 * # Fused gradient-regression kernel
 *
 * `train.mlpGradientRegression`: the loss and parameter gradient of a weighted regression of an MLP energy's
 * **input gradient** onto targets — the flow term of Energy Matching (and of any loss that fits −∇ₓV to a
 * velocity field), whose parameter gradient is a second derivative (double back-propagation) that tfjs autograd
 * runs in hundreds of small kernels. Core declares it without a composite (`fallback: null`): the composite is
 * the autograd path of the loss (`@ebm/losses`), which uses the kernel only when the active backend registered
 * one (`kernelSource(name) === 'backend'`) and falls back to autograd when it throws `NOT_IMPLEMENTED`.
 * @module
 */

/** Registry name of the fused gradient-regression kernel of an MLP energy. */
export const MLP_GRADIENT_REGRESSION_KERNEL = 'train.mlpGradientRegression';

/**
 * Inputs of `train.mlpGradientRegression`: for the MLP V of {@link MLPKernelParams} (h₀ = x,
 * hⱼ₊₁ = φ(hⱼ·Kⱼ + bⱼ), V = h_L·K_L + b_L), rows x_b, targets u_b and row weights c_b,
 *
 * L(θ) = Σ_b c_b ‖∇ₓV(x_b; θ) + u_b‖²,
 *
 * and ∇θL = Σ_b ∇θ(r_bᵀ∇ₓV(x_b; θ)) with r_b = 2c_b(∇ₓV(x_b) + u_b) held fixed (forward-over-reverse: the
 * directional derivative of V along r_b, back-propagated to θ). Energy Matching's flow term is this with
 * c_b = w_b·w(t_b)/(B·D). `x`, `targets` and `rowWeights` are constants: the kernel gives no gradient for them.
 */
export interface MLPGradientRegressionInputs {
  /** The MLP (core's one hint format; `weights` must be float32 tensors, normally the live variables). */
  readonly params: MLPKernelParams;
  /** Rows x `[B, D]` where ∇ₓV is evaluated. */
  readonly x: tf.Tensor2D;
  /** Targets u `[B, D]` (the loss pulls ∇ₓV towards −u). */
  readonly targets: tf.Tensor2D;
  /** Row weights c `[B]` (any sign; zero rows add nothing). */
  readonly rowWeights: tf.Tensor1D;
}

/** Output of `train.mlpGradientRegression` (new tensors the caller owns). */
export interface MLPGradientRegressionOutput {
  /** L(θ), a scalar. */
  readonly loss: tf.Scalar;
  /** ∂L/∂θ, one tensor per `params.weights`, same shapes. */
  readonly gradients: tf.Tensor[];
}
