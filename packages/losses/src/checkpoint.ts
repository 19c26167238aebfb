import { assertInteger, EbmError, type Loss, MAX_ELEMENTS } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { LossState } from './base.js';

/**
 * # Checkpoint validation
 *
 * A checkpoint is untrusted data (it may come from a file, a network or an older run of another model). Every
 * field is checked against the run it is restored into — before anything is restored — so a bad checkpoint
 * leaves the weights, the optimizer, the loss and its replay buffer exactly as they were.
 * @module
 */

/** A tensor in a checkpoint: name, shape, dtype and row-major values. */
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
  /** The optimizer's class (`'Adam'`, `'SGD'`, …): a checkpoint of another kind is rejected. Absent in old ones. */
  readonly optimizerClass?: string;
  /** The loss's name: a checkpoint of another kind of loss is rejected. Absent in old checkpoints. */
  readonly lossName?: string;
  /** Factor on a `learningRate` schedule left by `onRollback` lowering the rate (default 1). */
  readonly learningRateScale?: number;
}

const CHECKPOINT_KEYS = [
  'version',
  'step',
  'key',
  'attempt',
  'weights',
  'optimizer',
  'optimizerExtra',
  'loss',
  'optimizerClass',
  'lossName',
  'learningRateScale',
];
const TENSOR_KEYS = ['name', 'shape', 'dtype', 'data'];
const DTYPES = ['float32', 'int32', 'bool'];

function fail(
  code: 'INVALID_PARAM' | 'SHAPE_MISMATCH' | 'NON_FINITE',
  message: string,
  argument: string,
  value: unknown,
  fix: string,
): never {
  throw new EbmError(code, message, { argument, value, fix });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Rejects own keys outside `known`, including `__proto__` / `constructor` planted by a JSON document. */
function assertKeys(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      fail(
        'INVALID_PARAM',
        `${where} has an unknown field "${k}".`,
        `${where}.${k}`,
        undefined,
        `a checkpoint holds only ${known.join(', ')}.`,
      );
    }
  }
}

function finiteArray(where: string, data: unknown, length: number | undefined): number[] {
  if (!Array.isArray(data))
    fail(
      'INVALID_PARAM',
      `${where} must be an array of numbers.`,
      where,
      typeof data,
      'pass the unmodified checkpoint.',
    );
  if (length !== undefined && data.length !== length) {
    fail(
      'SHAPE_MISMATCH',
      `${where} holds ${data.length} values; its shape needs ${length}.`,
      where,
      data.length,
      'pass the unmodified checkpoint.',
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(
        'NON_FINITE',
        `${where}[${i}] is ${typeof v === 'number' ? String(v) : typeof v}, not a finite number.`,
        where,
        v,
        'restore an earlier checkpoint (NaN weights cannot be resumed: JSON turns NaN into null).',
      );
    }
  }
  return data as number[];
}

/** Checks one saved tensor (known fields, shape, size limit, dtype, finite values of the right count). */
export function validateSavedTensor(where: string, t: unknown): SavedTensor {
  if (!isPlainObject(t))
    fail(
      'INVALID_PARAM',
      `${where} must be a saved tensor.`,
      where,
      t === null ? null : typeof t,
      'pass the unmodified checkpoint.',
    );
  assertKeys(where, t, TENSOR_KEYS);
  if (typeof t.name !== 'string')
    fail(
      'INVALID_PARAM',
      `${where}.name must be a string.`,
      `${where}.name`,
      typeof t.name,
      'pass the unmodified checkpoint.',
    );
  if (!Array.isArray(t.shape))
    fail(
      'INVALID_PARAM',
      `${where}.shape must be an array.`,
      `${where}.shape`,
      typeof t.shape,
      'pass the unmodified checkpoint.',
    );
  let size = 1;
  for (const s of t.shape) size *= assertInteger(`${where}.shape`, s, 0, MAX_ELEMENTS);
  if (size > MAX_ELEMENTS) {
    fail(
      'INVALID_PARAM',
      `${where} declares ${size} values, over the limit of ${MAX_ELEMENTS}.`,
      `${where}.shape`,
      t.shape,
      'pass the unmodified checkpoint.',
    );
  }
  if (!DTYPES.includes(t.dtype as string)) {
    fail(
      'INVALID_PARAM',
      `${where}.dtype must be one of ${DTYPES.join(', ')}.`,
      `${where}.dtype`,
      t.dtype,
      'pass the unmodified checkpoint.',
    );
  }
  finiteArray(`${where}.data`, t.data, size);
  return t as unknown as SavedTensor;
}

