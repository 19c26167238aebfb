import {
  assertAllocation,
  assertBatch,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  EbmError,
  foldIn,
  isEbmError,
  type Loss,
  optionKeys,
  type RngKey,
  type Schedulable,
  type Scheduler,
  splitKey,
  toKey,
  toScheduler,
  uniformArray,
} from '@ebm/core';
import { variableGradsSafe } from '@ebm/core/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { LossCallContext, LossState } from './base.js';
import {
  optimizerClassOf,
  type SavedTensor,
  type TrainingCheckpoint,
  validateTrainingCheckpoint,
} from './checkpoint.js';
import { readLatestCheckpoint, removeStaleTempFiles, writeCheckpointFile } from './checkpoint-file.js';
import { RunawayDetector, type RunawayGuardOptions } from './fit-divergence.js';
import { FusedFlowStep, fusedFlowStepUnavailable } from './fused-flow-step.js';
import type { FusedMlpStep } from './fused-mlp-step.js';
import {
  FUSED_GRAD_NORM,
  FusedContrastiveStep,
  type FusedPending,
  fusedStepUnavailable,
} from './fused-step.js';
import { type SeedLike, variablesOf } from './internal.js';
import { readMetrics } from './metrics.js';
import { isPreparable, type PreparedCall } from './prepared-call.js';

const LOSS = '\u0000loss';
const GRAD_NORM = FUSED_GRAD_NORM;

/**
 * Where the batches of a run come from:
 * - a `Tensor2D` dataset: each step uses `batchSize` rows drawn uniformly with replacement (indices from the
 *   run key and the step, so a resumed run sees the same batches), or the whole dataset without `batchSize`;
 * - an array of batches, cycled: step t uses `batches[t % n]`;
 * - a function `(step) => batch` (the batch is disposed after the step unless `keepBatches`);
 * - a sync or async iterator/iterable of batches (disposed after the step unless `keepBatches`). On resume,
 *   pass an iterator already positioned at the checkpoint's step.
 */
export type BatchSource =
  | tf.Tensor2D
  | readonly tf.Tensor2D[]
  | ((step: number) => tf.Tensor2D | Promise<tf.Tensor2D>)
  | Iterable<tf.Tensor2D>
  | AsyncIterable<tf.Tensor2D>
  | Iterator<tf.Tensor2D>
  | AsyncIterator<tf.Tensor2D>;

