import { EbmError, useBackend } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** Backends the examples can run on. */
export const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * Activates a tfjs backend: `cpu` (default, always there), `wasm` (SIMD, the fastest stock backend in Node),
 * or `webgpu` (Dawn in Node through @ebm/cuda; a real GPU, or Mesa's lavapipe on a CPU-only Linux machine) with
 * @ebm/cuda's fused kernels (whole chains, the fused training step, replay buffer, flow term), which
 * `setupWebGpu()` registers itself.
 */
export async function selectBackend(name: BackendName): Promise<string> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'webgpu') {
    const { setupWebGpu } = await import('@ebm/cuda');
    const info = await setupWebGpu();
    const notes = [info.vendor, info.architecture];
    if (info.isSoftware) notes.push('software adapter');
    if (!info.fusedKernels) notes.push('fused kernels off');
    return `webgpu (${notes.join(', ')})`;
  }
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new EbmError('INVALID_PARAM', `unknown backend "${name}".`, {
      argument: 'backend',
      value: name,
      fix: `use one of ${BACKENDS.join(', ')}.`,
    });
  }
  tf.enableProdMode();
  await useBackend(name);
  return name;
}
