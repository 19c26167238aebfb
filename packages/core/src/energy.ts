import * as tf from '@tensorflow/tfjs-core';
import type { KernelHint } from './energy-kinds.js';
import { EbmError } from './errors.js';
import { canReadSync } from './tfjs-internals.js';
import { assertBatch } from './validation.js';

/** Options of a single energy evaluation. */
export interface EvalOptions {
  /**
   * Check that the input holds no NaN/Infinity (reads the tensor back to the host).
   * Default: `true` on backends that can read synchronously (cpu, wasm, tensorflow); `false` on webgl/webgpu.
   * Samplers pass `false` inside their loops and check once at the start.
   */
  readonly checkFinite?: boolean;
}

/**
 * The energy seam of `@ebm/*`: an unnormalised negative log-density `E: [B, D] → [B]`.
 * Samplers and losses take any object of this shape.
 */
export interface EnergyFunction {
  /** A short human name, e.g. `'DoubleWell'`. */
  readonly name: string;
  /** Feature dimension D when fixed, `undefined` when any D is accepted. */
  readonly dim: number | undefined;
  /** Optional fused-kernel hint. */
  readonly kernelHint?: KernelHint | undefined;
  /** E(x) per row: `[B, D] → [B]`. */
  energy(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor1D;
  /** ∇ₓE(x): `[B, D] → [B, D]`. */
  gradient(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor2D;
  /** E(x) and ∇E(x) together (one forward pass where possible). */
  energyAndGradient(x: tf.Tensor2D, options?: EvalOptions): { energy: tf.Tensor1D; gradient: tf.Tensor2D };
}

/** Whether finite-checks run by default on the active backend (those that read synchronously). */
export function defaultCheckFinite(): boolean {
  return canReadSync();
}

function nonFinite(name: string, x: tf.Tensor): EbmError {
  return new EbmError('NON_FINITE', `${name} holds NaN or Infinity.`, {
    argument: name,
    value: x.shape,
    fix: `replace non-finite entries of ${name} (a smaller step size often prevents them).`,
  });
}

/**
 * Throws `NON_FINITE` when `x` holds NaN or ±Infinity. A synchronous API: it reads one boolean back, so it
 * runs on the host backends only (cpu, wasm) and throws `BACKEND_UNAVAILABLE` elsewhere; async code uses
 * {@link assertFiniteTensorAsync}.
 */
export function assertFiniteTensor(name: string, x: tf.Tensor): void {
  if (!canReadSync()) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `Checking ${name} for NaN/Infinity needs a synchronous read, which the "${tf.getBackend()}" backend cannot do.`,
      {
        argument: 'checkFinite',
        value: tf.getBackend(),
        fix: 'pass { checkFinite: false }, or use the async API (sample(), assertFiniteTensorAsync).',
      },
    );
  }
  const bad = tf.tidy(() => tf.any(tf.logicalOr(tf.isNaN(x), tf.isInf(x))));
  // sync-read: allowed — the synchronous API, guarded by canReadSync() above.
  const hasBad = bad.dataSync()[0] === 1;
  bad.dispose();
  if (hasBad) throw nonFinite(name, x);
}

/** Async {@link assertFiniteTensor}: works on every backend (one `await data()` of one boolean). */
export async function assertFiniteTensorAsync(name: string, x: tf.Tensor): Promise<void> {
  const bad = tf.tidy(() => tf.any(tf.logicalOr(tf.isNaN(x), tf.isInf(x))));
  try {
    if ((await bad.data())[0] === 1) throw nonFinite(name, x);
  } finally {
    bad.dispose();
  }
}

/** Options of {@link BaseEnergy}. */
export interface BaseEnergyOptions {
  /** Fixed feature dimension D, or undefined for any. */
  readonly dim?: number | undefined;
  /** Display name (defaults to the class name). */
  readonly name?: string;
}

/**
 * Base class for energies. Subclasses implement {@link BaseEnergy.computeEnergy} (and, for an analytic
 * gradient, override {@link BaseEnergy.computeGradient}); the base validates input (rank 2, float32, batch ≥ 1,
 * dimension, finite values) and output (shape `[B]`), and provides autograd gradients by default.
 *
 * @example
 * ```ts
 * class Quadratic extends BaseEnergy {
 *   protected computeEnergy(x: tf.Tensor2D) { return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D; }
 * }
 * ```
 */
