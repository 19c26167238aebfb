import * as tf from '@tensorflow/tfjs-core';
import type { EnergyFunction } from './energy.js';
import { assertFiniteTensor, defaultCheckFinite } from './energy.js';
import { EbmError } from './errors.js';
import {
  type ChainOptions,
  type ChainResult,
  type RecordingHooks,
  sampleChain,
  sampleChainSync,
  type WholeChainRecords,
  type WholeChainRequest,
} from './loop.js';
import type { RngKey } from './rng.js';
import { type Schedulable, type Scheduler, toScheduler } from './schedulers.js';
import { deserializeState, type SerializedState, serializeState, stateTensors } from './state.js';
import { assertBatch, assertInteger } from './validation.js';

export { disposeStateExcept, type SerializedState, stateTensors } from './state.js';

/**
 * # Sampler contract
 *
 * Chains live on the leading axis: a state holds `x: [B, D]` plus whatever the sampler carries (energy,
 * gradient, momentum, step index). Two ways to drive a sampler:
 * - `sample(options)` / `sampleSync(options)`: run `burnIn + nSteps` steps, keep every `thin`-th state,
 *   optionally record a trajectory and per-step diagnostics, report progress, honour an `AbortSignal`.
 *   Both delegate to the free loop `sampleChain` / `sampleChainSync` (`loop.ts`), which drives any
 *   `{ init, step }` kernel — a sampler is one.
 * - the pure form, `init(x0)` then `step(state, key) → { state, info }` (BlackJAX's shape): a step never
 *   mutates or disposes its input, and the scheduled values it uses are a function of `state.step`, so a run
 *   can be checkpointed (`saveState`) and resumed (`loadState`) bit-identically.
 *
 * Keys: the run key comes from `seed`; step t uses `foldIn(runKey, t)`.
 * @module
 */

/** Common part of every sampler state. Samplers extend it with their own tensors and numbers. */
export interface SamplerState {
  /** Positions `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Number of steps taken from the start of the run (drives schedulers and keys). */
  readonly step: number;
  /** Energies `[B]` when the sampler tracks them. */
  readonly energy?: tf.Tensor1D | undefined;
}

/**
 * Per-step information: per-chain `[B]` tensors (e.g. `isAccepted` 0/1, `acceptanceRate` min(1, α)) or
 * `[B, K]` tensors. Each sampler declares its own (e.g. `MHInfo`), so user code reads `info.acceptanceRate`
 * without non-null assertions.
 */
export type StepInfo = { readonly [field: string]: tf.Tensor };

/** What one pure step returns. */
export interface StepResult<S extends SamplerState, I extends StepInfo = StepInfo> {
  readonly state: S;
  readonly info: I;
}

/** A progress report of a run. */
export interface ProgressEvent {
  /** Steps done so far (burn-in included). */
  readonly step: number;
  /** Total steps of the run (burn-in included). */
  readonly total: number;
  readonly phase: 'burnIn' | 'sampling';
  readonly elapsedMs: number;
}

/** Field names a trajectory can record: `x`, `energy` and the sampler's info fields. */
export type TrajectoryField<I extends StepInfo = StepInfo> = 'x' | 'energy' | (keyof I & string);

