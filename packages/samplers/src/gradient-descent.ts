import {
  assertInRange,
  assertPositive,
  BaseSampler,
  type EnergyFunction,
  type RngKey,
  runKernel,
  type SamplerState,
  type Schedulable,
  type StepResult,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { parseOptions } from './util.js';

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
 * Deterministic energy descent (TorchEBM's `GradientDescentSampler`): x ← x − η·∇E(x). The update runs
 * through the `langevinStep` kernel with noise scale 0; the key is unused.
 */
export class GradientDescentSampler extends BaseSampler<GradientDescentState> {
  constructor(energy: EnergyFunction, options?: GradientDescentOptions) {
    super(energy, 'GradientDescentSampler');
    const o = parseOptions('GradientDescentSampler', options);
    this.schedule('stepSize', o.stepSize ?? 1e-3);
  }

  protected initState(x: tf.Tensor2D, step: number): GradientDescentState {
    return { x, step };
  }

  step(state: GradientDescentState, _key: RngKey): StepResult<GradientDescentState> {
    const eta = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const g = this.energy.gradient(state.x, { checkFinite: false });
    const x = runKernel('langevinStep', { x: state.x, grad: g, noise: g, stepSize: eta, noiseScale: 0 });
    g.dispose();
    return { state: { x, step: state.step + 1 }, info: {} };
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
 * from v₀ = 0. The velocity update runs through the `langevinStep` kernel with noise scale 0.
 */
export class NesterovSampler extends BaseSampler<NesterovState> {
  readonly momentum: number;

  constructor(energy: EnergyFunction, options?: NesterovOptions) {
    super(energy, 'NesterovSampler');
    const o = parseOptions('NesterovSampler', options);
    this.schedule('stepSize', o.stepSize ?? 1e-3);
    this.momentum = assertInRange('momentum', o.momentum ?? 0.9, 0, 1, { hiInclusive: false });
  }

  protected initState(x: tf.Tensor2D, step: number): NesterovState {
    return { x, v: tf.zerosLike(x), step };
  }

  step(state: NesterovState, _key: RngKey): StepResult<NesterovState> {
    const eta = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const mu = this.momentum;
    const mv = tf.mul(state.v, mu) as tf.Tensor2D;
    const look = tf.add(state.x, mv) as tf.Tensor2D;
    const g = this.energy.gradient(look, { checkFinite: false });
    const v = runKernel('langevinStep', { x: mv, grad: g, noise: g, stepSize: eta, noiseScale: 0 });
    const x = tf.add(state.x, v) as tf.Tensor2D;
    tf.dispose([mv, look, g]);
    return { state: { x, v, step: state.step + 1 }, info: {} };
  }
}
