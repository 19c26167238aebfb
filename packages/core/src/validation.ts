import type * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/**
 * Argument checks shared by every `@ebm/*` package. Each throws an {@link EbmError} that names the argument,
 * the value and the fix, and returns the (narrowed) value so it can be used inline.
 */

/** Requires a finite number. */
export function assertFiniteNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new EbmError(
      typeof value === 'number' ? 'NON_FINITE' : 'INVALID_PARAM',
      `${name} must be a finite number.`,
      { argument: name, value, fix: `pass a finite number for ${name}.` },
    );
  }
  return value;
}

/** Requires a finite number > 0. */
export function assertPositive(name: string, value: unknown): number {
  const v = assertFiniteNumber(name, value);
  if (!(v > 0)) {
    throw new EbmError('INVALID_PARAM', `${name} must be > 0.`, {
      argument: name,
      value,
      fix: `pass a positive number for ${name}.`,
    });
  }
  return v;
}

/** Requires a finite number >= 0. */
export function assertNonNegative(name: string, value: unknown): number {
  const v = assertFiniteNumber(name, value);
  if (!(v >= 0)) {
    throw new EbmError('INVALID_PARAM', `${name} must be >= 0.`, {
      argument: name,
      value,
      fix: `pass a number >= 0 for ${name}.`,
    });
  }
  return v;
}

/** Requires an integer in `[min, max]` (both inclusive; `max` defaults to `Number.MAX_SAFE_INTEGER`). */
export function assertInteger(name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new EbmError('INVALID_PARAM', `${name} must be an integer ${range}.`, {
      argument: name,
      value,
      fix: `pass an integer ${range} for ${name}.`,
    });
  }
  return value;
}

/** Requires a number in the interval described by `lo`/`hi` and the inclusivity flags. */
export function assertInRange(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  { loInclusive = true, hiInclusive = true }: { loInclusive?: boolean; hiInclusive?: boolean } = {},
): number {
  const v = assertFiniteNumber(name, value);
  const okLo = loInclusive ? v >= lo : v > lo;
  const okHi = hiInclusive ? v <= hi : v < hi;
  if (!okLo || !okHi) {
    const interval = `${loInclusive ? '[' : '('}${lo}, ${hi}${hiInclusive ? ']' : ')'}`;
    throw new EbmError('INVALID_PARAM', `${name} must lie in ${interval}.`, {
      argument: name,
      value,
      fix: `pass a value of ${name} in ${interval}.`,
    });
  }
  return v;
}

/** Requires one of the listed string values. */
export function assertOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new EbmError(
      'INVALID_PARAM',
      `${name} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}.`,
      {
        argument: name,
        value,
        fix: `pass one of ${allowed.join(', ')}.`,
      },
    );
  }
  return value as T;
}

/** Requires a tfjs tensor of the given rank (and dtype, default float32). */
export function assertTensor(
  name: string,
  value: unknown,
  { rank, dtype = 'float32' }: { rank?: number; dtype?: tf.DataType | 'any' } = {},
): tf.Tensor {
  const t = value as tf.Tensor | undefined;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || typeof t.dtype !== 'string') {
    throw new EbmError('INVALID_PARAM', `${name} must be a tf.Tensor.`, {
      argument: name,
      value: value === null ? null : typeof value,
      fix: `pass a tensor, e.g. tf.tensor2d(...), for ${name}.`,
    });
  }
  if (t.isDisposed) {
    throw new EbmError('STATE_ERROR', `${name} has already been disposed.`, {
      argument: name,
      fix: `keep ${name} alive (do not dispose it or create it inside a tf.tidy that has ended).`,
    });
  }
  if (rank !== undefined && t.rank !== rank) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${name} must have rank ${rank} (got shape [${t.shape.join(', ')}]).`,
      {
        argument: name,
        value: t.shape,
        fix:
          rank === 2
            ? `reshape ${name} to [batch, dim], e.g. x.reshape([-1, dim]).`
            : `reshape ${name} to rank ${rank}.`,
      },
    );
  }
  if (dtype !== 'any' && t.dtype !== dtype) {
    throw new EbmError('INVALID_DTYPE', `${name} must have dtype ${dtype}.`, {
      argument: name,
      value: t.dtype,
      fix: `cast it first: tf.cast(${name}, '${dtype}').`,
    });
  }
  return t;
}

/**
 * Requires a float32 batch `[B, D]` with `B >= 1`, and `D === dim` when `dim` is given.
 * @returns the tensor, typed as `Tensor2D`.
 */
export function assertBatch(name: string, value: unknown, dim?: number): tf.Tensor2D {
  const t = assertTensor(name, value, { rank: 2 }) as tf.Tensor2D;
  const [b, d] = t.shape;
  if (b < 1) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must hold at least one row.`, {
      argument: name,
      value: t.shape,
      fix: 'pass a batch with B >= 1 rows.',
    });
  }
  if (dim !== undefined && d !== dim) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must have ${dim} columns (the energy's dimension).`, {
      argument: name,
      value: t.shape,
      fix: `pass a [batch, ${dim}] tensor.`,
    });
  }
  return t;
}

/** Requires that a host array holds only finite numbers. */
export function assertFiniteArray(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new EbmError('NON_FINITE', `${name} holds a non-finite value at flat index ${i}.`, {
        argument: name,
        value: values[i],
        fix: `remove NaN/Infinity from ${name} (check the step size or the initial state).`,
      });
    }
  }
}

/**
 * The most elements one run or call may allocate for a tensor before it is refused: 2²⁸ float32 values
 * (1 GiB). Big enough for 4M chains × 64 dims; small enough that a typo (`nSamples: 1e9`) fails at once
 * instead of filling memory for a minute.
 */
export const MAX_ELEMENTS = 2 ** 28;

/**
 * Throws `INVALID_PARAM` before allocating when `elements` (e.g. chains × dim, or kept steps × chains × dim
 * for a trajectory) exceeds {@link MAX_ELEMENTS}. `what` names the request, `fix` says how to shrink it.
 */
export function assertAllocation(what: string, elements: number, fix: string): void {
  if (!(elements <= MAX_ELEMENTS)) {
    throw new EbmError(
      'INVALID_PARAM',
      `${what} needs ${elements.toExponential(2)} values, over the limit of ${MAX_ELEMENTS} (2^28, 1 GiB of float32).`,
      { argument: what, value: elements, fix },
    );
  }
}
