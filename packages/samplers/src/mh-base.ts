import {
  assertLiveState,
  assertPositive,
  BaseSampler,
  type ChainMethod,
  type ChainMethodSettings,
  ConstantScheduler,
  type EnergyFunction,
  type RngKey,
  type SampleResult,
  type SamplerState,
  type Schedulable,
  type Scheduler,
  type StepInfo,
  type StepResult,
  sampleChain,
  type WholeChainRecords,
  type WholeChainRequest,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { SAMPLE_WORKER_KEYS } from './option-keys.js';
import type { TransitionResult } from './transitions.js';
import {
  checkMassDim,
  invMassTensor,
  type Mass,
  parseMass,
  type SamplerParams,
  tryTracedChain,
  tryWholeChain,
} from './util.js';
import {
  type FusedChainSpec,
  sampleSyncWithWorkers,
  sampleWithWorkers,
  type WorkerSampleOptions,
} from './workers.js';

/**
 * Step info of the Metropolis–Hastings samplers (MALA, HMC, NUTS; replica exchange adds `swapRate`), per chain
 * `[B]`. In `diagnostics`, each becomes its chain mean per kept step.
 */
export type MHInfo = {
  /** 1 where the chain's proposal was accepted (NUTS: where the chain moved), else 0. */
  readonly isAccepted: tf.Tensor1D;
  /**
   * The acceptance rate min(1, α) of the step (0 for non-finite proposals; NUTS: the mean of
   * min(1, e^{H₀−H}) over the tree's leaves). Its chain mean is what BlackJAX and Stan report.
   */
  readonly acceptanceRate: tf.Tensor1D;
  /**
   * The same tensor as {@link MHInfo.acceptanceRate}.
   * @deprecated renamed `acceptanceRate`; kept for one release.
   */
  readonly acceptProb: tf.Tensor1D;
};

/** State of the Metropolis–Hastings samplers (MALA, HMC): positions with their energies and gradients. */
export interface MHState extends SamplerState {
  readonly x: tf.Tensor2D;
  /** E(x) `[B]`. */
  readonly energy: tf.Tensor1D;
  /** ∇E(x) `[B, D]` (reused by the next step). */
  readonly grad: tf.Tensor2D;
}

/** The `mass` option that gives inverse mass `invMass`. */
export function massFromInverse(invMass: number | Float32Array): number | number[] {
  return typeof invMass === 'number' ? 1 / invMass : Array.from(invMass, (v) => 1 / v);
}

/** Tunable parameters of an MH sampler, as used by {@link windowAdaptation}. */
export interface MHParams extends SamplerParams {
  /** Step size. */
  readonly stepSize: number;
  /** Inverse mass: a number or one entry per dimension. */
  readonly invMass: number | Float32Array;
}

/** Options common to MALA and HMC. */
export interface MHOptions {
  /** Step size > 0, a number or a scheduler. */
  readonly stepSize?: Schedulable;
  /** Mass: a number (scalar) or one positive number per dimension (diagonal). Default 1. */
  readonly mass?: Mass;
}

/**
 * Base of the gradient-based MH samplers: state `{x, energy, grad}`, typed step info {@link MHInfo}
 * (`isAccepted`: 1 if the chain's proposal was accepted, else 0 — its chain mean is TorchEBM's
 * `acceptance_rate`; `acceptanceRate`: min(1, α), 0 for non-finite proposals, whose chain mean BlackJAX and
 * Stan report), and the whole-chain fast path. `I` is the info type of a subclass: MALA and HMC use exactly
 * `MHInfo`; the default leaves room for the extra fields of a subclass that does not declare them.
 */
export abstract class MHSampler<I extends MHInfo = MHInfo & StepInfo> extends BaseSampler<MHState, I> {
  /** Inverse mass (1/m), a number or one entry per dimension. */
  readonly invMass: number | Float32Array;
  protected readonly stepSizeScheduler: Scheduler;
  /** Method name passed to `chain.<kind>` kernels. */
  protected abstract readonly method: ChainMethod;

  constructor(energy: EnergyFunction, name: string, options: MHOptions, defaultStepSize: number) {
    super(energy, name);
    this.stepSizeScheduler = this.schedule('stepSize', options.stepSize ?? defaultStepSize);
    this.invMass = parseMass('mass', options.mass, energy.dim).invMass;
  }

  protected initState(x: tf.Tensor2D, step: number): MHState {
    checkMassDim('mass', this.invMass, x.shape[1]);
    const { energy, gradient } = this.energy.energyAndGradient(x, { checkFinite: false });
    return { x, energy, grad: gradient, step };
  }

  /** One transition with explicit parameters (used by adaptation). */
  protected abstract transition(
    state: MHState,
    key: RngKey,
    stepSize: number,
    invMass: number | tf.Tensor,
  ): TransitionResult;

  /** Extra settings for `chain.<kind>` kernels. */
  protected chainSettings(): Record<string, number> {
    return {};
  }

  /**
   * One step with the given parameters instead of the sampler's own (pure, like {@link MHSampler.step});
   * `invMass` defaults to the sampler's own.
   */
  stepWith(state: MHState, key: RngKey, params: SamplerParams): StepResult<MHState, I> {
    assertLiveState(`${this.name}.step()`, state);
    const h = assertPositive('stepSize', params.stepSize);
    const invMass = params.invMass ?? this.invMass;
    checkMassDim('invMass', invMass, state.x.shape[1]);
    const inv = invMassTensor(invMass);
    try {
      const r = this.transition(state, key, h, inv);
      const info: MHInfo = { isAccepted: r.accepted, acceptanceRate: r.acceptProb, acceptProb: r.acceptProb };
      return {
        state: { x: r.x, energy: r.energy, grad: r.grad, step: state.step + 1 },
        info: { ...info, ...(r.extra ?? {}) } as I,
      };
    } finally {
      if (typeof inv !== 'number') inv.dispose();
    }
  }

  step(state: MHState, key: RngKey): StepResult<MHState, I> {
    assertLiveState(`${this.name}.step()`, state);
    return this.stepWith(state, key, {
      stepSize: this.scheduled('stepSize', state.step),
      invMass: this.invMass,
    });
  }

  /**
   * A sampler of the same kind and settings with another step size and inverse mass (e.g. after adaptation);
   * an omitted `invMass` keeps this sampler's.
   */
  abstract withParams(params: MHParams): MHSampler<I>;

  /** Current parameters at step `t`. */
  params(t = 0): MHParams {
    return { stepSize: this.scheduled('stepSize', t), invMass: this.invMass };
  }

  /** The fused whole-chain settings of this configuration, or why it has none (see the README, "Which path runs"). */
  protected fusedSpec(): FusedChainSpec {
    if (this.method !== 'mala' && this.method !== 'hmc')
      return { reason: `${this.name} has no fused host chain (MALA and HMC do)` };
    if (typeof this.invMass !== 'number') return { reason: 'the fused chain runs a scalar mass only' };
    if (!(this.stepSizeScheduler instanceof ConstantScheduler))
      return { reason: 'the fused chain needs a constant stepSize (not a scheduler)' };
    return {
      method: this.method,
      settings: { stepSize: this.stepSizeScheduler.value, invMass: this.invMass, ...this.chainSettings() },
    };
  }

  /** The state at `step` from chain positions `x` (energies and gradients evaluated; `x` is owned on success). */
  protected stateFromChain(x: tf.Tensor2D, step: number): MHState {
    const { energy, gradient } = this.energy.energyAndGradient(x, { checkFinite: false });
    return { x, energy, grad: gradient, step };
  }

  protected override runWholeChain(
    state: MHState,
    nSteps: number,
    runKey: RngKey,
    request?: WholeChainRequest,
  ): MHState | WholeChainRecords<MHState> | undefined {
    if (typeof this.invMass !== 'number' || !(this.stepSizeScheduler instanceof ConstantScheduler))
      return undefined;
    const settings = {
      stepSize: this.stepSizeScheduler.value,
      invMass: this.invMass,
      ...this.chainSettings(),
    } as ChainMethodSettings[ChainMethod];
    const { energy: e, method } = this;
    const traced =
      request === undefined
        ? undefined
        : tryTracedChain(e, method, state.x, nSteps, runKey, state.step, settings, request);
    if (request !== undefined && traced === undefined) return undefined;
    const x = traced?.x ?? tryWholeChain(e, method, state.x, nSteps, runKey, state.step, settings);
    if (x === undefined) return undefined;
    let next: MHState;
    try {
      next = this.stateFromChain(x, state.step + nSteps);
    } catch (err) {
      tf.dispose([
        x,
        ...Object.values(traced?.diagnostics ?? {}),
        ...(traced?.trajectory ? [traced.trajectory] : []),
      ]);
      throw err;
    }
    if (traced === undefined) return next;
    return {
      state: next,
      ...(traced.diagnostics === undefined ? {} : { diagnostics: traced.diagnostics }),
      ...(traced.trajectory === undefined ? {} : { trajectory: traced.trajectory }),
    };
  }

  /** Whether `sample()` takes the `workers` option (MALA and HMC; not NUTS). */
  private get takesWorkers(): boolean {
    return this.method === 'mala' || this.method === 'hmc';
  }

  /**
   * Full run on any backend (see core's `sampleChain`); MALA and HMC take `workers` (cpu/wasm, async only): the
   * whole chain then runs on worker threads, bit-identical for any count (see {@link WorkerSampleOptions.workers}).
   */
  override async sample(options: WorkerSampleOptions<I>): Promise<SampleResult<MHState, I>> {
    if (!this.takesWorkers) return super.sample(options);
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
      finish: (x, step) => this.stateFromChain(x, step),
    });
  }

  /** Full run, synchronous: `workers` (MALA, HMC) must be 0 or `'auto'` here (the calling thread). */
  override sampleSync(options: WorkerSampleOptions<I>): SampleResult<MHState, I> {
    if (!this.takesWorkers) return super.sampleSync(options);
    return sampleSyncWithWorkers(options, {
      owner: this.name,
      energy: this.energy,
      spec: this.fusedSpec(),
      usual: (o) => super.sampleSync(o),
    });
  }

  protected override sampleOptionKeys(): readonly string[] {
    return this.takesWorkers ? SAMPLE_WORKER_KEYS : super.sampleOptionKeys();
  }
}
