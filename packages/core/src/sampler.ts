import * as tf from '@tensorflow/tfjs-core';
import { splitRhatEss } from './diagnostics.js';
import type { EnergyFunction } from './energy.js';
import { assertFiniteTensor, defaultCheckFinite } from './energy.js';
import { EbmError } from './errors.js';
import { randomNormal } from './kernels.js';
import { foldIn, type RngKey, toKey } from './rng.js';
import { type Schedulable, type Scheduler, toScheduler } from './schedulers.js';
import { assertBatch, assertInteger } from './validation.js';

/**
 * # Sampler contract
 *
 * Chains live on the leading axis: a state holds `x: [B, D]` plus whatever the sampler carries (energy,
 * gradient, momentum, step index). Two ways to drive a sampler:
 * - `sample(options)` / `sampleSync(options)`: run `burnIn + nSteps` steps, keep every `thin`-th state,
 *   optionally record a trajectory and per-step diagnostics, report progress, honour an `AbortSignal`.
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

/** Per-step information: per-chain `[B]` tensors (e.g. `acceptanceRate` as 0/1 or min(1, α)) or scalars. */
export type StepInfo = Record<string, tf.Tensor>;

/** What one pure step returns. */
export interface StepResult<S extends SamplerState> {
  readonly state: S;
  readonly info: StepInfo;
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

/** Options of a sampling run. */
export interface SampleOptions {
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
  /** Seed or key of the run (default 0). */
  readonly seed?: number | bigint | RngKey;
  /**
   * Record kept states: `true` records `x` as `[B, nKept, D]`; `{ fields }` picks fields among `x`, `energy`,
   * and the sampler's info keys (each `[B, nKept, ...]`).
   */
  readonly trajectory?: boolean | { readonly fields: readonly string[] };
  /**
   * Per kept step: `mean [nKept, D]`, `var [nKept, D]` (biased, over chains), `energy [nKept]` (chain mean) and
   * the chain mean of every info field (e.g. `acceptanceRate [nKept]`; an info field `[B, K]` gives `[nKept, K]`). `{ convergence: true }` also computes
   * bulk/tail ESS and split-R̂ per dimension from the kept states (needs ≥ 8 kept states: the split halves need 4).
   */
  readonly diagnostics?: boolean | { readonly convergence?: boolean };
  /** Called with progress every `progressEvery` steps and at the end. */
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
}

/** Convergence diagnostics per dimension, computed on the host from the kept states. */
export interface ConvergenceSummary {
  readonly essBulk: number[];
  readonly essTail: number[];
  readonly rhat: number[];
}

/** What a run returns. The caller owns every tensor in it (see {@link disposeSampleResult}). */
export interface SampleResult<S extends SamplerState = SamplerState> {
  /** Final positions `[B, D]`. */
  readonly samples: tf.Tensor2D;
  /** Recorded fields, each `[B, nKept, ...]`. */
  readonly trajectory: Record<string, tf.Tensor> | undefined;
  /** Per-kept-step series, each with leading axis `nKept`. */
  readonly diagnostics: Record<string, tf.Tensor> | undefined;
  readonly convergence: ConvergenceSummary | undefined;
  readonly finalState: S | undefined;
  readonly nKept: number;
  readonly stepsRun: number;
}

/** Disposes every tensor of a result. */
export function disposeSampleResult(r: SampleResult): void {
  const seen = new Set<tf.Tensor>();
  const d = (t: tf.Tensor | undefined) => {
    if (t !== undefined && !seen.has(t) && !t.isDisposed) {
      seen.add(t);
      t.dispose();
    }
  };
  d(r.samples);
  for (const t of Object.values(r.trajectory ?? {})) d(t);
  for (const t of Object.values(r.diagnostics ?? {})) d(t);
  if (r.finalState !== undefined) for (const t of stateTensors(r.finalState)) d(t);
}

/** The sampler seam. */
export interface Sampler<S extends SamplerState = SamplerState> {
  readonly name: string;
  readonly energy: EnergyFunction;
  /** Builds the state at step 0 (or `step`) from positions (x0 is copied, never taken). */
  init(x0: tf.Tensor2D, step?: number): S;
  /** One pure step. Does not mutate or dispose `state`. */
  step(state: S, key: RngKey): StepResult<S>;
  /** Full run, yielding to the event loop between chunks (progress, abort, async backends). */
  sample(options: SampleOptions): Promise<SampleResult<S>>;
  /** Full run, synchronous (for loss functions and tight loops). */
  sampleSync(options: SampleOptions): SampleResult<S>;
  /** Disposes a state's tensors. */
  disposeState(state: S): void;
}

/** Every tensor held directly by a state object (fields and arrays of tensors). */
export function stateTensors(state: object): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const v of Object.values(state)) {
    if (v instanceof tf.Tensor) out.push(v);
    else if (Array.isArray(v)) for (const w of v) if (w instanceof tf.Tensor) out.push(w);
  }
  return out;
}

