import * as tf from '@tensorflow/tfjs-core';
import { splitRhatEss } from './diagnostics.js';
import { EbmError } from './errors.js';
import { NON_FINITE_ROWS_KERNEL } from './finite-kernel.js';
import { countNonFiniteRows, finiteScanPolicy, HOST_FINITE_SCAN_MAX, sumCounts } from './finite-rows.js';
import { kernelSource, randomNormal, runKernel } from './kernels.js';
import { assertKnownOptions } from './options.js';
import { foldIn, type RngKey, toKey } from './rng.js';
import type {
  ConvergenceSummary,
  NonFiniteReport,
  ProgressEvent,
  SampleOptions,
  SampleResult,
  SamplerState,
  StepInfo,
  StepResult,
} from './sampler.js';
import { disposeStateExcept, stateTensors } from './state.js';
import { canReadSync } from './tfjs-internals.js';
import { assertAllocation, assertBatch, assertInteger, assertOneOf } from './validation.js';

/**
 * # One loop anyone can drive
 *
 * {@link sampleChain} runs any {@link SamplingKernel} — a plain `{ init, step }` object, no base class needed —
 * for `burnIn + nSteps` steps with keys `foldIn(runKey, t)`, thinning, a trace function, progress, abort and
 * resume (TFP's `sample_chain(kernel, trace_fn)`, BlackJAX's `run_inference_algorithm`). `BaseSampler.sample`
 * delegates here; its `trajectory` / `diagnostics` options are sugar over the trace function.
 *
 * Host reads happen only here, at the async boundary: the async loop awaits a kernel's `stepAsync` (a step that
 * must look at its data, such as NUTS's stopping rule) and reads the kept states for convergence diagnostics
 * with `await data()`. {@link sampleChainSync} is the synchronous twin for the host backends (cpu, wasm).
 * @module
 */

/**
 * A transition kernel the loop can drive: a pure `init` + `step` pair (BlackJAX's `SamplingAlgorithm`).
 * `step` must not mutate or dispose its input state; tensors it returns in `info` that the new state does not
 * hold are disposed by the loop after tracing.
 */
export interface SamplingKernel<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo> {
  /** Name for messages (default `'kernel'`). */
  readonly name?: string;
  /** The feature dimension, when fixed (used when the run draws x0 itself). */
  readonly dim?: number | undefined;
  /** Builds the state at `step` (default 0) from positions; must not take ownership of `x0`. */
  init(x0: tf.Tensor2D, step?: number): S;
  /** One step from `state` with `key`. */
  step(state: S, key: RngKey): StepResult<S, I>;
  /** Async step, used by {@link sampleChain} when present (steps that read data on the host). */
  stepAsync?(state: S, key: RngKey): Promise<StepResult<S, I>>;
  /**
   * Optional fast path for a whole run (e.g. a backend's `chain.<kind>` kernel): `nSteps` steps from `state`
   * (the input is not disposed) drawing the step loop's stream — the step from state step s uses
   * `foldIn(runKey, s)` — or `undefined` to use the step loop.
   * - Without `request` (no diagnostics, trajectory or trace wanted): return the final state.
   * - With `request` (the run wants `diagnostics` and/or the `x` trajectory, see {@link WholeChainRequest}):
   *   return {@link WholeChainRecords} — the final state and what was asked for, with the step loop's keys,
   *   shapes and meaning — or `undefined` when the kernel cannot record (the loop then runs its steps). A bare
   *   state returned to a request (a kernel written before requests existed) is discarded and the step loop runs.
   * Not called for runs with a `trace` function or trajectory fields other than `x`. With `onProgress` or a
   * `signal`, a plain run calls it for ≤ 16 consecutive segments (so segments must continue the stream: they
   * do when the kernel honours `state.step`); returning `undefined` for a later segment hands the rest of the run
   * to the step loop.
   */
  wholeChain?(
    state: S,
    nSteps: number,
    runKey: RngKey,
    request?: WholeChainRequest,
  ): S | WholeChainRecords<S> | undefined | Promise<S | WholeChainRecords<S> | undefined>;
  /**
   * Optional fast path for a run that draws its own initial states: the whole run from x0 ~ N(0, I) of `shape`,
   * drawn with exactly `randomNormal(x0Key, shape)`'s stream, in one call (e.g. a `chain.<kind>` kernel that draws
   * x0 in its own dispatch), or `undefined` to draw x0, call {@link init} and go on as usual. The loop calls it
   * only for runs without `x0` / `resumeFrom` whose whole chain would be one plain {@link wholeChain} call (no
   * trace, recorded steps, progress or signal); the result is that call's final state.
   */
  wholeChainFromNormal?(
    shape: readonly [number, number],
    x0Key: RngKey,
    nSteps: number,
    runKey: RngKey,
  ): S | undefined;
  /** Disposes a state's tensors (default: every tensor field of the state). */
  disposeState?(state: S): void;
}

