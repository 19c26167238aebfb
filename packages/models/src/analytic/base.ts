import { BaseEnergy, type BaseEnergyOptions, EbmError, type EvalOptions } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Base of the analytic energies: a {@link BaseEnergy} that may own constant tensors (means, precisions),
 * created with `tf.keep` so enclosing `tf.tidy` scopes never free them, and released by {@link dispose}.
 */
/**
 * The largest dimension an analytic energy takes (2²⁴): its host-side tables (modes, variances) are O(dim), so a
 * typo (`dim: 1e9`) fails at once instead of filling memory.
 */
export const MAX_DIM = 2 ** 24;

export abstract class AnalyticEnergy extends BaseEnergy {
  private readonly owned: tf.Tensor[] = [];
  private disposedFlag = false;
  /** Smallest feature dimension accepted when `dim` is not fixed (default 1). */
  protected readonly minDim: number;

  constructor(options: BaseEnergyOptions & { minDim?: number } = {}) {
    super(options.name === undefined ? { dim: options.dim } : { dim: options.dim, name: options.name });
    this.minDim = options.minDim ?? 1;
  }

  /** Registers a constant tensor owned by this energy (kept across tidy scopes; freed by `dispose`). */
  protected own<T extends tf.Tensor>(t: T): T {
    this.owned.push(tf.keep(t));
    return t;
  }

  /** True once {@link dispose} has run; later calls throw `STATE_ERROR`. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Frees the constant tensors this energy owns. Idempotent. */
  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    this.disposedFlag = true;
  }

  protected override validateInput(x: unknown, options?: EvalOptions): tf.Tensor2D {
    if (this.disposedFlag) {
      throw new EbmError('STATE_ERROR', `${this.name} has been disposed.`, {
        argument: 'this',
        fix: `create a new ${this.name} energy; do not use one after dispose().`,
      });
    }
    const t = super.validateInput(x, options);
    if (t.shape[1] < this.minDim) {
      throw new EbmError('SHAPE_MISMATCH', `${this.name} needs at least ${this.minDim} columns.`, {
        argument: 'x',
        value: t.shape,
        fix: `pass a [batch, d] tensor with d >= ${this.minDim}.`,
      });
    }
    return t;
  }
}
