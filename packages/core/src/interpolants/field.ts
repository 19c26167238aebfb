import type * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';

/**
 * A time-conditioned model f(x, t): positions `[B, D]` and times `[B]` → `[B, D]` (a velocity, a score or a
 * noise prediction). Either a function or an object with `apply` (e.g. `TimeConditionedMLP` from @ebm/models,
 * which also exposes `trainableVariables` for training).
 */
export type TimeField =
  | ((x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D)
  | {
      readonly name?: string;
      /** Feature dimension D, when fixed. */
      readonly dim?: number | undefined;
      apply(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D;
    };

/** The model as a plain function (validates the shape). */
export function timeFieldFn(
  field: TimeField,
  argument = 'model',
): (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D {
  if (typeof field === 'function') return field;
  if (field !== null && typeof field === 'object' && typeof field.apply === 'function') {
    return (x, t) => field.apply(x, t);
  }
  throw new EbmError(
    'INVALID_PARAM',
    `${argument} must be a function (x, t) => tensor or an object with apply(x, t).`,
    {
      argument,
      value: field === null ? null : typeof field,
      fix: 'pass e.g. new TimeConditionedMLP({ dim: 2 }) from @ebm/models, or (x, t) => ....',
    },
  );
}

/** The fixed dimension of a field object, when it declares one. */
export function timeFieldDim(field: TimeField): number | undefined {
  return typeof field === 'object' && field !== null && typeof field.dim === 'number' ? field.dim : undefined;
}
