import {
  availableCores,
  EbmError,
  type EnergyFunction,
  hasHostEnergy,
  type RngKey,
  runChainParallel,
  type SampleOptions,
  type SampleResult,
  type SamplerState,
  type StepInfo,
  type WholeChainRecords,
  type WholeChainRequest,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * # The `workers` option of `sample()`
 *
 * Langevin, MALA and HMC can run a whole chain on worker threads (core's `runChainParallel`: the rows of x are
 * split into contiguous blocks, one per worker, each running the fused host chain). Row r always draws the same
 * Philox numbers whoever computes it, and the chain uses the step loop's stream (`key: runKey,
 * startStep: state.step`), so the samples are **bit-identical for any worker count** and equal to the in-thread
 * fused run (`chain.<kind>` on cpu/wasm).
 * @module
 */

/** `'auto'` or a number of worker threads (0: the calling thread). */
export type WorkersOption = 'auto' | number;

/** Run options of Langevin, MALA and HMC: core's `SampleOptions` plus {@link WorkerSampleOptions.workers}. */
export interface WorkerSampleOptions<I extends StepInfo = StepInfo> extends SampleOptions<I> {
  /**
   * Run the whole chain on worker threads (`worker_threads` in Node, Web Workers in browsers) through core's
   * `runChainParallel` — async `sample()` only, on the cpu or wasm backend, for an energy whose
   * `kernelHint.kind` has a host kernel (every analytic energy of `@ebm/models`, and `mlp`), with the sampler's
   * fused settings (see the README, "Which path runs"), and without `trajectory` or `diagnostics`.
   * - `n ≥ 1`: at most n workers (at most one per chain). Where it cannot apply, an `EbmError`
   *   `INVALID_PARAM` with `argument: 'workers'` says why.
   * - `0`: the calling thread (never an error).
   * - `'auto'`: one worker per core (`availableCores()`, at most one per 64 chains) when there are at least two
   *   such workers and ≥ 10⁶ coordinate-steps of work (B·D·steps), else the calling thread — and silently the
   *   usual path (in-thread) where workers cannot apply.
   * The samples are bit-identical for every value; `result.workers` reports the workers used (0: in-thread).
   */
  readonly workers?: WorkersOption;
}

/** Fused whole-chain settings of a sampler, or why it has none. */
export type FusedChainSpec =
  | { readonly method: 'langevin' | 'mala' | 'hmc'; readonly settings: Readonly<Record<string, number>> }
  | { readonly reason: string };

/** The host backends (where the fused host chain and its workers run). */
const HOST_BACKENDS = ['cpu', 'wasm'];

/** Rows per worker below which 'auto' does not split further (one tile of the host chain). */
const AUTO_ROWS_PER_WORKER = 64;
/** Coordinate-steps (B·D·steps) below which 'auto' stays in the calling thread (worker start-up dominates). */
const AUTO_MIN_WORK = 1e6;

/** How a run uses workers: `undefined` when the option is absent. */
export interface WorkersPlan {
  /** The requested value. */
  readonly requested: WorkersOption;
  /** Why workers cannot run this (then the run takes its usual path in the calling thread). */
  readonly reason: string | undefined;
}

function parseWorkers(v: unknown): WorkersOption {
  if (v === 'auto') return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new EbmError('INVALID_PARAM', "workers must be 'auto' or an integer >= 0.", {
      argument: 'workers',
      value: v,
      fix: "pass workers: 'auto' (one per core when it pays), a count such as 2, or 0 for the calling thread.",
    });
  }
  return v;
}

/**
 * Validates the `workers` option of a run: `undefined` when absent; otherwise the plan, with the reason when
 * workers cannot apply. An explicit count ≥ 1 that cannot apply throws `INVALID_PARAM` naming the reason.
 */
export function planWorkers(
  owner: string,
  energy: EnergyFunction,
  options: { readonly workers?: unknown; readonly trajectory?: unknown; readonly diagnostics?: unknown },
  spec: FusedChainSpec,
  isAsync: boolean,
): WorkersPlan | undefined {
  if (options === null || typeof options !== 'object' || options.workers === undefined) return undefined;
  const requested = parseWorkers(options.workers);
  const kind = energy.kernelHint?.kind;
  const backend = tf.getBackend();
  let reason: string | undefined;
  let fix = '';
  if (!isAsync) {
    reason = 'sampleSync() runs in the calling thread';
    fix = 'use the async API: await sampler.sample({ ..., workers }).';
  } else if (!HOST_BACKENDS.includes(backend)) {
    reason = `worker threads run the host chain of the cpu and wasm backends, and the active backend is "${backend}"`;
    fix = "call tf.setBackend('cpu') (or 'wasm') first, or drop workers.";
  } else if (options.trajectory !== undefined && options.trajectory !== false) {
    reason = 'a trajectory was requested, and the parallel host chain returns final states only';
    fix = 'drop trajectory (or workers).';
  } else if (options.diagnostics !== undefined && options.diagnostics !== false) {
    reason = 'diagnostics were requested, and the parallel host chain returns final states only';
    fix = 'drop diagnostics (or workers).';
  } else if (typeof kind !== 'string' || !hasHostEnergy(kind)) {
    reason =
      typeof kind === 'string'
        ? `the energy's kernelHint kind "${kind}" has no host kernel`
        : 'the energy has no kernelHint (no host kernel)';
    fix =
      'use an energy with a host kernel (the analytic energies of @ebm/models, MLPEnergy), or drop workers.';
  } else if ('reason' in spec) {
    reason = spec.reason;
    fix = 'use the fused settings listed in the @ebm/samplers README ("Which path runs"), or drop workers.';
  }
  if (reason !== undefined && typeof requested === 'number' && requested >= 1) {
    throw new EbmError('INVALID_PARAM', `${owner}: workers: ${requested} cannot apply: ${reason}.`, {
      argument: 'workers',
      value: requested,
      fix,
    });
  }
  return { requested, reason };
}