/**
 * What the loop asks a whole chain to record (the 4th argument of {@link SamplingKernel.wholeChain}). Steps of
 * the call are numbered i = 1 … nSteps (burn-in included); step i is kept when i > burnIn and
 * (i − burnIn) mod thin = 0, so nKept = ⌊(nSteps − burnIn) / thin⌋ ≥ 1 (the loop asks only when some step is kept).
 */
export interface WholeChainRequest {
  /** Steps at the start that are not kept. */
  readonly burnIn: number;
  /** Keep every `thin`-th step after burn-in. */
  readonly thin: number;
  /**
   * Record the `diagnostics` series as the step loop does: per kept step `mean [nKept, D]`, biased `var [nKept, D]`
   * (clipped to [1e-10, 1e10]), `energy [nKept]` (chain mean) and the chain mean of every step-info field.
   */
  readonly diagnostics: boolean;
  /** Record x at the kept steps, `[B, nKept, D]`. */
  readonly trajectory: boolean;
}

/** What a whole chain returns for a {@link WholeChainRequest}; the loop takes ownership of every tensor. */
export interface WholeChainRecords<S extends SamplerState = SamplerState> {
  /** The final state (a new state). */
  readonly state: S;
  /** The requested diagnostics series (keys and shapes as the step loop's), when `request.diagnostics`. */
  readonly diagnostics?: Readonly<Record<string, tf.Tensor>>;
  /** Kept positions `[B, nKept, D]`, when `request.trajectory`. */
  readonly trajectory?: tf.Tensor;
}

function isRecords<S extends SamplerState>(v: S | WholeChainRecords<S>): v is WholeChainRecords<S> {
  return !((v as S).x instanceof tf.Tensor) && (v as WholeChainRecords<S>).state !== undefined;
}

/**
 * A trace function: tensors to record at each kept step, computed from the state and the step's info
 * (TFP's `trace_fn`). The loop stacks each field over kept steps on a new leading axis: `[nKept, ...]`.
 * Runs inside `tf.tidy`; returning a tensor held by the state or the info is fine (the loop copies it).
 */
export type TraceFn<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo> = (
  state: S,
  info: I,
) => Record<string, tf.Tensor>;

/** Options of {@link sampleChain}: the run options of `Sampler.sample` plus a trace function. */
export interface ChainOptions<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo>
  extends Omit<SampleOptions<I>, 'resumeFrom'> {
  /** Tensors to record per kept step (see {@link TraceFn}); returned as `traces`, each `[nKept, ...]`. */
  readonly trace?: TraceFn<S, I>;
  /** Resume from a state of an earlier run of the same kernel (copied, never disposed). */
  readonly resumeFrom?: S;
}

/** What {@link sampleChain} returns: a {@link SampleResult} with the traces. The caller owns every tensor. */
export interface ChainResult<S extends SamplerState = SamplerState, I extends StepInfo = StepInfo>
  extends SampleResult<S, I> {
  /** The trace function's fields stacked over kept steps, each `[nKept, ...]`; `undefined` without `trace`. */
  readonly traces: Record<string, tf.Tensor> | undefined;
}

/** How the loop records the `trajectory` and `diagnostics` sugar (set by `BaseSampler`). */
export interface RecordingHooks<S extends SamplerState> {
  /** Energies of a state for `trajectory.fields: ['energy']` and diagnostics, and whether the caller owns them. */
  readonly energyOf?: (state: S) => { energy: tf.Tensor1D; owned: boolean };
  /** Option names the caller handles besides {@link CHAIN_OPTION_KEYS} (not rejected as unknown). */
  readonly optionKeys?: readonly string[];
}

type Yielded = Promise<unknown> | undefined;

const defaultDispose = (state: object) => {
  for (const t of stateTensors(state)) if (!t.isDisposed) t.dispose();
};

function isKernel(k: unknown): k is SamplingKernel {
  return (
    k !== null &&
    typeof k === 'object' &&
    typeof (k as SamplingKernel).init === 'function' &&
    typeof (k as SamplingKernel).step === 'function'
  );
}

function copyState<S extends SamplerState>(from: S, dim: number | undefined): S {
  if (from === null || typeof from !== 'object' || !(from.x instanceof tf.Tensor)) {
    throw new EbmError('INVALID_PARAM', 'resumeFrom must be a sampler state.', {
      argument: 'resumeFrom',
      value: from === null ? null : typeof from,
      fix: 'pass result.finalState (run with keepState: true) or sampler.loadState(saved).',
    });
  }
  assertBatch('resumeFrom.x', from.x, dim);
  assertInteger('resumeFrom.step', from.step, 0);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v instanceof tf.Tensor && v.isDisposed) {
      throw new EbmError('STATE_ERROR', `resumeFrom.${k} has been disposed.`, {
        argument: `resumeFrom.${k}`,
        fix: 'keep the state alive until the resumed run has started.',
      });
    }
  }
  for (const [k, v] of Object.entries(from)) {
    if (v instanceof tf.Tensor) out[k] = tf.clone(v);
    else if (Array.isArray(v)) out[k] = v.map((w) => (w instanceof tf.Tensor ? tf.clone(w) : w));
    else out[k] = v;
  }
  return out as unknown as S;
}

