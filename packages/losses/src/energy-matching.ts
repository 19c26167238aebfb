import {
  assertBatch,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  assertPositive,
  assertTensor,
  type Coupling,
  type CouplingSpec,
  chainKernelName,
  EbmError,
  type EnergyFunction,
  foldIn,
  type Interpolant,
  type InterpolantSpec,
  isEbmError,
  kernelSource,
  type RngKey,
  randomNormal,
  randomUniform,
  resolveCoupling,
  resolveInterpolant,
  runKernel,
  splitKey,
  TemperatureScheduler,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  BaseLoss,
  type BaseLossOptions,
  type LossCallContext,
  type LossParts,
  type LossState,
} from './base.js';
import { fusedFlowTerm } from './fused-flow-term.js';
import { withoutTape } from './internal.js';
import { coupledPair, type PreparedCall } from './prepared-call.js';

/** Options of {@link EnergyMatchingLoss} (defaults: TorchEBM's, i.e. the paper's 2-D set-up). */
export interface EnergyMatchingOptions extends BaseLossOptions {
  /** Coupling of noise and data for the flow term (default `'exactOt'`, TorchEBM's `'ot'`). */
  readonly coupling?: CouplingSpec;
  /** Interpolant (default `'linear'`). */
  readonly interpolant?: InterpolantSpec;
  /** Noise σ added to x_t (default 0.1). */
  readonly sigma?: number;
  /** Flow-weight cutoff a: w(t) = clip((1 − t)/(1 − a), 0, 1) (default 0.8). */
  readonly flowWeightCutoff?: number;
  /** Weight λ of the contrastive term in the joint phase (default 2; 0 = flow only). */
  readonly lambdaCd?: number;
  /** Top temperature ε_max of the Langevin chains (default 0.15). */
  readonly epsilonMax?: number;
  /** Virtual time τ* where the tempered chains start heating (default 0.8). */
  readonly tauStar?: number;
  /** Langevin steps per negative batch (default 200). */
  readonly nLangevinSteps?: number;
  /** Langevin step size (default 0.01). */
  readonly langevinDt?: number;
  /** Fraction of chains started from noise with the tempered schedule (default 0.5); the rest start at data. */
  readonly noiseFraction?: number;
  /** Fraction of the highest negative energies dropped from their mean (default 0.1). */
  readonly cdTrimFraction?: number;
  /** Lower clamp c of the contrastive term: L_cd = max(λ·cd, −c) (default 0.02). */
  readonly cdClamp?: number;
  /** Phase 1: the first `warmupSteps` calls use λ = 0 (flow only), then the joint phase (default 0). */
  readonly warmupSteps?: number;
  /**
   * Source distribution p₀ of the flow and of the noise-started chains, as samples `[N, D]` (e.g. 100 000 draws of
   * the paper's eight gaussians): each call draws its rows uniformly with replacement. Default: N(0, I). The loss
   * keeps a reference; the caller owns the tensor and keeps it alive while the loss is used.
   */
  readonly source?: tf.Tensor2D;
  /**
   * When the flow weight w(t) applies: `'always'` (default, TorchEBM) or `'joint'` (the paper's 2-D code: phase 1
   * regresses the whole path, w(t) only in the joint phase).
   */
  readonly flowWeighting?: 'always' | 'joint';
}

const KEYS = [
  'seed',
  'energyL2',
  'coupling',
  'interpolant',
  'sigma',
  'flowWeightCutoff',
  'lambdaCd',
  'epsilonMax',
  'tauStar',
  'nLangevinSteps',
  'langevinDt',
  'noiseFraction',
  'cdTrimFraction',
  'cdClamp',
  'warmupSteps',
  'source',
  'flowWeighting',
];

/** Energy Matching's flow weight w(t) = clip((1 − t)/(1 − a), 0, 1) `[B]` (TorchEBM's `compute_flow_weight`). */
export function flowWeight(t: tf.Tensor1D, cutoff = 0.8): tf.Tensor1D {
  assertTensor('t', t, { rank: 1 });
  return tf.tidy(() => tf.clipByValue(tf.div(tf.sub(1, t), 1 - cutoff), 0, 1)) as tf.Tensor1D;
}

/**
 * Mean of `values` `[n]` without the ⌊trim·n⌋ largest (TorchEBM's `trimmed_mean`). Differentiable in the kept
 * values (which ones are kept is decided on a detached copy).
 */