/** Metrics of one training step (host numbers). */
export interface StepMetrics {
  /** Index of the step just taken (0-based; after it, `step + 1` updates have been applied). */
  readonly step: number;
  readonly loss: number;
  /** Global L2 norm of the parameter gradient, before clipping. */
  readonly gradNorm: number;
  /** Mean energy on the data, when the loss reports it. */
  readonly energyPos?: number;
  /** Mean energy on the negatives, when the loss reports it. */
  readonly energyNeg?: number;
  /** Every metric of the loss. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** Progress of a run. */
export interface TrainProgress {
  readonly step: number;
  readonly total: number;
  readonly elapsedMs: number;
}

/** A roll-back of the divergence guard. */
export interface RollbackEvent {
  /** Step at which a non-finite value (or a runaway energy gap) appeared. */
  readonly step: number;
  /** Step of the checkpoint restored. */
  readonly restoredStep: number;
  /**
   * What was non-finite, e.g. `'loss'`, `'energyNeg'`, `'gradNorm'`; or `'energyGap'` when the runaway guard
   * fired (a finite divergence: see {@link FitOptions.runawayGuard}).
   */
  readonly reason: string;
  /** Number of roll-backs so far in the run (the retried steps use keys folded with this number). */
  readonly attempt: number;
  /**
   * Roll-backs of this incident: an incident ends once the run gets past the step that failed, so
   * `maxRollbacks` bounds each incident, not the whole run.
   */
  readonly incident: number;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** The objective (any core `Loss`; `@ebm/losses` losses expose state and own variables). */
  readonly loss: Loss;
  /** Any tfjs optimizer (`tf.train.adam(1e-3)`, `sgd`, `momentum`, `rmsprop`, …). */
  readonly optimizer: tf.Optimizer;
  /** Batches (see {@link BatchSource}). */
  readonly data: BatchSource;
  /** Rows per step when `data` is a single dataset tensor (default: the whole dataset). */
  readonly batchSize?: number;
  /** Total number of updates: the run stops when `step === steps` (a resumed run counts from its step). */
  readonly steps: number;
  /** Seed or key of the run (default 0): batch indices and every loss call's key derive from it. */
  readonly seed?: SeedLike;
  /**
   * Variables to train (default: the energy's variables — `trainableVariables`, `variables`,
   * `getVariables()` or `getWeights()` — plus the loss's own `variables`).
   */
  readonly variables?: readonly tf.Variable[];
  /** Learning rate per step: a number or a core `Scheduler` (its value at step t is used for update t). */
  readonly learningRate?: Schedulable;
  /** Rescale the gradient when its global L2 norm exceeds this (default: off). */
  readonly clipNorm?: number;
  /** Clip every gradient entry to [−clipValue, clipValue] (default: off; applied before `clipNorm`). */
  readonly clipValue?: number;
  /** Called after every step with its metrics. */
  readonly onStep?: (metrics: StepMetrics) => void | Promise<void>;
  /** Called every `progressEvery` steps and at the end. */
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Steps between progress reports (default: about 100 per run). */
  readonly progressEvery?: number;
  /** Stops the run with an `ABORTED` EbmError after the current step. */
  readonly signal?: AbortSignal;
  /** Steps between checkpoints (default 50): the divergence guard's restore points, passed to `onCheckpoint`. */
  readonly checkpointEvery?: number;
  /** Receives each checkpoint (plain data: `JSON.stringify` it to save). */
  readonly onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
  /**
   * Continue a run from a checkpoint (same loss kind, optimizer kind and variable list). The run key, step and
   * roll-back count come from the checkpoint (`seed` is ignored); the learning-rate scheduler is a function of
   * the step, so it needs no state.
   */
  readonly resumeFrom?: TrainingCheckpoint;
  /**
   * Divergence guard: a non-finite loss, energy metric or gradient norm restores the last good checkpoint and
   * retries with fresh keys, at most `maxRollbacks` times (default 3) **per incident** before throwing
   * `DIVERGED`; an incident ends once the run gets past the step that failed, so a long run that recovers
   * from one incident has the full budget for the next. Non-finite values in the **data** are not a
   * divergence: they throw `NON_FINITE` naming the batch at once (no roll-back).
   */
  readonly maxRollbacks?: number;
  /**
   * Runaway guard (default on; `false` turns it off): a divergence that stays finite. For losses that report
   * `energyPos` and `energyNeg` (CD, PCD, PT-CD, NCE), it fires when the smoothed gap |E⁻ − E⁺| exceeds
   * `ratio` (10) times its running scale, itself at least `floor` (10 energy units), and then acts like a
   * non-finite value: roll back to the last restore point, retry with fresh keys, `onRollback`, `DIVERGED`
   * after `maxRollbacks`. Checkpoints taken while a runaway is under way are not restore points (nor passed
   * to `onCheckpoint`). The statistic and its thresholds: `fit-divergence.ts` ({@link RunawayDetector}).
   */
  readonly runawayGuard?: false | RunawayGuardOptions;
  /**
   * Called after each roll-back (e.g. to lower the learning rate). A rate it sets on the optimizer
   * (`optimizer.learningRate = lr / 2`) is kept: with a `learningRate` schedule the schedule is scaled by the
   * same factor from then on (and the factor is saved in checkpoints), rather than overwritten at the next step.
   */
  readonly onRollback?: (event: RollbackEvent) => void | Promise<void>;
  /**
   * Node only: a folder for checkpoint files. Each checkpoint is written atomically (temporary file, fsync,
   * rename) as `checkpoint-<step>.json`, keeping the newest `keepCheckpoints`; when `resumeFrom` is not given,
   * the run resumes from the newest valid file in the folder (so re-running the same script after a crash
   * continues where it stopped, bit-identically on the cpu backend).
   */
  readonly checkpointDir?: string;
  /** Checkpoint files kept in `checkpointDir` (default 2: the newest and the one before). */
  readonly keepCheckpoints?: number;
  /** Do not dispose batches produced by a function or an iterator (default false). */
  readonly keepBatches?: boolean;
  /**
   * Use a fused training step when one applies (default `true`). It applies when the active backend registered
   * the `train.mlpContrastiveAdam` kernel (`@ebm/cuda` does for webgpu), the loss is `ContrastiveDivergence`,
   * `PersistentContrastiveDivergence` or `ParallelTemperingCD` (not a subclass with its own `computeParts`),
   * the energy has an `'mlp'` kernel hint (`MLPEnergy` without spectral normalisation) whose weights are exactly
   * the trained variables, the optimizer is `tf.train.adam`, and neither `clipNorm` nor `clipValue` is set;
   * otherwise (any other term, loss or optimizer) the autograd step runs. The fused step computes the same
   * loss, gradient (the energy L2 term included), Adam update (tfjs's formula and bias correction) and metrics
   * (`loss`, `energyPos`, `energyNeg`, `gradNorm`) on the device, equal to the autograd step up to float32
   * rounding; Adam's state is written back to the optimizer at every checkpoint and at the end of the run
   * (see `fused-adam-state.ts`). Likewise for `EnergyMatchingLoss` (same energy, optimizer and clipping
   * conditions) when the active backend registered `train.mlpGradientRegressionAdam`: its flow-phase steps (λ = 0 or
   * warm-up, `energyL2` = 0) run the flow term's gradient and Adam fused (`fused-flow-step.ts`), its joint-phase
   * steps autograd. `false` always runs autograd.
   */
  readonly fusedStep?: boolean;
}

/** What {@link fit} returns. */
export interface FitResult {
  /** Number of updates applied at the end of the run. */
  readonly step: number;
  /** Metrics of every step of this call, in order (after roll-backs, the retried steps appear again). */
  readonly history: StepMetrics[];
  /** Roll-backs of the divergence guard. */
  readonly rollbacks: RollbackEvent[];
  /** The last checkpoint taken (at the end of the run). */
  readonly checkpoint: TrainingCheckpoint;
  /** Steps of this call taken by the fused training step (see {@link FitOptions.fusedStep}); 0 without it. */
  readonly fusedSteps: number;
}

interface StatefulLoss {
  saveState(): Promise<LossState>;
  loadState(state: LossState): void;
}

function isStateful(loss: Loss): loss is Loss & StatefulLoss {
  const l = loss as unknown as Partial<StatefulLoss>;
  return typeof l.saveState === 'function' && typeof l.loadState === 'function';
}

/** The variables `fit` trains by default: the energy's plus the loss's own. */
export function trainableVariables(loss: Loss): tf.Variable[] {
  const own = (loss as { variables?: unknown }).variables;
  const extra = Array.isArray(own)
    ? (own as tf.Variable[]).filter((v) => v instanceof tf.Variable && v.trainable)
    : [];
  const all = [...variablesOf(loss.energy), ...extra];
  return [...new Set(all)];
}

/** Global L2 norm of a gradient map (a scalar tensor; the caller disposes it). */
export function globalNorm(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => {
    const parts = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    // not tf.addN: tfjs-webgpu's AddN binds every input at once and fails validation past 7 inputs on devices with
    // the default 8 storage buffers per stage (an MLP with 4 layers has 8 weights); stack → concat splits its inputs
    return tf.sqrt(parts.length === 1 ? parts[0]! : tf.sum(tf.stack(parts))) as tf.Scalar;
  });
}

