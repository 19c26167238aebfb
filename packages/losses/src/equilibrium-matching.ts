import {
  assertBatch,
  assertInRange,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  assertPositive,
  assertTensor,
  type Coupling,
  type CouplingSpec,
  EbmError,
  type EnergyFunction,
  type Interpolant,
  type InterpolantSpec,
  type RngKey,
  resolveCoupling,
  resolveInterpolant,
  splitKey,
  type TimeField,
  timeFieldDim,
  timeFieldFn,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { BaseLoss, type BaseLossOptions, type LossCallContext, type LossParts } from './base.js';
import { variablesOf } from './internal.js';
import { coupledPair, type PreparedCall } from './prepared-call.js';
import {
  type FlowLossWeight,
  lossWeightAt,
  resolveLossWeight,
  resolveTimeSampling,
  sampleTimes,
  type TimeSampling,
} from './time-weighting.js';

/** How the EqM model gives its gradient field (TorchEBM's `energy_type`). */
export type EqMEnergyKind = 'none' | 'dot' | 'mean' | 'l2';

/** A model that also returns a hidden representation (for the dispersive loss). */
export interface DispersiveField {
  applyWithHidden(x: tf.Tensor2D, t: tf.Tensor1D): { output: tf.Tensor2D; hidden: tf.Tensor2D };
}

/** Options of {@link EquilibriumMatchingLoss}. */
export interface EquilibriumMatchingOptions extends BaseLossOptions {
  /** What the model predicts (default `'velocity'`: the equilibrium gradient). */
  readonly prediction?: 'velocity' | 'noise' | 'score';
  /**
   * Velocity prediction only: `'none'` (default; the output is the field), or an explicit scalar g whose ∇ₓg is
   * the field: `'dot'` g = x·f, `'mean'` g = mean(x ⊙ f), `'l2'` g = −½‖f‖².
   */
  readonly energyType?: EqMEnergyKind;
  /** Interpolant (default `'linear'`). */
  readonly interpolant?: InterpolantSpec;
  /** Coupling of noise and data (default `'independent'`). */
  readonly coupling?: CouplingSpec;
  /** Per-sample weight w(t) (default `'none'`); `velocity`: (λ/σ)², `likelihood`: λ/σ². */
  readonly lossWeight?: FlowLossWeight;
  /** t ~ U[eps, 1 − eps] (default 0). */
  readonly trainEps?: number;
  /** c(t) threshold a ∈ [0, 1) (default 0.8). */
  readonly ctThreshold?: number;
  /** c(t) multiplier λ > 0 (default 4). */
  readonly ctMultiplier?: number;
  /** Add the dispersive loss on the model's hidden features (default false; needs `applyWithHidden`). */
  readonly applyDispersion?: boolean;
  /** Weight of the dispersive loss (default 0.5). */
  readonly dispersionWeight?: number;
  /** Call the model at t = 0 (default true: EqM's fields do not depend on time). */
  readonly timeInvariant?: boolean;
  /** Variables to train (default: the model's `trainableVariables`). */
  readonly variables?: readonly tf.Variable[];
}

const KEYS = [
  'seed',
  'energyL2',
  'prediction',
  'energyType',
  'interpolant',
  'coupling',
  'lossWeight',
  'trainEps',
  'ctThreshold',
  'ctMultiplier',
  'applyDispersion',
  'dispersionWeight',
  'timeInvariant',
  'variables',
];

function fieldPlaceholder(name: string, dim: number | undefined): EnergyFunction {
  const fail = (): never => {
    throw new EbmError('NOT_IMPLEMENTED', `${name} is an equilibrium-matching field, not an energy.`, {
      argument: 'energy',
      fix: 'wrap the model with EqMEnergy (from @ebm/models) to sample it with MCMC or gradient descent.',
    });
  };
  return { name, dim, energy: fail, gradient: fail, energyAndGradient: fail };
}

function assertBool(name: string, v: unknown, dflt: boolean): boolean {
  const b = v ?? dflt;
  if (typeof b !== 'boolean') {
    throw new EbmError('INVALID_PARAM', `${name} must be true or false.`, {
      argument: name,
      value: b,
      fix: `pass ${name}: true or leave it out.`,
    });
  }
  return b;
}

/**
 * EqM's c(t) = λ·min(1, (1 − t)/(1 − a)) `[B]` (TorchEBM's `compute_eqm_ct`): constant λ up to the threshold a,
 * then decaying linearly to 0 at the data (t = 1), so the learned gradient vanishes on the data manifold.
 */
export function eqmCt(t: tf.Tensor1D, threshold = 0.8, multiplier = 4): tf.Tensor1D {
  assertTensor('t', t, { rank: 1 });
  return tf.tidy(() => tf.mul(multiplier, tf.minimum(1, tf.div(tf.sub(1, t), 1 - threshold)))) as tf.Tensor1D;
}

/**
 * The dispersive loss (Wang & He 2025; TorchEBM's `dispersive_loss`): log mean_{i≠j} exp(−‖zᵢ − zⱼ‖²/D) over a
 * batch of features z `[B, D]`, an InfoNCE without positives that spreads the representations apart.
 */
export function dispersiveLoss(z: tf.Tensor2D): tf.Scalar {
  assertBatch('z', z);
  return tf.tidy(() => {
    const [b, d] = z.shape;
    const sq = tf.sum(tf.square(z), 1, true);
    const d2 = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(z, z, false, true))));
    const logits = tf.div(tf.neg(d2), d);
    const masked = tf.add(logits, tf.mul(tf.eye(b), -1e9));
    return tf.sub(tf.logSumExp(tf.reshape(masked, [-1])), Math.log(b * (b - 1))) as tf.Scalar;
  });
}