export function trimmedMean(values: tf.Tensor1D, trim: number): tf.Scalar {
  assertTensor('values', values, { rank: 1 });
  return tf.tidy(() => {
    const n = values.shape[0];
    const drop = Math.floor(trim * n);
    if (drop === 0 || drop >= n) return tf.mean(values) as tf.Scalar;
    // A 0/1 mask of the kept rows (no gradient), so the gradient flows through a product, not a gather (whose
    // gradient, UnsortedSegmentSum, the wasm backend lacks).
    const keep = withoutTape(() =>
      tf.sub(1, tf.sum(tf.oneHot(tf.topk(values, drop).indices, n, 1, 0, 'float32'), 0)),
    );
    return tf.div(tf.sum(tf.mul(values, keep)), n - drop) as tf.Scalar;
  });
}

/**
 * Energy Matching (Balcerak et al. 2025, arXiv:2504.10612; TorchEBM's `EnergyMatchingLoss`, §4.8): one scalar
 * energy V whose negative gradient is an optimal-transport flow far from the data and whose Boltzmann density
 * exp(−V/ε) is the data density near it.
 *
 * **Flow term.** x₀ ~ N(0, I) coupled with the data x₁ (`coupling`, default exact OT), t ~ U[0, 1),
 * x_t = α(t)x₁ + σ(t)x₀ + σ_n·ξ, u_t = α̇x₁ + σ̇x₀, L_flow = mean_b w_b·w(t_b)·mean_d (−∇V(x_t) − u_t)² with
 * {@link flowWeight} and the coupling's weights w_b (1 when absent).
 *
 * **Contrastive term** (when λ > 0). Negatives from B Langevin chains x ← x − Δ∇V(x) + s_k√(2Δ)ξ run on the
 * current V without the gradient tape: ⌊round(B·noiseFraction)⌉ chains start from N(0, I) with the tempered noise
 * scale s_k = √ε(k) of `TemperatureScheduler(ε_max, τ*, nLangevinSteps)` (zero noise until τ*, then heating to
 * ε_max), the others start from random data rows at s = √ε_max. cd = mean V(x⁺) − trimmedMean(V(x⁻), trim),
 * L_cd = max(λ·cd, −cdClamp).
 * {@link EnergyMatchingLoss.sample} runs the tempered chains from given starting points (the paper's sampler).
 *
 * L = L_flow + L_cd (+ λ_E·(mean V(x⁺)² + mean V(x⁻)²) with `energyL2` = λ_E > 0; flow phase: λ_E·mean V(x⁺)²;
 * default 0, as the paper and TorchEBM). The negatives are a stop-gradient: ∇θL_cd = λ(mean ∇θV(x⁺) − mean
 * ∇θV(x⁻)) with x⁻ fixed — the authors' `experiments/toy2d` (`loss_ebm = Epos − Eneg`, `ebm_weight` = λ = 2).
 * **Two-phase training**: the first `warmupSteps` calls use λ = 0 (flow only), later calls
 * λ = `lambdaCd` (or call {@link EnergyMatchingLoss.setLambdaCd}).
 *
 * Deviation from TorchEBM: the negatives come from a built-in Langevin loop (the per-chain temperature schedule
 * is not expressible through the generic sampler seam), not from a `sampler` option. With an energy whose fused
 * whole-chain kernel is registered (an `MLPEnergy`: `chain.mlp`), that loop is two kernel calls with per-step
 * noise scales (see `chains`), not one autograd gradient per step.
 * Metrics: `loss`, `flowLoss`, and with the contrastive term `cdGap` (cd), `energyPos`, `energyNeg`.
 */
export class EnergyMatchingLoss extends BaseLoss {
  readonly coupling: Coupling;
  readonly interpolant: Interpolant;
  readonly sigma: number;
  readonly flowWeightCutoff: number;
  readonly epsilonMax: number;
  readonly tauStar: number;
  readonly nLangevinSteps: number;
  readonly langevinDt: number;
  readonly noiseFraction: number;
  readonly cdTrimFraction: number;
  readonly cdClamp: number;
  readonly warmupSteps: number;
  readonly flowWeighting: 'always' | 'joint';
  private readonly source: tf.Tensor2D | undefined;
  private lambda: number;
  private calls = 0;
  private readonly schedule: TemperatureScheduler;

