import {
  assertOneOf,
  assertPositive,
  BaseSampler,
  ConstantScheduler,
  type EnergyFunction,
  foldIn,
  type RngKey,
  randomNormal,
  runKernel,
  type SamplerState,
  type Schedulable,
  type Scheduler,
  type StepResult,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { parseClamp, parseOptions, tryWholeChain } from './util.js';

/** Integrators of {@link LangevinDynamics}. */
export type LangevinIntegrator = 'euler' | 'eulerMaruyama' | 'heun';

/** Options of {@link LangevinDynamics} (TorchEBM's `LangevinDynamics`). */
export interface LangevinOptions {
  /** Step size h > 0, a number or a scheduler (default 1e-3). */
  readonly stepSize?: Schedulable;
  /** Noise scale σ > 0, a number or a scheduler (default 1); σ² acts as a temperature. */
  readonly noiseScale?: Schedulable;
  /** Clamp every coordinate to `[min, max]` after each step. */
  readonly clamp?: readonly [number, number];
  /** `'euler'` / `'eulerMaruyama'` (default) or `'heun'`. */
  readonly integrator?: LangevinIntegrator;
}

/** State of {@link LangevinDynamics}: positions and the step index. */
export interface LangevinState extends SamplerState {
  readonly x: tf.Tensor2D;
}

/**
 * Overdamped (unadjusted) Langevin dynamics, TorchEBM semantics:
 * x_{k+1} = x_k − h·∇E(x_k) + σ·√(2h)·ξ_k, ξ_k ~ N(0, I) (Euler–Maruyama), whose stationary law approaches
 * ∝ exp(−E/σ²) as h → 0 (for finite h it is biased: see the README). With `integrator: 'heun'` the drift is
 * (h/2)(k₁ + k₂), k₁ = −∇E(x), k₂ = −∇E(x + h·k₁), and the same additive noise is added.
 * Each step goes through the `randomNormal` and `langevinStep` kernels; a whole run uses the backend's
 * `chain.<kind>` kernel when one is registered (Euler–Maruyama, constant h and σ, no clamp, no trajectory or
 * diagnostics).
 *
 * @example
 * ```ts
 * const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
 * const { samples } = await sampler.sample({ nSamples: 100, dim: 2, nSteps: 500, seed: 1 });
 * ```
 */
export class LangevinDynamics extends BaseSampler<LangevinState> {
  readonly integrator: 'euler' | 'heun';
  readonly clamp: readonly [number, number] | undefined;
  private readonly stepSizeScheduler: Scheduler;
  private readonly noiseScaleScheduler: Scheduler;

  constructor(energy: EnergyFunction, options?: LangevinOptions) {
    super(energy, 'LangevinDynamics');
    const o = parseOptions('LangevinDynamics', options);
    this.stepSizeScheduler = this.schedule('stepSize', o.stepSize ?? 1e-3);
    this.noiseScaleScheduler = this.schedule('noiseScale', o.noiseScale ?? 1);
    this.clamp = parseClamp(o.clamp);
    const integ = assertOneOf('integrator', o.integrator ?? 'euler', ['euler', 'eulerMaruyama', 'heun']);
    this.integrator = integ === 'heun' ? 'heun' : 'euler';
  }

  protected initState(x: tf.Tensor2D, step: number): LangevinState {
    return { x, step };
  }

  step(state: LangevinState, key: RngKey): StepResult<LangevinState> {
    const h = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const sigma = assertPositive('noiseScale', this.scheduled('noiseScale', state.step));
    const { x } = state;
    const noise = randomNormal(key, x.shape) as tf.Tensor2D;
    const g = this.energy.gradient(x, { checkFinite: false });
    let next: tf.Tensor2D;
    if (this.integrator === 'euler') {
      next = runKernel('langevinStep', { x, grad: g, noise, stepSize: h, noiseScale: sigma });
    } else {
      const pred = runKernel('langevinStep', { x, grad: g, noise, stepSize: h, noiseScale: 0 });
      const g2 = this.energy.gradient(pred, { checkFinite: false });
      const gMean = tf.tidy(() => tf.mul(tf.add(g, g2), 0.5) as tf.Tensor2D);
      next = runKernel('langevinStep', { x, grad: gMean, noise, stepSize: h, noiseScale: sigma });
      tf.dispose([pred, g2, gMean]);
    }
    tf.dispose([noise, g]);
    if (this.clamp !== undefined) {
      const c = tf.clipByValue(next, this.clamp[0], this.clamp[1]) as tf.Tensor2D;
      next.dispose();
      next = c;
    }
    return { state: { x: next, step: state.step + 1 }, info: {} };
  }

  protected override runWholeChain(
    state: LangevinState,
    nSteps: number,
    runKey: RngKey,
  ): LangevinState | undefined {
    if (
      this.integrator !== 'euler' ||
      this.clamp !== undefined ||
      !(this.stepSizeScheduler instanceof ConstantScheduler) ||
      !(this.noiseScaleScheduler instanceof ConstantScheduler)
    ) {
      return undefined;
    }
    const x = tryWholeChain(this.energy, 'langevin', state.x, nSteps, foldIn(runKey, state.step), {
      stepSize: this.stepSizeScheduler.value,
      noiseScale: this.noiseScaleScheduler.value,
    });
    return x === undefined ? undefined : { x, step: state.step + nSteps };
  }
}