/** Options of a sampling run. */
export interface SampleOptions<I extends StepInfo = StepInfo> {
  /** Initial states `[B, D]` (not disposed, not modified). Otherwise x0 ~ N(0, I) of `[nSamples, dim]`. */
  readonly x0?: tf.Tensor2D;
  /** Number of chains when `x0` is absent (default 1). */
  readonly nSamples?: number;
  /** Dimension when `x0` is absent (default: the energy's `dim`). */
  readonly dim?: number;
  /** Steps after burn-in (≥ 1). */
  readonly nSteps: number;
  /** Keep every `thin`-th state (default 1); `floor(nSteps / thin)` states are kept. */
  readonly thin?: number;
  /** Steps run before `nSteps`, not recorded (default 0). */
  readonly burnIn?: number;
  /**
   * Seed or key of the run. Default: a fresh random seed per call (reported as `result.seed`, so any run can
   * be replayed by passing it back).
   */
  readonly seed?: number | bigint | RngKey;
  /**
   * Record kept states: `true` records `x` as `[B, nKept, D]`; `{ fields }` picks fields among `x`, `energy`,
   * and the sampler's info keys (each `[B, nKept, ...]`).
   */
  readonly trajectory?: boolean | { readonly fields: readonly TrajectoryField<I>[] };
  /**
   * Per kept step: `mean [nKept, D]`, `var [nKept, D]` (biased, over chains), `energy [nKept]` (chain mean) and
   * the chain mean of every info field (e.g. `acceptanceRate [nKept]`; an info field `[B, K]` gives `[nKept, K]`). `{ convergence: true }` also computes
   * bulk/tail ESS and split-R̂ per dimension from the kept states (needs ≥ 8 kept states: the split halves need 4).
   */
  readonly diagnostics?: boolean | { readonly convergence?: boolean };
  /**
   * Called with progress every `progressEvery` steps and at the end. A run handed to a whole-chain kernel (see
   * `SamplingKernel.wholeChain`) reports after each of its ≤ 16 segments (multiples of `progressEvery`), or once
   * at the end for a traced whole chain.
   */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Steps between progress reports (default: about 100 reports per run). */
  readonly progressEvery?: number;
  /** Stops the run with an `ABORTED` EbmError (all tensors released). */
  readonly signal?: AbortSignal;
  /** Return the final state too (`finalState`), for resuming; the caller then owns it. */
  readonly keepState?: boolean;
  /**
   * Resume from a state (a `finalState` of an earlier run, or `loadState(saved)`) instead of `x0`: the run
   * continues at `state.step` with keys `foldIn(runKey, step)`, so with the same `seed` a run resumed after k
   * steps is bit-identical to an uninterrupted one. The given state is copied, never disposed.
   */
  readonly resumeFrom?: SamplerState;
  /**
   * What to do when chains end with (or pass through) NaN/±Infinity: `'warn'` (default: one console warning
   * with the count and the first step seen), `'throw'` (an `EbmError` `NON_FINITE`, every tensor released) or
   * `'ignore'`. Either way the result's `nonFinite` reports it. Checked on the device every ⌈total/16⌉ steps
   * and at the end, so `firstStep` is the first checked step at which a chain was bad (a bound: the chain
   * went bad after the previous check). A whole-chain run is checked after each segment (with `onProgress` or
   * `signal`) or once at the end — there without device ops: the run reads its final states once (a later
   * `await samples.data()` is served from that read) and counts the bad chains on the host; states of more than
   * 2²² elements are checked with one device sum instead.
   */
  readonly onNonFinite?: 'warn' | 'throw' | 'ignore';
}

/** Chains that became non-finite during a run (see `SampleOptions.onNonFinite`). */
export interface NonFiniteReport {
  /** Number of chains holding NaN/±Infinity. */
  readonly chains: number;
  /** The first checked step at which one was seen. */
  readonly firstStep: number;
}

/** Convergence diagnostics per dimension, computed on the host from the kept states. */
export interface ConvergenceSummary {
  readonly essBulk: number[];
  readonly essTail: number[];
  readonly rhat: number[];
}

/**
 * Per-kept-step diagnostics series: `mean [nKept, D]`, `var [nKept, D]`, `energy [nKept]` (chain mean; absent
 * for kernels without energies, such as flows) and the chain mean of every info field (`[nKept]`, or
 * `[nKept, K]` for a `[B, K]` field).
 */
export type DiagnosticsSeries<I extends StepInfo = StepInfo> = {
  readonly mean: tf.Tensor2D;
  readonly var: tf.Tensor2D;
  readonly energy?: tf.Tensor1D;
} & { readonly [K in keyof I]: tf.Tensor };

/** What a run returns. The caller owns every tensor in it (see {@link disposeSampleResult}). */
export interface SampleResult<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo> {
  /** Final positions `[B, D]`. */
  readonly samples: tf.Tensor2D;
  /** Recorded fields, each `[B, nKept, ...]`. */
  readonly trajectory: Record<string, tf.Tensor> | undefined;
  /** Per-kept-step series, each with leading axis `nKept`. */
  readonly diagnostics: DiagnosticsSeries<I> | undefined;
  /** The trace function's fields (see `sampleChain`), each `[nKept, ...]`; `undefined` without a trace. */
  readonly traces?: Record<string, tf.Tensor> | undefined;
  readonly convergence: ConvergenceSummary | undefined;
  readonly finalState: S | undefined;
  readonly nKept: number;
  readonly stepsRun: number;
  /** The seed (or key) of the run: pass it back as `seed` to replay it. */
  readonly seed?: number | bigint | RngKey;
  /** Chains that went non-finite, when any did (`undefined` otherwise, or when unchecked). */
  readonly nonFinite?: NonFiniteReport | undefined;
  /**
   * Worker threads that ran the chains, when the run was given a sampler's `workers` option (0: the calling
   * thread; see `@ebm/samplers`); `undefined` otherwise.
   */
  readonly workers?: number;
}

