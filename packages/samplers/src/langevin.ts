import {
  assertLiveState,
  assertNonNegative,
  assertPositive,
  BaseSampler,
  ConstantScheduler,
  type EnergyFunction,
  type LangevinChainSettings,
  type RngKey,
  type RungeKuttaIntegrator,
  randomNormal,
  resolveIntegrator,
  runKernel,
  type SampleResult,
  type SamplerState,
  type Schedulable,
  type Scheduler,
  type StepResult,
  sampleChain,
  type WholeChainRecords,
  type WholeChainRequest,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { massFromInverse } from './mh-base.js';
import { LANGEVIN_KEYS, SAMPLE_WORKER_KEYS } from './option-keys.js';
import {
  checkMassDim,
  type EmptyInfo,
  invMassTensor,
  type Mass,
  parseClamp,
  parseMass,
  parseOptions,
  type SamplerParams,
  tryTracedChain,
  tryWholeChain,
  tryWholeChainFromNormal,
} from './util.js';
import {
  type FusedChainSpec,
  sampleSyncWithWorkers,
  sampleWithWorkers,
  type WorkerSampleOptions,
} from './workers.js';

/** Step info of {@link LangevinDynamics}: nothing per step (an unadjusted sampler accepts every move). */
export type LangevinInfo = EmptyInfo;

/** Integrators of {@link LangevinDynamics} by name (TorchEBM's SDE set; snake_case aliases accepted). */
export type LangevinIntegrator =
  | 'euler'
  | 'eulerMaruyama'
  | 'heun'
  | 'backwardEulerMaruyama'
  | 'euler_maruyama'
  | 'backward_euler_maruyama';

const LANGEVIN_INTEGRATORS: readonly string[] = [
  'euler',
  'eulerMaruyama',
  'euler_maruyama',
  'heun',
  'backwardEulerMaruyama',
  'backward_euler_maruyama',
];

/** Options of {@link LangevinDynamics} (TorchEBM's `LangevinDynamics`). */
export interface LangevinOptions {
  /** Step size h > 0, a number or a scheduler (default 1e-3). */
  readonly stepSize?: Schedulable;
  /**
   * Noise scale σ ≥ 0, a number or a scheduler (default 1); σ² acts as a temperature. σ = 0 (e.g.
   * `TemperatureScheduler` before τ*) makes the step a deterministic gradient step x − h·M⁻¹∇E; σ < 0 is rejected.
   */
  readonly noiseScale?: Schedulable;
  /** Clamp every coordinate to `[min, max]` after each step. */
  readonly clamp?: readonly [number, number];
  /**
   * `'euler'` / `'eulerMaruyama'` (default), `'heun'`, `'backwardEulerMaruyama'` (implicit drift by 8 Picard
   * iterations), or any fixed-step Runge–Kutta integrator object of `@ebm/core`'s family (noise at Euler order).
   */
  readonly integrator?: LangevinIntegrator | RungeKuttaIntegrator;
  /**
   * Mass M (diagonal preconditioner): a number or one positive number per dimension (default 1). The drift
   * becomes −h·M⁻¹∇E and the noise σ·√(2h)·M^{−1/2}ξ, which leaves the same law invariant as h → 0.
   */
  readonly mass?: Mass;
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
 * With a `mass` M the update is preconditioned: x − h·M⁻¹∇E(x) + σ·√(2h)·M^{−1/2}ξ.
 * Each step goes through the `randomNormal` and `langevinStep` kernels; a whole run uses the backend's
 * `chain.<kind>` kernel when one is registered (Euler–Maruyama, constant h, unit mass, no clamp; σ constant or
 * a scheduler, whose per-step values σ_t the kernel then takes as `noiseScales` where it runs them). Step info: none (`LangevinInfo`). `withParams({ stepSize, invMass })` gives the
 * same sampler with another step size and mass (what window adaptation tunes).
 *
 * @example
 * ```ts
 * const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
 * const { samples } = await sampler.sample({ nSamples: 100, dim: 2, nSteps: 500, seed: 1 });
 * ```
 */
export class LangevinDynamics extends BaseSampler<LangevinState, LangevinInfo> {
  /** The integrator's name: `'euler'` (Euler–Maruyama), `'heun'`, `'backwardEulerMaruyama'` or a custom one. */
  readonly integrator: string;
  /** The resolved integrator of `@ebm/core`'s family. */
  readonly integratorSpec: RungeKuttaIntegrator;
  readonly clamp: readonly [number, number] | undefined;
  /** Inverse mass (1/m), a number or one entry per dimension. */
  readonly invMass: number | Float32Array;
  private readonly stepSizeScheduler: Scheduler;
  private readonly noiseScaleScheduler: Scheduler;
  private readonly options: LangevinOptions;

  constructor(energy: EnergyFunction, options?: LangevinOptions) {
    super(energy, 'LangevinDynamics');
    const o = parseOptions('LangevinDynamics', options, LANGEVIN_KEYS);
    this.options = o;
    this.stepSizeScheduler = this.schedule('stepSize', o.stepSize ?? 1e-3);
    this.noiseScaleScheduler = this.schedule('noiseScale', o.noiseScale ?? 1, { allowZero: true });
    this.clamp = parseClamp(o.clamp);
    this.integratorSpec = resolveIntegrator(o.integrator, {
      family: 'rungeKutta',
      default: 'eulerMaruyama',
      adaptive: 'forbid',
      allowed: LANGEVIN_INTEGRATORS,
      owner: 'LangevinDynamics',
    });
    const n = this.integratorSpec.name;
    this.integrator = n === 'eulerMaruyama' ? 'euler' : n;
    this.invMass = parseMass('mass', o.mass, energy.dim).invMass;
  }

  protected initState(x: tf.Tensor2D, step: number): LangevinState {
    checkMassDim('mass', this.invMass, x.shape[1]);
    return { x, step };
  }

  /** Step size (at step `t`) and inverse mass. */
  params(t = 0): Required<SamplerParams> {
    return { stepSize: this.scheduled('stepSize', t), invMass: this.invMass };
  }

  /** Same sampler (noise scale, clamp, integrator) with another step size and, optionally, inverse mass. */
  withParams(params: SamplerParams): LangevinDynamics {
    const invMass = params.invMass ?? this.invMass;
    return new LangevinDynamics(this.energy, {
      ...this.options,
      stepSize: assertPositive('stepSize', params.stepSize),
      mass: massFromInverse(invMass),
    });
  }

  step(state: LangevinState, key: RngKey): StepResult<LangevinState, LangevinInfo> {
    assertLiveState(`${this.name}.step()`, state);
    const h = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    return this.update(state, key, h, this.invMass);
  }

  /** One step with the given step size and inverse mass instead of the sampler's own (pure, like `step`). */
  stepWith(
    state: LangevinState,
    key: RngKey,
    params: SamplerParams,
  ): StepResult<LangevinState, LangevinInfo> {
    const h = assertPositive('stepSize', params.stepSize);
    const invMass = params.invMass ?? this.invMass;
    checkMassDim('invMass', invMass, state.x.shape[1]);
    return this.update(state, key, h, invMass);
  }

  private update(
    state: LangevinState,
    key: RngKey,
    h: number,
    invMass: number | Float32Array,
  ): StepResult<LangevinState, LangevinInfo> {
    const sigma = assertNonNegative('noiseScale', this.scheduled('noiseScale', state.step));
    const { x } = state;
    const inv = invMassTensor(invMass);
    const unit = typeof inv === 'number' && inv === 1;
    // Preconditioned drift M⁻¹∇E and noise M^{−1/2}ξ (the kernel then adds −h·drift + σ√(2h)·noise).
    const precondition = (g: tf.Tensor2D): tf.Tensor2D => {
      if (unit) return g;
      const out = tf.mul(g, inv) as tf.Tensor2D;
      g.dispose();
      return out;
    };
    const temps: tf.Tensor[] = [];
    try {
      const noise = tf.tidy(() => {
        const z = randomNormal(key, x.shape) as tf.Tensor2D;
        return unit ? z : (tf.mul(z, tf.sqrt(inv)) as tf.Tensor2D);
      });
      temps.push(noise);
      let next: tf.Tensor2D;
      const explicit = this.integrator === 'euler' || this.integrator === 'heun';
      const g = explicit ? precondition(this.energy.gradient(x, { checkFinite: false })) : undefined;
      if (g !== undefined) temps.push(g);
      if (this.integrator === 'euler') {
        next = runKernel('langevinStep', { x, grad: g!, noise, stepSize: h, noiseScale: sigma });
      } else if (this.integrator === 'heun') {
        const pred = runKernel('langevinStep', { x, grad: g!, noise, stepSize: h, noiseScale: 0 });
        temps.push(pred);
        const g2 = precondition(this.energy.gradient(pred, { checkFinite: false }));
        temps.push(g2);
        const gMean = tf.tidy(() => tf.mul(tf.add(g!, g2), 0.5) as tf.Tensor2D);
        temps.push(gMean);
        next = runKernel('langevinStep', { x, grad: gMean, noise, stepSize: h, noiseScale: sigma });
      } else {
        // Any other fixed-step integrator of the family (backward Euler–Maruyama by Picard iterations, or a
        // custom one) on the drift f = −M⁻¹∇E, then the same additive noise σ√(2h)·M^{−1/2}ξ.
        const drift = (q: tf.Tensor2D): tf.Tensor2D =>
          tf.neg(precondition(this.energy.gradient(q, { checkFinite: false }))) as tf.Tensor2D;
        const det = this.integratorSpec.step(drift, x, 0, h).x;
        temps.push(det);
        next = tf.tidy(() => tf.add(det, tf.mul(noise, sigma * Math.sqrt(2 * h)))) as tf.Tensor2D;
      }
      if (this.clamp !== undefined) {
        const c = tf.clipByValue(next, this.clamp[0], this.clamp[1]) as tf.Tensor2D;
        next.dispose();
        next = c;
      }
      return { state: { x: next, step: state.step + 1 }, info: {} };
    } finally {
      tf.dispose(temps);
      if (typeof inv !== 'number') inv.dispose();
    }
  }

  /**
   * The fused whole-chain settings of this configuration, or why it has none (see the README, "Which path runs").
   * With `scheduledNoise` a `noiseScale` scheduler is allowed (the whole chain then gets the scheduler's values
   * per step as `noiseScales`; `settings.noiseScale` is its value at step 0): the single-call path, not workers.
   */
  protected fusedSpec({ scheduledNoise = false }: { scheduledNoise?: boolean } = {}): FusedChainSpec {
    if (this.integrator !== 'euler')
      return { reason: `the fused chain runs Euler–Maruyama, not integrator "${this.integrator}"` };
    if (this.clamp !== undefined) return { reason: 'the fused chain does not clamp' };
    if (this.invMass !== 1) return { reason: 'the fused Langevin chain runs unit mass only' };
    if (!(this.stepSizeScheduler instanceof ConstantScheduler))
      return { reason: 'the fused chain needs a constant stepSize (not a scheduler)' };
    const constantNoise = this.noiseScaleScheduler instanceof ConstantScheduler;
    if (!constantNoise && !scheduledNoise)
      return { reason: 'the fused chain on workers needs a constant noiseScale (not a scheduler)' };
    return {
      method: 'langevin',
      settings: { stepSize: this.stepSizeScheduler.value, noiseScale: this.noiseScaleScheduler.valueAt(0) },
    };
  }

  /**
   * σ_t = noiseScale scheduler at steps `start` … `start + n − 1` (what the step loop would use there), for a
   * tempered whole chain; `undefined` for a constant noise scale.
   */
  private noiseScalesFor(start: number, n: number): Float32Array | undefined {
    if (this.noiseScaleScheduler instanceof ConstantScheduler) return undefined;
    const out = new Float32Array(n);
    for (let t = 0; t < n; t++)
      out[t] = assertNonNegative('noiseScale', this.scheduled('noiseScale', start + t));
    return out;
  }

  protected override runWholeChain(
    state: LangevinState,
    nSteps: number,
    runKey: RngKey,
    request?: WholeChainRequest,
  ): LangevinState | WholeChainRecords<LangevinState> | undefined {
    const spec = this.fusedSpec({ scheduledNoise: true });
    if ('reason' in spec) return undefined;
    const settings = spec.settings as LangevinChainSettings;
    // A noiseScale scheduler (e.g. TemperatureScheduler): its per-step values (kernels without them decline).
    const noiseScales = this.noiseScalesFor(state.step, nSteps);
    if (request !== undefined) {
      const t = tryTracedChain(
        this.energy,
        'langevin',
        state.x,
        nSteps,
        runKey,
        state.step,
        settings,
        request,
        noiseScales,
      );
      if (t === undefined) return undefined;
      return {
        state: { x: t.x, step: state.step + nSteps },
        ...(t.diagnostics === undefined ? {} : { diagnostics: t.diagnostics }),
        ...(t.trajectory === undefined ? {} : { trajectory: t.trajectory }),
      };
    }
    const x = tryWholeChain(
      this.energy,
      'langevin',
      state.x,
      nSteps,
      runKey,
      state.step,
      settings,
      noiseScales,
    );
    return x === undefined ? undefined : { x, step: state.step + nSteps };
  }

  /** The whole run with x0 drawn in the chain kernel's own dispatch (see core's `ChainFromNormalInputs`). */
  protected override runWholeChainFromNormal(
    shape: readonly [number, number],
    x0Key: RngKey,
    nSteps: number,
    runKey: RngKey,
  ): LangevinState | undefined {
    const spec = this.fusedSpec();
    if ('reason' in spec) return undefined;
    const settings = spec.settings as LangevinChainSettings;
    const x = tryWholeChainFromNormal(this.energy, 'langevin', shape, x0Key, nSteps, runKey, settings);
    return x === undefined ? undefined : { x, step: nSteps };
  }

  /**
   * Full run on any backend (see core's `sampleChain`); with `workers` (cpu/wasm, async only) the whole chain
   * runs on worker threads, bit-identical for any count (see {@link WorkerSampleOptions.workers}).
   */
  override async sample(
    options: WorkerSampleOptions<LangevinInfo>,
  ): Promise<SampleResult<LangevinState, LangevinInfo>> {
    return sampleWithWorkers(options, {
      owner: this.name,
      energy: this.energy,
      spec: this.fusedSpec(),
      usual: (o) => super.sample(o),
      withWholeChain: (wholeChain, o) => {
        // The workers run the whole chain: no fused x0 draw on a GPU.
        const { wholeChainFromNormal: _gpuOnly, ...base } = this.asKernel();
        return sampleChain({ ...base, wholeChain }, this.chainOptions(o), this.hooks());
      },
      finish: (x, step) => ({ x, step }),
    });
  }

  /** Full run, synchronous: `workers` must be 0 or `'auto'` here (the calling thread). */
  override sampleSync(options: WorkerSampleOptions<LangevinInfo>): SampleResult<LangevinState, LangevinInfo> {
    return sampleSyncWithWorkers(options, {
      owner: this.name,
      energy: this.energy,
      spec: this.fusedSpec(),
      usual: (o) => super.sampleSync(o),
    });
  }

  protected override sampleOptionKeys(): readonly string[] {
    return SAMPLE_WORKER_KEYS;
  }
}
