import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { isEbmError } from '../../errors.js';
import { langevinStepComposite } from '../../kernels.js';
import { foldIn, normalArray, type RngKey } from '../../rng.js';
import { registerCpuKernels } from '../kernels.js';

/** Fixtures of the cpu kernel tests (`kernels.test.ts`, `noise-scales.test.ts`). */

/**
 * Runs the file's tests on tfjs's cpu backend with the fused cpu kernels registered (vitest hooks); `unregister`
 * is what `registerCpuKernels()` returned.
 */
export function useCpuKernels(): { readonly unregister: () => void } {
  let unregister: () => void = () => {};
  beforeAll(async () => {
    await tf.setBackend('cpu');
    unregister = registerCpuKernels();
  });
  afterAll(() => unregister());
  return {
    get unregister() {
      return unregister;
    },
  };
}

/** A float32 tensor's bit patterns (bit-for-bit comparisons). */
export const bits = (t: tf.Tensor): number[] =>
  Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/**
 * The reference of `chain.harmonic` (E = ½k‖x‖², ∇E = kx) with Langevin: the step loop
 * x ← x − h∇E + σ_t√(2h)ξ_t through `langevinStepComposite`, ξ_t = normals of `foldIn(key, startStep + t)`.
 */
export function harmonicLangevinLoop(
  x0: tf.Tensor2D,
  key: RngKey,
  o: { nSteps: number; stepSize: number; noiseScale: (t: number) => number; k?: number; startStep?: number },
): tf.Tensor2D {
  const [B, D] = x0.shape;
  let x = x0;
  for (let t = 0; t < o.nSteps; t++) {
    const next = tf.tidy(() => {
      const grad = tf.mul(o.k ?? 2, x) as tf.Tensor2D;
      const noise = tf.tensor2d(normalArray(foldIn(key, (o.startStep ?? 0) + t), [B, D]), [B, D]);
      return langevinStepComposite({ x, grad, noise, stepSize: o.stepSize, noiseScale: o.noiseScale(t) });
    });
    if (x !== x0) x.dispose();
    x = next;
  }
  return x;
}

/** The `EbmError` code `f` throws (`'other'` for another error), or `undefined` (its output disposed). */
export function errorCode(f: () => unknown): string | undefined {
  try {
    tf.dispose(f() as tf.TensorContainer);
  } catch (e) {
    return isEbmError(e) ? e.code : 'other';
  }
  return undefined;
}