/** Disposes the tensors of `old` that `next` does not hold (so pass-through tensors survive). */
export function disposeStateExcept(old: object, next: object): void {
  const keep = new Set(stateTensors(next));
  for (const t of stateTensors(old)) if (!keep.has(t) && !t.isDisposed) t.dispose();
}

/** Plain-data snapshot of a sampler state (tensors as shape + dtype + numbers). */
export interface SerializedState {
  readonly [field: string]:
    | {
        readonly tensor: true;
        readonly shape: number[];
        readonly dtype: tf.DataType;
        readonly data: number[];
      }
    | number
    | string
    | boolean
    | null;
}

/**
 * Base class that implements the run loop, trajectories, diagnostics, progress, abort and checkpoints on top
 * of two methods: {@link BaseSampler.initState} and {@link BaseSampler.step}.
 */
export abstract class BaseSampler<S extends SamplerState = SamplerState> implements Sampler<S> {
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
   * Optional fast path for a whole run (e.g. a backend's `chain.<kind>` kernel): return the state after
   * `nSteps` steps from `state` (a new state; do not dispose the input), or `undefined` to use the step loop.
   * Called only when no trajectory and no diagnostics are requested.
   */
  protected runWholeChain(_state: S, _nSteps: number, _runKey: RngKey): S | undefined {
    return undefined;
  }

  abstract step(state: S, key: RngKey): StepResult<S>;

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
  async saveState(state: S): Promise<SerializedState> {
    const out: Record<string, SerializedState[string]> = {};
    for (const [k, v] of Object.entries(state)) {
      if (v instanceof tf.Tensor) {
        out[k] = { tensor: true, shape: [...v.shape], dtype: v.dtype, data: Array.from(await v.data()) };
      } else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) {
        out[k] = v;
      } else if (v !== undefined) {
        throw new EbmError('NOT_IMPLEMENTED', `State field "${k}" cannot be serialised.`, {
          argument: k,
          value: typeof v,
          fix: 'keep sampler states to tensors, numbers, strings and booleans.',
        });
      }
    }
    return out;
  }

  /** Rebuilds a state saved by {@link BaseSampler.saveState}. */
  loadState(saved: SerializedState): S {
    if (saved === null || typeof saved !== 'object' || !('x' in saved) || !('step' in saved)) {
      throw new EbmError('INVALID_PARAM', 'loadState needs an object from saveState().', {
        argument: 'saved',
        value: saved === null ? null : typeof saved,
        fix: 'pass the value returned by sampler.saveState(state).',
      });
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(saved)) {
      out[k] = v !== null && typeof v === 'object' && v.tensor ? tf.tensor(v.data, v.shape, v.dtype) : v;
    }
    return out as unknown as S;
  }

  sampleSync(options: SampleOptions): SampleResult<S> {
    const gen = this.runLoop(options);
    let r = gen.next();
    while (!r.done) r = gen.next();
    return r.value;
  }