/** Key of a run's own x0 draw: one no step uses (steps use foldIn(runKey, t) with t < 2^53 − 1). */
function x0KeyOf(runKey: RngKey): RngKey {
  return foldIn(runKey, Number.MAX_SAFE_INTEGER);
}

function initialState<S extends SamplerState, I extends StepInfo>(
  kernel: SamplingKernel<S, I>,
  options: ChainOptions<S, I>,
  runKey: RngKey,
): S {
  if (options.resumeFrom !== undefined) return copyState(options.resumeFrom, kernel.dim);
  if (options.x0 !== undefined) return kernel.init(options.x0, 0);
  const [n, dim] = drawShape(kernel, options);
  // x0 ~ N(0, I) from a key no step uses.
  const x0 = randomNormal(x0KeyOf(runKey), [n, dim]) as tf.Tensor2D;
  try {
    return kernel.init(x0, 0);
  } finally {
    x0.dispose();
  }
}

/** The shape `[nSamples, dim]` of a run's own x0 draw, validated. */
function drawShape<S extends SamplerState, I extends StepInfo>(
  kernel: SamplingKernel<S, I>,
  options: ChainOptions<S, I>,
): [number, number] {
  const n = assertInteger('nSamples', options.nSamples ?? 1, 1);
  const dim = options.dim ?? kernel.dim;
  if (dim === undefined) {
    throw new EbmError('INVALID_PARAM', 'Give x0 or dim: the energy has no fixed dimension.', {
      argument: 'dim',
      value: dim,
      fix: 'pass { x0 } or { nSamples, dim }.',
    });
  }
  assertInteger('dim', dim, 1);
  return [n, dim];
}

/** Bulk/tail ESS and split-R̂ per dimension from kept states laid out `[B, nKept, D]` (row-major). */
function convergenceFrom(data: ArrayLike<number>, b: number, n: number, d: number): ConvergenceSummary {
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
  return { essBulk, essTail, rhat };
}

/** The option names {@link sampleChain} knows (unknown names are rejected with a suggestion). */
export const CHAIN_OPTION_KEYS: readonly string[] = Object.freeze([
  'x0',
  'nSamples',
  'dim',
  'nSteps',
  'thin',
  'burnIn',
  'seed',
  'trajectory',
  'diagnostics',
  'onProgress',
  'progressEvery',
  'signal',
  'keepState',
  'resumeFrom',
  'onNonFinite',
  'trace',
]);

/** A fresh 32-bit seed for runs without one (reported in the result so they can be replayed). */
function freshSeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * 2 ** 32);
}

/** Validated run settings. */
interface Plan {
  nSteps: number;
  thin: number;
  burnIn: number;
  total: number;
  runKey: RngKey;
  seed: number | bigint | RngKey;
  onNonFinite: 'warn' | 'throw' | 'ignore';
  progressEvery: number;
  trajFields: string[];
  wantDiag: boolean;
  wantConv: boolean;
}

