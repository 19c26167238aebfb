import {
  assertInRange,
  assertInteger,
  assertPositive,
  EbmError,
  foldIn,
  type RngKey,
  randomNormal,
  toKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { MHParams, MHSampler, MHState } from './mh-base.js';

/** Options of {@link DualAveraging} (Hoffman & Gelman 2014, Algorithm 5; Stan's defaults). */
export interface DualAveragingOptions {
  /** Target mean acceptance probability δ ∈ (0, 1) (default 0.8). */
  readonly targetAcceptance?: number;
  /** Shrinkage γ (default 0.05). */
  readonly gamma?: number;
  /** Iteration offset t₀ (default 10). */
  readonly t0?: number;
  /** Decay κ of the averaging weights (default 0.75). */
  readonly kappa?: number;
}

/**
 * Dual-averaging step-size adaptation: after iteration t with mean acceptance a_t,
 * H̄_t = (1 − 1/(t+t₀))·H̄_{t−1} + (δ − a_t)/(t+t₀), log ε_t = μ − √t/γ·H̄_t,
 * log ε̄_t = t^{−κ}·log ε_t + (1 − t^{−κ})·log ε̄_{t−1}, with μ = log(10·ε₀). Use ε_t while adapting and ε̄ after.
 */
export class DualAveraging {
  readonly targetAcceptance: number;
  readonly gamma: number;
  readonly t0: number;
  readonly kappa: number;
  private mu = 0;
  private t = 0;
  private hBar = 0;
  private logEps = 0;
  private logEpsBar = 0;

  constructor(initialStepSize: number, options: DualAveragingOptions = {}) {
    this.targetAcceptance = assertInRange('targetAcceptance', options.targetAcceptance ?? 0.8, 0, 1, {
      loInclusive: false,
      hiInclusive: false,
    });
    this.gamma = assertPositive('gamma', options.gamma ?? 0.05);
    this.t0 = assertPositive('t0', options.t0 ?? 10);
    this.kappa = assertInRange('kappa', options.kappa ?? 0.75, 0, 1, { loInclusive: false });
    this.restart(initialStepSize);
  }

  /** Starts over from step size ε₀ (μ = log 10ε₀), as Stan does after each mass-matrix update. */
  restart(stepSize: number): void {
    assertPositive('stepSize', stepSize);
    this.mu = Math.log(10 * stepSize);
    this.t = 0;
    this.hBar = 0;
    this.logEps = Math.log(stepSize);
    this.logEpsBar = 0;
  }

  /** Feeds the mean acceptance probability of the last iteration; returns the next step size to use. */
  update(acceptance: number): number {
    const a = Number.isFinite(acceptance) ? Math.min(1, Math.max(0, acceptance)) : 0;
    this.t += 1;
    const w = 1 / (this.t + this.t0);
    this.hBar = (1 - w) * this.hBar + w * (this.targetAcceptance - a);
    this.logEps = this.mu - (Math.sqrt(this.t) / this.gamma) * this.hBar;
    const eta = this.t ** -this.kappa;
    this.logEpsBar = eta * this.logEps + (1 - eta) * this.logEpsBar;
    return Math.exp(this.logEps);
  }

  /** Step size to use while adapting. */
  get stepSize(): number {
    return Math.exp(this.logEps);
  }

  /** Averaged step size, to use after adaptation. */
  get finalStepSize(): number {
    return this.t === 0 ? Math.exp(this.logEps) : Math.exp(this.logEpsBar);
  }
}

/** Options of {@link windowAdaptation}. */
export interface WindowAdaptationOptions extends DualAveragingOptions {
  /** Initial states `[B, D]` (copied), or give `nSamples` (and `dim` when the energy has none). */
  readonly x0?: tf.Tensor2D;
  readonly nSamples?: number;
  readonly dim?: number;
  /** Warm-up iterations (default 500). */
  readonly nWarmup?: number;
  /** Adapt a diagonal inverse mass matrix in slow windows (default true). */
  readonly adaptMass?: boolean;
  /** Seed or key (default 0). Warm-up step t uses `foldIn(key, t)`, like a run. */
  readonly seed?: number | bigint | RngKey;
}

/** Result of {@link windowAdaptation}. The caller owns `state`. */
export interface WindowAdaptationResult<T extends MHSampler> {
  /** A new sampler of the same kind with the adapted step size and mass. */
  readonly sampler: T;
  readonly stepSize: number;
  /** Adapted inverse mass (variance estimates per dimension) or the unchanged scalar. */
  readonly invMass: number | Float32Array;
  /** The warmed-up state (its `step` is `nWarmup`): pass it as `resumeFrom`. */
  readonly state: MHState;
  /** Mean acceptance probability over the terminal window. */
  readonly acceptance: number;
}

/** Stan's warm-up schedule: init buffer, doubling slow windows, terminal buffer. Returns slow-window ends. */
export function warmupWindows(nWarmup: number): {
  initBuffer: number;
  termBuffer: number;
  windowEnds: number[];
} {
  let initBuffer = 75;
  let termBuffer = 50;
  let base = 25;
  if (nWarmup < initBuffer + termBuffer + base) {
    initBuffer = Math.floor(0.15 * nWarmup);
    termBuffer = Math.floor(0.1 * nWarmup);
    base = nWarmup - initBuffer - termBuffer;
  }
  const ends: number[] = [];
  const slowEnd = nWarmup - termBuffer;
  let start = initBuffer;
  let size = base;
  while (start < slowEnd) {
    let end = start + size;
    // Extend the last window when the next one would not fit.
    if (end + 2 * size > slowEnd) end = slowEnd;
    ends.push(end);
    start = end;
    size *= 2;
  }
  return { initBuffer, termBuffer, windowEnds: ends };
}

/**
 * Stan-style windowed warm-up for {@link MALA} and {@link HamiltonianMonteCarlo}: dual-averaging step-size
 * adaptation towards `targetAcceptance` throughout, and (with `adaptMass`) a diagonal inverse mass equal to
 * the regularised per-dimension variance of the draws of each slow window (doubling windows between a
 * 75-step initial and a 50-step terminal buffer; (n/(n+5))·var + 10⁻³·5/(n+5)). Dual averaging restarts
 * after each mass update. Each iteration reads one number (the chain-mean acceptance probability) back
 * from the device; the variance sums stay on the device until a window closes.
 *
 * @example
 * ```ts
 * const { sampler, state } = windowAdaptation(new HamiltonianMonteCarlo(energy, { nLeapfrogSteps: 10 }), {
 *   nSamples: 32, dim: 2, nWarmup: 500, targetAcceptance: 0.8,
 * });
 * const r = sampler.sampleSync({ resumeFrom: state, nSteps: 1000 });
 * ```
 */
export function windowAdaptation<T extends MHSampler>(
  sampler: T,
  options: WindowAdaptationOptions = {},
): WindowAdaptationResult<T> {
  if (sampler === null || typeof sampler !== 'object' || typeof sampler.stepWith !== 'function') {
    throw new EbmError('INVALID_PARAM', 'windowAdaptation needs a MALA or HamiltonianMonteCarlo sampler.', {
      argument: 'sampler',
      value: sampler === null ? null : typeof sampler,
      fix: 'pass new HamiltonianMonteCarlo(energy) or new MALA(energy).',
    });
  }
  const nWarmup = assertInteger('nWarmup', options.nWarmup ?? 500, 20);
  const adaptMass = options.adaptMass ?? true;
  const key = toKey(options.seed ?? 0, 'seed');
  let x0 = options.x0;
  let ownX0 = false;
  if (x0 === undefined) {
    const n = assertInteger('nSamples', options.nSamples ?? 1, 1);
    const dim = options.dim ?? sampler.energy.dim;
    if (dim === undefined) {
      throw new EbmError('INVALID_PARAM', 'Give x0 or dim: the energy has no fixed dimension.', {
        argument: 'dim',
        value: dim,
        fix: 'pass { x0 } or { nSamples, dim }.',
      });
    }
    x0 = randomNormal(foldIn(key, Number.MAX_SAFE_INTEGER), [n, assertInteger('dim', dim, 1)]) as tf.Tensor2D;
    ownX0 = true;
  }
  const da = new DualAveraging(sampler.params(0).stepSize, options);
  let state: MHState;
  try {
    state = sampler.init(x0);
  } finally {
    if (ownX0) x0.dispose();
  }
  const [b, d] = state.x.shape;
  let invMass: number | Float32Array = sampler.invMass;
  const { initBuffer, windowEnds } = warmupWindows(nWarmup);
  const windowStart = (i: number) => (i === 0 ? initBuffer : windowEnds[i - 1]!);
  let win = 0;
  let sum: tf.Tensor1D | undefined;
  let sumSq: tf.Tensor1D | undefined;
  let count = 0;
  let termAcc = 0;
  let termN = 0;
  const lastSlowEnd = windowEnds[windowEnds.length - 1] ?? initBuffer;
  try {
    for (let t = 0; t < nWarmup; t++) {
      const params: MHParams = { stepSize: da.stepSize, invMass };
      const { state: next, info } = sampler.stepWith(state, foldIn(key, state.step), params);
      sampler.disposeState(state);
      state = next;
      const accT = tf.mean(info.acceptProb!);
      const acc = accT.dataSync()[0]!;
      accT.dispose();
      tf.dispose(Object.values(info));
      da.update(acc);
      if (t >= lastSlowEnd) {
        termAcc += acc;
        termN++;
      }
      const inSlow = adaptMass && win < windowEnds.length && t >= windowStart(win) && t < windowEnds[win]!;
      if (inSlow) {
        const x = state.x;
        const s = tf.sum(x, 0) as tf.Tensor1D;
        const s2 = tf.tidy(() => tf.sum(tf.square(x), 0) as tf.Tensor1D);
        if (sum === undefined || sumSq === undefined) {
          sum = s;
          sumSq = s2;
        } else {
          const ns = tf.add(sum, s) as tf.Tensor1D;
          const ns2 = tf.add(sumSq, s2) as tf.Tensor1D;
          tf.dispose([sum, sumSq, s, s2]);
          sum = ns;
          sumSq = ns2;
        }
        count += b;
        if (t + 1 === windowEnds[win]) {
          const mean = sum.dataSync();
          const sq = sumSq.dataSync();
          const next: Float32Array = new Float32Array(d);
          for (let j = 0; j < d; j++) {
            const m = mean[j]! / count;
            const v = Math.max(0, (sq[j]! / count - m * m) * (count / Math.max(1, count - 1)));
            next[j] = (count / (count + 5)) * v + 1e-3 * (5 / (count + 5));
          }
          invMass = next;
          tf.dispose([sum, sumSq]);
          sum = undefined;
          sumSq = undefined;
          count = 0;
          win++;
          da.restart(da.stepSize);
        }
      }
    }
  } catch (e) {
    sampler.disposeState(state);
    throw e;
  } finally {
    tf.dispose([sum, sumSq].filter((v): v is tf.Tensor1D => v !== undefined));
  }
  const stepSize = da.finalStepSize;
  const tuned = sampler.withParams({ stepSize, invMass }) as T;
  return { sampler: tuned, stepSize, invMass, state, acceptance: termN > 0 ? termAcc / termN : Number.NaN };
}
