import {
  assertInRange,
  assertPositive,
  BaseSampler,
  EbmError,
  type EnergyFunction,
  type RngKey,
  runKernel,
  type SamplerState,
  type Schedulable,
  type StepResult,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { type EmptyInfo, parseOptions, type SamplerParams } from './util.js';

/** Step info of {@link GradientDescentSampler} and {@link NesterovSampler}: nothing per step. */
export type GradientDescentInfo = EmptyInfo;

/** Rejects an `invMass` other than 1 for the descent samplers (they have no mass). */
function checkNoMass(name: string, params: SamplerParams): void {
  if (params.invMass !== undefined && params.invMass !== 1) {
    throw new EbmError('INVALID_PARAM', `${name} has no mass: invMass must be 1 or left out.`, {
      argument: 'invMass',
      value: params.invMass,
      fix: 'pass { stepSize } only.',
    });
  }
}

/** Options of {@link GradientDescentSampler}. */
export interface GradientDescentOptions {
  /** Step size η > 0, a number or a scheduler (default 1e-3). */
  readonly stepSize?: Schedulable;
}

/** State of {@link GradientDescentSampler}. */
export interface GradientDescentState extends SamplerState {
  readonly x: tf.Tensor2D;
}

/**
 * Deterministic energy descent (TorchEBM's `GradientDescentSampler`): x ← x − η·∇E(x), through the
 * `gradientDescentStep` kernel; the key is unused.
 */
export class GradientDescentSampler extends BaseSampler<GradientDescentState, GradientDescentInfo> {
  private readonly options: GradientDescentOptions;

  constructor(energy: EnergyFunction, options?: GradientDescentOptions) {
    super(energy, 'GradientDescentSampler');
    const o = parseOptions('GradientDescentSampler', options);
    this.options = o;
    this.schedule('stepSize', o.stepSize ?? 1e-3);
  }

  protected initState(x: tf.Tensor2D, step: number): GradientDescentState {
    return { x, step };
  }

  /** Step size at step `t`. */
  params(t = 0): Required<SamplerParams> {
    return { stepSize: this.scheduled('stepSize', t), invMass: 1 };
  }

  /** Same sampler with another (constant) step size. */
  withParams(params: SamplerParams): GradientDescentSampler {
    checkNoMass('GradientDescentSampler', params);
    return new GradientDescentSampler(this.energy, {
      ...this.options,
      stepSize: assertPositive('stepSize', params.stepSize),
    });
  }

  step(state: GradientDescentState, _key: RngKey): StepResult<GradientDescentState, GradientDescentInfo> {
    const eta = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const g = this.energy.gradient(state.x, { checkFinite: false });
    try {
      const x = runKernel('gradientDescentStep', { x: state.x, grad: g, stepSize: eta });
      return { state: { x, step: state.step + 1 }, info: {} };
    } finally {
      g.dispose();
    }
  }
}

/** Options of {@link NesterovSampler}. */
export interface NesterovOptions {
  /** Step size η > 0, a number or a scheduler (default 1e-3). */
  readonly stepSize?: Schedulable;
  /** Momentum μ ∈ [0, 1) (default 0.9). */
  readonly momentum?: number;
}

/** State of {@link NesterovSampler}: positions and velocities. */
export interface NesterovState extends SamplerState {
  readonly x: tf.Tensor2D;
  /** Velocity v `[B, D]` (0 at the start). */
  readonly v: tf.Tensor2D;
}

/**
 * Nesterov-momentum energy descent (TorchEBM's `NesterovSampler`): v ← μ·v − η·∇E(x + μ·v), x ← x + v,
 * from v₀ = 0. The gradient is taken at the look-ahead point x + μ·v; the update runs through the
 * `nesterovStep` kernel.
 */
export class NesterovSampler extends BaseSampler<NesterovState, GradientDescentInfo> {
  readonly momentum: number;
  private readonly options: NesterovOptions;

  constructor(energy: EnergyFunction, options?: NesterovOptions) {
    super(energy, 'NesterovSampler');
    const o = parseOptions('NesterovSampler', options);
    this.options = o;
    this.schedule('stepSize', o.stepSize ?? 1e-3);
    this.momentum = assertInRange('momentum', o.momentum ?? 0.9, 0, 1, { hiInclusive: false });
  }

  protected initState(x: tf.Tensor2D, step: number): NesterovState {
    return { x, v: tf.zerosLike(x), step };
  }

  /** Step size at step `t`. */
  params(t = 0): Required<SamplerParams> {
    return { stepSize: this.scheduled('stepSize', t), invMass: 1 };
  }

  /** Same sampler (momentum) with another (constant) step size. */
  withParams(params: SamplerParams): NesterovSampler {
    checkNoMass('NesterovSampler', params);
    return new NesterovSampler(this.energy, {
      ...this.options,
      stepSize: assertPositive('stepSize', params.stepSize),
    });
  }

  step(state: NesterovState, _key: RngKey): StepResult<NesterovState, GradientDescentInfo> {
    const eta = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const mu = this.momentum;
    const look = tf.tidy(() => tf.add(state.x, tf.mul(state.v, mu)) as tf.Tensor2D);
    let g: tf.Tensor2D | undefined;
    try {
      g = this.energy.gradient(look, { checkFinite: false });
      const { x, v } = runKernel('nesterovStep', {
        x: state.x,
        v: state.v,
        grad: g,
        stepSize: eta,
        momentum: mu,
      });
      return { state: { x, v, step: state.step + 1 }, info: {} };
    } finally {
      look.dispose();
      g?.dispose();
    }
  }
}