function plan(
  name: string,
  options: ChainOptions<SamplerState, StepInfo>,
  extraKeys: readonly string[],
): Plan {
  if (options === null || typeof options !== 'object') {
    throw new EbmError('INVALID_PARAM', `${name}: sample() needs an options object.`, {
      argument: 'options',
      value: options,
      fix: 'pass e.g. { nSamples: 100, dim: 2, nSteps: 500 }.',
    });
  }
  assertKnownOptions(`${name}.sample()`, options, [...CHAIN_OPTION_KEYS, ...extraKeys]);
  const onNonFinite = assertOneOf('onNonFinite', options.onNonFinite ?? 'warn', ['warn', 'throw', 'ignore']);
  const nSteps = assertInteger('nSteps', options.nSteps, 1);
  const thin = assertInteger('thin', options.thin ?? 1, 1);
  const burnIn = assertInteger('burnIn', options.burnIn ?? 0, 0);
  const seed = options.seed ?? freshSeed();
  const runKey = toKey(seed, 'seed');
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
  if (options.trace !== undefined && typeof options.trace !== 'function') {
    throw new EbmError('INVALID_PARAM', 'trace must be a function (state, info) => Record<string, Tensor>.', {
      argument: 'trace',
      value: typeof options.trace,
      fix: 'pass e.g. trace: (s) => ({ x: s.x }).',
    });
  }
  const tr = options.trajectory as unknown;
  if (
    tr !== undefined &&
    typeof tr !== 'boolean' &&
    (tr === null ||
      typeof tr !== 'object' ||
      Array.isArray(tr) ||
      !Array.isArray((tr as { fields?: unknown }).fields) ||
      !(tr as { fields: unknown[] }).fields.every((f) => typeof f === 'string'))
  ) {
    throw new EbmError('INVALID_PARAM', 'trajectory must be true, false or { fields: string[] }.', {
      argument: 'trajectory',
      value: tr === null ? null : Array.isArray(tr) ? 'array' : typeof tr,
      fix: "pass trajectory: true (positions) or { fields: ['x', 'energy'] }.",
    });
  }
  const trajFields =
    tr === true ? ['x'] : tr && typeof tr === 'object' ? [...(tr as { fields: string[] }).fields] : [];
  const diag = options.diagnostics as unknown;
  if (
    diag !== undefined &&
    typeof diag !== 'boolean' &&
    (diag === null || typeof diag !== 'object' || Array.isArray(diag))
  ) {
    throw new EbmError('INVALID_PARAM', 'diagnostics must be true, false or { convergence?: boolean }.', {
      argument: 'diagnostics',
      value: diag === null ? null : typeof diag,
      fix: 'pass diagnostics: true, or { convergence: true } for R-hat and ESS.',
    });
  }
  const wantDiag = diag !== undefined && diag !== false;
  const wantConv = typeof diag === 'object' && (diag as { convergence?: unknown }).convergence === true;
  if (wantConv && Math.floor(nSteps / thin) < 8) {
    throw new EbmError('INVALID_PARAM', 'Convergence diagnostics need at least 8 kept states.', {
      argument: 'diagnostics.convergence',
      value: Math.floor(nSteps / thin),
      fix: 'raise nSteps (or lower thin) so that floor(nSteps / thin) >= 8, or drop convergence.',
    });
  }
  if (options.nSamples !== undefined && options.x0 === undefined && options.resumeFrom === undefined) {
    const n = assertInteger('nSamples', options.nSamples, 1);
    const dim = typeof options.dim === 'number' ? options.dim : 1;
    assertAllocation(
      'nSamples',
      n * dim,
      'lower nSamples (chains × dim must fit in memory), or split the run.',
    );
  }
  return {
    nSteps,
    thin,
    burnIn,
    total,
    runKey,
    seed,
    onNonFinite,
    progressEvery,
    trajFields,
    wantDiag,
    wantConv,
  };
}

/**
 * The loop as a generator over one code path for both drivers: it yields `undefined` to let the async driver
 * breathe (progress, abort, the event loop) and a `Promise` when it needs a value from the host (an async step,
 * a convergence read); the sync driver never receives a promise.
 */
