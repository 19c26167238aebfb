/**
 * The runaway guard of `fit`: a divergence that stays finite.
 *
 * A contrastive loss L = mean E(x⁺) − mean E(x⁻) + λ(mean E(x⁺)² + mean E(x⁻)²) can diverge without a single
 * NaN: when the negatives stop looking like data (a sampler step too large for the data's scale, say), the model
 * becomes a classifier of data vs negatives and the energy gap g = E(x⁻) − E(x⁺) runs to the regulariser's
 * bound 1/λ (TorchEBM's documented recipe: g from ≈ 0.5 to ≈ 900 within 50 updates, loss → −1/(2λ)).
 *
 * The statistic is the gap, where the loss reports both `energyPos` and `energyNeg` (CD, PCD, PT-CD, NCE);
 * other losses are not watched. With a_t = |g_t|:
 * - fast average f_t = f_{t−1} + α(a_t − f_{t−1}), α = `smoothing` (default 0.2, about 5 updates);
 * - slow average s_t, rate 0.02 (about 50 updates): the gap's running scale;
 * - reference r = max(`floor`, s) taken at the last **restore point** (a checkpoint accepted while calm,
 *   f ≤ √ratio · r), so the reference does not follow a runaway that is already under way.
 *
 * The guard fires when f_t > `ratio` · r (defaults: ratio 10, floor 10 energy units: a gap must exceed 100 and
 * ten times its earlier scale). A healthy run's gap stays within a few units of zero (CD's gradient pushes the
 * two energies towards each other); slow growth over the run moves the reference with it, so only a jump of
 * the gap by an order of magnitude within about one checkpoint interval fires. `fit` then acts as for a
 * non-finite value: restore the last restore point, retry with fresh keys, `onRollback`, and `DIVERGED` after
 * `maxRollbacks` roll-backs of one incident.
 */
import { assertKnownOptions, assertPositive, EbmError, optionKeys } from '@ebm/core';

/** Options of the runaway guard (`fit`'s `runawayGuard`). */
export interface RunawayGuardOptions {
  /** The guard fires when the smoothed |E⁻ − E⁺| exceeds this multiple of its reference scale (default 10). */
  readonly ratio?: number;
  /** Reference scales below this (energy units) are raised to it (default 10). */
  readonly floor?: number;
  /** Rate of the fast average of |E⁻ − E⁺| (default 0.2, in (0, 1]). */
  readonly smoothing?: number;
}

const KEYS = optionKeys<RunawayGuardOptions>({ ratio: true, floor: true, smoothing: true });
const SLOW = 0.02;

/** State of a {@link RunawayDetector} (to restore with a checkpoint). */
export interface RunawayState {
  readonly fast: number | undefined;
  readonly slow: number | undefined;
  readonly reference: number;
  readonly fired: boolean;
}

/** Detects a runaway energy gap in a stream of step metrics (see the module docs). */
export class RunawayDetector {
  readonly ratio: number;
  readonly floor: number;
  readonly smoothing: number;
  private fast: number | undefined;
  private slow: number | undefined;
  private reference: number;
  private fired = false;

  constructor(options: RunawayGuardOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'runawayGuard must be false or an options object.', {
        argument: 'runawayGuard',
        value: options,
        fix: 'pass e.g. { ratio: 10, floor: 10 }, or false to turn the guard off.',
      });
    }
    assertKnownOptions('runawayGuard', options, KEYS);
    this.ratio = assertPositive('runawayGuard.ratio', options.ratio ?? 10);
    this.floor = assertPositive('runawayGuard.floor', options.floor ?? 10);
    this.smoothing = assertPositive('runawayGuard.smoothing', options.smoothing ?? 0.2);
    if (this.ratio <= 1 || this.smoothing > 1) {
      throw new EbmError('INVALID_PARAM', 'runawayGuard needs ratio > 1 and smoothing in (0, 1].', {
        argument: this.ratio <= 1 ? 'runawayGuard.ratio' : 'runawayGuard.smoothing',
        value: this.ratio <= 1 ? this.ratio : this.smoothing,
        fix: 'use the defaults (ratio 10, smoothing 0.2).',
      });
    }
    this.reference = this.floor;
  }

  /**
   * Feeds one step's metrics; returns `'energyGap'` when the guard fires (the step should not be applied),
   * otherwise `undefined`. Steps without both energies are ignored.
   */
  update(metrics: Readonly<Record<string, number>>): string | undefined {
    const pos = metrics.energyPos;
    const neg = metrics.energyNeg;
    if (pos === undefined || neg === undefined || !Number.isFinite(pos) || !Number.isFinite(neg))
      return undefined;
    const a = Math.abs(neg - pos);
    this.fast = this.fast === undefined ? a : this.fast + this.smoothing * (a - this.fast);
    this.slow = this.slow === undefined ? a : this.slow + SLOW * (a - this.slow);
    if (this.fast > this.ratio * this.reference) {
      this.fired = true;
      return 'energyGap';
    }
    return undefined;
  }

  /** Whether a checkpoint taken now may be a restore point (no runaway under way: f ≤ √ratio · r). */
  calm(): boolean {
    return !this.fired && (this.fast === undefined || this.fast <= Math.sqrt(this.ratio) * this.reference);
  }

  /** Marks a restore point: the reference becomes max(floor, slow average). */
  accept(): void {
    this.reference = Math.max(this.floor, this.slow ?? 0);
  }

  /** The smoothed gap, its running scale and the reference (for messages and tests). */
  get stats(): { fast: number | undefined; slow: number | undefined; reference: number } {
    return { fast: this.fast, slow: this.slow, reference: this.reference };
  }

  save(): RunawayState {
    return { fast: this.fast, slow: this.slow, reference: this.reference, fired: this.fired };
  }

  load(s: RunawayState): void {
    this.fast = s.fast;
    this.slow = s.slow;
    this.reference = s.reference;
    this.fired = s.fired;
  }
}
