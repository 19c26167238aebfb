import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { WEBGPU_BACKEND } from './backend.js';

/**
 * # Read-back of webgpu tensors through cached staging buffers
 *
 * tfjs-webgpu's `data()` copies the tensor's GPU buffer into a staging buffer from its pool, submits, maps and
 * copies out. {@link readWebGpu} does the same round trip with staging buffers of its own, kept per size for
 * the backend's lifetime, and no further work: flush tfjs's pending command encoder (its compute pass ended,
 * then the copy appended and the whole submitted, so the read is ordered after every dispatch tfjs recorded),
 * `mapAsync`, copy out, `unmap`. The values are cached on the tensor as tfjs's own read caches them, so the
 * caller's `data()` is served from them. Registered with core's `registerAsyncReader` for `webgpu` by
 * `registerWebGpuKernels`: the whole-chain `sample()` reads its final states through it.
 *
 * A staging buffer serves one read at a time (a read takes a free one of its size or creates one), so concurrent
 * reads never share a mapped buffer; a buffer whose map failed is destroyed, not reused. All are destroyed when
 * the backend is disposed. `readWebGpu` is exported from `@ebm/cuda` (benchmarks, plugins).
 * @module
 */

/** The parts of a WebGPU `GPUBuffer` used here (kept local: no WebGPU type package is a dependency). */
interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

interface GpuDevice {
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
}

interface GpuCommandEncoder {
  copyBufferToBuffer(
    src: GpuBuffer,
    srcOffset: number,
    dst: GpuBuffer,
    dstOffset: number,
    size: number,
  ): void;
}

/** WebGPU's global constants (`GPUBufferUsage`, `GPUMapMode`, `GPUBuffer`) where the environment has them. */
function gpuGlobals():
  | { usage: { COPY_DST: number; MAP_READ: number }; mapRead: number; Buffer: abstract new () => unknown }
  | undefined {
  const g = globalThis as {
    GPUBufferUsage?: { COPY_DST: number; MAP_READ: number };
    GPUMapMode?: { READ: number };
    GPUBuffer?: abstract new () => unknown;
  };
  if (g.GPUBufferUsage === undefined || g.GPUMapMode === undefined || g.GPUBuffer === undefined)
    return undefined;
  return { usage: g.GPUBufferUsage, mapRead: g.GPUMapMode.READ, Buffer: g.GPUBuffer };
}

/** The parts of tfjs-webgpu's `WebGPUBackend` (4.x) this module uses. */
interface WebGpuReadBackend {
  device: GpuDevice;
  tensorMap: {
    has(dataId: object): boolean;
    get(dataId: object): { dtype: tf.DataType; values?: unknown; resource?: unknown } | undefined;
  };
  commandEncoder: GpuCommandEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  dispose(): void;
}

interface StagingPool {
  /** Free staging buffers per byte size (unmapped, not in use). */
  free: Map<number, GpuBuffer[]>;
  /** Every staging buffer this pool made and has not destroyed. */
  all: Set<GpuBuffer>;
  disposed: boolean;
}

const pools = new WeakMap<object, StagingPool>();

/** The staging pool of `backend`, made on first use; its buffers are destroyed when the backend is disposed. */
function poolOf(backend: WebGpuReadBackend): StagingPool {
  let pool = pools.get(backend);
  if (pool !== undefined) return pool;
  const made: StagingPool = { free: new Map(), all: new Set(), disposed: false };
  pools.set(backend, made);
  const dispose = backend.dispose;
  backend.dispose = function (this: WebGpuReadBackend) {
    made.disposed = true;
    for (const b of made.all) b.destroy();
    made.all.clear();
    made.free.clear();
    return dispose.call(this);
  };
  pool = made;
  return pool;
}

function acquire(
  pool: StagingPool,
  device: GpuDevice,
  size: number,
  usage: { COPY_DST: number; MAP_READ: number },
): GpuBuffer {
  const free = pool.free.get(size);
  const reused = free?.pop();
  if (reused !== undefined) return reused;
  const b = device.createBuffer({ size, usage: usage.COPY_DST | usage.MAP_READ });
  pool.all.add(b);
  return b;
}