  constructor(energy: EnergyFunction, options: EnergyMatchingOptions = {}) {
    super(energy, options, 'EnergyMatchingLoss');
    assertKnownOptions('EnergyMatchingLoss', options, KEYS);
    this.coupling = resolveCoupling(options.coupling, 'exactOt', 'EnergyMatchingLoss');
    this.interpolant = resolveInterpolant(options.interpolant, 'EnergyMatchingLoss');
    this.sigma = assertNonNegative('sigma', options.sigma ?? 0.1);
    this.flowWeightCutoff = assertInRange('flowWeightCutoff', options.flowWeightCutoff ?? 0.8, 0, 1, {
      hiInclusive: false,
    });
    this.lambda = assertNonNegative('lambdaCd', options.lambdaCd ?? 2);
    this.epsilonMax = assertNonNegative('epsilonMax', options.epsilonMax ?? 0.15);
    this.tauStar = assertInRange('tauStar', options.tauStar ?? 0.8, 0, 1, { hiInclusive: false });
    this.nLangevinSteps = assertInteger('nLangevinSteps', options.nLangevinSteps ?? 200, 1);
    this.langevinDt = assertPositive('langevinDt', options.langevinDt ?? 0.01);
    this.noiseFraction = assertInRange('noiseFraction', options.noiseFraction ?? 0.5, 0, 1);
    this.cdTrimFraction = assertInRange('cdTrimFraction', options.cdTrimFraction ?? 0.1, 0, 1, {
      hiInclusive: false,
    });
    this.cdClamp = assertNonNegative('cdClamp', options.cdClamp ?? 0.02);
    this.warmupSteps = assertInteger('warmupSteps', options.warmupSteps ?? 0, 0);
    this.flowWeighting = assertOneOf('flowWeighting', options.flowWeighting ?? 'always', [
      'always',
      'joint',
    ] as const);
    if (options.source !== undefined) {
      if (options.source.isDisposed) {
        throw new EbmError('INVALID_PARAM', 'The source samples are disposed.', {
          argument: 'source',
          value: 'disposed tensor',
          fix: 'keep the source tensor alive while the loss is used.',
        });
      }
      this.source = assertBatch('source', options.source, energy.dim);
    }
    this.schedule = new TemperatureScheduler(this.epsilonMax, {
      tauStar: this.tauStar,
      nSteps: this.nLangevinSteps,
    });
  }

  /** λ of the joint phase. */
  get lambdaCd(): number {
    return this.lambda;
  }

  /** Sets λ (e.g. 0 for the flow-only phase, then the paper's value for the joint phase). */
  setLambdaCd(value: number): void {
    this.lambda = assertNonNegative('lambdaCd', value);
  }

  /** Whether call number `call` (0-based) uses the contrastive term. */
  cdActive(call: number = this.calls): boolean {
    return this.lambda > 0 && call >= this.warmupSteps;
  }

  /**
   * n draws of the source p₀ `[n, d]`: N(0, I), or rows of `source` picked uniformly with replacement
   * (index ⌊u·N⌋, u ~ U[0, 1) from `key`). The caller owns the result.
   */
  drawSource(key: RngKey, n: number, d: number): tf.Tensor2D {
    const src = this.source;
    if (src === undefined) return randomNormal(key, [n, d]) as tf.Tensor2D;
    if (src.isDisposed) {
      throw new EbmError('STATE_ERROR', 'The source samples were disposed while the loss uses them.', {
        argument: 'source',
        fix: 'keep the source tensor alive while the loss is used.',
      });
    }
    return tf.tidy(() => {
      const rows = src.shape[0];
      const idx = tf.cast(tf.minimum(tf.floor(tf.mul(randomUniform(key, [n]), rows)), rows - 1), 'int32');
      return tf.gather(src, idx) as tf.Tensor2D;
    });
  }

