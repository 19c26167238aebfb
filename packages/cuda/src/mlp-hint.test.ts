import { chainKernelName, getKernelImpl, normalArray, rngKey } from '@ebm/core';
import {
  countKernelCalls,
  expectKsTwoSample,
  expectNoLeaks,
  testSeed,
  withoutKernelHint,
} from '@ebm/core/testing';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// MLPEnergy's kernelHint on webgpu (lavapipe in CI): sample() runs the fused WGSL chain.mlp (no samplers change)
// and draws from the autograd step loop's law, with the live weights after an optimizer step (chain-kernels.test.ts
// checks the kernel against the step loop on one Philox stream). Small problems only (lavapipe compiles and runs WGSL on the CPU).
const required = process.env.EBM_TEST_WEBGPU === '1';
const gpuOk = await setupWebGpu().then(
  () => {
    registerWebGpuKernels();
    return true;
  },
  (e: unknown) => {
    if (required) throw e;
    console.warn(`[ebm] WebGPU MLP hint tests skipped (no adapter): ${String(e)}`);
    return false;
  },
);

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe.skipIf(!gpuOk)('MLPEnergy.kernelHint on webgpu', () => {
  it("sample() runs chain.mlp and draws from the composite step loop's law (KS per coordinate); no leaks", async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const seed = testSeed('mlp-hint-webgpu');
    const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed });
    const s = new LangevinDynamics(e, { stepSize: 0.05, noiseScale: 1 });
    const opts = { nSamples: 256, dim: 2, nSteps: 20 };
    const mlpChain = chainKernelName('mlp');
    const [fused, calls] = await countKernelCalls(mlpChain, 'webgpu', () =>
      expectNoLeaks(() => s.sample({ ...opts, seed }), { keepOutputs: true, warmup: 0 }),
    );
    expect(calls).toBe(1);
    const [ref, refCalls] = await countKernelCalls(mlpChain, 'webgpu', () =>
      withoutKernelHint(e, () => s.sample({ ...opts, seed: seed + 1 })),
    );
    expect(refCalls).toBe(0);
    const [a, b] = await Promise.all([fused.samples.data(), ref.samples.data()]);
    for (let j = 0; j < 2; j++) {
      const col = (v: ArrayLike<number>) => Array.from(v).filter((_, i) => i % 2 === j);
      expectKsTwoSample(col(a), col(b), { falseFailRate: 1e-4, seed, label: `x${j}` });
    }
    tf.dispose([fused.samples, ref.samples]);
    e.dispose();
  });

  it('after an optimizer step the fused chain uses the new weights (its gradient matches autograd)', async () => {
    const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 5 });
    const x = tf.tensor2d(normalArray(rngKey(6), [16, 2]), [16, 2]);
    const chain = getKernelImpl(chainKernelName('mlp'), 'webgpu')!;
    const step = () =>
      chain({
        method: 'langevin',
        x0: x,
        nSteps: 1,
        key: rngKey(0),
        params: e.kernelHint!.params,
        settings: { stepSize: 0.1, noiseScale: 0 },
      });
    const before = step();
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 2; i++) {
      const v = opt.minimize(() => tf.mean(tf.square(e.energy(x))) as tf.Scalar, true, e.trainableVariables);
      v?.dispose();
    }
    const after = step();
    const auto = tf.tidy(() => tf.sub(x, tf.mul(e.gradient(x), 0.1)));
    expect(await maxDiff(before, after)).toBeGreaterThan(1e-3);
    expect(await maxDiff(after, auto)).toBeLessThan(1e-4);
    tf.dispose([before, after, auto, x]);
    opt.dispose();
    e.dispose();
  });
});
