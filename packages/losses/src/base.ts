import {
  assertBatch,
  assertNonNegative,
  EbmError,
  type EnergyFunction,
  type Loss,
  type LossContext,
  type LossOutput,
  type RngKey,
  RngStream,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertEnergy, makeStream, type SeedLike } from './internal.js';

/** Per-call context of the `@ebm/losses` losses: core's {@link LossContext} plus a metrics switch. */
export interface LossCallContext extends LossContext {
  /**
   * Return the logging metrics (loss, E⁺, E⁻, …) as scalar tensors (default `true`). Set `false` in hot loops
   * that do not log: `metrics` is then `{}` and evaluations that only feed metrics are skipped. Nothing is
   * read to the host either way (read them with {@link readMetrics}; `fit` reads them with one `await`).
   */
  readonly metrics?: boolean;
}

/** Serialisable state of a stateful loss (replay buffer, key counters). Plain JSON data. */
export interface LossState {
  readonly [field: string]: unknown;
}

/** Options common to every loss of this package. */
export interface BaseLossOptions {
  /**
   * Seed (or key) of the loss's own key stream, used when a call passes no `context.key` (default 0).
   * Call t without a key uses `foldIn(rngKey(seed), t)`; the counter is part of {@link BaseLoss.saveState}.
   */
  readonly seed?: SeedLike;
  /**
   * Energy L2 regularisation weight λ ≥ 0 (default 0): adds λ·mean E(x)² over the energies the loss evaluates
   * (for contrastive losses λ·(mean E(x⁺)² + mean E(x⁻)²)). Keeps an unnormalised energy's offset from drifting.
   */
  readonly energyL2?: number;
}

/** Tensors a loss produces inside `compute` (all scalars but `negatives`). */
export interface LossParts {
  readonly loss: tf.Scalar;
  readonly negatives?: tf.Tensor2D;
  /** Scalars to report as metrics (loss is added automatically). */
  readonly stats: Record<string, tf.Scalar>;
}

/**
 * Base class of the `@ebm/losses` losses: validation, the per-call key, energy regularisation, metrics,
 * and tensor hygiene. Subclasses implement {@link BaseLoss.computeParts}.
 */
export abstract class BaseLoss implements Loss {
  readonly name: string;
  readonly energy: EnergyFunction;
  /** Energy L2 weight λ. */
  readonly energyL2: number;
  /** Trainable variables owned by the loss itself (e.g. NCE's log-normaliser); empty for most losses. */
  readonly variables: readonly tf.Variable[] = [];
  protected stream: RngStream;

  constructor(energy: EnergyFunction, options: BaseLossOptions = {}, name?: string) {
    this.energy = assertEnergy(energy, name ?? new.target.name);
    this.name = name ?? new.target.name;
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', `${this.name} options must be an object.`, {
        argument: 'options',
        value: options,
        fix: 'pass an options object, e.g. { seed: 0 }.',
      });
    }
    this.energyL2 = assertNonNegative('energyL2', options.energyL2 ?? 0);
    this.stream = makeStream(options.seed);
  }

  /** The key of a call: `context.key`, else the next key of the loss's own stream. */
  protected keyFor(context?: LossContext): RngKey {
    return context?.key ?? this.stream.next();
  }

  /**
   * The loss as tensors; runs inside a `tf.tidy` of {@link BaseLoss.compute}. `context.metrics === false`
   * lets a loss skip evaluations that only feed metrics.
   */
  protected abstract computeParts(data: tf.Tensor2D, key: RngKey, context?: LossCallContext): LossParts;

  /** Checks the data batch (rank 2, float32, B ≥ 1, the energy's dimension). */
  protected validateData(data: unknown): tf.Tensor2D {
    return assertBatch('data', data, this.energy.dim);
  }

  /**
   * Evaluates the loss on a data batch `[B, D]`. Differentiable with respect to the energy's variables (and
   * the loss's own {@link BaseLoss.variables}): use it inside `optimizer.minimize(() => loss.compute(x).loss)`.
   * The caller owns `loss`, `negatives` and the `metrics` scalars (`metrics.loss` is `loss` itself); inside a
   * `tf.tidy` they are released with it. Reads nothing to the host: it runs on every backend.
   */
  compute(data: tf.Tensor2D, context?: LossCallContext): LossOutput {
    const x = this.validateData(data);
    const key = this.keyFor(context);
    const parts = tf.tidy(() => {
      const p = this.computeParts(x, key, context);
      return { loss: p.loss, negatives: p.negatives, stats: p.stats };
    });
    if (context?.metrics === false) {
      tf.dispose(Object.values(parts.stats).filter((t) => t !== parts.loss));
      return { loss: parts.loss, negatives: parts.negatives, metrics: {} };
    }
    return { loss: parts.loss, negatives: parts.negatives, metrics: { loss: parts.loss, ...parts.stats } };
  }

  /** λ·mean E² for the given energies (zero scalar when λ = 0). */
  protected energyPenalty(...energies: tf.Tensor1D[]): tf.Scalar | undefined {
    if (this.energyL2 === 0) return undefined;
    let sum: tf.Tensor = tf.scalar(0);
    for (const e of energies) sum = tf.add(sum, tf.mean(tf.square(e)));
    return tf.mul(this.energyL2, sum) as tf.Scalar;
  }

  /**
   * Adds λ·mean E(x)² and the `energyPos` metric (mean E on `data`) to a loss value. The extra energy
   * evaluation is skipped when λ = 0 and metrics are off.
   */
  protected withEnergyTerms(
    data: tf.Tensor2D,
    value: tf.Scalar,
    stats: Record<string, tf.Scalar>,
    context?: LossCallContext,
  ): LossParts {
    if (this.energyL2 === 0 && context?.metrics === false) return { loss: value, stats };
    const e = this.energy.energy(data, { checkFinite: false });
    const pen = this.energyPenalty(e);
    return {
      loss: pen === undefined ? value : (tf.add(value, pen) as tf.Scalar),
      stats: { energyPos: tf.mean(e) as tf.Scalar, ...stats },
    };
  }

  /** Plain-data state (key counter; subclasses add their own). */
  async saveState(): Promise<LossState> {
    return { stream: this.stream.toJSON() };
  }

  /** Restores a state saved by {@link BaseLoss.saveState}. */
  loadState(state: LossState): void {
    const s = state.stream as { key: [number, number]; counter: number } | undefined;
    if (s !== undefined) this.stream = RngStream.fromJSON(s);
  }

  /** Releases tensors the loss owns (replay buffers, variables). */
  dispose(): void {}
}
