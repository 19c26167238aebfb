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

/**
 * A backend's own asynchronous read of a tensor's values (see {@link registerAsyncReader}): resolves to the same
 * values `await t.data()` would, and leaves them cached so that the caller's next `t.data()` is served without a
 * second read-back. Returns `undefined` to decline a tensor (the caller then reads with `t.data()`).
 */
export type AsyncReader = (t: tf.Tensor) => Promise<tf.TypedArray> | undefined;

const ASYNC_READERS = Symbol.for('@ebm/core/async-readers/v1');

/** The registry, shared by every copy of `@ebm/core` in a process (as the kernel registry is). */
function asyncReaders(): Map<string, AsyncReader> {
  const g = globalThis as unknown as Record<symbol, Map<string, AsyncReader> | undefined>;
  let m = g[ASYNC_READERS];
  if (m === undefined) {
    m = new Map();
    g[ASYNC_READERS] = m;
  }
  return m;
}

/**
 * Registers `reader` as the read-back of tfjs backend `backend`, used by {@link readAsync} (the whole-chain loop's
 * read of its final states). `@ebm/cuda` registers one for `webgpu` (a copy into a cached staging buffer instead of
 * tfjs's read path). Replaces an earlier registration for the same backend.
 * @returns a function that removes this registration (a no-op once another replaced it).
 */
export function registerAsyncReader(backend: string, reader: AsyncReader): () => void {
  if (typeof backend !== 'string' || backend === '') {
    throw new EbmError('INVALID_PARAM', 'registerAsyncReader: backend must be a tfjs backend name.', {
      argument: 'backend',
      value: backend,
      fix: "pass the name the backend is registered under, e.g. 'webgpu'.",
    });
  }
  if (typeof reader !== 'function') {
    throw new EbmError('INVALID_PARAM', 'registerAsyncReader: reader must be a function of a tensor.', {
      argument: 'reader',
      value: reader,
      fix: 'pass (t) => Promise<TypedArray> | undefined (undefined declines the tensor: data() reads it).',
    });
  }
  const m = asyncReaders();
  m.set(backend, reader);
  return () => {
    if (m.get(backend) === reader) m.delete(backend);
  };
}

/**
 * `await t.data()`, through the active backend's registered {@link AsyncReader} where there is one that accepts
 * `t`. The values are the same either way, and the tensor's next `data()` is served from this read.
 */
export function readAsync(t: tf.Tensor): Promise<tf.TypedArray> {
  const reader = asyncReaders().get(tf.getBackend());
  const p = reader?.(t);
  return (p ?? t.data()) as Promise<tf.TypedArray>;
}
