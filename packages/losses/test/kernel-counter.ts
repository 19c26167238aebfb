import { EbmError, getKernelImpl, registerKernelImpl } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Test helper for the fused paths: wraps the webgpu implementation of `kernel` (when `available`) so a test can
 * count its calls, make calls throw (a plain error, or `NOT_IMPLEMENTED` as a device that does not take the
 * network), make one call return a NaN loss (its `metrics` × NaN: the divergence guard must undo the update), or run
 * code with no implementation registered; `restore` puts the original back (call it in `afterAll`).
 */
export function kernelCounter(kernel: string, available: boolean) {
  const impl = available ? getKernelImpl(kernel as never, 'webgpu') : undefined;
  let calls = 0;
  let fail: false | 'error' | 'notImplemented' = false;
  let nanAt = -1;
  let remove: (() => void) | undefined;
  const install = () => {
    if (impl === undefined) return;
    remove = registerKernelImpl(
      kernel as never,
      'webgpu',
      (inputs: never) => {
        const call = calls++;
        if (fail === 'error') throw new Error('kernel failure (test)');
        if (fail === 'notImplemented') throw new EbmError('NOT_IMPLEMENTED', 'not on this device (test)');
        const out = impl(inputs) as { metrics: tf.Tensor1D };
        if (call !== nanAt) return out as never;
        const metrics = tf.mul(out.metrics, Number.NaN) as tf.Tensor1D;
        out.metrics.dispose();
        return { ...out, metrics } as never;
      },
      { override: true },
    );
  };
  install();
  return {
    calls: () => calls,
    /** From now on every call throws this (false: none). */
    fail: (on: false | 'error' | 'notImplemented') => {
      fail = on;
    },
    /** Makes kernel call number `n` (counting from the current count) return a NaN loss. */
    nanAfter: (n: number) => {
      nanAt = calls + n;
    },
    /** Runs `f` with no implementation registered (the autograd path). */
    async without<T>(f: () => T | Promise<T>): Promise<T> {
      remove?.();
      try {
        return await f();
      } finally {
        install();
      }
    },
    restore: () => impl && registerKernelImpl(kernel as never, 'webgpu', impl, { override: true }),
  };
}
