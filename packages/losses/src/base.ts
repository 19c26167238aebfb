import {
  assertBatch,
  assertKnownOptions,
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
import { PreparedCall } from './prepared-call.js';

/** Per-call context of the `@ebm/losses` losses: core's {@link LossContext} plus a metrics switch. */
export interface LossCallContext extends LossContext {
  /**
   * Return the logging metrics (loss, E⁺, E⁻, …) as scalar tensors (default `true`). Set `false` in hot loops
   * that do not log: `metrics` is then `{}` and evaluations that only feed metrics are skipped. Nothing is
   * read to the host either way (read them with {@link readMetrics}; `fit` reads them with one `await`).
   */
  readonly metrics?: boolean;
  /**
   * The call's pre-pass from {@link BaseLoss.prepare} (same batch): host-solved work (e.g. an exact-OT coupling)
   * done ahead of the gradient tape with asynchronous reads. `key` defaults to its key. The caller disposes it.
   */
  readonly prepared?: PreparedCall;
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
    // The most-derived class checks the option names when it lists them (a user subclass that adds options
    // of its own and lists none is not checked, so it keeps working).
    if (Object.hasOwn(new.target, 'optionKeys')) {
      assertKnownOptions(
        this.name,
        options,
        (new.target as unknown as { optionKeys: readonly string[] }).optionKeys,
      );
    }
    this.energyL2 = assertNonNegative('energyL2', options.energyL2 ?? 0);
    this.stream = makeStream(options.seed);
  }

  /** The key of a call: `context.key`, else the prepared call's key, else the next key of the loss's own stream. */
  protected keyFor(context?: LossCallContext): RngKey {
    return context?.key ?? context?.prepared?.key ?? this.stream.next();
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
   * `tf.tidy` they are released with it. Reads nothing to the host: it runs on every backend — except the
   * pairing of a host-solved coupling (exact OT, greedy), which reads its cost synchronously (cpu / wasm); on
   * WebGPU pass `context.prepared` from {@link BaseLoss.prepare}, or use {@link BaseLoss.computeAsync} or `fit`.
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

  /**
   * The asynchronous pre-pass of one call (see `prepared-call.ts`): the work of `compute` that reads the host
   * and needs no gradient — a host-solved coupling's pairing (exact OT, greedy, Sinkhorn's host plan), solved
   * with `await data()` — done before the gradient tape. Pass the result to `compute` as `context.prepared` with
   * the same batch, then dispose it; `fit` does so at every step. The key is `context.key`, else the next of the
   * loss's stream (as one `compute` call would take it; `compute` with `prepared` then takes no other). The
   * pairing equals the sync path's for the same key. Losses without such work return an empty pre-pass.
   */
  async prepare(data: tf.Tensor2D, context?: LossCallContext): Promise<PreparedCall> {
    const x = this.validateData(data);
    const prepared = new PreparedCall(this.keyFor(context));
    try {
      await this.prepareParts(x, prepared.key, prepared);
    } catch (e) {
      prepared.dispose();
      throw e;
    }
    return prepared;
  }

  /**
   * Hook of {@link BaseLoss.prepare}: adds the call's host-solved work to `prepared` (e.g.
   * `prepared.addPair(coupling, data, noiseKey, coupleKey)` with the keys `computeParts` derives from `key`).
   * Default: nothing.
   */
  protected async prepareParts(_data: tf.Tensor2D, _key: RngKey, _prepared: PreparedCall): Promise<void> {}

  /**
   * {@link BaseLoss.compute} with the pre-pass: `prepare`, then `compute` with it, then its release. Works on
   * every backend, also with host-solved couplings on WebGPU, where the sync `compute` cannot read the cost. The
   * caller owns the output as with `compute`. Not for use inside a gradient tape (it awaits): there, pass
   * `context.prepared` to `compute`.
   */
  async computeAsync(data: tf.Tensor2D, context?: LossCallContext): Promise<LossOutput> {
    const prepared = await this.prepare(data, context);
    try {
      return this.compute(data, { ...context, key: prepared.key, prepared });
    } finally {
      prepared.dispose();
    }
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

  /** Names of the fields of {@link BaseLoss.saveState} (subclasses that save more extend it). */
  protected stateKeys(): readonly string[] {
    return ['stream'];
  }

  /**
   * Checks a saved state against this loss without changing anything: an object with only this loss's
   * fields (a persistent-CD state, which holds a replay buffer, is rejected by a denoising score-matching
   * loss), each valid. `loadState` and `fit({ resumeFrom })` call it before restoring anything.
   */
  validateState(state: unknown): asserts state is LossState {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      throw new EbmError('INVALID_PARAM', `${this.name}: the loss state must be an object.`, {
        argument: 'loss',
        value: state === null ? null : typeof state,
        fix: 'pass the object returned by loss.saveState().',
      });
    }
    const known = this.stateKeys();
    for (const k of Object.keys(state)) {
      if (!known.includes(k)) {
        throw new EbmError('INVALID_PARAM', `${this.name} cannot restore a loss state with a "${k}" field.`, {
          argument: `loss.${k}`,
          fix: `restore a checkpoint of the same kind of loss (${this.name}; its state holds ${known.join(', ')}).`,
        });
      }
    }
    const s = (state as { stream?: unknown }).stream;
    if (s !== undefined) {
      const st = s as { key?: unknown; counter?: unknown };
      if (s === null || typeof s !== 'object') {
        throw new EbmError('INVALID_PARAM', 'The loss state stream must be an object.', {
          argument: 'loss.stream',
          value: s === null ? null : typeof s,
          fix: 'pass the object returned by loss.saveState().',
        });
      }
      RngStream.fromJSON(st as { key: [number, number]; counter: number });
    }
  }

  /** Restores a state saved by {@link BaseLoss.saveState} (validated first: nothing changes on a bad state). */
  loadState(state: LossState): void {
    this.validateState(state);
    const s = state.stream as { key: [number, number]; counter: number } | undefined;
    if (s !== undefined) this.stream = RngStream.fromJSON(s);
  }

  /** Releases tensors the loss owns (replay buffers, variables). */
  dispose(): void {}
}
