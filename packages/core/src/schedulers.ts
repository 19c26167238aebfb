import { EbmError } from './errors.js';
import { assertKnownOptions, optionKeys } from './options.js';
import {
  assertFiniteNumber,
  assertInRange,
  assertInteger,
  assertNonNegative,
  assertPositive,
} from './validation.js';

/**
 * Host-side number schedules (step sizes, noise scales, temperatures), with TorchEBM's semantics
 * (`torchebm/core/base_scheduler.py`): `step()` increments the step count n and returns the new value;
 * `value` is the value at the current n; `reset()` returns to n = 0. Samplers step their schedulers once per
 * iteration, after the update, so iteration i uses the value after i steps.
 * Every scheduler serialises with `toJSON()` and is restored by {@link schedulerFromJSON}.
 *
 * Constructors take TorchEBM's positional arguments or one options object with the same names in camelCase
 * (`new LinearScheduler({ startValue: 1, endValue: 0.1, nSteps: 100 })`, TorchEBM's keyword call); unknown names
 * in an options object (`start_value`, `n_step`) throw `INVALID_PARAM` with the right name.
 * @module
 */

/** The options object of a scheduler constructor (TorchEBM's keyword arguments), or `undefined`. */
function optionsForm<T extends object>(
  owner: string,
  first: unknown,
  keys: readonly string[],
): T | undefined {
  if (first === null || typeof first !== 'object' || first instanceof BaseScheduler) return undefined;
  return assertKnownOptions<T>(owner, first as T, keys);
}

/** Plain-data form of a scheduler. */
export interface SchedulerJSON {
  readonly type: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly n: number;
}

/** The scheduler seam: anything a sampler or loss may take in place of a fixed number. */
export interface Scheduler {
  /** Value at the current step. */
  readonly value: number;
  /** Number of `step()` calls since the last reset. */
  readonly n: number;
  /** Advances one step; returns the new value. */
  step(): number;
  /** Back to n = 0. */
  reset(): void;
  /** Value after `n` steps from a reset, without changing state. */
  valueAt(n: number): number;
  /** Plain-data state. */
  toJSON(): SchedulerJSON;
}

/** Base class: subclasses define {@link BaseScheduler.valueAt} as a pure function of n. */
export abstract class BaseScheduler implements Scheduler {
  protected count = 0;

  /** Registry name used by {@link schedulerFromJSON}. */
  abstract readonly type: string;

  abstract valueAt(n: number): number;

  /** Constructor arguments as plain data. */
  protected abstract config(): Record<string, unknown>;

  get value(): number {
    return this.valueAt(this.count);
  }

  get n(): number {
    return this.count;
  }

  /** TorchEBM's name for {@link BaseScheduler.value}. */
  getValue(): number {
    return this.value;
  }

  step(): number {
    this.count += 1;
    return this.value;
  }

  reset(): void {
    this.count = 0;
  }

  /** Sets the step count (used when restoring from JSON). */
  setStep(n: number): void {
    this.count = assertInteger('n', n, 0);
  }

  toJSON(): SchedulerJSON {
    return { type: this.type, config: this.config(), n: this.count };
  }
}

/** Options of {@link ConstantScheduler}. */
export interface ConstantSchedulerOptions {
  readonly startValue: number;
}
const CONSTANT_KEYS = optionKeys<ConstantSchedulerOptions>({ startValue: true });

/** v(n) = v₀. */
export class ConstantScheduler extends BaseScheduler {
  readonly type = 'constant';
  readonly startValue: number;
  constructor(startValue: number | ConstantSchedulerOptions) {
    super();
    const o = optionsForm<ConstantSchedulerOptions>('ConstantScheduler', startValue, CONSTANT_KEYS);
    this.startValue = assertFiniteNumber('startValue', o ? o.startValue : startValue);
  }
  valueAt(_n: number): number {
    return this.startValue;
  }
  protected config() {
    return { startValue: this.startValue };
  }
}

/** Options of {@link ExponentialDecayScheduler}. */
export interface ExponentialDecaySchedulerOptions {
  readonly startValue: number;
  readonly decayRate: number;
  /** Default 0. */
  readonly minValue?: number;
}
const EXP_KEYS = optionKeys<ExponentialDecaySchedulerOptions>({
  startValue: true,
  decayRate: true,
  minValue: true,
});