/**
 * Gradient clipping: entries to [−clipValue, clipValue], then, when the global norm exceeds `clipNorm`, every
 * gradient scaled by clipNorm/norm. Returns a new map (the input is not disposed).
 */
export function clipGradients(
  grads: tf.NamedTensorMap,
  options: { clipNorm?: number | undefined; clipValue?: number | undefined },
): tf.NamedTensorMap {
  return tf.tidy(() => {
    let out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) {
      out[k] =
        options.clipValue !== undefined
          ? tf.clipByValue(g, -options.clipValue, options.clipValue)
          : tf.clone(g);
    }
    if (options.clipNorm !== undefined) {
      const norm = globalNorm(out);
      const scale = tf.minimum(1, tf.div(options.clipNorm, tf.maximum(norm, 1e-12)));
      const scaled: tf.NamedTensorMap = {};
      for (const [k, g] of Object.entries(out)) scaled[k] = tf.mul(g, scale);
      out = scaled;
    }
    return out;
  });
}

async function saveTensor(name: string, t: tf.Tensor): Promise<SavedTensor> {
  return { name, shape: [...t.shape], dtype: t.dtype, data: Array.from(await t.data()) };
}

function optimizerExtras(optimizer: tf.Optimizer, inWeights: Set<tf.Tensor>): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [];
  for (const [k, v] of Object.entries(optimizer)) {
    if (v instanceof tf.Variable && !inWeights.has(v) && !v.isDisposed) out.push([k, v]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function optimizerWeights(
  optimizer: tf.Optimizer,
): Promise<{ name: string; tensor: tf.Tensor }[] | null> {
  try {
    return await optimizer.getWeights();
  } catch {
    return null;
  }
}

/** Snapshot of everything a run needs (see {@link TrainingCheckpoint}). */
export async function saveTrainingState(state: {
  loss: Loss;
  optimizer: tf.Optimizer;
  variables: readonly tf.Variable[];
  step: number;
  key: RngKey;
  attempt?: number;
  learningRateScale?: number;
}): Promise<TrainingCheckpoint> {
  const weights: SavedTensor[] = [];
  for (const v of state.variables) weights.push(await saveTensor(v.name, v));
  const ow = await optimizerWeights(state.optimizer);
  let optimizer: SavedTensor[] | null = null;
  const inWeights = new Set<tf.Tensor>();
  if (ow !== null) {
    optimizer = [];
    for (const w of ow) {
      optimizer.push(await saveTensor(w.name, w.tensor));
      inWeights.add(w.tensor);
    }
    // the iterations scalar is created by getWeights: release it.
    if (ow[0] !== undefined && !(ow[0].tensor instanceof tf.Variable)) ow[0].tensor.dispose();
  }
  const optimizerClass = optimizerClassOf(state.optimizer);
  const optimizerExtra: Record<string, number[]> = {};
  for (const [k, v] of optimizerExtras(state.optimizer, inWeights))
    optimizerExtra[k] = Array.from(await v.data());
  return {
    version: 1,
    step: state.step,
    key: [state.key[0], state.key[1]],
    attempt: state.attempt ?? 0,
    weights,
    optimizer,
    optimizerExtra,
    loss: isStateful(state.loss) ? await state.loss.saveState() : null,
    ...(optimizerClass !== undefined ? { optimizerClass } : {}),
    ...(typeof state.loss.name === 'string' ? { lossName: state.loss.name } : {}),
    ...(state.learningRateScale !== undefined && state.learningRateScale !== 1
      ? { learningRateScale: state.learningRateScale }
      : {}),
  };
}

/**
 * Restores a checkpoint into variables, optimizer and loss (the inverse of {@link saveTrainingState}). The
 * whole checkpoint is validated first ({@link validateTrainingCheckpoint}): a mismatched or corrupt one throws
 * and restores nothing.
 */
export async function restoreTrainingState(
  checkpoint: TrainingCheckpoint,
  target: { loss: Loss; optimizer: tf.Optimizer; variables: readonly tf.Variable[] },
): Promise<void> {
  // Validate everything first (weights, optimizer kind and state, loss kind and state): a bad checkpoint
  // changes nothing.
  validateTrainingCheckpoint(checkpoint, target);
  // The optimizer first (the step that can fail: setWeights), the variables after it, so a failure leaves the
  // variables untouched and the optimizer with its own slots.
  const opt = target.optimizer;
  if (checkpoint.optimizer !== null) {
    const current = await optimizerWeights(opt);
    const saved = checkpoint.optimizer;
    // Slots are positional (tfjs makes one per variable that has had a gradient, in the order of the gradient
    // maps): the same count and sizes are the same slots.
    const sameLayout =
      current !== null &&
      current.length === saved.length &&
      current
        .slice(1)
        .every((c, i) => c.tensor instanceof tf.Variable && c.tensor.size === saved[i + 1]!.data.length);
    if (current?.[0] !== undefined && !(current[0].tensor instanceof tf.Variable))
      current[0].tensor.dispose();
    if (sameLayout) {
      // Same optimizer slots: assign in place (no new variables).
      saved.slice(1).forEach((s, i) => {
        const t = tf.tensor(s.data, s.shape, s.dtype);
        (current[i + 1]!.tensor as tf.Variable).assign(t);
        t.dispose();
      });
      (opt as unknown as { iterations_: number }).iterations_ = saved[0]?.data[0] ?? 0;
    } else {
      // setWeights replaces the optimizer's slot variables: release the old ones once it has.
      const tensors = saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape, s.dtype) }));
      try {
        await opt.setWeights(tensors);
      } finally {
        for (const t of tensors) t.tensor.dispose();
      }
      for (const c of current?.slice(1) ?? []) if (c.tensor instanceof tf.Variable) c.tensor.dispose();
    }
  }
  target.variables.forEach((v, i) => {
    const w = checkpoint.weights[i]!;
    const t = tf.tensor(w.data, w.shape, w.dtype);
    v.assign(t);
    t.dispose();
  });
  const ow = await optimizerWeights(opt);
  const inWeights = new Set<tf.Tensor>((ow ?? []).map((w) => w.tensor));
  if (ow?.[0] !== undefined && !(ow[0].tensor instanceof tf.Variable)) ow[0].tensor.dispose();
  for (const [k, v] of optimizerExtras(opt, inWeights)) {
    const data = checkpoint.optimizerExtra[k];
    if (data !== undefined && data.length === v.size) {
      const t = tf.tensor(data, v.shape, v.dtype);
      v.assign(t);
      t.dispose();
    }
  }
  if (checkpoint.loss !== null && isStateful(target.loss)) target.loss.loadState(checkpoint.loss);
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

