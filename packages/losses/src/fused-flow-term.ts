import {
  EbmError,
  type EnergyFunction,
  kernelSource,
  MLP_GRADIENT_REGRESSION_KERNEL,
  type MLPGradientRegressionOutput,
  type MLPKernelParams,
  runKernel,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The flow term of Energy Matching through the fused `train.mlpGradientRegression` kernel (registered for
 * webgpu by `@ebm/cuda`): for an energy with an `'mlp'` kernel hint whose weights are live float32 tensors,
 *
 * L_flow = Σ_b c_b‖∇ₓV(x_b) + u_b‖²,  c_b = w_b·w(t_b)/(B·D)
 *
 * (= mean_b w_b·w(t_b)·mean_d (∇ₓV + u)²) comes from one kernel call (a few device programs) instead of tfjs's
 * double back-propagation (hundreds of kernels). It joins autograd as a `tf.customGrad` op over the hint's
 * weight tensors (all but V's output bias, which ∇ₓV does not depend on): the forward value is the kernel's loss, the gradient dy·∂L/∂θ is the kernel's per-weight
 * gradient (computed together with the loss and saved for the backward pass), so `fit` and any
 * `optimizer.minimize` see an ordinary differentiable scalar. x, u and c are constants for that gradient (as
 * they are in Energy Matching: they depend on data and noise only). A gradient of this gradient (third order)
 * is not available: dy·∂L/∂θ is treated as constant in θ. Internal module.
 * @module
 */

/** Hints whose kernel call reported `NOT_IMPLEMENTED` (e.g. widths over the device's workgroup memory). */
const unsupported = new WeakSet<object>();

/** The MLP hint of `energy` when the fused kernel can serve it (webgpu, live float32 tensor weights). */
function fusedParams(energy: EnergyFunction): MLPKernelParams | undefined {
  if (kernelSource(MLP_GRADIENT_REGRESSION_KERNEL) !== 'backend') return undefined;
  const hint = (energy as { kernelHint?: { kind?: unknown; params?: unknown } }).kernelHint;
  if (hint?.kind !== 'mlp') return undefined;
  const p = hint.params as MLPKernelParams | undefined;
  if (p === undefined || p === null || !Array.isArray(p.weights) || unsupported.has(p)) return undefined;
  const live = p.weights.every((w) => w instanceof tf.Tensor && !w.isDisposed && w.dtype === 'float32');
  return live ? p : undefined;
}

/** Whether {@link fusedFlowLoss} would use the fused kernel for `energy` on the active backend. */
export function fusedFlowAvailable(energy: EnergyFunction): boolean {
  return fusedParams(energy) !== undefined;
}

/**
 * Energy Matching's flow term mean_b w_b·w(t_b)·mean_d (∇ₓV(x_b) + u_b)² through the fused kernel (row weights
 * c_b = w_b·w(t_b)/(B·D) for {@link fusedFlowLoss}), or `undefined` when the kernel is not available for `energy`
 * (then the caller runs autograd). `flowWeights` are w(t_b) `[B]`, `pairWeights` the coupling's w_b (absent = 1).
 */
export function fusedFlowTerm(
  energy: EnergyFunction,
  x: tf.Tensor2D,
  targets: tf.Tensor2D,
  flowWeights: tf.Tensor1D,
  pairWeights?: tf.Tensor1D,
): tf.Scalar | undefined {
  if (!fusedFlowAvailable(energy)) return undefined;
  const [b, d] = x.shape;
  const c = tf.tidy(() =>
    tf.div(pairWeights === undefined ? flowWeights : tf.mul(pairWeights, flowWeights), b * d),
  ) as tf.Tensor1D;
  try {
    return fusedFlowLoss(energy, x, targets, c);
  } finally {
    c.dispose();
  }
}

/**
 * L = Σ_b c_b‖∇ₓV(x_b) + u_b‖² as a differentiable scalar (gradient to the energy's weight tensors only)
 * through the fused kernel, or `undefined` when it is not available for `energy` on the active backend (no
 * registered kernel, no `'mlp'` hint, weights that are not live tensors, or a network the kernel reports
 * `NOT_IMPLEMENTED` for): the caller then computes the term with autograd. `x` `[B, D]`, `targets` `[B, D]` and
 * `rowWeights` `[B]` are not disposed.
 */
export function fusedFlowLoss(
  energy: EnergyFunction,
  x: tf.Tensor2D,
  targets: tf.Tensor2D,
  rowWeights: tf.Tensor1D,
): tf.Scalar | undefined {
  const params = fusedParams(energy);
  if (params === undefined) return undefined;
  // Every weight but V's output bias, which does not move ∇ₓV (autograd gives it no gradient either).
  const weights = (params.weights as tf.Tensor[]).slice(0, -1);
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (tensors: tf.Tensor[]) => void;
    const out = runKernel(MLP_GRADIENT_REGRESSION_KERNEL, {
      params,
      x,
      targets,
      rowWeights,
    }) as MLPGradientRegressionOutput;
    // Kept (as clones) only while a tape records; the originals are released by customGrad's scope.
    save(out.gradients.slice(0, -1));
    return {
      value: out.loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((g) => tf.mul(dy, g)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  try {
    return op(...weights) as tf.Scalar;
  } catch (e) {
    if (e instanceof EbmError && e.code === 'NOT_IMPLEMENTED') {
      unsupported.add(params);
      return undefined;
    }
    throw e;
  }
}
