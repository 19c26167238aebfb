import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';

/**
 * Host access to tensors for the fused CPU kernels. Internal module.
 * @module
 */

/** tfjs backends whose tensors live in host memory (the fused CPU kernels register for these). */
export const HOST_BACKENDS: readonly string[] = ['cpu', 'wasm'];

/**
 * The values of `t` on a host backend, read synchronously.
 *
 * Sync-read allow-list entry (scripts/check-sync-reads.mjs): this runs only inside the fused *kernels* of the
 * host backends cpu and wasm (they are registered for {@link HOST_BACKENDS} only), whose tensors already live in
 * host memory — `dataSync` there copies nothing across a device boundary and never blocks on a device. Guarded
 * anyway: on another backend it throws `BACKEND_UNAVAILABLE`. The returned array is a fresh copy the caller owns.
 */
export function readHost(t: tf.Tensor, argument: string): Float32Array {
  if (!(t instanceof tf.Tensor) || t.isDisposed) {
    throw new EbmError('INVALID_PARAM', `${argument} must be a live tensor.`, {
      argument,
      value: t instanceof tf.Tensor ? 'disposed' : typeof t,
      fix: 'pass a tensor that has not been disposed.',
    });
  }
  if (t.dtype !== 'float32') {
    throw new EbmError('INVALID_DTYPE', `${argument} must be float32.`, {
      argument,
      value: t.dtype,
      fix: `cast it first: tf.cast(${argument}, 'float32').`,
    });
  }
  const backend = tf.getBackend();
  if (!HOST_BACKENDS.includes(backend)) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `The fused CPU kernels run on host backends, not "${backend}".`,
      {
        argument: 'backend',
        value: backend,
        fix: "switch to 'cpu' or 'wasm', or use runChainParallel (it reads with await data()).",
      },
    );
  }
  return (t.dataSync() as Float32Array).slice();
}

/** Checks that `x` is a float32 `[B, D]` tensor; returns `[B, D]`. */
export function assertRank2(x: unknown, argument: string): [number, number] {
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.dtype !== 'float32') {
    throw new EbmError('SHAPE_MISMATCH', `${argument} must be a float32 [B, D] tensor.`, {
      argument,
      value: x instanceof tf.Tensor ? { shape: x.shape, dtype: x.dtype } : typeof x,
      fix: 'pass the chains as a 2-D float32 tensor, one row per chain.',
    });
  }
  return [x.shape[0], x.shape[1]] as [number, number];
}

/**
 * Kernel-hint params with every tensor value (at the top level or inside an array, e.g. an MLP's
 * `weights: [K0, b0, …]` given as its variables) replaced by its values, read synchronously (a kernel on a
 * host backend: see {@link readHost}).
 */
export function hostParamsSync(params: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return mapTensors(params, (t, name) => readHost(t, name));
}

/** {@link hostParamsSync} with `await t.data()` (for the worker pool, which may run from any backend). */
export async function hostParamsAsync(
  params: Readonly<Record<string, unknown>>,
): Promise<Readonly<Record<string, unknown>>> {
  const reads: Promise<void>[] = [];
  const out = mapTensors(params, (t) => {
    const slot = new Float32Array(t.size);
    reads.push(
      t.data().then((d) => {
        slot.set(d as Float32Array);
      }),
    );
    return slot;
  });
  await Promise.all(reads);
  return out;
}

function mapTensors(
  params: Readonly<Record<string, unknown>>,
  read: (t: tf.Tensor, name: string) => Float32Array,
): Readonly<Record<string, unknown>> {
  if (params === null || typeof params !== 'object') return params;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v instanceof tf.Tensor) {
      out[k] = read(v, `params.${k}`);
      changed = true;
    } else if (Array.isArray(v) && v.some((w) => w instanceof tf.Tensor)) {
      out[k] = v.map((w, i) => (w instanceof tf.Tensor ? read(w, `params.${k}[${i}]`) : w));
      changed = true;
    } else out[k] = v;
  }
  return changed ? out : params;
}