async function resolveCount(requested: WorkersOption, b: number, d: number, nSteps: number): Promise<number> {
  if (requested !== 'auto') return Math.min(requested, b);
  const n = Math.min(await availableCores(), Math.floor(b / AUTO_ROWS_PER_WORKER));
  return n >= 2 && b * d * nSteps >= AUTO_MIN_WORK ? n : 0;
}

/** The run options without `workers` (what the loop takes). */
export function withoutWorkers<O extends { readonly workers?: WorkersOption }>(
  options: O,
): Omit<O, 'workers'> {
  const { workers: _w, ...rest } = options;
  return rest;
}

/** A kernel's whole chain as the loop calls it. */
type WholeChainFn<S extends SamplerState> = (
  state: S,
  nSteps: number,
  runKey: RngKey,
  request?: WholeChainRequest,
) => S | WholeChainRecords<S> | undefined | Promise<S | WholeChainRecords<S> | undefined>;

/**
 * A whole chain on worker threads (for the loop's `wholeChain` hook): runs `runChainParallel` from the state's x
 * with the run key and `startStep: state.step`, builds the final state with `finish`, and records the number of
 * workers used in `used.workers`.
 */
export function parallelWholeChain<S extends SamplerState>(
  energy: EnergyFunction,
  spec: Extract<FusedChainSpec, { method: string }>,
  requested: WorkersOption,
  signal: AbortSignal | undefined,
  finish: (x: tf.Tensor2D, step: number) => S,
  used: { workers: number },
): WholeChainFn<S> {
  return async (state, nSteps, runKey, request) => {
    if (request !== undefined) return undefined; // (planWorkers rules these runs out)
    const hint = energy.kernelHint!;
    const [b, d] = state.x.shape;
    const workers = await resolveCount(requested, b, d, nSteps);
    const r = await runChainParallel({
      kind: hint.kind,
      params: hint.params as Readonly<Record<string, unknown>>,
      method: spec.method,
      settings: spec.settings,
      x0: state.x,
      nSteps,
      key: runKey,
      startStep: state.step,
      workers,
      ...(signal === undefined ? {} : { signal }),
    });
    used.workers = r.workers;
    try {
      return finish(r.x, state.step + nSteps);
    } catch (e) {
      r.x.dispose();
      throw e;
    }
  };
}

/** Adds the workers used to a result. */
export function withWorkers<R extends SampleResult>(r: R, workers: number): R & { workers: number } {
  return Object.assign(r, { workers });
}

/** What {@link sampleWithWorkers} needs of a sampler (its protected pieces, handed over by the sampler). */
export interface WorkerRun<S extends SamplerState, I extends StepInfo> {
  /** The sampler's name (for error messages). */
  readonly owner: string;
  readonly energy: EnergyFunction;
  /** The sampler's fused whole-chain settings, or why it has none. */
  readonly spec: FusedChainSpec;
  /** The usual run in the calling thread (the sampler's `super.sample`). */
  readonly usual: (options: SampleOptions<I>) => Promise<SampleResult<S, I>>;
  /** The loop run with `wholeChain` as the kernel's whole-chain hook (`sampleChain` with the sampler's kernel). */
  readonly withWholeChain: (
    wholeChain: WholeChainFn<S>,
    options: SampleOptions<I>,
  ) => Promise<SampleResult<S, I>>;
  /** The final state from the chain's x and step. */
  readonly finish: (x: tf.Tensor2D, step: number) => S;
}

/**
 * `sample()` of a sampler that takes `workers`: without the option, the usual run; where workers cannot apply
 * (and the request allows that), the usual run with `workers: 0`; else the loop with {@link parallelWholeChain}
 * as its whole-chain hook, with the workers used in `result.workers`.
 */
export async function sampleWithWorkers<S extends SamplerState, I extends StepInfo>(
  options: WorkerSampleOptions<I>,
  run: WorkerRun<S, I>,
): Promise<SampleResult<S, I>> {
  const { spec } = run;
  const plan = planWorkers(run.owner, run.energy, options, spec, true);
  if (plan === undefined) return run.usual(options);
  const rest = withoutWorkers(options);
  if (plan.reason !== undefined || 'reason' in spec) return withWorkers(await run.usual(rest), 0);
  const used = { workers: 0 };
  const wholeChain = parallelWholeChain(run.energy, spec, plan.requested, options.signal, run.finish, used);
  return withWorkers(await run.withWholeChain(wholeChain, rest), used.workers);
}

/**
 * `sampleSync()` of a sampler that takes `workers`: the option must be 0 or `'auto'` here (the calling thread);
 * with it, the result reports `workers: 0`.
 */
export function sampleSyncWithWorkers<S extends SamplerState, I extends StepInfo>(
  options: WorkerSampleOptions<I>,
  run: Pick<WorkerRun<S, I>, 'owner' | 'energy' | 'spec'> & {
    readonly usual: (options: SampleOptions<I>) => SampleResult<S, I>;
  },
): SampleResult<S, I> {
  const plan = planWorkers(run.owner, run.energy, options, run.spec, false);
  if (plan === undefined) return run.usual(options);
  return withWorkers(run.usual(withoutWorkers(options)), 0);
}
