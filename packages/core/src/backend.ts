import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';
import { NO_BACKEND } from './register-backend.js';

/**
 * Selects a tfjs backend and waits until it is ready, with a clear `BACKEND_UNAVAILABLE` error when it cannot
 * start (for example `'wasm'` without `@tensorflow/tfjs-backend-wasm` imported, or `'webgpu'` without an
 * adapter). Backend packages register themselves on import: import them before calling this.
 */
export async function useBackend(name: string): Promise<string> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new EbmError('INVALID_PARAM', 'backend name must be a non-empty string.', {
      argument: 'name',
      value: name,
      fix: "pass 'cpu', 'wasm', 'webgl' or 'webgpu'.",
    });
  }
  const registered = Object.keys(tf.engine().registryFactory).filter((n) => n !== NO_BACKEND);
  if (!registered.includes(name)) {
    throw new EbmError('BACKEND_UNAVAILABLE', `tfjs backend "${name}" is not registered.`, {
      argument: 'name',
      value: name,
      fix: `import its package first (e.g. import '@tensorflow/tfjs-backend-${name}'); registered: ${registered.join(', ')}.`,
    });
  }
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    cause = e;
  }
  if (!ok || tf.getBackend() !== name) {
    throw new EbmError('BACKEND_UNAVAILABLE', `tfjs backend "${name}" failed to initialise.`, {
      argument: 'name',
      value: name,
      fix:
        name === 'webgpu'
          ? 'WebGPU needs an adapter: a browser with WebGPU, or Node with the `webgpu` package and a Vulkan driver.'
          : 'check the backend package is installed and supported here.',
      cause,
    });
  }
  return name;
}

/** Name of the active tfjs backend. */
export function activeBackend(): string {
  return tf.getBackend();
}