/** Disposes every tensor of a result. */
export function disposeSampleResult<S extends SamplerState, I extends StepInfo>(r: SampleResult<S, I>): void {
  const seen = new Set<tf.Tensor>();
  const d = (t: tf.Tensor | undefined) => {
    if (t !== undefined && !seen.has(t) && !t.isDisposed) {
      seen.add(t);
      t.dispose();
    }
  };
  d(r.samples);
  for (const t of Object.values(r.trajectory ?? {})) d(t);
  for (const t of Object.values(r.diagnostics ?? {})) d(t as tf.Tensor);
  for (const t of Object.values(r.traces ?? {})) d(t);
  if (r.finalState !== undefined) for (const t of stateTensors(r.finalState)) d(t);
}

/** The sampler seam. */
export interface Sampler<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo> {
  readonly name: string;
  readonly energy: EnergyFunction;
  /** Builds the state at step 0 (or `step`) from positions (x0 is copied, never taken). */
  init(x0: tf.Tensor2D, step?: number): S;
  /** One pure step. Does not mutate or dispose `state`. */
  step(state: S, key: RngKey): StepResult<S, I>;
  /** Full run, yielding to the event loop between chunks (progress, abort, async backends). */
  sample(options: SampleOptions<I>): Promise<SampleResult<S, I>>;
  /** Full run, synchronous (for loss functions and tight loops on cpu/wasm). */
  sampleSync(options: SampleOptions<I>): SampleResult<S, I>;
  /** Disposes a state's tensors. */
  disposeState(state: S): void;
}

/**
 * Base class that implements the sampler API on top of two methods, {@link BaseSampler.initState} and
 * {@link BaseSampler.step}; runs go through the free loop (`sampleChain`), with `trajectory` / `diagnostics`
 * as sugar over its trace function.
 */
