import {
  assertOneOf,
  EbmError,
  type EnergyFunction,
  type Interpolant,
  type InterpolantSpec,
  type RngKey,
  randomNormal,
  resolveInterpolant,
  splitKey,
  type TimeField,
  timeFieldDim,
  timeFieldFn,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { BaseLoss, type BaseLossOptions, type LossCallContext, type LossParts } from './base.js';
import { variablesOf } from './internal.js';
import {
  type FlowLossWeight,
  lossWeightAt,
  resolveLossWeight,
  resolveTimeSampling,
  sampleTimes,
  type TimeSampler,
  type TimeSampling,
  type TimeSamplingOptions,
} from './time-weighting.js';

/** Options of {@link FlowMatchingLoss}. */
export interface FlowMatchingOptions extends BaseLossOptions, TimeSamplingOptions {
  /** Interpolant (default `'linear'`). */
  readonly interpolant?: InterpolantSpec;
  /** What the model predicts (default `'velocity'`): target u_t, x₀ (noise) or the score −x₀/σ. */
  readonly prediction?: 'velocity' | 'noise' | 'score';
  /** Per-sample weight w(t) (default `'none'`). `velocity`: (λ/σ)², `likelihood`: λ/σ², λ the drift variance. */
  readonly lossWeight?: FlowLossWeight;
  /** Regress onto −u_t (Equilibrium-Matching style fields sampled with `negateVelocity`). Default false. */
  readonly negateVelocity?: boolean;
  /** Variables to train (default: the model's `trainableVariables`). */
  readonly variables?: readonly tf.Variable[];
}

const KEYS = [
  'seed',
  'energyL2',
  'interpolant',
  'prediction',
  'timeSampler',
  'trainEps',
  'logitMean',
  'logitStd',
  'lossWeight',
  'negateVelocity',
  'variables',
];

function fieldPlaceholder(name: string, dim: number | undefined): EnergyFunction {
  const fail = (): never => {
    throw new EbmError('NOT_IMPLEMENTED', `${name} is a time-conditioned field, not an energy.`, {
      argument: 'energy',
      fix: 'flow matching trains a field: use loss.model, and FlowSampler to sample.',
    });
  };
  return { name, dim, energy: fail, gradient: fail, energyAndGradient: fail };
}

/**
 * Conditional flow matching (Lipman et al. 2023; Liu et al. 2023; TorchEBM's `FlowMatchingLoss`):
 *
 * L = mean_b w(t_b)·mean_d (f_θ(x_t, t) − target)²,  x_t = α(t)x₁ + σ(t)x₀, x₀ ~ N(0, I), x₁ = data,
 *
 * with target u_t = α̇x₁ + σ̇x₀ (velocity; −u_t with `negateVelocity`), x₀ (noise) or −x₀/σ (score, as
 * (f·σ + x₀)², TorchEBM's form). t ~ U[eps, 1 − eps] or logit-normal. The minimiser is the marginal field
 * E[target | x_t] (e.g. the velocity the FlowSampler integrates). Works with `fit`: the model's variables are
 * the loss's `variables`; `energy` is a placeholder (a flow has none).
 * Metrics: `loss`.
 */
export class FlowMatchingLoss extends BaseLoss {
  readonly model: TimeField;
  readonly interpolant: Interpolant;
  readonly prediction: 'velocity' | 'noise' | 'score';
  readonly timeSampler: TimeSampler;
  readonly trainEps: number;
  readonly logitMean: number;
  readonly logitStd: number;
  readonly lossWeight: FlowLossWeight;
  readonly negateVelocity: boolean;
  override readonly variables: readonly tf.Variable[];
  private readonly fn: (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;
  private readonly times: TimeSampling;

  constructor(model: TimeField, options: FlowMatchingOptions = {}) {
    const fn = timeFieldFn(model);
    super(
      fieldPlaceholder(typeof model === 'object' && model.name ? model.name : 'field', timeFieldDim(model)),
      options,
      'FlowMatchingLoss',
    );
    for (const k of Object.keys(options)) {
      if (!KEYS.includes(k)) {
        throw new EbmError('INVALID_PARAM', `FlowMatchingLoss: unknown option "${k}".`, {
          argument: k,
          fix: `known options: ${KEYS.join(', ')}.`,
        });
      }
    }
    this.model = model;
    this.fn = fn;
    this.interpolant = resolveInterpolant(options.interpolant, 'FlowMatchingLoss');
    this.prediction = assertOneOf('prediction', options.prediction ?? 'velocity', [
      'velocity',
      'noise',
      'score',
    ]);
    this.times = resolveTimeSampling(options);
    this.timeSampler = this.times.timeSampler;
    this.trainEps = this.times.trainEps;
    this.logitMean = this.times.logitMean;
    this.logitStd = this.times.logitStd;
    this.lossWeight = resolveLossWeight(options.lossWeight);
    this.negateVelocity = options.negateVelocity ?? false;
    if (typeof this.negateVelocity !== 'boolean') {
      throw new EbmError('INVALID_PARAM', 'negateVelocity must be true or false.', {
        argument: 'negateVelocity',
        value: this.negateVelocity,
        fix: 'pass negateVelocity: true or leave it out.',
      });
    }
    this.variables = [...(options.variables ?? variablesOf(model))];
  }

  /** Times `[B]` for a batch. */
  sampleTimes(key: RngKey, n: number): tf.Tensor1D {
    return sampleTimes(this.times, key, n);
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey, _context?: LossCallContext): LossParts {
    const [kNoise, kTime] = splitKey(key, 2) as [RngKey, RngKey];
    const [b] = data.shape;
    const x0 = randomNormal(kNoise, data.shape) as tf.Tensor2D;
    const t = this.sampleTimes(kTime, b);
    const { xt, ut } = this.interpolant.interpolate(x0, data, t);
    const pred = this.fn(xt, t);
    const sigma = tf.reshape(this.interpolant.coefficients(t).sigma, [-1, 1]);
    let resid: tf.Tensor;
    if (this.prediction === 'velocity') resid = tf.sub(pred, this.negateVelocity ? tf.neg(ut) : ut);
    else if (this.prediction === 'noise') resid = tf.sub(pred, x0);
    else resid = tf.add(tf.mul(pred, sigma), x0);
    const perRow = tf.mean(tf.square(resid), 1);
    const w = lossWeightAt(this.lossWeight, this.interpolant, t);
    const loss = tf.mean(w === undefined ? perRow : tf.mul(w, perRow)) as tf.Scalar;
    return { loss, stats: {} };
  }
}