/**
 * Equilibrium Matching (Wang & Du 2025, arXiv:2510.02300; TorchEBM's `EquilibriumMatchingLoss`, §4.7): learns a
 * time-invariant gradient field whose descent carries noise to data.
 *
 * x₀ ~ N(0, I) (coupled with the data x₁ by `coupling`), t ~ U[eps, 1 − eps], x_t = α(t)x₁ + σ(t)x₀,
 * u_t = α̇x₁ + σ̇x₀, target = −u_t·c(t) with {@link eqmCt}. Velocity prediction regresses the field
 * F(x_t) — the model output (`energyType: 'none'`) or ∇ₓg of an explicit scalar g (`dot`, `mean`, `l2`) — onto
 * the target: L = mean_b w_b·ω(t_b)·mean_d (F − target)². Noise prediction: (f − x₀)²; score: (f·σ + x₀)²
 * (TorchEBM's forms). ω is `lossWeight`, w the coupling's weights (1 when absent). The model sees t = 0 when
 * `timeInvariant` (default). With `applyDispersion`, adds `dispersionWeight`·{@link dispersiveLoss} of the
 * model's hidden features (the model must implement `applyWithHidden`).
 *
 * Sampling: descend the field from noise — `EqMEnergy.fromLoss(loss)` with `GradientDescentSampler` (or
 * `NesterovSampler`, MCMC samplers for explicit energies) for a total time η·nSteps ≈
 * {@link EquilibriumMatchingLoss.samplingTime} — or `FlowSampler(model, { negateVelocity: true })` for a model
 * that ignores t.
 *
 * Deviation from TorchEBM: `lossWeight` applies in every prediction mode (TorchEBM uses it for noise and score
 * only); the dispersive loss needs `applyWithHidden` instead of a model returning a tuple.
 * Metrics: `loss`, and `dispersion` when enabled.
 */