type Next = (step: number) => Promise<{ batch: tf.Tensor2D; owned: boolean }>;

function batchReader(data: BatchSource, batchSize: number | undefined, dataKey: RngKey): Next {
  if (data instanceof tf.Tensor) {
    const x = assertBatch('data', data);
    if (batchSize === undefined) return async () => ({ batch: x, owned: false });
    const n = x.shape[0];
    return async (step) => {
      const u = uniformArray(foldIn(dataKey, step), [batchSize]);
      const idx = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) idx[i] = Math.min(n - 1, Math.floor(u[i]! * n));
      const batch = tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor2D);
      return { batch, owned: true };
    };
  }
  if (Array.isArray(data)) {
    if (data.length === 0) {
      throw new EbmError('INVALID_PARAM', 'data must hold at least one batch.', {
        argument: 'data',
        value: 0,
        fix: 'pass a non-empty array of [B, D] tensors.',
      });
    }
    return async (step) => ({ batch: assertBatch('data[i]', data[step % data.length]), owned: false });
  }
  if (typeof data === 'function') {
    return async (step) => ({ batch: assertBatch('batch', await data(step)), owned: true });
  }
  if (data === null || (typeof data !== 'object' && typeof data !== 'function')) {
    throw new EbmError(
      'INVALID_PARAM',
      'data must be a tensor, an array of tensors, a function or an iterator.',
      {
        argument: 'data',
        value: data === null ? null : typeof data,
        fix: 'pass a [N, D] dataset tensor with batchSize, or a batch iterator.',
      },
    );
  }
  const d = data as Partial<Iterable<tf.Tensor2D> & AsyncIterable<tf.Tensor2D> & Iterator<tf.Tensor2D>>;
  let it: Iterator<tf.Tensor2D> | AsyncIterator<tf.Tensor2D> | undefined;
  const asyncIt = d[Symbol.asyncIterator];
  const syncIt = d[Symbol.iterator];
  if (typeof asyncIt === 'function') it = asyncIt.call(d);
  else if (typeof syncIt === 'function') it = syncIt.call(d);
  else if (typeof d.next === 'function') it = d as Iterator<tf.Tensor2D>;
  if (it === undefined) {
    throw new EbmError(
      'INVALID_PARAM',
      'data must be a tensor, an array of tensors, a function or an iterator.',
      {
        argument: 'data',
        value: typeof data,
        fix: 'pass a [N, D] dataset tensor with batchSize, or a batch iterator.',
      },
    );
  }
  const iter = it;
  return async () => {
    const r = await iter.next();
    if (r.done) {
      throw new EbmError('STATE_ERROR', 'The batch iterator ended before the last step.', {
        argument: 'data',
        fix: 'use an endless iterator, or fewer steps.',
      });
    }
    return { batch: assertBatch('batch', r.value), owned: true };
  };
}