export abstract class BaseEnergy implements EnergyFunction {
  readonly name: string;
  readonly dim: number | undefined;
  readonly kernelHint?: KernelHint | undefined;

  constructor(options: BaseEnergyOptions = {}) {
    if (options.dim !== undefined && (!Number.isInteger(options.dim) || options.dim < 1)) {
      throw new EbmError('INVALID_PARAM', 'dim must be an integer >= 1.', {
        argument: 'dim',
        value: options.dim,
        fix: 'pass the feature dimension, e.g. { dim: 2 }.',
      });
    }
    this.dim = options.dim;
    this.name = options.name ?? this.constructor.name;
  }

  /** E(x) per row, without validation. `x` is `[B, D]` float32; return `[B]`. May be called inside tf.tidy. */
  protected abstract computeEnergy(x: tf.Tensor2D): tf.Tensor1D;

  /** ∇E(x) without validation. Default: autograd of `sum(computeEnergy(x))`. Override with the analytic form. */
  protected computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.grad((v: tf.Tensor) => tf.sum(this.computeEnergy(v as tf.Tensor2D)))(x) as tf.Tensor2D;
  }

  /** E and ∇E without validation. Default: one `tf.valueAndGrad` pass, or both analytic forms when overridden. */
  protected computeEnergyAndGradient(x: tf.Tensor2D): { energy: tf.Tensor1D; gradient: tf.Tensor2D } {
    if (this.computeGradient !== BaseEnergy.prototype.computeGradient) {
      return { energy: this.computeEnergy(x), gradient: this.computeGradient(x) };
    }
    let kept: tf.Tensor1D | undefined;
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => {
      const e = this.computeEnergy(v as tf.Tensor2D);
      kept = tf.keep(e); // survives the gradient scope...
      return tf.sum(e);
    })(x);
    value.dispose();
    // ...then becomes an ordinary tensor of the caller's scope, so an enclosing tf.tidy still releases it.
    const energy = tf.clone(kept!) as tf.Tensor1D;
    kept!.dispose();
    return { energy, gradient: grad as tf.Tensor2D };
  }

  /** Validates `x` (shape, dtype, dimension, and finiteness per `options.checkFinite`). */
  protected validateInput(x: unknown, options?: EvalOptions): tf.Tensor2D {
    const t = assertBatch('x', x, this.dim);
    if (options?.checkFinite ?? defaultCheckFinite()) assertFiniteTensor('x', t);
    return t;
  }

  private checkOutput(e: tf.Tensor, batch: number, what: string): void {
    if (e.rank !== 1 || e.shape[0] !== batch) {
      const shape = e.shape;
      e.dispose();
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${this.name}.${what} returned shape [${shape.join(', ')}], expected [${batch}].`,
        {
          argument: what,
          value: shape,
          fix: 'return one energy per row: reduce over the feature axis (e.g. tf.sum(..., 1)).',
        },
      );
    }
  }

  energy(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor1D {
    const t = this.validateInput(x, options);
    const e = tf.tidy(() => this.computeEnergy(t));
    this.checkOutput(e, t.shape[0], 'computeEnergy');
    return e;
  }

  gradient(x: tf.Tensor2D, options?: EvalOptions): tf.Tensor2D {
    const t = this.validateInput(x, options);
    const g = tf.tidy(() => this.computeGradient(t));
    if (g.rank !== 2 || g.shape[0] !== t.shape[0] || g.shape[1] !== t.shape[1]) {
      const shape = g.shape;
      g.dispose();
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${this.name}.computeGradient returned shape [${shape.join(', ')}].`,
        {
          argument: 'computeGradient',
          value: shape,
          fix: `return a gradient of the input's shape [${t.shape.join(', ')}].`,
        },
      );
    }
    return g;
  }

  energyAndGradient(x: tf.Tensor2D, options?: EvalOptions): { energy: tf.Tensor1D; gradient: tf.Tensor2D } {
    const t = this.validateInput(x, options);
    const out = tf.tidy(() => {
      const r = this.computeEnergyAndGradient(t);
      return [r.energy, r.gradient] as [tf.Tensor1D, tf.Tensor2D];
    });
    try {
      this.checkOutput(out[0], t.shape[0], 'computeEnergy');
    } catch (e) {
      out[1].dispose();
      throw e;
    }
    return { energy: out[0], gradient: out[1] };
  }
}
