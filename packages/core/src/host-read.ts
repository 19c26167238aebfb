import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';
import { canReadSync } from './tfjs-internals.js';

/**
 * Host reads. Library code reads tensors with `await t.data()` in async APIs; the synchronous APIs that remain
 * (`sampleSync`, a loss's sync helpers, …) read through {@link readSync}, which fails with a clear
 * `BACKEND_UNAVAILABLE` {@link EbmError} on a backend that cannot read synchronously (`canReadSync` of
 * `@ebm/core/internal`: only the host backends cpu, wasm and tensorflow read synchronously).
 */

/**
 * Throws `BACKEND_UNAVAILABLE` when the active backend cannot read synchronously. `api` names the synchronous
 * call (e.g. `'sampler.sampleSync()'`), `alternative` the async one to use instead (e.g. `'await sampler.sample()'`).
 */
export function assertSyncReadable(api: string, alternative: string): void {
  const backend = tf.getBackend();
  if (canReadSync(backend)) return;
  throw syncReadError(api, alternative, backend);
}

function syncReadError(api: string, alternative: string, backend: string, cause?: unknown): EbmError {
  return new EbmError(
    'BACKEND_UNAVAILABLE',
    `${api} reads tensors synchronously, which the "${backend}" backend cannot do here.`,
    {
      argument: 'backend',
      value: backend,
      fix: `use the async API: ${alternative} (or run the synchronous API on the cpu or wasm backend).`,
      ...(cause !== undefined ? { cause } : {}),
    },
  );
}

/**
 * Synchronous read of a tensor's values, for synchronous APIs only (async code uses `await t.data()`).
 * Fails with `BACKEND_UNAVAILABLE` (naming `api` and its async `alternative`) where the backend cannot read
 * synchronously; the tensor is not disposed.
 */
export function readSync<D extends tf.DataType = 'float32'>(
  t: tf.Tensor,
  api: string,
  alternative: string,
): tf.DataTypeMap[D] {
  assertSyncReadable(api, alternative);
  try {
    return t.dataSync<D>();
  } catch (cause) {
    if (cause instanceof ReferenceError) throw syncReadError(api, alternative, tf.getBackend(), cause);
    throw cause;
  }
}