export abstract class BaseSampler<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo>
  implements Sampler<S, I>
{
  readonly name: string;
  readonly energy: EnergyFunction;
  private readonly schedulers = new Map<string, Scheduler>();

  constructor(energy: EnergyFunction, name?: string) {
    if (
      energy === null ||
      typeof energy !== 'object' ||
      typeof energy.energy !== 'function' ||
      typeof energy.gradient !== 'function'
    ) {
      throw new EbmError('INVALID_PARAM', 'A sampler needs an EnergyFunction.', {
        argument: 'energy',
        value: energy === null ? null : typeof energy,
        fix: 'pass an energy such as new DoubleWell() from @ebm/models, or a BaseEnergy subclass.',
      });
    }
    this.energy = energy;
    this.name = name ?? this.constructor.name;
  }

  /** The feature dimension (the energy's), for runs that draw x0 themselves. */
  get dim(): number | undefined {
    return this.energy.dim;
  }

  /**
   * Registers a number-or-scheduler parameter. Its value at step t is `scheduler.valueAt(t)` (TorchEBM: the
   * value after t `step()` calls), read with {@link BaseSampler.scheduled}.
   */
  protected schedule(name: string, v: Schedulable, options: { allowZero?: boolean } = {}): Scheduler {
    const s = toScheduler(name, v, options);
    this.schedulers.set(name, s);
    return s;
  }

  /** Value of scheduled parameter `name` at step `t`. */
  protected scheduled(name: string, t: number): number {
    const s = this.schedulers.get(name);
    if (s === undefined) {
      throw new EbmError('STATE_ERROR', `No scheduled parameter "${name}".`, {
        argument: 'name',
        value: name,
        fix: 'register it with this.schedule(name, value) in the constructor.',
      });
    }
    return s.valueAt(t);
  }

  /** Builds the state from a copy of x0 that the state owns. */
  protected abstract initState(x: tf.Tensor2D, step: number): S;

  /**
   * Optional fast path for a whole run (e.g. a backend's `chain.<kind>` kernel): `nSteps` steps from `state`
   * (do not dispose the input) with the step loop's stream — the step from state step s uses `foldIn(runKey, s)`
   * (pass `key: runKey, startStep: state.step` to a chain kernel) — or `undefined` to use the step loop.
   * Without `request` return the final state; with one (the run wants `diagnostics` and/or an `x` trajectory,
   * e.g. through a `chainTrace.<kind>` kernel) return `{ state, diagnostics?, trajectory? }` with the step loop's
   * keys, shapes and meaning, or `undefined` (see `SamplingKernel.wholeChain`). Not called for runs with a trace
   * function or trajectory fields other than `x`. May return a promise (used by async runs only; a sync run
   * falls back to the step loop).
   */
  protected runWholeChain(
    _state: S,
    _nSteps: number,
    _runKey: RngKey,
    _request?: WholeChainRequest,
  ): S | WholeChainRecords<S> | undefined | Promise<S | WholeChainRecords<S> | undefined> {
    return undefined;
  }

  /**
   * Optional fast path for a run that draws its own x0: the whole run of `nSteps` steps from x0 ~ N(0, I) of
   * `shape` with `randomNormal(x0Key, shape)`'s stream (e.g. a `chain.<kind>` kernel that draws x0 in its own
   * dispatch: `ChainFromNormalInputs`), as the final state at step `nSteps`, or `undefined` to draw x0 and use
   * {@link runWholeChain} (see `SamplingKernel.wholeChainFromNormal`).
   */
  protected runWholeChainFromNormal(
    _shape: readonly [number, number],
    _x0Key: RngKey,
    _nSteps: number,
    _runKey: RngKey,
  ): S | undefined {
    return undefined;
  }

  abstract step(state: S, key: RngKey): StepResult<S, I>;

  /** The same kernel as a plain `{ init, step, wholeChain }` object for the free loop. */
  protected asKernel() {
    return {
      name: this.name,
      dim: this.energy.dim,
      init: (x0: tf.Tensor2D, step?: number) => this.init(x0, step),
      step: (state: S, key: RngKey) => this.step(state, key),
      ...(typeof (this as { stepAsync?: unknown }).stepAsync === 'function'
        ? {
            stepAsync: (state: S, key: RngKey) =>
              (this as unknown as { stepAsync(s: S, k: RngKey): Promise<StepResult<S, I>> }).stepAsync(
                state,
                key,
              ),
          }
        : {}),
      wholeChain: (state: S, nSteps: number, runKey: RngKey, request?: WholeChainRequest) =>
        this.runWholeChain(state, nSteps, runKey, request),
      wholeChainFromNormal: (
        shape: readonly [number, number],
        x0Key: RngKey,
        nSteps: number,
        runKey: RngKey,
      ): S | undefined => this.runWholeChainFromNormal(shape, x0Key, nSteps, runKey),
      disposeState: (state: S) => this.disposeState(state),
    };
  }

  init(x0: tf.Tensor2D, step = 0): S {
    const x = assertBatch('x0', x0, this.energy.dim);
    assertInteger('step', step, 0);
    if (defaultCheckFinite()) assertFiniteTensor('x0', x);
    const copy = tf.clone(x);
    try {
      return this.initState(copy, step);
    } catch (e) {
      copy.dispose();
      throw e;
    }
  }

  disposeState(state: S): void {
    for (const t of stateTensors(state)) if (!t.isDisposed) t.dispose();
  }

  /** Energies of a state for diagnostics: `state.energy` when tracked, else evaluated (caller disposes). */
  protected energyOf(state: S): { energy: tf.Tensor1D; owned: boolean } {
    if (state.energy !== undefined) return { energy: state.energy, owned: false };
    return { energy: this.energy.energy(state.x, { checkFinite: false }), owned: true };
  }

  /** Snapshot of a state as plain data (async: works on every backend). */
  saveState(state: S): Promise<SerializedState> {
    return serializeState(state);
  }

  /** Rebuilds a state saved by {@link BaseSampler.saveState} (validated first: saved data is untrusted). */
  loadState(saved: SerializedState): S {
    return deserializeState<S>(saved);
  }

  /** Full run, synchronous: for cpu/wasm (see `sampleChainSync`). */
  sampleSync(options: SampleOptions<I>): SampleResult<S, I> {
    return sampleChainSync(this.asKernel(), this.chainOptions(options), this.hooks());
  }

  /** Full run on any backend (see `sampleChain`). */
  sample(options: SampleOptions<I>): Promise<SampleResult<S, I>> {
    return sampleChain(this.asKernel(), this.chainOptions(options), this.hooks());
  }

  /** Run options for the loop (a hook for subclasses that add options). */
  protected chainOptions(options: SampleOptions<I>): ChainOptions<S, I> {
    return options as ChainOptions<S, I>;
  }

  /** Option names a subclass's `chainOptions` handles besides the loop's (so they are not rejected). */
  protected sampleOptionKeys(): readonly string[] {
    return [];
  }

  /** The loop's recording hooks of this sampler (for subclasses that drive `sampleChain` themselves). */
  protected hooks(): RecordingHooks<S> {
    return { energyOf: (s: S) => this.energyOf(s), optionKeys: this.sampleOptionKeys() };
  }
}

export type { ChainResult };