function* runLoop<S extends SamplerState, I extends StepInfo>(
  kernel: SamplingKernel<S, I>,
  options: ChainOptions<S, I>,
  isAsync: boolean,
  hooks: RecordingHooks<S> | undefined,
): Generator<Yielded, ChainResult<S, I>, unknown> {
  const name = kernel.name ?? 'kernel';
  const p = plan(name, options as unknown as ChainOptions<SamplerState, StepInfo>, hooks?.optionKeys ?? []);
  const { nSteps, thin, burnIn, total, runKey, progressEvery, trajFields, wantDiag, wantConv } = p;
  const signal = options.signal;
  const checkAbort = () => {
    if (signal?.aborted) {
      throw new EbmError('ABORTED', `${name} run aborted.`, {
        argument: 'signal',
        fix: 'do not abort the signal, or catch the ABORTED error.',
        cause: signal.reason,
      });
    }
  };
  checkAbort();
  const disposeState = (s: S) => (kernel.disposeState ? kernel.disposeState(s) : defaultDispose(s));
  // Energies for diagnostics and the `energy` trajectory field: the sampler's hook, else `state.energy`
  // (a kernel without energies gets diagnostics without the `energy` series).
  const energyOf: (s: S) => { energy: tf.Tensor1D; owned: boolean } | undefined =
    hooks?.energyOf ?? ((s: S) => (s.energy === undefined ? undefined : { energy: s.energy, owned: false }));
  const step =
    isAsync && typeof kernel.stepAsync === 'function'
      ? (s: S, k: RngKey) => kernel.stepAsync!(s, k)
      : (s: S, k: RngKey) => kernel.step(s, k);
  const recordX = trajFields.includes('x') || wantConv;
  const traj = new Map<string, tf.Tensor[]>();
  const diag = new Map<string, tf.Tensor[]>();
  const traces = new Map<string, tf.Tensor[]>();
  const xs: tf.Tensor[] = [];
  // Records of a traced whole chain (instead of the per-step lists above).
  let wholeTraj: tf.Tensor | undefined;
  let wholeDiag: Record<string, tf.Tensor> | undefined;
  let state: S | undefined;
  const started = Date.now();
  const report = (s: number) => {
    const event: ProgressEvent = {
      step: s,
      total,
      phase: s <= burnIn && burnIn > 0 ? 'burnIn' : 'sampling',
      elapsedMs: Date.now() - started,
    };
    options.onProgress?.(event);
  };
  const push = (m: Map<string, tf.Tensor[]>, k: string, t: tf.Tensor) => {
    let a = m.get(k);
    if (a === undefined) {
      a = [];
      m.set(k, a);
    }
    a.push(t);
  };
  const disposeRecords = () => {
    for (const a of [...traj.values(), ...diag.values(), ...traces.values(), xs])
      for (const t of a) t.dispose();
    traj.clear();
    diag.clear();
    traces.clear();
    xs.length = 0;
    wholeTraj?.dispose();
    wholeTraj = undefined;
    for (const t of Object.values(wholeDiag ?? {})) t.dispose();
    wholeDiag = undefined;
  };
  let pendingInfo: StepInfo | undefined;
  // Non-finite checks: about 16 per run (each is ~4 small device ops, so the step loop does not slow down).
  const finiteEvery = Math.max(1, Math.ceil(total / 16));
  // Per chain, the first checked step at which x was non-finite (−1: never), kept on the device.
  let badStep: tf.Tensor1D | undefined;
  const checkFinite = (s: S, t: number) => {
    const prev = badStep;
    badStep = tf.tidy(() => {
      const bad = tf.logicalNot(tf.all(tf.isFinite(s.x), 1));
      const base = prev ?? tf.fill([s.x.shape[0]], -1);
      return tf.where(tf.logicalAnd(bad, tf.less(base, 0)), tf.fill([s.x.shape[0]], t), base) as tf.Tensor1D;
    });
    prev?.dispose();
  };
  // The whole run was one whole-chain call: its final states are checked once at the end.
  let wholeDone = false;
  const releaseInfo = (info: StepInfo, s: S | undefined) => {
    const held = new Set(s === undefined ? [] : stateTensors(s));
    for (const t of Object.values(info))
      if (t instanceof tf.Tensor && !held.has(t) && !t.isDisposed) t.dispose();
  };
  // The run draws x0 and is one plain whole chain: the kernel may draw x0 in the chain's own dispatch.
  let fusedWhole = false;
  try {
    const nKept0 = Math.floor(nSteps / thin);
    if (
      kernel.wholeChainFromNormal !== undefined &&
      kernel.wholeChain !== undefined &&
      options.x0 === undefined &&
      options.resumeFrom === undefined &&
      options.trace === undefined &&
      options.onProgress === undefined &&
      signal === undefined &&
      trajFields.every((f) => f === 'x') &&
      !((recordX || wantDiag) && nKept0 > 0) &&
      total > 0
    ) {
      const shape = drawShape(kernel, options);
      if (kernel.dim === undefined || kernel.dim === shape[1]) {
        state = kernel.wholeChainFromNormal(shape, x0KeyOf(runKey), total, runKey);
        fusedWhole = state !== undefined;
      }
    }
    state ??= initialState(kernel, options, runKey);
    if (recordX || trajFields.length > 0) {
      const [b, d] = state.x.shape;
      assertAllocation(
        'trajectory',
        Math.floor(nSteps / thin) * b * d * Math.max(1, trajFields.length),
        'record fewer steps (raise thin), fewer fields or fewer chains, or use a trace function that reduces them.',
      );
    }
    let lastYield = Date.now();
    let first = 1;
    const nKeptRun = Math.floor(nSteps / thin);
    if (fusedWhole) {
      first = total + 1;
      wholeDone = true; // checked at the end, with the read of the final states (see finite-rows.ts)
      report(total);
    } else if (options.trace === undefined && trajFields.every((f) => f === 'x') && kernel.wholeChain) {
      // The whole chain in one call: plain, or traced when diagnostics / x positions are wanted.
      const wantX = recordX && nKeptRun > 0;
      const wantD = wantDiag && nKeptRun > 0;
      const request: WholeChainRequest | undefined =
        wantX || wantD ? { burnIn, thin, diagnostics: wantD, trajectory: wantX } : undefined;
      // With progress or an abort signal, a plain whole chain runs in ≤ 16 segments (multiples of progressEvery):
      // segments draw the same stream as one call (the step from state step s uses foldIn(runKey, s)), and each
      // one reports progress, checks the signal and checks for non-finite chains.
      const segment =
        request === undefined && (options.onProgress !== undefined || signal !== undefined)
          ? progressEvery * Math.ceil(Math.ceil(total / 16) / progressEvery)
          : total;
      let done = 0;
      while (segment < total && done < total) {
        checkAbort();
        const n = Math.min(segment, total - done);
        let w = kernel.wholeChain(state, n, runKey);
        if (w instanceof Promise) {
          if (!isAsync) {
            w.then(
              (v) => {
                if (v !== undefined) disposeState(isRecords(v) ? v.state : v);
              },
              () => {},
            );
            w = undefined;
          } else w = (yield w) as S | WholeChainRecords<S> | undefined;
        }
        if (w === undefined) break; // the step loop takes over from here (same stream)
        const next: S = isRecords(w) ? w.state : w;
        if (isRecords(w))
          tf.dispose([...Object.values(w.diagnostics ?? {}), ...(w.trajectory ? [w.trajectory] : [])]);
        disposeStateExcept(state, next);
        state = next;
        done += n;
        first = done + 1;
        checkFinite(state, done);
        report(done);
        if (isAsync) yield undefined;
      }
      let whole =
        segment < total
          ? undefined
          : request === undefined
            ? kernel.wholeChain(state, total, runKey)
            : kernel.wholeChain(state, total, runKey, request);
      if (whole instanceof Promise) {
        if (!isAsync) {
          // A sync run cannot wait: drop the result when it arrives (its tensors are the kernel's to release).
          whole.then(
            (w) => {
              if (w === undefined) return;
              const r = isRecords(w) ? w : { state: w };
              disposeState(r.state);
              tf.dispose([...Object.values(r.diagnostics ?? {}), ...(r.trajectory ? [r.trajectory] : [])]);
            },
            () => {},
          );
          whole = undefined;
        } else whole = (yield whole) as S | WholeChainRecords<S> | undefined;
      }
      if (whole !== undefined) {
        const rec: WholeChainRecords<S> = isRecords(whole) ? whole : { state: whole };
        const missing =
          request !== undefined &&
          ((request.diagnostics && rec.diagnostics === undefined) ||
            (request.trajectory && rec.trajectory === undefined));
        if (missing) {
          // A kernel that ignored the request: use the step loop instead.
          disposeState(rec.state);
          tf.dispose([...Object.values(rec.diagnostics ?? {}), ...(rec.trajectory ? [rec.trajectory] : [])]);
        } else {
          disposeStateExcept(state, rec.state);
          state = rec.state;
          if (request?.trajectory) wholeTraj = rec.trajectory;
          else rec.trajectory?.dispose();
          if (request?.diagnostics) wholeDiag = { ...rec.diagnostics };
          else tf.dispose(Object.values(rec.diagnostics ?? {}));
          first = total + 1;
          wholeDone = true; // checked at the end, with the read of the final states (see finite-rows.ts)
          report(total);
        }
      }
    }
    for (let i = first; i <= total; i++) {
      checkAbort();
      let r = step(state, foldIn(runKey, state.step));
      if (r instanceof Promise) r = (yield r) as StepResult<S, I>;
      const { state: next, info } = r as StepResult<S, I>;
      pendingInfo = info;
      disposeStateExcept(state, next);
      state = next;
      const kept = i > burnIn && (i - burnIn) % thin === 0;
      if (kept) {
        const s = state;
        if (recordX) xs.push(tf.clone(s.x));
        for (const f of trajFields) {
          if (f === 'x') continue;
          const src = f === 'energy' ? s.energy : (info as StepInfo)[f];
          const e = f === 'energy' && src === undefined ? energyOf(s) : undefined;
          if (e !== undefined) push(traj, f, e.owned ? e.energy : tf.clone(e.energy));
          else if (src === undefined) {
            throw new EbmError('INVALID_PARAM', `Unknown trajectory field "${f}" for ${name}.`, {
              argument: 'trajectory.fields',
              value: f,
              fix: `use x, energy${Object.keys(info).length ? `, ${Object.keys(info).join(', ')}` : ''}.`,
            });
          } else push(traj, f, tf.clone(src));
        }
        if (wantDiag) {
          const e = energyOf(s);
          try {
            tf.tidy(() => {
              const { mean, variance } = tf.moments(s.x, 0);
              push(diag, 'mean', tf.keep(mean));
              push(diag, 'var', tf.keep(tf.clipByValue(variance, 1e-10, 1e10)));
              if (e !== undefined) push(diag, 'energy', tf.keep(tf.mean(e.energy)));
              // [B] info → chain mean (scalar); [B, ...] info → mean over the chain axis.
              for (const [k, v] of Object.entries(info as StepInfo))
                push(diag, k, tf.keep(v.rank >= 2 ? tf.mean(v, 0) : tf.mean(v)));
            });
          } finally {
            if (e?.owned) e.energy.dispose();
          }
        }
        if (options.trace !== undefined) {
          const trace = options.trace;
          const held = new Set([...stateTensors(s), ...Object.values(info as StepInfo)]);
          const out = tf.tidy(() => trace(s, info));
          for (const [k, v] of Object.entries(out)) push(traces, k, held.has(v) ? tf.clone(v) : v);
        }
      }
      releaseInfo(info, state);
      pendingInfo = undefined;
      if (i % finiteEvery === 0 || i === total) checkFinite(state, i);
      if (i % progressEvery === 0 || i === total) report(i);
      if (Date.now() - lastYield > 50) {
        yield undefined;
        lastYield = Date.now();
      }
    }
    let nonFinite: NonFiniteReport | undefined;
    // A whole chain: one read of the final states (the caller's next read is served from it) and a host scan;
    // a large state: the backend's `nonFiniteRows` kernel and a read of its counts where one is registered, else
    // one device sum, and the per-chain count only when it is not finite.
    if (wholeDone && badStep === undefined && (isAsync || canReadSync())) {
      const x = state.x;
      const [b, d] = x.shape;
      const policy = finiteScanPolicy();
      const scan = kernelSource(NON_FINITE_ROWS_KERNEL) === 'backend';
      const withRead = b * d < policy.kernelFrom;
      if (scan && (!withRead || (policy.kernelWithRead && b * d <= HOST_FINITE_SCAN_MAX))) {
        // The backend's one-dispatch count (e.g. @ebm/cuda's WGSL scan) and a read of its few partial counts
        // (with `kernelWithRead`, for a small state, together with the read of the states).
        const counts = runKernel(NON_FINITE_ROWS_KERNEL, { x });
        let v: ArrayLike<number>;
        try {
          if (isAsync) {
            const read = withRead ? Promise.all([counts.data(), x.data()]).then(([c]) => c) : counts.data();
            v = (yield read) as ArrayLike<number>;
          } else {
            // sync-read: allowed — sampleSync is the synchronous API, guarded by canReadSync.
            v = counts.dataSync();
          }
        } finally {
          counts.dispose();
        }
        const chains = sumCounts(v);
        if (chains > 0) nonFinite = { chains, firstStep: total };
      } else if (b * d <= HOST_FINITE_SCAN_MAX) {
        // sync-read: allowed — sampleSync is the synchronous API, guarded by canReadSync.
        const data = isAsync ? ((yield x.data()) as ArrayLike<number>) : x.dataSync();
        const chains = countNonFiniteRows(data, b, d);
        if (chains > 0) nonFinite = { chains, firstStep: total };
      } else {
        const sum = tf.sum(x);
        let v: ArrayLike<number>;
        try {
          // sync-read: allowed — sampleSync is the synchronous API, guarded by canReadSync.
          v = isAsync ? ((yield sum.data()) as ArrayLike<number>) : sum.dataSync();
        } finally {
          sum.dispose();
        }
        if (!Number.isFinite(v[0]!)) checkFinite(state, total);
      }
    }
    // Non-finite chains: one read of the per-chain first-bad-step vector.
    if (badStep !== undefined && (isAsync || canReadSync())) {
      // sync-read: allowed — sampleSync is the synchronous API, guarded by canReadSync.
      const steps = isAsync ? ((yield badStep.data()) as Float32Array) : badStep.dataSync();
      badStep.dispose();
      badStep = undefined;
      let chains = 0;
      let firstStep = Number.POSITIVE_INFINITY;
      for (const v of steps) {
        if (v >= 0) {
          chains++;
          firstStep = Math.min(firstStep, v);
        }
      }
      if (chains > 0) nonFinite = { chains, firstStep };
    }
    if (nonFinite !== undefined && p.onNonFinite !== 'ignore') {
      const msg =
        `${name}: ${nonFinite.chains} of ${state.x.shape[0]} chain(s) hold NaN/Infinity ` +
        `(first seen at step ${nonFinite.firstStep}).`;
      const fix =
        'lower the step size (or check the energy for overflow); pass onNonFinite: "ignore" to accept it.';
      if (p.onNonFinite === 'throw') {
        throw new EbmError('NON_FINITE', msg, { argument: 'onNonFinite', value: nonFinite, fix });
      }
      console.warn(`[@ebm] ${msg} Fix: ${fix}`);
    }
    // Convergence first: its host read may throw, and nothing below is owned by the caller yet.
    let convergence: ConvergenceSummary | undefined;
    if (wantConv && (xs.length > 0 || wholeTraj !== undefined)) {
      const stacked = (wholeTraj === undefined ? tf.stack(xs, 1) : tf.clone(wholeTraj)) as tf.Tensor3D; // [B, nKept, D]
      const [b, n, d] = stacked.shape;
      let data: ArrayLike<number>;
      try {
        if (isAsync) data = (yield stacked.data()) as ArrayLike<number>;
        else {
          assertSyncReadable('diagnostics.convergence');
          // sync-read: allowed — sampleSync is the synchronous API, guarded by canReadSync above.
          data = stacked.dataSync();
        }
      } finally {
        stacked.dispose();
      }
      convergence = convergenceFrom(data, b, n, d);
    }
    const nKept = Math.floor(nSteps / thin);
    const trajectory: Record<string, tf.Tensor> = {};
    if (trajFields.includes('x') && wholeTraj !== undefined) {
      trajectory.x = wholeTraj;
      wholeTraj = undefined;
    } else if (trajFields.includes('x') && xs.length > 0) trajectory.x = tf.stack(xs, 1);
    for (const [k, a] of traj) trajectory[k] = tf.stack(a, 1);
    const diagnostics: Record<string, tf.Tensor> = {};
    if (wholeDiag !== undefined) {
      Object.assign(diagnostics, wholeDiag);
      wholeDiag = undefined;
    }
    for (const [k, a] of diag) diagnostics[k] = tf.stack(a, 0);
    const traced: Record<string, tf.Tensor> = {};
    for (const [k, a] of traces) traced[k] = tf.stack(a, 0);
    disposeRecords();
    const finalState = state;
    state = undefined;
    const samples = options.keepState ? (tf.clone(finalState.x) as tf.Tensor2D) : finalState.x;
    if (!options.keepState) disposeStateExcept(finalState, { samples });
    return {
      samples,
      trajectory: trajFields.length > 0 ? trajectory : undefined,
      diagnostics: wantDiag ? (diagnostics as SampleResult<S, I>['diagnostics']) : undefined,
      traces: options.trace !== undefined ? traced : undefined,
      convergence,
      finalState: options.keepState ? finalState : undefined,
      nKept,
      stepsRun: total,
      seed: p.seed,
      nonFinite,
    };
  } catch (e) {
    badStep?.dispose();
    if (pendingInfo !== undefined) releaseInfo(pendingInfo, state);
    disposeRecords();
    if (state !== undefined) disposeState(state);
    throw e;
  }
}

