import {
  chainKernelName,
  disposeSampleResult,
  type EnergyFunction,
  getKernelImpl,
  type KernelImpl,
  normalArray,
  registerKernelImpl,
  rngKey,
  type SamplerState,
  unregisterKernelImpl,
} from '@ebm/core';
import { testSeed } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// Which path a sampler's sample() runs on webgpu (fused whole chain, traced whole chain, step loop), and that the
// paths agree: the whole chain draws the step loop's stream (startStep), so with the same seed a fused run and a
// step-loop run agree to float32 rounding chain by chain. Small problems: lavapipe emulates the GPU on the CPU.
const required = process.env.EBM_TEST_WEBGPU === '1';
const gpuOk = await setupWebGpu().then(
  () => true,
  (e: unknown) => {
    if (required) throw e;
    console.warn(`[ebm] WebGPU sampler-path tests skipped (no adapter): ${String(e)}`);
    return false;
  },
);
await tf.setBackend('cpu');

/** Runs `fn` with the webgpu kernels `names` removed (restored afterwards). */
export async function without<T>(names: string[], fn: () => Promise<T>): Promise<T> {
  const saved = names.map((n) => [n, getKernelImpl(n, 'webgpu') as KernelImpl | undefined] as const);
  for (const [n] of saved) unregisterKernelImpl(n, 'webgpu');
  try {
    return await fn();
  } finally {
    for (const [n, impl] of saved)
      if (impl) registerKernelImpl(n, 'webgpu', impl as never, { override: true });
  }
}

/** Runs `fn` counting calls of the webgpu kernel `name`. */
export async function counting<T>(name: string, fn: () => Promise<T>): Promise<[T, number]> {
  const impl = getKernelImpl(name, 'webgpu') as KernelImpl | undefined;
  expect(impl, name).toBeDefined();
  let calls = 0;
  registerKernelImpl(
    name,
    'webgpu',
    (inputs: unknown) => {
      calls++;
      return impl!(inputs);
    },
    { override: true },
  );
  try {
    return [await fn(), calls];
  } finally {
    registerKernelImpl(name, 'webgpu', impl as never, { override: true });
  }
}

const gaussian = () =>
  new M.Gaussian({
    mean: [1, -1, 0.5],
    covariance: [
      [1, 0.3, 0],
      [0.3, 2, 0],
      [0, 0, 0.5],
    ],
  });

type Make = (e: EnergyFunction) => LangevinDynamics | MALA | HamiltonianMonteCarlo;
const SAMPLERS: Record<string, Make> = {
  Langevin: (e) => new LangevinDynamics(e, { stepSize: 0.02 }),
  MALA: (e) => new MALA(e, { stepSize: 0.1 }),
  HMC: (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 3 }),
};

/** Chains whose rows agree within `tol` (MH decisions can flip where log u and log α agree to rounding). */
function matchingRows(a: ArrayLike<number>, b: ArrayLike<number>, d: number, tol = 1e-3): number {
  let n = 0;
  for (let c = 0; c < a.length / d; c++) {
    let ok = true;
    for (let j = 0; j < d; j++) if (!(Math.abs(a[c * d + j]! - b[c * d + j]!) < tol)) ok = false;
    if (ok) n++;
  }
  return n;
}

describe.skipIf(!gpuOk)('sampler paths on webgpu: one stream for the whole chain and the step loop', () => {
  const seed = testSeed('cuda-sampler-paths');
  const [B, D] = [16, 3];
  let x0: tf.Tensor2D;
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
    x0 = tf.tensor2d(normalArray(rngKey(seed), [B, D], 0, 0.7), [B, D]);
  });
  afterAll(async () => {
    x0.dispose();
    await tf.setBackend('cpu');
  });

  for (const [name, make] of Object.entries(SAMPLERS)) {
    it(`${name}: sample() through chain.gaussian equals the step loop chain by chain (fresh and resumed)`, async () => {
      const s = make(gaussian());
      const kernel = chainKernelName('gaussian');
      const opts = { x0, nSteps: 12, burnIn: 3, seed };
      const [fused, calls] = await counting(kernel, () => s.sample(opts));
      expect(calls).toBe(1);
      const loop = await without([kernel, 'chainTrace.gaussian'], () => s.sample(opts));
      const a = await fused.samples.data();
      const b = await loop.samples.data();
      expect(matchingRows(a, b, D)).toBeGreaterThanOrEqual(B - 1);
      tf.dispose([fused.samples, loop.samples]);
      // Resumed from a state at step 5: the whole chain starts its stream at step 5, as the loop does.
      const first = await without([kernel], () => s.sample({ x0, nSteps: 5, seed, keepState: true }));
      const st = first.finalState as SamplerState;
      const [resumed, calls2] = await counting(kernel, () =>
        s.sample({ resumeFrom: st as never, nSteps: 10, seed }),
      );
      expect(calls2).toBe(1);
      const whole = await without([kernel], () => s.sample({ x0, nSteps: 15, seed }));
      expect(
        matchingRows(await resumed.samples.data(), await whole.samples.data(), D),
      ).toBeGreaterThanOrEqual(B - 1);
      disposeSampleResult(first);
      tf.dispose([resumed.samples, whole.samples]);
    });
  }
});
