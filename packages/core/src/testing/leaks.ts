import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';

/** Every tensor reachable in a value (tensors, arrays, plain objects; depth-limited). */
export function collectTensors(value: unknown, out: Set<tf.Tensor> = new Set(), depth = 0): Set<tf.Tensor> {
  if (depth > 6 || value === null || value === undefined) return out;
  if (value instanceof tf.Tensor) {
    if (!value.isDisposed) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
  } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
  }
  return out;
}

/** Options of {@link expectNoLeaks}. */
export interface NoLeakOptions {
  /** Calls before measuring, to let lazy caches fill (default 1). */
  readonly warmup?: number;
  /** Keep the tensors returned by the measured call instead of disposing them (default false). */
  readonly keepOutputs?: boolean;
  /** Label for the failure message. */
  readonly label?: string;
}

/** Measures one call: the leak count, outputs aside; disposes the outputs unless `keepOutputs`. */
function measure<T>(before: number, result: T, options: NoLeakOptions): T {
  const outputs = collectTensors(result);
  const after = tf.memory().numTensors;
  const leaked = after - before - outputs.size;
  if (!options.keepOutputs) for (const t of outputs) t.dispose();
  if (leaked !== 0) {
    throw new EbmError(
      'TEST_FAILURE',
      `${options.label ? `${options.label}: ` : ''}${leaked > 0 ? `leaked ${leaked}` : `disposed ${-leaked} foreign`} tensor(s) (numTensors ${before} → ${after}, ${outputs.size} returned).`,
      { value: { before, after, outputs: outputs.size } },
    );
  }
  return result;
}

/**
 * Runs `fn` and asserts that `tf.memory().numTensors` is unchanged, outputs aside: tensors reachable from
 * the return value (arrays and plain objects included) are not counted, then disposed unless `keepOutputs`.
 * Works with sync and async functions. Throws `TEST_FAILURE` naming the number of leaked tensors.
 * @returns the value returned by the measured call.
 */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>, options: NoLeakOptions = {}): Promise<T> {
  for (let i = 0; i < (options.warmup ?? 1); i++) for (const t of collectTensors(await fn())) t.dispose();
  const before = tf.memory().numTensors;
  return measure(before, await fn(), options);
}

/** Synchronous {@link expectNoLeaks} (for code that must not await). */
export function expectNoLeaksSync<T>(fn: () => T, options: NoLeakOptions = {}): T {
  for (let i = 0; i < (options.warmup ?? 1); i++) for (const t of collectTensors(fn())) t.dispose();
  const before = tf.memory().numTensors;
  return measure(before, fn(), options);
}