/** v(n) = max(min, v₀·rⁿ), r ∈ (0, 1]. */
export class ExponentialDecayScheduler extends BaseScheduler {
  readonly type = 'exponentialDecay';
  readonly startValue: number;
  readonly decayRate: number;
  readonly minValue: number;
  constructor(options: ExponentialDecaySchedulerOptions);
  constructor(startValue: number, decayRate: number, minValue?: number);
  constructor(startValue: number | ExponentialDecaySchedulerOptions, decayRate?: number, minValue = 0) {
    super();
    const o = optionsForm<ExponentialDecaySchedulerOptions>(
      'ExponentialDecayScheduler',
      startValue,
      EXP_KEYS,
    );
    this.startValue = assertFiniteNumber('startValue', o ? o.startValue : startValue);
    this.decayRate = assertInRange('decayRate', o ? o.decayRate : decayRate, 0, 1, { loInclusive: false });
    this.minValue = assertNonNegative('minValue', o ? (o.minValue ?? 0) : minValue);
  }
  valueAt(n: number): number {
    return Math.max(this.minValue, this.startValue * this.decayRate ** n);
  }
  protected config() {
    return { startValue: this.startValue, decayRate: this.decayRate, minValue: this.minValue };
  }
}

/** Options of {@link LinearScheduler} and {@link CosineScheduler}. */
export interface RampSchedulerOptions {
  readonly startValue: number;
  readonly endValue: number;
  /** N ≥ 1. */
  readonly nSteps: number;
}
const RAMP_KEYS = optionKeys<RampSchedulerOptions>({ startValue: true, endValue: true, nSteps: true });

/** Shared part of schedules that run from a start value to an end value over N steps. */
abstract class RampScheduler extends BaseScheduler {
  readonly startValue: number;
  readonly endValue: number;
  readonly nSteps: number;
  constructor(options: RampSchedulerOptions);
  constructor(startValue: number, endValue: number, nSteps: number);
  constructor(startValue: number | RampSchedulerOptions, endValue?: number, nSteps?: number) {
    super();
    const o = optionsForm<RampSchedulerOptions>(
      new.target === CosineScheduler
        ? 'CosineScheduler'
        : new.target === LinearScheduler
          ? 'LinearScheduler'
          : new.target.name,
      startValue,
      RAMP_KEYS,
    );
    this.startValue = assertFiniteNumber('startValue', o ? o.startValue : startValue);
    this.endValue = assertFiniteNumber('endValue', o ? o.endValue : endValue);
    this.nSteps = assertInteger('nSteps', o ? o.nSteps : nSteps, 1);
  }
  protected config() {
    return { startValue: this.startValue, endValue: this.endValue, nSteps: this.nSteps };
  }
}

/** v(n) = v₀ + n(v_end − v₀)/N for n < N, else v_end. */
export class LinearScheduler extends RampScheduler {
  readonly type = 'linear';
  valueAt(n: number): number {
    return n < this.nSteps
      ? this.startValue + (n * (this.endValue - this.startValue)) / this.nSteps
      : this.endValue;
  }
}

/** v(n) = v_end + (v₀ − v_end)·½(1 + cos(πn/N)) for n < N, else v_end. */
export class CosineScheduler extends RampScheduler {
  readonly type = 'cosine';
  valueAt(n: number): number {
    if (n >= this.nSteps) return this.endValue;
    return (
      this.endValue + (this.startValue - this.endValue) * 0.5 * (1 + Math.cos((Math.PI * n) / this.nSteps))
    );
  }
}

/** Options of {@link MultiStepScheduler}. */
export interface MultiStepSchedulerOptions {
  readonly startValue: number;
  /** Positive, strictly increasing step counts. */
  readonly milestones: readonly number[];
  /** Default 0.1. */
  readonly gamma?: number;
}
const MULTI_KEYS = optionKeys<MultiStepSchedulerOptions>({ startValue: true, milestones: true, gamma: true });

