import {
  assertBatch,
  assertInteger,
  assertPositive,
  EbmError,
  foldIn,
  type Loss,
  type RngKey,
  type Schedulable,
  type Scheduler,
  splitKey,
  toKey,
  toScheduler,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LossCallContext, LossState } from './base.js';
import { type SeedLike, variablesOf } from './internal.js';
import { readMetrics } from './metrics.js';

const LOSS = '\u0000loss';
const GRAD_NORM = '\u0000gradNorm';

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
  /** Step at which a non-finite value appeared. */
  readonly step: number;
  /** Step of the checkpoint restored. */
  readonly restoredStep: number;
  /** What was non-finite, e.g. `'loss'`, `'energyNeg'`, `'gradNorm'`. */
  readonly reason: string;
  /** Number of roll-backs so far (the retried steps use keys folded with this number). */
  readonly attempt: number;
}

/** A tensor as plain data. */
export interface SavedTensor {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: tf.DataType;
  readonly data: number[];
}

/**
 * Everything a run needs to continue bit-identically (plain JSON data): weights, optimizer state, the loss's
 * state (replay buffer, key counter), the run key, the roll-back count and the step.
 */
export interface TrainingCheckpoint {
  readonly version: 1;
  /** Number of updates applied. */
  readonly step: number;
  /** Run key. */
  readonly key: [number, number];
  /** Roll-backs so far. */
  readonly attempt: number;
  /** Variable values, in the order of the run's variable list. */
  readonly weights: SavedTensor[];
  /** `optimizer.getWeights()` (iterations first), or `null` for an optimizer without it. */
  readonly optimizer: SavedTensor[] | null;
  /** Optimizer scalars outside `getWeights` (e.g. Adam's running β powers), by property name. */
  readonly optimizerExtra: Record<string, number[]>;
  /** `loss.saveState()`, or `null` for a stateless loss. */
  readonly loss: LossState | null;
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
   * retries with fresh keys, at most `maxRollbacks` times (default 3) before throwing `DIVERGED`.
   */
  readonly maxRollbacks?: number;
  /** Called after each roll-back (e.g. to lower the learning rate). */
  readonly onRollback?: (event: RollbackEvent) => void | Promise<void>;
  /** Do not dispose batches produced by a function or an iterator (default false). */
  readonly keepBatches?: boolean;
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
    return tf.sqrt(parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Scalar;
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
  };
}

/** Restores a checkpoint into variables, optimizer and loss (the inverse of {@link saveTrainingState}). */
export async function restoreTrainingState(
  checkpoint: TrainingCheckpoint,
  target: { loss: Loss; optimizer: tf.Optimizer; variables: readonly tf.Variable[] },
): Promise<void> {
  if (checkpoint === null || typeof checkpoint !== 'object' || checkpoint.version !== 1) {
    throw new EbmError('INVALID_PARAM', 'resumeFrom must be a TrainingCheckpoint (version 1).', {
      argument: 'resumeFrom',
      value: checkpoint === null || typeof checkpoint !== 'object' ? checkpoint : checkpoint.version,
      fix: 'pass a checkpoint received by onCheckpoint or returned by fit().',
    });
  }
  const vars = target.variables;
  if (checkpoint.weights.length !== vars.length) {
    throw new EbmError('SHAPE_MISMATCH', 'The checkpoint holds a different number of variables.', {
      argument: 'resumeFrom.weights',
      value: [checkpoint.weights.length, vars.length],
      fix: 'resume with the same energy architecture and loss (same variable list).',
    });
  }
  vars.forEach((v, i) => {
    const w = checkpoint.weights[i]!;
    if (w.shape.length !== v.shape.length || w.shape.some((s, j) => s !== v.shape[j])) {
      throw new EbmError('SHAPE_MISMATCH', `Checkpoint weight ${i} ("${w.name}") has another shape.`, {
        argument: 'resumeFrom.weights',
        value: [w.shape, v.shape],
        fix: 'resume with the same energy architecture.',
      });
    }
  });
  vars.forEach((v, i) => {
    const w = checkpoint.weights[i]!;
    const t = tf.tensor(w.data, w.shape, w.dtype);
    v.assign(t);
    t.dispose();
  });
  const opt = target.optimizer;
  if (checkpoint.optimizer !== null) {
    const current = await optimizerWeights(opt);
    const saved = checkpoint.optimizer;
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
      // setWeights replaces the optimizer's slot variables: release the current ones first.
      for (const c of current?.slice(1) ?? []) if (c.tensor instanceof tf.Variable) c.tensor.dispose();
      const tensors = saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape, s.dtype) }));
      try {
        await opt.setWeights(tensors);
      } finally {
        for (const t of tensors) t.tensor.dispose();
      }
    }
  }
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

function weightsFinite(c: TrainingCheckpoint): boolean {
  return c.weights.every((w) => w.data.every(Number.isFinite));
}

