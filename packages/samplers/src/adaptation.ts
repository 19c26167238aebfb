import {
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  assertSyncReadable,
  EbmError,
  foldIn,
  type RngKey,
  randomNormal,
  readSync,
  type SamplerState,
  type StepInfo,
  type StepResult,
  stateTensors,
  toKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { DUAL_AVERAGING_KEYS, WINDOW_ADAPTATION_KEYS } from './option-keys.js';

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
    assertKnownOptions('DualAveraging', options, DUAL_AVERAGING_KEYS);
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

/** Parameters window adaptation tunes: step size and (optionally) inverse mass. */
export interface AdaptedParams {
  readonly stepSize: number;
  /** Inverse mass, a number or one entry per dimension; absent for a sampler without a mass. */
  readonly invMass?: number | Float32Array;
}

/**
 * What {@link windowAdaptation} needs of a sampler: any sampler that exposes a step size (and optionally an
 * inverse mass) and can be rebuilt with other values. The built-in MALA, HMC and NUTS satisfy it; so does a
 * plugin sampler with these members.
 *
 * - `init` / `step` (and optionally `stepAsync`): the sampler seam. Step info must hold a per-chain
 *   acceptance probability min(1, α) `[B]`: `acceptanceRate` when the sampler follows the new convention
 *   (it also reports the 0/1 indicator `isAccepted`, or sets `acceptanceInfo: 'acceptanceRate'`), else
 *   `acceptProb` (the 0.1 convention); `acceptanceInfo` names another key.
 * - the current step size: `stepSize`, or `params(0).stepSize`; the inverse mass: `invMass` (absent: only
 *   the step size is adapted).
 * - `withParams({ stepSize, invMass })`: a sampler of the same kind with those values.
 * - optional fast paths `stepWith` / `stepWithAsync(state, key, params)`: one step with explicit values
 *   (otherwise each warm-up iteration steps a `withParams` copy).
 */
export interface AdaptableSampler<S extends SamplerState = SamplerState, Self = unknown> {
  readonly energy: { readonly dim?: number | undefined };
  init(x0: tf.Tensor2D, step?: number): S;
  step(state: S, key: RngKey): StepResult<S>;
  stepAsync?(state: S, key: RngKey): Promise<StepResult<S>>;
  disposeState(state: S): void;
  readonly stepSize?: number;
  params?(t?: number): AdaptedParams;
  readonly invMass?: number | Float32Array;
  withParams(params: { stepSize: number; invMass: number | Float32Array }): Self;
  stepWith?(
    state: S,
    key: RngKey,
    params: { stepSize: number; invMass: number | Float32Array },
  ): StepResult<S>;
  stepWithAsync?(
    state: S,
    key: RngKey,
    params: { stepSize: number; invMass: number | Float32Array },
  ): Promise<StepResult<S>>;
  /** Info key of the per-chain acceptance probability (default: see above). */
  readonly acceptanceInfo?: string;
}

/** Result of {@link windowAdaptation}. The caller owns `state`. */
export interface WindowAdaptationResult<T extends AdaptableSampler<SamplerState, unknown>> {
  /** A new sampler of the same kind with the adapted step size and mass. */
  readonly sampler: ReturnType<T['withParams']>;
  readonly stepSize: number;
  /** Adapted inverse mass (variance estimates per dimension) or the unchanged scalar. */
  readonly invMass: number | Float32Array;
  /** The warmed-up state (its `step` is `nWarmup`): pass it as `resumeFrom`. */
  readonly state: ReturnType<T['init']>;
  /** Mean acceptance probability over the terminal window. */
  readonly acceptance: number;
}

/** Stan's warm-up schedule: init buffer, doubling slow windows, terminal buffer. Returns slow-window ends. */
export function warmupWindows(nWarmup: number): {
  initBuffer: number;
  termBuffer: number;
  windowEnds: number[];
} {
  assertInteger('nWarmup', nWarmup, 0);
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
 * Stan-style windowed warm-up for any {@link AdaptableSampler} (MALA, HMC, NUTS, plugins): dual-averaging
 * step-size adaptation towards `targetAcceptance` throughout, and (with `adaptMass`, for a sampler with an
 * inverse mass) a diagonal inverse mass equal to the regularised per-dimension variance of the draws of each
 * slow window (doubling windows between a 75-step initial and a 50-step terminal buffer;
 * (n/(n+5))·var + 10⁻³·5/(n+5)). Dual averaging restarts after each mass update. Each iteration awaits one
 * number (the chain-mean acceptance probability); the variance sums stay on the device until a window
 * closes. Runs on every backend (WebGPU included); the sampler's `stepAsync` is used when it has one.
 *
 * @example
 * ```ts
 * const { sampler, state } = await windowAdaptation(new HamiltonianMonteCarlo(energy, { nLeapfrogSteps: 10 }), {
 *   nSamples: 32, dim: 2, nWarmup: 500, targetAcceptance: 0.8,
 * });
 * const r = await sampler.sample({ resumeFrom: state, nSteps: 1000 });
 * ```
 */
export async function windowAdaptation<T extends AdaptableSampler<SamplerState, unknown>>(
  sampler: T,
  options: WindowAdaptationOptions = {},
): Promise<WindowAdaptationResult<T>> {
  const run = adaptation(sampler, options);
  let r = run.next();
  try {
    while (!r.done) {
      const op = r.value;
      if (op.kind === 'read') r = run.next((await op.tensor.data()) as Float32Array);
      else r = run.next(await stepAsyncOf(sampler, op.state, op.key, op.params));
    }
  } catch (e) {
    run.return(undefined as never);
    throw e;
  }
  return r.value;
}

/**
 * {@link windowAdaptation}, synchronous: for cpu and wasm (and webgl); on a backend that cannot read
 * synchronously (WebGPU in Node) it throws `BACKEND_UNAVAILABLE` — use `await windowAdaptation(…)`.
 */
export function windowAdaptationSync<T extends AdaptableSampler<SamplerState, unknown>>(
  sampler: T,
  options: WindowAdaptationOptions = {},
): WindowAdaptationResult<T> {
  const api = 'windowAdaptationSync()';
  const alt = 'await windowAdaptation(sampler, options)';
  assertSyncReadable(api, alt);
  const run = adaptation(sampler, options);
  let r = run.next();
  try {
    while (!r.done) {
      const op = r.value;
      if (op.kind === 'read') r = run.next(readSync(op.tensor, api, alt) as Float32Array);
      else r = run.next(stepSyncOf(sampler, op.state, op.key, op.params));
    }
  } catch (e) {
    run.return(undefined as never);
    throw e;
  }
  return r.value;
}

type Params = { stepSize: number; invMass: number | Float32Array };
type Op =
  | { kind: 'read'; tensor: tf.Tensor }
  | { kind: 'step'; state: SamplerState; key: RngKey; params: Params };

function stepSyncOf(
  s: AdaptableSampler<SamplerState, unknown>,
  state: SamplerState,
  key: RngKey,
  params: Params,
): StepResult<SamplerState> {
  if (typeof s.stepWith === 'function') return s.stepWith(state, key, params);
  return (s.withParams(params) as AdaptableSampler<SamplerState, unknown>).step(state, key);
}

function stepAsyncOf(
  s: AdaptableSampler<SamplerState, unknown>,
  state: SamplerState,
  key: RngKey,
  params: Params,
): Promise<StepResult<SamplerState>> {
  if (typeof s.stepWithAsync === 'function') return s.stepWithAsync(state, key, params);
  if (typeof s.stepWith === 'function' && typeof s.stepAsync !== 'function')
    return Promise.resolve(s.stepWith(state, key, params));
  const copy = s.withParams(params) as AdaptableSampler<SamplerState, unknown>;
  return typeof copy.stepAsync === 'function'
    ? copy.stepAsync(state, key)
    : Promise.resolve(copy.step(state, key));
}

/** The info key holding the per-chain acceptance probability min(1, α). */
function acceptanceKey(s: AdaptableSampler<SamplerState, unknown>, info: StepInfo): string {
  if (typeof s.acceptanceInfo === 'string') return s.acceptanceInfo;
  // New convention: `isAccepted` is the 0/1 indicator and `acceptanceRate` the probability.
  if ('isAccepted' in info && 'acceptanceRate' in info) return 'acceptanceRate';
  if ('acceptProb' in info) return 'acceptProb';
  return 'acceptanceRate';
}

function currentStepSize(s: AdaptableSampler<SamplerState, unknown>): number {
  const v = typeof s.params === 'function' ? s.params(0).stepSize : s.stepSize;
  if (typeof v !== 'number') {
    throw new EbmError('INVALID_PARAM', 'windowAdaptation needs a sampler with a step size.', {
      argument: 'sampler',
      value: typeof v,
      fix: 'give the sampler a numeric `stepSize` (or `params(t)`) and `withParams({ stepSize, invMass })`.',
    });
  }
  return assertPositive('stepSize', v);
}

/** The warm-up as a generator of steps and reads (driven sync or async). */
function* adaptation<T extends AdaptableSampler<SamplerState, unknown>>(
  sampler: T,
  options: WindowAdaptationOptions,
): Generator<Op, WindowAdaptationResult<T>, Float32Array | StepResult<SamplerState>> {
  if (
    sampler === null ||
    typeof sampler !== 'object' ||
    typeof sampler.init !== 'function' ||
    typeof sampler.step !== 'function' ||
    typeof sampler.withParams !== 'function'
  ) {
    throw new EbmError(
      'INVALID_PARAM',
      'windowAdaptation needs a sampler with init, step, a step size and withParams.',
      {
        argument: 'sampler',
        value: sampler === null ? null : typeof sampler,
        fix: 'pass e.g. new HamiltonianMonteCarlo(energy), new MALA(energy) or new NUTS(energy).',
      },
    );
  }
  assertKnownOptions('windowAdaptation', options, WINDOW_ADAPTATION_KEYS);
  const nWarmup = assertInteger('nWarmup', options.nWarmup ?? 500, 20);
  const hasMass = sampler.invMass !== undefined;
  const adaptMass = (options.adaptMass ?? true) && hasMass;
  const key = toKey(options.seed ?? 0, 'seed');
  const daOptions = Object.fromEntries(
    DUAL_AVERAGING_KEYS.map((k) => [k, (options as Record<string, unknown>)[k]]).filter(
      ([, v]) => v !== undefined,
    ),
  ) as DualAveragingOptions;
  const da = new DualAveraging(currentStepSize(sampler), daOptions);
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
  let state: SamplerState;
  try {
    state = sampler.init(x0);
  } finally {
    if (ownX0) x0.dispose();
  }
  const [b, d] = state.x.shape;
  let invMass: number | Float32Array = sampler.invMass ?? 1;
  const { initBuffer, windowEnds } = warmupWindows(nWarmup);
  const windowStart = (i: number) => (i === 0 ? initBuffer : windowEnds[i - 1]!);
  let win = 0;
  let sum: tf.Tensor1D | undefined;
  let sumSq: tf.Tensor1D | undefined;
  let count = 0;
  let termAcc = 0;
  let termN = 0;
  const lastSlowEnd = windowEnds[windowEnds.length - 1] ?? initBuffer;
  let pending: tf.Tensor | undefined;
  try {
    for (let t = 0; t < nWarmup; t++) {
      const params: Params = { stepSize: da.stepSize, invMass };
      const { state: next, info } = (yield {
        kind: 'step',
        state,
        key: foldIn(key, state.step),
        params,
      }) as StepResult<SamplerState>;
      const held = new Set(stateTensors(next));
      for (const x of stateTensors(state)) if (!held.has(x)) x.dispose();
      state = next;
      const accKey = acceptanceKey(sampler, info);
      const accInfo = info[accKey];
      if (accInfo === undefined) {
        tf.dispose(Object.values(info).filter((v) => !held.has(v)));
        throw new EbmError('INVALID_PARAM', `The sampler's step info has no "${accKey}".`, {
          argument: 'sampler',
          value: Object.keys(info),
          fix: 'report the per-chain acceptance probability min(1, α) as info.acceptanceRate (with isAccepted) or info.acceptProb, or set acceptanceInfo.',
        });
      }
      pending = tf.mean(accInfo);
      tf.dispose(Object.values(info).filter((v) => !held.has(v)));
      const acc = ((yield { kind: 'read', tensor: pending }) as Float32Array)[0]!;
      pending.dispose();
      pending = undefined;
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
          const sums = sum;
          const sumsSq = sumSq;
          pending = tf.concat([sums, sumsSq]);
          const both = (yield { kind: 'read', tensor: pending }) as Float32Array;
          pending.dispose();
          pending = undefined;
          const next: Float32Array = new Float32Array(d);
          for (let j = 0; j < d; j++) {
            const m = both[j]! / count;
            const v = Math.max(0, (both[d + j]! / count - m * m) * (count / Math.max(1, count - 1)));
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
    for (const x of stateTensors(state)) x.dispose();
    throw e;
  } finally {
    pending?.dispose();
    tf.dispose([sum, sumSq].filter((v): v is tf.Tensor1D => v !== undefined));
  }
  const stepSize = da.finalStepSize;
  const tuned = sampler.withParams({ stepSize, invMass }) as ReturnType<T['withParams']>;
  return {
    sampler: tuned,
    stepSize,
    invMass,
    state: state as ReturnType<T['init']>,
    acceptance: termN > 0 ? termAcc / termN : Number.NaN,
  };
}