/** v(n) = v₀·γ^#{m ∈ milestones : m ≤ n}; milestones positive and strictly increasing. */
export class MultiStepScheduler extends BaseScheduler {
  readonly type = 'multiStep';
  readonly startValue: number;
  readonly milestones: readonly number[];
  readonly gamma: number;
  constructor(options: MultiStepSchedulerOptions);
  constructor(startValue: number, milestones: readonly number[], gamma?: number);
  constructor(
    startValue: number | MultiStepSchedulerOptions,
    milestonesArg?: readonly number[],
    gammaArg = 0.1,
  ) {
    super();
    const o = optionsForm<MultiStepSchedulerOptions>('MultiStepScheduler', startValue, MULTI_KEYS);
    this.startValue = assertFiniteNumber('startValue', o ? o.startValue : startValue);
    const milestones = o ? o.milestones : milestonesArg;
    const gamma = o ? (o.gamma ?? 0.1) : gammaArg;
    if (!Array.isArray(milestones) || milestones.length === 0) {
      throw new EbmError('INVALID_PARAM', 'milestones must be a non-empty array of positive integers.', {
        argument: 'milestones',
        value: milestones,
        fix: 'pass e.g. [100, 200].',
      });
    }
    milestones.forEach((m, i) => {
      assertInteger(`milestones[${i}]`, m, 1);
      if (i > 0 && m <= milestones[i - 1]!) {
        throw new EbmError('INVALID_PARAM', 'milestones must be strictly increasing.', {
          argument: 'milestones',
          value: milestones,
          fix: 'sort the milestones and remove duplicates.',
        });
      }
    });
    this.milestones = Object.freeze([...milestones]);
    this.gamma = assertPositive('gamma', gamma);
  }
  valueAt(n: number): number {
    let k = 0;
    for (const m of this.milestones) if (m <= n) k++;
    return this.startValue * this.gamma ** k;
  }
  protected config() {
    return { startValue: this.startValue, milestones: [...this.milestones], gamma: this.gamma };
  }
}

/** Options of {@link WarmupScheduler}. */
export interface WarmupSchedulerOptions {
  /** The scheduler that runs after the warm-up (TorchEBM's `main_scheduler`). */
  readonly main: BaseScheduler;
  /** W ≥ 0. */
  readonly warmupSteps: number;
  /** Default 0.01. */
  readonly warmupInitFactor?: number;
}
const WARMUP_KEYS = optionKeys<WarmupSchedulerOptions>({
  main: true,
  warmupSteps: true,
  warmupInitFactor: true,
});

/**
 * Linear warm-up into a main scheduler: for n ≤ W, v = v_s + (n/W)(v_main(0) − v_s) with
 * v_s = v_main(0)·warmupInitFactor; after that the main scheduler runs in lockstep with count n − W.
 */
export class WarmupScheduler extends BaseScheduler {
  readonly type = 'warmup';
  readonly main: BaseScheduler;
  readonly warmupSteps: number;
  readonly warmupInitFactor: number;
  constructor(options: WarmupSchedulerOptions);
  constructor(main: BaseScheduler, warmupSteps: number, warmupInitFactor?: number);
  constructor(
    mainArg: BaseScheduler | WarmupSchedulerOptions,
    warmupStepsArg?: number,
    warmupInitFactorArg = 0.01,
  ) {
    super();
    const o = optionsForm<WarmupSchedulerOptions>('WarmupScheduler', mainArg, WARMUP_KEYS);
    const main = o ? o.main : (mainArg as BaseScheduler);
    const warmupSteps = o ? o.warmupSteps : warmupStepsArg;
    const warmupInitFactor = o ? (o.warmupInitFactor ?? 0.01) : warmupInitFactorArg;
    if (!(main instanceof BaseScheduler)) {
      throw new EbmError('INVALID_PARAM', 'main must be a scheduler.', {
        argument: 'main',
        value: typeof main,
        fix: 'pass e.g. new CosineScheduler(1e-2, 1e-4, 1000).',
      });
    }
    this.main = main;
    this.warmupSteps = assertInteger('warmupSteps', warmupSteps, 0);
    this.warmupInitFactor = assertNonNegative('warmupInitFactor', warmupInitFactor);
    main.reset();
  }
  valueAt(n: number): number {
    const w = this.warmupSteps;
    if (n <= w && w > 0) {
      const v0 = this.main.valueAt(0);
      const vs = v0 * this.warmupInitFactor;
      return vs + (n / w) * (v0 - vs);
    }
    return this.main.valueAt(n - w);
  }
  override step(): number {
    this.count += 1;
    if (this.count > this.warmupSteps) this.main.step();
    return this.value;
  }
  override reset(): void {
    super.reset();
    this.main.reset();
  }
  override setStep(n: number): void {
    super.setStep(n);
    this.main.setStep(Math.max(0, n - this.warmupSteps));
  }
  protected config() {
    return {
      main: this.main.toJSON(),
      warmupSteps: this.warmupSteps,
      warmupInitFactor: this.warmupInitFactor,
    };
  }
}