  async sample(options: SampleOptions): Promise<SampleResult<S>> {
    const gen = this.runLoop(options);
    let r = gen.next();
    while (!r.done) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      r = gen.next(); // a throw ends the generator, which has already released its tensors
    }
    return r.value;
  }

  private initialState(options: SampleOptions, runKey: RngKey): S {
    if (options.resumeFrom !== undefined) {
      const from = options.resumeFrom;
      if (from === null || typeof from !== 'object' || !(from.x instanceof tf.Tensor)) {
        throw new EbmError('INVALID_PARAM', 'resumeFrom must be a sampler state.', {
          argument: 'resumeFrom',
          value: from === null ? null : typeof from,
          fix: 'pass result.finalState (run with keepState: true) or sampler.loadState(saved).',
        });
      }
      assertBatch('resumeFrom.x', from.x, this.energy.dim);
      assertInteger('resumeFrom.step', from.step, 0);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(from)) {
        if (v instanceof tf.Tensor) {
          if (v.isDisposed) {
            throw new EbmError('STATE_ERROR', `resumeFrom.${k} has been disposed.`, {
              argument: `resumeFrom.${k}`,
              fix: 'keep the state alive until the resumed run has started.',
            });
          }
          out[k] = tf.clone(v);
        } else if (Array.isArray(v)) out[k] = v.map((w) => (w instanceof tf.Tensor ? tf.clone(w) : w));
        else out[k] = v;
      }
      return out as unknown as S;
    }
    if (options.x0 !== undefined) return this.init(options.x0);
    const n = assertInteger('nSamples', options.nSamples ?? 1, 1);
    const dim = options.dim ?? this.energy.dim;
    if (dim === undefined) {
      throw new EbmError('INVALID_PARAM', 'Give x0 or dim: the energy has no fixed dimension.', {
        argument: 'dim',
        value: dim,
        fix: 'pass { x0 } or { nSamples, dim }.',
      });
    }
    assertInteger('dim', dim, 1);
    const x0 = randomNormal(foldIn(runKey, Number.MAX_SAFE_INTEGER), [n, dim]) as tf.Tensor2D;
    try {
      return this.init(x0);
    } finally {
      x0.dispose();
    }
  }

  /** The run as a generator that yields between chunks of steps (drives both sample and sampleSync). */
  private *runLoop(options: SampleOptions): Generator<void, SampleResult<S>, void> {
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'sample() needs an options object.', {
        argument: 'options',
        value: options,
        fix: 'pass e.g. { nSamples: 100, dim: 2, nSteps: 500 }.',
      });
    }
    const nSteps = assertInteger('nSteps', options.nSteps, 1);
    const thin = assertInteger('thin', options.thin ?? 1, 1);
    const burnIn = assertInteger('burnIn', options.burnIn ?? 0, 0);
    const runKey = toKey(options.seed ?? 0, 'seed');
    const total = burnIn + nSteps;
    const progressEvery = assertInteger(
      'progressEvery',
      options.progressEvery ?? Math.max(1, Math.floor(total / 100)),
      1,
    );
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new EbmError('INVALID_PARAM', 'onProgress must be a function.', {
        argument: 'onProgress',
        value: typeof options.onProgress,
        fix: 'pass (event) => { ... }.',
      });
    }
    const trajFields =
      options.trajectory === true
        ? ['x']
        : options.trajectory && typeof options.trajectory === 'object'
          ? [...options.trajectory.fields]
          : [];
    const wantDiag = options.diagnostics !== undefined && options.diagnostics !== false;
    const wantConv = typeof options.diagnostics === 'object' && options.diagnostics.convergence === true;
    const recordX = trajFields.includes('x') || wantConv;
    if (wantConv && Math.floor(nSteps / thin) < 8) {
      throw new EbmError('INVALID_PARAM', 'Convergence diagnostics need at least 8 kept states.', {
        argument: 'diagnostics.convergence',
        value: Math.floor(nSteps / thin),
        fix: 'raise nSteps (or lower thin) so that floor(nSteps / thin) >= 8, or drop convergence.',
      });
    }
    const signal = options.signal;
    const checkAbort = () => {
      if (signal?.aborted) {
        throw new EbmError('ABORTED', `${this.name} run aborted.`, {
          argument: 'signal',
          fix: 'do not abort the signal, or catch the ABORTED error.',
          cause: signal.reason,
        });
      }
    };
    checkAbort();

    const traj = new Map<string, tf.Tensor[]>();
    const diag = new Map<string, tf.Tensor[]>();
    const xs: tf.Tensor[] = [];
    let state: S | undefined;
    const started = Date.now();
    const report = (step: number) =>
      options.onProgress?.({
        step,
        total,
        phase: step <= burnIn && burnIn > 0 ? 'burnIn' : 'sampling',
        elapsedMs: Date.now() - started,
      });
    const push = (m: Map<string, tf.Tensor[]>, k: string, t: tf.Tensor) => {
      let a = m.get(k);
      if (a === undefined) {
        a = [];
        m.set(k, a);
      }
      a.push(t);
    };
    const disposeRecords = () => {
      for (const a of [...traj.values(), ...diag.values(), xs]) for (const t of a) t.dispose();
      traj.clear();
      diag.clear();
      xs.length = 0;
    };
    const cleanup = () => {
      disposeRecords();
      if (state !== undefined) this.disposeState(state);
    };
    try {
      state = this.initialState(options, runKey);
      let lastYield = Date.now();
      let first = 1;
      if (trajFields.length === 0 && !wantDiag) {
        const whole = this.runWholeChain(state, total, runKey);
        if (whole !== undefined) {
          disposeStateExcept(state, whole);
          state = whole;
          first = total + 1;
          report(total);
        }
      }
      for (let i = first; i <= total; i++) {
        checkAbort();
        const { state: next, info } = this.step(state, foldIn(runKey, state.step));
        disposeStateExcept(state, next);
        state = next;
        const kept = i > burnIn && (i - burnIn) % thin === 0;
        if (kept) {
          const s = state;
          if (recordX) xs.push(tf.clone(s.x));
          for (const f of trajFields) {
            if (f === 'x') continue;
            const src = f === 'energy' ? (s.energy ?? undefined) : info[f];
            if (f === 'energy' && src === undefined) {
              const { energy, owned } = this.energyOf(s);
              push(traj, f, owned ? energy : tf.clone(energy));
            } else if (src === undefined) {
              throw new EbmError('INVALID_PARAM', `Unknown trajectory field "${f}" for ${this.name}.`, {
                argument: 'trajectory.fields',
                value: f,
                fix: `use x, energy${Object.keys(info).length ? `, ${Object.keys(info).join(', ')}` : ''}.`,
              });
            } else push(traj, f, tf.clone(src));
          }
          if (wantDiag) {
            const { energy, owned } = this.energyOf(s);
            tf.tidy(() => {
              const { mean, variance } = tf.moments(s.x, 0);
              push(diag, 'mean', tf.keep(mean));
              push(diag, 'var', tf.keep(tf.clipByValue(variance, 1e-10, 1e10)));
              push(diag, 'energy', tf.keep(tf.mean(energy)));
              // [B] info → chain mean (scalar); [B, ...] info → mean over the chain axis.
              for (const [k, v] of Object.entries(info))
                push(diag, k, tf.keep(v.rank >= 2 ? tf.mean(v, 0) : tf.mean(v)));
            });
            if (owned) energy.dispose();
          }
        }
        const held = new Set(stateTensors(state));
        for (const t of Object.values(info)) if (!held.has(t)) t.dispose();
        if (i % progressEvery === 0 || i === total) report(i);
        if (Date.now() - lastYield > 50) {
          yield;
          lastYield = Date.now();
        }
      }
      const nKept = Math.floor(nSteps / thin);
      const trajectory: Record<string, tf.Tensor> = {};
      if (trajFields.includes('x') && xs.length > 0) trajectory.x = tf.stack(xs, 1);
      for (const [k, a] of traj) trajectory[k] = tf.stack(a, 1);
      const diagnostics: Record<string, tf.Tensor> = {};
      for (const [k, a] of diag) diagnostics[k] = tf.stack(a, 0);
      let convergence: ConvergenceSummary | undefined;
      if (wantConv && xs.length > 0) {
        const stacked = tf.stack(xs, 1) as tf.Tensor3D; // [B, nKept, D]
        const [b, n, d] = stacked.shape;
        const data = stacked.dataSync();
        stacked.dispose();
        const essBulk: number[] = [];
        const essTail: number[] = [];
        const rhat: number[] = [];
        for (let j = 0; j < d; j++) {
          const chains: number[][] = [];
          for (let c = 0; c < b; c++) {
            const row = new Array<number>(n);
            for (let t = 0; t < n; t++) row[t] = data[(c * n + t) * d + j]!;
            chains.push(row);
          }
          const r = splitRhatEss(chains);
          essBulk.push(r.essBulk);
          essTail.push(r.essTail);
          rhat.push(r.rhat);
        }
        convergence = { essBulk, essTail, rhat };
      }
      disposeRecords();
      const finalState = state;
      state = undefined;
      const samples = options.keepState ? (tf.clone(finalState.x) as tf.Tensor2D) : finalState.x;
      if (!options.keepState) disposeStateExcept(finalState, { samples });
      return {
        samples,
        trajectory: trajFields.length > 0 ? trajectory : undefined,
        diagnostics: wantDiag ? diagnostics : undefined,
        convergence,
        finalState: options.keepState ? finalState : undefined,
        nKept,
        stepsRun: total,
      };
    } catch (e) {
      cleanup();
      throw e;
    }
  }
}