export class EquilibriumMatchingLoss extends BaseLoss {
  readonly model: TimeField;
  readonly prediction: 'velocity' | 'noise' | 'score';
  readonly energyType: EqMEnergyKind;
  readonly interpolant: Interpolant;
  readonly coupling: Coupling;
  readonly lossWeight: FlowLossWeight;
  readonly trainEps: number;
  readonly ctThreshold: number;
  readonly ctMultiplier: number;
  readonly applyDispersion: boolean;
  readonly dispersionWeight: number;
  readonly timeInvariant: boolean;
  override readonly variables: readonly tf.Variable[];
  private readonly fn: (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;
  private readonly times: TimeSampling;

  constructor(model: TimeField, options: EquilibriumMatchingOptions = {}) {
    const fn = timeFieldFn(model);
    super(
      fieldPlaceholder(typeof model === 'object' && model.name ? model.name : 'field', timeFieldDim(model)),
      options,
      'EquilibriumMatchingLoss',
    );
    assertKnownOptions('EquilibriumMatchingLoss', options, KEYS);
    this.model = model;
    this.fn = fn;
    this.prediction = assertOneOf('prediction', options.prediction ?? 'velocity', [
      'velocity',
      'noise',
      'score',
    ]);
    this.energyType = assertOneOf('energyType', options.energyType ?? 'none', ['none', 'dot', 'mean', 'l2']);
    if (this.prediction !== 'velocity' && this.energyType !== 'none') {
      throw new EbmError('INVALID_PARAM', `energyType "${this.energyType}" needs prediction "velocity".`, {
        argument: 'energyType',
        value: this.energyType,
        fix: 'use an explicit energy with velocity prediction, or energyType "none".',
      });
    }
    this.interpolant = resolveInterpolant(options.interpolant, 'EquilibriumMatchingLoss');
    this.coupling = resolveCoupling(options.coupling, 'independent', 'EquilibriumMatchingLoss');
    this.lossWeight = resolveLossWeight(options.lossWeight);
    this.times = resolveTimeSampling(options.trainEps === undefined ? {} : { trainEps: options.trainEps });
    this.trainEps = this.times.trainEps;
    this.ctThreshold = assertInRange('ctThreshold', options.ctThreshold ?? 0.8, 0, 1, { hiInclusive: false });
    this.ctMultiplier = assertPositive('ctMultiplier', options.ctMultiplier ?? 4);
    this.applyDispersion = assertBool('applyDispersion', options.applyDispersion, false);
    this.dispersionWeight = assertNonNegative('dispersionWeight', options.dispersionWeight ?? 0.5);
    this.timeInvariant = assertBool('timeInvariant', options.timeInvariant, true);
    if (this.applyDispersion && typeof (model as Partial<DispersiveField>).applyWithHidden !== 'function') {
      throw new EbmError('INVALID_PARAM', 'applyDispersion needs a model with applyWithHidden(x, t).', {
        argument: 'applyDispersion',
        value: true,
        fix: 'give the model applyWithHidden(x, t) => { output, hidden }, or leave applyDispersion off.',
      });
    }
    this.variables = [...(options.variables ?? variablesOf(model))];
  }

  /**
   * Descent time T = η·nSteps that carries noise to the data along the ideal EqM field (velocity prediction, linear
   * path): the field moves x along the path at speed c(t), so reaching t = a takes a/λ and each further (1 − a)/λ
   * shrinks the remaining gap by e: T = (a + 2(1 − a))/λ (0.3 with the defaults). Longer descents keep sliding
   * along the data toward the attractors of the time-invariant field — in low dimension, where noise and data
   * overlap, the optimum is not zero on the data and long runs collapse the samples (see the EqM example).
   */
  samplingTime(): number {
    return (this.ctThreshold + 2 * (1 - this.ctThreshold)) / this.ctMultiplier;
  }

  /** The field F(x) the loss regresses (the output, or ∇ₓg for an explicit energy), at model time `tm`. */
  field(x: tf.Tensor2D, tm: tf.Tensor1D): tf.Tensor2D {
    if (this.energyType === 'none') return this.fn(x, tm);
    return tf.grad((v: tf.Tensor) => {
      // tfjs keeps clones of the tensors each op saves for the backward pass on the tape; when the model throws
      // mid-forward the tape is dropped without releasing them. Release this call's saved tensors ourselves.
      const tape = (tf.engine().state as unknown as { activeTape: { saved?: tf.Tensor[] }[] | null })
        .activeTape;
      const start = tape?.length ?? 0;
      try {
        const f = this.fn(v as tf.Tensor2D, tm);
        if (this.energyType === 'l2') return tf.mul(-0.5, tf.sum(tf.square(f)));
        const xf = tf.sum(tf.mul(v, f));
        return this.energyType === 'dot' ? xf : tf.div(xf, v.shape[1]!);
      } catch (e) {
        for (const node of tape?.slice(start) ?? []) for (const t of node.saved ?? []) t.dispose();
        throw e;
      }
    })(x) as tf.Tensor2D;
  }

  /** Pre-pass (`prepare`, `fit`): the coupling with asynchronous reads, under `computeParts`' keys. */
  protected override async prepareParts(
    data: tf.Tensor2D,
    key: RngKey,
    prepared: PreparedCall,
  ): Promise<void> {
    const [kNoise, , kCouple] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    await prepared.addPair(this.coupling, data, kNoise, kCouple);
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey, context?: LossCallContext): LossParts {
    const [kNoise, kTime, kCouple] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
    const [b] = data.shape;
    const pair = coupledPair(this.coupling, data, kNoise, kCouple, context?.prepared, this.name);
    const { x0, x1, weights } = pair;
    const t = sampleTimes(this.times, kTime, b);
    const { xt, ut } = this.interpolant.interpolate(x0, x1, t);
    const tm = this.timeInvariant ? (tf.zeros([b]) as tf.Tensor1D) : t;
    const sigma = tf.reshape(this.interpolant.coefficients(t).sigma, [-1, 1]);
    let resid: tf.Tensor;
    if (this.prediction === 'velocity') {
      const target = tf.mul(tf.neg(ut), tf.reshape(eqmCt(t, this.ctThreshold, this.ctMultiplier), [-1, 1]));
      resid = tf.sub(this.field(xt, tm), target);
    } else if (this.prediction === 'noise') resid = tf.sub(this.fn(xt, tm), x0);
    else resid = tf.add(tf.mul(this.fn(xt, tm), sigma), x0);
    let perRow: tf.Tensor = tf.mean(tf.square(resid), 1);
    const w = lossWeightAt(this.lossWeight, this.interpolant, t);
    if (w !== undefined) perRow = tf.mul(w, perRow);
    if (weights !== undefined) perRow = tf.mul(weights, perRow);
    let loss = tf.mean(perRow) as tf.Scalar;
    const stats: Record<string, tf.Scalar> = {};
    if (this.applyDispersion) {
      const { hidden } = (this.model as unknown as DispersiveField).applyWithHidden(xt, tm);
      const disp = dispersiveLoss(hidden);
      loss = tf.add(loss, tf.mul(this.dispersionWeight, disp)) as tf.Scalar;
      if (context?.metrics !== false) stats.dispersion = disp;
    }
    return { loss, stats };
  }
}