/** Options of {@link TemperatureScheduler}. */
export interface TemperatureSchedulerOptions {
  /** τ* ∈ [0, 1): virtual time at which the temperature starts rising (default 0.8). */
  readonly tauStar?: number;
  /** N > 0: steps over which virtual time runs from tStart to tEnd (default 200). */
  readonly nSteps?: number;
  /** Virtual time at n = 0 (default 0). */
  readonly tStart?: number;
  /** Virtual time at n = N (default 1). */
  readonly tEnd?: number;
  /** Return √ε, a drop-in Langevin `noiseScale` (default true). */
  readonly sqrt?: boolean;
}

const TEMPERATURE_KEYS = optionKeys<TemperatureSchedulerOptions>({
  tauStar: true,
  nSteps: true,
  tStart: true,
  tEnd: true,
  sqrt: true,
});

/**
 * Equilibrium-matching temperature: virtual time t = t_start + (t_end − t_start)·min(n, N)/N; ε(t) = 0 for
 * t < τ*, ε_max(t − τ*)/(1 − τ*) for τ* ≤ t < 1, ε_max for t ≥ 1. Returns √ε when `sqrt`.
 */
export class TemperatureScheduler extends BaseScheduler {
  readonly type = 'temperature';
  readonly epsilonMax: number;
  readonly tauStar: number;
  readonly nSteps: number;
  readonly tStart: number;
  readonly tEnd: number;
  readonly sqrt: boolean;
  constructor(options: TemperatureSchedulerOptions & { readonly epsilonMax: number });
  constructor(epsilonMax: number, options?: TemperatureSchedulerOptions);
  constructor(
    epsilonMaxArg: number | (TemperatureSchedulerOptions & { readonly epsilonMax: number }),
    optionsArg: TemperatureSchedulerOptions = {},
  ) {
    super();
    const o = optionsForm<TemperatureSchedulerOptions & { readonly epsilonMax: number }>(
      'TemperatureScheduler',
      epsilonMaxArg,
      [...TEMPERATURE_KEYS, 'epsilonMax'],
    );
    const options = o ?? assertKnownOptions('TemperatureScheduler', optionsArg, TEMPERATURE_KEYS);
    this.epsilonMax = assertNonNegative('epsilonMax', o ? o.epsilonMax : epsilonMaxArg);
    this.tauStar = assertInRange('tauStar', options.tauStar ?? 0.8, 0, 1, { hiInclusive: false });
    this.nSteps = assertInteger('nSteps', options.nSteps ?? 200, 1);
    this.tStart = assertFiniteNumber('tStart', options.tStart ?? 0);
    this.tEnd = assertFiniteNumber('tEnd', options.tEnd ?? 1);
    if (this.tEnd < this.tStart) {
      throw new EbmError(
        'INVALID_PARAM',
        'tEnd must be >= tStart (virtual time runs forward, as in TorchEBM).',
        {
          argument: 'tEnd',
          value: [this.tStart, this.tEnd],
          fix: 'pass tStart <= tEnd (e.g. the defaults 0 and 1).',
        },
      );
    }
    const sq = options.sqrt ?? true;
    if (typeof sq !== 'boolean') {
      throw new EbmError('INVALID_PARAM', 'sqrt must be a boolean.', {
        argument: 'sqrt',
        value: sq,
        fix: 'pass true or false.',
      });
    }
    this.sqrt = sq;
  }
  valueAt(n: number): number {
    const t = this.tStart + ((this.tEnd - this.tStart) * Math.min(n, this.nSteps)) / this.nSteps;
    let eps: number;
    if (t < this.tauStar) eps = 0;
    else if (t < 1) eps = (this.epsilonMax * (t - this.tauStar)) / (1 - this.tauStar);
    else eps = this.epsilonMax;
    return this.sqrt ? Math.sqrt(eps) : eps;
  }
  protected config() {
    return {
      epsilonMax: this.epsilonMax,
      tauStar: this.tauStar,
      nSteps: this.nSteps,
      tStart: this.tStart,
      tEnd: this.tEnd,
      sqrt: this.sqrt,
    };
  }
}