  /**
   * Langevin chains x ← x − Δ∇V(x) + s_k√(2Δ)ξ_k on the current V without the gradient tape, from `x` (not
   * disposed): the first `nTempered` rows use the tempered scale s_k = √ε(k), the others √ε_max.
   *
   * When the energy has a kernel hint whose whole-chain kernel `chain.<kind>` the active backend registered (an
   * `MLPEnergy`: `chain.mlp` on webgpu, wasm, cpu), the chains run as at most two fused calls — the tempered
   * rows with per-step `noiseScales` s_k, the others at the constant √ε_max — instead of a step loop of
   * autograd gradients. The tempered rows draw ξ_k from the same stream as the step loop (step k:
   * `foldIn(key, k)`, row r's elements r·D + j), the √ε_max rows from the independent key `splitKey(key, 2)[1]`
   * when both groups are present; a kernel that declines (`NOT_IMPLEMENTED`) leaves the step loop to run.
   */
  private chains(
    x0: tf.Tensor2D,
    nTempered: number,
    key: RngKey,
    schedule: TemperatureScheduler = this.schedule,
  ): tf.Tensor2D {
    const fused = this.fusedChains(x0, nTempered, key, schedule);
    if (fused !== undefined) return fused;
    return withoutTape(() => {
      const [b, d] = x0.shape;
      const dt = this.langevinDt;
      const cold = Math.sqrt(this.epsilonMax);
      let x = tf.clone(x0);
      try {
        for (let k = 0; k < schedule.nSteps; k++) {
          const hot = schedule.valueAt(k);
          const next = tf.tidy(() => {
            const g = this.energy.gradient(x, { checkFinite: false });
            const xi = randomNormal(foldIn(key, k), [b, d]);
            const scales =
              nTempered === b
                ? tf.scalar(hot)
                : tf.concat([tf.fill([nTempered, 1], hot), tf.fill([b - nTempered, 1], cold)], 0);
            return tf.add(
              tf.sub(x, tf.mul(dt, g)),
              tf.mul(tf.mul(scales, Math.sqrt(2 * dt)), xi),
            ) as tf.Tensor2D;
          });
          x.dispose();
          x = next;
        }
        return x;
      } catch (e) {
        x.dispose();
        throw e;
      }
    });
  }

  /** {@link EnergyMatchingLoss.chains} through the fused whole-chain kernel, or `undefined` when none runs it. */
  private fusedChains(
    x0: tf.Tensor2D,
    nTempered: number,
    key: RngKey,
    schedule: TemperatureScheduler,
  ): tf.Tensor2D | undefined {
    const hint = this.energy.kernelHint;
    if (hint === undefined || hint === null || typeof hint.kind !== 'string') return undefined;
    const name = chainKernelName(hint.kind) as `chain.${string}`;
    if (kernelSource(name) !== 'backend') return undefined;
    const [b, d] = x0.shape;
    const n = schedule.nSteps;
    const settings = { stepSize: this.langevinDt, noiseScale: Math.sqrt(this.epsilonMax) };
    const run = (x: tf.Tensor2D, k: RngKey, noiseScales?: Float32Array): tf.Tensor2D =>
      runKernel(name, {
        method: 'langevin',
        x0: x,
        nSteps: n,
        key: k,
        startStep: 0,
        params: hint.params,
        settings,
        ...(noiseScales === undefined ? {} : { noiseScales }),
      } as never) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [];
    const temps: tf.Tensor[] = [];
    try {
      return withoutTape(() => {
        if (nTempered > 0) {
          const scales = new Float32Array(n);
          for (let k = 0; k < n; k++) scales[k] = schedule.valueAt(k);
          const xt = nTempered === b ? x0 : (tf.slice(x0, [0, 0], [nTempered, d]) as tf.Tensor2D);
          if (xt !== x0) temps.push(xt);
          parts.push(run(xt, key, scales));
        }
        if (nTempered < b) {
          const xc = nTempered === 0 ? x0 : (tf.slice(x0, [nTempered, 0], [b - nTempered, d]) as tf.Tensor2D);
          if (xc !== x0) temps.push(xc);
          parts.push(run(xc, nTempered === 0 ? key : (splitKey(key, 2)[1] as RngKey)));
        }
        if (parts.length === 1) return parts.pop()!;
        return tf.concat(parts, 0) as tf.Tensor2D;
      });
    } catch (e) {
      if (isEbmError(e, 'NOT_IMPLEMENTED')) return undefined;
      throw e;
    } finally {
      tf.dispose([...parts, ...temps]);
    }
  }