function assertSyncReadable(what: string): void {
  if (!canReadSync()) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `${what} in a synchronous run needs a synchronous read, which the "${tf.getBackend()}" backend cannot do.`,
      { argument: what, value: tf.getBackend(), fix: 'use the async API: await sampler.sample(...).' },
    );
  }
}

function checkKernel(kernel: unknown): void {
  if (!isKernel(kernel)) {
    throw new EbmError('INVALID_PARAM', 'sampleChain needs a kernel with init(x0) and step(state, key).', {
      argument: 'kernel',
      value: kernel === null ? null : typeof kernel,
      fix: 'pass { init, step } (e.g. a sampler), see SamplingKernel.',
    });
  }
}

/**
 * Runs `kernel` asynchronously: yields to the event loop between chunks of steps (progress, abort), awaits
 * `stepAsync` when the kernel has one, and reads convergence data with `await data()` — so it runs on every
 * backend, webgpu included.
 *
 * @example
 * ```ts
 * const ar = {           // x' = ρx + √(1−ρ²)ξ leaves N(0, I) invariant
 *   init: (x0: tf.Tensor2D, step = 0) => ({ x: tf.clone(x0), step }),
 *   step: (s, key) => ({ state: { x: tf.tidy(() => …), step: s.step + 1 }, info: {} }),
 * };
 * const r = await sampleChain(ar, { nSamples: 1000, dim: 2, nSteps: 100, trace: (s) => ({ m: tf.mean(s.x, 0) }) });
 * r.traces.m; // [100, 2]
 * ```
 */