/** The class name of a tfjs optimizer (`'Adam'`, `'SGD'`, …), or `undefined`. */
export function optimizerClassOf(optimizer: tf.Optimizer): string | undefined {
  const o = optimizer as unknown as { getClassName?: () => string };
  try {
    return typeof o.getClassName === 'function' ? o.getClassName() : undefined;
  } catch {
    return undefined;
  }
}

interface ValidatingLoss {
  validateState?: (state: unknown) => void;
  saveState?: unknown;
  loadState?: unknown;
  name?: string;
}

/**
 * Checks a whole checkpoint against the run it is to be restored into, changing nothing: the document's
 * fields (no unknown or `__proto__` fields), step / key / attempt, every weight (shape equal to its variable's,
 * finite values), the optimizer's kind and state, the loss's kind and state (`loss.validateState`), and, when
 * `steps` is given, that the checkpoint's step does not exceed it. Throws an `EbmError` naming the field and
 * the reason; returns the checkpoint typed.
 */
export function validateTrainingCheckpoint(
  checkpoint: unknown,
  target: { loss: Loss; optimizer: tf.Optimizer; variables: readonly tf.Variable[]; steps?: number },
  argument = 'resumeFrom',
): TrainingCheckpoint {
  if (!isPlainObject(checkpoint) || checkpoint.version !== 1) {
    fail(
      'INVALID_PARAM',
      `${argument} must be a TrainingCheckpoint (version 1).`,
      argument,
      isPlainObject(checkpoint) ? checkpoint.version : checkpoint === null ? null : typeof checkpoint,
      'pass a checkpoint received by onCheckpoint, returned by fit(), or read by readLatestCheckpoint().',
    );
  }
  const c = checkpoint;
  assertKeys(argument, c, CHECKPOINT_KEYS);
  const step = assertInteger(`${argument}.step`, c.step, 0);
  if (target.steps !== undefined && step > target.steps) {
    fail(
      'INVALID_PARAM',
      `${argument}.step is ${step}, beyond this run's steps (${target.steps}): the run would do nothing.`,
      `${argument}.step`,
      step,
      `pass steps ≥ ${step} (the total number of updates, counted from the start of the first run).`,
    );
  }
  if (!Array.isArray(c.key) || c.key.length !== 2) {
    fail(
      'INVALID_PARAM',
      `${argument}.key must be a [number, number] key.`,
      `${argument}.key`,
      c.key,
      'pass the unmodified checkpoint.',
    );
  }
  for (const k of c.key) assertInteger(`${argument}.key`, k, 0, 0xffffffff);
  assertInteger(`${argument}.attempt`, c.attempt, 0);
  if (
    c.learningRateScale !== undefined &&
    !(
      typeof c.learningRateScale === 'number' &&
      c.learningRateScale > 0 &&
      Number.isFinite(c.learningRateScale)
    )
  ) {
    fail(
      'INVALID_PARAM',
      `${argument}.learningRateScale must be a positive number.`,
      `${argument}.learningRateScale`,
      c.learningRateScale,
      'pass the unmodified checkpoint.',
    );
  }

  // Weights: one per variable, same shapes, finite.
  const vars = target.variables;
  if (!Array.isArray(c.weights))
    fail(
      'INVALID_PARAM',
      `${argument}.weights must be an array.`,
      `${argument}.weights`,
      typeof c.weights,
      'pass the unmodified checkpoint.',
    );
  if (c.weights.length !== vars.length) {
    fail(
      'SHAPE_MISMATCH',
      'The checkpoint holds a different number of variables.',
      `${argument}.weights`,
      [c.weights.length, vars.length],
      'resume with the same energy architecture and loss (same variable list).',
    );
  }
  c.weights.forEach((w, i) => {
    const t = validateSavedTensor(`${argument}.weights[${i}]`, w);
    const v = vars[i]!;
    if (t.shape.length !== v.shape.length || t.shape.some((s, j) => s !== v.shape[j])) {
      fail(
        'SHAPE_MISMATCH',
        `Checkpoint weight ${i} ("${t.name}") has another shape.`,
        `${argument}.weights`,
        [t.shape, v.shape],
        'resume with the same energy architecture.',
      );
    }
  });

  // Optimizer: same kind, well-formed state.
  const cls = optimizerClassOf(target.optimizer);
  if (c.optimizerClass !== undefined) {
    if (typeof c.optimizerClass !== 'string')
      fail(
        'INVALID_PARAM',
        `${argument}.optimizerClass must be a string.`,
        `${argument}.optimizerClass`,
        c.optimizerClass,
        'pass the unmodified checkpoint.',
      );
    if (cls !== undefined && c.optimizerClass !== cls) {
      fail(
        'INVALID_PARAM',
        `The checkpoint was written by a ${c.optimizerClass} optimizer; this run uses ${cls}.`,
        `${argument}.optimizerClass`,
        [c.optimizerClass, cls],
        `resume with the same kind of optimizer (e.g. tf.train.${c.optimizerClass.toLowerCase()}(…)).`,
      );
    }
  }
  if (c.optimizer !== null) {
    if (!Array.isArray(c.optimizer))
      fail(
        'INVALID_PARAM',
        `${argument}.optimizer must be an array or null.`,
        `${argument}.optimizer`,
        typeof c.optimizer,
        'pass the unmodified checkpoint.',
      );
    const saved = c.optimizer.map((t, i) => validateSavedTensor(`${argument}.optimizer[${i}]`, t));
    // Slots (after the iteration count): tfjs names each `<variable name>/<kind>` (Adam's `/m` and `/v`,
    // momentum's `/momentum`, …) and makes them only for variables that have had a gradient, so a variable with
    // none (V's output bias in EnergyMatchingLoss's flow-only phase) has no slot and the count need not be a
    // multiple of the variables. A slot named after a checkpoint weight must have its shape.
    const byName = new Map(c.weights.map((w, i) => [(w as { name: string }).name, i]));
    let named = true;
    saved.slice(1).forEach((t, k) => {
      const cut = t.name.lastIndexOf('/');
      const i = cut > 0 ? byName.get(t.name.slice(0, cut)) : undefined;
      if (i === undefined) {
        named = false;
        return;
      }
      const want = vars[i]!.shape;
      if (t.shape.length !== want.length || t.shape.some((n, j) => n !== want[j])) {
        fail(
          'SHAPE_MISMATCH',
          `Checkpoint optimizer slot ${k + 1} ("${t.name}") does not have the shape of its variable.`,
          `${argument}.optimizer`,
          [t.shape, want],
          'pass the unmodified checkpoint.',
        );
      }
    });
    // Slots named otherwise (another optimizer's convention): one group of slots per variable.
    const slots = c.optimizer.length - 1;
    if (!named && slots > 0 && vars.length > 0 && slots % vars.length !== 0) {
      fail(
        'SHAPE_MISMATCH',
        `The checkpoint's optimizer holds ${slots} slot(s), not a multiple of the ${vars.length} variables.`,
        `${argument}.optimizer`,
        slots,
        'resume with the same variables and optimizer.',
      );
    }
  }
  if (!isPlainObject(c.optimizerExtra))
    fail(
      'INVALID_PARAM',
      `${argument}.optimizerExtra must be an object.`,
      `${argument}.optimizerExtra`,
      typeof c.optimizerExtra,
      'pass the unmodified checkpoint.',
    );
  for (const [k, v] of Object.entries(c.optimizerExtra)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
      fail(
        'INVALID_PARAM',
        `${argument}.optimizerExtra has a forbidden field "${k}".`,
        `${argument}.optimizerExtra`,
        k,
        'pass the unmodified checkpoint.',
      );
    }
    finiteArray(`${argument}.optimizerExtra.${k}`, v, undefined);
  }

  // Loss: same kind, valid state.
  const loss = target.loss as unknown as ValidatingLoss;
  if (c.lossName !== undefined && typeof loss.name === 'string' && c.lossName !== loss.name) {
    fail(
      'INVALID_PARAM',
      `The checkpoint was written by a ${String(c.lossName)} loss; this run uses ${loss.name}.`,
      `${argument}.lossName`,
      [c.lossName, loss.name],
      'resume with the same kind of loss.',
    );
  }
  const stateful = typeof loss.saveState === 'function' && typeof loss.loadState === 'function';
  if (c.loss !== null) {
    if (!isPlainObject(c.loss))
      fail(
        'INVALID_PARAM',
        `${argument}.loss must be an object or null.`,
        `${argument}.loss`,
        typeof c.loss,
        'pass the unmodified checkpoint.',
      );
    if (!stateful) {
      fail(
        'INVALID_PARAM',
        `The checkpoint holds a loss state, but ${loss.name ?? 'this loss'} has none.`,
        `${argument}.loss`,
        Object.keys(c.loss),
        'resume with the same kind of loss.',
      );
    }
    loss.validateState?.(c.loss);
  }
  return c as unknown as TrainingCheckpoint;
}