  /**
   * The negatives of one call: B tempered-Langevin chains on the current V (no gradient tape). The first
   * ⌊round(B·noiseFraction)⌉ start from N(0, I) and heat up per the temperature schedule; the rest start at
   * random rows of `data` at √ε_max.
   */
  negatives(data: tf.Tensor2D, key: RngKey): tf.Tensor2D {
    const [b, d] = data.shape;
    const nNoise = Math.round(b * this.noiseFraction);
    const [kStart, kPick, kSteps] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    const start = withoutTape(() =>
      tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        if (nNoise > 0) parts.push(this.drawSource(kStart, nNoise, d));
        if (b - nNoise > 0) {
          const u = randomUniform(kPick, [b - nNoise]);
          const idx = tf.cast(tf.minimum(tf.floor(tf.mul(u, b)), b - 1), 'int32');
          parts.push(tf.gather(data, idx) as tf.Tensor2D);
        }
        return tf.concat(parts, 0) as tf.Tensor2D;
      }),
    );
    try {
      return this.chains(start, nNoise, kSteps);
    } finally {
      start.dispose();
    }
  }

  /**
   * Samples the trained energy as the paper does: tempered Langevin (`nSteps` steps, default `nLangevinSteps`,
   * of size `langevinDt`, noise scale √ε(k) of `TemperatureScheduler(ε_max, τ*, nSteps)`: deterministic descent
   * until τ*, then heating to ε_max) from `x0` (e.g. N(0, I) draws; not disposed). The caller owns the result.
   */
  sample(x0: tf.Tensor2D, key: RngKey = this.keyFor(), nSteps: number = this.nLangevinSteps): tf.Tensor2D {
    const n = assertInteger('nSteps', nSteps, 1);
    const schedule =
      n === this.nLangevinSteps
        ? this.schedule
        : new TemperatureScheduler(this.epsilonMax, { tauStar: this.tauStar, nSteps: n });
    return this.chains(assertBatch('x0', x0, this.energy.dim), x0.shape[0], key, schedule);
  }

  /**
   * The flow term's regression inputs of call number `call` under `key` (as `computeParts` draws them): x_t, the
   * targets u_t, w(t) and the coupling's pair weights (absent = 1).
   */
  private flowInputs(
    data: tf.Tensor2D,
    key: RngKey,
    call: number,
    prepared: PreparedCall | undefined,
  ): { xt: tf.Tensor2D; ut: tf.Tensor2D; fw: tf.Tensor1D; pairWeights: tf.Tensor1D | undefined } {
    const [kNoise, kTime, kCouple, kXi] = splitKey(key, 5) as [RngKey, RngKey, RngKey, RngKey];
    const [b] = data.shape;
    const pair = coupledPair(this.coupling, data, kNoise, kCouple, prepared, this.name, (k, n, d) =>
      this.drawSource(k, n, d),
    );
    const t = randomUniform(kTime, [b]) as tf.Tensor1D;
    const { xt: xClean, ut } = this.interpolant.interpolate(pair.x0, pair.x1, t);
    const xt = this.sigma > 0 ? tf.add(xClean, tf.mul(this.sigma, randomNormal(kXi, xClean.shape))) : xClean;
    // w(t) always (TorchEBM) or only in the joint phase (the paper's 2-D code); 1 otherwise
    const weighted = this.flowWeighting === 'always' || this.cdActive(call);
    const fw = weighted ? flowWeight(t, this.flowWeightCutoff) : (tf.onesLike(t) as tf.Tensor1D);
    return { xt: xt as tf.Tensor2D, ut: ut as tf.Tensor2D, fw, pairWeights: pair.weights };
  }

  /**
   * Whether the next call is the flow term alone, L = Σ_b c_b‖∇ₓV(x_b) + u_b‖² (the flow phase, `energyL2` = 0):
   * a gradient regression that `fit` may train through the fused `train.mlpGradientRegressionAdam` step.
   */
  nextCallIsFlowRegression(): boolean {
    return !this.cdActive(this.calls) && this.energyL2 === 0;
  }

  /**
   * `fit`'s fused flow step (requires {@link EnergyMatchingLoss.nextCallIsFlowRegression}): the next call's
   * regression on `data` under `key` — rows x_t, targets u_t and row weights c_b = w_b·w(t_b)/(B·D), exactly as
   * `compute(data, { key, prepared })` draws them (the caller owns them) — and `consume()`, which counts the call
   * (as `compute` would) once the step ran.
   */
  flowRegression(
    data: tf.Tensor2D,
    key: RngKey,
    prepared?: PreparedCall,
  ): { x: tf.Tensor2D; targets: tf.Tensor2D; rowWeights: tf.Tensor1D; consume: () => void } {
    const x = this.validateData(data);
    const call = this.calls;
    const out = tf.tidy(() =>
      withoutTape(() => {
        const { xt, ut, fw, pairWeights } = this.flowInputs(x, key, call, prepared);
        const [b, d] = xt.shape;
        const c = tf.div(pairWeights === undefined ? fw : tf.mul(pairWeights, fw), b * d) as tf.Tensor1D;
        return { x: xt, targets: ut, rowWeights: c };
      }),
    );
    return {
      ...out,
      consume: () => {
        if (this.calls === call) this.calls++;
      },
    };
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey, context?: LossCallContext): LossParts {
    const call = this.calls++;
    const [, , , , kNeg] = splitKey(key, 5) as [RngKey, RngKey, RngKey, RngKey, RngKey];
    const { xt, ut, fw, pairWeights } = this.flowInputs(data, key, call, context?.prepared);
    // The fused kernel (webgpu, MLP energies) when available, else double back-propagation by autograd.
    const flowLoss =
      fusedFlowTerm(this.energy, xt, ut, fw, pairWeights) ??
      (() => {
        const g = this.energy.gradient(xt, { checkFinite: false });
        let perRow: tf.Tensor = tf.mul(fw, tf.mean(tf.square(tf.add(g, ut)), 1));
        if (pairWeights !== undefined) perRow = tf.mul(pairWeights, perRow);
        return tf.mean(perRow) as tf.Scalar;
      })();
    const stats: Record<string, tf.Scalar> = {};
    if (context?.metrics !== false) stats.flowLoss = flowLoss;
    if (!this.cdActive(call)) {
      // energyL2 > 0: + λ_E·mean V(x⁺)² (the flow term alone fixes V only up to a constant)
      if (this.energyL2 === 0) return { loss: flowLoss, stats };
      const pen = this.energyPenalty(this.energy.energy(data, { checkFinite: false }))!;
      return { loss: tf.add(flowLoss, pen) as tf.Scalar, stats };
    }
    const neg = this.negatives(data, kNeg);
    const ePosRows = this.energy.energy(data, { checkFinite: false });
    const ePos = tf.mean(ePosRows) as tf.Scalar;
    const eNegRows = this.energy.energy(neg, { checkFinite: false });
    const eNeg = trimmedMean(eNegRows, this.cdTrimFraction);
    const cd = tf.sub(ePos, eNeg) as tf.Scalar;
    const lcd = tf.maximum(tf.mul(this.lambda, cd), -this.cdClamp);
    if (context?.metrics !== false) Object.assign(stats, { cdGap: cd, energyPos: ePos, energyNeg: eNeg });
    // energyL2 > 0: + λ_E·(mean V(x⁺)² + mean V(x⁻)²), as the contrastive losses
    const pen = this.energyPenalty(ePosRows, eNegRows);
    const total = tf.add(flowLoss, lcd) as tf.Scalar;
    return { loss: pen === undefined ? total : (tf.add(total, pen) as tf.Scalar), negatives: neg, stats };
  }

  override async saveState(): Promise<LossState> {
    return { ...(await super.saveState()), calls: this.calls, lambdaCd: this.lambda };
  }

  protected override stateKeys(): readonly string[] {
    return [...super.stateKeys(), 'calls', 'lambdaCd'];
  }

  override validateState(state: unknown): asserts state is LossState {
    super.validateState(state);
    const { calls, lambdaCd } = state as LossState;
    if (calls !== undefined) assertInteger('loss.calls', calls, 0);
    if (lambdaCd !== undefined) assertNonNegative('loss.lambdaCd', lambdaCd);
  }

  override loadState(state: LossState): void {
    super.loadState(state);
    if (typeof state.calls === 'number') this.calls = state.calls;
    if (typeof state.lambdaCd === 'number') this.lambda = state.lambdaCd;
  }

  /** Pre-pass (`prepare`, `fit`): the flow term's coupling with asynchronous reads, under `computeParts`' keys. */
  protected override async prepareParts(
    data: tf.Tensor2D,
    key: RngKey,
    prepared: PreparedCall,
  ): Promise<void> {
    const [kNoise, , kCouple] = splitKey(key, 5) as [RngKey, RngKey, RngKey];
    await prepared.addPair(this.coupling, data, kNoise, kCouple, (k, n, d) => this.drawSource(k, n, d));
  }
}
