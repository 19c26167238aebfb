import {
  ADAPTIVE_OPTION_KEYS,
  type AdaptiveOptions,
  type AdaptiveResult,
  type AdaptiveSettings,
  adaptiveIntegrate,
  assertBatch,
  assertDiffusionForm,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  BaseSampler,
  type DiagnosticsSeries,
  type DiffusionForm,
  type Drift,
  driveAsync,
  driveSync,
  EbmError,
  type EnergyFunction,
  foldIn,
  type HostReads,
  type IntegratorSpec,
  type Interpolant,
  type InterpolantSpec,
  parseAdaptiveOptions,
  type RngKey,
  type RungeKuttaIntegrator,
  randomNormal,
  resolveIntegrator,
  resolveInterpolant,
  type SampleOptions,
  type SampleResult,
  type SamplerState,
  type StepResult,
  sdeStep,
  type TimeField,
  timeFieldDim,
  timeFieldFn,
  toKey,
  VariancePreservingInterpolant,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** What the model predicts. */
export type PredictionType = 'velocity' | 'score' | 'noise';

/** Final correction of an SDE run (TorchEBM's `last_step`). */
export type LastStep = 'Mean' | 'Euler' | 'Tweedie' | 'none';

/** Options of {@link FlowSampler} (TorchEBM's `FlowSampler`). */
export interface FlowSamplerOptions extends AdaptiveOptions {
  /** `'ode'` (default) or `'sde'`. */
  readonly mode?: 'ode' | 'sde';
  /** Interpolant the model was trained with (default `'linear'`). */
  readonly interpolant?: InterpolantSpec;
  /** What the model predicts (default `'velocity'`). */
  readonly prediction?: PredictionType;
  /** Time eps used in training (stored; TorchEBM uses it in training-time intervals). Default 0. */
  readonly trainEps?: number;
  /** Time eps of sampling (default 0): see the grid rules in the class docs. */
  readonly sampleEps?: number;
  /** Use −model(x, t) as the velocity (Equilibrium Matching). Default false. */
  readonly negateVelocity?: boolean;
  /** Integrate data → noise (t from t1 down to t0), ODE mode only. Default false. */
  readonly reverse?: boolean;
  /** SDE only: diffusion form (default `'SBDM'`). */
  readonly diffusionForm?: DiffusionForm | 'increasing-decreasing';
  /** SDE only: diffusion norm (default 1). */
  readonly diffusionNorm?: number;
  /** SDE only: final correction (default `'Mean'`). */
  readonly lastStep?: LastStep | 'None' | null;
  /** SDE only: size of the final correction step (default 0.04). */
  readonly lastStepSize?: number;
  /** Integrator: a name, an integrator object or a step function (default dopri5 for ODE, eulerMaruyama for SDE). */
  readonly integrator?: IntegratorSpec;
  /** Steps of the time grid (default 50 for ODE, 250 for SDE; 1 interval for adaptive ODE integrators). */
  readonly nSteps?: number;
  /** Feature dimension (default: the model's `dim`). */
  readonly dim?: number;
  /** Fixed-point iterations of implicit integrators (default 8). */
  readonly solverMaxIter?: number;
}

/** State of {@link FlowSampler}: positions, the grid index, drift evaluations so far and the adaptive step. */
export interface FlowState extends SamplerState {
  readonly x: tf.Tensor2D;
  /** Grid intervals done. */
  readonly step: number;
  /** Batched model evaluations so far. */
  readonly nfe: number;
  /** Adaptive integrators: the next step size per chain `[B]` (warm start of the next interval). */
  readonly h?: tf.Tensor1D | undefined;
}

/** Options of {@link FlowSampler.sample}: `nSteps` defaults to the rest of the grid; no burn-in. */
export type FlowSampleOptions = Omit<SampleOptions, 'nSteps'> & { readonly nSteps?: number };

const KEYS = [
  'mode',
  'interpolant',
  'prediction',
  'trainEps',
  'sampleEps',
  'negateVelocity',
  'reverse',
  'diffusionForm',
  'diffusionNorm',
  'lastStep',
  'lastStepSize',
  'integrator',
  'nSteps',
  'dim',
  'solverMaxIter',
  ...ADAPTIVE_OPTION_KEYS,
];
const SDE_ONLY = ['diffusionForm', 'diffusionNorm', 'lastStep', 'lastStepSize'] as const;

/** The energy seam a flow does not have: a placeholder whose evaluations raise `NOT_IMPLEMENTED`. */
function noEnergy(name: string, dim: number | undefined): EnergyFunction {
  const fail = (): never => {
    throw new EbmError('NOT_IMPLEMENTED', `${name} is a time-conditioned field, not an energy.`, {
      argument: 'energy',
      fix: 'a flow has no energy: use its samples, or priorLogp for the noise density.',
    });
  };
  return { name, dim, energy: fail, gradient: fail, energyAndGradient: fail };
}

/**
 * ODE/SDE sampler for velocity-, score- or noise-prediction models (TorchEBM's `FlowSampler`, §3.5). x moves from
 * noise x ~ N(0, I) at t ≈ 0 to data at t ≈ 1 along the interpolant's probability path.
 *
 * **Drift.** velocity: f = model(x, t) (negated with `negateVelocity`); score: f = (α̇/α)x + λ(t)·model;
 * noise: s = −model/σ, then as score. **SDE**: dx = [f + w(t)·s]dt + √(2w(t))dW, w the diffusion form, noise
 * at Euler order (any fixed-step Runge–Kutta integrator); after the grid, the last step adds (at t1, size
 * `lastStepSize`) `Mean`: x + (f + w·s)Δ, `Euler`: x + fΔ, `Tweedie`: x/α + (σ²/α)·s, or nothing.
 *
 * **Time grid** (TorchEBM / SiT `check_interval`): `linspace(t0, t1, nSteps + 1)` with eps = `sampleEps`:
 * VP: [0, 1 − eps] (SDE with lastStepSize > 0: t1 = 1 − lastStepSize); linear/cosine with non-velocity
 * prediction or SDE: t0 = eps when (SBDM and SDE) or prediction ≠ velocity, else 0, t1 as for VP; otherwise
 * [0, 1]. `reverse` integrates the same grid backwards (t1 → t0): data → noise.
 *
 * **Steps.** One sampler step is one grid interval, so trajectories, diagnostics (`mean`, `var`, `t`), seeds,
 * abort and `resumeFrom` work as for the MCMC samplers. Adaptive integrators (ODE only) integrate each interval
 * to tolerance (per-chain steps by default, warm-started from the previous interval), with host reads of the
 * error ratios: `sample()` reads asynchronously (every backend), `sampleSync()`/`step()` synchronously (cpu/wasm).
 * `state.nfe` counts batched model evaluations.
 *
 * Deviations from TorchEBM (documented): `reverse` evaluates the field at the reversed time (t1 − s), the exact
 * inverse flow (TorchEBM's text reads f(y, t0 + s)); the default `sampleEps` for SDE + SBDM on linear/cosine
 * paths is 1e-3 instead of 0 (w = λ/σ is infinite at t = 0); adaptive integrators honour the grid (dense
 * output at grid points) instead of integrating the whole interval in one call.
 *
 * @example
 * ```ts
 * const sampler = new FlowSampler(model, { mode: 'ode', integrator: 'rk4', nSteps: 50, dim: 2 });
 * const { samples } = await sampler.sample({ nSamples: 1000, seed: 1 });
 * ```
 */
export class FlowSampler extends BaseSampler<FlowState> {
  readonly mode: 'ode' | 'sde';
  readonly interpolant: Interpolant;
  readonly prediction: PredictionType;
  readonly trainEps: number;
  readonly sampleEps: number;
  readonly negateVelocity: boolean;
  readonly reverse: boolean;
  readonly diffusionForm: DiffusionForm;
  readonly diffusionNorm: number;
  readonly lastStep: LastStep;
  readonly lastStepSize: number;
  readonly integrator: RungeKuttaIntegrator;
  /** Grid intervals of a full run. */
  readonly nSteps: number;
  /** The time grid (nSteps + 1 points, in the direction of integration). */
  readonly grid: readonly number[];
  readonly solverMaxIter: number;
  private readonly model: (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;
  private readonly adaptiveSettings: AdaptiveSettings | undefined;

  constructor(model: TimeField, options?: FlowSamplerOptions) {
    const o = assertKnownOptions('FlowSampler', options, KEYS);
    const fn = timeFieldFn(model);
    const dim = o.dim === undefined ? timeFieldDim(model) : assertInteger('dim', o.dim, 1);
    super(noEnergy(typeof model === 'object' && model.name ? model.name : 'flow', dim), 'FlowSampler');
    this.model = fn;
    this.mode = assertOneOf('mode', o.mode ?? 'ode', ['ode', 'sde']);
    const sde = this.mode === 'sde';
    if (!sde) {
      for (const k of SDE_ONLY) {
        if (o[k] !== undefined) {
          throw new EbmError('INVALID_PARAM', `FlowSampler: ${k} is an SDE option; mode is 'ode'.`, {
            argument: k,
            value: o[k],
            fix: `pass mode: 'sde', or drop ${k}.`,
          });
        }
      }
    }
    this.reverse = o.reverse === undefined ? false : assertBool('reverse', o.reverse);
    if (this.reverse && sde) {
      throw new EbmError('INVALID_PARAM', 'FlowSampler: reverse is supported in ODE mode only.', {
        argument: 'reverse',
        value: true,
        fix: "use mode: 'ode' to map data to noise.",
      });
    }
    this.interpolant = resolveInterpolant(o.interpolant, 'FlowSampler');
    this.prediction = assertOneOf('prediction', o.prediction ?? 'velocity', ['velocity', 'score', 'noise']);
    this.negateVelocity =
      o.negateVelocity === undefined ? false : assertBool('negateVelocity', o.negateVelocity);
    this.diffusionForm = assertDiffusionForm(o.diffusionForm ?? 'SBDM');
    this.diffusionNorm = assertNonNegative('diffusionNorm', o.diffusionNorm ?? 1);
    const ls =
      o.lastStep === undefined ? 'Mean' : o.lastStep === null || o.lastStep === 'None' ? 'none' : o.lastStep;
    this.lastStep = assertOneOf('lastStep', ls, ['Mean', 'Euler', 'Tweedie', 'none']);
    this.lastStepSize = assertNonNegative('lastStepSize', o.lastStepSize ?? (sde ? 0.04 : 0));
    this.trainEps = assertNonNegative('trainEps', o.trainEps ?? 0);
    const isVP = this.interpolant instanceof VariancePreservingInterpolant;
    const sbdmDefaultEps = sde && this.diffusionForm === 'SBDM' && !isVP ? 1e-3 : 0;
    this.sampleEps = assertNonNegative('sampleEps', o.sampleEps ?? sbdmDefaultEps);
    this.integrator = resolveIntegrator(o.integrator, {
      family: 'rungeKutta',
      default: sde ? 'eulerMaruyama' : 'dopri5',
      adaptive: sde ? 'forbid' : 'allow',
      owner: 'FlowSampler',
    });
    this.solverMaxIter = assertInteger('solverMaxIter', o.solverMaxIter ?? 8, 1);
    const adaptive = !sde && this.integrator.adaptive;
    this.adaptiveSettings = adaptive ? parseAdaptiveOptions(o) : undefined;
    if (!adaptive) parseAdaptiveOptions(o); // validate anyway
    this.nSteps = assertInteger('nSteps', o.nSteps ?? (sde ? 250 : adaptive ? 1 : 50), 1);
    // time interval (TorchEBM / SiT check_interval)
    const eps = this.sampleEps;
    let t0 = 0;
    let t1 = 1;
    const endT = !sde || this.lastStepSize === 0 ? 1 - eps : 1 - this.lastStepSize;
    if (isVP) t1 = endT;
    else if (this.prediction !== 'velocity' || sde) {
      t0 = (sde && this.diffusionForm === 'SBDM') || this.prediction !== 'velocity' ? eps : 0;
      t1 = endT;
    }
    if (!(t1 > t0)) {
      throw new EbmError('INVALID_PARAM', `FlowSampler: empty time interval [${t0}, ${t1}].`, {
        argument: 'sampleEps',
        value: [eps, this.lastStepSize],
        fix: 'use small eps and lastStepSize (e.g. 1e-3 and 0.04).',
      });
    }
    const g = Array.from({ length: this.nSteps + 1 }, (_, i) =>
      i === this.nSteps ? t1 : t0 + ((t1 - t0) * i) / this.nSteps,
    );
    this.grid = Object.freeze(this.reverse ? g.reverse() : g);
  }

  /** log N(z; 0, I) per row `[B]` (the density of the prior at t = 0). */
  priorLogp(z: tf.Tensor2D): tf.Tensor1D {
    const x = assertBatch('z', z);
    return tf.tidy(
      () =>
        tf.sub(
          tf.mul(-0.5, tf.sum(tf.square(x), 1)),
          (x.shape[1] / 2) * Math.log(2 * Math.PI),
        ) as tf.Tensor1D,
    );
  }

  /** Model output and the ODE velocity at (x, t). */
  private predict(x: tf.Tensor2D, t: tf.Tensor1D): { pred: tf.Tensor2D; velocity: tf.Tensor2D } {
    const pred = this.model(x, t);
    if (
      !(pred instanceof tf.Tensor) ||
      pred.rank !== 2 ||
      pred.shape[0] !== x.shape[0] ||
      pred.shape[1] !== x.shape[1]
    ) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        'FlowSampler: the model must return a tensor of the input shape.',
        {
          argument: 'model',
          value: pred instanceof tf.Tensor ? pred.shape : typeof pred,
          fix: `return [${x.shape.join(', ')}] from model(x, t).`,
        },
      );
    }
    const ip = this.interpolant;
    switch (this.prediction) {
      case 'velocity':
        return { pred, velocity: this.negateVelocity ? (tf.neg(pred) as tf.Tensor2D) : pred };
      case 'score':
        return { pred, velocity: ip.scoreToVelocity(pred, x, t) };
      case 'noise':
        return { pred, velocity: ip.noiseToVelocity(pred, x, t) };
    }
  }

  /** The probability-flow ODE drift. */
  readonly odeDrift: Drift = (x, t) => tf.tidy(() => this.predict(x, t).velocity);

  /** Score at (x, t) from the model's prediction. */
  private scoreOf(x: tf.Tensor2D, t: tf.Tensor1D, pred: tf.Tensor2D, velocity: tf.Tensor2D): tf.Tensor2D {
    switch (this.prediction) {
      case 'velocity':
        return this.interpolant.velocityToScore(velocity, x, t);
      case 'score':
        return pred;
      case 'noise':
        return this.interpolant.noiseToScore(pred, t);
    }
  }

  /** The SDE drift f + w(t)·s. */
  readonly sdeDrift: Drift = (x, t) =>
    tf.tidy(() => {
      const { pred, velocity } = this.predict(x, t);
      const s = this.scoreOf(x, t, pred, velocity);
      const w = tf.reshape(this.interpolant.diffusion(t, this.diffusionForm, this.diffusionNorm), [-1, 1]);
      return tf.add(velocity, tf.mul(w, s)) as tf.Tensor2D;
    });

  protected initState(x: tf.Tensor2D, step: number): FlowState {
    if (step > this.nSteps) {
      throw new EbmError(
        'INVALID_PARAM',
        `FlowSampler: step ${step} is past the grid (${this.nSteps} steps).`,
        {
          argument: 'step',
          value: step,
          fix: `start at a step in [0, ${this.nSteps}].`,
        },
      );
    }
    return { x, step, nfe: 0 };
  }

  private checkStep(state: FlowState): void {
    if (!(state.step >= 0 && state.step < this.nSteps)) {
      throw new EbmError(
        'STATE_ERROR',
        `FlowSampler: the run is at step ${state.step} of a ${this.nSteps}-step grid.`,
        {
          argument: 'nSteps',
          value: state.step,
          fix: 'a flow ends at the end of its grid: start a new run (or build the sampler with more nSteps).',
        },
      );
    }
  }

  /** One grid interval as host reads (none for fixed-step integrators). */
  private *stepGen(state: FlowState, key: RngKey): HostReads<StepResult<FlowState>> {
    this.checkStep(state);
    const i = state.step;
    const ta = this.grid[i]!;
    const tb = this.grid[i + 1]!;
    const h = tb - ta;
    const B = state.x.shape[0];
    let x: tf.Tensor2D;
    let nfe = 0;
    let hNext: tf.Tensor1D | undefined;
    if (this.adaptiveSettings !== undefined) {
      let warm: Float32Array | undefined;
      if (state.h !== undefined) {
        const read = yield tf.abs(state.h);
        warm = read;
      }
      const r: AdaptiveResult = yield* adaptiveIntegrate(
        this.integrator,
        this.odeDrift,
        state.x,
        ta,
        tb,
        this.adaptiveSettings,
        warm,
      );
      x = r.x;
      nfe = r.nfe;
      hNext = tf.tensor1d(r.nextStep);
    } else if (this.mode === 'ode') {
      const r = this.integrator.step(this.odeDrift, state.x, ta, h, { solverMaxIter: this.solverMaxIter });
      r.error?.dispose();
      r.kLast?.dispose();
      x = r.x;
      nfe = r.nfe;
    } else {
      const noise = randomNormal(key, state.x.shape) as tf.Tensor2D;
      const tt = tf.fill([B], ta) as tf.Tensor1D;
      const w = this.interpolant.diffusion(tt, this.diffusionForm, this.diffusionNorm);
      try {
        const r = sdeStep(this.integrator, this.sdeDrift, state.x, ta, h, {
          diffusion: w,
          noise,
          solverMaxIter: this.solverMaxIter,
        });
        x = r.x;
        nfe = r.nfe;
      } finally {
        tf.dispose([noise, tt, w]);
      }
      if (i === this.nSteps - 1 && this.lastStep !== 'none' && this.lastStepSize > 0) {
        const prev = x;
        try {
          x = this.lastStepCorrection(prev, tb);
          nfe++;
        } finally {
          prev.dispose();
        }
      }
    }
    const info = { t: tf.fill([B], tb) as tf.Tensor1D };
    return {
      state: { x, step: i + 1, nfe: state.nfe + nfe, ...(hNext !== undefined ? { h: hNext } : {}) },
      info,
    };
  }

  /** TorchEBM's last step at t1 with Δ = lastStepSize. */
  private lastStepCorrection(x: tf.Tensor2D, t1: number): tf.Tensor2D {
    const d = this.lastStepSize;
    return tf.tidy(() => {
      const t = tf.fill([x.shape[0]], t1) as tf.Tensor1D;
      switch (this.lastStep) {
        case 'Mean':
          return tf.add(x, tf.mul(this.sdeDrift(x, t), d)) as tf.Tensor2D;
        case 'Euler':
          return tf.add(x, tf.mul(this.odeDrift(x, t), d)) as tf.Tensor2D;
        default: {
          // Tweedie: E[x₁ | x_t] = (x + σ²·s)/α
          const { pred, velocity } = this.predict(x, t);
          const s = this.scoreOf(x, t, pred, velocity);
          const c = this.interpolant.coefficients(t1 === undefined ? t : tf.reshape(t, [-1, 1]));
          return tf.div(tf.add(x, tf.mul(tf.square(c.sigma), s)), c.alpha) as tf.Tensor2D;
        }
      }
    });
  }

  /** One grid interval (adaptive integrators read on the host synchronously: cpu/wasm). */
  step(state: FlowState, key: RngKey): StepResult<FlowState> {
    return driveSync(this.stepGen(state, key));
  }

  /** Energies do not exist for a flow: NaN (diagnostics report `mean`, `var` and `t`). */
  protected override energyOf(state: FlowState): { energy: tf.Tensor1D; owned: boolean } {
    return { energy: tf.fill([state.x.shape[0]], Number.NaN) as tf.Tensor1D, owned: true };
  }

  private runOptions(options: FlowSampleOptions | undefined): SampleOptions {
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'FlowSampler.sample() needs an options object.', {
        argument: 'options',
        value: options,
        fix: 'pass e.g. { nSamples: 1000, seed: 0 }.',
      });
    }
    if (options.burnIn !== undefined && options.burnIn !== 0) {
      throw new EbmError(
        'INVALID_PARAM',
        'FlowSampler has no burn-in: a flow is a finite map from noise to data.',
        {
          argument: 'burnIn',
          value: options.burnIn,
          fix: 'drop burnIn.',
        },
      );
    }
    const start = options.resumeFrom?.step ?? 0;
    const left = this.nSteps - start;
    const n = assertInteger('nSteps', options.nSteps ?? left, 1);
    if (n > left) {
      throw new EbmError(
        'INVALID_PARAM',
        `FlowSampler: ${n} steps requested but ${left} grid steps are left.`,
        {
          argument: 'nSteps',
          value: n,
          fix: `run at most ${left} steps (the grid has ${this.nSteps}; build the sampler with more nSteps for a finer grid).`,
        },
      );
    }
    return { ...options, nSteps: n } as SampleOptions;
  }

  override sampleSync(options: FlowSampleOptions = {}): SampleResult<FlowState> {
    return super.sampleSync(this.runOptions(options));
  }

  override async sample(options: FlowSampleOptions = {}): Promise<SampleResult<FlowState>> {
    const o = this.runOptions(options);
    if (this.adaptiveSettings === undefined || ['cpu', 'wasm', 'tensorflow'].includes(tf.getBackend())) {
      return super.sample(o);
    }
    return this.sampleAdaptiveAsync(o);
  }

  /**
   * The run loop with asynchronous host reads (adaptive integrators on backends that cannot read
   * synchronously): x0/nSamples/dim, seed, nSteps, `trajectory: true`, `diagnostics: true` (mean, var, t),
   * progress, abort, keepState and resumeFrom.
   */
  private async sampleAdaptiveAsync(o: SampleOptions): Promise<SampleResult<FlowState>> {
    if (
      (o.thin ?? 1) !== 1 ||
      (typeof o.trajectory === 'object' && o.trajectory !== null) ||
      typeof o.diagnostics === 'object'
    ) {
      throw new EbmError(
        'NOT_IMPLEMENTED',
        'FlowSampler with an adaptive integrator on this backend records only x and mean/var/t.',
        {
          argument: 'trajectory',
          fix: 'use trajectory: true, diagnostics: true and thin: 1, or a fixed-step integrator (rk4).',
        },
      );
    }
    const runKey = toKey(o.seed ?? 0, 'seed');
    let state: FlowState;
    if (o.resumeFrom !== undefined) {
      const r = o.resumeFrom as FlowState;
      state = { x: tf.clone(r.x), step: r.step, nfe: r.nfe ?? 0, ...(r.h ? { h: tf.clone(r.h) } : {}) };
    } else if (o.x0 !== undefined) state = this.init(o.x0);
    else {
      const n = assertInteger('nSamples', o.nSamples ?? 1, 1);
      const dim = assertInteger('dim', o.dim ?? this.energy.dim, 1);
      const x0 = randomNormal(foldIn(runKey, Number.MAX_SAFE_INTEGER), [n, dim]) as tf.Tensor2D;
      try {
        state = this.init(x0);
      } finally {
        x0.dispose();
      }
    }
    const xs: tf.Tensor[] = [];
    const diag: Record<string, tf.Tensor[]> = { mean: [], var: [], t: [] };
    const started = Date.now();
    try {
      for (let i = 1; i <= o.nSteps; i++) {
        if (o.signal?.aborted) {
          throw new EbmError('ABORTED', 'FlowSampler run aborted.', {
            argument: 'signal',
            cause: o.signal.reason,
          });
        }
        const { state: next, info } = await driveAsync(this.stepGen(state, foldIn(runKey, state.step)));
        this.disposeState(state);
        state = next;
        if (o.trajectory === true) xs.push(tf.clone(state.x));
        if (o.diagnostics === true) {
          const s = state;
          tf.tidy(() => {
            const { mean, variance } = tf.moments(s.x, 0);
            diag.mean!.push(tf.keep(mean));
            diag.var!.push(tf.keep(tf.clipByValue(variance, 1e-10, 1e10)));
            diag.t!.push(tf.keep(tf.mean(info.t!)));
          });
        }
        tf.dispose(Object.values(info));
        o.onProgress?.({ step: i, total: o.nSteps, phase: 'sampling', elapsedMs: Date.now() - started });
      }
      const trajectory = o.trajectory === true ? { x: tf.stack(xs, 1) } : undefined;
      const diagnostics =
        o.diagnostics === true
          ? (Object.fromEntries(
              Object.entries(diag).map(([k, a]) => [k, tf.stack(a, 0)]),
            ) as unknown as DiagnosticsSeries)
          : undefined;
      tf.dispose(xs);
      tf.dispose(Object.values(diag).flat());
      const samples = o.keepState ? (tf.clone(state.x) as tf.Tensor2D) : state.x;
      if (!o.keepState && state.h !== undefined) state.h.dispose();
      return {
        samples,
        trajectory,
        diagnostics,
        convergence: undefined,
        finalState: o.keepState ? state : undefined,
        nKept: o.nSteps,
        stepsRun: o.nSteps,
      };
    } catch (e) {
      tf.dispose(xs);
      tf.dispose(Object.values(diag).flat());
      this.disposeState(state);
      throw e;
    }
  }
}

function assertBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new EbmError('INVALID_PARAM', `${name} must be true or false.`, {
      argument: name,
      value: v,
      fix: `pass ${name}: true.`,
    });
  }
  return v;
}
