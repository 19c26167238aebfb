import { assertKnownOptions, BaseEnergy, EbmError, type KernelHint, optionKeys } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';

const FUNCTIONENERGY_KEYS = optionKeys<FunctionEnergyOptions>({
  dim: true,
  name: true,
  gradient: true,
  kernelHint: true,
});

/** Options of {@link energyFromFunction}. */
export interface FunctionEnergyOptions {
  /** Fixed input dimension D (default: any D). */
  readonly dim?: number;
  /** Display name (default 'FunctionEnergy'). */
  readonly name?: string;
  /** Analytic ∇ₓE: `[B, D] → [B, D]` (default: autograd of Σ fn(x)). */
  readonly gradient?: (x: tf.Tensor2D) => tf.Tensor2D;
  /** Optional fused-kernel hint. */
  readonly kernelHint?: KernelHint;
}

class FunctionEnergy extends BaseEnergy {
  override readonly kernelHint: KernelHint | undefined;
  private readonly fn: (x: tf.Tensor2D) => tf.Tensor1D;

  constructor(fn: (x: tf.Tensor2D) => tf.Tensor1D, options: FunctionEnergyOptions) {
    assertKnownOptions('FunctionEnergy', options, FUNCTIONENERGY_KEYS);
    super(options.name === undefined ? { dim: options.dim } : { dim: options.dim, name: options.name });
    this.fn = fn;
    this.kernelHint = options.kernelHint;
    const g = options.gradient;
    if (g !== undefined) {
      // An instance property, so BaseEnergy sees an analytic gradient (and skips autograd in energyAndGradient).
      (this as unknown as { computeGradient: (x: tf.Tensor2D) => tf.Tensor2D }).computeGradient = g;
    }
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return this.fn(x);
  }
}

/**
 * Wraps any tfjs function of a batch, E(x) = fn(x) with `fn: [B, D] → [B]`, as an {@link BaseEnergy}: input
 * validation, output-shape checks, no leaks (calls run inside `tf.tidy`) and autograd gradients unless an
 * analytic `gradient` is given. Variables the function closes over are trained by passing them to an optimizer.
 *
 * @example
 * ```ts
 * const quartic = energyFromFunction((x) => tf.sum(tf.pow(x, 4), 1), { dim: 2, name: 'Quartic' });
 * ```
 */
export function energyFromFunction(
  fn: (x: tf.Tensor2D) => tf.Tensor1D,
  options: FunctionEnergyOptions = {},
): BaseEnergy {
  if (typeof fn !== 'function') {
    throw new EbmError('INVALID_PARAM', 'fn must be a function [B, D] → [B].', {
      argument: 'fn',
      value: typeof fn,
      fix: 'pass e.g. (x) => tf.sum(tf.square(x), 1).',
    });
  }
  if (options.gradient !== undefined && typeof options.gradient !== 'function') {
    throw new EbmError('INVALID_PARAM', 'gradient must be a function [B, D] → [B, D].', {
      argument: 'gradient',
      value: typeof options.gradient,
      fix: 'omit it to use autograd.',
    });
  }
  return new FunctionEnergy(fn, options);
}