export async function sampleChain<S extends SamplerState, I extends StepInfo = StepInfo>(
  kernel: SamplingKernel<S, I>,
  options: ChainOptions<S, I>,
  hooks?: RecordingHooks<S>,
): Promise<ChainResult<S, I>> {
  checkKernel(kernel);
  const gen = runLoop(kernel, options, true, hooks);
  let r = gen.next();
  while (!r.done) {
    let value: unknown;
    if (r.value instanceof Promise) {
      try {
        value = await r.value;
      } catch (e) {
        r = gen.throw(e); // the generator releases its tensors and rethrows
        continue;
      }
    } else await new Promise<void>((resolve) => setTimeout(resolve, 0));
    r = gen.next(value);
  }
  return r.value;
}

/**
 * Runs `kernel` synchronously (for loss functions and tight loops on the host backends). Kernels' `stepAsync`
 * and async whole chains are not used; convergence diagnostics need a backend that reads synchronously.
 */
export function sampleChainSync<S extends SamplerState, I extends StepInfo = StepInfo>(
  kernel: SamplingKernel<S, I>,
  options: ChainOptions<S, I>,
  hooks?: RecordingHooks<S>,
): ChainResult<S, I> {
  checkKernel(kernel);
  const gen = runLoop(kernel, options, false, hooks);
  let r = gen.next();
  while (!r.done) r = gen.next();
  return r.value;
}