/**
 * Trains an energy with a loss and any tfjs optimizer.
 *
 * Per step t: batch t, key `foldIn(runKey, t)` (folded with the roll-back count after a roll-back), gradients
 * of `loss.compute(batch, { key }).loss` with respect to the variables (`tf.variableGrads`), optional clipping,
 * `optimizer.applyGradients`. Every `checkpointEvery` steps a {@link TrainingCheckpoint} is taken: it is the
 * restore point of the divergence guard and is passed to `onCheckpoint`; `resumeFrom` continues a run
 * bit-identically on the cpu backend (same seed, data source and objects of the same kinds).
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
  const checkpointEvery = assertInteger('checkpointEvery', options.checkpointEvery ?? 50, 1);
  const maxRollbacks = assertInteger('maxRollbacks', options.maxRollbacks ?? 3, 0);
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

  const resume = options.resumeFrom;
  let runKey: RngKey = toKey(options.seed ?? 0, 'seed');
  let step = 0;
  let attempt = 0;
  if (resume !== undefined) {
    await restoreTrainingState(resume, { loss, optimizer, variables });
    runKey = toKey(resume.key, 'resumeFrom.key');
    step = assertInteger('resumeFrom.step', resume.step, 0);
    attempt = assertInteger('resumeFrom.attempt', resume.attempt, 0);
  }
  const [dataKey, lossKey] = splitKey(runKey, 2) as [RngKey, RngKey];
  const next = batchReader(options.data, batchSize, dataKey);
  const keepBatches = options.keepBatches ?? false;
  const snapshot = () => saveTrainingState({ loss, optimizer, variables, step, key: runKey, attempt });
  let lastGood = await snapshot();
  const history: StepMetrics[] = [];
  const rollbacks: RollbackEvent[] = [];
  const started = Date.now();
  const signal = options.signal;

  while (step < steps) {
    if (signal?.aborted) {
      throw new EbmError('ABORTED', `Training aborted at step ${step}.`, {
        argument: 'signal',
        fix: 'resume from the last checkpoint passed to onCheckpoint.',
        cause: signal.reason,
      });
    }
    if (lr !== undefined) setLearningRate(optimizer, lr.valueAt(step));
    const { batch, owned } = await next(step);
    const stepKey = attempt === 0 ? foldIn(lossKey, step) : foldIn(foldIn(lossKey, step), attempt);
    let raw: Record<string, tf.Tensor | number> = {};
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    try {
      const context: LossCallContext = { key: stepKey, metrics: true };
      ({ value, grads } = tf.variableGrads(() => {
        const out = loss.compute(batch, context);
        // The metric scalars must outlive variableGrads' forward tidy: keep them, released after the read.
        raw = {};
        for (const [k, v] of Object.entries(out.metrics ?? {}))
          raw[k] = v instanceof tf.Tensor ? tf.keep(v) : (v as number);
        return out.loss;
      }, variables));
    } catch (e) {
      tf.dispose(Object.values(raw).filter((v): v is tf.Tensor => typeof v !== 'number'));
      throw e;
    } finally {
      if (owned && !keepBatches) batch.dispose();
    }
    // One host read per step: the loss, its metrics and the gradient norm packed in one transfer.
    let read: Record<string, number>;
    try {
      const normT = globalNorm(grads);
      read = await readMetrics(raw, { extra: { [LOSS]: value, [GRAD_NORM]: normT }, dispose: true });
    } catch (e) {
      tf.dispose(grads);
      throw e;
    }
    const gradNorm = read[GRAD_NORM]!;
    const lossValue = read.loss ?? read[LOSS]!;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(read)) if (k !== LOSS && k !== GRAD_NORM) metrics[k] = v;
    const reason = nonFinite({ ...metrics, loss: lossValue }, gradNorm);
    if (reason !== undefined) {
      tf.dispose(grads);
      attempt++;
      const event: RollbackEvent = { step, restoredStep: lastGood.step, reason, attempt };
      rollbacks.push(event);
      if (attempt > maxRollbacks) {
        throw new EbmError(
          'DIVERGED',
          `Training diverged: ${reason} is not finite at step ${step} after ${maxRollbacks} roll-back(s).`,
          {
            argument: reason,
            value: lossValue,
            fix: 'lower the learning rate or the sampler step size, add energyL2, or set clipNorm.',
          },
        );
      }
      await restoreTrainingState(lastGood, { loss, optimizer, variables });
      step = lastGood.step;
      await options.onRollback?.(event);
      continue;
    }
    const applied =
      clipNorm !== undefined || clipValue !== undefined
        ? clipGradients(grads, { clipNorm, clipValue })
        : grads;
    optimizer.applyGradients(applied);
    if (applied !== grads) tf.dispose(applied);
    tf.dispose(grads);
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
    if (step % checkpointEvery === 0 || step === steps) {
      const c = await snapshot();
      if (weightsFinite(c)) {
        lastGood = c;
        await options.onCheckpoint?.(c);
      }
    }
    await options.onStep?.(m);
    if (step % progressEvery === 0 || step === steps) {
      options.onProgress?.({ step, total: steps, elapsedMs: Date.now() - started });
    }
  }
  return { step, history, rollbacks, checkpoint: lastGood };
}

/** Alias of {@link fit}. */
export const train: (options: FitOptions) => Promise<FitResult> = fit;
