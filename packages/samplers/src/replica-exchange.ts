import {
  assertInteger,
  assertOneOf,
  assertPositive,
  BaseSampler,
  EbmError,
  type EnergyFunction,
  type RngKey,
  runKernel,
  type SamplerState,
  type StepResult,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { type MHInfo, massFromInverse } from './mh-base.js';
import { hmcTransition, malaTransition, type PointSet, type TransitionResult } from './transitions.js';
import {
  checkMassDim,
  invMassTensor,
  type Mass,
  parseMass,
  parseOptions,
  type SamplerParams,
} from './util.js';

/**
 * Step info of {@link ReplicaExchange}: {@link MHInfo} of the cold (T₀) chains `[B]`, plus `swapRate`
 * `[B, K−1]`, the swap acceptance probability of every neighbouring temperature pair.
 */
export type ReplicaExchangeInfo = MHInfo & {
  /** min(1, α) of the swap of temperatures k ↔ k+1, per chain, `[B, K−1]`. */
  readonly swapRate: tf.Tensor2D;
};

/** Options of {@link ReplicaExchange}. */
export interface ReplicaExchangeOptions {
  /**
   * Temperature ladder T₀ < T₁ < … (at least 2). Replica k targets ∝ exp(−E/T_k); the returned samples are
   * those of T₀ (use T₀ = 1 for the energy's own distribution). Default: geometric 1 … 10 with 6 rungs.
   */
  readonly temperatures?: readonly number[];
  /** Move within each temperature: `'hmc'` (default) or `'mala'`. */
  readonly kernel?: 'hmc' | 'mala';
  /** Step size of the T₀ replica (default 0.1). */
  readonly stepSize?: number;
  /** Scale replica k's step by √(T_k/T₀) (default true): hotter targets are wider. */
  readonly scaleStepSize?: boolean;
  /** Leapfrog steps of the HMC move (default 5). */
  readonly nLeapfrogSteps?: number;
  /** Mass (scalar or diagonal) of the moves (default 1). */
  readonly mass?: Mass;
}

/** State of {@link ReplicaExchange}: the cold chains plus every replica stacked temperature-major. */
export interface ReplicaExchangeState extends SamplerState {
  /** Positions of the T₀ replica `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** E of the T₀ replica `[B]`. */
  readonly energy: tf.Tensor1D;
  /** All replicas `[K·B, D]`; rows k·B … (k+1)·B − 1 are temperature k. */
  readonly replicas: tf.Tensor2D;
  /** E of every replica `[K·B]`. */
  readonly replicaEnergy: tf.Tensor1D;
  /** ∇E of every replica `[K·B, D]`. */
  readonly replicaGrad: tf.Tensor2D;
}

/**
 * Replica exchange (parallel tempering) as a sampler. K replicas of each chain run at temperatures
 * T₀ < … < T_{K−1}; every step moves all K·B replicas at once with an MH kernel on π_k ∝ exp(−E/T_k)
 * (HMC or MALA, through core's kernels), then proposes swaps between neighbouring temperatures, vectorised
 * over chains, alternating even pairs (0↔1, 2↔3, …) on even steps and odd pairs on odd steps, accepted with
 * α = min(1, exp((β_k − β_{k+1})(E_k − E_{k+1}))), β = 1/T (through the `metropolisAccept` kernel).
 *
 * Step info (`ReplicaExchangeInfo`): `isAccepted` (0/1 per cold chain), `acceptanceRate` (min(1, α) of the
 * cold chains' moves), and `swapRate` `[B, K−1]`:
 * the swap acceptance probability of every neighbouring pair at that step (also for pairs not proposed at
 * that step, a Rao–Blackwellised estimate), so `diagnostics.swapRate` is `[nKept, K−1]`.
 *
 * @example
 * ```ts
 * const pt = new ReplicaExchange(mixture, { temperatures: [1, 2, 4, 8, 16], stepSize: 0.2 });
 * const r = pt.sampleSync({ nSamples: 64, dim: 1, nSteps: 500, diagnostics: true });
 * // r.diagnostics.swapRate: [500, 4]
 * ```
 */
export class ReplicaExchange extends BaseSampler<ReplicaExchangeState, ReplicaExchangeInfo> {
  readonly temperatures: readonly number[];
  readonly kernel: 'hmc' | 'mala';
  readonly stepSize: number;
  readonly scaleStepSize: boolean;
  readonly nLeapfrogSteps: number;
  readonly invMass: number | Float32Array;
  private readonly options: ReplicaExchangeOptions;

  constructor(energy: EnergyFunction, options?: ReplicaExchangeOptions) {
    super(energy, 'ReplicaExchange');
    const o = parseOptions('ReplicaExchange', options);
    this.options = o;
    const temps = o.temperatures ?? Array.from({ length: 6 }, (_, k) => 10 ** (k / 5));
    if (!Array.isArray(temps) || temps.length < 2) {
      throw new EbmError('INVALID_PARAM', 'temperatures must list at least 2 temperatures.', {
        argument: 'temperatures',
        value: temps,
        fix: 'pass an increasing ladder such as [1, 2, 4, 8].',
      });
    }
    temps.forEach((t, k) => {
      assertPositive(`temperatures[${k}]`, t);
      if (k > 0 && !(t > temps[k - 1]!)) {
        throw new EbmError('INVALID_PARAM', 'temperatures must be strictly increasing.', {
          argument: 'temperatures',
          value: temps,
          fix: 'sort the ladder, e.g. [1, 2, 4, 8], without repeats.',
        });
      }
    });
    this.temperatures = [...temps];
    this.kernel = assertOneOf('kernel', o.kernel ?? 'hmc', ['hmc', 'mala']);
    this.stepSize = assertPositive('stepSize', o.stepSize ?? 0.1);
    this.scaleStepSize = o.scaleStepSize ?? true;
    this.nLeapfrogSteps = assertInteger('nLeapfrogSteps', o.nLeapfrogSteps ?? 5, 1);
    this.invMass = parseMass('mass', o.mass, energy.dim).invMass;
  }

  /** Step size of the T₀ replica and inverse mass. */
  params(_t = 0): Required<SamplerParams> {
    return { stepSize: this.stepSize, invMass: this.invMass };
  }

  /** Same ladder and move with another T₀ step size and, optionally, inverse mass. */
  withParams(params: SamplerParams): ReplicaExchange {
    return new ReplicaExchange(this.energy, {
      ...this.options,
      stepSize: assertPositive('stepSize', params.stepSize),
      mass: massFromInverse(params.invMass ?? this.invMass),
    });
  }

  /** Number of temperatures K. */
  get nReplicas(): number {
    return this.temperatures.length;
  }

  protected initState(x: tf.Tensor2D, step: number): ReplicaExchangeState {
    checkMassDim('mass', this.invMass, x.shape[1]);
    const K = this.nReplicas;
    const replicas = tf.tile(x, [K, 1]) as tf.Tensor2D;
    const { energy, gradient } = this.energy.energyAndGradient(replicas, { checkFinite: false });
    const b = x.shape[0];
    const cold = tf.slice(energy, [0], [b]) as tf.Tensor1D;
    return { x, energy: cold, replicas, replicaEnergy: energy, replicaGrad: gradient, step };
  }

  /** Per-row [K·B, 1] column from per-temperature values. */
  private perRow(values: number[], b: number): tf.Tensor2D {
    return tf.tidy(() =>
      tf.reshape(tf.tile(tf.tensor2d(values, [values.length, 1]), [1, b]), [-1, 1]),
    ) as tf.Tensor2D;
  }

  step(state: ReplicaExchangeState, key: RngKey): StepResult<ReplicaExchangeState, ReplicaExchangeInfo> {
    const K = this.nReplicas;
    const [b, d] = state.x.shape;
    const T0 = this.temperatures[0]!;
    const betas = this.temperatures.map((t) => 1 / t);
    const [kMove, kSwap] = splitKey(key, 2) as [RngKey, RngKey];
    const beta = this.perRow(betas, b);
    const stepScale = this.scaleStepSize
      ? this.perRow(
          this.temperatures.map((t) => Math.sqrt(t / T0)),
          b,
        )
      : 1;
    const inv = invMassTensor(this.invMass);
    const cur: PointSet = { x: state.replicas, energy: state.replicaEnergy, grad: state.replicaGrad };
    let moved: TransitionResult;
    try {
      moved =
        this.kernel === 'hmc'
          ? hmcTransition(this.energy, cur, kMove, {
              stepSize: this.stepSize,
              invMass: inv,
              beta,
              stepScale,
              nLeapfrog: this.nLeapfrogSteps,
            })
          : malaTransition(this.energy, cur, kMove, {
              stepSize: this.stepSize,
              invMass: inv,
              beta,
              stepScale,
            });
    } finally {
      tf.dispose([beta, ...(typeof stepScale === 'number' ? [] : [stepScale])]);
      if (typeof inv !== 'number') inv.dispose();
    }

    // Swap-rate estimate of every neighbouring pair, [B, K−1].
    const swapRate = tf.tidy(() => {
      const e = tf.reshape(moved.energy, [K, b]);
      const lo = tf.slice(e, [0, 0], [K - 1, b]);
      const hi = tf.slice(e, [1, 0], [K - 1, b]);
      const dBeta = tf.tensor2d(
        betas.slice(0, K - 1).map((bk, k) => bk - betas[k + 1]!),
        [K - 1, 1],
      );
      const logA = tf.mul(dBeta, tf.sub(lo, hi));
      const p = tf.exp(tf.minimum(logA, 0));
      const ok = tf.logicalNot(tf.logicalOr(tf.isNaN(logA), tf.isInf(logA)));
      return tf.transpose(tf.where(ok, p, tf.zerosLike(p))) as tf.Tensor2D;
    });

    // Even-odd swaps: pairs (k, k+1) with k ≡ step (mod 2).
    const lows: number[] = [];
    for (let k = state.step % 2; k + 1 < K; k += 2) lows.push(k);
    let replicas = moved.x;
    let replicaEnergy = moved.energy;
    let replicaGrad = moved.grad;
    if (lows.length > 0) {
      const P = lows.length;
      const blocks = (t: tf.Tensor, ks: number[]) =>
        tf.tidy(() => {
          const r = tf.reshape(t, [K, b, ...t.shape.slice(1)]);
          const picked = tf.gather(r, tf.tensor1d(ks, 'int32'), 0);
          return tf.reshape(picked, [P * b, ...t.shape.slice(1)]);
        });
      const highs = lows.map((k) => k + 1);
      const xLo = blocks(moved.x, lows);
      const xHi = blocks(moved.x, highs);
      const eLo = blocks(moved.energy, lows) as tf.Tensor1D;
      const eHi = blocks(moved.energy, highs) as tf.Tensor1D;
      const gLo = blocks(moved.grad, lows);
      const gHi = blocks(moved.grad, highs);
      const logA = tf.tidy(() => {
        const dB = tf.reshape(
          tf.tile(
            tf.tensor2d(
              lows.map((k) => betas[k]! - betas[k + 1]!),
              [P, 1],
            ),
            [1, b],
          ),
          [-1],
        );
        return tf.mul(dB, tf.sub(eLo, eHi)) as tf.Tensor1D;
      });
      const { selected, accepted } = runKernel('metropolisAccept', {
        logAcceptRatio: logA,
        current: [xLo, eLo, gLo, xHi, eHi, gHi],
        proposal: [xHi, eHi, gHi, xLo, eLo, gLo],
        key: kSwap,
      });
      tf.dispose([xLo, xHi, eLo, eHi, gLo, gHi, logA, accepted]);
      const [nxLo, neLo, ngLo, nxHi, neHi, ngHi] = selected as tf.Tensor[];
      const rebuild = (orig: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor): tf.Tensor =>
        tf.tidy(() => {
          const tail = orig.shape.slice(1);
          const origBlocks = tf.split(tf.reshape(orig, [K, b, ...tail]), K, 0);
          const loBlocks = tf.split(tf.reshape(lo, [P, b, ...tail]), P, 0);
          const hiBlocks = tf.split(tf.reshape(hi, [P, b, ...tail]), P, 0);
          const parts = origBlocks.map((blk, k) => {
            const li = lows.indexOf(k);
            if (li >= 0) return loBlocks[li]!;
            const hiIdx = lows.indexOf(k - 1);
            if (hiIdx >= 0) return hiBlocks[hiIdx]!;
            return blk;
          });
          return tf.reshape(tf.concat(parts, 0), [K * b, ...tail]);
        });
      replicas = rebuild(moved.x, nxLo!, nxHi!) as tf.Tensor2D;
      replicaEnergy = rebuild(moved.energy, neLo!, neHi!) as tf.Tensor1D;
      replicaGrad = rebuild(moved.grad, ngLo!, ngHi!) as tf.Tensor2D;
      tf.dispose([...selected, moved.x, moved.energy, moved.grad]);
    }
    const x = tf.slice(replicas, [0, 0], [b, d]) as tf.Tensor2D;
    const energy = tf.slice(replicaEnergy, [0], [b]) as tf.Tensor1D;
    const isAccepted = tf.slice(moved.accepted, [0], [b]) as tf.Tensor1D;
    const acceptanceRate = tf.slice(moved.acceptProb, [0], [b]) as tf.Tensor1D;
    tf.dispose([moved.accepted, moved.acceptProb]);
    return {
      state: { x, energy, replicas, replicaEnergy, replicaGrad, step: state.step + 1 },
      info: { isAccepted, acceptanceRate, acceptProb: acceptanceRate, swapRate },
    };
  }
}
