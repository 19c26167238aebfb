import {
  assertInteger,
  assertNonNegative,
  EbmError,
  type EnergyFunction,
  optionKeys,
  type RngKey,
  randomNormal,
  type Sampler,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { BaseLoss, type BaseLossOptions, type LossParts, type LossState } from './base.js';
import { withoutTape } from './internal.js';
import { ReplayBuffer, type ReplayBufferOptions, type ReplayBufferState } from './replay-buffer.js';
import { assertSampler, disposeAllButSamples } from './sampling.js';

/** Options of {@link ContrastiveDivergence}. */
export interface ContrastiveDivergenceOptions extends BaseLossOptions {
  /** Sampler that produces the negatives (run without gradient). */
  readonly sampler: Sampler;
  /** Sampler steps k per loss evaluation (default 10). */
  readonly k?: number;
  /** Standard deviation of Gaussian noise added to the positives x⁺ = x + s·ξ (default 0: off). */
  readonly positiveNoise?: number;
}

/**
 * Contrastive divergence CD-k (Hinton 2002).
 *
 * L = mean E(x⁺) − mean E(x⁻) + λ·(mean E(x⁺)² + mean E(x⁻)²)
 *
 * with x⁺ the data (plus `positiveNoise`·ξ when set), x⁻ = k sampler steps started from the data, computed
 * with the gradient tape off (no gradient flows through the sampler), and λ = `energyL2`. The gradient with
 * respect to the energy's parameters θ is mean ∇θE(x⁺) − mean ∇θE(x⁻) (+ the regulariser's).
 * Metrics: `loss`, `energyPos` (mean E(x⁺)), `energyNeg` (mean E(x⁻)).
 *
 * @example
 * ```ts
 * const loss = new ContrastiveDivergence(energy, { sampler: new LangevinDynamics(energy, { stepSize: 0.01 }), k: 10 });
 * optimizer.minimize(() => loss.compute(batch).loss);
 * ```
 */
export class ContrastiveDivergence extends BaseLoss {
  readonly sampler: Sampler;
  /** Sampler steps per evaluation. */
  readonly k: number;
  /** Standard deviation of the noise on the positives (0 = off). */
  readonly positiveNoise: number;

  /** Option names (unknown names are an `INVALID_PARAM` that suggests the right one). */
  static readonly optionKeys = optionKeys<ContrastiveDivergenceOptions>({
    seed: true,
    energyL2: true,
    sampler: true,
    k: true,
    positiveNoise: true,
  });

  constructor(energy: EnergyFunction, options: ContrastiveDivergenceOptions, name?: string) {
    super(energy, options, name);
    this.sampler = assertSampler(options.sampler, this.name);
    this.k = assertInteger('k', options.k ?? 10, 1);
    this.positiveNoise = assertNonNegative('positiveNoise', options.positiveNoise ?? 0);
  }

  /** Start points of the chains (CD: a copy of the data). Runs with the tape off. */
  protected startPoints(data: tf.Tensor2D, _key: RngKey): tf.Tensor2D {
    return tf.clone(data);
  }

  /** Called with the negatives after sampling (PCD writes them to its buffer). Runs with the tape off. */
  protected afterSampling(_negatives: tf.Tensor2D): void {}

  /** Runs the sampler from `start` (tape off); returns the negatives `[B, D]`. */
  protected runSampler(start: tf.Tensor2D, key: RngKey): tf.Tensor2D {
    const r = this.sampler.sampleSync({ x0: start, nSteps: this.k, seed: key });
    const neg = disposeAllButSamples(r);
    if (neg.rank !== 2 || neg.shape[0] !== start.shape[0] || neg.shape[1] !== start.shape[1]) {
      const shape = neg.shape;
      neg.dispose();
      throw new EbmError('SHAPE_MISMATCH', `${this.sampler.name} returned samples of the wrong shape.`, {
        argument: 'sampler',
        value: shape,
        fix: `the sampler must return one sample per start point, [${start.shape.join(', ')}] (a replica-exchange sampler returns its coldest chain).`,
      });
    }
    return neg;
  }

  /** The negatives for a batch, without gradient. */
  protected negatives(data: tf.Tensor2D, kStart: RngKey, kSample: RngKey): tf.Tensor2D {
    return withoutTape(() => {
      const start = this.startPoints(data, kStart);
      let neg: tf.Tensor2D;
      try {
        neg = this.runSampler(start, kSample);
      } finally {
        start.dispose();
      }
      this.afterSampling(neg);
      return neg;
    });
  }

  /** x⁺: the data, plus `positiveNoise`·ξ (ξ from `kPos`) when set. */
  private positives(data: tf.Tensor2D, kPos: RngKey): tf.Tensor2D {
    return this.positiveNoise > 0
      ? (tf.add(data, tf.mul(randomNormal(kPos, data.shape), this.positiveNoise)) as tf.Tensor2D)
      : data;
  }

  /**
   * The positives and negatives of a call with `key`, drawn exactly as {@link BaseLoss.compute} draws them (same
   * key split, same sampler run; PCD's buffer is updated), without evaluating the energy: what a fused
   * training step (`fit` with the `train.mlpContrastiveAdam` kernel) needs. Runs with the tape off; the caller
   * owns both tensors. `stats` are the host-side metrics of the call (PCD: `reinitialised`).
   */
  contrastiveSamples(
    data: tf.Tensor2D,
    key: RngKey,
  ): { positives: tf.Tensor2D; negatives: tf.Tensor2D; stats: Record<string, number> } {
    const x = this.validateData(data);
    const [kPos, kStart, kSample] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    // As in compute: one tidy releases whatever the sampler and the buffer leave behind.
    const { positives, negatives } = tf.tidy(() =>
      withoutTape(() => {
        const p = this.positives(x, kPos);
        return { positives: p === x ? tf.clone(x) : p, negatives: this.negatives(x, kStart, kSample) };
      }),
    );
    return { positives, negatives, stats: this.sampleStats() };
  }

  /** Host metrics of the last {@link ContrastiveDivergence.contrastiveSamples} call (none for CD). */
  protected sampleStats(): Record<string, number> {
    return {};
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey): LossParts {
    const [kPos, kStart, kSample] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    const pos = this.positives(data, kPos);
    const neg = this.negatives(data, kStart, kSample);
    const ePos = this.energy.energy(pos, { checkFinite: false });
    const eNeg = this.energy.energy(neg, { checkFinite: false });
    const energyPos = tf.mean(ePos) as tf.Scalar;
    const energyNeg = tf.mean(eNeg) as tf.Scalar;
    let loss = tf.sub(energyPos, energyNeg) as tf.Scalar;
    const pen = this.energyPenalty(ePos, eNeg);
    if (pen !== undefined) loss = tf.add(loss, pen) as tf.Scalar;
    return { loss, negatives: neg, stats: { energyPos, energyNeg } };
  }
}

/** Options of {@link PersistentContrastiveDivergence}. */
export interface PersistentContrastiveDivergenceOptions extends ContrastiveDivergenceOptions {
  /** Replay buffer settings (capacity, re-initialisation probability, initial noise, burn-in). */
  readonly buffer?: ReplayBufferOptions;
}

/**
 * Persistent contrastive divergence (Tieleman 2008) with a replay buffer (Du & Mordatch 2019): the chains
 * start from buffer states instead of the data, and their end points are written back.
 *
 * L = mean E(x⁺) − mean E(x⁻) + λ·(mean E(x⁺)² + mean E(x⁻)²), x⁻ = k sampler steps from buffer draws.
 *
 * Per call: (1) on the first call the buffer is filled with noise and burnt in (`buffer.burnInSteps`);
 * (2) B start points are drawn stratified, and each is replaced by fresh noise with probability
 * `buffer.reinitProbability` (classic re-initialisation — not a jitter); (3) k sampler steps without gradient;
 * (4) the negatives overwrite the oldest buffer rows (FIFO). The buffer is part of {@link saveState}.
 * Metrics: `loss`, `energyPos`, `energyNeg`, `reinitialised` (rows drawn from noise).
 */
export class PersistentContrastiveDivergence extends ContrastiveDivergence {
  /** The replay buffer. */
  readonly buffer: ReplayBuffer;
  private lastReinit = 0;

  static override readonly optionKeys = optionKeys<PersistentContrastiveDivergenceOptions>({
    seed: true,
    energyL2: true,
    sampler: true,
    k: true,
    positiveNoise: true,
    buffer: true,
  });

  constructor(energy: EnergyFunction, options: PersistentContrastiveDivergenceOptions, name?: string) {
    super(energy, options, name);
    this.buffer = new ReplayBuffer(options.buffer);
  }

  protected override startPoints(data: tf.Tensor2D, key: RngKey): tf.Tensor2D {
    const [kFill, kDraw] = splitKey(key, 2) as [RngKey, RngKey];
    if (!this.buffer.initialized) this.buffer.fill(data.shape[1], kFill, this.sampler);
    const d = this.buffer.draw(data.shape[0], kDraw);
    this.lastReinit = d.reinitialised;
    return d.start;
  }

  protected override afterSampling(negatives: tf.Tensor2D): void {
    this.buffer.push(negatives);
  }

  protected override sampleStats(): Record<string, number> {
    return { reinitialised: this.lastReinit };
  }

  protected override computeParts(data: tf.Tensor2D, key: RngKey): LossParts {
    const parts = super.computeParts(data, key);
    return { ...parts, stats: { ...parts.stats, reinitialised: tf.scalar(this.lastReinit) } };
  }

  override async saveState(): Promise<LossState> {
    return { ...(await super.saveState()), buffer: await this.buffer.save() };
  }

  protected override stateKeys(): readonly string[] {
    return [...super.stateKeys(), 'buffer'];
  }

  override validateState(state: unknown): asserts state is LossState {
    super.validateState(state);
    const b = (state as LossState).buffer;
    if (b !== undefined) this.buffer.validateState(b);
  }

  override loadState(state: LossState): void {
    this.validateState(state);
    super.loadState(state);
    if (state.buffer !== undefined) this.buffer.load(state.buffer as ReplayBufferState);
  }

  override dispose(): void {
    this.buffer.dispose();
  }
}

/** Options of {@link ParallelTemperingCD}. */
export interface ParallelTemperingCDOptions extends PersistentContrastiveDivergenceOptions {
  /** Keep the chains in a replay buffer between calls (default `true`); `false` starts them at the data. */
  readonly persistent?: boolean;
}

/**
 * Contrastive divergence with negatives from a replica-exchange (parallel-tempering) sampler (Desjardins et
 * al. 2010). Same loss as {@link ContrastiveDivergence}; by default persistent, as in PCD.
 *
 * **Sampler expectation.** Any core `Sampler` is accepted. It must return, from `sampleSync({ x0, nSteps })`,
 * one state per start point as `samples` `[B, D]`: a replica-exchange sampler returns its coldest chain
 * (temperature 1), whose stationary law is the model's; hotter replicas stay internal to the sampler.
 * A sampler that returns another shape raises `SHAPE_MISMATCH`.
 */
export class ParallelTemperingCD extends PersistentContrastiveDivergence {
  /** Whether chains persist in the replay buffer. */
  readonly persistent: boolean;

  static override readonly optionKeys = optionKeys<ParallelTemperingCDOptions>({
    seed: true,
    energyL2: true,
    sampler: true,
    k: true,
    positiveNoise: true,
    buffer: true,
    persistent: true,
  });

  constructor(energy: EnergyFunction, options: ParallelTemperingCDOptions, name?: string) {
    super(energy, options, name);
    this.persistent = options.persistent ?? true;
  }

  protected override startPoints(data: tf.Tensor2D, key: RngKey): tf.Tensor2D {
    return this.persistent ? super.startPoints(data, key) : tf.clone(data);
  }

  protected override afterSampling(negatives: tf.Tensor2D): void {
    if (this.persistent) super.afterSampling(negatives);
  }
}