function release(pool: StagingPool, b: GpuBuffer, ok: boolean): void {
  if (!ok || pool.disposed) {
    pool.all.delete(b);
    b.destroy();
    return;
  }
  let free = pool.free.get(b.size);
  if (free === undefined) {
    free = [];
    pool.free.set(b.size, free);
  }
  free.push(b);
}

/** Number of staging buffers the read pool of `backend` (default: the active one) holds: all, and free; for tests. */
export function stagingBufferCount(backend: object = tf.backend()): { all: number; free: number } {
  const pool = pools.get(backend);
  if (pool === undefined) return { all: 0, free: 0 };
  let free = 0;
  for (const f of pool.free.values()) free += f.length;
  return { all: pool.all.size, free };
}

/**
 * Reads a float32 / int32 / bool tensor of the active tfjs-webgpu backend (`webgpu`, or another name it was
 * registered under) into host memory through a cached staging
 * buffer, and caches the values on the tensor (its next `data()` returns them without a read-back). Returns
 * `undefined` (the caller reads with `data()`) where tfjs's own read is as good or needed: another backend, values
 * already on the host, a tensor without a GPU buffer (a texture, complex64, string) or an empty one.
 * Errors of the map (a lost device, a destroyed backend) reject with `BACKEND_UNAVAILABLE`; a non-tensor `t` throws
 * `INVALID_PARAM`.
 */
export function readWebGpu(t: tf.Tensor): Promise<tf.TypedArray> | undefined {
  if (!(t instanceof tf.Tensor)) {
    throw new EbmError('INVALID_PARAM', 'readWebGpu: t must be a tf.Tensor.', {
      argument: 't',
      value: t,
      fix: 'pass a tensor of the active webgpu backend (other tensors are declined: undefined).',
    });
  }
  if (t.isDisposed) return undefined;
  const backend = tf.backend() as unknown as Partial<WebGpuReadBackend>;
  if (
    typeof backend.submitQueue !== 'function' ||
    typeof backend.ensureCommandEncoderReady !== 'function' ||
    typeof backend.endComputePassEncoder !== 'function' ||
    backend.tensorMap === undefined ||
    backend.device === undefined
  ) {
    return undefined;
  }
  const b = backend as WebGpuReadBackend;
  const data = b.tensorMap.get(t.dataId);
  if (data === undefined || data.values != null) return undefined;
  const { dtype } = data;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') return undefined;
  const gpu = gpuGlobals();
  const src = data.resource as GpuBuffer;
  if (gpu === undefined || !(src instanceof gpu.Buffer)) return undefined;
  const size = t.size * 4;
  if (size === 0 || src.size < size) return undefined;
  const pool = poolOf(b);
  const staging = acquire(pool, b.device, size, gpu.usage);
  // Order: end tfjs's open compute pass, append the copy to its encoder and submit everything it recorded.
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  (b.commandEncoder as GpuCommandEncoder).copyBufferToBuffer(src, 0, staging, 0, size);
  b.submitQueue();
  const dataId = t.dataId;
  return finish(b, pool, staging, gpu.mapRead, dataId, dtype);
}

async function finish(
  b: WebGpuReadBackend,
  pool: StagingPool,
  staging: GpuBuffer,
  mapRead: number,
  dataId: object,
  dtype: 'float32' | 'int32' | 'bool',
): Promise<tf.TypedArray> {
  let ok = false;
  let copy: ArrayBuffer;
  try {
    await staging.mapAsync(mapRead);
    copy = staging.getMappedRange().slice(0);
    staging.unmap();
    ok = true;
  } catch (cause) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `Reading a webgpu tensor back to the host failed: ${String(cause)}`,
      {
        argument: 'backend',
        value: WEBGPU_BACKEND,
        fix: 'the GPU device was lost or the backend disposed during the read; set the backend up again (setupWebGpu()).',
        cause,
      },
    );
  } finally {
    release(pool, staging, ok);
  }
  const values = dtype === 'float32' ? new Float32Array(copy) : new Int32Array(copy);
  // Cache on the tensor as tfjs's read does (unless it was disposed meanwhile, or another read cached first).
  const data = b.tensorMap.has(dataId) ? b.tensorMap.get(dataId) : undefined;
  if (data !== undefined) {
    if (data.values != null) return data.values as tf.TypedArray;
    data.values = values;
  }
  return values;
}