function nonFinite(metrics: Record<string, number>, gradNorm: number): string | undefined {
  if (!Number.isFinite(metrics.loss ?? Number.NaN)) return 'loss';
  for (const k of ['energyPos', 'energyNeg']) {
    const v = metrics[k];
    if (v !== undefined && !Number.isFinite(v)) return k;
  }
  if (!Number.isFinite(gradNorm)) return 'gradNorm';
  return undefined;
}

/** Rows of a batch holding NaN or ±∞ (one host read). */
async function nonFiniteRows(batch: tf.Tensor2D): Promise<number> {
  if (batch.isDisposed) return 0;
  const count = tf.tidy(() => tf.sum(tf.cast(tf.any(tf.logicalNot(tf.isFinite(batch)), 1), 'int32')));
  try {
    return (await count.data())[0]!;
  } finally {
    count.dispose();
  }
}

function currentLearningRate(optimizer: tf.Optimizer): number | undefined {
  const v = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const FIT_KEYS = optionKeys<FitOptions>({
  loss: true,
  optimizer: true,
  data: true,
  batchSize: true,
  steps: true,
  seed: true,
  variables: true,
  learningRate: true,
  clipNorm: true,
  clipValue: true,
  onStep: true,
  onProgress: true,
  progressEvery: true,
  signal: true,
  checkpointEvery: true,
  onCheckpoint: true,
  resumeFrom: true,
  maxRollbacks: true,
  runawayGuard: true,
  onRollback: true,
  keepBatches: true,
  checkpointDir: true,
  keepCheckpoints: true,
  fusedStep: true,
});

function weightsFinite(c: TrainingCheckpoint): boolean {
  return c.weights.every((w) => w.data.every(Number.isFinite));
}

/**
 * Trains an energy with a loss and any tfjs optimizer.
 *
 * Per step t: batch t, key `foldIn(runKey, t)` (folded with the roll-back count after a roll-back), the loss's
 * asynchronous pre-pass when it has one (`prepared = await loss.prepare(batch, { key })`: a host-solved coupling such
 * as exact OT reads its cost with `await data()` before the tape, so it trains on WebGPU too), gradients
 * of `loss.compute(batch, { key, prepared }).loss` with respect to the variables (`tf.variableGrads`), optional clipping,
 * `optimizer.applyGradients` — or, for CD / PCD with an `MLPEnergy` and `tf.train.adam` on a backend that registered
 * the `train.mlpContrastiveAdam` kernel (webgpu with `@ebm/cuda`), the same step fused on the device, and likewise
 * Energy Matching's flow-phase steps through `train.mlpGradientRegressionAdam` ({@link FitOptions.fusedStep}).
 * Every `checkpointEvery` steps a {@link TrainingCheckpoint} is taken: it is the restore point of the divergence
 * guard and is passed to `onCheckpoint`; `resumeFrom` continues a run bit-identically on the cpu backend (same
 * seed, data source and objects of the same kinds).
 *
 * @example
 * ```ts
 * const res = await fit({ loss, optimizer: tf.train.adam(1e-2), data, batchSize: 256, steps: 1000,
 *   onStep: (m) => console.log(m.step, m.loss, m.energyPos, m.energyNeg, m.gradNorm) });
 * ```
 */
export async function fit(options: FitOptions): Promise<FitResult> {
  if (options === null || typeof options !== 'object') {
    throw new EbmError('INVALID_PARAM', 'fit() needs an options object.', {
      argument: 'options',
      value: options,
      fix: 'pass { loss, optimizer, data, steps }.',
    });
  }
  assertKnownOptions('fit()', options, FIT_KEYS);
  const { loss, optimizer } = options;
  if (loss === null || typeof loss !== 'object' || typeof loss.compute !== 'function') {
    throw new EbmError('INVALID_PARAM', 'fit() needs a loss with compute().', {
      argument: 'loss',
      value: loss === null ? null : typeof loss,
      fix: 'pass e.g. new ContrastiveDivergence(energy, { sampler }).',
    });
  }
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.applyGradients !== 'function') {
    throw new EbmError('INVALID_PARAM', 'fit() needs a tfjs optimizer.', {
      argument: 'optimizer',
      value: optimizer === null ? null : typeof optimizer,
      fix: 'pass e.g. tf.train.adam(1e-3).',
    });
  }
  const steps = assertInteger('steps', options.steps, 0);
  const batchSize =
    options.batchSize === undefined ? undefined : assertInteger('batchSize', options.batchSize, 1);
  if (batchSize !== undefined) {
    const dim = options.data instanceof tf.Tensor && options.data.rank === 2 ? options.data.shape[1] : 1;
    assertAllocation(
      `fit() batch (batchSize ${batchSize} × dim ${dim})`,
      batchSize * dim,
      'use a smaller batchSize.',
    );
  }
  const checkpointDir = options.checkpointDir;
  if (checkpointDir !== undefined && (typeof checkpointDir !== 'string' || checkpointDir.length === 0)) {
    throw new EbmError('INVALID_PARAM', 'checkpointDir must be a folder path.', {
      argument: 'checkpointDir',
      value: typeof checkpointDir,
      fix: "pass e.g. checkpointDir: './checkpoints' (Node only).",
    });
  }
  const keepCheckpoints = assertInteger('keepCheckpoints', options.keepCheckpoints ?? 2, 1);
  const checkpointEvery = assertInteger('checkpointEvery', options.checkpointEvery ?? 50, 1);
  const maxRollbacks = assertInteger('maxRollbacks', options.maxRollbacks ?? 3, 0);
  const guardOpt = options.runawayGuard as RunawayGuardOptions | boolean | undefined;
  const guard =
    guardOpt === false
      ? undefined
      : new RunawayDetector(guardOpt === true || guardOpt === undefined ? {} : guardOpt);
  const clipNorm = options.clipNorm === undefined ? undefined : assertPositive('clipNorm', options.clipNorm);
  const clipValue =
    options.clipValue === undefined ? undefined : assertPositive('clipValue', options.clipValue);
  const lr: Scheduler | undefined =
    options.learningRate === undefined ? undefined : toScheduler('learningRate', options.learningRate);
  const progressEvery = assertInteger(
    'progressEvery',
    options.progressEvery ?? Math.max(1, Math.floor(steps / 100)),
    1,
  );
  const variables = [...(options.variables ?? trainableVariables(loss))];
  if (variables.length === 0) {
    throw new EbmError('INVALID_PARAM', 'fit() found no trainable variables.', {
      argument: 'variables',
      value: 0,
      fix: 'pass { variables } or give the energy a `trainableVariables` array of tf.Variables.',
    });
  }

  let resume = options.resumeFrom;
  let resumeArg = 'resumeFrom';
  if (resume === undefined && checkpointDir !== undefined) {
    await removeStaleTempFiles(checkpointDir);
    // The newest file that is valid for this run (a torn or foreign file is skipped).
    resume = await readLatestCheckpoint(checkpointDir, (c) =>
      validateTrainingCheckpoint(c, { loss, optimizer, variables, steps }, 'checkpoint file'),
    );
    resumeArg = 'checkpoint file';
  }
  let runKey: RngKey = toKey(options.seed ?? 0, 'seed');
  let step = 0;
  let attempt = 0;
  let lrScale = 1;
  if (resume !== undefined) {
    const c = validateTrainingCheckpoint(resume, { loss, optimizer, variables, steps }, resumeArg);
    await restoreTrainingState(c, { loss, optimizer, variables });
    runKey = toKey(c.key, 'resumeFrom.key');
    step = c.step;
    attempt = c.attempt;
    lrScale = c.learningRateScale ?? 1;
  }
  const [dataKey, lossKey] = splitKey(runKey, 2) as [RngKey, RngKey];
  const next = batchReader(options.data, batchSize, dataKey);
  const keepBatches = options.keepBatches ?? false;
  const fusedOption = options.fusedStep ?? true;
  if (typeof fusedOption !== 'boolean') {
    throw new EbmError('INVALID_PARAM', 'fusedStep must be a boolean.', {
      argument: 'fusedStep',
      value: fusedOption,
      fix: 'pass true (default: use a fused training step when one applies) or false.',
    });
  }
  const fusedSetup = { loss, optimizer, variables, clipNorm, clipValue };
  let fused: FusedMlpStep | undefined;
  if (fusedOption && fusedStepUnavailable(fusedSetup) === undefined)
    fused = new FusedContrastiveStep(fusedSetup);
  else if (fusedOption && fusedFlowStepUnavailable(fusedSetup) === undefined)
    fused = new FusedFlowStep(fusedSetup);
  let fusedSteps = 0;
  const snapshot = () => {
    // The fused step's Adam state goes back to the optimizer before it is saved.
    fused?.sync();
    return saveTrainingState({
      loss,
      optimizer,
      variables,
      step,
      key: runKey,
      attempt,
      learningRateScale: lrScale,
    });
  };
  // Per-incident roll-back budget: reset once the run gets past the step that failed.
  let incident = 0;
  let failedStep = -1;
  let lastGood = await snapshot();
  let guardAtLastGood = guard?.save();
  const history: StepMetrics[] = [];
  const rollbacks: RollbackEvent[] = [];
  const started = Date.now();
  const signal = options.signal;

  try {
    while (step < steps) {
      if (signal?.aborted) {
        throw new EbmError('ABORTED', `Training aborted at step ${step}.`, {
          argument: 'signal',
          fix: 'resume from the last checkpoint passed to onCheckpoint.',
          cause: signal.reason,
        });
      }
      if (lr !== undefined) setLearningRate(optimizer, lr.valueAt(step) * lrScale);
      const { batch, owned } = await next(step);
      const releaseBatch = owned && !keepBatches ? () => batch.isDisposed || batch.dispose() : () => {};
      const stepKey = attempt === 0 ? foldIn(lossKey, step) : foldIn(foldIn(lossKey, step), attempt);
      let read: Record<string, number>;
      // Keep (commit) or drop (revert) the step's update once the guard has seen its metrics.
      let commit: () => void;
      let revert: () => void;
      if (fused !== undefined && !fused.available()) {
        fused.release();
        fused = undefined;
      }
      let pending: FusedPending | undefined;
      if (fused !== undefined && !fused.applies()) {
        // Not a flow step (Energy Matching's joint phase): autograd on the optimizer's own, current, slots.
        fused.release();
      } else if (fused !== undefined) {
        // Fused: negatives / flow pairs, gradient, Adam update and metrics on the device; one read.
        try {
          pending = await fused.step(batch, stepKey);
        } catch (e) {
          if (isEbmError(e) && e.code === 'NOT_IMPLEMENTED' && fusedSteps === 0) {
            // The kernel does not take this network on this device (e.g. its workgroup memory): autograd from
            // here on (validated before any update; a PCD buffer has taken this step's negatives once more).
            fused.release();
            fused = undefined;
          } else {
            releaseBatch();
            throw e;
          }
        }
      }
      if (pending !== undefined) {
        const p = pending;
        // The read holds the loss's metrics and the gradient norm under fit's own key.
        read = p.read;
        commit = () => {
          p.commit();
          fusedSteps++;
        };
        revert = () => p.revert();
      } else {
        let raw: Record<string, tf.Tensor | number> = {};
        let value: tf.Scalar;
        let grads: tf.NamedTensorMap;
        // The loss's asynchronous pre-pass (a host-solved coupling's pairing) before the tape: no sync reads.
        let prepared: PreparedCall | undefined;
        try {
          if (isPreparable(loss)) prepared = await loss.prepare(batch, { key: stepKey });
        } catch (e) {
          releaseBatch();
          throw e;
        }
        try {
          const context: LossCallContext = { key: stepKey, metrics: true, ...(prepared ? { prepared } : {}) };
          ({ value, grads } = variableGradsSafe(() => {
            const out = loss.compute(batch, context);
            // The metric scalars must outlive variableGrads' forward tidy: keep them, released after the read.
            raw = {};
            for (const [k, v] of Object.entries(out.metrics ?? {}))
              raw[k] = v instanceof tf.Tensor ? tf.keep(v) : (v as number);
            return out.loss;
          }, variables));
        } catch (e) {
          tf.dispose(Object.values(raw).filter((v): v is tf.Tensor => typeof v !== 'number'));
          releaseBatch();
          throw e;
        } finally {
          prepared?.dispose();
        }
        // One host read per step: the loss, its metrics and the gradient norm packed in one transfer.
        try {
          const normT = globalNorm(grads);
          read = await readMetrics(raw, { extra: { [LOSS]: value, [GRAD_NORM]: normT }, dispose: true });
        } catch (e) {
          tf.dispose(grads);
          releaseBatch();
          throw e;
        }
        const g = grads;
        commit = () => {
          const applied =
            clipNorm !== undefined || clipValue !== undefined ? clipGradients(g, { clipNorm, clipValue }) : g;
          optimizer.applyGradients(applied);
          if (applied !== g) tf.dispose(applied);
          tf.dispose(g);
        };
        revert = () => tf.dispose(g);
      }
      const gradNorm = read[GRAD_NORM]!;
      const lossValue = read.loss ?? read[LOSS]!;
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(read)) if (k !== LOSS && k !== GRAD_NORM) metrics[k] = v;
      const notFinite = nonFinite({ ...metrics, loss: lossValue }, gradNorm);
      const gapBefore = guard?.stats;
      const reason = notFinite ?? guard?.update(metrics);
      if (reason !== undefined) {
        revert();
        // NaN data is not a divergence: find it (one read, on this failure path only) and say so.
        let badRows = 0;
        try {
          if (notFinite !== undefined) badRows = await nonFiniteRows(batch);
        } finally {
          releaseBatch();
        }
        if (badRows > 0) {
          throw new EbmError(
            'NON_FINITE',
            `The data hold NaN/Infinity: ${badRows} row(s) of the batch of step ${step} are not finite.`,
            {
              argument: 'data',
              value: { step, rows: badRows },
              fix: 'clean the dataset (drop or impute non-finite rows) before training; this is not a divergence.',
            },
          );
        }
        attempt++;
        if (step > failedStep) incident = 0;
        incident++;
        failedStep = Math.max(failedStep, step);
        const event: RollbackEvent = { step, restoredStep: lastGood.step, reason, attempt, incident };
        rollbacks.push(event);
        if (incident > maxRollbacks) {
          const what =
            notFinite !== undefined
              ? `${reason} is not finite`
              : `the energy gap |E⁻ − E⁺| ran away (smoothed ${guard?.stats.fast?.toPrecision(3)} > ${guard?.ratio} × its scale ${gapBefore?.reference.toPrecision(3)}; E⁺ ${metrics.energyPos?.toPrecision(3)}, E⁻ ${metrics.energyNeg?.toPrecision(3)})`;
          throw new EbmError(
            'DIVERGED',
            `Training diverged: ${what} at step ${step} after ${maxRollbacks} roll-back(s).`,
            {
              argument: reason,
              value: lossValue,
              fix:
                notFinite !== undefined
                  ? 'lower the learning rate or the sampler step size, add energyL2, or set clipNorm.'
                  : "match the sampler's step size to the data's scale (standardise the data), raise energyL2 or use persistent chains (PCD); runawayGuard: false lets it run.",
            },
          );
        }
        await restoreTrainingState(lastGood, { loss, optimizer, variables });
        // The optimizer was restored: the fused step re-reads its state at the next step.
        fused?.invalidate();
        if (guardAtLastGood !== undefined) guard?.load(guardAtLastGood);
        step = lastGood.step;
        // A rate set by onRollback is kept: with a schedule, it becomes a factor on the schedule.
        const before = currentLearningRate(optimizer);
        await options.onRollback?.(event);
        const after = currentLearningRate(optimizer);
        if (
          lr !== undefined &&
          before !== undefined &&
          after !== undefined &&
          after !== before &&
          after > 0
        ) {
          lrScale *= after / before;
        }
        continue;
      }
      releaseBatch();
      commit();
      const m: StepMetrics = {
        step,
        loss: lossValue,
        gradNorm,
        ...(metrics.energyPos !== undefined ? { energyPos: metrics.energyPos } : {}),
        ...(metrics.energyNeg !== undefined ? { energyNeg: metrics.energyNeg } : {}),
        metrics: { ...metrics, loss: lossValue, gradNorm },
      };
      history.push(m);
      step++;
      if (step > failedStep) incident = 0;
      if (step % checkpointEvery === 0 || step === steps) {
        const c = await snapshot();
        if (weightsFinite(c) && (guard === undefined || guard.calm())) {
          lastGood = c;
          guard?.accept();
          guardAtLastGood = guard?.save();
          if (checkpointDir !== undefined)
            await writeCheckpointFile(checkpointDir, c, { keep: keepCheckpoints });
          await options.onCheckpoint?.(c);
        }
      }
      await options.onStep?.(m);
      if (step % progressEvery === 0 || step === steps) {
        options.onProgress?.({ step, total: steps, elapsedMs: Date.now() - started });
      }
    }
  } finally {
    // Adam's state goes back to the optimizer however the run ends.
    fused?.release();
  }
  return { step, history, rollbacks, checkpoint: lastGood, fusedSteps };
}

/** Alias of {@link fit}. */
export const train: (options: FitOptions) => Promise<FitResult> = fit;