type Factory = (config: Record<string, unknown>) => BaseScheduler;
const factories = new Map<string, Factory>([
  ['constant', (c) => new ConstantScheduler(c.startValue as number)],
  [
    'exponentialDecay',
    (c) => new ExponentialDecayScheduler(c.startValue as number, c.decayRate as number, c.minValue as number),
  ],
  ['linear', (c) => new LinearScheduler(c.startValue as number, c.endValue as number, c.nSteps as number)],
  ['cosine', (c) => new CosineScheduler(c.startValue as number, c.endValue as number, c.nSteps as number)],
  [
    'multiStep',
    (c) => new MultiStepScheduler(c.startValue as number, c.milestones as number[], c.gamma as number),
  ],
  [
    'warmup',
    (c) =>
      new WarmupScheduler(
        schedulerFromJSON(c.main as SchedulerJSON),
        c.warmupSteps as number,
        c.warmupInitFactor as number,
      ),
  ],
  [
    'temperature',
    (c) =>
      new TemperatureScheduler(c.epsilonMax as number, {
        tauStar: c.tauStar as number,
        nSteps: c.nSteps as number,
        tStart: c.tStart as number,
        tEnd: c.tEnd as number,
        sqrt: c.sqrt as boolean,
      }),
  ],
]);

/** The configuration names of the built-in types (a custom type's factory checks its own). */
const CONFIG_KEYS: Readonly<Record<string, readonly string[]>> = {
  constant: CONSTANT_KEYS,
  exponentialDecay: EXP_KEYS,
  linear: RAMP_KEYS,
  cosine: RAMP_KEYS,
  multiStep: MULTI_KEYS,
  warmup: WARMUP_KEYS,
  temperature: [...TEMPERATURE_KEYS, 'epsilonMax'],
};

/** Registers a custom scheduler type for {@link schedulerFromJSON} (plugins). */
export function registerSchedulerType(type: string, factory: Factory): void {
  if (factories.has(type)) {
    throw new EbmError('KERNEL_CONFLICT', `Scheduler type "${type}" is already registered.`, {
      argument: 'type',
      value: type,
      fix: 'choose a unique type name.',
    });
  }
  factories.set(type, factory);
}

/** Restores a scheduler (type, configuration and step count) from {@link Scheduler.toJSON} output. */
export function schedulerFromJSON(json: SchedulerJSON): BaseScheduler {
  if (json === null || typeof json !== 'object' || typeof json.type !== 'string') {
    throw new EbmError('INVALID_PARAM', 'schedulerFromJSON needs an object with a "type".', {
      argument: 'json',
      value: json,
      fix: 'pass the value returned by scheduler.toJSON().',
    });
  }
  const f = factories.get(json.type);
  if (f === undefined) {
    throw new EbmError('INVALID_PARAM', `Unknown scheduler type "${json.type}".`, {
      argument: 'json.type',
      value: json.type,
      fix: `use one of ${[...factories.keys()].join(', ')}, or registerSchedulerType first.`,
    });
  }
  const keys = Object.hasOwn(CONFIG_KEYS, json.type) ? CONFIG_KEYS[json.type] : undefined;
  const config = keys
    ? assertKnownOptions(`schedulerFromJSON (${json.type})`, json.config, keys)
    : json.config;
  const s = f(config ?? {});
  s.setStep(json.n ?? 0);
  return s;
}

/** A number or a scheduler: what samplers accept for step sizes and noise scales. */
export type Schedulable = number | Scheduler;

/** Wraps a number in a {@link ConstantScheduler} (validated positive unless `allowZero`). */
export function toScheduler(
  name: string,
  v: Schedulable,
  { allowZero = false }: { allowZero?: boolean } = {},
): Scheduler {
  if (typeof v === 'number') {
    if (allowZero) assertNonNegative(name, v);
    else assertPositive(name, v);
    return new ConstantScheduler(v);
  }
  if (v === null || typeof v !== 'object' || typeof (v as Scheduler).step !== 'function') {
    throw new EbmError('INVALID_PARAM', `${name} must be a number or a Scheduler.`, {
      argument: name,
      value: v,
      fix: `pass a positive number or e.g. new ExponentialDecayScheduler(0.01, 0.99).`,
    });
  }
  return v;
}
